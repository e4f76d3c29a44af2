"""The maths, in NumPy only: initializers by Keras name, fans and gains, activations,
signal propagation measured and predicted, spectra, small synthetic tasks, and
width scaling (standard parametrization and muP).
"""
