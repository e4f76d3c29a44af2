"""Unit tests of the book's Sphinx extension (_ext/initcourse_book.py), without a build.

The built pages are checked end to end by tests/browser (make browser); these tests pin
the pieces: author-year labels and order, citation years, exercise numbers, thebe assets.
"""

import pathlib
import sys
from types import SimpleNamespace

import pytest
from pybtex.database import Entry, Person
from sphinx.builders.html._assets import _CascadingStyleSheet, _JavaScript

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import initcourse_book as ext  # noqa: E402


def entry(key, authors, year, title="A title", **fields):
    e = Entry("article", fields={"title": title, "year": str(year), "journal": "J", **fields},
              persons={"author": [Person(a) for a in authors]})
    e.key = key
    return e


ENTRIES = [
    entry("kr", ["Kr{\\\"a}henb{\\\"u}hl, Philipp", "Doersch, Carl"], 2016),
    entry("kz", ["Krizhevsky, Alex"], 2009),
    entry("tpa2", ["{The PyTorch Authors}"], 2024, title="torch/nn/modules/linear.py"),
    entry("gb", ["Glorot, Xavier", "Bengio, Yoshua"], 2010),
    entry("he", ["He, Kaiming", "Zhang, Xiangyu", "Ren, Shaoqing", "Sun, Jian"], 2015),
    entry("tpa1", ["{The PyTorch Authors}"], 2024, title="torch.nn.init"),
    entry("pz", ["Paszke, Adam", "others"], 2019),
]


def formatted():
    style = ext.AuthorYearStyle()
    return {f.key: f.label for f in style.format_entries(ENTRIES)}, [e.key for e in style.sort(ENTRIES)]


def test_labels_are_author_year_as_the_citations_write_them():
    labels, _ = formatted()
    assert labels["gb"] == "Glorot and Bengio, 2010"
    assert labels["he"] == "He et al., 2015"
    assert labels["kz"] == "Krizhevsky, 2009"
    assert labels["pz"] == "Paszke et al., 2019"  # BibTeX's "and others"
    assert labels["kr"] == "Krähenbühl and Doersch, 2016"


def test_same_author_and_year_get_letters_in_bibliography_order():
    labels, order = formatted()
    assert order.index("tpa1") < order.index("tpa2")  # "torch.nn.init" before "torch/nn/..."
    assert (labels["tpa1"], labels["tpa2"]) == ("The PyTorch Authors, 2024a", "The PyTorch Authors, 2024b")


def test_order_is_by_author_letters_then_year():
    _, order = formatted()
    # accents and braces do not move a name: Krähenbühl before Krizhevsky, the PyTorch
    # Authors under T (not after every other name)
    assert order == ["gb", "he", "kr", "kz", "pz", "tpa1", "tpa2"]


def test_font_commands_do_not_reach_the_page():
    e = entry("cmd", ["Doe, Jane"], 2020, title=r"About \texttt{Linear.reset\_parameters}")
    text = ext.AuthorYearStyle().format_entry("Doe, 2020", e).text.render_as("text")
    assert "texttt" not in text and "Linear.reset_parameters" in text


def test_citation_year_is_the_labels_year():
    data = {"formatted_entry": SimpleNamespace(label="The PyTorch Authors, 2024b"), "entry": ENTRIES[2]}
    assert ext.label_year.format_data(data).render_as("text") == "2024b"
    data = {"formatted_entry": SimpleNamespace(label="[1]"), "entry": ENTRIES[2]}
    assert ext.label_year.format_data(data).render_as("text") == "2024"


def test_reference_style_keeps_every_citation_role():
    style = ext.AuthorYearReferences()
    assert {"p", "t", "ps", "ts", "ct", "author", "year", "label"} <= set(style.role_names())
    assert isinstance(style.role_style["p"], ext._Parenthetical)
    assert isinstance(style.role_style["t"], ext._Textual)


def test_exercises_are_numbered_per_page_in_page_order():
    env = SimpleNamespace(toc_fignumbers={
        "book/01": {"exercise": {"a": (2,), "b": (1,)}, "figure": {"f": (7,)}},
        "book/02": {"exercise": {"c": (3,), "d": (4,), "e": (5,)}},
        "book/intro": {},
    })
    assert ext.number_exercises_per_page(None, env) == []
    assert env.toc_fignumbers["book/01"] == {"exercise": {"b": (1,), "a": (2,)}, "figure": {"f": (7,)}}
    assert env.toc_fignumbers["book/02"]["exercise"] == {"c": (1,), "d": (2,), "e": (3,)}


THEBE_BODY = 'const THEBE_JS_URL = "https://unpkg.com/thebe@0.8.2/lib/index.js"'


def page_context():
    return {
        "script_files": [
            _JavaScript("_static/doctools.js"),
            _JavaScript(None, body=THEBE_BODY),
            _JavaScript("_static/sphinx-thebe.js", **{"async": "async"}),
            _JavaScript("", body=THEBE_BODY),  # the same snippet, registered again
            _JavaScript("", body="var x = 1"),
            _JavaScript("", body="var x = 1"),
        ],
        "css_files": [_CascadingStyleSheet("_static/sphinx-thebe.css"), _CascadingStyleSheet("_static/x.css")],
    }


def app_with(launch_thebe=False, always_load=False):
    return SimpleNamespace(config=SimpleNamespace(
        html_theme_options={"launch_buttons": {"thebe": launch_thebe}},
        thebe_config={"always_load": always_load}))


def test_without_thebe_its_assets_are_left_out_and_duplicates_removed():
    context = page_context()
    ext.clean_page_assets(app_with(), "p", "page.html", context, None)
    assert [(js.filename, js.attributes.get("body")) for js in context["script_files"]] == [
        ("_static/doctools.js", None), ("", "var x = 1")]
    assert [css.filename for css in context["css_files"]] == ["_static/x.css"]


@pytest.mark.parametrize("launch_thebe, always_load", [(True, False), (False, True)])
def test_with_thebe_its_snippet_appears_once(launch_thebe, always_load):
    context = page_context()
    ext.clean_page_assets(app_with(launch_thebe, always_load), "p", "page.html", context, None)
    bodies = [js.attributes.get("body") for js in context["script_files"]]
    assert bodies.count(THEBE_BODY) == 1
    assert "_static/sphinx-thebe.js" in [js.filename for js in context["script_files"]]
    assert len(context["css_files"]) == 2
