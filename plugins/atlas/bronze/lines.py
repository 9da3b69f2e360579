"""Physical lines of a landed text file, read in bounded blocks.

The byte-level pre-pass behind the CSV and JSON-lines readers. Line breaks are found in the raw
bytes, so line numbers are the file's physical lines whatever the content. A line that cannot be
decoded, or is too long to hold, becomes a problem of that one line (the readers quarantine it)
instead of failing the file. Memory is bounded by the block size and ``max_line_bytes``.

Problems with the file as a whole (empty, binary, a UTF-16 file read as UTF-8) raise
:class:`AtlasInputError` naming the file.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from atlas.errors import AtlasInputError

BLOCK_BYTES = 1 << 22

# First bytes of files that are not delimited text, with what to call them.
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?)"),
    (b"\x1f\x8b", "gzip-compressed"),
    (b"PAR1", "a Parquet file"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old Office (.xls) file"),
)
# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"),
)
_WIDE_CODECS = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})


@dataclass(frozen=True)
class LineProblem:
    """Why one physical line could not be read (no values, only positions)."""

    rule: str  # encoding | line_too_long
    reason: str


@dataclass
class LineBlock:
    """Consecutive physical lines, decoded, without their line terminators (CRLF or LF)."""

    first: int  # physical line number of lines[0]
    lines: list[str]  # "" stands in for a line with a problem
    problems: dict[int, LineProblem] = field(default_factory=dict)  # by physical line number
    has_nul: bool = False
    special: bool = False  # a backslash, tab or carriage return occurs (COPY text needs escaping)
    longest: int = 0  # characters in the longest line


def codec_name(encoding: str, file: str) -> str:
    """Python's canonical name of a configured encoding, or an error naming the file."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise AtlasInputError(f"{file}: source.options.encoding '{encoding}' is not a known encoding") from None


def _sniff(head: bytes, file: str, codec: str, kind: str) -> int:
    """Bytes to skip at the start (a UTF-8 byte order mark); errors for files that are not text."""
    if not head:
        raise AtlasInputError(f"{file}: file is empty (no header row)" if kind == "CSV" else f"{file}: file is empty")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise AtlasInputError(f"{file}: file is {what}, not {kind}")
    if codec not in _WIDE_CODECS:
        for bom, name in _WIDE_BOMS:
            if head.startswith(bom):
                raise AtlasInputError(
                    f"{file}: file is {name} encoded (it starts with a {name} byte order mark), but the table reads "
                    f"{codec}: save it as UTF-8 or set source.options.encoding: {name.lower()}")
    if codec.startswith("utf-8") and head.startswith(codecs.BOM_UTF8):
        return len(codecs.BOM_UTF8)
    return 0


class _Utf8Recoder:
    """A binary stream of UTF-8 from a stream in a wide encoding (UTF-16/32), decoded incrementally."""

    def __init__(self, raw: IO[bytes], head: bytes, codec: str, file: str) -> None:
        self.raw, self.pending, self.file = raw, head, file
        self.decoder = codecs.getincrementaldecoder(codec)("strict")
        self.codec, self.done = codec, False

    def read(self, size: int) -> bytes:
        while not self.done:
            data, self.pending = (self.pending or self.raw.read(size)), b""
            try:
                text = self.decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                raise AtlasInputError(f"{self.file}: bytes are not valid {self.codec} ({exc.reason})") from None
            self.done = not data
            if text:
                return text.encode("utf-8")
        return b""


def _decode_lines(block: bytes, codec: str, first: int) -> tuple[list[str], dict[int, LineProblem]]:
    """Decode line by line (after the whole block failed): bad lines become problems."""
    lines: list[str] = []
    problems: dict[int, LineProblem] = {}
    for number, raw in enumerate(block.split(b"\n"), start=first):
        try:
            lines.append(raw.decode(codec))
        except UnicodeDecodeError as exc:
            lines.append("")
            problems[number] = LineProblem(
                "encoding", f"bytes are not valid {codec} at byte {exc.start + 1} of the line ({exc.reason})")
    return lines, problems


def _block(data: bytes, codec: str, first: int) -> LineBlock:
    """One block of complete lines (``data`` holds no terminator after its last line)."""
    try:
        text = data.decode(codec)
        problems: dict[int, LineProblem] = {}
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        lines = text.split("\n")
        if lines[-1].endswith("\r"):  # the block's last CRLF: its LF was the cut
            lines[-1] = lines[-1][:-1]
            text = text[:-1]
    except UnicodeDecodeError:
        lines, problems = _decode_lines(data, codec, first)
        lines = [line.removesuffix("\r") for line in lines]
        text = "\n".join(lines)
    return LineBlock(first, lines, problems, has_nul="\x00" in text,
                     special="\\" in text or "\t" in text or "\r" in text, longest=max(map(len, lines)))


def _drop_long_lines(block: LineBlock, limit: int) -> LineBlock:
    """Replace lines longer than ``limit`` characters by problems (they are not parsed)."""
    for index, line in enumerate(block.lines):
        if len(line) > limit:
            block.lines[index] = ""
            block.problems[block.first + index] = _too_long(limit)
    block.longest = max(map(len, block.lines))
    return block


def _too_long(limit: int) -> LineProblem:
    return LineProblem("line_too_long", f"line is longer than {limit:,} characters (the limit follows "
                                        "source.max_field_size); it was not parsed")


class _Lines:
    """State of one pass over a stream: bytes not yet split, the line number they start at."""

    def __init__(self, stream: IO[bytes] | _Utf8Recoder, head: bytes, codec: str, max_line_bytes: int,
                 block_bytes: int) -> None:
        self.stream, self.pending, self.codec = stream, head, codec
        self.max_line_bytes, self.block_bytes = max_line_bytes, block_bytes
        self.number, self.eof = 1, False

    def _read(self) -> bytes:
        data = self.stream.read(self.block_bytes)
        self.eof = not data
        return data

    def _skip_rest_of_line(self) -> None:
        """Read past an over-long line without keeping it; keep what follows its line break."""
        self.pending = b""
        while data := self._read():
            cut = data.find(b"\n")
            if cut >= 0:
                self.pending = data[cut + 1:]
                return

    def blocks(self) -> Iterator[LineBlock]:
        while True:
            if not self.eof and self.pending.find(b"\n") < 0:
                if len(self.pending) > self.max_line_bytes:
                    problem = _too_long(self.max_line_bytes)
                    yield LineBlock(self.number, [""], {self.number: problem})
                    self.number += 1
                    self._skip_rest_of_line()
                else:
                    self.pending += self._read()
                continue
            if not self.pending:
                return
            cut = self.pending.rfind(b"\n")
            if cut < 0:  # the last line has no line break
                cut = len(self.pending)
            data, self.pending = self.pending[:cut], self.pending[cut + 1:]
            block = _block(data, self.codec, self.number)
            if block.longest > self.max_line_bytes:
                block = _drop_long_lines(block, self.max_line_bytes)
            self.number += len(block.lines)
            yield block


def line_blocks(handle: IO[bytes], file: str, encoding: str, max_line_bytes: int, kind: str = "CSV",
                block_bytes: int = BLOCK_BYTES) -> Iterator[LineBlock]:
    """Yield the file's physical lines in blocks. A line longer than ``max_line_bytes`` becomes a
    ``line_too_long`` problem and is skipped without being held in memory."""
    codec = codec_name(encoding, file)
    head = handle.read(block_bytes)
    skip = _sniff(head, file, codec, kind)
    if codec in _WIDE_CODECS:
        recoder = _Utf8Recoder(handle, head, codec, file)
        yield from _Lines(recoder, recoder.read(block_bytes), "utf-8", max_line_bytes, block_bytes).blocks()
    else:
        yield from _Lines(handle, head[skip:], codec, max_line_bytes, block_bytes).blocks()
