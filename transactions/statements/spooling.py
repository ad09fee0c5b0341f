"""A ReportLab canvas that keeps a long document's pages out of memory: each page leaves for a temporary file
(the spool) as it closes, and `save` writes the PDF to its file object by object.

Why: ReportLab 5.1.0 keeps every page until `save`, as a `PDFPage` holding its content stream as text (some
14 KB for a full page of a statement) and a dozen small objects of its own (its forms' dictionary, its
transition, its colours...), and `save` then formats the whole file into a list of bytes that it joins into
one more copy before writing it. A statement of 100,000 rows (4,250 pages) grew by some 50 MB that way even
with its pages compressed as they closed, and one of a million rows would need hundreds. ReportLab has no
public hook for either, so `SpooledCanvas` reaches into its document in two places, pinned to 5.1.0:

1. `showPage`: the page just closed is compressed (zlib, as ReportLab compresses a page at `save`), its
   bytes appended to the spool, and the page replaced in the document by a `_ClosedPage` that holds only
   where its bytes are and which page it is like: the pages of a document that differ in nothing but their
   content share one copy of what they have in common (`_likeness` decides, comparing everything ReportLab
   stored on the page; a page it cannot compare keeps its own copy). It is formatted at `save` exactly as
   the page would have been, its content stream read back from the spool when its turn comes.
2. `save`: ReportLab's `PDFDocument.format` (which returns the whole file) is replaced by
   `_SpooledDocument.format`, which writes each object to the output as soon as it is formatted, in
   ReportLab's order and with ReportLab's code for every object, then the cross-reference table line by
   line and ReportLab's trailer. The document's class is switched to `_SpooledDocument` right after the
   canvas makes it (`Canvas.__init__` builds a `PDFDocument` inline; there is no argument for another).

What stays in memory per page is a `_ClosedPage` and ReportLab's numbering of the page (some 0.4 KB in
all), and, while `save` runs, the numbering of its content stream and its entry in the page tree (some
0.6 KB more): a million rows (42,000 pages) cost tens of MB, not hundreds (README: measured). The spool is
about the size of the finished PDF, in the temporary directory (unlinked from the start), and is closed
when the file is written.

The file is, byte for byte, the one ReportLab's own `Canvas.save` writes with `rl_config.useA85` off; with
it on (ReportLab's default) ReportLab would also ASCII85-encode each page, a quarter larger for nothing
(ASCII85 is for 7-bit channels; a PDF is binary), which this canvas never does.
tests/statements/test_spooling.py renders documents both ways and compares the bytes, and checks every
ReportLab attribute and method relied on here, so an upgrade that changes them fails there first."""

import copy
import tempfile
import zlib
from typing import IO, Any, BinaryIO

from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFDictionary,
    PDFDocument,
    PDFFile,
    PDFIndirectObject,
    PDFName,
    PDFObject,
    PDFObjectReference,
    PDFPage,
    PDFStream,
    PDFTrailer,
)
from reportlab.pdfgen.canvas import Canvas

# What a page holds of its own content; everything else it holds is compared to find the pages alike.
_CONTENT = frozenset({"stream", "Contents", "__InternalName__"})
# ReportLab's objects that are plain data (what they format to follows from their attributes alone).
_PLAIN = (PDFDictionary, PDFArray, PDFObjectReference)


class _Incomparable(Exception):
    """A page holds something `_likeness` cannot compare: it keeps its own copy."""


def _value(value: Any) -> Any:
    """A hashable value equal for two objects exactly when ReportLab formats them alike."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str, bytes):
        return value
    if kind in (list, tuple):
        return (kind.__name__, tuple(_value(item) for item in value))
    if isinstance(value, dict):  # a dict or an OrderedDict (whose order ReportLab keeps)
        return (kind.__name__, tuple((key, _value(item)) for key, item in value.items()))
    if kind in _PLAIN:
        return (kind.__name__, _value(vars(value)))
    raise _Incomparable(kind.__name__)


def _likeness(page: PDFPage) -> tuple | None:
    """What the page holds besides its content, comparable; None if it cannot be compared."""
    try:
        held = vars(page).items()
        return tuple(sorted((name, _value(value)) for name, value in held if name not in _CONTENT))
    except _Incomparable:
        return None


class _SpooledStream(PDFObject):
    """A page's content stream, compressed, at `offset` in the spool (made while its page is formatted, and
    numbered then, as ReportLab numbers a page's stream): formatted by ReportLab's `PDFStream`
    (its dictionary, /Length, the document's encryption if any) from the bytes read back."""

    __slots__ = ("__InternalName__", "length", "offset", "spool")
    __RefOnly__ = 1  # as PDFStream: an indirect object, never written inline

    def __init__(self, spool: IO[bytes], offset: int, length: int) -> None:
        self.spool, self.offset, self.length = spool, offset, length

    def format(self, document: PDFDocument) -> bytes:
        self.spool.seek(self.offset)
        content = self.spool.read(self.length)
        filters = PDFDictionary({"Filter": PDFArray([PDFName("FlateDecode")])})
        return PDFStream(dictionary=filters, content=content).format(document)


class _ClosedPage(PDFObject):
    """A page that has left memory: its content `length` bytes at `offset` in the document's spool, the rest
    in `like`, a `PDFPage` it shares with the pages that hold the same (never itself registered in the
    document). Formatted as that page with this content, so ReportLab numbers and writes it as it would
    have the page, its content stream included."""

    __slots__ = ("__InternalName__", "length", "like", "offset")
    __RefOnly__ = 1

    def __init__(self, like: PDFPage, offset: int, length: int) -> None:
        self.like, self.offset, self.length = like, offset, length

    def format(self, document: "_SpooledDocument") -> bytes:
        page = copy.copy(self.like)  # ReportLab sets /MediaBox, /Resources and /Parent on it while formatting
        page.Contents = _SpooledStream(document.spool, self.offset, self.length)
        return page.format(document)


class _SpooledDocument(PDFDocument):
    """ReportLab's document with the page spool and a `format` that writes the file as it goes (see the
    module's docstring). Made by switching the class of the document a `SpooledCanvas` was given."""

    out: BinaryIO
    spool: IO[bytes]
    spooled: int
    alike: dict[tuple, PDFPage]

    def start_spooling(self, out: BinaryIO) -> None:
        self.out = out
        self.spool = tempfile.TemporaryFile(prefix="statement-pages-")  # noqa: SIM115 - closed by format
        self.spooled = 0
        self.alike = {}

    def spool_last_page(self) -> None:
        """The page `Canvas.showPage` just added: compressed into the spool, replaced by a `_ClosedPage`.
        A page ReportLab would not build from its compressed `stream` (contents set by hand, compression
        off, an empty stream, for which ReportLab writes a placeholder) is left as it is."""
        pages = self.Pages.pages
        page = pages[-1]
        stream = page.stream
        if (
            page.Contents is not None
            or page.Override_default_compilation
            or not page.compression
            or not stream
        ):
            return  # ReportLab's own way at save
        data = zlib.compress(stream.encode("utf-8") if isinstance(stream, str) else stream)
        offset = self.spooled
        self.spool.write(data)
        self.spooled += len(data)
        key = _likeness(page)
        like = self.alike.get(key) if key is not None else None
        if like is None:
            like = copy.copy(page)
            like.stream = None
            del like.__InternalName__  # a pattern, not the page: never registered
            if key is not None:
                self.alike[key] = like
        name = page.__InternalName__
        closed = _ClosedPage(like, offset, len(data))
        closed.__InternalName__ = name
        pages[-1] = closed
        self.idToObject[name] = closed

    def format(self) -> bytes:
        """ReportLab's `PDFDocument.format` (5.1.0), writing each object to `out` once it is formatted
        instead of collecting the file: the same objects in the same order, the same cross-reference table
        and trailer. Called by ReportLab's `GetPDFData` from `SaveToFile`, which writes what it returns:
        nothing more."""
        if getattr(self, "_digiSigs", None):
            raise ValueError("a spooled document cannot be signed: signing needs the whole file in memory")
        self.encrypt.prepare(self)
        catalog, info = self.Catalog, self.info
        self.Reference(catalog)
        self.Reference(info)
        encryption = self.encrypt.info()
        encrypt_ref = self.Reference(encryption) if encryption else None
        write, at = self.out.write, 0
        header = PDFFile(self._pdfVersion).format(self)
        write(header)
        at += len(header)
        offsets: list[int] = []
        number_to_id, id_to_object = self.numberToId, self.idToObject
        try:
            number = 1
            while number in number_to_id:  # objects may be registered while others are formatted
                name = number_to_id[number]
                data = PDFIndirectObject(name, id_to_object[name]).format(self)
                offsets.append(at)
                write(data)
                at += len(data)
                number += 1
        finally:
            self.spool.close()
        count = len(number_to_id)
        if len(offsets) != count:
            raise ValueError(f"{len(offsets)} objects written of {count} numbered")
        xref = at
        write(b"xref\n0 %d\n0000000000 65535 f \n" % (count + 1))
        for offset in offsets:  # every object of generation 0, as ReportLab numbers them
            write(b"%010d 00000 n \n" % offset)
        trailer = PDFTrailer(
            startxref=xref,
            Size=count + 1,
            Root=self.Reference(catalog),
            Info=self.Reference(info),
            Encrypt=encrypt_ref,
            ID=self.ID(),
        )
        write(trailer.format(self))
        return b""


class SpooledCanvas(Canvas):
    """ReportLab's canvas writing to the file object `out`, its pages spooled as they close and its file
    written object by object by `save` (see the module's docstring). Pages are spooled when compressed
    (`pageCompression=1`); without it ReportLab keeps them, as ever. Everything else is ReportLab's."""

    def __init__(self, out: BinaryIO, **options: Any) -> None:
        if not callable(getattr(out, "write", None)):
            raise TypeError("SpooledCanvas writes to a file object")
        super().__init__(out, **options)
        self._doc.__class__ = _SpooledDocument
        self._doc.start_spooling(out)

    def showPage(self) -> None:
        super().showPage()
        self._doc.spool_last_page()

    def getpdfdata(self) -> bytes:
        """Refused: the file is never whole in memory (ReportLab's would write it to `out` and return b"")."""
        raise TypeError("a SpooledCanvas writes its file to its file object: call save()")
