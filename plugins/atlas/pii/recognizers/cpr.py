"""Danish CPR number: DDMMYY-XXXX or DDMMYYXXXX with a real date of birth."""

from __future__ import annotations

import re
from datetime import date

from presidio_analyzer import Pattern, PatternRecognizer

from atlas.pii.entities import DK_CPR

_DIGITS = re.compile(r"\D")


def cpr_birth_date(text: str) -> date | None:
    """Birth date encoded in a CPR number, or None when the digits do not form a real date.

    The century follows from the first serial digit (the CPR office's rule): 0-3 -> 1900s;
    4 and 9 -> 2000s for years 00-36, else 1900s; 5-8 -> 2000s for 00-57, else 1800s.
    """
    digits = _DIGITS.sub("", text)
    if len(digits) != 10:
        return None
    day, month, yy, serial = int(digits[0:2]), int(digits[2:4]), int(digits[4:6]), int(digits[6])
    if serial <= 3:
        century = 1900
    elif serial in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:
        century = 2000 if yy <= 57 else 1800
    try:
        return date(century + yy, month, day)
    except ValueError:
        return None


class DanishCprRecognizer(PatternRecognizer):
    """``DK_CPR``: the dashed form scores above the default threshold on its own; ten bare
    digits need a context word (``cpr``, ``personnummer``) or a column-name hint."""

    ATLAS_NAME = "cpr"
    PATTERNS = (
        Pattern("cpr_dashed", r"(?<![\w+-])\d{6}-\d{4}(?![\w-])", 0.6),
        Pattern("cpr_digits", r"(?<![\w+-])\d{10}(?![\w-])", 0.3),
    )
    CONTEXT = {
        "en": ["cpr", "cpr-nr", "cprnr", "ssn", "social", "security", "personal", "identity", "id"],
        "da": ["cpr", "cpr-nr", "cprnr", "cpr-nummer", "personnummer", "personnr", "fødselsnummer"],
    }

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(
            supported_entity=DK_CPR,
            name=self.ATLAS_NAME,
            patterns=list(self.PATTERNS),
            context=context or self.CONTEXT.get(supported_language, self.CONTEXT["en"]),
            supported_language=supported_language,
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        """A CPR-shaped number whose date is impossible (e.g. 31 February) is not a CPR."""
        return cpr_birth_date(pattern_text) is None
