"""Explorers for JupyterLab: change a network's settings and watch its signals respond.

Two experiments of the course, each in three layers:

- *computing*: :func:`propagation_profile` (the per-layer variances of a deep dense
  network, measured by :func:`initcourse.maths.propagation.propagate` and predicted by
  :func:`initcourse.maths.theory.predicted_stats`) and :func:`lsuv_steps` (the per-layer
  variances of a Keras model after every measurement that
  :func:`initcourse.kerastools.lsuv.lsuv` makes). Both return DataFrames and draw nothing;
- *plotting*: :func:`plot_propagation_profile` and :func:`plot_lsuv_steps` draw
  those frames with matplotlib;
- *widgets*: :class:`PropagationExplorer` and :class:`LSUVExplorer` put
  ipywidgets controls in front of the two, and redraw on every change. The
  figure is shown as an ``ipywidgets.Image`` (a PNG), so the explorers need
  nothing but ipywidgets in JupyterLab, and their state can be read and changed
  from code (``explorer.controls["depth"].value = 40``; ``explorer.data``).

:func:`propagation_grid` computes the same comparison over a grid of weight
scales and activations at once: the data of the HTML book's explorable figure
(:func:`initcourse.course.htmlfigures.propagation_slider`), which needs no kernel.

The widgets are for live sessions. A chapter shows them in a cell the reader runs,
not in its committed outputs: an executed widget stores its state in the
notebook, and the HTML book would then load the widget libraries from the
network to display it.

The maths lives in :mod:`initcourse.maths.propagation`, :mod:`initcourse.maths.theory`,
:mod:`initcourse.maths.initializers` and :mod:`initcourse.kerastools.lsuv`; this module only calls them.
"""

from __future__ import annotations

import collections.abc
import io
import warnings

import numpy as np
import pandas as pd

from ..maths import activations, initializers, propagation, theory

from ..kerastools import lsuv
from ..maths.activations import get as _get_activation  # propagation_grid has an argument called activations
from .._validation import as_generator, check_choice, check_positive_float, check_positive_int

__all__ = [
    "PROFILE_COLUMNS",
    "STEP_COLUMNS",
    "EXPLORER_INITIALIZERS",
    "EXPLORER_ACTIVATIONS",
    "GRID_COLUMNS",
    "propagation_profile",
    "propagation_grid",
    "plot_propagation_profile",
    "lsuv_steps",
    "plot_lsuv_steps",
    "PropagationExplorer",
    "LSUVExplorer",
]

PROFILE_COLUMNS = ("layer", "quantity", "source", "mean", "std", "var")
"""Columns of :func:`propagation_profile` (``source`` is ``"measured"`` or ``"predicted"``)."""

GRID_COLUMNS = ("activation", "gain", "layer", "quantity", "source", "var")
"""Columns of :func:`propagation_grid`."""

STEP_COLUMNS = ("step", "stage", "processing", "iteration", "layer", "position", "var")
"""Columns of the steps frame of :func:`lsuv_steps`."""

EXPLORER_INITIALIZERS = (
    "he_normal", "he_uniform", "lecun_normal", "glorot_normal", "glorot_uniform", "orthogonal", "random_normal",
)
"""Initializers offered by the explorers' menus (any name of :func:`initcourse.maths.initializers.get` works in code)."""

EXPLORER_ACTIVATIONS = ("relu", "tanh", "linear", "sigmoid", "selu", "gelu")
"""Activations offered by :class:`PropagationExplorer`'s menu."""


# --------------------------------------------------------------------------- computing


def propagation_profile(
    depth=20,
    width=256,
    *,
    initializer="he_normal",
    gain=1.0,
    activation="relu",
    batch=500,
    seed=0,
) -> pd.DataFrame:
    """Per-layer statistics of a deep dense network, measured and predicted.

    The network is that of :func:`initcourse.maths.propagation.propagate`: ``depth``
    dense layers of ``width`` units without biases, standard-normal inputs, a
    unit-variance gradient sent back from the output. Its kernels are drawn by
    ``initializer`` and multiplied by ``gain``; the prediction is the variance
    recursion of :func:`initcourse.maths.theory.predicted_stats` for weights of variance
    ``gain**2 * describe(initializer, (width, width))["variance"]``.

    Parameters
    ----------
    depth, width : int, default 20 and 256
    initializer : str, default "he_normal"
        A name for :func:`initcourse.maths.initializers.get` with a known variance
        (:func:`initcourse.maths.initializers.describe`).
    gain : float > 0, default 1.0
        Every kernel is ``gain`` times the initializer's draw (the same draws for
        every gain at a given seed).
    activation : str, default "relu"
        See :func:`initcourse.maths.activations.get`.
    batch : int, default 500
        Number of input examples of the simulation.
    seed : None, int or numpy.random.Generator, default 0

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PROFILE_COLUMNS`: one row per ``(source, quantity, layer)``,
        ``source`` ``"measured"`` (one simulated network) or ``"predicted"``,
        quantities as in :data:`initcourse.maths.propagation.QUANTITIES`.

    Notes
    -----
    Signals that overflow float64 (huge gains in deep ReLU networks) are reported
    by :func:`~initcourse.maths.propagation.propagate` with a ``NonFiniteWarning``
    naming the layer, and appear as inf/NaN in the frame.
    """
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    gain = check_positive_float(gain, "gain")
    if not isinstance(initializer, str):
        raise TypeError(f"initializer must be an initializer name such as 'he_normal', got {initializer!r}")
    draw = initializers.get(initializer)
    law = initializers.describe(initializer, (width, width))
    if law.get("variance") is None:
        raise ValueError(f"initializer {initializer!r} has no known weight variance to predict from")
    act = activations.get(activation)
    if gain == 1.0:
        kernels = initializer
    else:
        def kernels(shape, seed):
            return gain * draw(shape, seed=seed, dtype="float64")
    measured = propagation.propagate(depth, width, initializer=kernels, activation=act, batch=batch, seed=seed)
    predicted = theory.predicted_stats(depth, width, weight_var=gain**2 * law["variance"], activation=act)
    frame = pd.concat(
        [measured.assign(source="measured"), predicted.assign(source="predicted")], ignore_index=True
    )
    return frame[list(PROFILE_COLUMNS)]


def propagation_grid(gains, *, depth=30, width=64, batch=128, activations=("relu", "tanh", "linear"), seed=0):
    """Per-layer variances, measured and predicted, over a grid of weight scales and activations.

    The precomputed data of an explorable figure: for every activation and every
    ``gain`` (the weight scale in units of ``1/sqrt(width)``, i.e. ``sigma_w *
    sqrt(n)``; 1 is LeCun's scale, ``sqrt(2)`` He's), the activation variance and
    the variance of the gradient with respect to the pre-activations, layer by
    layer. Measured by :func:`initcourse.maths.propagation.scale_sweep` (all gains in one
    batched run, sharing their random draws), predicted by
    :func:`initcourse.maths.theory.predicted_stats`.

    Parameters
    ----------
    gains : sequence of float > 0
    depth, width, batch : int, default 30, 64 and 128
    activations : sequence of str, default ("relu", "tanh", "linear")
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GRID_COLUMNS`; ``quantity`` is ``"activation"`` or
        ``"grad_preactivation"``, ``source`` ``"measured"`` or ``"predicted"``.
    """
    if isinstance(gains, (str, bytes)) or not hasattr(gains, "__len__") or len(gains) == 0:
        raise ValueError(f"gains must be a non-empty sequence of positive numbers, got {gains!r}")
    gains = [check_positive_float(g, f"gains[{i}]") for i, g in enumerate(gains)]
    width = check_positive_int(width, "width")
    if isinstance(activations, (str, bytes)) or not hasattr(activations, "__len__") or len(activations) == 0:
        raise ValueError(f"activations must be a non-empty sequence of names, got {activations!r}")
    blocks = []
    scales = np.asarray(gains) / np.sqrt(width)
    for name in activations:
        act = _get_activation(name)
        measured = propagation.scale_sweep(scales, depth=depth, width=width, batch=batch, activation=act, seed=seed,
                                           gradient=True)
        nearest = np.abs(measured["scale"].to_numpy()[:, None] - scales[None, :]).argmin(axis=1)
        measured = measured.assign(gain=np.asarray(gains)[nearest])
        blocks.append(measured.assign(activation=name, source="measured"))
        for gain, scale in zip(gains, scales):
            predicted = theory.predicted_stats(depth, width, weight_var=scale**2, activation=act)
            predicted = predicted[predicted["quantity"].isin(["activation", "grad_preactivation"])]
            blocks.append(predicted.assign(activation=name, gain=gain, source="predicted"))
    return pd.concat(blocks, ignore_index=True)[list(GRID_COLUMNS)]


def lsuv_steps(model, batch, *, probe=None, tol_var=0.1, max_iter=10, target_var=1.0, seed=None, min_outputs=1):
    """Run :func:`initcourse.kerastools.lsuv.lsuv` on ``model`` and record every layer's variance at every step.

    LSUV measures a layer's output variance, rescales its kernel, measures again,
    and so on, layer after layer. Before each of those measurements (and once
    before LSUV starts) this function measures the pre-activation variance of
    *every* Dense/Conv layer on the ``probe`` batch with
    :func:`initcourse.kerastools.lsuv.preactivation_variances`, so one sees the layer being
    normalized reach the target and the layers after it move with it. The
    rescaling itself is done by :func:`~initcourse.kerastools.lsuv.lsuv` (``model`` is
    initialized in place, as there); nothing of it is recomputed here.

    Parameters
    ----------
    model : keras.Model
        As for :func:`initcourse.kerastools.lsuv.lsuv`.
    batch : array_like, iterator or callable
        LSUV's data, as for :func:`initcourse.kerastools.lsuv.lsuv`: one fixed batch, or a
        source of fresh mini-batches (one per measurement).
    probe : array_like, optional
        The batch on which every step is measured. Default: ``batch`` when it is
        one fixed batch (then the processed layer's values equal those LSUV
        measured); required when ``batch`` is an iterator or a callable.
    tol_var, max_iter, target_var, seed, min_outputs
        Passed to :func:`initcourse.kerastools.lsuv.lsuv`.

    Returns
    -------
    (report, steps) : tuple of pandas.DataFrame
        ``report`` is what :func:`~initcourse.kerastools.lsuv.lsuv` returns. ``steps`` has the
        columns :data:`STEP_COLUMNS`, one row per (step, layer): ``step`` 0 is the
        model as it came (``stage`` ``"initial"``); then, for each layer LSUV
        processes, ``stage`` ``"orthonormal"`` (its kernel just replaced by an
        orthonormal one, ``iteration`` 0) and ``"rescaled"`` (after ``iteration``
        rescalings). ``processing`` names the layer being normalized (empty at
        step 0), ``layer``/``position`` the layer measured (position from 1) and
        ``var`` its pre-activation variance on ``probe``.
    """
    fixed = None
    if isinstance(batch, collections.abc.Iterator):
        draw = lambda: next(batch)  # noqa: E731  (lsuv turns StopIteration into a clear error)
    elif callable(batch):
        draw = batch
    else:
        fixed = batch
        draw = lambda: fixed  # noqa: E731
    if probe is None:
        if fixed is None:
            raise ValueError("probe is required when batch is an iterator or a callable: give one fixed batch to measure on")
        probe = fixed
    initial = lsuv.preactivation_variances(model, probe)  # also checks model and probe
    states = [initial["var"].to_numpy()]

    def observed_batch():
        states.append(lsuv.preactivation_variances(model, probe)["var"].to_numpy())
        return draw()

    report = lsuv.lsuv(
        model, observed_batch, tol_var=tol_var, max_iter=max_iter, target_var=target_var, seed=seed,
        min_outputs=min_outputs,
    )
    labels = [("initial", "", 0)]
    for name, iterations in zip(report["layer"], report["iterations"]):
        labels += [("orthonormal" if i == 0 else "rescaled", name, i) for i in range(iterations + 1)]
    if len(labels) != len(states):  # lsuv takes one batch per measurement (its documented contract)
        raise RuntimeError(f"expected {len(labels)} measurements from lsuv, observed {len(states)}")
    names = list(initial["layer"])
    rows = [
        (step, stage, processing, iteration, name, position, float(var))
        for step, ((stage, processing, iteration), variances) in enumerate(zip(labels, states))
        for position, (name, var) in enumerate(zip(names, variances), start=1)
    ]
    return report, pd.DataFrame(rows, columns=list(STEP_COLUMNS))


# --------------------------------------------------------------------------- plotting


def plot_propagation_profile(profile, *, quantities=("activation", "grad_preactivation"), stat="var", axes=None):
    """Draw :func:`propagation_profile`'s frame: one panel per quantity, measured vs predicted.

    Parameters
    ----------
    profile : pandas.DataFrame
        As returned by :func:`propagation_profile`.
    quantities : sequence of str
        One panel each (values of ``profile["quantity"]``).
    stat : str, default "var"
    axes : sequence of matplotlib Axes, optional
        One per quantity; default: a new figure with the panels side by side.

    Returns
    -------
    list of matplotlib.axes.Axes
    """
    from . import plotting

    if not isinstance(profile, pd.DataFrame) or "source" not in profile.columns:
        raise ValueError("profile must be the DataFrame of propagation_profile (with a 'source' column)")
    quantities = [check_choice(q, "quantities", propagation.QUANTITIES) for q in quantities]
    if axes is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(quantities), figsize=(4.2 * len(quantities), 3.4), squeeze=False)
        axes = list(axes[0])
    if len(axes) != len(quantities):
        raise ValueError(f"axes must hold one Axes per quantity ({len(quantities)}), got {len(axes)}")
    measured = profile[profile["source"] == "measured"]
    predicted = profile[profile["source"] == "predicted"]
    titles = {
        "preactivation": "forward: pre-activations",
        "activation": "forward: activations",
        "grad_preactivation": "backward: gradient (pre-activations)",
        "grad_weight": "backward: weight gradient",
    }
    for ax, quantity in zip(axes, quantities):
        plotting.plot_predicted_vs_measured(measured, predicted, quantity=quantity, stat=stat, ax=ax)
        ax.set_title(titles[quantity], fontsize=10)
        ax.set_ylabel(f"{stat}")
    return list(axes)


def plot_lsuv_steps(steps, *, step=None, target_var=1.0, tol_var=0.1, axes=None):
    """Draw :func:`lsuv_steps`'s frame at one step: every layer's variance, and each layer's path.

    Left panel: the variance of every layer at ``step`` (the layer being
    normalized is marked in red), with the target band ``target_var ± tol_var``.
    Right panel: every layer's variance over all steps, with ``step`` marked.

    Parameters
    ----------
    steps : pandas.DataFrame
        The second frame returned by :func:`lsuv_steps`.
    step : int, optional
        Which step to show; default the last.
    target_var, tol_var : float
        The target band to draw (LSUV's arguments).
    axes : pair of matplotlib Axes, optional

    Returns
    -------
    list of matplotlib.axes.Axes
    """
    if not isinstance(steps, pd.DataFrame) or not set(STEP_COLUMNS) <= set(steps.columns):
        raise ValueError(f"steps must be the steps frame of lsuv_steps, with columns {STEP_COLUMNS}")
    last = int(steps["step"].max())
    step = last if step is None else int(step)
    if not 0 <= step <= last:
        raise ValueError(f"step must be between 0 and {last}, got {step}")
    target_var = check_positive_float(target_var, "target_var")
    tol_var = check_positive_float(tol_var, "tol_var")
    from matplotlib import ticker

    if axes is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4))
    left, right = axes
    now = steps[steps["step"] == step].sort_values("position")
    processing = now["processing"].iloc[0]
    low, high = max(target_var - tol_var, 1e-300), target_var + tol_var
    for ax in (left, right):
        ax.axhspan(low, high, color="C2", alpha=0.2, label=f"target {target_var:g} ± {tol_var:g}")
        ax.set_yscale("log")
    left.plot(now["position"], now["var"], color="C0", linewidth=1, marker="o", markersize=4)
    mark = now["layer"] == processing
    if mark.any():
        left.plot(now.loc[mark, "position"], now.loc[mark, "var"], "o", color="C3", markersize=8,
                  label=f"{processing} (being normalized)")
        left.legend(loc="best", fontsize=8)
    left.set_xlabel("layer")
    left.set_ylabel("pre-activation variance")
    stage = now["stage"].iloc[0]
    what = "as initialized" if stage == "initial" else f"{processing}: {stage}, {now['iteration'].iloc[0]} rescaling(s)"
    left.set_title(f"step {step}: {what}", fontsize=10)
    paths = steps.pivot(index="step", columns="position", values="var").sort_index()
    for position in paths.columns:
        right.plot(paths.index, paths[position], color="0.6", linewidth=1)
    right.plot(paths.index, paths.loc[:, paths.columns.max()], color="C1", linewidth=1.5, label="last layer")
    right.axvline(step, color="C3", linestyle="--")
    right.set_xlabel("step")
    right.set_title("every layer, all steps", fontsize=10)
    right.legend(loc="best", fontsize=8)
    plain = ticker.FuncFormatter(lambda v, _: f"{v:g}")
    for ax in (left, right):  # plain numbers; label the minor ticks too when less than a decade is shown
        low, high = ax.get_ylim()
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain if high / low < 10 else ticker.NullFormatter())
    return [left, right]


# --------------------------------------------------------------------------- widgets


def _ipywidgets():
    """Import ipywidgets, or say how to get it (it comes with the course's ``book`` extra)."""
    try:
        import ipywidgets
    except ImportError:
        raise ImportError(
            "the explorers need ipywidgets: pip install ipywidgets (or the course's extra: pip install -e '.[book]')"
        ) from None
    return ipywidgets


def _check_seed(seed) -> int:
    """A widget's seed: an integer from 0 to 10**6."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= 10**6:
        raise ValueError(f"seed must be an integer from 0 to 1000000, got {seed!r}")
    return int(seed)


def _figure_png(fig) -> bytes:
    """The figure as PNG bytes (then closed, so that no second copy is displayed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


class _Explorer:
    """Shared widget plumbing: controls, a status line, an image, redraw on change."""

    def __init__(self, controls: dict):
        widgets = _ipywidgets()

        self.controls = controls
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([widgets.HBox(list(controls.values()), layout={"flex_flow": "row wrap"}),
                                    self.status, self.image])
        self.data = None
        for control in controls.values():
            control.observe(self._changed, names="value")

    def _changed(self, change):
        self.update()

    def values(self) -> dict:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class PropagationExplorer(_Explorer):
    """Depth, weight scale, activation and initializer → per-layer variances against the theory.

    Every change of a control recomputes :func:`propagation_profile` (kept in
    ``self.data``) and redraws :func:`plot_propagation_profile` into
    ``self.image``. Show it by making it the last expression of a cell.

    Parameters
    ----------
    depth, width, initializer, gain, activation, seed
        Initial values (see :func:`propagation_profile`); ``width`` is fixed.
    batch : int, default 300
        Inputs of each simulated network (small, for quick redraws).
    """

    def __init__(self, *, depth=20, width=256, initializer="he_normal", gain=1.0, activation="relu", seed=0, batch=300):
        widgets = _ipywidgets()

        check_choice(initializer, "initializer", EXPLORER_INITIALIZERS)
        check_choice(activation, "activation", EXPLORER_ACTIVATIONS)
        self.width = check_positive_int(width, "width")
        self.batch = check_positive_int(batch, "batch")
        gain = check_positive_float(gain, "gain")
        if not 0.1 <= gain <= 10:
            raise ValueError(f"gain must be between 0.1 and 10 in the explorer, got {gain}")
        depth = check_positive_int(depth, "depth")
        if depth > 100:
            raise ValueError(f"depth must be at most 100 in the explorer, got {depth}")
        seed = _check_seed(seed)
        style = {"description_width": "initial"}
        super().__init__({
            "depth": widgets.IntSlider(value=depth, min=1, max=100, description="depth", style=style, continuous_update=False),
            "gain": widgets.FloatLogSlider(value=gain, base=10, min=-1, max=1, step=0.01, readout_format=".3f",
                                           description="gain × init", style=style, continuous_update=False),
            "initializer": widgets.Dropdown(options=list(EXPLORER_INITIALIZERS), value=initializer,
                                            description="initializer", style=style),
            "activation": widgets.Dropdown(options=list(EXPLORER_ACTIVATIONS), value=activation,
                                           description="activation", style=style),
            "seed": widgets.BoundedIntText(value=seed, min=0, max=10**6, description="seed", style=style,
                                           layout={"width": "9em"}),
        })
        self.update()

    def update(self) -> pd.DataFrame:
        """Recompute with the controls' values, redraw, and return the new data."""
        import matplotlib.pyplot as plt

        v = self.values()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.data = propagation_profile(
                v["depth"], self.width, initializer=v["initializer"], gain=v["gain"], activation=v["activation"],
                batch=self.batch, seed=v["seed"],
            )
        sigma = v["gain"] * initializers.describe(v["initializer"], (self.width, self.width))["std"]
        message = f"width {self.width}, σ_w·√n = {sigma * np.sqrt(self.width):.3f}"
        if caught:
            message += f"; <b>{caught[0].message}</b>"
        self.status.value = message
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4))
        plot_propagation_profile(self.data, axes=axes)
        fig.suptitle(f"{v['activation']}, {v['initializer']} × {v['gain']:.3g}, depth {v['depth']}", fontsize=11)
        self.image.value = _figure_png(fig)
        return self.data


class LSUVExplorer(_Explorer):
    """LSUV step by step on a deep MLP: every layer's variance after every rescaling.

    Changing the network or LSUV's settings builds a new model
    (:func:`initcourse.kerastools.models.mlp`) and reruns :func:`lsuv_steps` (kept in
    ``self.report`` and ``self.data``); the ``step`` slider only redraws
    :func:`plot_lsuv_steps`.

    Parameters
    ----------
    depth, width : int
        Hidden layers of the MLP, and their width (the input dimension too).
    activation, initializer : str
        Hidden activation and the kernels the model starts with.
    input_std : float
        Standard deviation of the Gaussian data (LSUV adapts to it).
    tol_var, max_iter : LSUV's arguments.
    fresh_batches : bool
        Measure on a fresh mini-batch at every pass (then several iterations can be
        needed) instead of one fixed batch.
    batch_size : int
        Size of LSUV's batch (or of each fresh mini-batch).
    seed : int
    """

    def __init__(self, *, depth=8, width=64, activation="relu", initializer="glorot_uniform", input_std=3.0,
                 tol_var=0.1, max_iter=10, fresh_batches=False, batch_size=64, seed=0):
        widgets = _ipywidgets()

        check_choice(initializer, "initializer", EXPLORER_INITIALIZERS)
        check_choice(activation, "activation", ("relu", "tanh", "linear", "selu"))
        self.width = check_positive_int(width, "width")
        depth = check_positive_int(depth, "depth")
        if depth > 30:
            raise ValueError(f"depth must be at most 30 in the explorer, got {depth}")
        self.seed = _check_seed(seed)
        self.batch_size = check_positive_int(batch_size, "batch_size")
        style = {"description_width": "initial"}
        self._model_controls = {
            "depth": widgets.IntSlider(value=depth, min=1, max=30, description="depth", style=style,
                                       continuous_update=False),
            "activation": widgets.Dropdown(options=["relu", "tanh", "linear", "selu"], value=activation,
                                           description="activation", style=style),
            "initializer": widgets.Dropdown(options=list(EXPLORER_INITIALIZERS), value=initializer,
                                            description="initial kernels", style=style),
            "input_std": widgets.FloatLogSlider(value=check_positive_float(input_std, "input_std"), base=10, min=-1,
                                                max=1, step=0.05, description="data std", style=style,
                                                continuous_update=False),
            "tol_var": widgets.FloatLogSlider(value=check_positive_float(tol_var, "tol_var"), base=10, min=-3,
                                              max=0, step=0.1, description="tol_var", style=style,
                                              continuous_update=False),
            "max_iter": widgets.IntSlider(value=check_positive_int(max_iter, "max_iter"), min=1, max=20,
                                          description="max_iter", style=style, continuous_update=False),
            "fresh_batches": widgets.Checkbox(value=bool(fresh_batches), description="fresh mini-batch per pass"),
        }
        self._step = widgets.IntSlider(value=0, min=0, max=0, description="step", style=style,
                                       continuous_update=False)
        super().__init__({**self._model_controls, "step": self._step})
        self.report = None
        self.rerun()

    def _changed(self, change):
        if change["owner"] is self._step:
            self.redraw()
        else:
            self.rerun()

    def rerun(self):
        """Build a new model with the controls' values, run :func:`lsuv_steps`, redraw at the last step."""
        from ..kerastools import models
        from .. import settings

        v = self.values()
        keras = settings.quiet_tensorflow()
        keras.utils.set_random_seed(self.seed)
        model = models.mlp(self.width, [self.width] * v["depth"], activation=v["activation"],
                           kernel_initializer=v["initializer"], output_units=10)
        rng = as_generator(self.seed)
        data = (v["input_std"] * rng.standard_normal((max(4 * self.batch_size, 512), self.width))).astype("float32")
        probe = data[: self.batch_size]
        source = lsuv.minibatches(data, self.batch_size, seed=self.seed) if v["fresh_batches"] else probe
        self.report, self.data = lsuv_steps(model, source, probe=probe, tol_var=v["tol_var"],
                                            max_iter=v["max_iter"], seed=self.seed)
        last = int(self.data["step"].max())
        self.status.value = (f"{len(self.report)} layers, {int(self.report['iterations'].sum())} rescalings "
                             f"in all, {last} steps")
        with self._step.hold_trait_notifications():
            self._step.unobserve(self._changed, names="value")
            self._step.max = last
            self._step.value = last
            self._step.observe(self._changed, names="value")
        self.redraw()
        return self.data

    def redraw(self):
        """Draw the current data at the step the slider shows."""
        import matplotlib.pyplot as plt

        v = self.values()
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4))
        plot_lsuv_steps(self.data, step=v["step"], tol_var=v["tol_var"], axes=axes)
        self.image.value = _figure_png(fig)
