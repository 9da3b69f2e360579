"""Each recognizer with valid and invalid examples (all values are made up)."""

from __future__ import annotations

from datetime import date

import pytest

from atlas.pii.recognizers.cpr import cpr_birth_date
from tests.pii.conftest import ALL_RECOGNIZERS, luhn_complete


def test_all_nine_recognizers_enabled_by_default():
    assert len(set(ALL_RECOGNIZERS)) == 9


# ---------------------------------------------------------------- Danish CPR
@pytest.mark.parametrize(
    ("cpr", "born"),
    [
        ("010190-1234", date(1990, 1, 1)),
        ("0101901234", date(1990, 1, 1)),
        ("290200-4123", date(2000, 2, 29)),  # leap day, serial 4 -> 2000s
        ("010160-5123", date(1860, 1, 1)),  # serial 5-8 and year 58-99 -> 1800s
        ("010110-5123", date(2010, 1, 1)),
        ("010137-9123", date(1937, 1, 1)),  # serial 9, year >= 37 -> 1900s
    ],
)
def test_cpr_birth_date_follows_the_century_rule(cpr, born):
    assert cpr_birth_date(cpr) == born


@pytest.mark.parametrize("cpr", ["310290-1234", "300290-1234", "011390-1234", "000190-1234", "290201-4123", "12345"])
def test_cpr_with_an_impossible_date_is_no_cpr(cpr, entities_in):
    assert cpr_birth_date(cpr) is None
    assert "DK_CPR" not in entities_in(f"CPR {cpr} registered")


def test_cpr_dashed_form_is_found_alone(found):
    assert found("Identity checked: 010190-1234 ok", "DK_CPR", "010190-1234")


def test_cpr_without_dash_needs_a_context_word(found):
    assert found("CPR 0101901234 verified", "DK_CPR", "0101901234")
    assert found("personnummer 0101901234 registreret", "DK_CPR", "0101901234")
    assert not found("shipment 0101901234 left the warehouse", "DK_CPR", "0101901234")


def test_cpr_is_not_found_inside_longer_numbers(entities_in):
    assert "DK_CPR" not in entities_in("tracking 00101901234567 scanned")


# ---------------------------------------------------------------- phones
@pytest.mark.parametrize(
    "phone", ["+45 20 30 40 50", "+4520304050", "0045 2030 4050", "(+45) 20304050", "+45 2030 4050"]
)
def test_danish_phone_with_country_code(phone, found):
    assert found(f"Reach her at {phone} today", "PHONE_NUMBER", phone)


def test_danish_phone_without_country_code_needs_context(found):
    assert found("tlf 20 30 40 50", "PHONE_NUMBER", "20 30 40 50")
    assert found("Ring til kunden på 2030 4050", "PHONE_NUMBER", "2030 4050")
    assert not found("Pallet 20304050 moved to bay 4", "PHONE_NUMBER", "20304050")


def test_number_labelled_as_invoice_is_no_phone_even_near_a_phone_word(found):
    text = "Please call back on +45 20 30 40 50 regarding invoice 2125550147."
    assert found(text, "PHONE_NUMBER", "+45 20 30 40 50")
    assert not found(text, "PHONE_NUMBER", "2125550147")


@pytest.mark.parametrize("phone", ["+44 20 7946 0958", "+49 30 901820", "+1 212-555-0147", "0046 8 123 456 78"])
def test_international_phone_with_prefix(phone, found):
    assert found(f"Number given: {phone}.", "PHONE_NUMBER", phone)


def test_national_phone_needs_context(found):
    assert found("Call me on (212) 555-0147 after five", "PHONE_NUMBER", "(212) 555-0147")
    assert not found("Batch (212) 555-0147 closed", "PHONE_NUMBER", "(212) 555-0147")


@pytest.mark.parametrize("text", ["Delivered 2026-01-15 10:22", "Total 1234.50 DKK", "Order O12345678 shipped"])
def test_dates_amounts_and_ids_are_no_phones(text, entities_in):
    assert "PHONE_NUMBER" not in entities_in(text)


# ---------------------------------------------------------------- email, IBAN, cards, IP
def test_email(found, entities_in):
    assert found("Write to anders.jensen@example.dk please", "EMAIL_ADDRESS", "anders.jensen@example.dk")
    assert "EMAIL_ADDRESS" not in entities_in("user@localhost and a@b are not addresses")


def test_iban_with_valid_check_digits(found, entities_in):
    assert found("IBAN DK50 0040 0440 1162 43 confirmed", "IBAN_CODE", "DK50 0040 0440 1162 43")
    assert found("konto DK5000400440116243", "IBAN_CODE", "DK5000400440116243")
    assert "IBAN_CODE" not in entities_in("IBAN DK5100400440116243 rejected")  # wrong check digits


def test_credit_card_needs_luhn(found, entities_in):
    visa = luhn_complete("4111")
    mastercard_2_series = luhn_complete("2221")
    assert found(f"card {visa} charged", "CREDIT_CARD", visa)
    spaced = " ".join(mastercard_2_series[i : i + 4] for i in range(0, 16, 4))
    assert found(f"card {spaced} charged", "CREDIT_CARD", spaced)
    broken = visa[:-1] + str((int(visa[-1]) + 1) % 10)
    assert "CREDIT_CARD" not in entities_in(f"card {broken} charged")


def test_ip_addresses(found, entities_in):
    assert found("Login from 192.168.1.20 blocked", "IP_ADDRESS", "192.168.1.20")
    assert found("Login from 2001:db8::1 blocked", "IP_ADDRESS", "2001:db8::1")
    assert "IP_ADDRESS" not in entities_in("Version 999.1.1.1 is not an address")


# ---------------------------------------------------------------- person and location
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Customer Anders Jensen called about his order.", "Anders Jensen"),
        ("Kunden Mette Hansen ringede i går.", "Mette Hansen"),
        ("Spoke with Bøje Kjeldsen-Lassen on Monday.", "Bøje Kjeldsen-Lassen"),
        ("Mrs Ruth Baker complained about the delay.", "Ruth Baker"),
        ("Hr. Lauridsen har ringet.", "Lauridsen"),
        ("Handled by Agneta Nyberg.", "Agneta Nyberg"),
    ],
)
def test_person_names_are_found_whole(text, name, found):
    assert found(text, "PERSON", name)


@pytest.mark.parametrize(
    "text",
    ["Order O12345678 shipped with tracking.", "Kunden ønsker faktura sendt.", "Asked about delivery of SKU-1234-XL."],
)
def test_no_person_in_text_without_names(text, entities_in):
    assert "PERSON" not in entities_in(text)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Ny adresse: Nørregade 12, 2100 København Ø.", "Nørregade 12, 2100 København Ø"),
        ("Moved to 12 High Street, London.", "12 High Street"),
    ],
)
def test_street_addresses(text, address, found):
    assert found(text, "LOCATION", address)


def test_disabled_recognizers_find_nothing():
    from atlas.pii.scanner import ScanOptions, TextScanner

    only_cpr = TextScanner(ScanOptions(recognizers=("cpr",), n_process=1))
    spans = only_cpr.scan(["anders@example.dk, +45 20 30 40 50, 010190-1234, Anders Jensen"])[0]
    assert {s.entity for s in spans} == {"DK_CPR"}
    assert {s.recognizer for s in spans} == {"cpr"}


# ---------------------------------------------------------------- the reported misses
@pytest.mark.parametrize("text", [
    "CPR 010190 1234 verified", "cpr.nr. 010190.1234 stemmer", "CPR-nr. 0101901234", "personnummer: 010190 1234",
    "Identity check: 010190-1234",
])
def test_cpr_with_space_dot_or_no_separator_after_a_cue(text, found):
    cpr = next(part for part in ("010190 1234", "010190.1234", "0101901234", "010190-1234") if part in text)
    ok = found(text, "DK_CPR", cpr)
    assert ok, "CPR not found"


@pytest.mark.parametrize("text", ["Meeting 010190 1234 moved", "CPR 310290 1234 verified", "cpr 310290.1234"])
def test_spaced_cpr_needs_a_cue_and_a_real_date(text, entities_in):
    assert "DK_CPR" not in entities_in(text)


@pytest.mark.parametrize(("text", "phone"), [
    ("Kunden er kontaktet på 20 30 40 50 i dag", "20 30 40 50"),
    ("ring 2030 4050 efter kl. 16", "2030 4050"),
    ("Tlf. 20304050 (privat)", "20304050"),
    ("mobil: 20-30-40-50", "20-30-40-50"),
    ("Kan træffes på 2030-4050", "2030-4050"),
    ("nyt nummer 31 41 51 61", "31 41 51 61"),
])
def test_danish_phone_after_danish_cue_words(text, phone, found):
    ok = found(text, "PHONE_NUMBER", phone)
    assert ok, "phone not found"


@pytest.mark.parametrize("text", ["ordre 20304050 sendt", "ring om ordre ORD-2025-227499", "faktura 20304050"])
def test_invalid_or_labelled_numbers_are_no_danish_phones(text, entities_in):
    assert "PHONE_NUMBER" not in entities_in(text)


@pytest.mark.parametrize("phone", ["0047 912 34 567", "+44 (0)20 7946 0958", "001 212 555 0147", "0031 6 12345678",
                                   "+358 40 123 4567", "0048 512 345 678"])
def test_international_prefixes(phone, found):
    ok = found(f"Ring til {phone} i morgen", "PHONE_NUMBER", phone)
    assert ok, "phone not found"


@pytest.mark.parametrize("phone", ["912 34 567", "040 123 4567", "06-12345678", "06 12 34 56 78", "512 345 678",
                                   "0664 1234567", "079 123 45 67", "087 123 4567", "030 1234567"])
def test_national_formats_of_other_regions_with_a_cue(phone, found, entities_in):
    ok = found(f"Please call her on {phone} tomorrow", "PHONE_NUMBER", phone)
    assert ok, "phone not found"
    assert "PHONE_NUMBER" not in entities_in(f"Batch {phone} closed")


@pytest.mark.parametrize(("prefix", "length", "groups"), [
    ("6759", 12, (4, 4, 4)), ("6759", 13, (4, 4, 5)), ("5018", 16, (4, 4, 4, 4)), ("62", 19, (4, 4, 4, 4, 3)),
    ("62", 19, (19,)), ("6304", 18, (18,)), ("4", 16, (4, 4, 4, 4)),
])
def test_cards_of_12_to_19_digits_after_kort_or_card(prefix, length, groups, found):
    number = luhn_complete(prefix, length)
    pieces, pos = [], 0
    for size in groups:
        pieces.append(number[pos : pos + size])
        pos += size
    written = " ".join(pieces)
    for text in (f"Betalt med kort {written} i går", f"card {written} declined"):
        ok = found(text, "CREDIT_CARD", written)
        assert ok, "card not found"


@pytest.mark.parametrize(("prefix", "length", "groups"), [
    ("37", 15, (4, 6, 5)), ("36", 14, (4, 6, 4)), ("5019", 16, (4, 4, 4, 4)), ("2221", 16, (16,)),
])
def test_network_cards_are_found_without_a_cue(prefix, length, groups, found):
    number = luhn_complete(prefix, length)
    pieces, pos = [], 0
    for size in groups:
        pieces.append(number[pos : pos + size])
        pos += size
    written = " ".join(pieces)
    ok = found(f"Reference {written} noted", "CREDIT_CARD", written)
    assert ok, "card not found"


def test_numbers_that_are_no_cards(entities_in):
    other = luhn_complete("6759", 18)
    assert "CREDIT_CARD" not in entities_in(f"Shipment {other} left")  # no network length, no cue
    ean = "4006381333931"
    assert "CREDIT_CARD" not in entities_in(f"EAN {ean} scanned")
    broken = luhn_complete("6759", 16)
    broken = broken[:-1] + str((int(broken[-1]) + 1) % 10)
    assert "CREDIT_CARD" not in entities_in(f"kort {broken}")


@pytest.mark.parametrize(("text", "name"), [
    ("Spoke with Prof. Dr. Bryan Andrade who handles it.", "Bryan Andrade"),
    ("Ms. van der Berg at the front desk.", "van der Berg"),
    ("Rückruf erbeten: Dipl.-Ing. Neves, Telefon folgt.", "Neves"),
    ("Herr Müller-Lüdenscheidt rief an.", "Müller-Lüdenscheidt"),
    ("Frau Zoë Krüger ringede.", "Zoë Krüger"),
    ("Fru Anne-Sofie Kjeldsen-Lassen klager.", "Anne-Sofie Kjeldsen-Lassen"),
    ("Anne Berg, MBA will sign the contract.", "Anne Berg"),
    ("Contract signed by Jens Holm (PhD).", "Jens Holm"),
    ("Direktør Villads Nielsen godkendte.", "Villads Nielsen"),
    ("Fru דוד כהן ringede.", "דוד כהן"),
    ("Kunde 马红霞 informiert.", "马红霞"),
    ("Customer Zoë\u200dKrüger called about the order.", "Zoë\u200dKrüger"),
])
def test_names_with_titles_degrees_hyphens_particles_and_other_scripts(text, name, found):
    ok = found(text, "PERSON", name)
    assert ok, "name not found"


@pytest.mark.parametrize("text", [
    "Spoke with Dr Ane Holm who handles the account for Danske Bank.",
    "Kreditkarte abgelehnt, bitte erneut versuchen.",
    "Kort nr. udløber snart.",
    "wegen Rechnung 4256518340 bitte zahlen.",
    "Driver called twice, no answer.",
])
def test_organisations_and_lone_capitalised_words_are_no_persons(text, scanner):
    people = [text[s.start : s.end] for s in scanner.scan([text])[0] if s.entity == "PERSON"]
    assert all(p in {"Ane Holm"} for p in people), f"{len(people)} unexpected person span(s)"
