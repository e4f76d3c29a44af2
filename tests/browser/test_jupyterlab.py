"""Chapters opened in a real JupyterLab (with jupyterlab-myst), in headless Chromium.

A reader who opens a chapter in JupyterLab must see the same text as in the book: every
inline value a cell computed shown as its value, every citation as text, never the
markup or a key. JupyterLab starts on a free port with a token, in a temporary folder that
holds copies of the chapters, with its own settings, workspace and runtime folders, so
nothing in the repository or the user's Jupyter set-up is touched.

For each markdown cell of the chapter the test fails when the rendered text shows:

- a raw role (``{glue``, ``{eval``, ``{cite``) or the key of a ``{glue}`` or ``{cite}`` role;
- for an ``{eval}`expression``` role, anything but the value stored for it in the cell's
  ``user_expressions`` metadata (what JupyterLab shows without a kernel);

and exercises must be numbered 1, 2, ... as in the HTML book.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
CHAPTERS = ["12_debugging.ipynb", "09_case_cifar10.ipynb"]
START_TIMEOUT_S = 90

ROLE = re.compile(r"\{(glue|eval|cite)(?::[\w-]+)?\}`([^`]*)`")
RAW_ROLE = re.compile(r"\{(glue|eval|cite)[:}]")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shown_text(text_plain: str) -> str:
    """What JupyterLab shows for a stored text/plain result: without its outer quotes."""
    match = re.fullmatch(r"""(["'])(.*)\1""", text_plain, re.S)
    return match.group(2) if match else text_plain


def expected_cells(notebook: dict) -> list[dict]:
    """Per markdown cell: the values it must show and the keys it must not show."""
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        stored = {}
        for item in cell.get("metadata", {}).get("user_expressions", []) or []:
            data = item.get("result", {}).get("data", {})
            if item.get("result", {}).get("status") == "ok" and "text/plain" in data:
                text = data["text/plain"]
                stored[item.get("expression")] = shown_text("".join(text) if isinstance(text, list) else text)
        values, keys, missing = [], [], []
        for m in ROLE.finditer(source):
            kind, content = m.groups()
            if kind == "eval":
                if content in stored:
                    # the plain word just before the role, to find the value in its place
                    before = re.search(r"([A-Za-z]{2,})\s*$", source[:m.start()])
                    values.append((content, stored[content], before.group(1) if before else ""))
                else:
                    missing.append(content)
            elif kind == "glue":
                keys.append(content.split(":", 1)[0].strip())  # the key, without a format spec
            else:
                keys += [k.strip() for k in content.split(",") if k.strip()]
        cells.append({"source": source, "values": values, "keys": keys, "missing": missing,
                      "exercises": len(re.findall(r"^[`~]{3,}\{exercise\}", source, re.M))})
    return cells


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server on copies of the chapters; yields (base URL, token, its folder)."""
    home = tmp_path_factory.mktemp("jupyterlab")
    (home / "book").mkdir()
    for name in CHAPTERS:
        shutil.copy(ROOT / "book" / name, home / "book" / name)
    settings = home / "settings"
    for plugin, values in {
        # every cell in the page, not only those scrolled into view
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        # no question about news, no update check (no network)
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
    )
    port, token = _free_port(), uuid.uuid4().hex
    log = (home / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={home}", "--ServerApp.port_retries=0",
         "--LabApp.news_url=", "--LabApp.extension_manager=readonly",
         "--LabApp.expose_app_in_browser=True"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home,
    )
    base = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited ({server.returncode}):\n{(home / 'jupyterlab.log').read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{base}api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start in {START_TIMEOUT_S} s")
                time.sleep(0.3)
        yield base, token, home
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


# The rendered text of each markdown cell (jupyterlab-myst renders into a .myst element),
# null while a cell is not rendered yet. Line breaks are lost, so exercise titles are
# read with a regular expression over the whole text.
RENDERED_JS = r"""
() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-MarkdownCell')]
  .map(c => {
    const out = c.querySelector('.myst') || c.querySelector('.jp-RenderedMarkdown');
    // textContent, not innerText: a closed solution dropdown's text counts too
    return c.classList.contains('jp-mod-rendered') && out && out.textContent.trim() ? out.textContent : null;
  })
"""


# Exercise titles (jupyterlab-myst: an <aside> per exercise; solutions are <details>).
EXERCISE_TITLES_JS = r"""
() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) aside.myst-exercise .myst-exercise-title')].map(e => e.textContent)
"""


@pytest.fixture(scope="module")
def lab_page(jupyterlab, offline_context):
    """JupyterLab loaded once in a browser page; chapters are opened in it as tabs."""
    base, token, _ = jupyterlab
    context, _ = offline_context(base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}lab?token={token}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands.hasCommand('docmanager:open')",
                           timeout=START_TIMEOUT_S * 1000)
    yield page
    page.close()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_values_and_citations_render_in_jupyterlab(chapter, jupyterlab, lab_page):
    _, _, home = jupyterlab
    notebook = json.loads((home / "book" / chapter).read_text(encoding="utf-8"))
    expected = expected_cells(notebook)
    page = lab_page
    page.evaluate("path => window.jupyterapp.commands.execute('docmanager:open', {path}).then(() => null)",
                  f"book/{chapter}")
    # Wait until every markdown cell is rendered and the text has settled (MyST renders
    # asynchronously after the cell is attached).
    deadline, previous, texts = time.monotonic() + 60, None, None
    while time.monotonic() < deadline:
        texts = page.evaluate(RENDERED_JS)
        complete = len(texts) == len(expected) and all(
            text is not None or not cell["source"].strip() for text, cell in zip(texts, expected))
        if complete and texts == previous:
            break
        previous = texts
        page.wait_for_timeout(500)
    else:
        pytest.fail(f"{chapter}: JupyterLab did not render the {len(expected)} markdown cells within 60 s "
                    f"({len(texts or [])} cells seen)")
    problems = []
    for index, (cell, text) in enumerate(zip(expected, texts)):
        text = text or ""
        where = f"markdown cell {index + 1} ({cell['source'][:50]!r}...)"
        for m in RAW_ROLE.finditer(text):
            problems.append(f"{where}: raw role shown: ...{text[max(0, m.start() - 30): m.end() + 40]}...")
        for key in cell["keys"]:
            if key in text:
                problems.append(f"{where}: key {key!r} shown instead of its value or citation")
        for expression in cell["missing"]:
            problems.append(f"{where}: {{eval}}`{expression}` has no stored value in the cell's metadata")
        flat = " ".join(text.split())
        absent = [(e, v, w) for e, v, w in cell["values"]
                  if not re.search(re.escape(w) + r"\s*" + re.escape(" ".join(v.split())), flat)]
        for expression, value, word in absent:
            shown = f"{word} {value}" if word else value
            problems.append(f"{where}: {{eval}}`{expression}` should show {shown!r}; not in the rendered text")
        if absent:
            problems.append(f"{where}: rendered text: {' '.join(text.split())[:300]!r}")
    titles = page.evaluate(EXERCISE_TITLES_JS)
    numbered = [" ".join(m.group(0).split()) for m in (re.match(r"Exercise\s*\d+", t.strip()) for t in titles) if m]
    if len(titles) != sum(cell["exercises"] for cell in expected):
        problems.append(f"{len(titles)} exercises shown, {sum(c['exercises'] for c in expected)} in the chapter")
    if numbered != [f"Exercise {i}" for i in range(1, len(numbered) + 1)]:
        problems.append(f"exercises shown as {numbered}, expected Exercise 1, 2, ... as in the HTML book")
    assert not problems, f"{chapter} in JupyterLab:\n  " + "\n  ".join(problems)
