"""Fixtures for quality tests: dedicated schemas in the real warehouse (dropped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atlas import settings
from atlas.config import TableSpec, load_valid_specs
from tests.quality.qdata import Warehouse


@pytest.fixture(scope="session")
def specs() -> dict[str, TableSpec]:
    return load_valid_specs(settings.tables_dir())


@pytest.fixture(scope="module")
def wh(warehouse_dsn: str, specs: dict[str, TableSpec]) -> Iterator[Warehouse]:
    from atlas.warehouse import connect

    conn = connect(warehouse_dsn)
    warehouse = Warehouse(conn, warehouse_dsn, specs)
    yield warehouse
    warehouse.drop()
    conn.close()


