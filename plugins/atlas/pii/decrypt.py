"""Decrypt ``encrypt``-strategy tokens, for users authorized to read the PII keys.

    python -m atlas.pii.decrypt TOKEN [TOKEN ...]
    psql -Atc "select cpr_number from silver.customers where ..." | python -m atlas.pii.decrypt -

Keys come from ``AIRFLOW_CONN_ATLAS_PII_KEY`` or the Airflow connection ``atlas_pii_key``:
being able to read that secret is the authorization. Prints one plaintext per line, in input
order; a token that no configured key opens prints an error line on stderr (never the token)
and the exit status is 1 (2 when the keys cannot be loaded). ``--rotate`` prints the tokens
re-encrypted under the current key instead (see docs/pii.md, key rotation).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator

from atlas.pii.crypto import decrypt_value, rotate_token
from atlas.pii.keys import PiiKeys, load_keys


def _tokens(args: list[str]) -> Iterator[str]:
    for arg in args:
        if arg == "-":
            yield from (line.strip() for line in sys.stdin if line.strip())
        else:
            yield arg


def decrypt_tokens(tokens: Iterable[str], keys: PiiKeys) -> list[str | None]:
    """Plaintexts in order; None for tokens no configured key opens."""
    out: list[str | None] = []
    for token in tokens:
        try:
            out.append(decrypt_value(token, keys))
        except ValueError:
            out.append(None)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atlas.pii.decrypt", description=__doc__.split("\n")[0])
    parser.add_argument("tokens", nargs="+", help="Fernet tokens, or - to read one per line from stdin")
    parser.add_argument("--rotate", action="store_true", help="print tokens re-encrypted under the current key")
    args = parser.parse_args(argv)
    try:
        keys = load_keys()
    except Exception as exc:  # noqa: BLE001 - AtlasConfigError; its message names fields, never keys
        print(f"cannot load the PII keys: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for index, token in enumerate(_tokens(args.tokens), start=1):
        try:
            print(rotate_token(token, keys) if args.rotate else decrypt_value(token, keys))
        except ValueError:
            failed += 1
            print(f"token {index}: cannot be decrypted with the configured keys", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
