"""initcourse: the helper package of the course on neural-network weight initialization.

The package is a set of small modules, one concept each:

- :mod:`initcourse.settings`: seeding, quiet TensorFlow, quick/full run mode;
- :mod:`initcourse.initializers`, :mod:`initcourse.fans`, :mod:`initcourse.gains`:
  NumPy reference initializers by Keras name, fan computation, activation gains;
- :mod:`initcourse.keras_adapter`: use any course initializer in a Keras layer;
- :mod:`initcourse.activations`: activation functions and their derivatives;
- :mod:`initcourse.propagation`: forward/backward signal statistics, by simulation;
- :mod:`initcourse.theory`: the variance recursion and mean-field map that predict them;
- :mod:`initcourse.spectra`: singular values and norm preservation;
- :mod:`initcourse.models`, :mod:`initcourse.toydata`: Keras model builders, small tasks;
- :mod:`initcourse.experiments`: train variants x seeds, cached, tidy results;
- :mod:`initcourse.inspection`, :mod:`initcourse.layer_stats`: gradients, weights and
  per-layer statistics of Keras models;
- :mod:`initcourse.lsuv`: layer-sequential unit-variance initialization;
- :mod:`initcourse.data`: CIFAR-10 and IMDB, online or from offline samples;
- :mod:`initcourse.plotting`: the standard pictures (drawing only, no computing);
- :mod:`initcourse.notebook`: helpers for the chapters' notebooks.

Importing :mod:`initcourse` itself is cheap; TensorFlow is imported only by the
modules that need it.
"""

__version__ = "0.1.0"
