"""publish_ai_ready on the real warehouse and a local lake."""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from atlas.ai_ready import Manifest, publish_ai_ready, read_manifest
from atlas.ai_ready import lake as lake_module
from atlas.ai_ready.features import AiReadySourceError, assign_split
from atlas.config import AiReadySpec
from atlas.errors import AtlasError
from atlas.pii.pseudonym import pseudonymize

KEY = b"test-hmac-key-for-ai-ready-00001"
DS = "2026-03-31"
RUN = "scheduled__2026-03-31T00:00:00+00:00"
# customer_id, name, email, amount, visits, constant, tier, country
ROWS = [
    ("C000001", "Anders Jensen", "anders@example.com", 10, 1, 7, "gold", "DK"),
    ("C000002", "Birgitte Nielsen", "bn@example.dk", 20, None, 7, "silver", "SE"),
    ("C000003", "Carl Holm", "carl@example.org", None, 3, 7, None, "DK"),
    ("C000004", "Dorthe Lund", "dl@example.com", 40, 4, 7, "gold", "Côte d'Ivoire"),
    ("C000005", "Erik Bak", "erik@example.net", 30, 2, 7, "bronze", "DK"),
]
IDENTIFIERS = [v for row in ROWS for v in row[:3]]


def create_source(conn, table, rows):
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE gold.{table} (customer_id text, customer_name text, email text, amount numeric,"
                    " visits integer, constant numeric, tier text, country text, _atlas_run_id text)")
        cur.executemany(f"INSERT INTO gold.{table} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'gold-run-1')", rows)
    conn.commit()


@pytest.fixture
def dataset(wh_conn):
    """A gold source table, its spec, and cleanup of everything a publish creates."""
    name = f"tai_{uuid.uuid4().hex[:8]}"
    create_source(wh_conn, name, ROWS)
    spec = AiReadySpec(name=name, source=f"gold.{name}", key="customer_id",
                       numeric=("amount", "visits", "constant"), categorical=("tier", "country"))
    yield spec
    wh_conn.rollback()
    with wh_conn.cursor() as cur:
        for table in (f"gold.{name}", f"ai_ready.{name}", f"ai_ready.{name}__next"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute("DELETE FROM atlas_meta.ai_ready_versions WHERE dataset = %s", (name,))
    wh_conn.commit()


def publish(conn, spec, lake, **kwargs) -> Manifest:
    return publish_ai_ready(conn, spec, f"file://{lake}", KEY, RUN, kwargs.pop("ds", DS), **kwargs)


def table_rows(conn, name):
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM ai_ready.{name} ORDER BY row_key")
        names = [d.name for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    conn.commit()
    return rows


def parquet_rows(version_dir: Path) -> list[dict]:
    tables = [pq.read_table(version_dir / f"{s}.parquet") for s in ("train", "validation", "test")]
    return sorted(pa.concat_tables(tables).to_pylist(), key=lambda r: r["row_key"])


def test_features_in_table_and_parquet(wh_conn, dataset, tmp_path):
    manifest = publish(wh_conn, dataset, tmp_path)
    version_dir = tmp_path / "ai_ready" / dataset.name / f"version={DS}"
    rows = table_rows(wh_conn, dataset.name)
    assert rows == parquet_rows(version_dir)  # the same feature rows in both places
    by_key = {r["row_key"]: r for r in rows}
    assert set(by_key) == {pseudonymize(row[0], KEY) for row in ROWS}

    first, third = by_key[pseudonymize("C000001", KEY)], by_key[pseudonymize("C000003", KEY)]
    amount_std = math.sqrt(125)  # amounts 10, 20, 40, 30: mean 25, population stddev sqrt(125)
    assert math.isclose(first["amount"], -15 / amount_std, rel_tol=1e-12)
    assert (third["amount"], third["amount__missing"], first["amount__missing"]) == (0.0, 1, 0)
    assert math.isclose(first["visits"], (1 - 2.5) / math.sqrt(1.25), rel_tol=1e-12)
    assert all(r["constant"] == 0.0 and r["constant__missing"] == 0 for r in rows)  # stddev 0
    onehot = ["tier__missing", "tier__bronze", "tier__gold", "tier__silver"]
    assert [first[c] for c in onehot] == [0, 0, 1, 0]
    assert [third[c] for c in onehot] == [1, 0, 0, 0]
    ivory = by_key[pseudonymize("C000004", KEY)]
    assert (ivory["country__c_te_d_ivoire"], ivory["country__dk"], ivory["country__se"]) == (1, 0, 0)
    assert all(sum(r[c] for c in onehot) == 1 for r in rows)
    assert all(r["split"] == assign_split(r["row_key"], dataset.split) for r in rows)

    assert manifest.total_rows == 5 and sum(manifest.row_counts.values()) == 5
    numeric = {f.name: f for f in manifest.numeric}
    assert (numeric["amount"].mean, numeric["amount"].missing) == (25.0, 1)
    assert math.isclose(numeric["amount"].std, amount_std)
    assert manifest.categorical[0].vocabulary == ("__missing__", "bronze", "gold", "silver")
    assert manifest.categorical[1].vocabulary == ("Côte d'Ivoire", "DK", "SE")
    assert manifest.schema[:3] == (("row_key", "string"), ("split", "string"), ("amount", "double"))
    assert (manifest.source_table, manifest.source_run_id, manifest.run_id) == (dataset.source, "gold-run-1", RUN)
    assert read_manifest(version_dir) == manifest
    assert read_manifest(f"file://{version_dir}/manifest.json").uri == manifest.uri


def test_split_and_content_hash_are_deterministic_and_chunking_does_not_change_the_bytes(
        wh_conn, dataset, tmp_path):
    whole = publish(wh_conn, dataset, tmp_path / "a")
    chunked = publish(wh_conn, dataset, tmp_path / "b", chunk_size=2)
    assert whole.content_hash == chunked.content_hash
    assert whole.files == chunked.files
    assert parquet_rows(tmp_path / "a" / "ai_ready" / dataset.name / f"version={DS}") == \
        parquet_rows(tmp_path / "b" / "ai_ready" / dataset.name / f"version={DS}")
    small_groups = publish(wh_conn, dataset, tmp_path / "c", chunk_size=1, row_group_size=1)
    train = tmp_path / "c" / "ai_ready" / dataset.name / f"version={DS}" / "train.parquet"
    assert pq.ParquetFile(train).metadata.num_row_groups == small_groups.row_counts["train"]
    keys = pq.read_table(train, columns=["row_key"]).column("row_key").to_pylist()
    assert keys == sorted(keys)


def test_rerun_replaces_the_version(wh_conn, dataset, tmp_path):
    first = publish(wh_conn, dataset, tmp_path)
    dataset_dir = tmp_path / "ai_ready" / dataset.name
    (dataset_dir / f"version={DS}" / "stale.parquet").write_bytes(b"left over")
    second = publish(wh_conn, dataset, tmp_path)
    assert second == first
    assert sorted(p.name for p in dataset_dir.iterdir()) == [f"version={DS}"]
    assert sorted(p.name for p in (dataset_dir / f"version={DS}").iterdir()) == [
        "manifest.json", "test.parquet", "train.parquet", "validation.parquet"]
    assert len(table_rows(wh_conn, dataset.name)) == 5
    with wh_conn.cursor() as cur:
        cur.execute("SELECT version, content_hash, row_count, manifest_path FROM atlas_meta.ai_ready_versions"
                    " WHERE dataset = %s", (dataset.name,))
        assert cur.fetchall() == [(DS, first.content_hash, 5, first.uri)]
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'ai_ready' AND tablename LIKE %s",
                    (dataset.name + "%",))
        assert cur.fetchone()[0] == 1
    wh_conn.commit()
    publish(wh_conn, dataset, tmp_path, ds="2026-04-01")  # a new date is a new version beside it
    assert sorted(p.name for p in dataset_dir.iterdir()) == [f"version={DS}", "version=2026-04-01"]


def test_no_identifier_reaches_the_output(wh_conn, dataset, tmp_path):
    manifest = publish(wh_conn, dataset, tmp_path)
    version_dir = tmp_path / "ai_ready" / dataset.name / f"version={DS}"
    cells = [str(v) for row in parquet_rows(version_dir) for v in row.values()]
    cells += [str(v) for row in table_rows(wh_conn, dataset.name) for v in row.values()]
    names = [name for name, _ in manifest.schema]
    texts = (version_dir / "manifest.json").read_text(encoding="utf-8")
    for raw in IDENTIFIERS:
        assert not any(raw.lower() in c.lower() for c in cells + names), raw
        assert raw not in texts
    for path in version_dir.glob("*.parquet"):
        data = path.read_bytes()
        assert not any(raw.encode() in data for raw in IDENTIFIERS)
    assert not {"customer_id", "customer_name", "email"} & set(names)


def test_a_failed_publish_leaves_table_lake_and_versions_untouched(wh_conn, dataset, tmp_path, monkeypatch):
    first = publish(wh_conn, dataset, tmp_path)
    with wh_conn.cursor() as cur:
        cur.execute(f"INSERT INTO gold.{dataset.name} VALUES ('C000006', 'F', 'f@x.dk', 1, 1, 7, 'gold', 'DK', 'r')")
    wh_conn.commit()

    def boom(*args, **kwargs):
        raise OSError("lake unavailable")

    monkeypatch.setattr(lake_module, "publish_version", boom)
    with pytest.raises(OSError):
        publish(wh_conn, dataset, tmp_path)
    assert len(table_rows(wh_conn, dataset.name)) == 5
    assert read_manifest(tmp_path / "ai_ready" / dataset.name / f"version={DS}") == first
    with wh_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_tables WHERE tablename = %s", (dataset.name + "__next",))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (f"atlas.ai_ready.{dataset.name}",))
        assert cur.fetchone()[0] is True  # the dataset lock was released
        cur.execute("SELECT pg_advisory_unlock_all()")
    wh_conn.commit()


def test_bad_sources_are_refused(wh_conn, dataset, tmp_path):
    with pytest.raises(AiReadySourceError, match="no column"):
        publish(wh_conn, dataset.model_copy(update={"numeric": ("nope",)}), tmp_path)
    with pytest.raises(AiReadySourceError, match="not numeric"):
        publish(wh_conn, dataset.model_copy(update={"numeric": ("tier",), "categorical": ()}), tmp_path)
    with pytest.raises(AiReadySourceError, match="used twice"):
        publish(wh_conn, dataset.model_copy(update={"categorical": ("customer_id",)}), tmp_path)
    with pytest.raises(AiReadySourceError, match="distinct values"):
        publish(wh_conn, dataset.model_copy(update={"categorical": ("customer_name",)}), tmp_path, max_categories=3)
    with wh_conn.cursor() as cur:
        cur.execute(f"INSERT INTO gold.{dataset.name} VALUES ('C000001', 'dup', NULL, 1, 1, 7, 'gold', 'DK', 'r')")
    wh_conn.commit()
    with pytest.raises(AiReadySourceError, match="unique"):
        publish(wh_conn, dataset, tmp_path)
    with wh_conn.cursor() as cur:
        cur.execute("SELECT 1")
    with pytest.raises(AtlasError, match="open transaction"):
        publish(wh_conn, dataset, tmp_path)
    wh_conn.rollback()
    assert not (tmp_path / "ai_ready").exists() or not any((tmp_path / "ai_ready").rglob("*.parquet"))


def test_empty_splits_and_a_larger_table(wh_conn, tmp_path):
    name = f"tai_{uuid.uuid4().hex[:8]}"
    rows = [(f"C{i:06d}", "n", "e", i % 97, i % 13, 7, ("gold", "silver", None)[i % 3], "DK") for i in range(3000)]
    create_source(wh_conn, name, rows)
    try:
        spec = AiReadySpec(name=name, source=f"gold.{name}", key="customer_id", numeric=("amount", "visits"),
                           categorical=("tier",), split=(1.0, 0.0, 0.0))
        manifest = publish(wh_conn, spec, tmp_path, chunk_size=700, row_group_size=1000)
        assert manifest.row_counts == {"train": 3000, "validation": 0, "test": 0}
        version_dir = tmp_path / "ai_ready" / name / f"version={DS}"
        assert pq.read_table(version_dir / "test.parquet").num_rows == 0
        assert pq.ParquetFile(version_dir / "train.parquet").metadata.num_row_groups == 3
        stored = json.loads((version_dir / "manifest.json").read_text())
        assert stored["row_counts"] == {"train": 3000, "validation": 0, "test": 0, "total": 3000}
    finally:
        with wh_conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS gold.{name}; DROP TABLE IF EXISTS ai_ready.{name}")
            cur.execute("DELETE FROM atlas_meta.ai_ready_versions WHERE dataset = %s", (name,))
        wh_conn.commit()


def test_copy_out_batches_exactly_and_round_trips_awkward_text(wh_conn, tmp_path):
    from atlas.ai_ready.tables import copy_out

    schema = pa.schema([("t", pa.string()), ("x", pa.float64())])
    query = ("SELECT * FROM (VALUES (1, 'a,b', 1.5::float8), (2, E'multi\\nline \"q\"', NULL), (3, '', 2),"
             " (4, 'NA', 0.1::float8 + 0.2::float8), (5, 'NULL', -1e-300)) v(n, t, x) ORDER BY n")
    batches = list(copy_out(wh_conn, f"SELECT t, x FROM ({query}) q", schema, 2, str(tmp_path)))
    wh_conn.rollback()
    assert [b.num_rows for b in batches] == [2, 2, 1]
    rows = [r for b in batches for r in b.to_pylist()]
    assert [r["t"] for r in rows] == ["a,b", 'multi\nline "q"', "", "NA", "NULL"]
    assert [r["x"] for r in rows] == [1.5, None, 2.0, 0.1 + 0.2, -1e-300]
    assert list(copy_out(wh_conn, "SELECT 'a', 1.0 WHERE false", schema, 2, str(tmp_path))) == []
    wh_conn.rollback()


def test_statistics_are_exact_so_they_do_not_depend_on_scan_or_worker_order(wh_conn, tmp_path):
    name = f"tai_{uuid.uuid4().hex[:8]}"
    create_source(wh_conn, name, [(f"C{i:06d}", "n", "e", "0.1", 1, 7, "gold", "DK") for i in range(10)])
    try:
        spec = AiReadySpec(name=name, source=f"gold.{name}", key="customer_id", numeric=("amount",))
        manifest = publish(wh_conn, spec, tmp_path)
        assert manifest.numeric[0].mean == 0.1  # float addition of ten 0.1s gives 0.09999999999999999
        assert manifest.numeric[0].std == 0.0
    finally:
        with wh_conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS gold.{name}; DROP TABLE IF EXISTS ai_ready.{name}")
            cur.execute("DELETE FROM atlas_meta.ai_ready_versions WHERE dataset = %s", (name,))
        wh_conn.commit()


def test_an_empty_source_publishes_an_empty_version(wh_conn, tmp_path):
    name = f"tai_{uuid.uuid4().hex[:8]}"
    create_source(wh_conn, name, [])
    try:
        spec = AiReadySpec(name=name, source=f"gold.{name}", key="customer_id", numeric=("amount",),
                           categorical=("tier",))
        manifest = publish(wh_conn, spec, tmp_path)
        assert manifest.row_counts == {"train": 0, "validation": 0, "test": 0}
        assert manifest.numeric[0].mean is None and manifest.categorical[0].vocabulary == ()
        version_dir = tmp_path / "ai_ready" / name / f"version={DS}"
        assert pq.read_table(version_dir / "train.parquet").schema.names == ["row_key", "split", "amount",
                                                                            "amount__missing"]
        assert table_rows(wh_conn, name) == []
    finally:
        with wh_conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS gold.{name}; DROP TABLE IF EXISTS ai_ready.{name}")
            cur.execute("DELETE FROM atlas_meta.ai_ready_versions WHERE dataset = %s", (name,))
        wh_conn.commit()
