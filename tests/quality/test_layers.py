"""Bronze and gold checks on the real warehouse, the trend command and the OpenLineage facets."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from atlas.quality.lineage import dataset_facets, facets_by_table, input_datasets
from atlas.quality.trend import main as trend_main
from tests.quality.qdata import ALICE, BOB, CAROL, DAY, clean_customers, clean_orders, not_passing, outcomes

C360 = {"customer_id": "text", "customer_tier": "text", "total_orders": "bigint", "total_revenue": "numeric(18,2)",
        "rfm_score": "integer", "customer_lifetime_value": "numeric(18,2)"}
REVENUE = {"order_day": "date", "currency": "text", "revenue": "numeric(18,2)", "orders": "bigint",
           "completed_orders": "bigint"}


def customer_360(*changes: dict) -> list[dict]:
    rows = [{"customer_id": c, "customer_tier": "gold", "total_orders": n, "total_revenue": rev, "rfm_score": 9}
            for c, n, rev in ((ALICE, 2, "100.00"), (BOB, 1, "0.00"), (CAROL, 1, "75.50"))]
    return [{**row, **change} for row, change in zip(rows, [*changes, {}, {}, {}], strict=False)]


def daily_revenue(revenue: str = "175.50") -> list[dict]:
    return [{"order_day": DAY, "currency": "DKK", "revenue": revenue, "orders": 4, "completed_orders": 2},
            {"order_day": DAY, "currency": "EUR", "revenue": "0.00", "orders": 0, "completed_orders": 0}]


@pytest.fixture
def gold(wh):
    wh.silver("customers", clean_customers())
    wh.silver("orders", clean_orders())
    wh.create("gold", "customer_360", C360, customer_360())
    wh.create("gold", "daily_revenue", REVENUE, daily_revenue())
    wh.create("gold", "order_facts", {"order_id": "text"}, [{"order_id": "O00000001"}])
    return wh


def test_clean_gold_passes_and_tolerates_extra_columns(gold):
    report = gold.run("orders", "gold")
    assert {r.table for r in report.results} == {"customer_360", "daily_revenue", "order_facts"}
    assert set(facets_by_table(report)) == {"customer_360", "daily_revenue", "order_facts"}
    assert dataset_facets(report, "daily_revenue")["dataQualityAssertions"].assertions
    assert not_passing(report) == {}, report.format_table()
    assert report.scores.keys() >= {"completeness", "uniqueness", "consistency", "accuracy"}


@pytest.mark.parametrize("table, rows, expected", [
    ("customer_360", customer_360({"customer_id": None}), {"customer_id_not_missing": "fail"}),
    ("customer_360", customer_360({"customer_id": BOB}), {"customer_id_unique": "fail"}),
    ("customer_360", customer_360({"customer_id": "ps_" + "f" * 32}), {"customer_id_exists_in_customers": "fail"}),
    ("customer_360", customer_360({"total_revenue": "-1.00"}), {"total_revenue_not_negative": "fail"}),
    ("daily_revenue", daily_revenue("-12.00"), {"revenue_not_negative": "fail"}),
    ("daily_revenue", daily_revenue()[:1] * 2, {"order_day_currency_unique": "fail"}),
])
def test_gold_sanity_checks_fail_on_broken_models(gold, table, rows, expected):
    gold.create("gold", table, C360 if table == "customer_360" else REVENUE, rows)
    report = gold.run("customers" if table == "customer_360" else "orders", "gold")
    assert not_passing(report) == expected, report.format_table()
    assert {r.table for r in report.failed} == {table}


def test_empty_or_missing_gold_model_fails(gold):
    gold.create("gold", "order_facts", {"order_id": "text"}, [])
    report = gold.run("orders", "gold")
    assert {(r.table, r.name) for r in report.failed} == {("order_facts", "row_count")}


def test_bronze_row_count_and_columns(wh):
    wh.bronze("orders", [{"order_id": "O1", "order_amount": "not a number"}])
    assert not_passing(wh.run("orders", "bronze")) == {}
    assert outcomes(wh.run("orders", "bronze", day=DAY - timedelta(days=1)))["row_count"] == "fail"
    wh.bronze("orders", [{"order_id": "O1"}], drop="_atlas_source_checksum")
    report = wh.run("orders", "bronze")
    assert not_passing(report) == {"schema_columns_present": "fail"}


def test_trend_prints_daily_scores(wh, capsys):
    wh.clear_results()
    wh.silver("customers", clean_customers())
    wh.silver("orders", clean_orders())
    wh.run("orders")
    wh.silver("orders", [{**r, "status": "shipped"} for r in clean_orders()], day=DAY + timedelta(days=1))
    wh.run("orders", day=DAY + timedelta(days=1))
    assert trend_main(["orders", "--dsn", wh.dsn, "--days", "7"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "overall" in lines[1] and "validity" in lines[1]
    by_day = {line.split()[0]: line.split() for line in lines[2:]}
    assert by_day[str(DAY)][1] == "100"  # overall, across the layers checked that day
    assert float(by_day[str(DAY + timedelta(days=1))][1]) < 100
    assert trend_main(["no_such_table", "--dsn", wh.dsn]) == 0
    assert "no quality results" in capsys.readouterr().out


def test_openlineage_facets_validate_against_the_spec(wh):
    jsonschema = pytest.importorskip("jsonschema")
    from openlineage.client.serde import Serde

    wh.silver("orders", [{**r, "customer_id": None} if i == 0 else r for i, r in enumerate(clean_orders())])
    report = wh.run("orders")
    facets = dataset_facets(report)
    assertions = {a.name: a for a in facets["dataQualityAssertions"].assertions}
    assert assertions["customer_id_not_missing"].success is False
    assert assertions["customer_id_not_missing"].assertion == "not_null"
    assert assertions["customer_id_not_missing"].actual == "1" and assertions["order_id_unique"].success
    metrics = facets["dataQualityMetrics"]
    assert metrics.rowCount == 4 and metrics.columnMetrics["customer_id"].nullCount == 1

    spec_dir = Path(__file__).resolve().parents[1] / "openlineage_schema"
    from referencing import Registry, Resource

    schemas = [json.loads(p.read_text()) for p in [spec_dir / "OpenLineage.json", *spec_dir.glob("facets/*.json")]]
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    for name, facet in facets.items():
        schema_file = "DataQualityAssertionsDatasetFacet" if name == "dataQualityAssertions" else \
            "DataQualityMetricsInputDatasetFacet"
        schema = next(s for s in schemas if s["$id"].endswith(f"{schema_file}.json"))
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        validator.validate({name: json.loads(Serde.to_json(facet))})
    dataset = input_datasets(report, "postgres://warehouse:5432", "atlas")[0]
    assert dataset.name == "atlas.silver.orders" and "dataQualityAssertions" in dataset.inputFacets
