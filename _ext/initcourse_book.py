"""Sphinx extension for the course's HTML book (loaded from ``_config.yml``).

Three adjustments to what Jupyter Book 1 produces:

* **Author-year bibliography.** The chapters cite author-year (``Glorot and Bengio,
  2010``), so the References page uses the same text as its labels and is sorted
  by author, then year, then title. Two entries with the same author and year get
  ``2024a``/``2024b``, in the labels and in the citations alike. Styles:
  ``bibtex_default_style: initcourse_author_year`` (pybtex formatting style) and
  ``bibtex_reference_style: initcourse_author_year`` (citation text).
* **Exercises numbered per chapter.** Sphinx numbers them across the whole book;
  JupyterLab (jupyterlab-myst) numbers them per notebook. Here they are renumbered
  per page, 1, 2, 3..., so a chapter's "Exercise 2" is the same in both.
* **No thebe unless it is enabled.** sphinx-thebe adds its configuration snippet
  twice (the same inline body, once registered with filename ``None`` and once
  with ``''``), which is a console error on every page, and adds its script and
  stylesheet even when no page can launch it. Duplicate scripts are removed; the
  thebe assets are left out unless ``launch_buttons: thebe`` or
  ``thebe_config.always_load`` is set.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, List

import latexcodec  # noqa: F401  (registers the "ulatex" codec; a dependency of pybtex)
import pybtex.plugin
from pybtex.database import Entry
from docutils import nodes
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle as AuthorYearTitleSorting
from pybtex.style.template import field as field_, node, tag
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import BaseReferenceStyle, PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle,
    BasicAuthorYearTextualReferenceStyle,
)
from sphinxcontrib.bibtex.style.template import join, join2, post_text, pre_text, reference
from sphinxcontrib.bibtex.style.template import year as entry_year

STYLE_NAME = "initcourse_author_year"
_AUTHOR_YEAR_SEP = ", "


# --- Bibliography: author-year labels, author-year-title order ----------------------


@node
def _author_or_editor_or_title(children, data, sep, sep2, last_sep, other):
    """sphinxcontrib-bibtex's template of the same name, except that a list ending
    in BibTeX's ``and others`` is cited as ``First et al.``, not ``First and others``."""
    assert not children
    entry, person = data["entry"], data["style"].person
    for role in ("author", "editor"):
        persons = entry.persons.get(role)
        if persons:
            names = [person.style_plugin.format(p, person.abbreviate) for p in persons]
            if len(persons) > 1 and str(persons[-1]).strip().lower() == "others":
                return Text(names[0].format_data(data), other if other is not None else " et al.")
            return join(sep=sep, sep2=sep2, last_sep=last_sep, other=other)[names].format_data(data)
    return tag("em")[field_("title")].format_data(data)


@dataclass
class Persons(PersonStyle):
    """Person names as sphinxcontrib-bibtex writes them, ``and others`` as ``et al.``"""

    def author_or_editor_or_title(self, full: bool):
        return _author_or_editor_or_title(
            sep=self.sep, sep2=self.sep2, last_sep=self.last_sep,
            other=None if full else self.other,
        )


@dataclass
class _PersonsOnly:
    """The part of a referencing style that the name templates read."""

    person: PersonStyle = field(default_factory=Persons)


def _author_text(entry) -> str:
    """The author part of a citation, exactly as the citation roles write it."""
    style = _PersonsOnly()
    template = style.person.author_or_editor_or_title(full=False)
    return template.format_data({"entry": entry, "style": style}).render_as("text")


def _year_text(entry) -> str:
    return entry_year.format_data({"entry": entry}).render_as("text")


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels ``Author, Year`` (``Author et al., Year`` from three authors on);
    entries that would share a label get ``a``, ``b``, ... after the year, in
    bibliography order."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        plain = [f"{_author_text(e)}{_AUTHOR_YEAR_SEP}{_year_text(e)}" for e in entries]
        counts = {label: plain.count(label) for label in plain}
        seen: dict = {}
        for label in plain:
            if counts[label] == 1:
                yield label
            else:
                seen[label] = seen.get(label, 0) + 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]


def _sort_text(latex: str) -> str:
    """``Kr{\\"a}henb{\\"u}hl`` -> ``krahenbuhl``: the letters a reader sorts by."""
    try:
        text = codecs.decode(latex, "ulatex")
    except (ValueError, LookupError):
        text = latex
    text = unicodedata.normalize("NFKD", text.replace("{", "").replace("}", ""))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


class AuthorYearSorting(AuthorYearTitleSorting):
    """pybtex's ``author_year_title`` order, with names read by their letters: a braced
    corporate author (``{The PyTorch Authors}``) under T, not after every other name, and
    ``Krähenbühl`` (``Kr{\\"a}henb{\\"u}hl``) as ``Krahenbuhl``."""

    def person_key(self, person):
        return _sort_text(super().person_key(person))


# Font commands that pybtex's plain style would print as they are (``\texttt Linear...``):
# their argument is kept, the command dropped.
_FONT_COMMAND = re.compile(r"\\(?:texttt|textrm|textsf|textit|textbf|textsc|emph)\s*(?=\{)")


class AuthorYearStyle(PlainStyle):
    """pybtex's ``plain`` entry format, with author-year labels and sorting."""

    default_label_style = AuthorYearLabelStyle
    default_sorting_style = AuthorYearSorting

    def format_entry(self, label, entry, bib_data=None):
        if any(_FONT_COMMAND.search(value) for value in entry.fields.values()):
            fields = {name: _FONT_COMMAND.sub("", value) for name, value in entry.fields.items()}
            plain_entry = Entry(entry.type, fields=fields, persons=entry.persons)
            plain_entry.key = entry.key
            entry = plain_entry
        return super().format_entry(label, entry, bib_data=bib_data)


@node
def label_year(children, data) -> Text:
    """The year as the bibliography labels it (``2024a`` where two entries share
    author and year); the entry's year if the label has another form."""
    assert not children
    label = data["formatted_entry"].label
    if _AUTHOR_YEAR_SEP in label:
        return Text(label.rsplit(_AUTHOR_YEAR_SEP, 1)[1])
    return entry_year.format_data(data)


@dataclass
class _Parenthetical(BasicAuthorYearParentheticalReferenceStyle):
    def inner(self, role_name: str):
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text,
            reference[
                join(sep=self.author_year_sep)[
                    self.person.author_or_editor_or_title(full="s" in role_name),
                    label_year,
                ]
            ],
            post_text,
        ]


@dataclass
class _Textual(BasicAuthorYearTextualReferenceStyle):
    def inner(self, role_name: str):
        return join(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            join[
                self.bracket.left,
                join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
                    pre_text,
                    reference[label_year],
                    post_text,
                ],
                self.bracket.right,
            ],
        ]


@dataclass
class AuthorYearReferences(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's ``author_year`` citations, with the year of the label."""

    person: PersonStyle = field(default_factory=Persons)

    def __post_init__(self):
        super().__post_init__()
        replace = {
            BasicAuthorYearParentheticalReferenceStyle: _Parenthetical(
                bracket=self.bracket_parenthetical, person=self.person,
                author_year_sep=self.author_year_sep,
                pre_text_sep=self.pre_text_sep, post_text_sep=self.post_text_sep,
            ),
            BasicAuthorYearTextualReferenceStyle: _Textual(
                bracket=self.bracket_textual, person=self.person,
                text_reference_sep=self.text_reference_sep,
                pre_text_sep=self.pre_text_sep, post_text_sep=self.post_text_sep,
            ),
        }
        styles: List[BaseReferenceStyle] = [replace.get(type(s), s) for s in self.styles]
        self.styles[:] = styles
        # GroupReferenceStyle maps role names to styles in __post_init__: map again.
        self.role_style.clear()
        for style in self.styles:
            self.role_style.update({name: style for name in style.role_names()})


# --- Exercises: numbered per page ---------------------------------------------------


def number_exercises_per_page(app, env) -> Iterable[str]:
    """Renumber exercises 1, 2, ... on each page, in page order (runs after
    Sphinx has numbered every enumerable node across the book)."""
    for numbers in env.toc_fignumbers.values():
        exercises = numbers.get("exercise")
        if exercises:
            ordered = sorted(exercises, key=lambda ident: exercises[ident])
            numbers["exercise"] = {ident: (i,) for i, ident in enumerate(ordered, start=1)}
    return []


# --- Thebe: one configuration snippet, and none at all unless enabled ---------------


def _thebe_enabled(config) -> bool:
    launch = (config.html_theme_options or {}).get("launch_buttons", {}) or {}
    thebe = config.thebe_config if isinstance(config.thebe_config, dict) else {}
    return bool(launch.get("thebe")) or str(thebe.get("always_load", "")).lower() == "true"


def _is_thebe_asset(asset) -> bool:
    name = asset.filename or ""
    body = asset.attributes.get("body", "")
    return "sphinx-thebe" in name or "THEBE_JS_URL" in body


def clean_page_assets(app, pagename, templatename, context, doctree):
    enabled = _thebe_enabled(app.config)
    scripts, seen = [], set()
    for js in context.get("script_files", []):
        key = (js.filename or "", tuple(sorted(js.attributes.items())))
        if key in seen or (not enabled and _is_thebe_asset(js)):
            continue
        seen.add(key)
        scripts.append(js)
    context["script_files"] = scripts
    if not enabled:
        context["css_files"] = [
            css for css in context.get("css_files", []) if "sphinx-thebe" not in (css.filename or "")
        ]


_THEBE_RAW = re.compile(r"text/x-thebe-config|^\s*<script>kernelName = ")


def drop_thebe_page_config(app, doctree, docname):
    """sphinx-thebe appends a kernel configuration to every page; without thebe
    nothing reads it."""
    if _thebe_enabled(app.config):
        return
    for raw in list(doctree.findall(nodes.raw)):
        if raw.get("format") == "html" and _THEBE_RAW.search(raw.astext()):
            raw.parent.remove(raw)


def setup(app):
    pybtex.plugin.register_plugin("pybtex.style.labels", STYLE_NAME, AuthorYearLabelStyle)
    pybtex.plugin.register_plugin("pybtex.style.formatting", STYLE_NAME, AuthorYearStyle)
    register_plugin("sphinxcontrib.bibtex.style.referencing", STYLE_NAME, AuthorYearReferences)
    app.connect("env-get-updated", number_exercises_per_page, priority=900)
    app.connect("html-page-context", clean_page_assets, priority=900)
    app.connect("doctree-resolved", drop_thebe_page_config, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
