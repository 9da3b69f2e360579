"""IPv4 and IPv6 addresses (Presidio's patterns)."""

from __future__ import annotations

from presidio_analyzer.predefined_recognizers import IpRecognizer

from atlas.pii.entities import IP_ADDRESS


class AtlasIpRecognizer(IpRecognizer):
    """``IP_ADDRESS``: dotted IPv4 (octets 0-255) and IPv6 forms."""

    ATLAS_NAME = "ip_address"
    CONTEXT = {
        "en": ["ip", "ipv4", "ipv6", "address", "login", "host"],
        "da": ["ip", "ip-adresse", "adresse", "login"],
    }

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(
            context=context or self.CONTEXT.get(supported_language, self.CONTEXT["en"]),
            supported_language=supported_language,
            supported_entity=IP_ADDRESS,
            name=self.ATLAS_NAME,
        )
