"""An erasure request (table, key column, key value), validated strictly, and the tables it reaches.

The key value is data: it is only ever compared and pseudonymized, never rendered, logged,
put in an error message or stored. Only its keyed pseudonym is kept (audit record).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from atlas.config import TableSpec
from atlas.errors import AtlasErasureError
from atlas.pii.pseudonym import pseudonymize

# silver holds these columns as the key's pseudonym (or the raw key), so rows can be matched
MATCHABLE_STRATEGIES = frozenset({"pseudonymize", "keep"})
MAX_KEY_CHARS = 256


@dataclass(frozen=True)
class Target:
    """A table holding the data subject and the column that holds the subject's key there."""

    spec: TableSpec
    column: str

    @property
    def table(self) -> str:
        return self.spec.table


@dataclass(frozen=True)
class ErasureRequest:
    """A validated request. ``repr`` never shows the key value."""

    table: str
    key_column: str
    key_value: str = field(repr=False)

    def pseudonym(self, hmac_key: bytes) -> str:
        """The key's pseudonym: what silver, gold and the audit record hold instead of it."""
        return pseudonymize(self.key_value, hmac_key)


def key_columns(spec: TableSpec) -> tuple[str, ...]:
    """Columns a request may name: ``erasure.keys``, else a one-column primary key; only those
    silver keeps pseudonymized (or raw), never masked, redacted, encrypted or generalized."""
    primary = spec.table_schema.primary_key
    keys = spec.erasure.keys if spec.erasure.keys is not None else (primary if len(primary) == 1 else ())
    return tuple(c for c in keys
                 if (policy := spec.pii.columns.get(c)) is None or policy.strategy in MATCHABLE_STRATEGIES)


def validate_request(specs: Mapping[str, TableSpec], table: object, key_column: object,
                     key_value: object) -> ErasureRequest:
    """The request, or AtlasErasureError naming what is wrong (never quoting the key value)."""
    if not isinstance(table, str) or table not in specs:
        raise AtlasErasureError(f"unknown table {table!r}; known tables: {', '.join(sorted(specs))}")
    spec = specs[table]
    allowed = key_columns(spec)
    if not isinstance(key_column, str) or key_column not in allowed:
        raise AtlasErasureError(f"{key_column!r} is not a key column of {table}; erasure can match by: "
                                f"{', '.join(allowed) or 'nothing (set erasure.keys)'}")
    if not isinstance(key_value, str):
        raise AtlasErasureError(f"the key value must be a string, not {type(key_value).__name__}")
    if not key_value or len(key_value) > MAX_KEY_CHARS:
        raise AtlasErasureError(f"the key value must have 1 to {MAX_KEY_CHARS} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in key_value):
        raise AtlasErasureError("the key value contains control or invisible format characters")
    if key_value != key_value.strip():
        raise AtlasErasureError("the key value has leading or trailing whitespace")
    return ErasureRequest(table, key_column, key_value)


def targets(specs: Mapping[str, TableSpec], request: ErasureRequest) -> list[Target]:
    """The requested table, then every table whose ``erasure.references`` points at its key column."""
    found = [Target(specs[request.table], request.key_column)]
    wanted = f"{request.table}.{request.key_column}"
    for name in sorted(specs):
        spec = specs[name]
        for column, reference in sorted(spec.erasure.references.items()):
            if reference == wanted and (name, column) != (request.table, request.key_column):
                found.append(Target(spec, column))
    return found
