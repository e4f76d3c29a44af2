"""Every page of the built HTML book, opened in headless Chromium with no network.

A page fails on: a request outside the local server (fonts, scripts from a CDN), a failed
request or an HTTP error, a console error or an uncaught exception, maths MathJax did not
typeset (or typeset as an error), raw TeX or MyST markup left in the text (``\\(``, ``$$``,
``\\frac``, ``{glue``, ``{cite``, ``{eval``, a ``:::`` fence), a missing or broken image, a
link to a page or an anchor that does not exist, a solution that does not open when
clicked, exercises not numbered 1, 2, ... within the chapter, or a display equation, table
or output wider than the text column that is cut instead of scrolling (at a desktop and a
tablet width). The references page must be labelled and ordered author-year.
"""

from __future__ import annotations

import functools
import os
import pathlib
import re
import unicodedata
import urllib.parse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HTML_DIR = pathlib.Path(os.environ.get("INITCOURSE_BOOK_HTML", ROOT / "_build" / "html"))

PAGES = sorted(
    str(p.relative_to(HTML_DIR)).replace("\\", "/")
    for p in HTML_DIR.rglob("*.html")
    if not {"_static", "_sources", "_images"} & set(p.relative_to(HTML_DIR).parts)
) or ["index.html"]

WIDTHS = (1280, 800)

# Markup that must not survive into the rendered text (code blocks and maths excluded).
RAW_MARKUP = [
    (re.compile(r"\\[()\[\]]"), "raw maths delimiter"),
    (re.compile(r"\$\$"), "raw $$"),
    (re.compile(r"\\[A-Za-z]{2,}"), "raw TeX command"),
    (re.compile(r"\{(glue|cite|eval|ref|numref|doc|eq|math|term|download|prf:ref)(:[\w-]+)?\}"), "raw MyST role"),
    (re.compile(r"[`~]{3}\s*\{"), "raw MyST directive"),
    (re.compile(r"^\s*:::", re.M), "raw colon fence"),
]

INSPECT_JS = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const out = {};
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const maths = [...document.querySelectorAll('.math')];
  out.untypeset = maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.trim().slice(0, 100));
  out.mathErrors = [...document.querySelectorAll('mjx-merror')].map(
    e => (e.getAttribute('data-mjx-error') || '') + ' in ' + (e.closest('.math') || e).textContent.slice(0, 100));
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, .highlight, script, style, mjx-container, .math, textarea, .cell_input')
       .forEach(e => e.remove());
  out.text = clone.textContent;
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  out.brokenImages = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'));
  out.links = [...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.href]);
  out.ids = [...document.querySelectorAll('[id]')].map(e => e.id)
    .concat([...document.querySelectorAll('a[name]')].map(e => e.getAttribute('name')));
  out.exercises = [...document.querySelectorAll('div.exercise > .admonition-title .caption-number')]
    .map(e => e.textContent.trim());
  out.solutions = document.querySelectorAll('div.solution.dropdown').length;
  out.citationLabels = [...document.querySelectorAll('div.citation > .label')].map(e => e.textContent.trim());
  return out;
}
"""

# An element is cut when it is wider than its box and nothing between it and the text
# column scrolls, or when it sticks out of the column. A scroll container must show that
# it scrolls (the edge shadows of initcourse.css): scroll bars alone are invisible on
# systems with overlay scroll bars (and in headless Chromium), and the content looks cut.
LAYOUT_JS = r"""
() => {
  const column = document.querySelector('article.bd-article') || document.querySelector('main');
  if (!column) return [];
  const right = column.getBoundingClientRect().right + 1;
  const cut = [];
  const check = (el, what) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0) return;
    if (el.scrollWidth <= el.clientWidth + 1 && r.right <= right) return;
    for (let n = el; n && n !== column.parentElement; n = n.parentElement) {
      const ox = getComputedStyle(n).overflowX;
      if (ox === 'auto' || ox === 'scroll') {
        if (n.getBoundingClientRect().right > right) break;
        if (getComputedStyle(n).backgroundImage.includes('gradient')) return;
        cut.push(`${what} scrolls without a visible cue (${Math.round(el.scrollWidth)} px in ` +
                 `${Math.round(n.clientWidth)} px): ` + el.textContent.trim().replace(/\s+/g, ' ').slice(0, 80));
        return;
      }
      if ((ox === 'hidden' || ox === 'clip') && n.scrollWidth > n.clientWidth + 1) break;
    }
    cut.push(`${what} cut: ${Math.round(el.scrollWidth)} px wide in a ${Math.round(column.clientWidth)} px column: ` +
             el.textContent.trim().replace(/\s+/g, ' ').slice(0, 80));
  };
  column.querySelectorAll('mjx-container[display="true"]').forEach(e => check(e, 'display equation'));
  column.querySelectorAll('table').forEach(e => check(e, 'table'));
  column.querySelectorAll('div.cell_output, div.output').forEach(e => check(e, 'cell output'));
  column.querySelectorAll('img').forEach(e => check(e, 'image'));
  return cut;
}
"""


@functools.lru_cache(maxsize=None)
def _static_ids(path: pathlib.Path) -> frozenset:
    text = path.read_text(encoding="utf-8", errors="replace")
    return frozenset(re.findall(r'\s(?:id|name)="([^"]+)"', text))


def _link_problems(page_rel: str, links, page_ids, base: str) -> list[str]:
    problems = []
    for raw, absolute in links:
        if not absolute.startswith(base) or raw.startswith(("mailto:", "javascript:")):
            continue
        parsed = urllib.parse.urlsplit(absolute)
        rel = urllib.parse.unquote(parsed.path[len(urllib.parse.urlsplit(base).path):])
        target = HTML_DIR / rel
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"link {raw!r}: {rel} does not exist")
            continue
        fragment = urllib.parse.unquote(parsed.fragment)
        if fragment and target.suffix == ".html":
            ids = page_ids if target == HTML_DIR / page_rel else _static_ids(target)
            if fragment not in ids:
                problems.append(f"link {raw!r}: no anchor #{fragment} in {rel}")
    return problems


def _raw_markup(text: str) -> list[str]:
    found = []
    for pattern, what in RAW_MARKUP:
        for m in pattern.finditer(text):
            context = text[max(0, m.start() - 40): m.end() + 40].replace("\n", " ")
            found.append(f"{what} {m.group(0)!r}: ...{context}...")
    return found


def _solution_problems(page) -> list[str]:
    problems = []
    solutions = page.locator("div.solution.dropdown")
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        body = solution.locator(":scope > :not(.admonition-title)").first
        title = solution.locator(":scope > .admonition-title").first
        label = title.inner_text().strip()
        if body.is_visible():
            problems.append(f"solution {label!r} is open before it is clicked")
            continue
        title.click()
        try:
            body.wait_for(state="visible", timeout=3000)
        except Exception:
            problems.append(f"solution {label!r} does not open when its title is clicked")
    return problems


@pytest.mark.parametrize("page_rel", PAGES)
def test_page_renders_offline(page_rel, book_server, offline_context):
    context, blocked = offline_context(book_server, viewport={"width": WIDTHS[0], "height": 900})
    page = context.new_page()
    console, failed = [], []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)

    page.goto(book_server + page_rel, wait_until="load")
    if 'http-equiv="Refresh"' in (HTML_DIR / page_rel).read_text(errors="replace"):
        target = re.search(r'url=([^"]+)"', (HTML_DIR / page_rel).read_text()).group(1)
        page.wait_for_url("**/" + target)
    info = page.evaluate(INSPECT_JS)
    problems = [f"request outside the book (no network): {url}" for url in blocked]
    problems += [f"failed request: {f}" for f in failed if not any(f.startswith(b) for b in blocked)]
    problems += [f"console error: {c}" for c in console]
    problems += [f"maths not typeset: {m}" for m in info["untypeset"]]
    problems += [f"maths error: {m}" for m in info["mathErrors"]]
    problems += _raw_markup(info["text"])
    problems += [f"broken image: {src}" for src in info["brokenImages"]]
    problems += _link_problems(page_rel, info["links"], set(info["ids"]), book_server)
    expected = [f"Exercise {i}" for i in range(1, len(info["exercises"]) + 1)]
    if info["exercises"] != expected:
        problems.append(f"exercises numbered {info['exercises']}, expected {expected} (per chapter)")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)  # initcourse.js refits equations 150 ms after a resize
        problems += [f"layout at {width} px: {c}" for c in page.evaluate(LAYOUT_JS)]
    problems += _solution_problems(page)
    if page_rel.endswith("references.html"):
        labels = info["citationLabels"]
        bad = [lab for lab in labels if not re.fullmatch(r"\[.+, (\d{4}[a-z]?|n\.d\.)\]", lab)]
        if not labels or bad:
            problems.append(f"bibliography labels are not author-year: {bad or 'no entries'}")
        if labels != sorted(labels, key=_sort_key):
            problems.append(f"bibliography not in author-year order: {labels}")
    page.close()
    problems = list(dict.fromkeys(problems))
    assert not problems, f"{page_rel}:\n  " + "\n  ".join(_shorten(problems))


def _sort_key(label: str) -> str:
    """Alphabetical order as a reader sorts names: case and accents ignored."""
    text = unicodedata.normalize("NFKD", label.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def _shorten(problems: list[str], per_kind: int = 6) -> list[str]:
    """At most ``per_kind`` problems of each kind (the text before the first colon)."""
    shown, counts = [], {}
    for problem in problems:
        kind = problem.split(":", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] <= per_kind:
            shown.append(problem.replace("\n", " ")[:300])
    shown += [f"... and {n - per_kind} more of '{kind}'" for kind, n in counts.items() if n > per_kind]
    return shown
