"""The silver leak guard across partitions: keyed fingerprints in staging, matched at publish."""

from __future__ import annotations

import pandas as pd
import pytest

from atlas.errors import AtlasPiiLeakError
from atlas.silver.staged_guard import StagedLeakCheck, StagedLeakRecorder, fingerprints, guard_key

KEY = guard_key(b"h" * 32, "customers", "2031-01-01", "run-1")


@pytest.fixture
def schema(scratch_schema):
    return scratch_schema


def _recorder(conn, relation: str) -> StagedLeakRecorder:
    with conn.cursor() as cur:
        cur.execute(StagedLeakRecorder.ddl(relation))
    return StagedLeakRecorder(conn, relation, KEY, "bronze.customers", ["customer_id", "email"],
                              ignore=["customer_id", "email", "segment"])


def test_fingerprints_are_keyed_per_run():
    values = ["C000001", "kunde1@example.dk"]
    other = guard_key(b"h" * 32, "customers", "2031-01-01", "run-2")
    assert len(fingerprints(values, KEY)) == 2
    assert set(fingerprints(values, KEY)) != set(fingerprints(values, other)), "another run, other fingerprints"
    assert list(fingerprints(values + values, KEY)) == sorted(fingerprints(values, KEY)), "sorted, distinct"


def test_a_raw_value_of_one_partition_in_another_partitions_output_is_found(wh_conn, schema):
    first, second = _recorder(wh_conn, f"{schema}.g0"), _recorder(wh_conn, f"{schema}.g1")
    raw = pd.DataFrame({"customer_id": ["C000001", "C000002", "email"], "email": ["a1@example.dk", None, None],
                        "segment": ["retail", "retail", "segment"]})
    first.observe_raw(raw)
    first.observe_output("silver.customers", raw.assign(customer_id="ps_x", email="ps_y"), ["customer_id", "segment"])
    leaked = pd.DataFrame({"customer_id": ["ps_z"], "email": ["ps_w"], "segment": ["moved from C000002 today"]})
    second.observe_raw(pd.DataFrame({"customer_id": ["C000003"], "email": ["a3@example.dk"]}))
    second.observe_output("silver.customers", leaked, ["customer_id", "email", "segment"])
    wh_conn.commit()

    with wh_conn.cursor() as cur:
        cur.execute(f"SELECT fingerprints FROM {schema}.g0 UNION ALL SELECT fingerprints FROM {schema}.g1")
        stored = b"".join(bytes(r[0]) for r in cur.fetchall())
    assert not any(v.encode() in stored for v in ("C000001", "C000002", "a1@example.dk")), "no raw value stored"

    check = StagedLeakCheck(wh_conn, [f"{schema}.g0", f"{schema}.g1"])
    [leak] = check.leaks()
    assert (leak.target, leak.column, leak.source_column, leak.match, leak.matches) == (
        "silver.customers", "segment", "customer_id", "token", 1)
    with pytest.raises(AtlasPiiLeakError) as info:
        check.raise_for_leaks()
    assert "C000002" not in str(info.value)
    assert StagedLeakCheck(wh_conn, [f"{schema}.g0"]).leaks() == [], "a column name repeated in the data is no evidence"
