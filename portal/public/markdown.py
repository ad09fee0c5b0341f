"""FAQ answers: Markdown that staff write, drawn as HTML that cannot carry a script.

Two locks, either of which would do alone: markdown-it-py (CommonMark) with raw HTML off, so `<script>` in
an answer is text, and whose link check already refuses `javascript:`, `vbscript:`, `file:` and `data:`;
then nh3 (ammonia) keeps only the tags and attributes below, links only to http, https, mailto or a
relative address, each with rel="noopener noreferrer".

An answer sits inside a `<details>` under its category's h2, so its headings are moved down to h3 and h4.
Images are not drawn (the public pages load nothing from elsewhere): `![alt](url)` stays a link.
"""

import re

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

_TAGS = {"p", "br", "ul", "ol", "li", "strong", "em", "a", "code", "pre", "blockquote", "h3", "h4", "hr"}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")

    def demote_headings(state) -> None:
        for token in state.tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = "h3" if token.tag in ("h1", "h2", "h3") else "h4"

    md.core.ruler.push("demote_headings", demote_headings)
    return md


_MD = _parser()


def render_answer(text: str) -> SafeString:
    """The answer's Markdown as sanitised HTML, safe to put on a page as is."""
    return sanitise(_MD.render(text or ""))


def sanitise(html: str) -> SafeString:
    """HTML reduced to the tags, attributes and link schemes an answer may use (the second lock)."""
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return mark_safe(clean)  # noqa: S308 - nh3 kept only the tags, attributes and schemes above


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


_SPACES = re.compile(r"\s+")


def answer_text(text: str) -> str:
    """The answer as plain text, one line (what a search excerpt is cut from): the words people read,
    without Markdown's marks or links' addresses. Not HTML: whoever shows it escapes it."""
    parts = []
    for token in _MD.parse(text or ""):
        if token.type == "inline":
            parts.append(_inline_text(token))
        elif token.type in ("code_block", "fence"):
            parts.append(token.content)
    return _SPACES.sub(" ", " ".join(parts)).strip()
