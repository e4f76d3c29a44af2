"""The course's standard pictures. Drawing only: every function takes data computed
elsewhere (arrays, or the DataFrames of :mod:`initcourse.maths.propagation` and
:mod:`initcourse.maths.theory`) and returns the matplotlib ``Axes`` it drew on.

Signals that vanish reach exactly 0 (zero initialization, dead units, float
underflow), and 0 has no place on a logarithmic axis. These functions never pass
a non-positive value to a log scale: on a log y-axis such points are left out of
the curve and marked on the bottom edge instead; in a heatmap they get a grey
"not on the colour scale" colour.

Chapters call :func:`use_course_style` once at the top for a consistent look; the
functions do not change global settings themselves.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import colors, lines, transforms
from matplotlib.patches import Patch

from .._validation import check_choice, check_positive_int

__all__ = [
    "plot_curves",
    "COURSE_STYLE",
    "use_course_style",
    "plot_weight_histograms",
    "plot_layer_stats",
    "plot_sweep_heatmap",
    "plot_predicted_vs_measured",
    "plot_layer_histograms",
]

COURSE_STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
}
"""The rcParams that :func:`use_course_style` sets."""

_OFF_SCALE_LABEL = "0 or below (off the log scale)"
_OFF_SCALE_COLOUR = "0.8"


def use_course_style() -> None:
    """Set the course's matplotlib style (:data:`COURSE_STYLE`) for this Python process."""
    mpl.rcParams.update(COURSE_STYLE)


def _new_axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


def _check_columns(df, columns, name):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {', '.join(map(repr, missing))}; it has {list(df.columns)}")


def _rows_of(df, quantity):
    """The rows of ``df`` for ``quantity`` (all rows when ``df`` has no quantity column)."""
    if "quantity" not in df.columns:
        return df
    check_choice(quantity, "quantity", list(dict.fromkeys(df["quantity"])))
    return df[df["quantity"] == quantity]


def _check_stat(df, stat, name="stat", exclude=("layer", "quantity")):
    numeric = [c for c in df.columns if c not in exclude and pd.api.types.is_numeric_dtype(df[c])]
    return check_choice(stat, name, numeric)


def _draw_curve(ax, x, y, *, log, **style):
    """Plot ``y`` against ``x``; on a log axis leave non-positive points out and return them.

    Returns the line and the x positions of the points left out.
    """
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x)
    off_scale = ~(y > 0) if log else np.zeros(y.shape, bool)
    (line,) = ax.plot(x, np.where(off_scale, np.nan, y), **style)
    return line, x[off_scale]


def _mark_off_scale(ax, positions, colour):
    """Mark x positions of off-scale points on the bottom edge of the axes."""
    transform = transforms.blended_transform_factory(ax.transData, ax.transAxes)
    ax.plot(positions, np.zeros(len(positions)), "v", color=colour, transform=transform, clip_on=False)


def _finish_log_axis(ax, log, any_off_scale):
    if not log:
        return
    ax.set_yscale("log")
    if any_off_scale:
        handles, labels = ax.get_legend_handles_labels()
        marker = lines.Line2D([], [], marker="v", linestyle="none", color="0.3")
        ax.legend(handles + [marker], labels + [_OFF_SCALE_LABEL])


def plot_weight_histograms(samples: Mapping, *, bins=60, ax=None):
    """Overlay the histograms of several weight samples.

    Parameters
    ----------
    samples : mapping of str to array
        Name -> weights (any shape; flattened). A constant sample (e.g. zeros) has
        no spread to histogram: it is drawn as a vertical line at its value.
    bins : int, default 60
        Bins per sample, spanning that sample's own range.
    ax : matplotlib Axes, optional
        Drawn on a new figure if not given.

    Returns
    -------
    matplotlib.axes.Axes
        One step histogram (a patch) per non-constant sample, one line per constant
        one; densities, so samples of different sizes compare.
    """
    if not isinstance(samples, Mapping) or not samples:
        raise ValueError("samples must be a non-empty mapping of name -> array of weights")
    bins = check_positive_int(bins, "bins")
    arrays = {}
    for name, values in samples.items():
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise ValueError(f"samples[{name!r}] must be a non-empty array of finite numbers")
        arrays[str(name)] = values
    ax = _new_axes(ax)
    palette = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, values) in enumerate(arrays.items()):
        colour = palette[i % len(palette)]
        low, high = values.min(), values.max()
        if low == high:
            ax.axvline(low, linestyle="--", color=colour, label=f"{name} (all {low:g})")
        else:
            ax.hist(values, bins=bins, density=True, histtype="step", linewidth=1.8, color=colour, label=name)
    ax.set_xlabel("weight value")
    ax.set_ylabel("density")
    ax.legend()
    return ax


def plot_layer_stats(df, *, quantity="activation", stat="std", hue=None, ax=None, log=True):
    """Plot a statistic of one signal against the layer, one curve per ``hue`` group.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy per-layer statistics, as returned by ``propagate``, ``scale_sweep`` or
        ``predicted_stats`` (several of them concatenated, with a column telling
        them apart, for ``hue``).
    quantity : str, default "activation"
        Which signal (a value of ``df["quantity"]``).
    stat : str, default "std"
        Which statistic (a numeric column: ``"std"``, ``"var"``, ``"mean"``, ...).
    hue : str, optional
        Column whose values get one curve each (e.g. ``"scale"``, ``"initializer"``).
    ax : matplotlib Axes, optional
    log : bool, default True
        Log y-axis. Values <= 0 (a mean can be 0 or negative, a std 0) are left
        out of the curves and marked with a triangle on the bottom edge.

    Returns
    -------
    matplotlib.axes.Axes
        One line per curve (plus one line of markers per curve with off-scale points).
    """
    _check_columns(df, ["layer", *([hue] if hue is not None else [])], "df")
    rows = _rows_of(df, quantity)
    _check_stat(df, stat)
    groups = list(rows.groupby(hue, sort=True)) if hue is not None else [(None, rows)]
    ax = _new_axes(ax)
    any_off_scale = False
    for key, group in groups:
        if group["layer"].duplicated().any():
            raise ValueError(
                "df has several rows per layer for this quantity"
                + ("" if hue is None else f" and {hue}")
                + ": choose hue (or filter df) so that each curve has one value per layer"
            )
        group = group.sort_values("layer")
        label = None if hue is None else f"{hue} = {key:.3g}" if isinstance(key, float) else f"{hue} = {key}"
        line, off = _draw_curve(ax, group["layer"], group[stat], log=log, marker="o", markersize=3, label=label)
        if off.size:
            any_off_scale = True
            _mark_off_scale(ax, off, line.get_color())
    ax.set_xlabel("layer")
    ax.set_ylabel(f"{stat} of {quantity}")
    if hue is not None:
        ax.legend(title=None)
    _finish_log_axis(ax, log, any_off_scale)
    return ax


def plot_sweep_heatmap(sweep_df, *, value="std", quantity="activation", ax=None, log=True):
    """Draw a statistic of a scale sweep as a heatmap: weight scale across, layer up.

    Parameters
    ----------
    sweep_df : pandas.DataFrame
        As returned by :func:`initcourse.maths.propagation.scale_sweep` (columns
        ``scale``, ``layer``, the statistic, and optionally ``quantity``).
    value : str, default "std"
        The statistic to colour by.
    quantity : str, default "activation"
        Which signal, when ``sweep_df`` has a ``quantity`` column.
    ax : matplotlib Axes, optional
    log : bool, default True
        Logarithmic colour scale; values <= 0 are drawn in light grey (see the legend).

    Returns
    -------
    matplotlib.axes.Axes
        With one ``QuadMesh`` (``ax.collections[0]``) and a colour bar.
    """
    _check_columns(sweep_df, ["scale", "layer"], "sweep_df")
    rows = _rows_of(sweep_df, quantity)
    _check_stat(sweep_df, value, "value", exclude=("scale", "layer", "quantity"))
    if rows.duplicated(["scale", "layer"]).any():
        raise ValueError("sweep_df has several rows per (scale, layer): filter it to one experiment")
    grid = rows.pivot(index="layer", columns="scale", values=value).sort_index().sort_index(axis=1)
    scales = grid.columns.to_numpy(dtype=np.float64)
    layers = grid.index.to_numpy()
    values = grid.to_numpy(dtype=np.float64)
    off_scale = ~np.isfinite(values) | ((values <= 0) if log else False)
    if off_scale.all():
        raise ValueError(f"no {value} value can be drawn" + (" on a log colour scale (all are <= 0)" if log else ""))
    shown = np.ma.masked_array(values, off_scale)
    low, high = shown.min(), shown.max()
    if low == high:  # one colour: give the colour bar some range around it
        low, high = (low / 2, high * 2) if log else (low - 0.5, high + 0.5)
    norm = colors.LogNorm(low, high) if log else colors.Normalize(low, high)
    cmap = mpl.colormaps[mpl.rcParams["image.cmap"]].with_extremes(bad=_OFF_SCALE_COLOUR)

    ax = _new_axes(ax)
    mesh = ax.pcolormesh(_edges(scales, geometric=True), _edges(layers), shown, norm=norm, cmap=cmap)
    if scales.size > 1 and scales.min() > 0:
        ax.set_xscale("log")
    ax.grid(False)
    ax.set_xlabel("weight scale (std)")
    ax.set_ylabel("layer")
    ax.figure.colorbar(mesh, ax=ax, label=f"{value} of {quantity}" if "quantity" in sweep_df.columns else value)
    if off_scale.any():
        label = _OFF_SCALE_LABEL if log else "not finite"
        ax.legend(handles=[Patch(color=_OFF_SCALE_COLOUR, label=label)], loc="upper right")
    return ax


def _edges(centres, geometric=False):
    """Cell edges around sorted centres (midpoints; geometric ones for log-spaced positive centres)."""
    centres = np.asarray(centres, dtype=np.float64)
    if centres.size == 1:
        return np.array([centres[0] / 2, centres[0] * 2]) if geometric else centres + [-0.5, 0.5]
    if geometric and centres.min() > 0:
        logs = np.log(centres)
        return np.exp(_edges(logs))
    inner = (centres[:-1] + centres[1:]) / 2
    return np.concatenate([[2 * centres[0] - inner[0]], inner, [2 * centres[-1] - inner[-1]]])


def plot_predicted_vs_measured(measured_df, predicted_df, *, quantity="activation", stat="var", ax=None, log=True):
    """Compare a measured per-layer statistic (markers) with its prediction (line).

    Parameters
    ----------
    measured_df : pandas.DataFrame
        From :func:`initcourse.maths.propagation.propagate`.
    predicted_df : pandas.DataFrame
        From :func:`initcourse.maths.theory.predicted_stats`, for the same network.
    quantity : str, default "activation"
    stat : str, default "var"
        A statistic present in both frames (``"var"``, ``"std"`` or ``"mean"``).
    ax : matplotlib Axes, optional
    log : bool, default True
        Log y-axis; values <= 0 are marked on the bottom edge as in :func:`plot_layer_stats`.

    Returns
    -------
    matplotlib.axes.Axes
        Two lines: the prediction, then the measurement (plus markers for off-scale points).
    """
    _check_columns(measured_df, ["layer"], "measured_df")
    _check_columns(predicted_df, ["layer"], "predicted_df")
    measured = _rows_of(measured_df, quantity).sort_values("layer")
    predicted = _rows_of(predicted_df, quantity).sort_values("layer")
    _check_stat(measured_df, stat)
    _check_stat(predicted_df, stat)
    for frame, name in ((measured, "measured_df"), (predicted, "predicted_df")):
        if frame["layer"].duplicated().any():
            raise ValueError(f"{name} has several rows per layer for quantity {quantity!r}")
    ax = _new_axes(ax)
    any_off_scale = False
    for frame, style in (
        (predicted, dict(color="0.2", linestyle="--", label="predicted (variance recursion)")),
        (measured, dict(marker="o", linestyle="none", color="C0", label="measured (simulation)")),
    ):
        line, off = _draw_curve(ax, frame["layer"], frame[stat], log=log, **style)
        if off.size:
            any_off_scale = True
            _mark_off_scale(ax, off, line.get_color())
    ax.set_xlabel("layer")
    ax.set_ylabel(f"{stat} of {quantity}")
    ax.legend()
    _finish_log_axis(ax, log, any_off_scale)
    return ax


def plot_layer_histograms(hist_df, *, ax=None):
    """Draw the per-layer histograms of :func:`initcourse.maths.propagation.layer_histograms`.

    One curve per layer through the bin centres, coloured from light (layer 1) to
    dark (last layer) along the course colour map, as in the histogram figures of
    Glorot and Bengio (2010).

    Parameters
    ----------
    hist_df : pandas.DataFrame
        Columns ``layer``, ``left``, ``right`` and ``density``, one row per
        (layer, bin).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line per layer, labelled ``"layer <l>"``.
    """
    _check_columns(hist_df, ["layer", "left", "right", "density"], "hist_df")
    if hist_df.empty:
        raise ValueError("hist_df has no rows")
    if hist_df.duplicated(["layer", "left"]).any():
        raise ValueError("hist_df has several rows per (layer, bin): pass one layer_histograms result")
    layers = sorted(hist_df["layer"].unique())
    cmap = mpl.colormaps[mpl.rcParams["image.cmap"]]
    ax = _new_axes(ax)
    for i, layer in enumerate(layers):
        bins = hist_df[hist_df["layer"] == layer].sort_values("left")
        colour = cmap(0.85 - 0.75 * i / max(len(layers) - 1, 1))
        ax.plot((bins["left"] + bins["right"]) / 2, bins["density"], color=colour, label=f"layer {layer}")
    ax.set_xlabel("value")
    ax.set_ylabel("density")
    ax.legend()
    return ax


def plot_curves(curves_df, *, ax=None, colors=None, band_alpha=0.2):
    """Draw training curves with their spread over seeds, one colour per variant.

    Parameters
    ----------
    curves_df : pandas.DataFrame
        From :func:`initcourse.kerastools.experiments.curves`: columns ``variant``, ``epoch``,
        ``mean``, ``min`` and ``max``. Each variant's line is the mean over seeds and
        its band runs from the lowest to the highest seed.
    ax : matplotlib Axes, optional
    colors : mapping of variant to colour, optional
        Fixes each variant's colour (e.g. to match several panels); by default the
        variants take the colour cycle in the order they appear.
    band_alpha : float, default 0.2
        Opacity of the bands.

    Returns
    -------
    matplotlib.axes.Axes
        One line per variant, labelled with the variant, and its band.
    """
    _check_columns(curves_df, ["variant", "epoch", "mean", "min", "max"], "curves_df")
    if curves_df.empty:
        raise ValueError("curves_df has no rows")
    if colors is not None and not isinstance(colors, Mapping):
        raise TypeError(f"colors must be a mapping of variant to colour, got {colors!r}")
    ax = _new_axes(ax)
    for i, (variant, curve) in enumerate(curves_df.groupby("variant", sort=False)):
        curve = curve.sort_values("epoch")
        colour = colors[variant] if colors is not None and variant in colors else f"C{i}"
        ax.plot(curve["epoch"], curve["mean"], marker="o", markersize=3, color=colour, label=str(variant))
        ax.fill_between(curve["epoch"], curve["min"], curve["max"], color=colour, alpha=band_alpha, linewidth=0)
    ax.set_xlabel("epoch")
    return ax
