"""Payment card numbers (Presidio's pattern; only numbers passing the Luhn check)."""

from __future__ import annotations

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

from atlas.pii.entities import CREDIT_CARD


class AtlasCreditCardRecognizer(CreditCardRecognizer):
    """``CREDIT_CARD``: 13-19 digits with a card-network prefix, Luhn-valid.

    Presidio's pattern plus Mastercard's 2-series (2221-2720), which it lacks."""

    ATLAS_NAME = "credit_card"
    PATTERNS = [
        Pattern(
            "card_number",
            r"\b(?!1\d{12}(?!\d))((4\d{3})|(5[0-5]\d{2})|(2[2-7]\d{2})|(6\d{3})|(1\d{3})|(3\d{3}))"
            r"[- ]?(\d{3,4})[- ]?(\d{3,4})[- ]?(\d{3,5})\b",
            0.3,
        ),
    ]
    CONTEXT = {
        "en": ["credit", "card", "visa", "mastercard", "amex", "maestro", "payment"],
        "da": ["kort", "kreditkort", "betalingskort", "dankort", "visa", "mastercard", "betaling"],
    }

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(
            patterns=self.PATTERNS,
            context=context or self.CONTEXT.get(supported_language, self.CONTEXT["en"]),
            supported_language=supported_language,
            supported_entity=CREDIT_CARD,
            name=self.ATLAS_NAME,
        )
