"""Warehouse side of an erasure: find and delete the subject's rows, rebuild gold, find leftovers.

Bronze holds the raw key; quarantine and silver hold its pseudonym (or the raw key where a
column is kept unprotected), so those match either. Gold and AI-ready sources are searched in
every text column for the pseudonym: a gold model carries the key under any name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from atlas.ai_ready.features import quote_ident
from atlas.config import TableSpec
from atlas.erasure.request import Target
from atlas.schema import silver_types

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection
    from psycopg2.extensions import cursor as PgCursor

LAYERS = ("bronze", "quarantine", "silver")
TEXT_TYPES = ("text", "character varying", "character")


def exists(cur: PgCursor, qualified: str) -> bool:
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (qualified,))
    return bool(cur.fetchone()[0])


def _condition(target: Target, layer: str) -> str:
    """SQL matching the subject's rows of ``<layer>.<table>`` (params: raw, pseudonym)."""
    column = quote_ident(target.column)
    if layer == "bronze":
        return f"{column} = %(raw)s"
    if layer == "silver" and silver_types(target.spec)[target.column] != "text":
        column += "::text"
    return f"{column} IN (%(raw)s, %(pseudonym)s)"


def _values(values: Sequence[str]) -> dict[str, str]:
    return {"raw": values[0], "pseudonym": values[1]}


def count_rows(cur: PgCursor, target: Target, values: Sequence[str]) -> dict[str, int]:
    """The subject's rows per layer of one table (0 where the table does not exist yet)."""
    counts = {}
    for layer in LAYERS:
        qualified = f"{layer}.{target.table}"
        if not exists(cur, qualified):
            counts[layer] = 0
            continue
        cur.execute(f"SELECT count(*) FROM {qualified} WHERE {_condition(target, layer)}", _values(values))
        counts[layer] = cur.fetchone()[0]
    return counts


def delete_rows(cur: PgCursor, target: Target, values: Sequence[str]) -> dict[str, int]:
    """Delete the subject's rows from every layer of one table (inside the caller's transaction)."""
    deleted = {}
    for layer in LAYERS:
        qualified = f"{layer}.{target.table}"
        if not exists(cur, qualified):
            deleted[f"{layer}_rows"] = 0
            continue
        cur.execute(f"DELETE FROM {qualified} WHERE {_condition(target, layer)}", _values(values))
        deleted[f"{layer}_rows"] = cur.rowcount
    return deleted


def _text_columns(cur: PgCursor, schema: str, table: str) -> list[str]:
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "AND data_type = ANY(%s) ORDER BY ordinal_position", (schema, table, list(TEXT_TYPES)))
    return [c for (c,) in cur.fetchall()]


def _any_column_matches(columns: Iterable[str]) -> str:
    return " OR ".join(f"{quote_ident(c)} = ANY(%(values)s)" for c in columns)


def tables_holding(cur: PgCursor, schema: str, values: Sequence[str]) -> dict[str, int]:
    """Tables of ``schema`` with rows holding one of ``values`` in a text column: {table: rows}."""
    cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "AND table_type = 'BASE TABLE' ORDER BY 1", (schema,))
    found = {}
    for (table,) in cur.fetchall():
        columns = _text_columns(cur, schema, table)
        if not columns:
            continue
        cur.execute(f"SELECT count(*) FROM {schema}.{quote_ident(table)} WHERE {_any_column_matches(columns)}",
                    {"values": list(values)})
        rows = cur.fetchone()[0]
        if rows:
            found[table] = rows
    return found


def ai_ready_source_keys(cur: PgCursor, specs: Mapping[str, TableSpec], targets: Sequence[Target],
                         values: Sequence[str]) -> dict[str, set[str]]:
    """For each AI-ready dataset, the source key values of the rows that belong to the subject.

    A source row belongs to the subject when one of its text columns holds the subject's key or
    pseudonym (``gold.order_facts.customer_id`` for the customer's orders); a target's silver
    rows add their value of the dataset's key column where they have one.
    """
    keys: dict[str, set[str]] = {}
    for spec in specs.values():
        dataset = spec.ai_ready
        if dataset is None:
            continue
        found: set[str] = set()
        schema, table = dataset.source.split(".")
        if exists(cur, dataset.source):
            columns = _text_columns(cur, schema, table)
            if columns:
                cur.execute(f"SELECT DISTINCT {quote_ident(dataset.key)}::text FROM {schema}.{quote_ident(table)} "
                            f"WHERE {_any_column_matches(columns)}", {"values": list(values)})
                found |= {k for (k,) in cur.fetchall() if k is not None}
        for target in targets:
            qualified = f"silver.{target.table}"
            if dataset.key in target.spec.table_schema.column_names and exists(cur, qualified):
                cur.execute(f"SELECT DISTINCT {quote_ident(dataset.key)}::text FROM {qualified} "
                            f"WHERE {_condition(target, 'silver')}", _values(values))
                found |= {k for (k,) in cur.fetchall() if k is not None}
        keys[dataset.name] = found
    return keys


def gold_models_to_rebuild(cur: PgCursor, targets: Sequence[Target], values: Sequence[str],
                           silver_changed: bool) -> list[str]:
    """Gold models holding the subject, plus the target tables' models when their silver changed."""
    from atlas.gold import model_names

    known = set(model_names())
    wanted = [m for t in targets for m in t.spec.gold.models] if silver_changed else []
    wanted += sorted(tables_holding(cur, "gold", values))
    ordered = list(dict.fromkeys(m for m in wanted if m in known))
    return [m for m in ordered if exists(cur, f"gold.{m}")]


def rebuild_gold(conn: PgConnection, specs: Mapping[str, TableSpec], models: Sequence[str],
                 request_id: str) -> dict[str, dict[str, int]]:
    """Rebuild each model as of the date of its current build, from silver without the subject."""
    from atlas.gold import build_model
    from atlas.warehouse.tables import ensure_tables

    with conn.cursor() as cur:  # every silver input exists, as for build_gold
        for spec in specs.values():
            ensure_tables(cur, spec)
    conn.commit()
    rebuilt = {}
    for model in models:
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*), max(as_of_date)::text FROM gold.{quote_ident(model)}")
            before, as_of = cur.fetchone()
        conn.rollback()
        if as_of is None:
            continue  # an empty model holds nobody
        after = build_model(conn, model, {"ds": as_of, "run_id": request_id})
        rebuilt[model] = {"rebuilt": 1, "rows_removed": max(before - after, 0)}
    return rebuilt


def remaining(cur: PgCursor, targets: Sequence[Target], values: Sequence[str],
              row_keys: Mapping[str, set[str]]) -> dict[str, int]:
    """Rows that still hold the subject, per place (empty when the erasure is complete)."""
    left: dict[str, int] = {}
    for target in targets:
        for layer, rows in count_rows(cur, target, values).items():
            if rows:
                left[f"{layer}.{target.table}"] = rows
    for schema in ("gold", "ai_ready"):
        for table, rows in tables_holding(cur, schema, values).items():
            left[f"{schema}.{table}"] = rows
    for dataset, keys in row_keys.items():
        qualified = f"ai_ready.{quote_ident(dataset)}"
        if keys and exists(cur, qualified):
            cur.execute(f"SELECT count(*) FROM {qualified} WHERE row_key = ANY(%s)", (sorted(keys),))
            rows = cur.fetchone()[0]
            if rows:
                left[f"ai_ready.{dataset}"] = left.get(f"ai_ready.{dataset}", 0) + rows
    return left
