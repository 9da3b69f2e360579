"""The private internals Atlas relies on (atlas.compat, atlas.pii.engine), checked against the
installed Soda Core and Presidio: an upgrade that moves one fails here, by name."""

from __future__ import annotations

import inspect

import pytest

from atlas import compat


def test_installed_versions_are_the_tested_ones():
    assert compat.version_drift() == {}, "re-check atlas.compat and atlas.pii.engine against the new version"


@pytest.mark.parametrize(("owner", "method", "parameters"), [
    ("presidio_analyzer.nlp_engine.SpacyNlpEngine", "_doc_to_nlp_artifact", ["self", "doc", "language"]),
    ("presidio_analyzer.AnalyzerEngine", "_enhance_using_context",
     ["self", "text", "raw_results", "nlp_artifacts", "recognizers", "context"]),
    ("presidio_analyzer.RecognizerRegistry", "get_recognizers",
     ["self", "language", "entities", "all_fields", "ad_hoc_recognizers"]),
])
def test_presidio_methods_atlas_overrides_still_exist(owner, method, parameters):
    from importlib import import_module

    module, _, name = owner.rpartition(".")
    found = getattr(getattr(import_module(module), name), method, None)
    assert found is not None, f"{owner}.{method} is gone"
    assert list(inspect.signature(found).parameters) == parameters


def test_soda_internals_on_a_real_scan(wh_conn, warehouse_dsn):
    """Samples off, checks described from Soda's parse, connections closed afterwards."""
    from soda.scan import Scan

    from atlas.quality.scan import DATA_SOURCE, data_source_yaml

    with wh_conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS compat_probe; DROP TABLE IF EXISTS compat_probe.t; "
                    "CREATE TABLE compat_probe.t (a int, b text, c timestamptz); "
                    "INSERT INTO compat_probe.t VALUES (1, 'x', now()), (NULL, 'y', now())")
    wh_conn.commit()
    compat.soda_telemetry_off("/nonexistent/soda_config.yml")
    scan = Scan()
    scan.set_data_source_name(DATA_SOURCE)
    scan.add_configuration_yaml_str(data_source_yaml(warehouse_dsn, "compat_probe"))
    compat.soda_disable_samples(scan)
    scan.add_sodacl_yaml_str("""
checks for t:
  - missing_count(a) = 0: {name: m}
  - row_count between 1 and 10: {name: r}
  - avg(a): {name: avg, warn: when > 3, fail: when > 4}
  - freshness(c) < 1d: {name: f}
  - schema: {name: s, fail: {when required column missing: [a]}}
  - failed rows: {name: fr, fail query: SELECT * FROM compat_probe.t WHERE a < 0}
""", file_name="probe.yml")
    scan.execute()
    compat.soda_disconnect(scan)
    described = {c.result["name"]: (c.kind, c.threshold, c.column, c.result["outcome"])
                 for c in compat.soda_checks(scan)}
    assert described == {
        "m": ("missing_count", "= 0", "a", "fail"),
        "r": ("row_count", "between 1 and 10", None, "pass"),
        "avg": ("avg", "warn when > 3; fail when > 4", "a", "pass"),
        "f": ("freshness", "< 1d", "c", "pass"),
        "s": ("schema", None, None, "pass"),
        "fr": ("failed rows", None, None, "pass"),
    }
    with wh_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()")
        assert cur.fetchone()[0] == 0, "Soda's connections are closed"
        cur.execute("DROP SCHEMA compat_probe CASCADE")
    wh_conn.commit()
