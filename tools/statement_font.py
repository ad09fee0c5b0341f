"""Build the fonts the statement and receipt PDFs embed: transactions/statements/fonts/SecureBankSans-*.ttf.

One font per weight (Regular, Bold) that draws everything a statement prints: Latin and Latin-1 (names,
descriptions), General Punctuation, the rupee sign ₹ (U+20B9), and Devanagari (Hindi names and notes), with
the OpenType tables HarfBuzz needs to shape Devanagari (conjuncts, vowel signs, reph). One file, not a
fallback chain: the PDF's shaping, widths and wrapping all read one font, and ReportLab embeds one subset.

Made from Debian's Noto fonts (package fonts-noto-core; SIL Open Font License 1.1): Noto Sans and Noto Sans
Devanagari, each cut to the ranges above (hinting dropped: nothing prints them on a pixel grid), merged with
fontTools (Noto Sans first, so its Latin, digits and punctuation win where both have a character), and
renamed "SecureBank Sans": the OFL lets a modified font be shared only under another name than the
original's ("Noto" is also Google's trademark). The licence, with the originals' copyright lines, is written
beside the fonts as OFL.txt.

Rebuild (after a change here, or to take newer Noto fonts; commit the outputs):

    apt-get install fonts-noto-core
    .venv/bin/python tools/statement_font.py

The output is deterministic for the same input files (fontTools writes no timestamp when
`recalcTimestamp` is off), so a rebuild that changes nothing leaves git clean. Written to
transactions/statements/fonts/ unless a directory is given.
"""

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.merge import Merger, Options
from fontTools.ttLib import TTFont

NOTO = Path("/usr/share/fonts/truetype/noto")
DEBIAN_COPYRIGHT = Path("/usr/share/doc/fonts-noto-core/copyright")
OUT = Path(__file__).resolve().parent.parent / "transactions" / "statements" / "fonts"
FAMILY = "SecureBank Sans"
WEIGHTS = ("Regular", "Bold")

# What a statement prints, and what HarfBuzz may insert while shaping Devanagari (the dotted circle ◌ of a
# stray vowel sign).
UNICODES = [
    *range(0x0020, 0x007F),  # Basic Latin
    *range(0x00A0, 0x0100),  # Latin-1 Supplement
    *range(0x2000, 0x2070),  # General Punctuation (dashes, quotes, ZWJ/ZWNJ, …)
    0x20B9,  # ₹
    *range(0x0900, 0x0980),  # Devanagari
    0x25CC,  # ◌
]


def _subset(path: Path) -> TTFont:
    options = subset.Options()
    options.layout_features = ["*"]  # every feature the Devanagari shaper reads (and kerning, ligatures)
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.hinting = False
    options.drop_tables += ["DSIG"]
    options.notdef_outline = True
    options.glyph_names = False
    font = TTFont(path, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=UNICODES)
    subsetter.subset(font)
    return font


def _rename(font: TTFont, weight: str, copyrights: list[str]) -> None:
    """The merged font's names: SecureBank Sans, its weight, and where it came from; no "Noto" anywhere
    (name ID 7, the trademark line, is dropped)."""
    name = font["name"]
    license_text = name.getDebugName(13) or "This Font Software is licensed under the SIL Open Font License."
    license_url = name.getDebugName(14) or "https://openfontlicense.org"
    version = font["head"].fontRevision
    postscript = f"{FAMILY.replace(' ', '')}-{weight}"
    name.names = []
    records = {
        0: "; ".join(copyrights) + "; modifications for SecureBank (merged, subset, renamed).",
        1: FAMILY,
        2: weight,
        3: f"{version:.3f};SECB;{postscript}",
        4: f"{FAMILY} {weight}",
        5: f"Version {version:.3f}; merged from Noto Sans and Noto Sans Devanagari",
        6: postscript,
        10: "Noto Sans and Noto Sans Devanagari (Google), merged and subset for SecureBank's statements.",
        13: license_text,
        14: license_url,
    }
    for name_id, text in records.items():
        name.setName(text, name_id, 3, 1, 0x409)
    font["OS/2"].achVendID = "SECB"
    if "CFF " in font:  # pragma: no cover - Debian's Noto fonts are TrueType outlines
        raise SystemExit("expected TrueType outlines")
    font["post"].formatType = 3.0  # no glyph names (smaller; the PDF never shows them)


def _ofl_text() -> str:
    """The licence's text as Debian's copyright file carries it (one paragraph per ' .' line)."""
    lines = DEBIAN_COPYRIGHT.read_text(encoding="utf-8").splitlines()
    start = next(  # the licence's own paragraph, not a "License:" line of a Files paragraph
        i + 1
        for i, line in enumerate(lines)
        if line == "License: OFL-1.1" and lines[i + 1].strip() == "PREAMBLE"
    )
    body = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        body.append("" if line.strip() == "." else line.strip())
    paragraphs, current = [], []
    for line in body:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def build(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written, copyrights = [], set()
    for weight in WEIGHTS:
        sources = [NOTO / f"NotoSans-{weight}.ttf", NOTO / f"NotoSansDevanagari-{weight}.ttf"]
        fonts = [_subset(path) for path in sources]
        names = [font["name"].getDebugName(0) for font in fonts]
        copyrights.update(names)
        parts = []
        for index, font in enumerate(fonts):  # the Merger reads files
            part = out / f".part-{weight}-{index}.ttf"
            font.save(part)
            parts.append(part)
        try:
            merged = Merger(options=Options(drop_tables=["DSIG"])).merge([str(part) for part in parts])
        finally:
            for part in parts:
                part.unlink()
        _rename(merged, weight, names)
        merged.recalcTimestamp = False
        merged["head"].modified = merged["head"].created = max(font["head"].modified for font in fonts)
        target = out / f"{FAMILY.replace(' ', '')}-{weight}.ttf"
        merged.save(target)
        written.append(target)
    licence = out / "OFL.txt"
    licence.write_text(
        "SecureBank Sans (SecureBankSans-Regular.ttf, SecureBankSans-Bold.ttf) is a Modified Version of"
        " Noto Sans and Noto Sans Devanagari, made by tools/statement_font.py.\n\n"
        + "\n".join(sorted(copyrights))
        + "\n\nSIL OPEN FONT LICENSE Version 1.1 - 26 February 2007\n\n"
        + _ofl_text()
        + "\n",
        encoding="utf-8",
    )
    written.append(licence)
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=OUT)
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(f"{path}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
