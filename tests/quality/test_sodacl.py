"""Building SodaCL: generated defaults per layer, PII-aware skipping, hand-written merge, validation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from atlas.errors import AtlasConfigError
from atlas.quality import DIMENSIONS, build_checks
from atlas.quality.checks import FORMAT_RULES
from atlas.quality.sodacl import build_document, catalog


def names(spec, layer, checks_dir=None) -> dict[str, tuple[str, str]]:
    return {meta.name: (meta.dimension, meta.severity)
            for meta in catalog(build_document(spec, layer, checks_dir)).values()}


def test_bronze_checks_row_count_and_columns_only(specs):
    assert names(specs["orders"], "bronze") == {
        "row_count": ("completeness", "fail"),
        "schema_columns_present": ("consistency", "fail"),
    }
    doc = build_document(specs["orders"], "bronze")
    required = doc["checks for orders"][0]["schema"]["fail"]["when required column missing"]
    assert "order_amount" in required and "_atlas_source_checksum" in required


def test_silver_defaults_from_schema(specs):
    checks = names(specs["orders"], "silver")
    assert checks["order_id_not_missing"] == ("completeness", "fail")
    assert checks["order_id_unique"] == ("uniqueness", "fail")
    assert checks["status_allowed_values"] == ("validity", "fail")
    assert checks["order_id_matches_pattern"] == ("validity", "fail")
    assert checks["order_amount_in_range"] == ("accuracy", "fail")
    assert checks["order_date_fresh"] == ("timeliness", "warn")
    assert checks["schema_column_types"] == ("consistency", "fail")
    assert checks["customer_id_exists_in_customers"] == ("consistency", "warn")  # hand-written
    assert "shipping_address_not_missing" not in checks  # not required
    assert {dim for dim, _ in checks.values()} == set(DIMENSIONS)


def test_value_rewriting_pii_strategies_skip_format_and_pattern_checks(specs):
    checks = names(specs["customers"], "silver")
    assert "customer_id_matches_pattern" not in checks  # pseudonymized
    assert "phone_number_valid_phone" not in checks  # masked
    assert "email_address_valid_email" not in checks  # pseudonymized
    assert "cpr_number_valid_cpr" not in checks  # redacted
    assert "customer_id_is_pseudonym" in checks and "email_address_is_pseudonym" in checks
    assert "notes_is_pseudonym" not in checks  # free text, replaced spans
    doc = build_document(specs["customers"], "silver")
    (types,) = [item["schema"]["fail"]["when wrong column type"] for item in doc["checks for customers"]
                if "when wrong column type" in item.get("schema", {}).get("fail", {})]
    assert types["date_of_birth"] == "text"  # generalized
    assert types["created_at"] == "timestamp with time zone"
    assert types["is_active"] == "boolean"


def test_kept_columns_get_format_checks(specs):
    spec = specs["customers"].model_copy(update={"pii": specs["customers"].pii.model_copy(update={"columns": {}})})
    checks = names(spec, "silver")
    for col, fmt in (("email_address", "email"), ("phone_number", "phone"), ("cpr_number", "cpr")):
        assert checks[f"{col}_valid_{fmt}"] == ("validity", "fail")
    assert checks["customer_id_matches_pattern"] == ("validity", "fail")


def test_gold_checks_every_model_the_table_feeds(specs):
    tables = {meta.dataset for meta in catalog(build_document(specs["orders"], "gold")).values()}
    assert tables == {"customer_360", "daily_revenue", "order_facts"}
    checks = catalog(build_document(specs["customers"], "gold"))
    assert ("customer_360", "customer_id_unique") in checks
    assert ("customer_360", "customer_id_exists_in_customers") in checks


@pytest.mark.parametrize("table", ["customers", "orders"])
@pytest.mark.parametrize("layer", ["bronze", "silver", "gold"])
def test_built_sodacl_parses_in_soda_without_errors(specs, table, layer):
    from soda.scan import Scan

    scan = Scan()
    scan.set_data_source_name("atlas_warehouse")
    scan.add_sodacl_yaml_str(build_checks(specs[table], layer))
    assert not scan.has_error_logs(), scan.get_error_logs_text()


def _write(tmp_path: Path, layer: str, name: str, body: dict) -> Path:
    (tmp_path / layer).mkdir(parents=True, exist_ok=True)
    (tmp_path / layer / name).write_text(yaml.safe_dump(body), encoding="utf-8")
    return tmp_path


def test_hand_written_check_replaces_generated_one_by_name(specs, tmp_path):
    checks_dir = _write(tmp_path, "silver", "orders.yml", {"checks for orders [atlas_slice]": [
        {"row_count between 1 and 10": {"name": "row_count", "attributes": {"dimension": "completeness"}}},
        {"max(order_amount)": {"name": "order_amount_sane", "warn": "when > 100000", "fail": "when > 1000000",
                               "attributes": {"dimension": "accuracy"}}},
    ]})
    doc = build_document(specs["orders"], "silver", checks_dir)
    lines = [next(iter(item)) for item in doc["checks for orders [atlas_slice]"]]
    assert "row_count between 1 and 10" in lines and "row_count >= 1" not in lines
    meta = catalog(doc)
    assert meta[("orders", "order_amount_sane")].severity == "fail"


def test_check_with_only_warn_threshold_defaults_to_warn(specs, tmp_path):
    checks_dir = _write(tmp_path, "silver", "orders.yml", {"checks for orders": [
        {"row_count": {"name": "big", "warn": "when > 5", "attributes": {"dimension": "accuracy"}}},
    ]})
    assert names(specs["orders"], "silver", checks_dir)["big"] == ("accuracy", "warn")


@pytest.mark.parametrize("attributes, error", [
    ({}, "attributes.dimension"),
    ({"dimension": "beauty"}, "attributes.dimension"),
    ({"dimension": "accuracy", "severity": "info"}, "attributes.severity"),
])
def test_hand_written_check_needs_valid_dimension_and_severity(specs, tmp_path, attributes, error):
    checks_dir = _write(tmp_path, "silver", "orders.yml", {"checks for orders": [
        {"row_count > 0": {"name": "x", "attributes": attributes}}]})
    with pytest.raises(AtlasConfigError, match=error) as exc:
        build_document(specs["orders"], "silver", checks_dir)
    assert "orders.yml" in str(exc.value)


def test_duplicate_check_names_are_rejected(specs, tmp_path):
    item = {"row_count > 0": {"name": "same", "attributes": {"dimension": "completeness"}}}
    checks_dir = _write(tmp_path, "silver", "orders.yml", {"checks for orders": [item, item]})
    with pytest.raises(AtlasConfigError, match="duplicate check name 'same'"):
        build_document(specs["orders"], "silver", checks_dir)


def test_severity_override_from_table_config(specs):
    quality = specs["orders"].quality.model_copy(update={"severity": {"order_id_unique": "warn"}})
    spec = specs["orders"].model_copy(update={"quality": quality})
    assert names(spec, "silver")["order_id_unique"] == ("uniqueness", "warn")
    quality = quality.model_copy(update={"severity": {"no_such_check": "warn"}})
    with pytest.raises(AtlasConfigError, match="no_such_check"):
        build_document(specs["orders"].model_copy(update={"quality": quality}), "silver")


def test_unknown_layer_is_rejected(specs):
    with pytest.raises(ValueError, match="unknown layer"):
        build_checks(specs["orders"], "platinum")


def _valid_sql(rule: dict) -> str:
    """The PostgreSQL condition Soda builds from a validity rule (regex and length bounds)."""
    parts = ["v ~ %(regex)s"]
    parts += ["length(v) = %(len)s"] if "valid length" in rule else []
    parts += ["length(v) >= %(min)s"] if "valid min length" in rule else []
    parts += ["length(v) <= %(max)s"] if "valid max length" in rule else []
    return " AND ".join(parts)


@pytest.mark.parametrize("fmt, good, bad", [
    ("email", "anna@example.dk", "anna.example.dk"),
    ("phone", "+4512345678", "12345678"),
    ("phone", "+4512345678", "+45123456789012345"),
    ("cpr", "010190-1234", "0101901234x"),
    ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000"),
    ("postal_code", "8000", "!"),
    ("postal_code", "DK-8000", "12345678901"),
])
def test_format_rules_in_postgres(wh_conn, fmt, good, bad):
    rule = FORMAT_RULES[fmt]
    params = {"regex": rule["valid regex"], "len": rule.get("valid length"),
              "min": rule.get("valid min length"), "max": rule.get("valid max length")}
    with wh_conn.cursor() as cur:
        for value, expected in ((good, True), (bad, False)):
            cur.execute(f"SELECT {_valid_sql(rule)} FROM (SELECT %(v)s::text AS v) t", {**params, "v": value})
            assert cur.fetchone()[0] is expected, (fmt, value)


def test_show_prints_the_sodacl(capsys):
    from atlas.quality.show import main

    assert main(["orders", "silver"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("filter orders [atlas_slice]:") and "name: order_id_unique" in out
