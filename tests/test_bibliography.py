"""The bibliography and the book agree.

Every entry of ``references.bib`` is cited by at least one chapter (a notebook's markdown), every
key a chapter or page cites has an entry, and the references page annotates every entry (what the
course takes from it) above the generated bibliography. Keys are read from the MyST citation roles
``{cite}`key```, ``{cite:t}`a,b``` and ``{cite:p}`key``` (any ``{cite:...}`` variant), and from
citation links to the bibliography page, ``[He et al. (2015)](references.md#he2015delving)``, the
form :mod:`initcourse.course.bookvalues` writes into the chapters.
"""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
BIB = ROOT / "references.bib"
REFERENCES_PAGE = BOOK / "references.md"
CHAPTERS = sorted(BOOK.glob("*.ipynb"))
PAGES = sorted(BOOK.glob("*.md"))

_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]*)`")
_LINK = re.compile(r"\[[^\[\]]+\]\(references\.md#([^()\s]+)\)")
_ENTRY = re.compile(r"^\s*@(\w+)\s*\{\s*([^,\s]+)\s*,", re.M)


def cited_keys(text: str) -> set[str]:
    """The citation keys of every ``{cite...}`` role and every citation link in ``text``."""
    keys = {key.strip() for keys in _ROLE.findall(text) for key in keys.split(",") if key.strip()}
    return keys | set(_LINK.findall(text))


def bib_entries(text: str) -> list[str]:
    """The keys of the entries of a BibTeX file, in order (``@comment``/``@string``/``@preamble`` excluded)."""
    return [key for kind, key in _ENTRY.findall(text) if kind.lower() not in ("comment", "string", "preamble")]


def chapter_markdown(path: pathlib.Path) -> str:
    """The markdown cells of a notebook, joined."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def _keys() -> set[str]:
    return set(bib_entries(BIB.read_text(encoding="utf-8")))


def test_the_parsers_read_every_form():
    text = "{cite}`a` and {cite:t}`b,c`, {cite:p}`d, e` {cite:ps}`f`; not `g` nor {ref}`h`."
    assert cited_keys(text) == {"a", "b", "c", "d", "e", "f"}
    links = "[He et al. (2015)](references.md#he2015) and ([Saxe et al., 2014](references.md#saxe2013x)), [x](other.md#y)"
    assert cited_keys(links) == {"he2015", "saxe2013x"}
    bib = "@article{x1,\n  title={T}\n}\n@inproceedings{ y-2 ,\n}\n@comment{ignored,}\n"
    assert bib_entries(bib) == ["x1", "y-2"]


def test_the_bib_file_has_no_duplicate_keys():
    keys = bib_entries(BIB.read_text(encoding="utf-8"))
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    assert keys, "references.bib holds no entry"
    assert not duplicates, f"references.bib defines these keys more than once: {duplicates}"


def test_every_entry_is_cited_by_a_chapter():
    cited = set().union(*(cited_keys(chapter_markdown(nb)) for nb in CHAPTERS))
    uncited = sorted(_keys() - cited)
    assert not uncited, (
        f"references.bib entries cited by no chapter: {uncited}; cite each where a chapter uses it, "
        "or remove the entry"
    )


@pytest.mark.parametrize("path", CHAPTERS + PAGES, ids=lambda p: p.name)
def test_every_citation_has_an_entry(path):
    text = chapter_markdown(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")
    missing = sorted(cited_keys(text) - _keys())
    assert not missing, f"{path.name} cites keys that references.bib does not define: {missing}"


def test_the_references_page_annotates_every_entry():
    text = REFERENCES_PAGE.read_text(encoding="utf-8")
    assert re.search(r"^```\{bibliography\}", text, re.M), "references.md keeps the generated bibliography"
    annotations = text.split("```{bibliography}")[0]
    unannotated = sorted(_keys() - cited_keys(annotations))
    assert not unannotated, (
        f"references.md has no annotation for: {unannotated}; add a line saying what the course takes "
        "from each (chapter, figure or table)"
    )
