"""Silver row rules: each rule accepts good values, rejects bad ones, and normalizes."""

from __future__ import annotations

import pandas as pd
import pytest

from atlas.config import ColumnSpec
from atlas.silver.rules import (
    AllowedValues,
    Format,
    Pattern,
    Range,
    Required,
    TypeCast,
    cpr_birth_date,
    normalize_email,
    normalize_phone,
    rules_for,
)


def _apply(rule, values):
    out, bad = rule.apply(pd.Series(values, dtype=object))
    return list(out), list(bad)


def test_required():
    _, bad = _apply(Required(ColumnSpec(name="a", required=True)), ["x", None])
    assert bad == [False, True]


@pytest.mark.parametrize(
    ("kind", "values", "expected", "bad"),
    [
        ("integer", ["12", "12.0", "1.5", "x"], ["12", "12", None, None], [False, False, True, True]),
        ("numeric", ["10.50", "-3", "1e2", "abc"], ["10.50", "-3", "1E+2", None], [False, False, False, True]),
        ("boolean", ["True", "no", "1", "maybe"], ["true", "false", "true", None], [False, False, False, True]),
        ("date", ["2026-01-31", "2026-02-30"], ["2026-01-31", None], [False, True]),
        ("timestamp", ["2026-01-01T10:00:00", "2026-01-01 10:00:00+01:00", "soon"],
         ["2026-01-01T10:00:00+0000", "2026-01-01T09:00:00+0000", None], [False, False, True]),
    ],
)
def test_type_cast(kind, values, expected, bad):
    out, flags = _apply(TypeCast(ColumnSpec(name="a", type=kind)), values)
    assert out == expected and flags == bad


def test_missing_values_are_not_type_errors():
    out, bad = _apply(TypeCast(ColumnSpec(name="a", type="integer")), [None])
    assert out == [None] and bad == [False]


def test_allowed_pattern_range():
    assert _apply(AllowedValues(ColumnSpec(name="a", allowed_values=("x",))), ["x", "y", None])[1] == [
        False, True, False]
    assert _apply(Pattern(ColumnSpec(name="a", pattern=r"^C\d{3}$")), ["C123", "C12", None])[1] == [
        False, True, False]
    assert _apply(Range(ColumnSpec(name="a", type="numeric", min=0, max=10)), ["0", "-1", "11", None])[1] == [
        False, True, True, False]


def test_phone_normalized_to_e164():
    assert normalize_phone("+45 31 23 45 67") == "+4531234567"
    assert normalize_phone("31234567") == "+4531234567"
    assert normalize_phone("+1 202-555-0143") == "+12025550143"
    assert normalize_phone("invalid_phone") is None
    assert normalize_phone("123") is None


def test_email_validation():
    assert normalize_email(" Anna.Berg@Example.DK ") == "Anna.Berg@example.dk"
    for bad in ("anna@", "no-at-sign", "a@b", "a..b@example.com", "a b@example.com"):
        assert normalize_email(bad) is None, bad


def test_cpr_date_must_exist():
    assert cpr_birth_date("010190-1234").isoformat() == "1990-01-01"
    assert cpr_birth_date("0101901234").isoformat() == "1990-01-01"
    assert cpr_birth_date("310290-1234") is None  # 31 February
    assert cpr_birth_date("010105-4321").year == 2005  # 7th digit 4, year <= 36
    assert cpr_birth_date("12345") is None


def test_reasons_never_contain_values():
    column = ColumnSpec(name="phone", format="phone", pattern="^x$", allowed_values=("a",), required=True)
    for rule in rules_for(column):
        assert "secret-value" not in rule.reason()
        assert rule.reason().startswith("phone:")
    _out, bad = Format(column).apply(pd.Series(["secret-value"], dtype=object))
    assert bad.tolist() == [True]


def test_phone_region_from_another_column():
    column = ColumnSpec(name="phone", format="phone", region_column="country")
    frame = pd.DataFrame({"phone": ["(202) 555-0143", "31 23 45 67", "(202) 555-0143"],
                          "country": ["United States", "Denmark", "Denmark"]}, dtype=object)
    out, bad = Format(column).apply(frame["phone"], frame)
    assert list(out) == ["+12025550143", "+4531234567", None]
    assert list(bad) == [False, False, True]


# ----------------------------------------------------------------------------- PostgreSQL's limits


LIMIT_CASES = [
    ("integer", {}, ["2147483647", "-2147483648", "2147483648", "-2147483649", "1e999999999"],
     [False, False, True, True, True]),
    ("bigint", {}, ["9223372036854775807", "9223372036854775808", "-9223372036854775809"], [False, True, True]),
    ("numeric", {}, ["1E+131071", "1E+131072", "1E-16383", "1E-16384", "1e999999999"],
     [False, True, False, True, True]),
    ("numeric", {"precision": 12, "scale": 2}, ["9999999999.99", "9999999999.994", "9999999999.995", "1e10",
                                                "-12.345", "0.001"],
     [False, False, True, True, False, False]),
]


@pytest.mark.parametrize(("kind", "extra", "values", "bad"), LIMIT_CASES)
def test_values_postgresql_would_reject_break_the_limits_rule(kind, extra, values, bad):
    column = ColumnSpec(name="n", type=kind, **extra)
    rules = rules_for(column)
    assert [r.name for r in rules] == ["type", "limits"]
    cast, limits = rules
    typed, invalid = cast.apply(pd.Series(values, dtype=object))
    assert not invalid.any()
    _, broken = limits.apply(typed)
    assert list(broken) == bad
    assert limits.reason().startswith("n: ")
    assert kind in limits.reason() or "digit" in limits.reason()


@pytest.mark.parametrize(("kind", "extra", "values", "bad"), LIMIT_CASES)
def test_what_passes_the_limits_postgresql_accepts(wh_conn, kind, extra, values, bad):
    """The values that pass load into a column of the silver type; every rejected one would have failed."""
    from atlas.schema import column_type

    column = ColumnSpec(name="n", type=kind, **extra)
    cast, limits = rules_for(column)
    fitted, broken = limits.apply(cast.apply(pd.Series(values, dtype=object))[0])
    sql_type = column_type(column)
    with wh_conn.cursor() as cur:
        for value, rejected in zip(list(fitted), list(broken), strict=True):
            if rejected:
                continue
            cur.execute(f"SELECT %s::{sql_type}::text = %s::{sql_type}::text", (value, value))
            assert cur.fetchone()[0] is True
    wh_conn.rollback()
    if extra:
        assert list(fitted)[:2] == ["9999999999.99", "9999999999.99"], "rounded to the scale as PostgreSQL does"


def test_long_primary_key_values_are_rejected_before_the_index_would():
    rules = rules_for(ColumnSpec(name="k"), primary_key=True)
    assert rules[0].name == "key_length"
    _, bad = _apply(rules[0], ["a" * 2000, "b" * 2001, "æ" * 1001, None])
    assert bad == [False, True, True, False]


def test_precision_only_on_numeric_columns():
    with pytest.raises(ValueError, match="numeric columns only"):
        ColumnSpec(name="n", type="integer", precision=5)
    with pytest.raises(ValueError, match="scale needs a precision"):
        ColumnSpec(name="n", type="numeric", scale=2)


# ----------------------------------------------------------------------------- column-wise = value by value

TRICKY_NUMBERS = ["12", "0", "-0", "007", "12.0", "1.5", "-12.34", "12.345", "12.3", "0.05", "-0.00", "00.10",
                  "9999999999.99", "99999999999.99", "1e2", "1E-7", "+5", " 7 ", "١٢", "12.34\n", "x", "", None,
                  "2147483647", "2147483648", "-2147483649", "999999999", "9223372036854775807",
                  "9223372036854775808", "123456789012345678"]
TRICKY_INSTANTS = ["2026-06-30T06:37:38", "2026-06-30 06:37:38+02:00", "1969-12-31T23:59:59.5", "0999-01-01",
                   "0001-01-01T00:00:00", "9999-12-31T23:59:59.999999", "2026-02-30", "2026-06-30", "soon", "",
                   None, "2024-02-29T12:00:00Z", "1900-01-01T00:00:00-05:30"]


@pytest.mark.parametrize(("kind", "extra", "values"), [
    ("integer", {}, TRICKY_NUMBERS), ("bigint", {}, TRICKY_NUMBERS), ("numeric", {}, TRICKY_NUMBERS),
    ("numeric", {"precision": 12, "scale": 2}, TRICKY_NUMBERS),
    ("numeric", {"precision": 5, "scale": 3}, TRICKY_NUMBERS),
    ("numeric", {"precision": 3, "scale": 0}, TRICKY_NUMBERS),
    ("date", {}, TRICKY_INSTANTS), ("timestamp", {}, TRICKY_INSTANTS),
])
def test_column_wise_rules_give_what_the_value_by_value_definition_gives(kind, extra, values):
    column = ColumnSpec(name="n", type=kind, required=True, **extra)
    for rule in rules_for(column, primary_key=True):
        series = pd.Series(values, dtype=object)
        fast, fast_bad = rule.apply(series.copy())
        slow, slow_bad = rule.apply_each(series.copy())
        assert fast.tolist() == slow.tolist(), rule.rule_id  # test inputs are synthetic, never PII
        assert fast_bad.tolist() == slow_bad.tolist(), rule.rule_id
        assert fast.dtype == object and fast.index.equals(series.index)
        values = [v if not bad else None for v, bad in zip(fast.tolist(), fast_bad.tolist(), strict=True)]


def test_validate_column_wise_equals_reference_on_a_mixed_chunk():
    from atlas.config import TableSpec
    from atlas.silver.validate import validate

    spec = TableSpec.model_validate({
        "table": "t", "source": {"path": "t/*.csv"},
        "schema": {"primary_key": ["id"], "columns": [
            {"name": "id", "type": "text", "required": True, "pattern": r"^O\d{3}$"},
            {"name": "code", "type": "text", "pattern": r"[A-Z]{2}"},
            {"name": "amount", "type": "numeric", "precision": 12, "scale": 2, "min": 0},
            {"name": "n", "type": "integer"},
            {"name": "at", "type": "timestamp", "required": True},
            {"name": "day", "type": "date"},
            {"name": "status", "type": "text", "allowed_values": ["a", "b"]}]}})
    rows = [("O001", "DK", "10.50", "3", "2026-06-30T06:37:38", "2026-06-30", "a"),
            (" O002 ", None, "-1.00", "3.0", "2026-06-30 06:37:38+02:00", "0999-01-01", "b"),
            ("O003", "dk", "1e2", "x", "2026-02-30", None, "a"),
            ("O004", "DKK", "  ", "2147483648", "2026-06-30", "2026-06-30", "c"),
            ("O005", " SE", "0.001", "-0", None, "2026-06-31", None),
            ("bad", "", "12.3", "\t7", "2026-06-30T00:00:00", "2026-06-30", "a")]
    frame = pd.DataFrame(rows, columns=["id", "code", "amount", "n", "at", "day", "status"], dtype=object)
    frame["_atlas_source_file"], frame["_atlas_row_number"] = "f.csv", range(1, len(rows) + 1)
    fast, slow = validate(frame, spec), validate(frame, spec, reference=True)
    pd.testing.assert_frame_equal(fast.valid, slow.valid)
    pd.testing.assert_frame_equal(fast.rejected, slow.rejected)
    assert len(fast.valid) and len(fast.rejected)


def test_blank_to_none_strips_text_and_leaves_other_cells_as_the_plain_definition_does():
    import numpy as np

    from atlas.silver.validate import _blank_to_none, as_text_or_none

    def plain(frame, columns):  # the definition, cell by cell
        out = as_text_or_none(frame)
        for name in columns:
            out[name] = [v.strip() or None if isinstance(v, str) else v for v in out[name]]
        return as_text_or_none(out)

    frame = pd.DataFrame({"a": [" x ", "", None, "\u2003y\t"], "b": ["1", np.nan, " ", "z"],
                          "c": [1, None, 3.5, pd.NA], "d": ["p", "q", "r", "s"],
                          "_atlas_row_number": [1, 2, 3, 4]}, dtype=object)
    pd.testing.assert_frame_equal(_blank_to_none(frame, ["a", "b", "c", "d"]), plain(frame, ["a", "b", "c", "d"]))
