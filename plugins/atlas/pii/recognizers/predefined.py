"""Presidio's own email, IBAN and IP recognizers, configured: Atlas's name, entity and context words.

Email: the top-level domain is checked against tldextract's bundled public suffix snapshot (the
engine configures tldextract never to fetch the list). IBAN: only numbers whose ISO 13616 check
digits verify (``DK50 0040 0440 1162 43``). IP: dotted IPv4 (octets 0-255) and IPv6 forms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from presidio_analyzer import PatternRecognizer
from presidio_analyzer.predefined_recognizers import EmailRecognizer, IbanRecognizer, IpRecognizer

from atlas.pii import entities


@dataclass(frozen=True)
class Configured:
    """One of Presidio's predefined recognizers under an Atlas name, with context words per language.

    :param presidio_class: the Presidio recognizer class, used as it is.
    :param name: the name tables enable it by (``pii.recognizers``) and findings report.
    :param entity: the entity type it reports.
    :param CONTEXT: context words per language code.
    """

    presidio_class: type[PatternRecognizer]
    name: str
    entity: str
    CONTEXT: Mapping[str, Sequence[str]]

    def __call__(self, supported_language: str, context: list[str]) -> PatternRecognizer:
        return self.presidio_class(
            name=self.name, supported_entity=self.entity, supported_language=supported_language, context=context
        )


EMAIL = Configured(EmailRecognizer, "email", entities.EMAIL_ADDRESS, {
    "en": ["email", "e-mail", "mail", "address", "contact"],
    "da": ["email", "e-mail", "mail", "mailadresse", "e-mailadresse", "adresse", "kontakt"],
})
IBAN = Configured(IbanRecognizer, "iban", entities.IBAN_CODE, {
    "en": ["iban", "bank", "account", "transfer", "payment"],
    "da": ["iban", "bank", "konto", "kontonummer", "overførsel", "betaling"],
})
IP_ADDRESS = Configured(IpRecognizer, "ip_address", entities.IP_ADDRESS, {
    "en": ["ip", "ipv4", "ipv6", "address", "login", "host"],
    "da": ["ip", "ip-adresse", "adresse", "login"],
})
