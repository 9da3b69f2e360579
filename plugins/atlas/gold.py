"""Gold models: SQL files in ``include/sql/gold/`` rendered with Jinja and run in one transaction.

In Airflow the operator renders the same files through ``template_ext=(".sql",)``;
:func:`render_model` mirrors that (sandboxed Jinja, strict undefined) for tests and the CLI.
Every model script builds ``<gold>.<model>__next``, swaps it in and ends with
``SELECT count(*)`` of the built table, which :func:`run_model` returns.

CLI: ``python -m atlas.gold customer_360 --ds 2026-03-31 [--run]`` (prints the SQL without ``--run``).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from atlas import settings
from atlas.errors import AtlasError

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
SCHEMA_KEYS = ("silver", "gold")


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


def run_model(conn: Any, sql: str, *, before_commit: Callable[[Any], None] | None = None) -> int:
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
    conn: Any, name: str, context: Mapping[str, Any], *, schemas: Mapping[str, str] | None = None,
    before_commit: Callable[[Any], None] | None = None,
) -> int:
    """Render and run model ``name``; returns its row count."""
    return run_model(conn, render_model(name, context, schemas=schemas), before_commit=before_commit)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Render or build an Atlas gold model")
    parser.add_argument("model", choices=model_names())
    parser.add_argument("--ds", required=True, help="as-of (logical) date, YYYY-MM-DD")
    parser.add_argument("--run-id", default=None, help="defaults to manual__<ds>")
    parser.add_argument("--run", action="store_true", help="build it in the warehouse (default: print SQL)")
    args = parser.parse_args(argv)
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
