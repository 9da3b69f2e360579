"""What a column's name suggests: an entity, free text, or a category that is not PII."""

from __future__ import annotations

import re
from dataclasses import dataclass

from atlas.pii.entities import (
    CREDIT_CARD,
    DATE_OF_BIRTH,
    DK_CPR,
    EMAIL_ADDRESS,
    IBAN_CODE,
    IP_ADDRESS,
    LOCATION,
    PERSON,
    PHONE_NUMBER,
    POSTAL_CODE,
)

# Name parts (split on "_" and camelCase) -> entity. English and Danish.
ENTITY_WORDS: dict[str, str] = {
    **dict.fromkeys(["name", "navn", "fullname", "firstname", "lastname", "surname", "fornavn", "efternavn"], PERSON),
    **dict.fromkeys(["email", "mail", "emailaddress", "e-mail"], EMAIL_ADDRESS),
    **dict.fromkeys(["phone", "telephone", "tel", "tlf", "mobile", "mobil", "telefon", "cell", "fax"], PHONE_NUMBER),
    **dict.fromkeys(["cpr", "cprnr", "personnummer", "ssn"], DK_CPR),
    **dict.fromkeys(["address", "adresse", "street", "vej", "gade", "addr"], LOCATION),
    **dict.fromkeys(["iban", "konto", "kontonummer", "bankaccount"], IBAN_CODE),
    **dict.fromkeys(["card", "creditcard", "kort", "pan"], CREDIT_CARD),
    **dict.fromkeys(["ip", "ipaddress", "ipv4", "ipv6"], IP_ADDRESS),
}
# Multi-word hints, matched on the joined name.
ENTITY_PHRASES: dict[str, str] = {
    "date_of_birth": DATE_OF_BIRTH,
    "birth_date": DATE_OF_BIRTH,
    "birthdate": DATE_OF_BIRTH,
    "birthday": DATE_OF_BIRTH,
    "dob": DATE_OF_BIRTH,
    "foedselsdato": DATE_OF_BIRTH,
    "fødselsdato": DATE_OF_BIRTH,
    "postal_code": POSTAL_CODE,
    "postalcode": POSTAL_CODE,
    "post_code": POSTAL_CODE,
    "postcode": POSTAL_CODE,
    "zip": POSTAL_CODE,
    "zip_code": POSTAL_CODE,
    "zipcode": POSTAL_CODE,
    "postnummer": POSTAL_CODE,
    "postnr": POSTAL_CODE,
    "ip_address": IP_ADDRESS,
    "credit_card": CREDIT_CARD,
    "card_number": CREDIT_CARD,
    "account_number": IBAN_CODE,
}
FREE_TEXT_WORDS = frozenset(
    "notes note comment comments remark remarks description message body text memo feedback "
    "noter note kommentar kommentarer bemaerkning bemærkning besked beskrivelse".split()
)
# Categorical columns whose values the NER model may mistake for names or places.
CATEGORY_WORDS = frozenset(
    "country land currency valuta status state tier segment category type kind code sku product brand "
    "channel method language sprog region gender plan level company firma store shop file".split()
)
# Names that make an entity unlikely even when digits happen to validate (ids, amounts, dates).
NOT_PII_WORDS = frozenset(
    "id uuid key amount total price sum qty quantity count number_of date time timestamp created updated "
    "ean sku hour weekday version".split()
)


def name_parts(column: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", column)
    return [p for p in re.split(r"[^0-9A-Za-zæøåÆØÅ-]+", spaced.lower()) if p]


@dataclass(frozen=True)
class ColumnHint:
    """What the name of a column suggests."""

    entity: str | None = None
    free_text: bool = False
    category: bool = False


def hint_for(column: str) -> ColumnHint:
    """The hint a column name gives (English and Danish words)."""
    parts = name_parts(column)
    joined = "_".join(parts)
    entity = next(
        (e for phrase, e in ENTITY_PHRASES.items() if joined == phrase or joined.endswith("_" + phrase)), None
    )
    category = any(p in CATEGORY_WORDS for p in parts)
    if entity is None and not category and not (parts and parts[-1] in NOT_PII_WORDS):
        entity = next((ENTITY_WORDS[p] for p in reversed(parts) if p in ENTITY_WORDS), None)
    return ColumnHint(
        entity=entity,
        free_text=any(p in FREE_TEXT_WORDS for p in parts),
        category=entity is None and category,
    )


def context_for(column: str) -> list[str]:
    """Column-name parts given to Presidio as context words (``phone_number`` -> phone, number)."""
    return [p for p in name_parts(column) if len(p) > 1]
