"""Store the numbers and citations of a chapter where both renderers find them.

A chapter quotes a computed value in its prose as an inline expression,
``{eval}`ch12_dead_max``` or, with a format spec, ``{eval}`f"{ch12_acc_he:.2f}"```,
where ``ch12_acc_he`` is a name the chapter's own code glued with
:func:`initcourse.course.notebook.glue`. The value has one source, the code cell that
computed it; this module copies it, formatted, into the ``user_expressions``
metadata of each markdown cell that quotes it, which is where JupyterLab's MyST
renderer (jupyterlab-myst) reads inline expressions without a kernel, and where the
book's Sphinx extension (``_ext/evalroles.py``) reads them for the HTML. In a
running kernel the same expression evaluates to the same text, because
:func:`~initcourse.course.notebook.glue` also binds the name in the notebook's namespace.

Citations are written as Markdown links whose text is the author-year citation and
whose target is the bibliography page with the BibTeX key as fragment::

    [He et al. (2015)](references.md#he2015delving)        (textual)
    ([He et al., 2015](references.md#he2015delving))       (parenthetical)

Both renderers show the link text; the book's Sphinx extension registers the key with
sphinxcontrib-bibtex (so the entry appears in the bibliography) and points the link
at the entry.

:func:`convert` rewrites a notebook: ``{glue:text}`` roles become ``{eval}`` roles,
``{cite:t}``/``{cite:p}``/``{cite}`` roles become such links, and every markdown
cell's ``user_expressions`` are recomputed from the values the notebook's code cells
glued (its stored outputs). It is idempotent; run it again after re-executing a
chapter. :func:`check` lists what is stale or wrong without writing anything.

Command line::

    python -m initcourse.course.bookvalues book/*.ipynb            # rewrite in place
    python -m initcourse.course.bookvalues --check book/*.ipynb    # exit 1 if anything is stale
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .notebook import stored_values

__all__ = [
    "Problem",
    "author_year",
    "bib_entries",
    "check",
    "citation_links",
    "convert",
    "convert_source",
    "page_labels",
    "eval_roles",
    "evaluate",
    "expression_for",
    "render_glue_text",
    "KERNEL_DISPLAY_NAME",
]

# What ipykernel's kernelspec calls itself; JupyterLab rewrites a notebook's kernelspec
# (and so marks it modified on opening) when the stored display name differs.
KERNEL_DISPLAY_NAME = "Python 3 (ipykernel)"

BIBLIOGRAPHY_PAGE = "references.md"

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`([^`]*)`")
_OTHER_GLUE_ROLE = re.compile(r"\{glue:(?!text\})[a-z]*\}`[^`]*`")
_EVAL_ROLE = re.compile(r"\{eval\}`([^`]*)`")
_CITE_ROLE = re.compile(r"\{cite(?::([a-z]+))?\}`([^`]*)`")
_BARE_EXPRESSION = re.compile(rf"^({_NAME})$")
_FORMAT_EXPRESSION = re.compile(rf'^f"\{{({_NAME}):([^{{}}"\\]*)\}}"$')
_REF_ROLE = re.compile(r"\{ref\}`([^`<]*?)(?:\s*<([^`>]+)>)?`")
_DOC_ROLE = re.compile(r"\{doc\}`([^`<]*?)(?:\s*<([^`>]+)>)?`")
_LABEL_LINK = re.compile(r"\[[^\[\]]+\]\(([A-Za-z0-9_.-]+\.(?:ipynb|md))#([^()\s]+)\)")
_CITATION_LINK = re.compile(r"\[([^\[\]]+)\]\(" + re.escape(BIBLIOGRAPHY_PAGE) + r"#([^()\s]+)\)")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a notebook's stored values or citations."""

    path: str
    cell: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}, cell {self.cell}: {self.message}"


# ----------------------------------------------------------------------------- values


def expression_for(name: str, fmt_spec: str = "") -> str:
    """The inline expression that shows glued value ``name`` formatted with ``fmt_spec``.

    ``expression_for("ch01_x")`` is ``'ch01_x'``; ``expression_for("ch01_x", ".3f")`` is
    ``'f"{ch01_x:.3f}"'``, valid Python that a kernel evaluates to the same text.
    """
    if not isinstance(name, str) or not re.fullmatch(_NAME, name):
        raise ValueError(f"name must be a Python identifier such as 'ch01_final_std', got {name!r}")
    if not isinstance(fmt_spec, str) or re.search(r'[{}"\\`]', fmt_spec):
        raise ValueError(f"fmt_spec must be a format spec such as '.3f' without braces, quotes or backticks, got {fmt_spec!r}")
    return f'f"{{{name}:{fmt_spec}}}"' if fmt_spec else name


def _parse_expression(expression: str) -> tuple[str, str | None]:
    """``(name, fmt_spec)`` of an expression written by :func:`expression_for`; spec None if bare."""
    bare = _BARE_EXPRESSION.match(expression)
    if bare:
        return bare.group(1), None
    formatted = _FORMAT_EXPRESSION.match(expression)
    if formatted:
        return formatted.group(1), formatted.group(2)
    raise ValueError(
        f"expression must be a glued name such as 'ch01_x' or a formatted one such as "
        f"'f\"{{ch01_x:.3f}}\"', got {expression!r}"
    )


def evaluate(expression: str, values: dict) -> str:
    """The ``text/plain`` a kernel returns for ``expression``, given the glued ``values``.

    Only the two forms of :func:`expression_for` are accepted, so nothing is executed.
    Raises ``KeyError`` naming the value when no cell glued it.
    """
    name, fmt_spec = _parse_expression(expression)
    if name not in values:
        raise KeyError(f"no code cell glued a value named {name!r}")
    value = values[name]
    return repr(value if fmt_spec is None else format(value, fmt_spec))


def _shown(text_plain: str) -> str:
    """What both renderers show for a ``text/plain`` result: the text, outer quotes removed."""
    match = re.fullmatch(r"""(["'])(.*)\1""", text_plain, re.S)
    return match.group(2) if match else text_plain


def render_glue_text(value, fmt_spec: str) -> str:
    """The text MyST-NB's ``{glue:text}`` role shows for ``value`` (its formatting rules)."""
    from myst_nb.core.variables import format_plain_text

    return format_plain_text(repr(value), fmt_spec if fmt_spec is not None else "s")


def eval_roles(markdown: str) -> list[str]:
    """The expressions of the ``{eval}`` roles in ``markdown``, first occurrences, in order."""
    return list(dict.fromkeys(_EVAL_ROLE.findall(markdown)))


def _user_expressions(markdown: str, values: dict) -> list[dict]:
    return [
        {"expression": e, "result": {"data": {"text/plain": evaluate(e, values)}, "metadata": {}, "status": "ok"}}
        for e in eval_roles(markdown)
    ]


# -------------------------------------------------------------------------- citations


def bib_entries(path) -> dict:
    """``{key: (authors, year)}`` of a BibTeX file; ``authors`` are last names (or a body's name).

    Two entries with the same authors and year get years ``2024a`` and ``2024b`` (by title).
    """
    from pybtex.database import parse_file

    entries, titles = {}, {}
    for key, entry in parse_file(str(path), bib_format="bibtex").entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_plain(" ".join(p.prelast_names + p.last_names)) for p in people]
        others = any(str(p) == "others" for p in people)
        names = [n for n, p in zip(names, people) if str(p) != "others"]
        if others:
            names.append("others")
        entries[key] = (tuple(names), _plain(entry.fields.get("year", "n.d.")))
        titles[key] = entry.fields.get("title", "")
    # Entries with the same authors and year are told apart as 2024a, 2024b, ... in
    # the order of their titles, as the bibliography labels them.
    groups = {}
    for key, names_year in entries.items():
        groups.setdefault(names_year, []).append(key)
    for (names, year), keys in groups.items():
        if len(keys) > 1:
            for letter, key in zip("abcdefghijklmnopqrstuvwxyz", sorted(keys, key=lambda k: titles[k])):
                entries[key] = (names, year + letter)
    return entries


def _plain(text: str) -> str:
    return re.sub(r"[{}]", "", text).replace("\\&", "&").strip()


def author_year(authors, year) -> tuple[str, str]:
    """The names part and the year of an author-year citation: ``("He et al.", "2015")``."""
    authors = list(authors)
    if not authors:
        raise ValueError("authors must name at least one author")
    if len(authors) >= 3 or authors[-1] == "others":
        names = f"{authors[0]} et al."
    elif len(authors) == 2:
        names = f"{authors[0]} and {authors[1]}"
    else:
        names = authors[0]
    return names, str(year)


def citation_links(keys, entries: dict, *, textual: bool) -> str:
    """Markdown for citing ``keys``: textual ``A (2010)`` or parenthetical ``(A, 2010)``.

    Each key is a link to its entry on the bibliography page.
    """
    keys = list(keys)
    missing = [k for k in keys if k not in entries]
    if missing:
        raise KeyError(f"citation key(s) not in the bibliography: {', '.join(missing)}")
    parts = []
    for key in keys:
        names, year = author_year(*entries[key])
        text = f"{names} ({year})" if textual else f"{names}, {year}"
        parts.append(f"[{text}]({BIBLIOGRAPHY_PAGE}#{key})")
    return ", ".join(parts) if textual else "(" + "; ".join(parts) + ")"


def _expected_link_texts(key: str, entries: dict) -> set[str]:
    names, year = author_year(*entries[key])
    return {f"{names} ({year})", f"{names}, {year}"}


# ------------------------------------------------------------------------- references


def _plain_title(text: str) -> str:
    return re.sub(r"[`*]", "", text).strip()


def page_labels(path) -> tuple[str, dict]:
    """The title of a page (notebook or Markdown) and ``{label: text}`` of its targets.

    Targets are ``(label)=`` lines before a heading (text: the heading) and exercises'
    ``:label:`` options (text: ``Exercise N``, numbered in page order, as both renderers
    number them).
    """
    path = Path(path)
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        text = "\n\n".join(_source(c) for c in cells if c.get("cell_type") == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    title = re.search(r"^#\s+(.+)$", text, re.M)
    labels = {}
    for match in re.finditer(r"^\(([^()\s]+)\)=\s*\n+#+\s+(.+)$", text, re.M):
        labels[match.group(1)] = _plain_title(match.group(2))
    for number, match in enumerate(re.finditer(r"```\{exercise\}[^\n]*\n(?::[a-z]+:[^\n]*\n)*", text), start=1):
        label = re.search(r"^:label:\s*(\S+)", match.group(0), re.M)
        if label:
            labels[label.group(1)] = f"Exercise {number}"
    return (_plain_title(title.group(1)) if title else path.stem), labels


def _book_pages(folder: Path) -> dict:
    """``{page stem: (file name, title, labels)}`` of the pages beside a chapter."""
    pages = {}
    for page in sorted([*folder.glob("*.ipynb"), *folder.glob("*.md")]):
        title, labels = page_labels(page)
        pages[page.stem] = (page.name, title, labels)
    return pages


def _convert_references(markdown: str, here: str, pages: dict) -> str:
    """``{doc}`` and ``{ref}`` roles as Markdown links, ``[text](page.ipynb#label)``.

    The text is written out (the page's title, the heading's text, ``Exercise N``):
    JupyterLab resolves ``{ref}`` only to labels of cells it has already rendered (it
    renders long notebooks lazily) and never to another notebook, and shows ``{doc}``
    as the file name; a link to the page renders in both, and the book's Sphinx
    extension points it at the label.
    """

    def owner(label):
        found = [stem for stem, (_, _, labels) in pages.items() if label in labels]
        if not found:
            raise KeyError(f"{{ref}}`{label}`: no page of the book defines the label {label!r}")
        return here if here in found else found[0]

    def doc(match):
        text, target = (match.group(1), match.group(2)) if match.group(2) else (None, match.group(1))
        stem = target.strip().removesuffix(".ipynb").removesuffix(".md").split("/")[-1]
        if stem not in pages:
            raise KeyError(f"{match.group(0)}: no page {stem!r} beside this chapter")
        name, title, _ = pages[stem]
        return f"[{(text or title).strip()}]({name})"

    def ref(match):
        text, label = (match.group(1), match.group(2)) if match.group(2) else (None, match.group(1).strip())
        stem = owner(label)
        name, _, labels = pages[stem]
        return f"[{(text or labels[label]).strip()}]({name}#{label})"

    markdown = _DOC_ROLE.sub(doc, markdown)
    return _REF_ROLE.sub(ref, markdown)


# ------------------------------------------------------------------------- conversion


def convert_source(markdown: str, values: dict, entries: dict | None = None) -> str:
    """``markdown`` with glue roles as ``{eval}`` roles and cite roles as citation links.

    Raises ``KeyError`` for a glued name no cell computed or an unknown citation key,
    and ``ValueError`` where the ``{eval}`` form would not show the same text as the
    ``{glue:text}`` role did.
    """

    def glue_to_eval(match):
        content = match.group(1)
        name, _, fmt_spec = content.partition(":")
        if "::" in content:
            raise ValueError(f"{match.group(0)}: values glued in another notebook are not supported")
        if name not in values:
            raise KeyError(f"{match.group(0)}: no code cell glued a value named {name!r}")
        expression = expression_for(name, fmt_spec)
        before = render_glue_text(values[name], fmt_spec or None)
        try:
            after = _shown(evaluate(expression, values))
        except (TypeError, ValueError) as exc:
            after = f"an error ({exc})"
        if before != after:
            raise ValueError(
                f"{match.group(0)} shows {before!r} but {{eval}}`{expression}` would show {after!r}: "
                "change the format spec so that it suits the value's type"
            )
        return f"{{eval}}`{expression}`"

    def cite_to_links(match):
        kind, content = match.group(1) or "p", match.group(2)
        if kind not in ("p", "t", "ps", "ts"):
            raise ValueError(f"{match.group(0)}: only {{cite}}, {{cite:p}} and {{cite:t}} can be converted")
        if entries is None:
            raise ValueError(f"{match.group(0)}: a bibliography is needed to convert citations")
        keys = [k.strip() for k in content.split(",") if k.strip()]
        return citation_links(keys, entries, textual=kind.startswith("t"))

    other = _OTHER_GLUE_ROLE.search(markdown)
    if other:
        raise ValueError(f"{other.group(0)}: only {{glue:text}} roles can be converted")
    markdown = _GLUE_ROLE.sub(glue_to_eval, markdown)
    return _CITE_ROLE.sub(cite_to_links, markdown)


def _bibliography_for(path: Path) -> Path:
    for folder in [path.parent, *path.parents]:
        candidate = folder / "references.bib"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no references.bib beside {str(path)!r} or in a folder above it")


def _load(path) -> tuple[Path, dict]:
    path = Path(path)
    if path.suffix != ".ipynb":
        raise ValueError(f"path must name a .ipynb notebook, got {str(path)!r}")
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} does not exist")
    return path, json.loads(path.read_text(encoding="utf-8"))


def _dumps(notebook: dict) -> str:
    # nbformat's own layout, so that JupyterLab saves an unedited notebook byte for byte.
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": ")) + "\n"


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _converted(path: Path, notebook: dict) -> dict:
    values = stored_values(path)
    entries = bib_entries(_bibliography_for(path))
    pages = _book_pages(path.parent)
    pages.setdefault(path.stem, (path.name, *page_labels(path)))
    notebook = json.loads(json.dumps(notebook))
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        try:
            text = _convert_references(convert_source(_source(cell), values, entries), path.stem, pages)
            expressions = _user_expressions(text, values)
        except (KeyError, ValueError) as exc:
            message = exc.args[0] if exc.args else str(exc)
            raise type(exc)(f"{path.name}, cell {index}: {message}") from None
        cell["source"] = text.splitlines(keepends=True)
        if expressions:
            cell["metadata"]["user_expressions"] = expressions
        else:
            cell["metadata"].pop("user_expressions", None)
    kernelspec = notebook.get("metadata", {}).get("kernelspec")
    if kernelspec and kernelspec.get("name") == "python3":
        kernelspec["display_name"] = KERNEL_DISPLAY_NAME
    return notebook


def convert(path, *, write: bool = True) -> bool:
    """Rewrite the notebook at ``path`` (see the module docstring); True if it changed.

    Raises ``KeyError``/``ValueError`` naming the cell and the role that cannot be
    converted (a name no code cell glued, an unknown citation key, an unsupported role);
    the file is then left as it was.
    """
    path, notebook = _load(path)
    before = path.read_text(encoding="utf-8")
    after = _dumps(_converted(path, notebook))
    if after != before and write:
        path.write_text(after, encoding="utf-8")
    return after != before


def check(path) -> list[Problem]:
    """What is stale or wrong in the notebook at ``path``; an empty list when nothing is.

    Reports ``{glue:text}`` and ``{cite}`` roles not yet converted, ``{eval}`` roles naming
    a value no code cell glued, stored ``user_expressions`` that differ from what the
    code glued, citation links to keys missing from ``references.bib`` or whose text is
    not the entry's author and year, and a file JupyterLab would rewrite on saving.
    """
    path, notebook = _load(path)
    values = stored_values(path)
    entries = bib_entries(_bibliography_for(path))
    pages = _book_pages(path.parent)
    pages.setdefault(path.stem, (path.name, *page_labels(path)))
    problems = []

    def report(index, message):
        problems.append(Problem(path.name, index, message))

    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = _source(cell)
        for role in _GLUE_ROLE.findall(text):
            report(index, f"{{glue:text}}`{role}` not converted (run python -m initcourse.course.bookvalues)")
        for kind, keys in _CITE_ROLE.findall(text):
            report(index, f"{{cite{':' + kind if kind else ''}}}`{keys}` not converted")
        for link_text, key in _CITATION_LINK.findall(text):
            if key not in entries:
                report(index, f"citation of {key!r}, which is not in references.bib")
            elif link_text not in _expected_link_texts(key, entries):
                report(index, f"citation text {link_text!r} is not {key!r}'s author and year "
                              f"({' or '.join(sorted(_expected_link_texts(key, entries)))})")
        for page, label in _LABEL_LINK.findall(text):
            stem = Path(page).stem
            if stem not in pages:
                report(index, f"link to {page!r}, which is not a page beside this chapter")
            elif label not in pages[stem][2] and page != BIBLIOGRAPHY_PAGE:
                report(index, f"link to {page}#{label}: {page} defines no label {label!r}")
        for text_shown, label in _REF_ROLE.findall(text):
            report(index, f"{{ref}}`{(label or text_shown).strip()}` not converted (JupyterLab cannot resolve it "
                          "before the target cell is rendered, nor in another notebook)")
        for role in _DOC_ROLE.findall(text):
            report(index, f"{{doc}}`{role[1] or role[0]}` not converted (JupyterLab shows the file name)")
        stored = {e.get("expression"): e for e in cell["metadata"].get("user_expressions", [])}
        for expression in eval_roles(text):
            try:
                wanted = evaluate(expression, values)
            except (KeyError, ValueError) as exc:
                report(index, f"{{eval}}`{expression}`: {exc.args[0]}")
                continue
            result = stored.get(expression, {}).get("result", {})
            if expression not in stored:
                report(index, f"{{eval}}`{expression}` has no stored value")
            elif result.get("status") != "ok" or result.get("data", {}).get("text/plain") != wanted:
                shown = result.get("data", {}).get("text/plain", result.get("ename"))
                report(index, f"{{eval}}`{expression}` stores {shown!r}, the code glued {wanted!r}")
        extra = set(stored) - set(eval_roles(text))
        if extra:
            report(index, f"stored user_expressions no role uses: {sorted(extra)}")
    kernelspec = notebook.get("metadata", {}).get("kernelspec", {})
    if kernelspec.get("name") == "python3" and kernelspec.get("display_name") != KERNEL_DISPLAY_NAME:
        report(-1, f"kernelspec display_name {kernelspec.get('display_name')!r} is not {KERNEL_DISPLAY_NAME!r} "
                   "(JupyterLab rewrites it on opening)")
    if _dumps(notebook) != path.read_text(encoding="utf-8"):
        report(-1, "not in nbformat's layout (JupyterLab would rewrite the file on saving)")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m initcourse.course.bookvalues",
        description="Store each chapter's glued values and citations where JupyterLab and the HTML book find them.",
    )
    parser.add_argument("notebooks", nargs="+", type=Path, help="chapter notebooks (.ipynb)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is stale")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        try:
            if args.check:
                problems = check(path)
                for problem in problems:
                    print(problem)
                status |= bool(problems)
            else:
                print(f"{path}: {'updated' if convert(path) else 'unchanged'}")
        except (KeyError, ValueError, FileNotFoundError) as exc:
            print(f"{path}: {exc.args[0] if exc.args else exc}", file=sys.stderr)
            status = 2 if not args.check else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
