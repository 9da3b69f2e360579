"""Entity type names Atlas detects, and the tag that replaces a span of each."""

from __future__ import annotations

DK_CPR = "DK_CPR"
PHONE_NUMBER = "PHONE_NUMBER"
EMAIL_ADDRESS = "EMAIL_ADDRESS"
IBAN_CODE = "IBAN_CODE"
CREDIT_CARD = "CREDIT_CARD"
IP_ADDRESS = "IP_ADDRESS"
PERSON = "PERSON"
LOCATION = "LOCATION"
# Quasi-identifiers found from column-name hints plus the shape of the values.
DATE_OF_BIRTH = "DATE_OF_BIRTH"
POSTAL_CODE = "POSTAL_CODE"

# Result metadata key marking a bare place name from NER (a city, a country) rather than an
# address: evidence of a location, not of a person.
PLACE_NAME_KEY = "atlas_place_name"

# Entities found by the NER model (weaker evidence than validated patterns).
NER_ENTITIES = frozenset({PERSON, LOCATION})


def tag(entity: str) -> str:
    """Replacement text for a span or value of ``entity``: ``<EMAIL_ADDRESS>``."""
    return f"<{entity}>"
