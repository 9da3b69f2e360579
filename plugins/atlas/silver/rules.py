"""Row rules for silver, one small class per rule.

A rule takes a column of text values (``None`` for missing) and returns the normalized values
and a mask of rows that break it. Reasons name the column and the rule, never the value.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar

from atlas.config import ColumnSpec
from atlas.cpr import cpr_birth_date, normalize_cpr  # noqa: F401 - cpr_birth_date re-exported

if TYPE_CHECKING:
    import pandas as pd


class Rule:
    """Base rule: ``apply`` returns (normalized values, invalid mask)."""

    name: ClassVar[str] = "rule"

    def __init__(self, column: ColumnSpec) -> None:
        self.column = column

    @property
    def rule_id(self) -> str:
        return f"{self.column.name}.{self.name}"

    def reason(self) -> str:
        return f"{self.column.name}: breaks {self.name}"

    def apply(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        """``frame`` holds the whole chunk for rules that need another column (e.g. a region hint)."""
        raise NotImplementedError

    def apply_each(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        """The rule's reference definition, value by value; :meth:`apply` gives the same result
        (column-wise where a rule has a fast path for values already in canonical form)."""
        return self.apply(values, frame)


def _clean(values: pd.Series) -> pd.Series:
    """Object dtype with ``None`` for missing (pandas otherwise infers NaN-based string dtypes)."""
    out = values.astype(object)
    return out.where(out.notna(), None)


def _map_present(values: pd.Series, func: object) -> tuple[pd.Series, pd.Series]:
    """Apply ``func`` (value -> normalized or None when invalid) to present values, once per distinct."""
    present = values.notna()
    mapped = values.copy()
    if present.any():
        distinct = values[present].unique()
        lookup = {v: func(v) for v in distinct}  # type: ignore[operator]
        mapped[present] = values[present].map(lookup)
    mapped = _clean(mapped)
    invalid = present & mapped.isna()
    return mapped, invalid


def _map_present_fast(values: pd.Series, func: object, canonical: re.Pattern[str]) -> tuple[pd.Series, pd.Series]:
    """:func:`_map_present` for a ``func`` that returns every value fully matching ``canonical``
    unchanged: those values are kept as they are (one C-level regex pass) and ``func`` runs only
    on the distinct others."""
    import numpy as np
    import pandas as pd

    array = values.to_numpy(dtype=object, copy=True)
    present = pd.notna(array)
    todo = present.copy()
    if present.any():
        todo[present] = np.fromiter(map(_no_match, map(canonical.fullmatch, array[present])), dtype=bool,
                                    count=int(present.sum()))
    if todo.any():
        lookup = {v: func(v) for v in set(array[todo])}  # type: ignore[operator]
        array[todo] = np.fromiter(map(lookup.__getitem__, array[todo]), dtype=object, count=int(todo.sum()))
    mapped = _clean(pd.Series(array, index=values.index, dtype=object))
    return mapped, pd.Series(present, index=values.index) & mapped.isna()


_no_match = None.__class__.__instancecheck__  # fullmatch(...) is None


def canonical_number(column: ColumnSpec) -> re.Pattern[str] | None:
    """The text :func:`parse_integer`/:func:`parse_decimal` and :class:`Limits` return unchanged
    for ``column``'s type, or None where there is no such simple form: integers without a sign on
    zero and short enough for the type; numeric(p, s) with exactly s (1-6) decimals and at most
    p - s integer digits, no leading zero."""
    if column.type == "integer":
        return re.compile(r"0|-?[1-9][0-9]{0,8}")  # < 2**31
    if column.type == "bigint":
        return re.compile(r"0|-?[1-9][0-9]{0,17}")  # < 2**63
    if column.type == "numeric" and column.precision is not None and column.scale and 1 <= column.scale <= 6 \
            and column.precision > column.scale:
        return re.compile(rf"-?(?:0|[1-9][0-9]{{0,{column.precision - column.scale - 1}}})\.[0-9]{{{column.scale}}}")
    return None


class Required(Rule):
    name = "required"

    def reason(self) -> str:
        return f"{self.column.name}: required value missing"

    def apply(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        return values, values.isna()


class TypeCast(Rule):
    """Parse to the declared type; output is the canonical text PostgreSQL's COPY accepts."""

    name = "type"
    TRUE = frozenset({"true", "t", "yes", "y", "1"})
    FALSE = frozenset({"false", "f", "no", "n", "0"})

    def reason(self) -> str:
        return f"{self.column.name}: not a valid {self.column.type}"

    def apply(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        kind = self.column.type
        if kind in ("integer", "bigint", "numeric") and (canonical := canonical_number(self.column)):
            return _map_present_fast(values, parse_decimal if kind == "numeric" else parse_integer, canonical)
        if kind in ("date", "timestamp"):
            return self._instants(values)
        return self.apply_each(values, frame)

    def _instants(self, values: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Dates and timestamps formatted column-wise (NumPy's ISO form; ``strftime`` for years
        outside 1000-9999, where the two differ)."""
        import numpy as np
        import pandas as pd

        present = values.notna()
        parsed = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
        naive = parsed.dt.tz_localize(None)
        text = np.datetime_as_string(naive.to_numpy(), unit="D" if self.column.type == "date" else "s")
        if self.column.type != "date":
            text = np.char.add(text, "+0000")  # UTC, as strftime's %z gives it
        out = pd.Series(text.astype(object), index=values.index, dtype=object)
        out[parsed.isna()] = None
        odd = parsed.notna() & ~naive.dt.year.between(1000, 9999)
        if odd.any():
            fmt = "%Y-%m-%d" if self.column.type == "date" else "%Y-%m-%dT%H:%M:%S%z"
            out[odd] = parsed[odd].dt.strftime(fmt).astype(object)
        out = _clean(out.where(present, None))
        return out, present & out.isna()

    def apply_each(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        import pandas as pd

        kind = self.column.type
        if kind == "text":
            return values, pd.Series(False, index=values.index)
        present = values.notna()
        if kind in ("integer", "bigint", "numeric"):
            return _map_present(values, parse_decimal if kind == "numeric" else parse_integer)
        elif kind == "boolean":
            lowered = values.str.strip().str.lower()
            out = lowered.map(lambda v: "true" if v in self.TRUE else "false" if v in self.FALSE else None)
        else:  # date / timestamp
            parsed = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
            fmt = "%Y-%m-%d" if kind == "date" else "%Y-%m-%dT%H:%M:%S%z"
            out = parsed.dt.strftime(fmt).where(parsed.notna(), None)
        out = _clean(out.where(present, None))
        return out, present & out.isna()


class Limits(Rule):
    """Values of the declared type that PostgreSQL would still reject: integers beyond int32/int64,
    numerics beyond their declared precision or beyond PostgreSQL's numeric format."""

    name = "limits"
    INTEGER_BOUNDS: ClassVar[dict[str, tuple[int, int]]] = {
        "integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1),
    }

    def reason(self) -> str:
        column = self.column
        if column.type in self.INTEGER_BOUNDS:
            low, high = self.INTEGER_BOUNDS[column.type]
            return f"{column.name}: out of range for {column.type} ({low} to {high})"
        if column.precision is not None:
            scale = column.scale or 0
            return (f"{column.name}: more than {column.precision - scale} digit(s) before the decimal point "
                    f"(numeric({column.precision}, {scale}))")
        return (f"{column.name}: beyond PostgreSQL's numeric range ({NUMERIC_MAX_INTEGER_DIGITS} digits before "
                f"and {NUMERIC_MAX_SCALE} after the decimal point)")

    def apply(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        if canonical := canonical_number(self.column):  # within the type's limits by construction
            return _map_present_fast(values, self._within, canonical)
        return self.apply_each(values, frame)

    def _within(self, value: str) -> str | None:
        if self.column.type in self.INTEGER_BOUNDS:
            low, high = self.INTEGER_BOUNDS[self.column.type]
            return value if _integer_within(value, low, high) else None
        return fit_numeric(value, self.column.precision, self.column.scale)

    def apply_each(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        import pandas as pd

        if self.column.type in self.INTEGER_BOUNDS:
            low, high = self.INTEGER_BOUNDS[self.column.type]
            return _map_present(values, lambda v: v if _integer_within(v, low, high) else None)
        if self.column.type == "numeric":
            return _map_present(values, lambda v: fit_numeric(v, self.column.precision, self.column.scale))
        return values, pd.Series(False, index=values.index)


class KeyLength(Rule):
    """A primary-key value too long for PostgreSQL's b-tree index (the merge would fail on it)."""

    name = "key_length"
    MAX_BYTES = 2000

    def reason(self) -> str:
        return f"{self.column.name}: primary key value longer than {self.MAX_BYTES:,} bytes (too long to index)"

    def apply(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        import pandas as pd

        present = [v for v in values if v is not None]
        if not present or max(map(len, present)) * 4 <= self.MAX_BYTES:  # no value can be too long
            return values, pd.Series(False, index=values.index)
        return self.apply_each(values, frame)

    def apply_each(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        too_long = values.map(lambda v: v is not None and len(v) * 4 > self.MAX_BYTES
                              and len(v.encode("utf-8")) > self.MAX_BYTES)
        return values, too_long.astype(bool)


class AllowedValues(Rule):
    name = "allowed_values"

    def reason(self) -> str:
        return f"{self.column.name}: not one of the allowed values"

    def apply(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        allowed = set(self.column.allowed_values or ())
        return values, values.notna() & ~values.isin(allowed)


class Pattern(Rule):
    name = "pattern"

    def reason(self) -> str:
        return f"{self.column.name}: does not match pattern {self.column.pattern}"

    def apply(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        import numpy as np
        import pandas as pd

        array = values.to_numpy(dtype=object)
        present = pd.notna(array)
        if not set(map(type, array[present])) <= {str}:
            return self.apply_each(values, frame)
        pattern = re.compile(self.column.pattern or ".*")  # as pandas' str.fullmatch compiles it
        bad = np.zeros(len(array), dtype=bool)
        bad[present] = np.fromiter(map(_no_match, map(pattern.fullmatch, array[present])), dtype=bool,
                                   count=int(present.sum()))
        return values, pd.Series(bad, index=values.index)

    def apply_each(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        matches = values.str.fullmatch(self.column.pattern or ".*")
        return values, values.notna() & ~matches.fillna(False).astype(bool)


class Range(Rule):
    name = "range"

    def reason(self) -> str:
        low, high = self.column.min, self.column.max
        bounds = " and ".join(b for b in (f">= {low:g}" if low is not None else "",
                                          f"<= {high:g}" if high is not None else "") if b)
        return f"{self.column.name}: must be {bounds}"

    def apply(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        import pandas as pd

        numbers = pd.to_numeric(values, errors="coerce")
        bad = pd.Series(False, index=values.index)
        if self.column.min is not None:
            bad |= numbers < self.column.min
        if self.column.max is not None:
            bad |= numbers > self.column.max
        return values, bad.fillna(False)


# ----------------------------------------------------------------------------- parsers


def parse_decimal(value: str) -> str | None:
    """Exact decimal text (no float rounding), or None."""
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return str(number) if number.is_finite() else None


def parse_integer(value: str) -> str | None:
    """Whole-number text (``"12"``, ``"12.0"``), or None. Huge values stay in exponent form (never
    expanded digit by digit) for :class:`Limits` to reject."""
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return str(int(number)) if number.adjusted() < 40 else str(number)


NUMERIC_MAX_INTEGER_DIGITS = 131072  # PostgreSQL's numeric: digits before the decimal point
NUMERIC_MAX_SCALE = 16383  # and after it


def _integer_within(text: str, low: int, high: int) -> bool:
    from decimal import Decimal

    number = Decimal(text)
    return number.adjusted() < 40 and low <= int(number) <= high


def fit_numeric(text: str, precision: int | None, scale: int | None) -> str | None:
    """``text`` as PostgreSQL stores it in numeric(precision, scale), rounded half away from zero to
    the scale; None when it fits neither there nor in PostgreSQL's numeric format at all."""
    from decimal import ROUND_HALF_UP, Context, Decimal

    number = Decimal(text)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: parse_decimal rejected NaN and infinities
    if number.adjusted() >= NUMERIC_MAX_INTEGER_DIGITS or -exponent > NUMERIC_MAX_SCALE:
        return None
    if precision is None:
        return text
    integer_digits = precision - (scale or 0)
    if number.adjusted() > integer_digits:  # too large even before rounding (and too large to round cheaply)
        return None
    rounded = number.quantize(Decimal(1).scaleb(-(scale or 0)), rounding=ROUND_HALF_UP,
                              context=Context(prec=precision + 2))
    return None if rounded and rounded.adjusted() >= integer_digits else str(rounded)


# ----------------------------------------------------------------------------- formats


@lru_cache(maxsize=1)
def _email_pattern() -> re.Pattern[str]:
    return re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,}$")


def normalize_email(value: str) -> str | None:
    value = value.strip()
    if not _email_pattern().match(value) or ".." in value:
        return None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalize_phone(value: str, region: str = "DK") -> str | None:
    """E.164 (e.g. +4512345678) or None when the number is not valid."""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


COUNTRY_REGIONS = {
    "denmark": "DK", "danmark": "DK", "sweden": "SE", "sverige": "SE", "norway": "NO", "norge": "NO",
    "finland": "FI", "iceland": "IS", "germany": "DE", "deutschland": "DE", "netherlands": "NL",
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB", "ireland": "IE",
    "united states": "US", "usa": "US", "united states of america": "US", "canada": "CA", "france": "FR",
    "spain": "ES", "italy": "IT", "poland": "PL", "belgium": "BE", "austria": "AT", "switzerland": "CH",
}


def region_code(country: str | None, default: str) -> str:
    """ISO region for a country name or code (``Denmark``/``DK`` → ``DK``); ``default`` if unknown."""
    if not country:
        return default
    text = country.strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return COUNTRY_REGIONS.get(text.lower(), default)


def normalize_uuid(value: str) -> str | None:
    import uuid

    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def normalize_postal_code(value: str) -> str | None:
    value = value.strip().upper()
    return value if re.fullmatch(r"[A-Z0-9][A-Z0-9 -]{1,9}", value) else None


class Format(Rule):
    name = "format"
    NORMALIZERS: ClassVar[dict[str, object]] = {
        "email": normalize_email, "phone": normalize_phone, "cpr": normalize_cpr,
        "uuid": normalize_uuid, "postal_code": normalize_postal_code,
    }
    LABELS: ClassVar[dict[str, str]] = {
        "email": "an email address", "phone": "a valid phone number", "cpr": "a valid CPR number",
        "uuid": "a UUID", "postal_code": "a postal code",
    }

    def reason(self) -> str:
        return f"{self.column.name}: not {self.LABELS[self.column.format or '']}"

    def apply(self, values: pd.Series, frame: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
        if self.column.format == "phone":
            return self._phones(values, frame)
        return _map_present(values, self.NORMALIZERS[self.column.format or ""])

    def _phones(self, values: pd.Series, frame: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
        """E.164 per row, reading numbers without a country code in the row's region."""
        import pandas as pd

        hint = self.column.region_column
        regions = (frame[hint].map(lambda c: region_code(c, self.column.default_region))
                   if hint and frame is not None else pd.Series(self.column.default_region, index=values.index))
        cache: dict[tuple[str, str], str | None] = {}
        out = []
        for value, region in zip(values, regions, strict=True):
            if value is None:
                out.append(None)
                continue
            if (value, region) not in cache:
                cache[(value, region)] = normalize_phone(value, region)
            out.append(cache[(value, region)])
        normalized = _clean(pd.Series(out, index=values.index, dtype=object))
        return normalized, values.notna() & normalized.isna()


def rules_for(column: ColumnSpec, primary_key: bool = False) -> list[Rule]:
    """The rules a column's spec implies, in evaluation order."""
    rules: list[Rule] = []
    if column.required:
        rules.append(Required(column))
    if primary_key:
        rules.append(KeyLength(column))
    if column.format:
        rules.append(Format(column))
    rules.append(TypeCast(column))
    if column.type in ("integer", "bigint", "numeric"):
        rules.append(Limits(column))
    if column.allowed_values is not None:
        rules.append(AllowedValues(column))
    if column.pattern:
        rules.append(Pattern(column))
    if column.min is not None or column.max is not None:
        rules.append(Range(column))
    return rules
