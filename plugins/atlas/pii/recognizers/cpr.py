"""Danish CPR number: DDMMYY-XXXX or DDMMYYXXXX with a real date of birth."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from atlas.cpr import cpr_birth_date
from atlas.pii.entities import DK_CPR


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
