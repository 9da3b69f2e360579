"""IBAN account numbers (Presidio's pattern with the ISO 13616 check digits)."""

from __future__ import annotations

from presidio_analyzer.predefined_recognizers import IbanRecognizer

from atlas.pii.entities import IBAN_CODE


class AtlasIbanRecognizer(IbanRecognizer):
    """``IBAN_CODE``, e.g. ``DK50 0040 0440 1162 43``; only numbers whose check digits verify."""

    ATLAS_NAME = "iban"
    CONTEXT = {
        "en": ["iban", "bank", "account", "transfer", "payment"],
        "da": ["iban", "bank", "konto", "kontonummer", "overførsel", "betaling"],
    }

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(
            context=context or self.CONTEXT.get(supported_language, self.CONTEXT["en"]),
            supported_language=supported_language,
            supported_entity=IBAN_CODE,
            name=self.ATLAS_NAME,
        )
