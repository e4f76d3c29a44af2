import numpy as np
import pytest

from initcourse.maths.propagation import _network, jacobian_singular_values, trace


def test_jacobian_singular_values_match_a_finite_difference_jacobian():
    kwargs = dict(widths=(6, 8, 5), initializer="glorot_uniform", activation="tanh", batch=4, seed=3)
    frame = jacobian_singular_values(**kwargs, examples=2)
    x, kernels, act, _ = _network(None, None, kwargs["widths"], "glorot_uniform", "tanh", 4, 3, 1.0, None)
    for layer in (1, 2):
        per_example = []
        for example in range(2):
            inputs = x[example] if layer == 1 else np.tanh(x[example] @ kernels[0])
            step = 1e-6
            jac = np.stack([
                (np.tanh((inputs + step * e) @ kernels[layer - 1]) - np.tanh((inputs - step * e) @ kernels[layer - 1]))
                / (2 * step)
                for e in np.eye(len(inputs))
            ])
            per_example.append(np.linalg.svd(jac, compute_uv=False).mean())
        row = frame.set_index("layer").loc[layer]
        np.testing.assert_allclose(row["mean"], np.mean(per_example), rtol=1e-6)
        np.testing.assert_allclose([row["min"], row["max"]], [min(per_example), max(per_example)], rtol=1e-6)


def test_jacobian_of_a_linear_network_is_the_kernel():
    frame = jacobian_singular_values(2, 30, initializer="orthogonal", activation="linear", batch=3, examples=3)
    np.testing.assert_allclose(frame[["mean", "min", "max"]].to_numpy(), 1.0, rtol=1e-10)
    assert frame["layer"].tolist() == [1, 2]


def test_jacobian_uses_the_network_of_trace():
    kwargs = dict(depth=2, width=20, initializer="he_normal", activation="relu", batch=7, seed=5)
    signals = trace(**kwargs)
    frame = jacobian_singular_values(**kwargs, examples=1)
    x, kernels, _, _ = _network(2, 20, None, "he_normal", "relu", 7, 5, 1.0, None)
    slopes = (signals["preactivation"][1][0] > 0).astype(float)
    expected = np.linalg.svd(kernels[1] * slopes[None, :], compute_uv=False).mean()
    np.testing.assert_allclose(frame.loc[1, "mean"], expected, rtol=1e-10)


@pytest.mark.parametrize("examples", [0, 8, 2.5])
def test_jacobian_rejects_bad_examples(examples):
    with pytest.raises((ValueError, TypeError), match="examples"):
        jacobian_singular_values(2, 10, batch=7, examples=examples)
