"""Payment card numbers (Presidio's pattern; only numbers passing the Luhn check)."""

from __future__ import annotations

from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

from atlas.pii.entities import CREDIT_CARD


class AtlasCreditCardRecognizer(CreditCardRecognizer):
    """``CREDIT_CARD``: 13-19 digits with a card-network prefix, Luhn-valid."""

    ATLAS_NAME = "credit_card"
    CONTEXT = {
        "en": ["credit", "card", "visa", "mastercard", "amex", "maestro", "payment"],
        "da": ["kort", "kreditkort", "betalingskort", "dankort", "visa", "mastercard", "betaling"],
    }

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(
            context=context or self.CONTEXT.get(supported_language, self.CONTEXT["en"]),
            supported_language=supported_language,
            supported_entity=CREDIT_CARD,
            name=self.ATLAS_NAME,
        )
