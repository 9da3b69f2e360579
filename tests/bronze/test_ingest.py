"""Bronze ingest against the real warehouse: raw archive, text load, malformed rows, idempotency."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from atlas import settings
from atlas.bronze.ingest import ingest
from atlas.config import load_table_spec
from atlas.errors import AtlasInputError
from atlas.storage import resolve_source

HEADER = "order_id,customer_id,order_date,order_amount,currency,status,payment_method,shipping_address\n"
ROWS = [
    "O00000001,C000001,2026-11-01T10:00:00,10.50,DKK,completed,invoice,Street 1\n",
    'O00000002,C000002,2026-11-01T11:00:00,20.00,DKK,pending,,"Street 2, 2100 Kbh"\n',
    "O00000003,C000003,2026-11-01T12:00:00,30.00\n",  # malformed: too few fields
]


@pytest.fixture
def spec(tmp_path):
    defaults = {"retries": 2}
    spec = load_table_spec(settings.tables_dir() / "orders.yml", defaults)
    lenient = spec.source.model_copy(update={"max_malformed_ratio": 1.0})  # tiny files: one bad row is a third
    return spec.model_copy(update={"table": "orders_bronze_test", "source": lenient})


@pytest.fixture
def landing(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ATLAS_LANDING_URL", f"file://{tmp_path / 'landing'}")
    monkeypatch.setenv("ATLAS_LAKE_URL", f"file://{tmp_path / 'lake'}")
    return tmp_path / "landing"


def _land(landing: Path, ds: str, body: str, name: str = "orders.csv") -> Path:
    path = landing / "orders" / ds / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


def _count(conn, sql, *params) -> int:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def test_ingest_archives_raw_and_loads_text(wh_conn, spec, landing):
    raw = _land(landing, "2026-11-01", HEADER + "".join(ROWS))
    result = ingest(wh_conn, spec, resolve_source("orders/2026-11-01/*.csv"), "run_1", "2026-11-01")

    assert (result.rows, result.malformed) == (2, 1)
    archive = Path(result.files[0].archive.removeprefix("file://"))
    assert archive.read_bytes() == raw.read_bytes(), "raw file archived unchanged"
    assert result.files[0].checksum == hashlib.sha256(raw.read_bytes()).hexdigest()
    with wh_conn.cursor() as cur:
        cur.execute(f"SELECT shipping_address, payment_method, _atlas_row_number, _atlas_run_id, "
                    f"_atlas_source_checksum FROM bronze.{spec.table} WHERE _atlas_logical_date = '2026-11-01' "
                    "ORDER BY _atlas_row_number")
        rows = cur.fetchall()
    assert [r[2] for r in rows] == [2, 3], "row numbers are physical line numbers (the header is line 1)"
    assert rows[1][0] == "Street 2, 2100 Kbh" and rows[1][1] is None
    assert {r[3] for r in rows} == {"run_1"}
    with wh_conn.cursor() as cur:
        cur.execute(f"SELECT _atlas_stage, _atlas_rule, _atlas_reason, _atlas_row_number, order_id "
                    f"FROM quarantine.{spec.table} WHERE _atlas_logical_date = '2026-11-01'")
        (stage, rule, reason, row_number, order_id), = cur.fetchall()
    assert (stage, rule, row_number, order_id) == ("bronze", "malformed_row", 4, None)
    assert "expected 8 fields, found 4" in reason


def test_rerun_same_date_replaces_not_duplicates(wh_conn, spec, landing):
    _land(landing, "2026-11-02", HEADER + "".join(ROWS[:2]))
    sources = resolve_source("orders/2026-11-02/*.csv")
    ingest(wh_conn, spec, sources, "run_a", "2026-11-02")
    ingest(wh_conn, spec, sources, "run_b", "2026-11-02")
    assert _count(wh_conn, f"SELECT count(*) FROM bronze.{spec.table} WHERE _atlas_logical_date = %s",
                  "2026-11-02") == 2
    assert _count(wh_conn, f"SELECT count(DISTINCT _atlas_run_id) FROM bronze.{spec.table} "
                  "WHERE _atlas_logical_date = %s", "2026-11-02") == 1


def test_same_file_for_another_date_is_not_ingested_twice(wh_conn, spec, landing):
    body = HEADER + ROWS[0].replace("O00000001", "O00000099")
    _land(landing, "2026-11-03", body)
    _land(landing, "2026-11-04", body)
    ingest(wh_conn, spec, resolve_source("orders/2026-11-03/*.csv"), "r1", "2026-11-03")
    second = ingest(wh_conn, spec, resolve_source("orders/2026-11-04/*.csv"), "r2", "2026-11-04")
    assert [f.status for f in second.files] == ["duplicate_file"]
    assert second.ingested == []
    assert _count(wh_conn, f"SELECT count(*) FROM bronze.{spec.table} WHERE order_id = 'O00000099'") == 1
    forced = ingest(wh_conn, spec, resolve_source("orders/2026-11-04/*.csv"), "r3", "2026-11-04", full_refresh=True)
    assert [f.status for f in forced.files] == ["ingested"]
    assert _count(wh_conn, f"SELECT count(*) FROM bronze.{spec.table} WHERE order_id = 'O00000099'") == 2


def test_missing_column_names_file_and_column(wh_conn, spec, landing):
    path = _land(landing, "2026-11-05", HEADER.replace(",currency", "") + "O1,C1,2026-11-01,1,x,y,z\n")
    with pytest.raises(AtlasInputError) as info:
        ingest(wh_conn, spec, resolve_source("orders/2026-11-05/*.csv"), "r", "2026-11-05")
    assert str(path) in str(info.value) and "currency" in str(info.value)
    archived = list((Path(settings.lake_url().removeprefix("file://")) / "bronze" / spec.table).rglob("*.csv"))
    assert any(a.read_bytes() == path.read_bytes() for a in archived), "raw file kept even when rejected"
    assert _count(wh_conn, f"SELECT count(*) FROM bronze.{spec.table} WHERE _atlas_logical_date = %s",
                  "2026-11-05") == 0


def test_undecodable_line_is_quarantined_with_its_physical_line(wh_conn, spec, landing):
    path = landing / "orders" / "2026-11-06" / "orders.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(HEADER.encode() + ROWS[0].encode() + b"O00000002,C1,2026-11-01,1,DKK,pending,,\xff\xfe\n"
                     + ROWS[1].encode())
    result = ingest(wh_conn, spec, resolve_source("orders/2026-11-06/*.csv"), "r", "2026-11-06")
    assert (result.rows, result.malformed) == (2, 1)
    with wh_conn.cursor() as cur:
        cur.execute(f"SELECT _atlas_rule, _atlas_reason, _atlas_row_number FROM quarantine.{spec.table} "
                    "WHERE _atlas_logical_date = '2026-11-06'")
        (rule, reason, line), = cur.fetchall()
    assert (rule, line) == ("encoding", 3)
    assert "not valid utf-8 at byte" in reason


def test_json_lines_and_parquet_sources(wh_conn, spec, landing):
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = HEADER.strip().split(",")
    record = dict(zip(cols, ROWS[0].strip().split(","), strict=True))
    jsonl = _land(landing, "2026-11-07", json.dumps(record) + "\nnot json\n", "orders.json")
    json_spec = spec.model_copy(update={"source": spec.source.model_copy(update={"format": "json"})})
    result = ingest(wh_conn, json_spec, resolve_source(f"file://{jsonl}"), "r", "2026-11-07")
    assert (result.rows, result.malformed) == (1, 1)

    parquet = landing / "orders" / "2026-11-08" / "orders.parquet"
    parquet.parent.mkdir(parents=True)
    pq.write_table(pa.table({c: [record[c], record[c]] for c in cols}), parquet)
    pq_spec = spec.model_copy(update={"source": spec.source.model_copy(update={"format": "parquet"})})
    result = ingest(wh_conn, pq_spec, resolve_source(f"file://{parquet}"), "r", "2026-11-08")
    assert (result.rows, result.malformed) == (2, 0)


def _with_source(spec, **update):
    return spec.model_copy(update={"source": spec.source.model_copy(update=update)})


def test_file_too_broken_fails_with_counts_and_keeps_the_previous_slice(wh_conn, spec, landing):
    ds = "2026-11-09"
    _land(landing, ds, HEADER + "".join(row.replace("O0000000", "O0000009") for row in ROWS[:2]))
    ingest(wh_conn, spec, resolve_source(f"orders/{ds}/*.csv"), "r1", ds)
    broken = HEADER + "".join(f"O0000010{i},C1,2026-11-01T10:00:00,1,DKK,pending\n" for i in range(3)) + ROWS[0]
    _land(landing, ds, broken)
    strict = _with_source(spec, max_malformed_ratio=0.5)
    with pytest.raises(AtlasInputError) as info:
        ingest(wh_conn, strict, resolve_source(f"orders/{ds}/*.csv"), "r2", ds)
    wh_conn.rollback()
    message = str(info.value)
    assert "3 of 4 records (75.0%) are malformed" in message and "max_malformed_ratio (0.5)" in message
    assert "3 x malformed_row (first at line 2: expected 8 fields, found 6)" in message
    assert "O00000100" not in message and "C1" not in message, "counts, never values"
    assert _count(wh_conn, f"SELECT count(*) FROM bronze.{spec.table} WHERE _atlas_logical_date = %s "
                  "AND _atlas_run_id = 'r1'", ds) == 2, "the previous slice stays"


def test_fail_fast_ratio_stops_the_streamed_copy_with_the_input_error(wh_conn, spec, landing, monkeypatch):
    from atlas.bronze.readers import CsvReader

    monkeypatch.setattr(CsvReader, "block_bytes", 4096)
    good = "".join(f"O{i:08d},C{i:06d},2026-11-01T10:00:00,{i}.00,DKK,completed,invoice,Street {i}\n"
                   for i in range(1, 2000))
    _land(landing, "2026-11-10", HEADER + good + "O99999999,C1\n" + good)
    with pytest.raises(AtlasInputError, match=r"line 2001: expected 8 fields"):
        ingest(wh_conn, _with_source(spec, max_malformed_ratio=0), resolve_source("orders/2026-11-10/*.csv"),
               "r", "2026-11-10")
    wh_conn.rollback()


def test_many_blocks_stream_into_one_copy_with_physical_line_numbers(wh_conn, spec, landing, monkeypatch):
    from atlas.bronze.readers import CsvReader

    monkeypatch.setattr(CsvReader, "block_bytes", 2048)
    lines = [f'O{i:08d},C{i:06d},2026-11-01T10:00:00,{i}.00,DKK,completed,invoice,"Street {i}, Kbh"\n'
             for i in range(1, 5001)]
    lines[1234] = "O00001235,C1,\xff\n"
    path = landing / "orders" / "2026-11-11" / "orders.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(HEADER.encode() + "".join(lines).encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
    result = ingest(wh_conn, spec, resolve_source("orders/2026-11-11/*.csv"), "r", "2026-11-11")
    assert (result.rows, result.malformed) == (4999, 1)
    with wh_conn.cursor() as cur:
        cur.execute(f"SELECT min(_atlas_row_number), max(_atlas_row_number), count(DISTINCT _atlas_row_number), "
                    f"count(*) FILTER (WHERE _atlas_row_number = 2 + substr(order_id, 2)::int - 1) "
                    f"FROM bronze.{spec.table} WHERE _atlas_logical_date = '2026-11-11'")
        assert cur.fetchone() == (2, 5001, 4999, 4999), "each row numbered by its physical line"
        cur.execute(f"SELECT _atlas_rule, _atlas_row_number FROM quarantine.{spec.table} "
                    "WHERE _atlas_logical_date = '2026-11-11'")
        assert cur.fetchall() == [("encoding", 1236)]
