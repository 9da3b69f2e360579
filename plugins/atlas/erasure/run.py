"""Carry out one erasure request across every layer, in an order that survives a retry.

1. AI-ready versions first, while the gold and silver sources still show which rows are the
   subject's (the dataset keys are pseudonyms of source keys and cannot be matched otherwise);
   every dataset's publish lock is held until the end, so no publish brings them back meanwhile.
2. Raw files: the lake's archive and the landed copies.
3. Bronze, quarantine and silver rows of every table reached, in one transaction.
4. Gold models rebuilt from silver as of their current build date.
5. A final search of every place; anything left fails the request ("incomplete").
A retry repeats each step; finished steps find nothing and count nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from atlas.config import TableSpec
from atlas.erasure import audit
from atlas.erasure.request import ErasureRequest, targets
from atlas.errors import AtlasErasureError
from atlas.pii.pseudonym import pseudonymize

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath
    from psycopg2.extensions import connection as PgConnection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErasureReport:
    """The outcome as stored in the audit record: counts and the pseudonym, never the key."""

    record: dict[str, Any]

    @property
    def found(self) -> bool:
        return bool(self.record.get("found"))

    @property
    def counts(self) -> dict[str, Any]:
        return self.record.get("counts") or {}

    def total(self, key: str) -> int:
        return sum(entry.get(key, 0) for section in self.counts.values() for entry in section.values())

    @property
    def message(self) -> str:
        what = f"{self.record['table_name']}.{self.record['key_column']} = <{self.record['subject_pseudonym']}>"
        if not self.found:
            return (f"erasure {self.record['request_id']}: no data for {what} in any layer; nothing was changed "
                    "(0 rows, 0 files)")
        rows = sum(self.total(k) for k in ("bronze_rows", "quarantine_rows", "silver_rows"))
        files = self.total("archive_files") + self.total("landing_files") + self.total("leftover_files")
        return (f"erasure {self.record['request_id']}: erased {what} from {', '.join(self.record['tables'])}: "
                f"{rows} warehouse row(s), {files} raw file(s) rewritten ({self.total('file_rows')} record(s)), "
                f"{self.total('rows')} AI-ready row(s) in {self.total('versions')} version(s), "
                f"{self.total('rebuilt')} gold model(s) rebuilt")

    def summary(self) -> dict[str, Any]:
        """Small and value-free: for XCom, the CLI and logs."""
        return {"request_id": self.record["request_id"], "status": self.record["status"], "found": self.found,
                "table": self.record["table_name"], "key_column": self.record["key_column"],
                "subject_pseudonym": self.record["subject_pseudonym"], "tables": list(self.record["tables"]),
                "counts": self.counts, "message": self.message}


def erase(conn: PgConnection, specs: Mapping[str, TableSpec], request: ErasureRequest, *, hmac_key: bytes,
          lake_root: ObjectStoragePath, landing_root: ObjectStoragePath, request_id: str, requested_by: str,
          requested_at: datetime | None = None) -> ErasureReport:
    """Erase the request's data subject everywhere; returns the audit record's report.

    ``conn`` is a psycopg2 connection without an open transaction. Raises AtlasErasureError (the
    record says ``failed``) when anything of the subject is left.
    """
    from atlas.erasure import ai_ready, files, warehouse
    from atlas.warehouse.locks import ai_ready_lock_key, session_locks

    pseudonym = request.pseudonym(hmac_key)
    values = (request.key_value, pseudonym)
    reached = targets(specs, request)
    datasets = [s.ai_ready for s in specs.values() if s.ai_ready is not None]
    audit.start(conn, request_id, requested_at or datetime.now(UTC), requested_by, request, pseudonym)
    try:
        with session_locks(conn, [ai_ready_lock_key(d.name) for d in datasets]):
            with conn.cursor() as cur:
                source_keys = warehouse.ai_ready_source_keys(cur, specs, reached, values)
            conn.rollback()
            row_keys = {name: {pseudonymize(k, hmac_key) for k in keys} | {pseudonymize(v, hmac_key) for v in values}
                        for name, keys in source_keys.items()}
            for dataset in datasets:  # 1
                counts = ai_ready.erase_from_dataset(conn, dataset, lake_root, row_keys[dataset.name], request_id)
                _add(conn, request_id, "ai_ready", dataset.name, counts)
            for target in reached:  # 2
                counts = files.erase_from_files(conn, target.spec, target.column, request.key_value, lake_root,
                                                landing_root)
                _add(conn, request_id, "tables", target.table, counts)
            with conn.cursor() as cur:  # 3: one transaction for every table's rows
                for target in reached:
                    audit.add_counts(cur, request_id, "tables", target.table,
                                     warehouse.delete_rows(cur, target, values))
            conn.commit()
            silver_changed = any(entry.get("silver_rows") for entry in
                                 audit.read(conn, request_id)["counts"].get("tables", {}).values())
            with conn.cursor() as cur:  # 4
                models = warehouse.gold_models_to_rebuild(cur, reached, values, silver_changed)
            conn.rollback()
            for model, counts in warehouse.rebuild_gold(conn, specs, models, request_id).items():
                _add(conn, request_id, "gold", model, counts)
            with conn.cursor() as cur:  # 5
                left = warehouse.remaining(cur, reached, values, row_keys)
            conn.rollback()
            if left:
                raise AtlasErasureError("erasure incomplete, the subject is still in: "
                                        + ", ".join(f"{where} ({rows} row(s))" for where, rows in sorted(left.items())))
        audit.finish(conn, request_id, "completed")
    except BaseException:
        conn.rollback()
        try:
            audit.finish(conn, request_id, "failed")
        except Exception:
            log.exception("could not mark erasure %s as failed", request_id)
        raise
    report = ErasureReport(audit.read(conn, request_id))
    log.info("%s", report.message)
    return report


def _add(conn: PgConnection, request_id: str, section: str, name: str, counts: dict[str, int]) -> None:
    with conn.cursor() as cur:
        audit.add_counts(cur, request_id, section, name, counts)
    conn.commit()


def check(conn: PgConnection, specs: Mapping[str, TableSpec], request: ErasureRequest,
          hmac_key: bytes) -> dict[str, int]:
    """Where the subject is now (read-only): rows per place; empty after a complete erasure.

    Covers bronze, quarantine and silver of every table the request reaches, every gold and
    AI-ready table, and AI-ready rows keyed by the subject or by their source rows still present.
    """
    from atlas.erasure import warehouse

    values = (request.key_value, request.pseudonym(hmac_key))
    reached = targets(specs, request)
    with conn.cursor() as cur:
        keys = warehouse.ai_ready_source_keys(cur, specs, reached, values)
        row_keys = {name: {pseudonymize(k, hmac_key) for k in found} | {pseudonymize(v, hmac_key) for v in values}
                    for name, found in keys.items()}
        left = warehouse.remaining(cur, reached, values, row_keys)
    conn.rollback()
    return left
