"""Danish CPR number: DDMMYY-XXXX, DDMMYY XXXX, DDMMYY.XXXX or DDMMYYXXXX with a real date of birth."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from atlas.cpr import cpr_birth_date
from atlas.pii.entities import DK_CPR
from atlas.pii.recognizers.dk_phone import LabelledNumbersUnboosted

_BEFORE = r"(?<![\w+.,/-])"
_AFTER = r"(?![\w-]|[ .,/]\d)"


class DanishCprRecognizer(LabelledNumbersUnboosted, PatternRecognizer):
    """``DK_CPR``: the dashed form scores above the default threshold on its own; with a space, a
    dot or no separator (a date and a number, or ten digits) it needs a context word (``cpr``,
    ``cpr.nr.``, ``personnummer``) or a column-name hint. The six leading digits must be a real
    date under the CPR office's century rule."""

    ATLAS_NAME = "cpr"
    PATTERNS = (
        Pattern("cpr_dashed", rf"{_BEFORE}\d{{6}}-\d{{4}}{_AFTER}", 0.6),
        Pattern("cpr_spaced", rf"{_BEFORE}\d{{6}}[ .]\d{{4}}{_AFTER}", 0.3),
        Pattern("cpr_digits", rf"{_BEFORE}\d{{10}}{_AFTER}", 0.3),
    )
    CONTEXT = {
        "en": ["cpr", "cpr-nr", "cprnr", "ssn", "social", "security", "personal", "identity", "id", "civil",
               "registration"],
        "da": ["cpr", "cpr-nr", "cprnr", "cpr-nummer", "cprnummer", "personnummer", "personnr", "fødselsnummer",
               "persnr"],
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
