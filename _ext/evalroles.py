"""Sphinx extension: the book's stored inline values, citation links and label links.

The chapters are rendered from their stored outputs (``execute_notebooks: "off"``), so
MyST-NB's ``{eval}`` role, which asks a running kernel, has nothing to ask. This
extension replaces it with a role that shows the result stored in the notebook's
markdown cells (``user_expressions``, written by ``python -m initcourse.course.bookvalues``),
which is also what JupyterLab shows. It falls back to MyST-NB's role where nothing is
stored and a kernel is running (``execute_notebooks: "inline"``).

It also resolves two kinds of Markdown links that JupyterLab renders as they are:

- ``[He et al. (2015)](references.md#he2015delving)``: a citation. The key is
  registered with sphinxcontrib-bibtex as cited (so the bibliography lists it), and
  the link points at the entry; the text stays as written.
- ``[text](05_he_lecun.ipynb#ch05-adam)``: a link to a label (``(ch05-adam)=``, an
  exercise's ``:label:``) in another page, which MyST-Parser alone resolves only for
  heading slugs.

A missing value, key or label is a warning (an error with ``-W``).
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

from myst_nb.ext.eval import EvalRoleAny, eval_warning
from myst_nb.ext.utils import RoleBase

logger = logging.getLogger(__name__)


def stored_expressions(notebook) -> dict:
    """``{expression: text/plain}`` of the results stored in a notebook's markdown cells."""
    stored = {}
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        for item in cell.get("metadata", {}).get("user_expressions", []) or []:
            result = item.get("result", {})
            if result.get("status") == "ok" and "text/plain" in result.get("data", {}):
                text = result["data"]["text/plain"]
                stored.setdefault(item.get("expression"), "".join(text) if isinstance(text, list) else text)
    return stored


def shown_text(text_plain: str) -> str:
    """What JupyterLab shows for a text/plain result: the text without its outer quotes."""
    match = re.fullmatch(r"""(["'])(.*)\1""", text_plain, re.S)
    return match.group(2) if match else text_plain


class StoredEvalRole(RoleBase):
    """``{eval}`expression```: the result stored in the notebook for ``expression``."""

    def run(self):
        renderer = self.document.get("nb_renderer")
        notebook = getattr(getattr(getattr(renderer, "renderer", None), "nb_client", None), "notebook", None)
        stored = stored_expressions(notebook) if notebook is not None else {}
        if self.text in stored:
            text = shown_text(stored[self.text])
            node = nodes.inline(text, text, classes=["pasted-text"])
            self.set_source_info(node)
            return [node], []
        fallback = EvalRoleAny()
        fallback.inliner, fallback.rawtext, fallback.text = self.inliner, self.rawtext, self.text
        fallback.source, fallback.line = self.source, self.line
        result, messages = fallback.run()
        if result:
            return result, messages
        return [], [eval_warning(
            f"no stored value for {{eval}}`{self.text}` (run python -m initcourse.course.bookvalues on this notebook)",
            self.document, self.line)]


def _bib_keys(env) -> set:
    domain = env.get_domain("cite")
    return set(domain.bibdata.data.entries.keys())


def _is_doc_link(node) -> bool:
    return node.get("reftype") == "myst" and node.get("refdomain") == "doc" and bool(node.get("reftargetid"))


class RegisterCitationLinks(SphinxTransform):
    """Note each citation link's key as cited, as ``{cite}`` would."""

    default_priority = 500

    def apply(self, **kwargs):
        from sphinxcontrib.bibtex.citation_target import CitationTarget
        from sphinxcontrib.bibtex.roles import CitationRef

        keys = None
        for node in self.document.findall(addnodes.pending_xref):
            if not _is_doc_link(node):
                continue
            keys = _bib_keys(self.env) if keys is None else keys
            key = node["reftargetid"]
            if key not in keys:
                continue
            node["initcourse_citation"] = key
            self.env.get_domain("cite").citation_refs.append(CitationRef(
                citation_ref_id=f"citation-link-{key}", docname=self.env.docname,
                line=node.line or 0, targets=[CitationTarget(key=key, pre="", post="")]))


class ResolveLabelAndCitationLinks(SphinxPostTransform):
    """Point citation links at bibliography entries and label links at labels."""

    default_priority = 8  # before MyST-Parser's resolver (9), which would warn about them

    def run(self, **kwargs):
        for node in list(self.document.findall(addnodes.pending_xref)):
            if not _is_doc_link(node):
                continue
            docname, target = node["reftarget"], node["reftargetid"]
            if "initcourse_citation" in node:
                found = self._citation(target)
                if found is None:
                    logger.warning("citation link to %r: no bibliography lists it", target, location=node,
                                   type="initcourse", subtype="citation")
                    node.replace_self(node[0].deepcopy())
                    continue
                to_doc, to_id, classes = found[0], found[1], ["cite"]
            else:
                label = self.env.get_domain("std").labels.get(target) or self.env.get_domain("std").anonlabels.get(target)
                if label is None or label[0] != docname:
                    continue  # a heading slug or a missing target: MyST-Parser decides
                to_doc, to_id, classes = label[0], label[1], ["std", "std-ref"]
            inner = nodes.inline("", "", classes=classes)
            inner.extend(child.deepcopy() for child in node[0].children)
            node.replace_self(make_refnode(self.app.builder, node.get("refdoc", self.env.docname), to_doc, to_id, inner))

    def _citation(self, key):
        domain = self.env.get_domain("cite")
        for citation in domain.citations:
            if citation.key == key and domain.bibliographies[citation.bibliography_key].list_ == "citation":
                return citation.bibliography_key.docname, citation.citation_id
        return None


def setup(app):
    app.setup_extension("myst_nb")
    app.setup_extension("sphinxcontrib.bibtex")
    app.add_role("eval", StoredEvalRole(), override=True)
    app.add_transform(RegisterCitationLinks)
    app.add_post_transform(ResolveLabelAndCitationLinks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
