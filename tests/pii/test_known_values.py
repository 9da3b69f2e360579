"""Known-value redaction: the slice's own structured values found again inside free text, in
any row, in their normalised forms, through zero-width and bidi characters and in any script.

Checks speak in booleans and counts; no assertion message shows a value."""

from __future__ import annotations

import pandas as pd
import pytest

from atlas.config import ColumnPolicy, PiiSpec
from atlas.pii import ColumnFinding, build_protector
from atlas.pii.known_values import (
    KnownValues,
    compact_candidates,
    dictionary_columns,
    key_hash,
    load_known_values,
    phone_variants,
)
from atlas.pii.normalize import normalize, visual_variant

COLUMNS = {
    "PERSON": ["Anders Jensen", "Zoë Krüger", "Bøje Kjeldsen-Lassen", "Anna van der Berg", "王秀英", "محمد العلي",
               "דוד כהן", "Ole Hensen"],
    "EMAIL_ADDRESS": ["Anders.Jensen@Example.dk", "mette+shop@mail.dk"],
    "PHONE_NUMBER": ["+4520304050", "0046701234567", "+44 (0)20 7946 0958"],
    "DK_CPR": ["010190-1234"],
    "IBAN_CODE": ["DK5000400440116243"],
    "CREDIT_CARD": ["4111111111111111"],
    "LOCATION": ["Nørregade 12, 2100 København Ø"],
}


@pytest.fixture(scope="module")
def known() -> KnownValues:
    return KnownValues.from_columns(COLUMNS.items())


def covered(known: KnownValues, text: str, part: str, entity: str | None = None) -> bool:
    """Whether known-value spans (of ``entity``) cover every non-space character of ``part``."""
    start = text.index(part)
    cover = {i for s in known.find([text])[0] if entity is None or s.entity == entity for i in range(s.start, s.end)}
    return all(i in cover for i in range(start, start + len(part)) if not text[i].isspace())


@pytest.mark.parametrize(
    ("text", "part", "entity"),
    [
        ("Spoke with Anders Jensen today.", "Anders Jensen", "PERSON"),
        ("spoke with anders jensen today", "anders jensen", "PERSON"),  # case-folded
        ("Jensen, Anders called", "Jensen, Anders", "PERSON"),  # reversed order
        ("Hr. Kjeldsen-Lassen ringede", "Kjeldsen-Lassen", "PERSON"),  # surname alone, hyphenated
        ("Ms. van der Berg at the desk", "van der Berg", "PERSON"),  # particles
        ("Mr Jensen wants a refund", "Jensen", "PERSON"),  # capitalised name part
        ("Kunden 王秀英 ringede", "王秀英", "PERSON"),
        ("客户王秀英来电", "王秀英", "PERSON"),  # no spaces around a Chinese name
        ("Kunde محمد العلي ringede", "محمد العلي", "PERSON"),
        ("Kunde דוד כהן ringede", "דוד כהן", "PERSON"),
        ("Mail fra ANDERS.JENSEN@EXAMPLE.DK i går", "ANDERS.JENSEN@EXAMPLE.DK", "EMAIL_ADDRESS"),
        ("<mette+shop@mail.dk> wrote", "mette+shop@mail.dk", "EMAIL_ADDRESS"),
        ("tlf 20 30 40 50 efter kl. 16", "20 30 40 50", "PHONE_NUMBER"),  # national, grouped
        ("ring 2030-4050", "2030-4050", "PHONE_NUMBER"),
        ("call 0045 2030 4050", "0045 2030 4050", "PHONE_NUMBER"),  # 00 prefix
        ("reach her on +46 70 123 45 67", "+46 70 123 45 67", "PHONE_NUMBER"),  # stored with 00
        ("ring 070-123 45 67", "070-123 45 67", "PHONE_NUMBER"),  # trunk-0 national form
        ("office 020 7946 0958", "020 7946 0958", "PHONE_NUMBER"),  # stored as +44 (0)20
        ("cpr 010190 1234 ok", "010190 1234", "DK_CPR"),
        ("cpr 010190.1234 ok", "010190.1234", "DK_CPR"),
        ("cpr 0101901234 ok", "0101901234", "DK_CPR"),
        ("IBAN DK50 0040 0440 1162 43 ok", "DK50 0040 0440 1162 43", "IBAN_CODE"),
        ("card 4111 1111 1111 1111 ok", "4111 1111 1111 1111", "CREDIT_CARD"),
        ("card 4111-1111-1111-1111 ok", "4111-1111-1111-1111", "CREDIT_CARD"),
        ("Flyttet fra Nørregade 12, 2100 København Ø.", "Nørregade 12, 2100 København Ø", "LOCATION"),
    ],
)
def test_known_values_are_found_in_their_normalised_forms(known, text, part, entity):
    found = covered(known, text, part, entity)
    assert found, "known value not covered"


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("Customer Zoë\u200dKrüger called", "Zoë\u200dKrüger"),  # zero-width joiner instead of a space
        ("Customer Zo\u200bë Krüger called", "Zo\u200bë Krüger"),  # zero-width space inside a word
        ("Customer Zoe\u0308 Kru\u0308ger called", "Zoe\u0308 Kru\u0308ger"),  # decomposed (NFD)
        ("Kunden Ole \u202eNESNEH\u202c ringede", "Ole \u202eNESNEH"),  # shown right to left
        ("Kunden An\u00adders Jen\u00adsen ringede", "An\u00adders Jen\u00adsen"),  # soft hyphens
    ],
)
def test_names_broken_by_invisible_characters_are_found_with_original_offsets(known, text, part):
    found = covered(known, text, part, "PERSON")
    assert found, "broken name not covered"


def test_lower_case_name_parts_and_common_words_are_not_redacted(known):
    assert known.find(["the jensen family recipe"])[0] == []  # a name part only where capitalised
    dictionary = KnownValues.from_columns([("PERSON", ["Kunde", "Al", "Bo Li"])])
    assert dictionary.find(["Kunde ringede. Al Bo fik kaffe."])[0] == []
    numbers = KnownValues.from_columns([("PII", ["2100", "C000123"])])
    assert numbers.find(["Postnummer 2100, kunde C000123"])[0] != []  # the id, a word of its own
    assert all(s.end - s.start == 7 for s in numbers.find(["Postnummer 2100, kunde C000123"])[0])


def test_spans_carry_offsets_and_entities_not_values(known):
    (spans,) = known.find(["Anders Jensen: +45 20 30 40 50"])
    assert {s.entity for s in spans} == {"PERSON", "PHONE_NUMBER"}
    assert all(isinstance(s.start, int) and s.recognizer == "known_value" for s in spans)
    assert "Anders" not in repr(known) and "Jensen" not in repr(known.summary())


def test_matching_is_deterministic_and_hashes_are_stable_across_processes(known):
    shuffled = KnownValues.from_columns(reversed(list(COLUMNS.items())))
    texts = ["Spoke with Anders Jensen, +45 20 30 40 50", "客户王秀英来电", "Ole \u202eNESNEH\u202c"]
    def order(spans: list) -> list:
        return sorted((s.start, s.end, s.entity) for s in spans)

    assert [order(s) for s in known.find(texts)] == [order(s) for s in shuffled.find(texts)]
    assert key_hash("anders jensen") == 13528963201376415312  # XXH3-64: the same in every process


def test_phone_variants_and_number_candidates():
    assert {"4520304050", "20304050", "004520304050", "020304050"} <= phone_variants("+45 20 30 40 50")
    assert {"442079460958", "2079460958", "02079460958"} <= phone_variants("+44 (0)20 7946 0958")
    keys = {key for _, _, key in compact_candidates("call +45 20 30 40 50 or order ORD 123")}
    assert {"4520304050", "20304050"} <= keys and not any("ord" in k for k in keys)
    iban = {key for _, _, key in compact_candidates("NL11 ABNA 2552 9612 50")}
    assert "nl11abna2552961250" in iban


def test_normalised_offsets_map_back_to_the_original():
    text = "Zoë\u200dKrüger ringede"
    view = normalize(text)
    assert view.text == "ZoëKrüger ringede" and view.original_span(0, 9) == (0, 10)
    assert not normalize("plain ascii").changed
    visual = visual_variant("Ole \u202eNESNEH\u202c ringede")
    assert visual is not None and visual.text.startswith("Ole HENSEN")
    start, end = visual.original_span(4, 10)
    assert "Ole \u202eNESNEH\u202c ringede"[start:end].strip("\u202c\u202e") == "NESNEH"


# ---------------------------------------------------------------- with the Protector
def test_protector_redacts_values_of_any_row_and_keeps_structured_columns_protected(keys):
    frame = pd.DataFrame({
        "customer_name": ["Anders Jensen", "Mette Hansen", "王秀英"],
        "phone_number": ["+4520304050", "+4531415161", "+4542526272"],
        "notes": ["Wrong number: we called 31 41 51 61 (mette hansen) by mistake.",
                  "Kunden 王秀英 bad om at blive ringet op på 4252 6272.",
                  "Anders\u200bJensen ringede om sin ordre."],
    })
    findings = [
        ColumnFinding("customer_name", "structured", ("PERSON",), 0.9, 1.0, 3, ("person",), "pseudonymize", "default"),
        ColumnFinding("phone_number", "structured", ("PHONE_NUMBER",), 0.9, 1.0, 3, ("phone",), "mask", "default"),
        ColumnFinding("notes", "free_text", ("PERSON",), 0.9, 1.0, 3, ("person",), "replace", "default"),
    ]
    spec = PiiSpec(columns={"phone_number": ColumnPolicy(strategy="mask", keep_last=2)})
    known = KnownValues.from_columns((e, frame[c]) for c, e in dictionary_columns(findings))
    with build_protector(spec, findings, keys, known_values=known) as protector:
        out = protector.protect(frame)
    assert not set(frame["customer_name"]) & set(out["customer_name"])
    assert all(v.startswith("ps_") for v in out["customer_name"])
    assert all(v.endswith(p[-2:]) and "*" in v for v, p in zip(out["phone_number"], frame["phone_number"], strict=True))
    notes = " ".join(out["notes"])
    leftovers = ["mette hansen", "31 41 51 61", "王秀英", "4252 6272", "Anders", "Jensen"]
    assert sum(part in notes for part in leftovers) == 0
    assert out["notes"][0].startswith("Wrong number: we called <PHONE_NUMBER> (<PERSON>) by mistake.")
    assert protector.summary()["known_value_spans"] >= 5


def test_dictionary_columns_follow_the_guard():
    findings = [
        ColumnFinding("name", "structured", ("PERSON",), 0.9, 1.0, 3, (), "pseudonymize", "default"),
        ColumnFinding("zip", "structured", ("POSTAL_CODE",), 0.9, 1.0, 3, (), "generalize", "default"),
        ColumnFinding("city", "structured", ("LOCATION",), 0.9, 1.0, 3, (), "keep", "config"),
        ColumnFinding("customer_id", "none", (), 0.9, 0.0, 3, (), "pseudonymize", "config"),
        ColumnFinding("tier", "none", (), 0.9, 0.0, 3, (), "keep", "none"),
        ColumnFinding("notes", "free_text", ("PERSON",), 0.9, 1.0, 3, (), "replace", "default"),
    ]
    assert dictionary_columns(findings) == [("name", "PERSON"), ("customer_id", "PII")]


# ---------------------------------------------------------------- loading from bronze
@pytest.fixture
def bronze_slice(wh_conn):
    with wh_conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS bronze")
        cur.execute("DROP TABLE IF EXISTS bronze.kv_probe")
        cur.execute("CREATE TABLE bronze.kv_probe (customer_name text, email text, city text, notes text, "
                    "_atlas_logical_date date)")
        cur.executemany("INSERT INTO bronze.kv_probe VALUES (%s, %s, %s, %s, %s)", [
            ("Anders Jensen", "anders@example.dk", "Aarhus", "n", "2031-01-01"),
            ("Anders Jensen", "anders@example.dk", "Aarhus", "n", "2031-01-01"),  # duplicates read once
            ("Mette Hansen", None, "Odense", "n", "2031-01-01"),
            ("Lars Nielsen", "lars@example.dk", "Vejle", "n", "2031-01-02"),  # another date
        ])
    wh_conn.commit()
    yield "kv_probe"
    with wh_conn.cursor() as cur:
        cur.execute("DROP TABLE bronze.kv_probe")
    wh_conn.commit()


def test_loader_reads_the_slice_distinct_values_in_one_query(wh_conn, bronze_slice):
    findings = [
        ColumnFinding("customer_name", "structured", ("PERSON",), 0.9, 1.0, 3, (), "pseudonymize", "default"),
        ColumnFinding("email", "structured", ("EMAIL_ADDRESS",), 0.9, 1.0, 3, (), "pseudonymize", "default"),
        ColumnFinding("city", "structured", ("LOCATION",), 0.9, 1.0, 3, (), "keep", "config"),
        ColumnFinding("notes", "free_text", ("PERSON",), 0.9, 1.0, 3, (), "replace", "default"),
    ]
    known = load_known_values(wh_conn, bronze_slice, findings, "2031-01-01")
    assert len(known) == 3  # two names and one email of that date, each once
    (spans,) = known.find(["Mette Hansen and anders@example.dk, not Lars Nielsen, in Aarhus"])
    assert sorted(s.entity for s in spans) == ["EMAIL_ADDRESS", "PERSON"]
    without_free_text = [f for f in findings if f.kind != "free_text"]
    assert len(load_known_values(wh_conn, bronze_slice, without_free_text, "2031-01-01")) == 0
