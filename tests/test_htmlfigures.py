"""Tests of initcourse.course.htmlfigures: the data embedded in the figures, their self-containment
(no external resource), their size, determinism, static fallback and input checks. That the
JavaScript runs (slider moves the curves, hover and click) needs a browser: see the module
docstring of htmlfigures for what such a check covers."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from initcourse import explore, htmlfigures, propagation

GAINS = [0.5, 1.0, 2 ** 0.5, 2.0]


@pytest.fixture(scope="module")
def grid():
    return explore.propagation_grid(GAINS, depth=6, width=16, batch=32, activations=("relu", "tanh"))


@pytest.fixture(scope="module")
def sweep():
    return propagation.scale_sweep(np.logspace(-2, 0.5, 12), depth=5, width=20, batch=50, seed=0)


def _payload(figure):
    match = re.search(r"window\.initcourseFigures\.\w+\(root, (\{.*\})\); \} \}\)\(\);</script>", figure.html)
    assert match, "the figure's data call was not found"
    return json.loads(match.group(1))


def _assert_self_contained(html):
    # no resource is fetched: no src/href attribute, no <link>, no import(); the SVG namespace
    # string is the only URL and is never requested
    assert not re.search(r"\b(src|href)\s*=", html)
    assert "<link" not in html and "import(" not in html and "fetch(" not in html
    assert set(re.findall(r"https?://[^\s\"']+", html)) <= {"http://www.w3.org/2000/svg"}


def test_slider_embeds_the_grid_as_log10_values(grid):
    figure = htmlfigures.propagation_slider(grid, marks={"He": 2 ** 0.5})
    data = _payload(figure)
    assert data["activations"] == ["relu", "tanh"]
    assert data["gains"] == sorted(GAINS)
    assert data["depth"] == 6
    assert data["marks"] == [{"label": "He", "index": 2}]
    # series[activation]["values"][gain index] = [fwd measured, fwd predicted, bwd measured, bwd predicted]
    block = data["series"]["tanh"]["values"][1]
    rows = grid[(grid["activation"] == "tanh") & (grid["gain"] == 1.0)]
    for k, (quantity, source) in enumerate([("activation", "measured"), ("activation", "predicted"),
                                            ("grad_preactivation", "measured"), ("grad_preactivation", "predicted")]):
        want = rows[(rows["quantity"] == quantity) & (rows["source"] == source)].sort_values("layer")["var"]
        np.testing.assert_allclose(block[k], np.log10(want), atol=5e-4)
    low, high = data["series"]["relu"]["ylim"]
    assert low <= min(v for b in data["series"]["relu"]["values"] for s in b for v in s) and high >= 0


def test_slider_is_self_contained_small_and_deterministic(grid):
    figure = htmlfigures.propagation_slider(grid)
    _assert_self_contained(figure.html)
    assert len(figure) < 300_000
    assert figure._repr_html_() == htmlfigures.propagation_slider(grid).html
    assert "interactive" in repr(figure)
    assert 'class="icfig-static"' in figure.html and "<table>" in figure.html  # what shows without scripts
    assert 'type="range"' in figure.html


def test_realistic_slider_stays_under_the_size_limit():
    gains = 2.0 ** (np.arange(-8, 13) / 8)
    big = explore.propagation_grid(gains, depth=30, width=8, batch=8)  # the chapter's size of table
    assert len(htmlfigures.propagation_slider(big)) < 150_000


def test_slider_zero_and_nonfinite_values_become_null(grid):
    broken = grid.copy()
    rows = (broken["activation"] == "relu") & (broken["gain"] == 0.5) & (broken["quantity"] == "activation") & (
        broken["source"] == "measured")
    broken.loc[rows & (broken["layer"] == 1), "var"] = 0.0
    broken.loc[rows & (broken["layer"] == 2), "var"] = np.inf
    data = _payload(htmlfigures.propagation_slider(broken))
    values = data["series"]["relu"]["values"][0][0]
    assert values[0] is None and values[1] is None


@pytest.mark.parametrize(
    "change, match",
    [(lambda g: g.drop(columns="source"), "columns"), (lambda g: g.iloc[1:], "lacks"), (lambda g: "x", "grid")],
)
def test_slider_bad_input(grid, change, match):
    with pytest.raises(ValueError, match=match):
        htmlfigures.propagation_slider(change(grid))


def test_heatmap_embeds_the_sweep(sweep):
    critical = np.sqrt(2 / 20)
    figure = htmlfigures.sweep_heatmap(sweep, critical=critical)
    data = _payload(figure)
    scales = np.sort(sweep["scale"].unique())
    assert data["scales"] == pytest.approx(list(scales))
    assert data["layers"] == [1, 2, 3, 4, 5]
    assert len(data["values"]) == 5 and len(data["values"][0]) == len(scales)
    assert len(data["colours"]) == 5 and all(re.fullmatch(r"#[0-9a-f]{6}", c) for row in data["colours"] for c in row)
    want = sweep[(sweep["quantity"] == "activation") & (sweep["layer"] == 3)].sort_values("scale")["std"]
    np.testing.assert_allclose(data["values"][2], np.log10(want), atol=5e-4)
    assert data["critical_index"] == int(np.argmin(np.abs(np.log(scales) - np.log(critical))))
    assert 0 < data["critical_position"] < 1
    _assert_self_contained(figure.html)
    assert len(figure) < 100_000


def test_heatmap_greys_out_zeros(sweep):
    zeroed = sweep.copy()
    zeroed.loc[(zeroed["layer"] == 5) & (zeroed["scale"] == zeroed["scale"].min()), "std"] = 0.0
    data = _payload(htmlfigures.sweep_heatmap(zeroed))
    assert data["values"][4][0] is None and data["colours"][4][0] == "#cccccc"


@pytest.mark.parametrize(
    "kwargs, match",
    [({"value": "median"}, "median"), ({"quantity": "grad_weight"}, "quantity")],
)
def test_heatmap_bad_input(sweep, kwargs, match):
    with pytest.raises(ValueError, match=match):
        htmlfigures.sweep_heatmap(sweep, **kwargs)


def test_heatmap_without_drawable_values(sweep):
    with pytest.raises(ValueError, match="no positive"):
        htmlfigures.sweep_heatmap(sweep.assign(std=0.0))
    with pytest.raises(ValueError, match="positive scales"):
        htmlfigures.sweep_heatmap(pd.DataFrame({"scale": [0.0, 1.0], "layer": [1, 1], "std": [1.0, 2.0]}))
