"""One Presidio recognizer per file, enabled per table by name (``PiiSpec.recognizers``)."""

from __future__ import annotations

from atlas.pii.recognizers.cpr import DanishCprRecognizer
from atlas.pii.recognizers.credit_card import AtlasCreditCardRecognizer
from atlas.pii.recognizers.dk_phone import DanishPhoneRecognizer
from atlas.pii.recognizers.email import AtlasEmailRecognizer
from atlas.pii.recognizers.iban import AtlasIbanRecognizer
from atlas.pii.recognizers.ip_address import AtlasIpRecognizer
from atlas.pii.recognizers.location import LocationRecognizer
from atlas.pii.recognizers.person import PersonRecognizer
from atlas.pii.recognizers.phone import InternationalPhoneRecognizer

RECOGNIZERS: dict[str, type] = {
    cls.ATLAS_NAME: cls
    for cls in (
        DanishCprRecognizer,
        DanishPhoneRecognizer,
        InternationalPhoneRecognizer,
        AtlasEmailRecognizer,
        AtlasIbanRecognizer,
        AtlasCreditCardRecognizer,
        AtlasIpRecognizer,
        PersonRecognizer,
        LocationRecognizer,
    )
}
# Recognizers that read the NER model's entities (the expensive pass).
NER_RECOGNIZERS = frozenset({PersonRecognizer.ATLAS_NAME, LocationRecognizer.ATLAS_NAME})

__all__ = ["NER_RECOGNIZERS", "RECOGNIZERS"]
