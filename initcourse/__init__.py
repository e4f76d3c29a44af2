"""initcourse: the helper package of the course on neural-network weight initialization.

The package is a set of small modules, one concept each:

- :mod:`initcourse.settings`: seeding, quiet TensorFlow, quick/full run mode;
- :mod:`initcourse.initializers`: NumPy reference initializers by Keras name;
- :mod:`initcourse.gains`: activation gains;
- :mod:`initcourse.keras_adapter`: use any course initializer in a Keras layer;
- :mod:`initcourse.propagation`: forward/backward signal statistics and theory;
- :mod:`initcourse.plotting`: the standard pictures (plotting only, no computing);
- further modules for training, LSUV, data and experiments.

Importing :mod:`initcourse` itself is cheap; TensorFlow is imported only by the
modules that need it.
"""

__version__ = "0.1.0"
