"""Danish phone numbers: +45 / 0045 and eight digits; bare eight digits need context."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from atlas.pii.entities import PHONE_NUMBER


class DanishPhoneRecognizer(PatternRecognizer):
    """``PHONE_NUMBER`` in Danish formats: ``+45 20 30 40 50``, ``0045 2030 4050``, ``(+45) 20304050``.

    Eight bare digits (``20 30 40 50``) score below the default threshold unless a context
    word (``tlf``, ``mobil``, ``phone``) or a column-name hint supports them.
    """

    ATLAS_NAME = "dk_phone"
    PATTERNS = (
        Pattern(
            "dk_phone_prefixed",
            r"(?<![\w+])(?:\(\s*)?(?:\+|00)45(?:\s*\))?[ .-]?\d{2}(?:[ .-]?\d){6}(?![\d])",
            0.7,
        ),
        Pattern("dk_phone_bare", r"(?<![\w+.,/-])[2-9]\d(?:[ ]?\d{2}){3}(?![\w.,/-]?\d)", 0.4),
    )
    CONTEXT = {
        "en": ["phone", "telephone", "tel", "mobile", "cell", "call", "sms", "fax", "contact"],
        "da": ["telefon", "tlf", "mobil", "mobilnummer", "telefonnummer", "ring", "ringede", "sms", "kontakt"],
    }

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(
            supported_entity=PHONE_NUMBER,
            name=self.ATLAS_NAME,
            patterns=list(self.PATTERNS),
            context=context or self.CONTEXT.get(supported_language, self.CONTEXT["en"]),
            supported_language=supported_language,
        )
