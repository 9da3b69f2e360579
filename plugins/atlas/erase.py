"""Erase one data subject from every layer, or check that nothing of them is left.

    python -m atlas.erase customers customer_id            # asks for the key (not echoed)
    echo C000123 | python -m atlas.erase customers customer_id --key-stdin
    python -m atlas.erase customers customer_id --check    # read-only: where is the subject now?

The key is read from a prompt or stdin, never from the command line (shell history, ``ps``).
The request is recorded in ``atlas_meta.erasure_requests`` under the key's pseudonym; the output
shows counts and the pseudonym, never the key. Same engine as the ``atlas_erasure`` DAG.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from atlas import settings
from atlas.errors import AtlasError


def _read_key(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass("key value (not shown): ")


def _run(args: argparse.Namespace, key: str) -> dict[str, Any]:
    """Validate, then erase or check; the result holds counts and the pseudonym only."""
    from atlas import storage
    from atlas.config import load_valid_specs
    from atlas.erasure import check, erase, validate_request
    from atlas.pii import load_keys
    from atlas.warehouse import connect, ensure_warehouse

    specs = load_valid_specs(settings.tables_dir())
    request = validate_request(specs, args.table, args.key_column, key)
    hmac_key = load_keys().hmac_key
    conn = connect()
    try:
        ensure_warehouse(conn)
        if args.check:
            left = check(conn, specs, request, hmac_key)
            return {"subject_pseudonym": request.pseudonym(hmac_key), "remaining": left,
                    "message": "nothing of the subject is left" if not left
                    else f"the subject is still in {len(left)} place(s)"}
        now = datetime.now(UTC)
        report = erase(conn, specs, request, hmac_key=hmac_key, lake_root=storage.lake_root(),
                       landing_root=storage.landing_root(),
                       request_id=f"cli__{now:%Y%m%dT%H%M%S}__{uuid.uuid4().hex[:8]}",
                       requested_by=f"cli:{getpass.getuser()}", requested_at=now)
        return report.summary()
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atlas.erase", description=__doc__.split("\n\n")[0])
    parser.add_argument("table", help="the table the data subject's key belongs to, e.g. customers")
    parser.add_argument("key_column", help="the key column, e.g. customer_id")
    parser.add_argument("--key-stdin", action="store_true", help="read the key value from stdin")
    parser.add_argument("--check", action="store_true", help="only report where the subject still is")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    import psycopg2

    key = _read_key(args.key_stdin)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # logs go to stderr: stdout carries only the result
            result = _run(args, key)
    except AtlasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except psycopg2.Error as exc:  # driver messages can quote row values: class and SQLSTATE only
        print(f"error: {type(exc).__name__} (SQLSTATE {exc.pgcode})", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True, default=str))
    else:
        print(result["message"])
        for where, rows in sorted(result.get("remaining", {}).items()):
            print(f"  {where}: {rows} row(s)")
    return 1 if args.check and result["remaining"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
