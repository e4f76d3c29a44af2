"""Explorable figures for the HTML book: precomputed data, inline SVG and a little JavaScript.

The HTML book is read without a Python kernel and, often, without a network. The
figures here carry their data with them (computed by the chapter's own code) and
draw it with a few dozen lines of plain JavaScript into SVG: nothing is loaded
from anywhere, and each figure is a single ``text/html`` output of a few tens of
kilobytes.

- :func:`propagation_slider` takes the frame of
  :func:`initcourse.course.explore.propagation_grid`: a slider over the weight scale,
  buttons for the activation, and the forward and backward variances layer by
  layer, measured against predicted (hover a point for its values);
- :func:`sweep_heatmap` takes a scale sweep
  (:func:`initcourse.maths.propagation.scale_sweep`): a heatmap to hover (read a cell)
  and click (select a weight scale, whose layer profile is drawn beside it).

Where the JavaScript does not run — a notebook opened in JupyterLab without being
trusted, whose sanitizer strips scripts and SVG from outputs — the figure shows its
caption, a short table of the same data and a note saying where the interactive
version is (the HTML book, or :mod:`initcourse.course.explore`'s widgets in JupyterLab);
its controls stay hidden until the script shows them.

A browser check of a built page (headless Chromium, network blocked) should find
every ``div.icfig`` with ``data-ready="1"`` and its ``.icfig-static`` note hidden;
moving ``input.icfig-gain`` (or clicking a ``button.icfig-act``) must change the
figure's ``data-state`` and its SVG; hovering a heatmap cell must set
``data-hover`` and the readout, clicking a column ``data-selected`` and the
``polyline.icfig-selected``; no request may leave the page and no script error
may be logged. With JavaScript off, the note and its table must be visible.
"""

from __future__ import annotations

import hashlib
import html
import json

import numpy as np
import pandas as pd

from .._validation import check_choice

__all__ = ["HTMLFigure", "propagation_slider", "sweep_heatmap"]


class HTMLFigure:
    """A self-contained HTML fragment that notebooks display as ``text/html``.

    ``html`` is the fragment (inline SVG and script, no external resource);
    ``repr()`` is a one-line plain-text description (the ``text/plain`` output).
    """

    def __init__(self, html_text: str, description: str):
        self.html = html_text
        self.description = description

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<{self.description}: interactive in the HTML book>"

    def __len__(self) -> int:
        return len(self.html.encode("utf-8"))


# One small library shared by every figure. Each figure's output includes it (so an
# output works alone); it defines itself once per page.
_LIBRARY = r"""
window.initcourseFigures = window.initcourseFigures || (function () {
  var NS = "http://www.w3.org/2000/svg";
  function el(tag, attrs, parent) {
    var node = document.createElementNS(NS, tag);
    for (var k in attrs) { node.setAttribute(k, attrs[k]); }
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function fmt(log10) {
    if (log10 === null) { return "0 or not finite"; }
    var v = Math.pow(10, log10);
    return (Math.abs(log10) >= 3) ? v.toExponential(2) : v.toPrecision(3);
  }
  // A panel with a linear x axis and a log10 y axis; returns coordinate maps.
  function panel(svg, box, xlim, ylim, title, xlabel, ylabel) {
    var g = el("g", {}, svg);
    var x = function (v) { return box.x + (v - xlim[0]) / (xlim[1] - xlim[0]) * box.w; };
    var y = function (v) { return box.y + box.h - (v - ylim[0]) / (ylim[1] - ylim[0]) * box.h; };
    var span = ylim[1] - ylim[0], step = Math.max(1, Math.ceil(span / 6));
    for (var d = Math.ceil(ylim[0] / step) * step; d <= ylim[1]; d += step) {
      el("line", {x1: box.x, x2: box.x + box.w, y1: y(d), y2: y(d), stroke: "#ddd"}, g);
      var t = el("text", {x: box.x - 4, y: y(d) + 4, "text-anchor": "end", "font-size": 11}, g);
      t.textContent = d === 0 ? "1" : "1e" + d;
    }
    var xstep = Math.max(1, Math.round((xlim[1] - xlim[0]) / 6 / 5) * 5);
    for (var s = Math.ceil(xlim[0] / xstep) * xstep; s <= xlim[1]; s += xstep) {
      var u = el("text", {x: x(s), y: box.y + box.h + 15, "text-anchor": "middle", "font-size": 11}, g);
      u.textContent = s;
    }
    el("rect", {x: box.x, y: box.y, width: box.w, height: box.h, fill: "none", stroke: "#444"}, g);
    var tt = el("text", {x: box.x + box.w / 2, y: box.y - 8, "text-anchor": "middle", "font-size": 12}, g);
    tt.textContent = title;
    var xl = el("text", {x: box.x + box.w / 2, y: box.y + box.h + 32, "text-anchor": "middle", "font-size": 11}, g);
    xl.textContent = xlabel;
    var yl = el("text", {x: 12, y: box.y + box.h / 2, "text-anchor": "middle", "font-size": 11,
                         transform: "rotate(-90 12 " + (box.y + box.h / 2) + ")"}, g);
    yl.textContent = ylabel;
    return {g: g, x: x, y: y, ylim: ylim};
  }
  function clamp(p, v) { return Math.min(Math.max(v, p.ylim[0]), p.ylim[1]); }
  function line(p, xs, ys, style) {
    var pts = [];
    for (var i = 0; i < xs.length; i++) {
      if (ys[i] !== null) { pts.push(p.x(xs[i]).toFixed(1) + "," + p.y(clamp(p, ys[i])).toFixed(1)); }
    }
    return el("polyline", Object.assign({points: pts.join(" "), fill: "none"}, style), p.g);
  }
  function dots(p, xs, ys, tips, colour) {
    for (var i = 0; i < xs.length; i++) {
      if (ys[i] === null) { continue; }
      var c = el("circle", {cx: p.x(xs[i]), cy: p.y(clamp(p, ys[i])), r: 3.2, fill: colour,
                            "class": "icfig-dot"}, p.g);
      el("title", {}, c).textContent = tips[i];
    }
  }
  function ready(root) {
    var note = root.querySelector(".icfig-static");
    if (note) { note.style.display = "none"; }
    root.querySelectorAll(".icfig-controls").forEach(function (c) { c.style.display = ""; });
    root.setAttribute("data-ready", "1");
  }

  function slider(root, data) {
    var svg = root.querySelector("svg.icfig-plot");
    var range = root.querySelector("input.icfig-gain");
    var readout = root.querySelector(".icfig-readout");
    var current = data.activations[0];
    root.querySelectorAll("button.icfig-act").forEach(function (b) {
      b.addEventListener("click", function () {
        current = b.getAttribute("data-act");
        root.querySelectorAll("button.icfig-act").forEach(function (o) {
          o.setAttribute("aria-pressed", o === b ? "true" : "false");
          o.style.fontWeight = o === b ? "bold" : "normal";
        });
        draw();
      });
    });
    root.querySelectorAll("button.icfig-mark").forEach(function (b) {
      b.addEventListener("click", function () { range.value = b.getAttribute("data-index"); draw(); });
    });
    range.addEventListener("input", draw);
    var layers = [];
    for (var l = 1; l <= data.depth; l++) { layers.push(l); }
    function draw() {
      while (svg.firstChild) { svg.removeChild(svg.firstChild); }
      var k = +range.value, gain = data.gains[k], block = data.series[current];
      var s = block.values[k];
      var mark = data.marks.filter(function (m) { return m.index === k; })[0];
      readout.textContent = "σ_w·√n = " + gain.toFixed(3) + (mark ? " (" + mark.label + ")" : "") +
        "; per-layer factor of the forward variance, predicted: " +
        Math.pow(10, s[1][data.depth - 1] - s[1][data.depth - 2]).toPrecision(3);
      var names = [["forward: activation variance", 0, 1], ["backward: gradient variance", 2, 3]];
      names.forEach(function (n, j) {
        var p = panel(svg, {x: 60 + j * 330, y: 24, w: 260, h: 200}, [1, data.depth], block.ylim, n[0],
                      "layer", j === 0 ? "variance (log scale)" : "");
        line(p, layers, s[n[2]], {stroke: "#333", "stroke-dasharray": "5,4", "stroke-width": 1.5,
                                  "class": "icfig-predicted"});
        var tips = layers.map(function (l, i) {
          return "layer " + l + ": measured " + fmt(s[n[1]][i]) + ", predicted " + fmt(s[n[2]][i]);
        });
        dots(p, layers, s[n[1]], tips, "#1f77b4");
      });
      var key = el("g", {}, svg);
      el("line", {x1: 330, x2: 360, y1: 276, y2: 276, stroke: "#333", "stroke-dasharray": "5,4"}, key);
      el("text", {x: 365, y: 280, "font-size": 11}, key).textContent = "predicted (variance recursion)";
      el("circle", {cx: 150, cy: 276, r: 3.2, fill: "#1f77b4"}, key);
      el("text", {x: 158, y: 280, "font-size": 11}, key).textContent = "measured (one network)";
      root.setAttribute("data-state", current + ":" + k);
    }
    draw();
    ready(root);
  }

  function heatmap(root, data) {
    var svg = root.querySelector("svg.icfig-plot");
    var readout = root.querySelector(".icfig-readout");
    var range = root.querySelector("input.icfig-select");
    var nx = data.scales.length, ny = data.layers.length;
    var box = {x: 60, y: 24, w: 300, h: 200}, cw = box.w / nx, ch = box.h / ny;
    var cells = el("g", {"class": "icfig-cells"}, svg);
    var title = el("text", {x: box.x + box.w / 2, y: 14, "text-anchor": "middle", "font-size": 12}, svg);
    title.textContent = data.title;
    for (var i = 0; i < nx; i++) {
      for (var j = 0; j < ny; j++) {
        var r = el("rect", {x: box.x + i * cw, y: box.y + box.h - (j + 1) * ch, width: cw + 0.6, height: ch + 0.6, "shape-rendering": "crispEdges",
                            fill: data.colours[j][i], "data-i": i, "data-j": j}, cells);
        r.addEventListener("mouseenter", hover);
        r.addEventListener("click", function (e) { select(+e.target.getAttribute("data-i")); });
      }
    }
    data.ticks.forEach(function (t) {
      var tx = el("text", {x: box.x + (t.index + 0.5) * cw, y: box.y + box.h + 15, "text-anchor": "middle",
                           "font-size": 11}, svg);
      tx.textContent = t.label;
    });
    el("text", {x: box.x + box.w / 2, y: box.y + box.h + 32, "text-anchor": "middle", "font-size": 11}, svg)
      .textContent = "weight std σ_w (log scale)";
    data.layers.forEach(function (l, j) {
      el("text", {x: box.x - 4, y: box.y + box.h - (j + 0.5) * ch + 4, "text-anchor": "end", "font-size": 10}, svg)
        .textContent = l;
    });
    var yl = el("text", {x: 14, y: box.y + box.h / 2, "text-anchor": "middle", "font-size": 11,
                         transform: "rotate(-90 14 " + (box.y + box.h / 2) + ")"}, svg);
    yl.textContent = "layer";
    var crit = box.x + data.critical_position * box.w;
    el("line", {x1: crit, x2: crit, y1: box.y, y2: box.y + box.h, stroke: "white", "stroke-dasharray": "4,3"}, svg);
    var outline = el("rect", {x: 0, y: 0, width: cw, height: ch, fill: "none", stroke: "red", "stroke-width": 1.5,
                              visibility: "hidden"}, svg);
    var column = el("rect", {x: 0, y: box.y, width: cw, height: box.h, fill: "none", stroke: "white",
                             "stroke-width": 2}, svg);
    var side = el("g", {}, svg);
    function hover(e) {
      var i = +e.target.getAttribute("data-i"), j = +e.target.getAttribute("data-j");
      outline.setAttribute("x", box.x + i * cw); outline.setAttribute("y", box.y + box.h - (j + 1) * ch);
      outline.setAttribute("visibility", "visible");
      readout.textContent = "σ_w = " + data.scales[i].toPrecision(4) + ", layer " + data.layers[j] + ": " +
        data.value_name + " " + fmt(data.values[j][i]);
      root.setAttribute("data-hover", i + "," + j);
    }
    function select(i) {
      range.value = i;
      column.setAttribute("x", box.x + i * cw);
      while (side.firstChild) { side.removeChild(side.firstChild); }
      var p = panel(side, {x: 440, y: 24, w: 220, h: 200}, [data.layers[0], data.layers[ny - 1]], data.ylim,
                    "σ_w = " + data.scales[i].toPrecision(3) + " (selected)", "layer", "");
      var ys = data.values.map(function (row) { return row[i]; });
      var ref = data.values.map(function (row) { return row[data.critical_index]; });
      line(p, data.layers, ref, {stroke: "#999", "stroke-width": 1.2, "stroke-dasharray": "4,3"});
      line(p, data.layers, ys, {stroke: "#d62728", "stroke-width": 2, "class": "icfig-selected"});
      dots(p, data.layers, ys, data.layers.map(function (l, j) {
        return "layer " + l + ": " + data.value_name + " " + fmt(ys[j]);
      }), "#d62728");
      el("text", {x: 440, y: 276, "font-size": 11}, side).textContent =
        "dashed: σ_w = " + data.scales[data.critical_index].toPrecision(3) + " (reference)";
      root.setAttribute("data-selected", String(i));
    }
    range.addEventListener("input", function () { select(+range.value); });
    select(+range.value);
    ready(root);
  }
  return {slider: slider, heatmap: heatmap};
})();
"""


def _log10(values) -> list:
    """log10 of positive finite values rounded to 3 decimals; None for the others (JSON null)."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(values)
    return [round(float(v), 3) if np.isfinite(v) and x > 0 else None for v, x in zip(logs, values)]


def _container(kind: str, data: dict, body: str, fallback: str, caption: str) -> str:
    """The figure's HTML: caption, controls and SVG, a static fallback, the data and the script."""
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False)
    ident = "icfig-" + hashlib.sha1((kind + payload).encode()).hexdigest()[:10]
    return (
        f'<div class="icfig" id="{ident}" style="font-family: sans-serif; font-size: 13px; max-width: 700px">\n'
        f'<p style="margin: 0 0 4px 0"><b>{html.escape(caption)}</b></p>\n'
        f"{body}\n"
        f'<div class="icfig-static">{fallback}</div>\n'
        f"<script>{_LIBRARY}\n"
        f'(function () {{ var here = document.currentScript && document.currentScript.parentNode; '
        f'var root = (here && here.id === "{ident}") ? here : document.getElementById("{ident}"); '
        f"if (root) {{ window.initcourseFigures.{kind}(root, {payload}); }} }})();</script>\n"
        "</div>"
    )


_STATIC_NOTE = (
    "<p><i>This figure is interactive where its JavaScript runs: in the HTML book, or in JupyterLab once the "
    "notebook is trusted or the cell re-run. In JupyterLab the widgets of <code>initcourse.course.explore</code> "
    "explore the same experiment. A summary of its data:</i></p>"
)


def propagation_slider(grid, *, marks=None, caption="Weight scale and activation: variance layer by layer") -> HTMLFigure:
    """An explorable figure of :func:`initcourse.course.explore.propagation_grid`'s frame.

    A slider picks the weight scale ``sigma_w * sqrt(n)`` among the grid's gains,
    buttons pick the activation (and jump to named scales); two panels show the
    activation variance (forward) and the gradient variance (backward) at every
    layer, measured (dots: hover for the values) and predicted (dashed line).

    Parameters
    ----------
    grid : pandas.DataFrame
        As returned by :func:`initcourse.course.explore.propagation_grid`.
    marks : dict of str to float, optional
        Named scales, e.g. ``{"He": 2 ** 0.5}``; each gets a button that moves the
        slider to the nearest gain of the grid.
    caption : str

    Returns
    -------
    HTMLFigure
    """
    columns = {"activation", "gain", "layer", "quantity", "source", "var"}
    if not isinstance(grid, pd.DataFrame) or not columns <= set(grid.columns):
        raise ValueError(f"grid must be the frame of explore.propagation_grid, with columns {sorted(columns)}")
    gains = np.sort(grid["gain"].unique())
    layers = np.sort(grid["layer"].unique())
    acts = list(dict.fromkeys(grid["activation"]))
    series = {}
    table_rows = []
    for act in acts:
        rows = grid[grid["activation"] == act]
        per_gain = []
        for gain in gains:
            at = rows[rows["gain"] == gain]
            block = []
            for quantity in ("activation", "grad_preactivation"):
                for source in ("measured", "predicted"):
                    part = at[(at["quantity"] == quantity) & (at["source"] == source)].sort_values("layer")
                    if len(part) != len(layers):
                        raise ValueError(f"grid lacks {source} {quantity} rows for activation {act!r}, gain {gain:g}")
                    block.append(_log10(part["var"]))
            per_gain.append(block)
        finite = [v for block in per_gain for s in block for v in s if v is not None]
        low, high = (max(min(finite), -40.0), min(max(finite), 40.0)) if finite else (-1.0, 1.0)
        series[act] = {"values": per_gain, "ylim": [float(np.floor(low)), float(np.ceil(high))]}
        for gain in gains[:: max(1, len(gains) // 4)]:
            last = rows[(rows["gain"] == gain) & (rows["layer"] == layers[-1]) & (rows["quantity"] == "activation")]
            table_rows.append(
                (act, gain, *(last.loc[last["source"] == s, "var"].item() for s in ("measured", "predicted")))
            )
    mark_list = []
    for label, value in (marks or {}).items():
        index = int(np.argmin(np.abs(np.log(gains) - np.log(float(value)))))
        mark_list.append({"label": str(label), "index": index})
    default = mark_list[0]["index"] if mark_list else len(gains) // 2
    data = {
        "activations": acts, "gains": [float(g) for g in gains], "depth": int(layers[-1]),
        "marks": mark_list, "series": series,
    }
    bold = ' style="font-weight: bold"'
    buttons = " ".join(
        f'<button class="icfig-act" data-act="{html.escape(a)}" aria-pressed="{str(i == 0).lower()}"'
        f'{bold if i == 0 else ""}>{html.escape(a)}</button>'
        for i, a in enumerate(acts)
    )
    jumps = " ".join(
        f'<button class="icfig-mark" data-index="{m["index"]}">{html.escape(m["label"])}</button>' for m in mark_list
    )
    body = (
        f'<div class="icfig-controls" style="display: none">activation: {buttons} &nbsp; scale: {jumps}</div>\n'
        f'<div class="icfig-controls" style="display: none"><input class="icfig-gain" type="range" min="0" max="{len(gains) - 1}" step="1" value="{default}" '
        f'aria-label="weight scale" style="width: 60%"> <span class="icfig-readout"></span></div>\n'
        '<svg class="icfig-plot" viewBox="0 0 680 290" width="100%" role="img" '
        'aria-label="variance by layer, forward and backward"></svg>'
    )
    table = "".join(
        f"<tr><td>{html.escape(a)}</td><td>{g:.3f}</td><td>{m:.3g}</td><td>{p:.3g}</td></tr>"
        for a, g, m, p in table_rows
    )
    fallback = (
        _STATIC_NOTE + "<table><tr><th>activation</th><th>σ_w·√n</th>"
        f"<th>activation variance at layer {int(layers[-1])}, measured</th><th>predicted</th></tr>{table}</table>"
    )
    return HTMLFigure(_container("slider", data, body, fallback, caption), "propagation slider")


def sweep_heatmap(sweep, *, value="std", quantity="activation", critical=None,
                  caption="Scale sweep: hover a cell, click a column") -> HTMLFigure:
    """An explorable heatmap of a scale sweep: weight scale across, layer up.

    Hovering a cell reads its value; clicking a column (or moving the slider
    under the map) selects that weight scale and draws its profile over the layers
    beside the map, next to the profile of the scale nearest ``critical``.

    Parameters
    ----------
    sweep : pandas.DataFrame
        As returned by :func:`initcourse.maths.propagation.scale_sweep` (columns
        ``scale``, ``layer``, ``quantity`` and the statistic).
    value : str, default "std"
        The statistic to show (positive values are drawn on a log scale; zeros
        and non-finite values in grey).
    quantity : str, default "activation"
    critical : float, optional
        A weight scale to mark (dashed line) and to use as the reference profile;
        default the middle of the grid.
    caption : str

    Returns
    -------
    HTMLFigure
    """
    import matplotlib as mpl

    if not isinstance(sweep, pd.DataFrame) or not {"scale", "layer", value}.issubset(sweep.columns):
        raise ValueError(f"sweep must be a frame of propagation.scale_sweep with columns 'scale', 'layer' and {value!r}")
    if "quantity" in sweep.columns:
        check_choice(quantity, "quantity", list(dict.fromkeys(sweep["quantity"])))
        sweep = sweep[sweep["quantity"] == quantity]
    grid = sweep.pivot(index="layer", columns="scale", values=value).sort_index().sort_index(axis=1)
    scales = grid.columns.to_numpy(dtype=np.float64)
    if scales.min() <= 0:
        raise ValueError("sweep must have positive scales (they are drawn on a log axis)")
    values = [_log10(row) for row in grid.to_numpy(dtype=np.float64)]
    finite = [v for row in values for v in row if v is not None]
    if not finite:
        raise ValueError(f"no positive finite {value} value to draw")
    low, high = min(finite), max(finite)
    cmap = mpl.colormaps["viridis"]
    colours = [
        [mpl.colors.to_hex(cmap((v - low) / (high - low) if high > low else 0.5)) if v is not None else "#cccccc"
         for v in row]
        for row in values
    ]
    logs = np.log(scales)
    critical_index = len(scales) // 2 if critical is None else int(np.argmin(np.abs(logs - np.log(float(critical)))))
    span = logs[-1] - logs[0] if len(scales) > 1 else 1.0
    position = (np.log(float(critical)) - logs[0]) / span if critical is not None else 0.5
    # a tick at every power of ten inside the grid
    ticks = []
    for power in range(int(np.floor(logs[0] / np.log(10))), int(np.ceil(logs[-1] / np.log(10))) + 1):
        index = int(np.argmin(np.abs(logs - power * np.log(10))))
        if abs(logs[index] - power * np.log(10)) < np.log(10) / 4:
            ticks.append({"index": index, "label": f"1e{power}" if power else "1"})
    data = {
        "scales": [float(s) for s in scales], "layers": [int(l) for l in grid.index], "values": values,
        "colours": colours, "ylim": [float(np.floor(low)), float(np.ceil(high))], "critical_index": critical_index,
        "critical_position": float(min(max(position, 0.0), 1.0)) * (len(scales) - 1) / len(scales) + 0.5 / len(scales),
        "ticks": ticks, "value_name": f"{value} of {quantity}", "title": f"{value} of {quantity} (colour: log scale)",
    }
    body = (
        '<svg class="icfig-plot" viewBox="0 0 680 282" width="100%" role="img" '
        'aria-label="heatmap of a scale sweep"></svg>\n'
        f'<div class="icfig-controls" style="display: none"><input class="icfig-select" type="range" min="0" max="{len(scales) - 1}" step="1" '
        f'value="{critical_index}" aria-label="selected weight scale" style="width: 45%"> '
        '<span class="icfig-readout">hover a cell</span></div>'
    )
    last = grid.index[-1]
    picks = sorted({0, critical_index, len(scales) - 1, len(scales) // 4, 3 * len(scales) // 4})
    table = "".join(f"<tr><td>{scales[i]:.4g}</td><td>{grid.iloc[-1, i]:.3g}</td></tr>" for i in picks)
    fallback = _STATIC_NOTE + f"<table><tr><th>σ_w</th><th>{value} of {quantity} at layer {last}</th></tr>{table}</table>"
    return HTMLFigure(_container("heatmap", data, body, fallback, caption), "scale-sweep heatmap")
