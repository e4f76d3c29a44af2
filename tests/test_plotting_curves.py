import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from initcourse import plotting


def _curves():
    rows = []
    for variant, base in (("he_normal", 0.5), ("glorot_uniform", 0.3)):
        for epoch in (1, 2, 3):
            m = base + 0.1 * epoch
            rows.append({"variant": variant, "epoch": epoch, "mean": m, "min": m - 0.05, "max": m + 0.05})
    return pd.DataFrame(rows)


def test_plot_curves_draws_a_line_and_a_band_per_variant():
    fig, ax = plt.subplots()
    out = plotting.plot_curves(_curves(), ax=ax)
    assert out is ax
    assert [line.get_label() for line in ax.lines] == ["he_normal", "glorot_uniform"]
    assert len(ax.collections) == 2
    assert list(ax.lines[0].get_ydata()) == pytest.approx([0.6, 0.7, 0.8])
    plt.close(fig)


def test_plot_curves_fixed_colours():
    fig, ax = plt.subplots()
    plotting.plot_curves(_curves(), ax=ax, colors={"glorot_uniform": "red"})
    assert ax.lines[1].get_color() == "red"
    assert ax.lines[0].get_color() == "C0"
    plt.close(fig)


def test_plot_curves_bad_input():
    with pytest.raises(ValueError, match="curves_df"):
        plotting.plot_curves(pd.DataFrame({"variant": ["a"], "epoch": [1]}))
    with pytest.raises(ValueError, match="no rows"):
        plotting.plot_curves(_curves().iloc[:0])
    with pytest.raises(TypeError, match="colors must be a mapping"):
        plotting.plot_curves(_curves(), colors=["red"])
