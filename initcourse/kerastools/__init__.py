"""Tools for Keras models: course initializers in Keras layers, model builders,
per-layer statistics, LSUV, batch normalization, the doctor, the experiment
runner and its cache, the datasets, and the builders of modern architectures.
"""
