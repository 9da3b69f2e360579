"""Gold models: SQL files in ``include/sql/gold/`` rendered with Jinja and run in one transaction.

In Airflow the operator renders the same files through ``template_ext=(".sql",)``;
:func:`render_model` mirrors that (sandboxed Jinja, strict undefined) for tests and the CLI.
Every model script builds ``<gold>.<model>__next``, swaps it in and ends with
``SELECT count(*)`` of the built table, which :func:`run_model` returns.

What a model reads and writes comes from its SQL: :func:`model_tables` parses the rendered
script with the OpenLineage SQL parser the Airflow provider ships. The inputs drive both the
model's Airflow Asset condition and its lineage.

CLI: ``python -m atlas.gold customer_360 --ds 2026-03-31 [--run]`` (prints the SQL without ``--run``);
``--tables`` prints what the model reads and writes.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas import settings
from atlas.errors import AtlasError

if TYPE_CHECKING:
    from psycopg2.extensions import connection as PgConnection

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
SCHEMA_KEYS = ("silver", "gold")
STAGING_SUFFIX = "__next"
# Any schema-qualified warehouse table named in a script (a cross-check of the parser's result).
_COMMENT = re.compile(r"--[^\n]*")
_QUALIFIED = re.compile(r"\b((?:bronze|silver|gold|ai_ready|quarantine|atlas_meta)\.[a-z_][a-z0-9_]*)\b")


def models_dir() -> Path:
    return settings.include_dir() / "sql" / "gold"


def model_names() -> tuple[str, ...]:
    """Every model with a ``<name>.sql`` file, sorted."""
    return tuple(sorted(p.stem for p in models_dir().glob("*.sql") if not p.name.startswith("_")))


def model_path(name: str) -> Path:
    """The SQL file of model ``name``; AtlasError when there is none."""
    path = models_dir() / f"{name}.sql"
    if not _IDENTIFIER.match(name) or not path.is_file():
        raise AtlasError(f"unknown gold model '{name}' (known: {', '.join(model_names())})")
    return path


def render_model(name: str, context: Mapping[str, Any], *, schemas: Mapping[str, str] | None = None) -> str:
    """Render model ``name`` with an Airflow-like ``context`` (needs ``ds`` and ``run_id``).

    ``schemas`` maps ``silver``/``gold`` to other schemas (tests, side-by-side builds); Airflow
    runs always use the real ``silver`` and ``gold`` schemas.
    """
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    values = dict(context)
    for key, schema in (schemas or {}).items():
        if key not in SCHEMA_KEYS or not _IDENTIFIER.match(schema):
            raise AtlasError(f"invalid schema mapping {key!r} -> {schema!r}")
        values[f"atlas_{key}_schema"] = schema
    env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True)
    return env.from_string(model_path(name).read_text(encoding="utf-8")).render(**values)


@dataclass(frozen=True)
class ModelTables:
    """The warehouse tables a model's SQL reads (``inputs``) and the table it publishes (``output``)."""

    model: str
    inputs: tuple[str, ...]
    output: str

    @property
    def silver_tables(self) -> tuple[str, ...]:
        """Names of the tables whose silver layer the model reads (``silver.orders`` -> ``orders``)."""
        return tuple(t.split(".", 1)[1] for t in self.inputs if t.startswith("silver."))


def model_tables(name: str) -> ModelTables:
    """What model ``name`` reads and writes, parsed from its SQL (rendered with the real schemas).

    Tables the script itself writes (its ``__next`` staging table, the swapped-in output) are not
    inputs. Raises AtlasError when the parser fails, when the script does not publish exactly
    ``gold.<name>``, or when a schema-qualified table in the text is neither read nor written
    according to the parser (the parser misread the script, e.g. a CTE shadowing a table's name).
    """
    path = model_path(name)
    return _parse_tables(name, path, path.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _parse_tables(name: str, path: Path, mtime_ns: int) -> ModelTables:
    from airflow.providers.openlineage.sqlparser import SQLParser

    sql = render_model(name, {"ds": "1970-01-01", "run_id": "lineage"})
    # No default schema: the parser then loses tables read inside CTEs; every table is qualified.
    meta = SQLParser(dialect="postgres").parse(SQLParser.split_sql_string(sql))
    if meta is None or meta.errors:
        problems = "; ".join(str(e.message) for e in (meta.errors if meta else [])) or "no result"
        raise AtlasError(f"gold model '{name}': the SQL parser could not read {path.name}: {problems}")
    written = {t.qualified_name for t in meta.out_tables if t.schema}
    output = f"gold.{name}"
    published = {t for t in written if not t.endswith(STAGING_SUFFIX)}
    if published != {output}:
        raise AtlasError(f"gold model '{name}' must write exactly {output} "
                         f"(it writes {sorted(published) or 'nothing'})")
    inputs = tuple(sorted({t.qualified_name for t in meta.in_tables if t.schema} - written))
    named = set(_QUALIFIED.findall(_COMMENT.sub("", sql)))
    missed = {t for t in named - set(inputs) if not any(t.startswith(w) for w in written)}  # w's index: written
    if missed:
        raise AtlasError(f"gold model '{name}': the SQL parser did not see {sorted(missed)} as read or written "
                         "(a CTE named like a table hides the table from it; rename the CTE)")
    if not inputs:
        raise AtlasError(f"gold model '{name}' reads no warehouse table")
    return ModelTables(name, inputs, output)


def run_model(conn: PgConnection, sql: str, *, before_commit: Callable[[PgConnection], None] | None = None) -> int:
    """Execute a rendered model script in one transaction, commit, return the built row count.

    ``before_commit(conn)`` runs inside the transaction after the script (the new table is
    swapped in but visible to no one else yet): when it raises, everything is rolled back and
    readers keep the previous table. The leak guards run there.
    """
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            row = cur.fetchone() if cur.description else None
        if row is None:
            raise AtlasError("a gold model script must end with SELECT count(*) of the built table")
        if before_commit is not None:
            before_commit(conn)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return int(row[0])


def build_model(
    conn: PgConnection, name: str, context: Mapping[str, Any], *, schemas: Mapping[str, str] | None = None,
    before_commit: Callable[[PgConnection], None] | None = None,
) -> int:
    """Render and run model ``name``; returns its row count."""
    return run_model(conn, render_model(name, context, schemas=schemas), before_commit=before_commit)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Render or build an Atlas gold model")
    parser.add_argument("model", choices=model_names())
    parser.add_argument("--ds", required=True, help="as-of (logical) date, YYYY-MM-DD")
    parser.add_argument("--run-id", default=None, help="defaults to manual__<ds>")
    parser.add_argument("--run", action="store_true", help="build it in the warehouse (default: print SQL)")
    parser.add_argument("--tables", action="store_true", help="print the tables the model reads and writes")
    args = parser.parse_args(argv)
    if args.tables:
        tables = model_tables(args.model)
        print(f"{args.model}: reads {', '.join(tables.inputs)}; writes {tables.output}")
        return
    context = {"ds": args.ds, "run_id": args.run_id or f"manual__{args.ds}"}
    sql = render_model(args.model, context)
    if not args.run:
        print(sql)
        return
    from atlas.warehouse import connect, ensure_warehouse

    conn = connect()
    try:
        ensure_warehouse(conn)
        print(f"{args.model}: {run_model(conn, sql)} rows")
    finally:
        conn.close()


if __name__ == "__main__":
    main()
