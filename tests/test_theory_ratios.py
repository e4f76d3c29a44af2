import numpy as np
import pandas as pd
import pytest

from initcourse import propagation, theory


def test_prediction_ratios_one_column_per_network_indexed_like_the_prediction():
    predicted = theory.predicted_stats(4, 32, weight_var=2 / 32, activation="relu")
    measured = [propagation.propagate(4, 32, initializer="he_normal", batch=200, seed=s) for s in range(3)]
    ratios = theory.prediction_ratios(measured, predicted)
    assert list(ratios.columns) == [0, 1, 2]
    assert list(ratios.index) == list(predicted.set_index(["quantity", "layer"]).index)
    expected = measured[1].set_index(["quantity", "layer"]).loc[("activation", 3), "var"] / predicted.set_index(
        ["quantity", "layer"]
    ).loc[("activation", 3), "var"]
    assert ratios.loc[("activation", 3), 1] == pytest.approx(expected)
    assert np.all((ratios.values > 0.3) & (ratios.values < 3))


def test_prediction_ratios_single_frame_and_std():
    predicted = theory.predicted_stats(3, 16, weight_var=1 / 16, activation="tanh")
    measured = propagation.propagate(3, 16, initializer=0.25, activation="tanh", batch=100, seed=0)
    ratios = theory.prediction_ratios(measured, predicted, stat="std")
    assert ratios.shape == (12, 1)


def test_relu_ratios_do_not_depend_on_the_scale_of_shared_draws():
    # ReLU is positively homogeneous: the same draws rescaled give the same ratios
    ratios = [
        theory.prediction_ratios(
            propagation.propagate(5, 32, initializer=s, batch=100, seed=0),
            theory.predicted_stats(5, 32, weight_var=s**2),
        )[0]
        for s in (0.05, 0.25)
    ]
    np.testing.assert_allclose(ratios[0].values, ratios[1].values, rtol=1e-9)


def test_prediction_ratios_errors_name_the_argument():
    predicted = theory.predicted_stats(3, 16, weight_var=1 / 16)
    with pytest.raises(ValueError, match="stat"):
        theory.prediction_ratios(predicted, predicted, stat="mean")
    with pytest.raises(TypeError, match="measured"):
        theory.prediction_ratios([], predicted)
    with pytest.raises(TypeError, match="predicted"):
        theory.prediction_ratios(predicted, "x")
    deeper = theory.predicted_stats(4, 16, weight_var=1 / 16)
    with pytest.raises(ValueError, match="lacks"):
        theory.prediction_ratios(predicted, deeper)
    assert isinstance(theory.prediction_ratios(predicted, predicted), pd.DataFrame)
