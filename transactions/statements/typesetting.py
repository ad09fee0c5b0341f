"""Text in the statement and receipt PDFs: the fonts, Devanagari shaped by HarfBuzz, widths, and greedy
wrapping inside a column.

One font per weight (SecureBank Sans, fonts/, made by tools/statement_font.py) draws Latin, the rupee sign
and Devanagari. Latin text goes to ReportLab as plain strings (one glyph per character, widths from the C
accelerator: a long statement's hot path). A run of Devanagari is shaped by HarfBuzz (`uharfbuzz`) into
glyphs and positions: conjuncts (क्ष), reordered vowel signs (कि draws ि first), reph (र्म), marks placed
above and below. ReportLab draws such a run as a `ShapedStr` (its own type for pre-shaped glyphs: a TJ
array with HarfBuzz's offsets). ReportLab 5.1.0 shapes nothing itself here: `drawString(shaping=True)` goes
through rlbidi, which is not installed, and its `shapeStr` draws each glyph under the character it maps
from (or a private code), which extracts wrongly (below).

Copy, search and text extraction must give back the words, not the glyphs: a PDF maps each glyph code to
text through the font's ToUnicode map, and a conjunct or a reordered ि has no character of its own (and
in visual order कि would read "िक"). So every shaped cluster (a syllable, which HarfBuzz keeps together)
is drawn under codes of our own whose texts, read in drawing order, spell the syllable (`_share`). A code
is a private-use code point made for one (glyph, text) pair, added to the font's character map;
`ClusterFont.addObjects` writes those texts into the ToUnicode map of each subset. A glyph that is simply
its own character keeps the character as its code.

Lines break between words, and a word wider than its column breaks between clusters (a Latin character
with its combining marks, or a shaped syllable): never inside a conjunct."""

import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import uharfbuzz as hb
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import SUBSETN, ShapeData, ShapedStr, TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = "SecureBankSans"
BOLD = "SecureBankSans-Bold"
_FILES = {REGULAR: "SecureBankSans-Regular.ttf", BOLD: "SecureBankSans-Bold.ttf"}

# What HarfBuzz shapes; everything else is drawn character by character. Devanagari, its extensions, the
# joiners that steer its conjuncts, and the dotted circle of a stray vowel sign.
_SHAPED_RUN = re.compile("[\u0900-\u097f\ua8e0-\ua8ff\u1cd0-\u1cff\u200c\u200d\u25cc]+")
_FEATURES: dict[str, bool] = {}  # HarfBuzz's defaults for the script (all a Devanagari font needs)
# Private-use planes 15 and 16 (U+F0000–U+10FFFD): codes for glyphs that are not a character of their own.
_PRIVATE_FIRST, _PRIVATE_LAST = 0xF0000, 0x10FFFD
_WORD_CACHE = 4096  # shaped words kept per font (names and notes repeat down a statement)

Piece = str | ShapedStr


@dataclass(frozen=True)
class Shaped:
    """A shaped run: the glyph codes and positions ReportLab draws, its advance in thousandths of the font
    size, and its clusters as (first glyph, end glyph, advance) for breaking between them."""

    text: ShapedStr
    advance: int
    clusters: tuple[tuple[int, int, int], ...]


class ClusterFont(TTFont):
    """A TrueType font that can draw HarfBuzz's glyphs under codes whose ToUnicode text is their syllable
    (see the module's docstring)."""

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name, str(path))
        if self.face.unitsPerEm != 1000:  # HarfBuzz's positions are used as thousandths of the size
            raise ValueError(f"{path}: expected 1000 units per em")
        self._hb = hb.Font(hb.Face(hb.Blob(path.read_bytes())))
        self._lock = threading.Lock()
        self._codes: dict[tuple[int, str], int] = {}
        self._texts: dict[int, str] = {}
        self._next_code = _PRIVATE_FIRST
        self._words: dict[str, Shaped] = {}

    def _code(self, gid: int, text: str) -> int:
        """The code to draw glyph `gid` under, standing for `text` (its cluster's text, or "" for a
        cluster's later glyphs)."""
        face = self.face
        if len(text) == 1 and face.charToGlyph.get(ord(text)) == gid:
            return ord(text)
        key = (gid, text)
        code = self._codes.get(key)
        if code is not None:
            return code
        with self._lock:
            code = self._codes.get(key)
            if code is None:
                code = self._next_code
                if code & 0xFFFE == 0xFFFE:  # U+FFFFE and U+FFFFF are noncharacters: on to plane 16
                    code += 2
                if code > _PRIVATE_LAST:
                    raise RuntimeError(f"{self.fontName}: out of private codes for shaped glyphs")
                self._next_code = code + 1
                face.charWidths[code] = self.pdfScale(face.hmetrics[gid][0])
                face.charToGlyph[code] = gid
                self._texts[code] = text
                self._codes[key] = code
        return code

    def shape(self, text: str) -> Shaped:
        """`text` (one run of one script, left to right) shaped; cached by text."""
        found = self._words.get(text)
        if found is None:
            if len(self._words) >= _WORD_CACHE:
                self._words.clear()
            found = self._words[text] = self._shape(text)
        return found

    def _shape(self, text: str) -> Shaped:
        buffer = hb.Buffer()
        buffer.add_str(text)
        buffer.guess_segment_properties()
        hb.shape(self._hb, buffer, _FEATURES)
        infos, positions = buffer.glyph_infos, buffer.glyph_positions
        widths = self.face.charWidths
        codes: list[str] = []
        data: list[ShapeData] = []
        clusters: list[tuple[int, int, int]] = []
        total, i, count = 0, 0, len(infos)
        while i < count:  # a cluster: the glyphs that share HarfBuzz's cluster value (LTR: never decreasing)
            start = infos[i].cluster
            j = i + 1
            while j < count and infos[j].cluster == start:
                j += 1
            syllable = text[start : infos[j].cluster if j < count else len(text)]
            first, advance = len(codes), 0
            for k, piece in zip(range(i, j), _share(syllable, j - i), strict=True):
                code = self._code(infos[k].codepoint, piece)
                pos = positions[k]
                codes.append(chr(code))
                data.append(
                    ShapeData(
                        len(clusters), pos.x_advance, pos.y_advance, pos.x_offset, pos.y_offset, widths[code]
                    )
                )
                advance += pos.x_advance
            clusters.append((first, len(codes), advance))
            total += advance
            i = j
        return Shaped(ShapedStr("".join(codes), shapeData=data), total, tuple(clusters))

    def splitString(self, text, doc, encoding="utf-8"):
        """ReportLab's, with a fast path for text whose every character already has its code in one subset
        of this document (most of a statement's: dates, names, digits): the codes looked up in C-speed
        comprehensions instead of ReportLab's loop over characters. Anything else (a new character, a
        no-break space, codes in several subsets) goes to ReportLab's own."""
        state = self.state.get(doc)
        if state is not None and text.__class__ in (str, ShapedStr) and text:
            assignments = state.assignments
            try:
                codes = [assignments[code] for code in map(ord, text)]
            except KeyError:
                pass
            else:
                low, high = min(codes), max(codes)
                if low >> 8 == high >> 8:
                    return [
                        (low >> 8, bytes(codes) if high < 256 else bytes([code & 0xFF for code in codes]))
                    ]
        return super().splitString(text, doc, encoding)

    def addObjects(self, doc) -> None:
        """ReportLab's subsets, then each subset's ToUnicode map rewritten where it holds codes of ours
        (ReportLab would map them to the private-use code points themselves)."""
        state = self.state.get(doc)
        subsets = [list(subset) for subset in state.subsets] if state is not None else []
        super().addObjects(doc)
        texts = self._texts
        for n, subset in enumerate(subsets):
            if not any(code in texts for code in subset):
                continue
            base = b"".join((SUBSETN(n), b"+", self.face.name, self.face.subfontNameX)).decode("pdfdoc")
            stream = doc.idToObject["toUnicodeCMap:" + base]
            stream.content = to_unicode_cmap(base, [texts.get(code, chr(code)) for code in subset])


def _share(syllable: str, glyphs: int) -> list[str]:
    """The syllable's text cut into one piece per glyph, in order: the first glyph takes what is over
    when there are fewer glyphs than characters, later glyphs take nothing when there are more. Read in
    drawing order, the pieces give back the syllable whatever the glyphs are (कि draws ि, then क: they
    read "क", "ि"), and every glyph but surplus ones stands for some text (a glyph that reads as nothing
    makes some readers, poppler's among them, see a gap between words)."""
    chars = len(syllable)
    if glyphs >= chars:
        return [*syllable, *[""] * (glyphs - chars)]
    head = chars - glyphs + 1
    return [syllable[:head], *syllable[head:]]


def to_unicode_cmap(name: str, texts: list[str]) -> str:
    """A ToUnicode CMap for one-byte codes 0..len-1, code i standing for texts[i] (any length, "" for a
    glyph that adds no text), in blocks of at most 100 entries as the PDF specification asks."""
    entries = [f"<{code:02X}> <{text.encode('utf-16-be').hex().upper()}>" for code, text in enumerate(texts)]
    blocks = []
    for start in range(0, len(entries), 100):
        block = entries[start : start + 100]
        blocks += [f"{len(block)} beginbfchar", *block, "endbfchar"]
    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({name})",
            f"/Ordering ({name})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{name} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(texts) - 1:02X}>",
            "endcodespacerange",
            *blocks,
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


_registered: dict[str, ClusterFont] = {}


def font(name: str) -> ClusterFont:
    """The font `name` (REGULAR or BOLD), registered with ReportLab on first use."""
    found = _registered.get(name)
    if found is None:
        found = ClusterFont(name, FONT_DIR / _FILES[name])
        pdfmetrics.registerFont(found)
        _registered[name] = found
    return found


def register() -> None:
    for name in _FILES:
        font(name)


# --- measuring and wrapping ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of text and its width in points: a plain string, or a ShapedStr where the line has shaped
    runs (plain characters inside it are drawn at their own widths). One text operator a line."""

    text: Piece
    width: float


def width(text: str, name: str, size: float) -> float:
    """The width of plain (unshaped) text."""
    return pdfmetrics.stringWidth(text, name, size)


@dataclass(frozen=True)
class _Part:
    """A run of a word: plain text, or a shaped run with its clusters."""

    piece: Piece
    width: float
    shaped: Shaped | None = None


def _parts(word: str, name: str, size: float) -> list[_Part]:
    """A word (no spaces) as runs to draw with their widths: Devanagari shaped, the rest plain."""
    if not _SHAPED_RUN.search(word):
        return [_Part(word, pdfmetrics.stringWidth(word, name, size))]
    shaper = font(name)
    parts: list[_Part] = []
    at = 0
    for match in _SHAPED_RUN.finditer(word):
        if match.start() > at:
            plain = word[at : match.start()]
            parts.append(_Part(plain, pdfmetrics.stringWidth(plain, name, size)))
        shaped = shaper.shape(match.group())
        parts.append(_Part(shaped.text, shaped.advance * size / 1000, shaped))
        at = match.end()
    if at < len(word):
        plain = word[at:]
        parts.append(_Part(plain, pdfmetrics.stringWidth(plain, name, size)))
    return parts


def _clusters(parts: list[_Part], name: str, size: float) -> list[tuple[Piece, float]]:
    """The word's runs cut where a word may break: after a plain character and the combining marks that
    follow it; after a shaped syllable, as HarfBuzz clustered it."""
    out: list[tuple[Piece, float]] = []
    for part in parts:
        if part.shaped is not None:
            for first, end, advance in part.shaped.clusters:
                out.append((part.shaped.text[first:end], advance * size / 1000))
            continue
        text, start = part.piece, 0
        for i in range(1, len(text) + 1):
            if i == len(text) or not unicodedata.combining(text[i]):
                cluster = text[start:i]
                out.append((cluster, pdfmetrics.stringWidth(cluster, name, size)))
                start = i
    return out


class _LineBuilder:
    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.text: Piece = ""
        self.used = 0.0

    def add(self, piece: Piece, piece_width: float) -> None:
        self.text += piece  # a ShapedStr on either side makes a ShapedStr
        self.used += piece_width

    def flush(self) -> None:
        if self.text:
            self.lines.append(Line(self.text, self.used))
        self.text, self.used = "", 0.0


def wrap(text: str, name: str, size: float, column: float) -> list[Line]:
    """`text` in lines no wider than `column` points: greedy, breaking at white space, and inside a word
    only where the word alone is wider than the column (between its clusters). Any run of white space
    (new lines included) is one space. No text, no lines."""
    words = text.split()
    if not words:
        return []
    if len(words) == 1 or not _SHAPED_RUN.search(text):  # the common case: one plain line that fits
        plain = " ".join(words)
        if not _SHAPED_RUN.search(plain):
            plain_width = pdfmetrics.stringWidth(plain, name, size)
            if plain_width <= column:
                return [Line(plain, plain_width)]
    space = pdfmetrics.stringWidth(" ", name, size)
    out = _LineBuilder()
    for word in words:
        parts = _parts(word, name, size)
        word_width = sum(part.width for part in parts)
        if out.text and out.used + space + word_width <= column:
            out.add(" ", space)
        elif out.text:
            out.flush()
        if word_width <= column:
            for part in parts:
                out.add(part.piece, part.width)
            continue
        for piece, piece_width in _clusters(parts, name, size):  # wider than the column: break inside it
            if out.text and out.used + piece_width > column:
                out.flush()
            out.add(piece, piece_width)
    out.flush()
    return out.lines


def line(text: str, name: str, size: float) -> Line:
    """`text` on one line, however wide (for labels and figures that must not wrap)."""
    lines = wrap(text, name, size, float("inf"))
    return lines[0] if lines else Line("", 0.0)
