"""Checks of the book's sources: table of contents, committed notebook state, hygiene."""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(p for p in BOOK.glob("*.ipynb"))


def _toc_files():
    return re.findall(r"(?:root|file):\s*(\S+)", (ROOT / "_toc.yml").read_text())


def test_toc_lists_every_page_and_only_existing_ones():
    listed = set(_toc_files())
    pages = {str(p.relative_to(ROOT).with_suffix("")) for p in BOOK.glob("*") if p.suffix in (".ipynb", ".md")}
    assert listed == pages


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_executed_in_order_without_errors(nb):
    data = json.loads(nb.read_text())
    code = [c for c in data["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert None not in counts, "every code cell must be committed executed"
    assert counts == list(range(1, len(counts) + 1)), "run the notebook top to bottom in a fresh kernel"
    for c in code:
        for out in c["outputs"]:
            assert out["output_type"] != "error", f"stored error output: {out.get('ename')}"
            assert out.get("name") != "stderr", "stored stderr output (silence it or handle the warning)"
    assert "initcourse" in "".join("".join(c["source"]) for c in code)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_the_chapter_template(nb):
    text = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown")
    assert re.search(r"^#+ .*learning objectives", text, re.I | re.M), "learning objectives at the top"
    assert re.search(r"^#+ .*summary", text, re.I | re.M), "a summary section"
    assert len(re.findall(r"```\{exercise\}", text)) >= 2, "at least two reflection exercises"
    assert len(re.findall(r"```\{solution\}", text)) >= 2, "solutions the reader can reveal"


def test_no_machine_paths_in_committed_sources():
    pattern = re.compile(r"(/work/|/home/[a-z]|/root/|/tmp/|C:\\\\Users)")
    for path in [*BOOK.rglob("*.ipynb"), *BOOK.rglob("*.md"), *(ROOT / "initcourse").rglob("*.py")]:
        assert not pattern.search(path.read_text()), f"machine path in {path.relative_to(ROOT)}"


# Output compared exactly by nbval must not depend on the CPU: seeded NumPy only.
# Anything TensorFlow computes (training, a Keras forward pass) rounds differently on
# another CPU; such cells are checked by their claims (initcourse.course.claims) instead.
_CPU_DEPENDENT = re.compile(
    r"\b(keras\.|quiet_tensorflow|tf\.|tensorflow|models\.|experiments\.|run_grid|inspection\.|layer_stats\.|lsuv\b|"
    r"\.fit\(|\.predict\(|\.evaluate\(|data\.load_)"
)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_exactly_compared_cells_do_not_run_tensorflow(nb):
    for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
        source = "".join(cell["source"])
        assert "NBVAL_" not in source.upper().replace("NBVAL-", ""), (
            f"cell {i}: use the cell tag nbval-check-output, not a comment readers can see"
        )
        if "nbval-check-output" in cell.get("metadata", {}).get("tags", []):
            found = _CPU_DEPENDENT.search(source)
            assert not found, (
                f"cell {i} is compared exactly but uses {found.group(0)!r}: output computed by TensorFlow "
                "differs between CPUs; remove the tag and check the cell's claims with initcourse.course.claims"
            )


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_chapters_check_their_claims(nb):
    code = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code")
    assert re.search(r"\bclaim(_between|_separated|_close)?\(", code), "each chapter asserts the claims of its prose"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_saved_as_jupyterlab_saves_it(nb):
    # JupyterLab writes notebooks with nbformat; a committed file in any other layout
    # (or an older nbformat minor version, or cells without ids) is rewritten on the
    # first save, so an unedited chapter would show up as changed.
    import nbformat

    text = nb.read_text(encoding="utf-8")
    data = json.loads(text)
    assert (data["nbformat"], data["nbformat_minor"]) == (4, 5), "nbformat 4.5 (cell ids)"
    assert all("id" in cell for cell in data["cells"]), "every cell has an id"
    assert nbformat.writes(nbformat.reads(text, as_version=4)) + "\n" == text, (
        "not in nbformat's layout: run python -m initcourse.course.bookvalues on it"
    )


# A notebook is untrusted in JupyterLab until its reader executes it (or runs
# `jupyter trust book/*.ipynb`); until then JupyterLab runs no script of its outputs and
# strips <script>/<style> from their HTML. Every stored output must therefore show
# something without trust: a static table, image or SVG beside any script (an
# interactive figure then shows its static part, and comes alive once trusted).
_SCRIPT_ONLY = ("application/javascript", "text/javascript")


def _static_part(html: str) -> str:
    return re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S | re.I)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_show_something_without_trust(nb):
    for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            static = [m for m in data if m.startswith("image/") or m in ("text/plain", "text/markdown")]
            html = "".join(data.get("text/html", ""))
            if any(m in data for m in _SCRIPT_ONLY):
                assert "text/html" in data or static, f"cell {i}: a script output with nothing static beside it"
            if "<script" in html.lower():
                assert re.search(r"<(table|img|svg)\b", _static_part(html), re.I), (
                    f"cell {i}: HTML output that is only a script: an untrusted notebook shows nothing; "
                    "add a static table or image beside the script"
                )
