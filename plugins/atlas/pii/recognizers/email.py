"""Email addresses (Presidio's pattern + domain validation, offline)."""

from __future__ import annotations

from presidio_analyzer.predefined_recognizers import EmailRecognizer

from atlas.pii.entities import EMAIL_ADDRESS


class AtlasEmailRecognizer(EmailRecognizer):
    """``EMAIL_ADDRESS``; the top-level domain is checked against tldextract's bundled public
    suffix snapshot (the engine configures tldextract never to fetch the list)."""

    ATLAS_NAME = "email"
    CONTEXT = {
        "en": ["email", "e-mail", "mail", "address", "contact"],
        "da": ["email", "e-mail", "mail", "mailadresse", "e-mailadresse", "adresse", "kontakt"],
    }

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(
            context=context or self.CONTEXT.get(supported_language, self.CONTEXT["en"]),
            supported_language=supported_language,
            supported_entity=EMAIL_ADDRESS,
            name=self.ATLAS_NAME,
        )
