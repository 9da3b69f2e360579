"""Text normalisation before PII matching, with offsets mapped back to the original text.

Names and numbers can be broken up by characters that do not show: zero-width spaces and
joiners, soft hyphens, word joiners, byte-order marks and bidi controls (``Zoë\u200dKrüger``,
``Ole \u202eNESNEH``). Every Unicode format character (category ``Cf``) is removed and the
rest is composed (NFC, cluster by cluster), so detectors and the known-value dictionary see
``ZoëKrüger`` and ``Ole NESNEH``. :meth:`Normalized.original_span` maps a span of the
normalised text back to the original, covering any removed characters inside it.

A right-to-left override (U+202E) shows the characters after it in reverse order:
:func:`visual_variant` gives the text as it is displayed (``Ole HENSEN``), for matching
known values.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

RLO = "\u202e"  # right-to-left override
# Characters that end a directional override: pop directional formatting / isolate, line ends.
OVERRIDE_ENDS = frozenset("\u202c\u2069\n\r\u2029")


def is_format_char(char: str) -> bool:
    return unicodedata.category(char) == "Cf"


@dataclass(frozen=True)
class Normalized:
    """``text`` (normalised) and, per character of it, the original [start, end) it came from."""

    text: str
    starts: tuple[int, ...] | None = None  # None: identical to the original
    ends: tuple[int, ...] | None = None

    @property
    def changed(self) -> bool:
        return self.starts is not None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) of the normalised [start, end) (end > start)."""
        if self.starts is None or self.ends is None:
            return start, end
        return min(self.starts[start:end]), max(self.ends[start:end])


@lru_cache(maxsize=1)
def format_chars() -> re.Pattern[str]:
    """A character class of every format character (category Cf): they sit in the first three
    planes and the tag block."""
    codes = [*range(0x30000), *range(0xE0000, 0xE0100)]
    chars = "".join(re.escape(chr(c)) for c in codes if unicodedata.category(chr(c)) == "Cf")
    return re.compile(f"[{chars}]")


def needs_normalising(text: str) -> bool:
    """Whether :func:`normalize` would change ``text`` (cheap for ASCII)."""
    if text.isascii():
        return False
    return format_chars().search(text) is not None or not unicodedata.is_normalized("NFC", text)


def normalize(text: str) -> Normalized:
    """``text`` without format characters (zero-width, bidi, soft hyphen), composed to NFC."""
    if not needs_normalising(text):
        return Normalized(text)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        if unicodedata.category(text[i]) == "Cf":
            i += 1
            continue
        j = i + 1  # a cluster: one base character and the combining marks after it
        while j < n and (unicodedata.combining(text[j]) or unicodedata.category(text[j]) == "Cf"):
            j += 1
        cluster = unicodedata.normalize("NFC", "".join(c for c in text[i:j] if unicodedata.category(c) != "Cf"))
        for char in cluster:
            out.append(char)
            starts.append(i)
            ends.append(j)
        i = j
    return Normalized("".join(out), tuple(starts), tuple(ends))


def visual_variant(text: str) -> Normalized | None:
    """The normalised text as displayed when it holds a right-to-left override: each run after
    U+202E (up to its pop, an isolate end or a line end) reversed. None without an override."""
    if RLO not in text:
        return None
    runs: list[tuple[int, int]] = []  # original [start, end) of each overridden run
    index = text.find(RLO)
    while index != -1:
        end = next((j for j in range(index + 1, len(text)) if text[j] in OVERRIDE_ENDS), len(text))
        runs.append((index + 1, end))
        index = text.find(RLO, end)
    base = normalize(text)
    starts = base.starts or tuple(range(len(text)))
    ends = base.ends or tuple(range(1, len(text) + 1))
    order: list[int] = []
    group: list[int] = []
    current = None
    for k, start in enumerate(starts):
        run = next((r for r in runs if r[0] <= start < r[1]), None)
        if run != current:
            order.extend(reversed(group))
            group = []
            current = run
        (group if run is not None else order).append(k)
    order.extend(reversed(group))
    return Normalized("".join(base.text[k] for k in order), tuple(starts[k] for k in order),
                      tuple(ends[k] for k in order))
