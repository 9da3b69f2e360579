"""The silver leak guard across partitions: fingerprints kept in staging, matched at publish.

Each partition of a silver build is validated and protected by its own task, maybe on another
worker, while the guard must compare the raw values of *every* partition with the output of
*every* partition. So each stage task records what :class:`atlas.pii.leaks.SliceLeakGuard`
would observe, as 64-bit fingerprints: BLAKE2b keyed with a key derived from the PII HMAC key
and the run (the key is never stored; without it a fingerprint tells nothing, and two runs'
fingerprints cannot be compared), sorted and distinct per chunk and column, one ``bytea`` row
each in the partition's guard table. The publish step loads them and matches outputs against
raw values with sorted arrays and binary search, like the in-process guard: linear, no query
plan to depend on, names and counts only in what it reports.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from atlas.pii.leaks import META_PREFIX, Leak, cells_and_words, distinct_values, guarded_values, leak_message

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from psycopg2.extensions import connection as PgConnection

log = logging.getLogger(__name__)

RAW, OUTPUT = "raw", "output"


def guard_key(hmac_key: bytes, table: str, ds: str, run_id: str) -> bytes:
    """The fingerprint key of one run's silver build of ``table`` for ``ds`` (32 bytes)."""
    message = "\0".join(("atlas-silver-leak-guard", table, ds, run_id)).encode()
    return hmac.new(hmac_key, message, hashlib.sha256).digest()


def fingerprints(values: Iterable[str], key: bytes) -> np.ndarray:
    """Sorted, distinct keyed 64-bit fingerprints of ``values``."""
    import numpy as np

    base = hashlib.blake2b(key=key, digest_size=8)

    def digest(value: str) -> bytes:
        h = base.copy()
        h.update(value.encode("utf-8", "surrogatepass"))
        return h.digest()

    packed = b"".join(map(digest, values))
    return np.unique(np.frombuffer(packed, dtype="<i8"))


class StagedLeakRecorder:
    """The stage side: observes like :class:`~atlas.pii.leaks.SliceLeakGuard` and writes the
    fingerprints into ``relation`` (``kind, source, column_name, match, fingerprints``) on the
    stage's connection, so they commit (or roll back) with the partition's staged rows."""

    def __init__(self, conn: PgConnection, relation: str, key: bytes, source_table: str, columns: Sequence[str],
                 ignore: Iterable[str] = ()) -> None:
        self.conn, self.relation, self.key = conn, relation, key
        self.source_table = source_table
        self.columns = list(columns)
        self._ignore = frozenset(name.casefold() for name in ignore)
        self.values = 0
        self.seconds = 0.0

    @staticmethod
    def ddl(relation: str) -> str:
        return (f"CREATE UNLOGGED TABLE {relation} (kind text NOT NULL, source text NOT NULL, "
                "column_name text NOT NULL, match text NOT NULL, fingerprints bytea NOT NULL)")

    def observe_raw(self, frame: pd.DataFrame, unchanged_from: pd.DataFrame | None = None) -> None:
        if not self.columns:
            return
        started = time.perf_counter()
        for column, values in guarded_values(frame, self.columns, unchanged_from):
            kept = distinct_values(values)
            if self._ignore:  # a header row repeated in the data holds column names, not PII
                kept = {v for v in kept if v.casefold() not in self._ignore}
            self._store(RAW, self.source_table, column, "exact", kept)
        self.seconds += time.perf_counter() - started

    def observe_output(self, target: str, frame: pd.DataFrame, columns: Iterable[str]) -> None:
        if not self.columns:
            return
        started = time.perf_counter()
        for column in columns:
            if column in frame.columns and not column.startswith(META_PREFIX):
                cells, words = cells_and_words(frame[column].tolist())
                self._store(OUTPUT, target, column, "exact", cells)
                self._store(OUTPUT, target, column, "token", words)
        self.seconds += time.perf_counter() - started

    def _store(self, kind: str, source: str, column: str, match: str, values: Iterable[str]) -> None:
        import psycopg2

        prints = fingerprints(values, self.key)
        if not len(prints):
            return
        self.values += len(prints)
        with self.conn.cursor() as cur:
            cur.execute(f"INSERT INTO {self.relation} VALUES (%s, %s, %s, %s, %s)",
                        (kind, source, column, match, psycopg2.Binary(prints.tobytes())))


class StagedLeakCheck:
    """The publish side: loads every partition's fingerprints (``relations``) and raises
    :class:`~atlas.errors.AtlasPiiLeakError` if an output holds a raw value of any partition."""

    def __init__(self, conn: PgConnection, relations: Sequence[str]) -> None:
        self.conn = conn
        self.relations = list(relations)
        self.seconds = 0.0

    def _load(self) -> tuple[dict[tuple[str, str], np.ndarray], dict[tuple[str, str, str], np.ndarray]]:
        import numpy as np

        parts: dict[tuple[str, ...], list[np.ndarray]] = {}
        with self.conn.cursor() as cur:
            for relation in self.relations:
                cur.execute(f"SELECT kind, source, column_name, match, fingerprints FROM {relation}")
                for kind, source, column, match, data in cur.fetchall():
                    key = (kind, source, column) if kind == RAW else (kind, source, column, match)
                    parts.setdefault(key, []).append(np.frombuffer(bytes(data), dtype="<i8"))
        merged = {key: np.unique(np.concatenate(arrays)) for key, arrays in parts.items()}
        raw = {(k[1], k[2]): v for k, v in merged.items() if k[0] == RAW}
        outputs = {(k[1], k[2], k[3]): v for k, v in merged.items() if k[0] == OUTPUT}
        return raw, outputs

    def leaks(self) -> list[Leak]:
        import numpy as np

        started = time.perf_counter()
        raw, outputs = self._load()
        found = []
        for (target, column, how), prints in outputs.items():
            for (table, source), values in raw.items():
                at = np.minimum(np.searchsorted(values, prints), len(values) - 1)
                hits = int(np.count_nonzero(values[at] == prints))
                if hits:
                    found.append(Leak(target, column, source, hits, how, table))
        self.seconds += time.perf_counter() - started
        log.info("leak guard: %d raw and %d output fingerprints of %d partition(s) checked in %.2fs",
                 sum(map(len, raw.values())), sum(map(len, outputs.values())), len(self.relations), self.seconds)
        return sorted(found, key=lambda x: (x.target, x.column, x.source_table, x.source_column, x.match))

    def raise_for_leaks(self) -> None:
        """AtlasPiiLeakError naming every leaking column with counts (no values), if any."""
        from atlas.errors import AtlasPiiLeakError

        leaks = self.leaks()
        if leaks:
            raise AtlasPiiLeakError(leak_message(leaks))
