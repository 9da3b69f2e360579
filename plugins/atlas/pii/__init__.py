"""PII detection and protection (plain Python; Presidio, spaCy and pandas load on first use).

Importing ``atlas.pii`` is cheap: the dataclasses and key loading are imported eagerly, the
functions that need heavy libraries resolve lazily on first attribute access.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from atlas.pii.findings import ColumnFinding
from atlas.pii.keys import PiiKeys, load_keys
from atlas.pii.pseudonym import pseudonymize

if TYPE_CHECKING:
    from atlas.pii.classify import classify_columns
    from atlas.pii.crypto import decrypt_value, encrypt_value
    from atlas.pii.known_values import KnownValues, load_known_values
    from atlas.pii.leaks import DetectorHit, Leak, find_detector_hits, find_leaks, sample_text_columns
    from atlas.pii.protect import Protector, build_protector, slice_protector

_LAZY = {
    "classify_columns": "atlas.pii.classify",
    "build_protector": "atlas.pii.protect",
    "Protector": "atlas.pii.protect",
    "slice_protector": "atlas.pii.protect",
    "KnownValues": "atlas.pii.known_values",
    "load_known_values": "atlas.pii.known_values",
    "find_leaks": "atlas.pii.leaks",
    "find_detector_hits": "atlas.pii.leaks",
    "sample_text_columns": "atlas.pii.leaks",
    "Leak": "atlas.pii.leaks",
    "DetectorHit": "atlas.pii.leaks",
    "decrypt_value": "atlas.pii.crypto",
    "encrypt_value": "atlas.pii.crypto",
}

__all__ = [
    "ColumnFinding",
    "DetectorHit",
    "KnownValues",
    "Leak",
    "PiiKeys",
    "Protector",
    "build_protector",
    "classify_columns",
    "decrypt_value",
    "encrypt_value",
    "find_detector_hits",
    "find_leaks",
    "load_keys",
    "load_known_values",
    "pseudonymize",
    "sample_text_columns",
    "slice_protector",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'atlas.pii' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
