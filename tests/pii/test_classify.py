"""Column classification on mixed tables, policies, defaults and strict mode."""

from __future__ import annotations

import logging
import random

import pytest
from faker import Faker

from atlas.config import ColumnPolicy, PiiSpec
from atlas.errors import AtlasConfigError
from atlas.pii import ColumnFinding, classify_columns

ROWS = 60


def _mixed_table(seed: int = 5) -> dict[str, list[str | None]]:
    fake = Faker(["da_DK", "en_US", "de_DE"])
    fake.seed_instance(seed)
    rnd = random.Random(seed)
    names = [fake.name() for _ in range(ROWS)]
    notes = [
        rnd.choice([
            f"Customer {names[i]} called about a late parcel.",
            f"Asked for an invoice copy by email to {fake.email()} today.",
            "Wants the newsletter stopped and nothing else changed.",
            None,
        ])
        for i in range(ROWS)
    ]
    return {
        "customer_name": names,
        "email_address": [fake.email() for _ in range(ROWS)],
        "phone_number": [f"+45 {rnd.randrange(20, 99)} {rnd.randrange(10, 99)} {rnd.randrange(10, 99)} "
                         f"{rnd.randrange(10, 99)}" for _ in range(ROWS)],
        "cpr_number": [f"{rnd.randrange(1, 28):02d}{rnd.randrange(1, 12):02d}{rnd.randrange(50, 99)}-"
                       f"{rnd.randrange(0, 4)}{rnd.randrange(0, 999):03d}" for _ in range(ROWS)],
        "notes": notes,
        "order_id": [f"O{rnd.randrange(10**7, 10**8)}" for _ in range(ROWS)],
        "order_amount": [f"{rnd.randrange(100, 99999) / 100:.2f}" for _ in range(ROWS)],
        "order_date": [f"2026-{rnd.randrange(1, 12):02d}-{rnd.randrange(1, 28):02d} 10:00:00" for _ in range(ROWS)],
        "product_code": [f"SKU-{rnd.randrange(1000, 9999)}-XL" for _ in range(ROWS)],
        "country": [rnd.choice(["Denmark", "Sweden", "Germany"]) for _ in range(ROWS)],
        "warehouse": [rnd.choice(["Aarhus DC", "Kolding Hub", "Hamburg Nord"]) for _ in range(ROWS)],
        "invoice_number": [str(rnd.randrange(10**9, 10**10)) for _ in range(ROWS)],
        "date_of_birth": [str(fake.date_of_birth()) for _ in range(ROWS)],
        "postal_code": [fake.postcode() for _ in range(ROWS)],
    }


@pytest.fixture(scope="module")
def mixed() -> dict[str, list[str | None]]:
    return _mixed_table()


@pytest.fixture(scope="module")
def findings(mixed) -> dict[str, ColumnFinding]:
    return {f.column: f for f in classify_columns("mixed", mixed, PiiSpec(sample_size=10))}


EXPECTED = {
    "customer_name": ("structured", "PERSON"),
    "email_address": ("structured", "EMAIL_ADDRESS"),
    "phone_number": ("structured", "PHONE_NUMBER"),
    "cpr_number": ("structured", "DK_CPR"),
    "date_of_birth": ("structured", "DATE_OF_BIRTH"),
    "postal_code": ("structured", "POSTAL_CODE"),
    "notes": ("free_text", None),
}
PII_FREE = ["order_id", "order_amount", "order_date", "product_code", "country", "warehouse", "invoice_number"]


@pytest.mark.parametrize("column", sorted(EXPECTED))
def test_pii_columns_are_classified(findings, column):
    kind, entity = EXPECTED[column]
    finding = findings[column]
    assert finding.kind == kind
    if entity:
        assert finding.entity_types[0] == entity
    assert finding.policy_source == "default" and finding.strategy == "pseudonymize"


def test_free_text_lists_the_entities_inside(findings):
    assert {"PERSON", "EMAIL_ADDRESS"} <= set(findings["notes"].entity_types)
    assert {"person", "email"} <= set(findings["notes"].recognizers)


@pytest.mark.parametrize("column", PII_FREE)
def test_risky_looking_columns_are_not_pii(findings, column):
    finding = findings[column]
    assert (finding.kind, finding.strategy, finding.policy_source, finding.entity_types) == ("none", "keep", "none", ())


def test_one_finding_per_column_with_counts_not_values(findings, mixed):
    assert list(findings) == list(mixed)
    email = findings["email_address"]
    assert email.rows_scanned == ROWS and email.hit_rate == 1.0 and 0 < email.confidence <= 1
    assert findings["notes"].rows_scanned == sum(v is not None for v in mixed["notes"])
    assert set(email.as_record()) == {
        "column", "kind", "entity_types", "confidence", "hit_rate", "rows_scanned", "recognizers", "strategy",
        "policy_source",
    }


def test_configured_policy_wins_even_when_nothing_is_detected():
    spec = PiiSpec(columns={
        "customer_id": ColumnPolicy(strategy="pseudonymize"),
        "secret_code": ColumnPolicy(strategy="redact", entity="DK_CPR"),
        "remarks": ColumnPolicy(strategy="replace", free_text=True),
        "city": ColumnPolicy(strategy="keep"),
    })
    samples = {
        "customer_id": [f"C{i:06d}" for i in range(20)],
        "secret_code": ["n/a"] * 20,
        "remarks": ["fine"] * 20,
        "city": ["Aarhus", "Odense", "Aalborg", "Vejle", "Esbjerg"] * 4,
    }
    got = {f.column: f for f in classify_columns("t", samples, spec)}
    assert (got["customer_id"].kind, got["customer_id"].strategy, got["customer_id"].policy_source) == (
        "none", "pseudonymize", "config")
    assert (got["secret_code"].kind, got["secret_code"].entity_types) == ("structured", ("DK_CPR",))
    assert got["remarks"].kind == "free_text" and got["remarks"].strategy == "replace"
    assert got["city"].strategy == "keep" and got["city"].policy_source == "config"
    assert all(f.is_protected for f in got.values())


def test_unconfigured_pii_gets_the_default_strategy_and_a_warning_naming_only_the_column(mixed, caplog):
    emails = mixed["email_address"]
    with caplog.at_level(logging.WARNING, logger="atlas.pii.classify"):
        (finding,) = classify_columns("t", {"contact": emails}, PiiSpec(default_strategy="mask"))
    assert (finding.strategy, finding.policy_source) == ("mask", "default")
    messages = [r.getMessage() for r in caplog.records]
    assert any("contact" in m for m in messages)
    assert not any(e in m for m in messages for e in emails)


def test_strict_fails_naming_columns_without_values(mixed):
    emails = mixed["email_address"]
    with pytest.raises(AtlasConfigError) as err:
        classify_columns("t", {"contact": emails, "order_id": mixed["order_id"]}, PiiSpec(strict=True))
    assert "contact" in str(err.value) and "order_id" not in str(err.value)
    assert not any(e in str(err.value) for e in emails)


def test_strict_passes_when_every_pii_column_has_a_policy(mixed):
    spec = PiiSpec(strict=True, columns={"contact": ColumnPolicy(strategy="pseudonymize")})
    (finding,) = classify_columns("t", {"contact": mixed["email_address"]}, spec)
    assert finding.policy_source == "config"


def test_empty_and_missing_values():
    (finding,) = classify_columns("t", {"notes": [None, "", "   "]}, PiiSpec())
    assert (finding.kind, finding.rows_scanned, finding.hit_rate) == ("none", 0, 0.0)


def test_category_and_low_cardinality_columns_need_more_than_ner():
    places = ["Copenhagen", "Aarhus", "Berlin"] * 20
    got = {f.column: f.kind for f in classify_columns("t", {"country": places, "depot": places}, PiiSpec())}
    assert got == {"country": "none", "depot": "none"}


def test_prose_naming_only_places_is_not_pii():
    places = ["Portugal", "Denmark", "Copenhagen", "Italy", "Sweden", "Hamburg", "Norway", "Spain"]
    descriptions = [f"Organic cotton shirt, made in {places[i % 8]} with care, size {i % 5 + 1}" for i in range(40)]
    (finding,) = classify_columns("t", {"product_description": descriptions}, PiiSpec())
    assert finding.kind == "none"
    addresses = [f"Please deliver to Nørregade {i + 1}, 2100 København Ø before noon" for i in range(40)]
    (finding,) = classify_columns("t", {"delivery_instructions": addresses}, PiiSpec())
    assert finding.kind == "free_text" and finding.entity_types == ("LOCATION",)


def test_finding_round_trips_through_its_record(findings):
    finding = findings["notes"]
    assert ColumnFinding.from_record({**finding.as_record(), "table_name": "x"}) == finding
