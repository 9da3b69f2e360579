"""The feature plan: statistics computed in SQL, then a pure transform of row chunks.

Numeric columns are z-scored with the population mean/stddev (stddev 0 or unknown -> 0.0);
NULL becomes 0.0 plus ``<col>__missing`` = 1. Categorical columns are one-hot encoded over
their sorted vocabulary (NULL -> ``__missing__``). The key becomes ``row_key`` (keyed HMAC
pseudonym) and ``split`` is derived from a hash of ``row_key``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from atlas.config import AiReadySpec
from atlas.errors import AtlasInputError
from atlas.pii.pseudonym import pseudonymize

if TYPE_CHECKING:
    import pyarrow as pa
    from psycopg2.extensions import cursor as PgCursor

MISSING = "__missing__"
MAX_CATEGORIES = 256  # more distinct values suggests an identifier or free text, not a category
SPLITS = ("train", "validation", "test")
NUMERIC_TYPES = frozenset({"smallint", "integer", "bigint", "numeric", "real", "double precision"})
MAX_NAME = 63


class AiReadySourceError(AtlasInputError):
    """The source table does not match the AI-ready spec (missing columns, bad key, ...)."""


@dataclass(frozen=True)
class NumericFeature:
    name: str
    mean: float | None
    std: float | None
    missing: int

    @property
    def indicator(self) -> str:
        return f"{self.name}__missing"


@dataclass(frozen=True)
class CategoricalFeature:
    name: str
    vocabulary: tuple[str, ...]
    columns: tuple[str, ...]  # one-hot column per vocabulary entry, same order


@dataclass(frozen=True)
class FeaturePlan:
    """Everything the transform needs; built once per publish from SQL statistics."""

    source: str
    key: str
    rows: int
    numeric: tuple[NumericFeature, ...]
    categorical: tuple[CategoricalFeature, ...]
    fractions: tuple[float, float, float]

    def columns(self) -> list[tuple[str, str]]:
        """Output columns as (name, kind); kind is text, float or flag."""
        out = [("row_key", "text"), ("split", "text")]
        for feature in self.numeric:
            out += [(feature.name, "float"), (feature.indicator, "flag")]
        for cat in self.categorical:
            out += [(column, "flag") for column in cat.columns]
        return out

    def arrow_schema(self) -> pa.Schema:
        import pyarrow as pa

        types = {"text": pa.string(), "float": pa.float64(), "flag": pa.int8()}
        return pa.schema([pa.field(name, types[kind], nullable=False) for name, kind in self.columns()])

    def source_schema(self) -> pa.Schema:
        """Arrow types of ``source_select``'s columns (c0 = key, then numeric, then categorical)."""
        import pyarrow as pa

        types = [pa.string()] + [pa.float64()] * len(self.numeric) + [pa.string()] * len(self.categorical)
        return pa.schema([(f"c{i}", kind) for i, kind in enumerate(types)])

    def source_select(self) -> str:
        """SELECT of key, numeric (float8, non-finite -> NULL), categorical (text, NULL -> __missing__)."""
        parts = [f"{_q(self.key)}::text"]
        parts += [finite(f.name) for f in self.numeric]
        parts += [f"COALESCE({_q(c.name)}::text, '{MISSING}')" for c in self.categorical]
        return f"SELECT {', '.join(parts)} FROM {quote_table(self.source)}"

    def transform(self, chunk: pa.Table, hmac_key: bytes) -> pa.Table:
        """Feature rows for a chunk of ``source_select`` rows (``source_schema``), order kept."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        keys = [pseudonymize(k, hmac_key) for k in chunk.column(0).to_pylist()]
        data: dict[str, Any] = {"row_key": keys, "split": [assign_split(k, self.fractions) for k in keys]}
        for i, feature in enumerate(self.numeric, start=1):
            values = chunk.column(i).to_numpy(zero_copy_only=False).astype(np.float64)  # NULL -> NaN
            missing = np.isnan(values)
            if feature.std and feature.mean is not None:
                scaled = (values - feature.mean) / feature.std
            else:
                scaled = np.zeros(len(values))
            data[feature.name] = np.where(missing, 0.0, scaled)
            data[feature.indicator] = missing.astype(np.int8)
        offset = 1 + len(self.numeric)
        for j, cat in enumerate(self.categorical):
            codes = pc.index_in(chunk.column(offset + j), value_set=pa.array(cat.vocabulary, pa.string()))
            if codes.null_count:
                raise AiReadySourceError(f"{cat.name}: a value outside the vocabulary appeared")
            codes = codes.to_numpy(zero_copy_only=False)
            for n, column in enumerate(cat.columns):
                data[column] = (codes == n).astype(np.int8)
        return pa.table(data, schema=self.arrow_schema())


def assign_split(row_key: str, fractions: tuple[float, float, float]) -> str:
    """train/validation/test from a hash of the row key: the same row lands in the same split."""
    digest = hashlib.sha256(b"atlas-split:" + row_key.encode("utf-8")).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    if point < fractions[0]:
        return SPLITS[0]
    if point < fractions[0] + fractions[1]:
        return SPLITS[1]
    return SPLITS[2]


def build_plan(cur: PgCursor, spec: AiReadySpec, max_categories: int = MAX_CATEGORIES) -> FeaturePlan:
    """Check the source against the spec and compute statistics and vocabularies in SQL."""
    _check_columns(cur, spec)
    table = quote_table(spec.source)
    stats = ["count(*)", f"count({_q(spec.key)})"]
    for name in spec.numeric:  # in numeric: exact, so the result does not depend on row or worker order
        exact = finite(name, "numeric")
        stats += [f"avg({exact})::float8", f"stddev_pop({exact})::float8", f"count({exact})"]
    cur.execute(f"SELECT {', '.join(stats)} FROM {table}")
    row = cur.fetchone()
    rows, non_null_keys = row[:2]
    if non_null_keys != rows:  # uniqueness is enforced by the primary key on row_key
        raise AiReadySourceError(f"{spec.source}.{spec.key}: key must not be null ({rows - non_null_keys} null)")
    numeric = tuple(
        NumericFeature(name, row[2 + 3 * i], row[3 + 3 * i], rows - row[4 + 3 * i])
        for i, name in enumerate(spec.numeric)
    )
    used = {"row_key", "split", *spec.numeric, *(f.indicator for f in numeric)}
    categorical = tuple(
        _categorical(cur, table, name, used, max_categories) for name in spec.categorical
    )
    plan = FeaturePlan(spec.source, spec.key, rows, numeric, categorical, spec.split)
    names = [name for name, _ in plan.columns()]
    bad = sorted({n for n in names if names.count(n) > 1 or len(n) > MAX_NAME})
    if bad:
        raise AiReadySourceError(f"output column name(s) {bad} clash or exceed {MAX_NAME} characters")
    return plan


def _categorical(cur: PgCursor, table: str, name: str, used: set[str], limit: int) -> CategoricalFeature:
    cur.execute(
        f"SELECT DISTINCT COALESCE({_q(name)}::text, '{MISSING}') COLLATE \"C\" AS v "
        f"FROM {table} ORDER BY v LIMIT {limit + 1}"
    )
    vocabulary = tuple(r[0] for r in cur.fetchall())
    if len(vocabulary) > limit:
        raise AiReadySourceError(
            f"{name}: more than {limit} distinct values; an identifier or free text cannot be one-hot encoded")
    return CategoricalFeature(name, vocabulary, tuple(_column_name(name, v, used) for v in vocabulary))


def _column_name(column: str, value: str, used: set[str]) -> str:
    """``<column>__<slug>``: lower-case, [a-z0-9_], unique, at most 63 characters."""
    slug = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_") or "blank"
    base = f"{column}__{slug}"[:MAX_NAME]
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base[: MAX_NAME - len(str(n)) - 1]}_{n}"
    used.add(candidate)
    return candidate


def _check_columns(cur: PgCursor, spec: AiReadySpec) -> None:
    schema, table = spec.source.split(".")
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s", (schema, table))
    types = dict(cur.fetchall())
    if not types:
        raise AiReadySourceError(f"source table {spec.source} does not exist")
    wanted = (spec.key, *spec.numeric, *spec.categorical)
    missing = [c for c in wanted if c not in types]
    if missing:
        raise AiReadySourceError(f"{spec.source} has no column(s) {missing}")
    features = [*spec.numeric, *spec.categorical]
    clashes = sorted({c for c in features if features.count(c) > 1 or c in (spec.key, "row_key", "split")})
    if clashes:
        raise AiReadySourceError(f"column(s) {clashes} used twice or as the key / a reserved name")
    not_numeric = [c for c in spec.numeric if types[c] not in NUMERIC_TYPES]
    if not_numeric:
        raise AiReadySourceError(f"numeric feature(s) {not_numeric} are not numeric columns")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_q = quote_ident


def finite(column: str, sql_type: str = "float8") -> str:
    """``column`` as ``sql_type`` with NaN and +-Infinity treated as missing."""
    value = f"{_q(column)}::float8"
    return f"CASE WHEN {value} IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE {_q(column)}::{sql_type} END"


def quote_table(qualified: str) -> str:
    return ".".join(_q(part) for part in qualified.split("."))
