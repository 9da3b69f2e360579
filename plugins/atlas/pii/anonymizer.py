"""Atlas's strategies as presidio-anonymizer operators.

``mask``, ``redact``, ``replace`` and ``keep`` are Presidio's built-in operators (``mask`` through
:class:`KeepLastMask`, the built-in ``Mask`` with its count of masked characters derived from
``keep_last``, which a static operator config cannot express). The keyed pseudonym, reversible
encryption and generalisation are custom :class:`~presidio_anonymizer.operators.Operator`
classes registered in the :func:`anonymizer_engine`.

Two ways run them, with identical output (tests compare them value by value):

* **engine**: ``AnonymizerEngine.anonymize(text, spans, {"DEFAULT": OperatorConfig(...)})``
  per distinct value or text, Presidio's own path;
* **direct** (the default, see the PII benchmark): the same operator instances called through
  the same ``Operator.operate(text, params)`` interface, once per distinct value and per span,
  without the engine's per-call conflict resolution, copies and result objects.

Keys travel in the operator params as :class:`~atlas.pii.keys.PiiKeys`, whose ``repr`` never
shows them (Presidio prints operator configs in some messages).
"""

from __future__ import annotations

import hmac
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from presidio_anonymizer.operators import Keep, Mask, Operator, OperatorType, Redact, Replace

from atlas.pii.dates import age_on, parse_date
from atlas.pii.keys import PiiKeys
from atlas.pii.pseudonym import TOKEN_HEX_CHARS, TOKEN_PREFIX

MASK_CHAR = "*"
AGE_BAND_WIDTH = 10
OPEN_AGE_BAND = 90  # everyone this old or older shares one band ("90+")


def _keys(params: dict[str, Any]) -> PiiKeys:
    keys = params.get("keys")
    if not isinstance(keys, PiiKeys):
        from presidio_anonymizer.entities import InvalidParamError

        raise InvalidParamError("operator needs 'keys' (PiiKeys)")
    return keys


class NamedAnonymizer(Operator):
    """An anonymizing operator registered under its ``NAME``."""

    NAME: str

    def operator_name(self) -> str:
        return self.NAME

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize


class KeyedOperator(NamedAnonymizer):
    """An operator that needs the table's keys (``params["keys"]``, :class:`PiiKeys`)."""

    def validate(self, params: dict[str, Any] | None = None) -> None:
        _keys(params or {})


class KeyedPseudonym(KeyedOperator):
    """``ps_`` + 32 hex characters of HMAC-SHA256 under the key: byte-identical to
    :func:`atlas.pii.pseudonym.pseudonymize`, so joins and stored data survive."""

    NAME = "atlas_pseudonymize"

    def operate(self, text: str = "", params: dict[str, Any] | None = None) -> str:
        key = _keys(params or {}).hmac_key
        return TOKEN_PREFIX + hmac.digest(key, text.encode("utf-8"), "sha256").hex()[:TOKEN_HEX_CHARS]


@lru_cache(maxsize=8)
def _fernet(keys: PiiKeys) -> Any:
    from cryptography.fernet import Fernet, MultiFernet

    return MultiFernet([Fernet(k) for k in (keys.encryption_key, *keys.previous_encryption_keys)])


class FernetEncrypt(KeyedOperator):
    """A Fernet token (AES-128-CBC + HMAC-SHA256), fresh per call, reversible with the key
    (``python -m atlas.pii.decrypt``)."""

    NAME = "atlas_encrypt"

    def operate(self, text: str = "", params: dict[str, Any] | None = None) -> str:
        return _fernet(_keys(params or {})).encrypt(text.encode("utf-8")).decode("ascii")


def age_band(age: int) -> str:
    if age >= OPEN_AGE_BAND:
        return f"{OPEN_AGE_BAND}+"
    low = max(age, 0) // AGE_BAND_WIDTH * AGE_BAND_WIDTH
    return f"{low}-{low + AGE_BAND_WIDTH - 1}"


def postal_prefix(value: str, length: int) -> str:
    text = value.strip()
    keep = min(length, max(len(text) - 1, 0))
    return text[:keep] + "*" * (len(text) - keep)


class Generalization(NamedAnonymizer):
    """``mode``: ``year`` (``1987-03-14`` -> ``1987``), ``age_band`` (-> ``30-39``, ages on
    ``reference_date``, default today) or ``prefix`` (``2100`` -> ``21**``, ``prefix_length``).
    A value that is no date under year/age_band gives ``""`` (NULL for a whole value)."""

    NAME = "atlas_generalize"
    MODES = ("year", "age_band", "prefix")

    def operate(self, text: str = "", params: dict[str, Any] | None = None) -> str:
        params = params or {}
        mode = params.get("mode", "year")
        if mode == "prefix":
            return postal_prefix(text, int(params.get("prefix_length", 2)))
        born = parse_date(text)
        if born is None:
            return ""
        if mode == "year":
            return str(born.year)
        today: date = params.get("reference_date") or datetime.now(UTC).date()
        return age_band(age_on(born, today))

    def validate(self, params: dict[str, Any] | None = None) -> None:
        from presidio_anonymizer.entities import InvalidParamError

        if (params or {}).get("mode", "year") not in self.MODES:
            raise InvalidParamError(f"mode must be one of {self.MODES}")


class KeepLastMask(Mask):
    """Presidio's ``mask`` keeping the last ``keep_last`` characters, never more than half of a
    short value: ``+4520304050`` with keep_last 2 -> ``*********50``."""

    NAME = "atlas_mask"

    def operate(self, text: str = "", params: dict[str, Any] | None = None) -> str:
        params = params or {}
        visible = min(int(params.get("keep_last", 4)), len(text) // 2)
        return super().operate(text, {self.MASKING_CHAR: params.get(self.MASKING_CHAR, MASK_CHAR),
                                      self.CHARS_TO_MASK: len(text) - visible, self.FROM_END: False})

    def validate(self, params: dict[str, Any] | None = None) -> None:
        from presidio_anonymizer.entities import InvalidParamError

        keep_last = (params or {}).get("keep_last", 4)
        if not isinstance(keep_last, int) or keep_last < 0:
            raise InvalidParamError("keep_last must be a non-negative integer")

    def operator_name(self) -> str:
        return self.NAME


CUSTOM_OPERATORS: tuple[type[Operator], ...] = (KeyedPseudonym, FernetEncrypt, Generalization, KeepLastMask)
BUILT_IN = {"redact": Redact, "replace": Replace, "keep": Keep}


def mask_text(value: str, keep_last: int) -> str:
    """Every character but the last ``keep_last`` (at most half) becomes ``*``."""
    return KeepLastMask().operate(value, {"keep_last": keep_last})


@lru_cache(maxsize=1)
def anonymizer_engine() -> Any:
    """Presidio's ``AnonymizerEngine`` with Atlas's custom operators registered (one per process)."""
    import logging

    from presidio_anonymizer import AnonymizerEngine

    logging.getLogger("presidio-anonymizer").setLevel(logging.WARNING)
    engine = AnonymizerEngine()
    for operator in CUSTOM_OPERATORS:
        engine.add_anonymizer(operator)
    return engine


def anonymize_with_engine(text: str, spans: list[tuple[int, int, str]], operator: str,
                          params: dict[str, Any]) -> str:
    """``text`` with each (start, end, entity) span replaced through ``AnonymizerEngine``
    (spans must not overlap; adjacent spans stay separate)."""
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    if not spans:
        return text
    results = [RecognizerResult(entity, start, end, 1.0) for start, end, entity in spans]
    return anonymizer_engine().anonymize(
        text, results, {"DEFAULT": OperatorConfig(operator, params)}, merge_entities_with_spaces=False,
    ).text
