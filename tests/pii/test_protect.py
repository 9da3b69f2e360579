"""Strategies and the Protector: every value protected, determinism, reversibility."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from atlas.config import ColumnPolicy, PiiSpec
from atlas.pii import ColumnFinding, build_protector, pseudonymize
from atlas.pii.crypto import decrypt_value, rotate_token
from atlas.pii.keys import PiiKeys, generate_keys
from atlas.pii.strategies.generalize import age_band
from atlas.pii.strategies.mask import mask_text


def finding(column: str, strategy: str, kind: str = "structured", entity: str = "PII",
            source: str = "config") -> ColumnFinding:
    return ColumnFinding(column, kind, (entity,) if kind != "none" else (), 0.9, 1.0, 10, (), strategy, source)


def protect(column: str, values: list[str | None], policy: ColumnPolicy, keys: PiiKeys, *, kind: str = "structured",
            entity: str = "PII", reference: date | None = None) -> list[str | None]:
    spec = PiiSpec(columns={column: policy})
    protector = build_protector(spec, [finding(column, policy.strategy, kind, entity)], keys,
                                reference_date=reference)
    return protector.protect(pd.DataFrame({column: values}))[column].tolist()


# ---------------------------------------------------------------- single strategies
def test_pseudonymize_is_the_shared_keyed_token(keys):
    values = ["anders@example.dk", "mette@example.dk", None, "anders@example.dk"]
    out = protect("email", values, ColumnPolicy(strategy="pseudonymize"), keys)
    assert out[0] == pseudonymize("anders@example.dk", keys.hmac_key)
    assert out[0] == out[3] and out[0] != out[1] and out[2] is None
    assert all(v.startswith("ps_") and len(v) == 35 for v in out if v is not None)


def test_pseudonyms_are_deterministic_across_tables_and_runs_and_change_with_the_key(keys):
    same_key_later = PiiKeys(hmac_key=keys.hmac_key, encryption_key=generate_keys().encryption_key)
    in_customers = protect("customer_id", ["C000001", "C000002"], ColumnPolicy(strategy="pseudonymize"), keys)
    in_orders = protect("customer_id", ["C000002", "C000001"], ColumnPolicy(strategy="pseudonymize"),
                        same_key_later)
    assert in_customers == list(reversed(in_orders))
    other_key = protect("customer_id", ["C000001"], ColumnPolicy(strategy="pseudonymize"), generate_keys())
    assert other_key[0] != in_customers[0]


def test_mask_keeps_the_last_characters(keys):
    out = protect("phone", ["+4520304050", None, ""], ColumnPolicy(strategy="mask", keep_last=2), keys)
    assert out == ["*********50", None, ""]
    assert mask_text("1234", 4) == "**34"  # never more than half of a short value


def test_redact_nulls_and_replace_tags(keys):
    assert protect("cpr", ["010190-1234", None], ColumnPolicy(strategy="redact"), keys) == [None, None]
    out = protect("email", ["a@example.dk", None], ColumnPolicy(strategy="replace", entity="EMAIL_ADDRESS"), keys)
    assert out == ["<EMAIL_ADDRESS>", None]


def test_encrypt_round_trip_with_a_fresh_token_per_value(keys):
    values = ["010190-1234", "010190-1234", None]
    out = protect("cpr", values, ColumnPolicy(strategy="encrypt"), keys)
    assert out[2] is None and out[0] != out[1] and values[0] not in out[0]
    assert [decrypt_value(t, keys) for t in out[:2]] == values[:2]
    with pytest.raises(ValueError, match="cannot be decrypted") as err:
        decrypt_value(out[0], generate_keys())
    assert out[0] not in str(err.value)


def test_encryption_key_rotation_keeps_old_tokens_readable(keys):
    (old_token,) = protect("cpr", ["010190-1234"], ColumnPolicy(strategy="encrypt"), keys)
    new = generate_keys()
    rotating = PiiKeys(hmac_key=keys.hmac_key, encryption_key=new.encryption_key,
                       previous_encryption_keys=(keys.encryption_key,))
    assert decrypt_value(old_token, rotating) == "010190-1234"
    rotated = rotate_token(old_token, rotating)
    assert decrypt_value(rotated, new) == "010190-1234"
    with pytest.raises(ValueError):
        decrypt_value(old_token, new)


@pytest.mark.parametrize(
    ("policy", "values", "expected"),
    [
        (ColumnPolicy(strategy="generalize", generalize_to="year"), ["1987-03-14", "14.03.1987", "n/a"],
         ["1987", "1987", None]),
        (ColumnPolicy(strategy="generalize", generalize_to="age_band"), ["1987-03-14", "1987-12-31", "1930-01-01"],
         ["30-39", "30-39", "90+"]),
        (ColumnPolicy(strategy="generalize", generalize_to="prefix", prefix_length=2), ["2100", "8000", "DK-2100"],
         ["21**", "80**", "DK*****"]),
    ],
)
def test_generalize(policy, values, expected, keys):
    assert protect("c", values, policy, keys, reference=date(2026, 11, 22)) == expected


def test_age_bands():
    assert [age_band(a) for a in (0, 9, 10, 39, 89, 90, 104)] == ["0-9", "0-9", "10-19", "30-39", "80-89", "90+", "90+"]


def test_keep_is_explicit_and_reported(keys):
    spec = PiiSpec(columns={"city": ColumnPolicy(strategy="keep")})
    protector = build_protector(spec, [finding("city", "keep", kind="none")], keys)
    frame = pd.DataFrame({"city": ["Aarhus", None]})
    assert protector.protect(frame)["city"].tolist() == ["Aarhus", None]
    assert protector.strategies == {"city": "keep"} and protector.guarded_columns == []


# ---------------------------------------------------------------- the protector on a table
@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["C000001", "C000002", "C000003"],
        "customer_name": ["Anders Jensen", "Mette Hansen", None],
        "email_address": ["anders@example.dk", None, "lars@example.dk"],
        "phone_number": ["+45 20 30 40 50", "+45 31 41 51 61", "+45 42 52 62 72"],
        "country": ["Denmark", "Denmark", "Sweden"],
        "notes": [
            "Customer Anders Jensen called about order O12345678, email anders@example.dk.",
            None,
            "Wants the newsletter stopped.",
        ],
    }, index=[10, 11, 12])


@pytest.fixture(scope="module")
def protected(customers, keys):
    spec = PiiSpec(columns={
        "customer_id": ColumnPolicy(strategy="pseudonymize"),
        "customer_name": ColumnPolicy(strategy="pseudonymize", entity="PERSON"),
        "phone_number": ColumnPolicy(strategy="mask", keep_last=2),
        "notes": ColumnPolicy(strategy="replace", free_text=True),
    })
    findings = [
        finding("customer_id", "pseudonymize", kind="none"),
        finding("customer_name", "pseudonymize", entity="PERSON"),
        finding("email_address", "pseudonymize", entity="EMAIL_ADDRESS", source="default"),
        finding("phone_number", "mask", entity="PHONE_NUMBER"),
        ColumnFinding("country", "none", (), 1.0, 0.0, 3, (), "keep", "none"),
        ColumnFinding("notes", "free_text", ("PERSON", "EMAIL_ADDRESS"), 0.9, 0.5, 2, ("person",), "replace",
                      "config"),
    ]
    protector = build_protector(spec, findings, keys)
    return protector, protector.protect(customers)


def test_protect_returns_a_new_frame_with_the_same_shape(customers, protected):
    protector, out = protected
    assert out is not customers
    assert list(out.columns) == list(customers.columns) and list(out.index) == list(customers.index)
    assert customers.loc[10, "customer_name"] == "Anders Jensen"  # input untouched
    assert protector.strategies == {"customer_id": "pseudonymize", "customer_name": "pseudonymize",
                                    "email_address": "pseudonymize", "phone_number": "mask", "notes": "replace"}


def test_no_raw_value_of_a_protected_structured_column_is_left(customers, protected):
    _, out = protected
    for column in ("customer_id", "customer_name", "email_address", "phone_number"):
        raw = {v for v in customers[column] if not pd.isna(v)}
        assert not raw & set(out[column]), column
        assert [v is None for v in out[column]] == [pd.isna(v) for v in customers[column]]
    assert out["country"].tolist() == customers["country"].tolist()


def test_free_text_keeps_the_words_and_replaces_only_the_spans(customers, protected):
    _, out = protected
    note = out.loc[10, "notes"]
    assert "Anders" not in note and "Jensen" not in note and "anders@example.dk" not in note
    assert "<PERSON>" in note and "<EMAIL_ADDRESS>" in note
    assert note.startswith("Customer <PERSON> called about order O12345678")
    assert out.loc[11, "notes"] is None
    assert out.loc[12, "notes"] == "Wants the newsletter stopped."


@pytest.mark.parametrize("strategy", ["pseudonymize", "mask", "redact", "encrypt"])
def test_free_text_spans_follow_the_column_strategy(strategy, keys):
    text = "Kunden Mette Hansen ringede fra +45 20 30 40 50 i går."
    (out,) = protect("notes", [text], ColumnPolicy(strategy=strategy, free_text=True), keys, kind="free_text")
    assert "Mette" not in out and "20 30 40 50" not in out
    assert out.startswith("Kunden ") and out.endswith(" i går.")
    if strategy == "pseudonymize":
        assert pseudonymize("Mette Hansen", keys.hmac_key) in out


def test_missing_values_in_every_form_stay_missing(keys):
    frame = pd.DataFrame({"email": pd.Series(["a@example.dk", None, float("nan")], dtype=object)})
    spec = PiiSpec(columns={"email": ColumnPolicy(strategy="pseudonymize")})
    out = build_protector(spec, [finding("email", "pseudonymize")], keys).protect(frame)
    assert out["email"].tolist()[1:] == [None, None]


@pytest.mark.parametrize("strategy", ["pseudonymize", "redact"])
def test_column_fast_paths_equal_the_operator_per_value(strategy, keys):
    """Pseudonymize and redact protect a whole column without a call through the operator per
    value; the result is the operator's, value for value."""
    from atlas.pii.strategies import STRATEGIES, StrategyContext
    from atlas.pii.strategies.base import Strategy

    instance = STRATEGIES[strategy](StrategyContext(keys=keys, entity="PERSON"))
    values = ["C000001", "C000002", None, "C000001", "", "  ", " C000003 ", "Ærø Ø", "x" * 3000]
    assert instance.column(values) == Strategy.column(instance, values)
