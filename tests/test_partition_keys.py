"""The run's date for asset-triggered (partitioned) runs: the partition key, validated as a date."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from atlas.context import logical_ds
from atlas.errors import AtlasInputError


def test_partition_key_is_the_date_of_a_partitioned_run():
    run = SimpleNamespace(run_after=datetime(2026, 12, 1, 10, tzinfo=UTC))
    assert logical_ds({"partition_key": "2026-11-14", "logical_date": None, "dag_run": run}) == "2026-11-14"
    assert logical_ds({"partition_key": None, "logical_date": datetime(2026, 11, 13, 6, tzinfo=UTC),
                       "dag_run": run}) == "2026-11-13"
    assert logical_ds({"partition_key": None, "logical_date": None, "dag_run": run}) == "2026-12-01"


@pytest.mark.parametrize("key", ["2026-11-14'; DROP TABLE gold.customer_360; --", "{{ 7 * 7 }}", "2026-13-01",
                                 "20261114", "2026-11-14T00:00:00", " "])
def test_a_partition_key_that_is_not_a_date_is_refused(key):
    with pytest.raises(AtlasInputError, match="partition key must be a date") as info:
        logical_ds({"partition_key": key, "logical_date": None, "dag_run": None})
    assert key.strip() == "" or key not in str(info.value), "the hostile value is not echoed"
