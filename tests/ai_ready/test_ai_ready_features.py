"""Pure feature logic: split assignment, one-hot column names, the chunk transform."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from atlas.ai_ready.features import (
    AiReadySourceError,
    CategoricalFeature,
    FeaturePlan,
    NumericFeature,
    _column_name,
    assign_split,
)
from atlas.pii.pseudonym import pseudonymize

KEY = b"k" * 32


def test_split_is_a_stable_function_of_the_row_key_with_the_configured_fractions():
    keys = [pseudonymize(f"C{i:06d}", KEY) for i in range(20_000)]
    splits = [assign_split(k, (0.8, 0.1, 0.1)) for k in keys]
    assert splits == [assign_split(k, (0.8, 0.1, 0.1)) for k in keys]
    share = {s: splits.count(s) / len(splits) for s in ("train", "validation", "test")}
    assert math.isclose(share["train"], 0.8, abs_tol=0.015)
    assert math.isclose(share["validation"], 0.1, abs_tol=0.01)
    assert math.isclose(share["test"], 0.1, abs_tol=0.01)
    assert {assign_split(k, (1.0, 0.0, 0.0)) for k in keys[:500]} == {"train"}
    # widening train only moves rows out of validation/test into train, never between them
    wider = [assign_split(k, (0.9, 0.05, 0.05)) for k in keys]
    assert all(w == "train" for s, w in zip(splits, wider, strict=True) if s == "train")


def test_one_hot_column_names_are_safe_and_unique():
    used = {"row_key", "split"}
    names = [_column_name("country", v, used) for v in ("Côte d'Ivoire", "DK", "dk", "", "__missing__")]
    assert names == ["country__c_te_d_ivoire", "country__dk", "country__dk_2", "country__blank", "country__missing"]
    long = _column_name("c", "x" * 100, used)
    assert len(long) == 63 and _column_name("c", "x" * 100, used) == long[:61] + "_2"


def test_transform_scales_encodes_and_pseudonymizes():
    plan = FeaturePlan(
        source="gold.t", key="id", rows=3,
        numeric=(NumericFeature("amount", 20.0, 10.0, 1), NumericFeature("flat", 5.0, 0.0, 0)),
        categorical=(CategoricalFeature("tier", ("__missing__", "gold"), ("tier__missing", "tier__gold")),),
        fractions=(0.8, 0.1, 0.1),
    )
    chunk = pa.table({"c0": ["C1", "C2", "C3"], "c1": [30.0, None, 0.0], "c2": [5.0, 5.0, 5.0],
                      "c3": ["gold", "__missing__", "gold"]}, schema=plan.source_schema())
    table = plan.transform(chunk, KEY)
    rows = table.to_pylist()
    assert [r["row_key"] for r in rows] == [pseudonymize(k, KEY) for k in ("C1", "C2", "C3")]
    assert [r["amount"] for r in rows] == [1.0, 0.0, -2.0]
    assert [r["amount__missing"] for r in rows] == [0, 1, 0]
    assert [r["flat"] for r in rows] == [0.0, 0.0, 0.0]
    assert [(r["tier__missing"], r["tier__gold"]) for r in rows] == [(0, 1), (1, 0), (0, 1)]
    assert table.schema.names == ["row_key", "split", "amount", "amount__missing", "flat", "flat__missing",
                                  "tier__missing", "tier__gold"]
    with pytest.raises(AiReadySourceError):
        plan.transform(pa.table({"c0": ["C4"], "c1": [1.0], "c2": [1.0], "c3": ["platinum"]}), KEY)
