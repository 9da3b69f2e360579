"""Known-value redaction: the slice's own structured PII values as a dictionary for its free text.

A name, email, phone, CPR, IBAN or address that stands in a structured column of the day's
slice is found again wherever it recurs inside a free-text column, in the same row or any
other, whatever the detectors make of it (a name in Arabic script, a phone written in another
format, a name broken by a zero-width character).

Keys are normalised (format characters removed, NFC, case-folded) and stored as sorted
64-bit XXH3 hashes in numpy arrays: 8 bytes per key, so a 1M-row day's dictionary stays in
tens of megabytes, and lookups are vectorised binary searches. Matching is deterministic (no
randomised hashing, no regex per value):

* **phrases**: a value's words (``\\w`` runs, case-folded) joined by one space, matched against
  every run of words in the text that starts with a known first word (``Anders Jensen``,
  ``anders.jensen@example.dk``, ``Nørregade 12, 2100 København Ø``); person names also as
  their words run together (``ZoëKrüger``) and in reverse order (``Jensen, Anders``);
* **name parts**: the words of person names (3+ letters, not common words), matched only where
  the text capitalises them (``Mr Jensen``, ``Hr. Kjeldsen-Lassen``);
* **compact numbers**: values with 7+ digits (phones, CPR, cards, IBANs, ids) with every
  separator removed, matched against runs of digit groups in the text (``020786 1868``,
  ``2030-4050``, ``DK50 0040 0440 1162 43``); phones also as E.164 digits, ``00`` + country
  code, national significant number and trunk-0 national form, so ``+4520304050`` in the
  column finds ``20 30 40 50`` and ``0045 2030 4050`` in a note;
* **CJK**: values in Chinese, Japanese or Korean script, matched as substrings (no spaces
  separate words there).

The dictionary holds hashes only; spans carry offsets and entity types, never values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from xxhash import xxh3_64_intdigest as _xxh3

from atlas.pii.entities import PERSON, PHONE_NUMBER
from atlas.pii.normalize import Normalized, normalize, visual_variant

if TYPE_CHECKING:
    import numpy as np
    from psycopg2.extensions import connection as PgConnection

    from atlas.pii.scanner import Span

RECOGNIZER = "known_value"
SCORE = 1.0
MIN_KEY_CHARS = 3
MIN_CJK_CHARS = 2
MIN_COMPACT_DIGITS = 7
MAX_COMPACT_CHARS = 34  # the longest IBAN
MIN_TOKEN_DIGITS = 6  # a one-word key of digits only ("2100", "12") is too common to redact
MAX_PHRASE_WORDS = 12
# Word characters plus the combining marks NFC leaves separate (Hebrew points, Arabic harakat).
WORD = re.compile(r"[\w\u0591-\u05C7\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED]+")
ALNUM = re.compile(r"[^\W_]+")
COMPACT_SEPARATOR = re.compile(r"[\s\-./()+]{1,3}")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def key_hash(key: str) -> int:
    """Stable 64-bit hash (XXH3) of a normalised key: the same in every process and run."""
    return _xxh3(key.encode("utf-8"))


word_hash = lru_cache(maxsize=262_144)(key_hash)  # words of notes repeat; phrases are hashed fresh


def words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, case-folded word) of each word of an already normalised text."""
    if text.isascii():
        return [(m.start(), m.end(), m.group()) for m in ASCII_WORD.finditer(text.lower())]
    return [(m.start(), m.end(), m.group().casefold()) for m in WORD.finditer(text)]


_DROP_ASCII_DIGITS = str.maketrans("", "", "0123456789")


def _digits(text: str) -> int:
    """Number of ASCII digits in ``text``."""
    return len(text) - len(text.translate(_DROP_ASCII_DIGITS))


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    return frozenset(str(code) for code in COUNTRY_CODE_TO_REGION_CODE)


_NON_DIGIT = re.compile(r"\D+")


def phone_variants(value: str, default_country: str = "45") -> set[str]:
    """Digit strings a phone number may be written as: as stored, E.164 digits, ``00`` + E.164,
    the national significant number and its trunk-0 form (``(0)`` dropped). Country codes are a
    prefix code, so the one a number starts with is found without parsing."""
    text = value.strip()
    digits = _NON_DIGIT.sub("", text)
    nsn = country = None
    if text[:1] == "+" or text[:2] == "00":
        body = digits[2:] if text[:2] == "00" else digits
        codes = _country_codes()
        country = body[:1] if body[:1] in codes else body[:2] if body[:2] in codes else \
            body[:3] if body[:3] in codes else None
        if country is not None:
            nsn = body[len(country) :]
            if nsn[:1] == "0":  # +44 (0)20 ...
                nsn = nsn[1:]
    elif digits[:1] == "0":
        nsn = digits[1:]
    elif len(digits) == 8:  # a national number of the default country (Denmark: 8 digits)
        nsn, country = digits, default_country
    if not nsn:
        return {digits} if len(digits) >= MIN_COMPACT_DIGITS else set()
    found = {digits, nsn, "0" + nsn}
    if country:
        found.update((country + nsn, "00" + country + nsn, country + "0" + nsn))
    return {v for v in found if len(v) >= MIN_COMPACT_DIGITS}


class KnownValuesBuilder:
    """Collects values (by entity) and builds the :class:`KnownValues` index. Keys are kept as
    packed 64-bit hashes (9 bytes per key with the entity code), never as strings."""

    def __init__(self) -> None:
        from array import array

        from atlas.pii.recognizers.names import COMMON_WORDS, PARTICLES

        self.entities: list[str] = []
        self._codes: dict[str, int] = {}
        self._stop = COMMON_WORDS
        self._not_parts = COMMON_WORDS | PARTICLES
        self._hashes = {kind: array("Q") for kind in KINDS}
        self._entity_codes = {kind: array("B") for kind in KINDS}
        self._first_words = array("Q")
        self.max_words = 1
        self.max_cjk = 0
        self.values = 0

    def _key(self, kind: str, key: str, code: int) -> None:
        self._hashes[kind].append(key_hash(key))
        self._entity_codes[kind].append(code)

    def _code(self, entity: str) -> int:
        code = self._codes.get(entity)
        if code is None:
            code = self._codes[entity] = len(self.entities)
            self.entities.append(entity)
        return code

    def add(self, entity: str, value: str) -> None:
        """Add one raw value of a column holding ``entity``."""
        self.add_many(entity, (value,))

    def add_many(self, entity: str, values: Iterable[str | None]) -> None:
        """Add raw values of a column holding ``entity`` (None and blanks are skipped). The loop
        keeps its lookups local: a day's dictionary has millions of values."""
        code = self._code(entity)
        phrase_hash, phrase_code = self._hashes["phrases"].append, self._entity_codes["phrases"].append
        compact_hash, compact_code = self._hashes["compact"].append, self._entity_codes["compact"].append
        first_word = self._first_words.append
        stop, drop_digits, ascii_word = self._stop, _DROP_ASCII_DIGITS, ASCII_WORD.findall
        person, phone = entity == PERSON, entity == PHONE_NUMBER
        for value in values:
            if not value:
                continue
            ascii_text = value.isascii()
            if ascii_text:
                base = value
                tokens = ascii_word(value.lower())
            else:
                base = normalize(value).text
                tokens = WORD.findall(base.casefold())
            if not tokens:
                continue
            self.values += 1
            head = _xxh3(tokens[0].encode())
            if len(tokens) == 1:
                token = tokens[0]
                if (len(token) >= MIN_KEY_CHARS or (len(token) >= MIN_CJK_CHARS and CJK.search(token))) \
                        and token not in stop and not (len(token) < MIN_TOKEN_DIGITS and token.isdigit()):
                    phrase_hash(head)
                    phrase_code(code)
                    first_word(head)
            elif len(tokens) <= MAX_PHRASE_WORDS:
                phrase_hash(_xxh3(" ".join(tokens).encode()))
                phrase_code(code)
                first_word(head)
                if len(tokens) > self.max_words:
                    self.max_words = len(tokens)
            if person:
                self._person_keys(tokens, code, head)
            if len(base) - len(base.translate(drop_digits)) >= MIN_COMPACT_DIGITS:
                compact = "".join(tokens)
                if len(compact) <= MAX_COMPACT_CHARS:
                    compact_hash(_xxh3(compact.encode()))
                    compact_code(code)
                if phone:
                    for variant in phone_variants(base):
                        if variant != compact:
                            compact_hash(_xxh3(variant.encode()))
                            compact_code(code)
            if not ascii_text and CJK.search(base):
                squeezed = "".join(base.casefold().split())
                if len(squeezed) >= MIN_CJK_CHARS:
                    self._key("cjk", squeezed, code)
                    self.max_cjk = max(self.max_cjk, len(squeezed))

    def _person_keys(self, tokens: list[str], code: int, head: int) -> None:
        """A name's other forms: run together (ZoëKrüger), reversed (Jensen, Anders), every run of
        two or more of its words (van der Berg, Anne Sofie) and its capitalised parts."""
        heads = [head, *(key_hash(t) for t in tokens[1:])]
        if len(tokens) > 1:
            self._phrase(["".join(tokens)], code)
            self._phrase(tokens[1:] + tokens[:1], code, heads[1])
            for size in range(2, min(len(tokens), MAX_PHRASE_WORDS)):
                for first in range(len(tokens) - size + 1):
                    self._phrase(tokens[first : first + size], code, heads[first])
        for token, hashed in zip(tokens, heads, strict=True):
            if len(token) >= MIN_KEY_CHARS and token not in self._not_parts and token.isalpha():
                self._hashes["parts"].append(hashed)
                self._entity_codes["parts"].append(code)

    def _phrase(self, tokens: list[str], code: int, head: int | None = None) -> None:
        """A phrase key (``head``: the hash of its first word, when already known)."""
        if len(tokens) > MAX_PHRASE_WORDS:
            return
        if len(tokens) == 1:
            key = tokens[0]
            if len(key) < MIN_KEY_CHARS and not (len(key) >= MIN_CJK_CHARS and CJK.search(key)):
                return
            if key in self._stop or (key.isdigit() and len(key) < MIN_TOKEN_DIGITS):
                return
            hashed = head if head is not None else key_hash(key)
            self._hashes["phrases"].append(hashed)
            self._first_words.append(hashed)
        else:
            self._hashes["phrases"].append(key_hash(" ".join(tokens)))
            self._first_words.append(head if head is not None else key_hash(tokens[0]))
            if len(tokens) > self.max_words:
                self.max_words = len(tokens)
        self._entity_codes["phrases"].append(code)

    def build(self) -> KnownValues:
        import numpy as np

        first_words = np.unique(np.frombuffer(self._first_words, dtype=np.uint64))
        self._first_words = type(self._first_words)("Q")
        return KnownValues(
            entities=tuple(self.entities),
            first_words=first_words,
            phrases=self._index("phrases"),
            parts=self._index("parts"),
            compact=self._index("compact"),
            cjk=self._index("cjk"),
            max_words=self.max_words,
            max_cjk=self.max_cjk,
            values=self.values,
        )

    def _index(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted unique hashes and the entity of each (the first value added wins); the
        builder's buffer for ``kind`` is released."""
        from array import array

        import numpy as np

        hashes = np.frombuffer(self._hashes[kind], dtype=np.uint64)
        codes = np.frombuffer(self._entity_codes[kind], dtype=np.uint8)
        unique, first = np.unique(hashes, return_index=True)
        out = unique, codes[first].copy()
        del hashes, codes
        self._hashes[kind], self._entity_codes[kind] = array("Q"), array("B")
        return out


KINDS = ("phrases", "parts", "compact", "cjk")
ASCII_WORD = re.compile(r"[a-z0-9_]+")


def _lookup(keys: np.ndarray, hashes: list[int]) -> np.ndarray:
    """Position of each hash in ``keys``, -1 where absent."""
    import numpy as np

    if not hashes or not len(keys):
        return np.full(len(hashes), -1, dtype=np.int64)
    wanted = np.array(hashes, dtype=np.uint64)
    pos = np.searchsorted(keys, wanted)
    pos[pos >= len(keys)] = 0
    return np.where(keys[pos] == wanted, pos, -1)


@dataclass(frozen=True)
class KnownValues:
    """The index: see the module docstring. Build with :class:`KnownValuesBuilder` or
    :func:`load_known_values`; :meth:`find` returns spans per text."""

    entities: tuple[str, ...]
    phrases: tuple[Any, Any]
    first_words: Any
    parts: tuple[Any, Any]
    compact: tuple[Any, Any]
    cjk: tuple[Any, Any]
    max_words: int
    max_cjk: int
    values: int

    @classmethod
    def empty(cls) -> KnownValues:
        return KnownValuesBuilder().build()

    @classmethod
    def from_columns(cls, columns: Iterable[tuple[str, Iterable[str | None]]]) -> KnownValues:
        """Index from (entity, values) pairs (values may repeat; None and blanks are skipped)."""
        builder = KnownValuesBuilder()
        for entity, values in columns:
            builder.add_many(entity, sorted({v for v in values if v is not None}))
        return builder.build()

    def __len__(self) -> int:
        return self.values

    def __repr__(self) -> str:
        return f"KnownValues({self.summary()})"

    def summary(self) -> dict[str, int]:
        """Counts only (for logs and XCom)."""
        return {"values": self.values, "phrase_keys": len(self.phrases[0]), "name_parts": len(self.parts[0]),
                "number_keys": len(self.compact[0]), "cjk_keys": len(self.cjk[0])}

    def find(self, texts: Sequence[str]) -> list[list[Span]]:
        """Spans of known values in each text (unsorted, may overlap; offsets into the original
        text). Texts are matched as normalised and, with a right-to-left override, as displayed."""
        from atlas.pii.scanner import Span

        found: list[list[Span]] = [[] for _ in texts]
        if not self.values:
            return found
        views: list[tuple[int, Normalized]] = []
        for i, text in enumerate(texts):
            base = normalize(text)
            views.append((i, base))
            visual = visual_variant(text)
            if visual is not None:
                views.append((i, visual))
        for i, view, start, end, code in self._matches(views):
            original = view.original_span(start, end)
            found[i].append(Span(original[0], original[1], self.entities[code], SCORE, RECOGNIZER))
        return [join_adjacent(text, spans) if len(spans) > 1 else spans
                for text, spans in zip(texts, found, strict=True)]

    def _matches(self, views: list[tuple[int, Normalized]]) -> Iterable[tuple[int, Normalized, int, int, int]]:
        word_lists = [words(view.text) for _, view in views]
        # Phrases: runs of words starting at a known first word.
        starts = [(v, k) for v, ws in enumerate(word_lists) for k in range(len(ws))]
        first_hashes = [word_hash(word_lists[v][k][2]) for v, k in starts]
        is_first = _lookup(self.first_words, first_hashes) >= 0 if len(self.first_words) else []
        candidates: list[tuple[int, int, int]] = []  # (view, start, end) in normalised offsets
        hashes: list[int] = []
        for (v, k), first, head in zip(starts, is_first, first_hashes, strict=False):
            if not first:
                continue
            ws = word_lists[v]
            key = ws[k][2]
            candidates.append((v, ws[k][0], ws[k][1]))
            hashes.append(head)
            for n in range(k + 1, min(len(ws), k + self.max_words)):
                key = key + " " + ws[n][2]
                candidates.append((v, ws[k][0], ws[n][1]))
                hashes.append(key_hash(key))
        yield from self._hits(views, candidates, hashes, self.phrases)
        # Name parts: capitalised (or uncased-script) words.
        if len(self.parts[0]):
            candidates, hashes = [], []
            for (v, k), head in zip(starts, first_hashes, strict=True):
                start, end, word = word_lists[v][k]
                first_char = views[v][1].text[start]
                if len(word) >= MIN_KEY_CHARS and (first_char.isupper() or not first_char.islower()) \
                        and not first_char.isdigit():
                    candidates.append((v, start, end))
                    hashes.append(head)
            yield from self._hits(views, candidates, hashes, self.parts)
        # Numbers: runs of digit groups, every concatenation of consecutive groups.
        if len(self.compact[0]):
            candidates, hashes = [], []
            for v, (_, view) in enumerate(views):
                if _digits(view.text) >= MIN_COMPACT_DIGITS:
                    for start, end, key in compact_candidates(view.text):
                        candidates.append((v, start, end))
                        hashes.append(key_hash(key))
            yield from self._hits(views, candidates, hashes, self.compact)
        if len(self.cjk[0]):
            candidates, hashes = [], []
            for v, (_, view) in enumerate(views):
                for match in CJK_RUN.finditer(view.text):
                    run = match.group().casefold()
                    for a in range(len(run)):
                        for b in range(a + MIN_CJK_CHARS, min(len(run), a + self.max_cjk) + 1):
                            candidates.append((v, match.start() + a, match.start() + b))
                            hashes.append(key_hash(run[a:b]))
            yield from self._hits(views, candidates, hashes, self.cjk)

    def _hits(self, views: list[tuple[int, Normalized]], candidates: list[tuple[int, int, int]],
              hashes: list[int], index: tuple[Any, Any]) -> Iterable[tuple[int, Normalized, int, int, int]]:
        keys, codes = index
        for (v, start, end), pos in zip(candidates, _lookup(keys, hashes), strict=True):
            if pos >= 0:
                i, view = views[v]
                yield i, view, start, end, int(codes[pos])


JOINER = re.compile(r"[\s\-'\u2019]{1,2}")


def join_adjacent(text: str, spans: list[Span]) -> list[Span]:
    """Spans sorted, overlapping ones merged, and spans of one entity separated only by a hyphen,
    apostrophe or space joined (``Kjeldsen`` + ``-`` + ``Lassen``): one name, one replacement."""
    from atlas.pii.scanner import Span

    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    out: list[Span] = []
    for span in ordered:
        if out:
            last = out[-1]
            gap = text[last.end : span.start]
            if span.start < last.end or (span.entity == last.entity and JOINER.fullmatch(gap)):
                out[-1] = Span(last.start, max(last.end, span.end), last.entity, SCORE, RECOGNIZER)
                continue
        out.append(span)
    return out


CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


def compact_candidates(text: str) -> list[tuple[int, int, str]]:
    """(start, end, case-folded alphanumerics) of every run of consecutive alphanumeric groups
    joined by short separators (space, dash, dot, slash, parentheses, plus) that holds enough
    digits: ``+45 20 30 40 50`` gives ``4520304050``, ``20304050``, ``203040`` ... Letter-only
    groups count only between digit groups (an IBAN's bank code) so words never join a number."""
    groups = [(m.start(), m.end(), m.group().casefold()) for m in ALNUM.finditer(text)]
    out: list[tuple[int, int, str]] = []
    k = 0
    while k < len(groups):
        run = [groups[k]]
        while k + 1 < len(groups) and COMPACT_SEPARATOR.fullmatch(text, groups[k][1], groups[k + 1][0]):
            run.append(groups[k + 1])
            k += 1
        k += 1
        counts = [_digits(g[2]) for g in run]
        if sum(counts) < MIN_COMPACT_DIGITS:
            continue
        last = len(run) - 1
        usable = [c > 0 or (0 < j < last and len(run[j][2]) <= 4 and counts[j - 1] > 0 and counts[j + 1] > 0)
                  for j, c in enumerate(counts)]
        for a in range(len(run)):
            if not usable[a]:
                continue
            key, digits = "", 0
            for b in range(a, len(run)):
                if not usable[b]:
                    break
                key += run[b][2]
                digits += counts[b]
                if len(key) > MAX_COMPACT_CHARS:
                    break
                if counts[b] and digits >= MIN_COMPACT_DIGITS:
                    start = run[a][0]
                    while start > 0 and start > run[a][0] - 2 and text[start - 1] in "+(":
                        start -= 1  # the number's "+" or "(" belongs to it
                    out.append((start, run[b][1], key))
    return out


# ---------------------------------------------------------------------- loading from bronze
DICTIONARY_STRATEGIES_EXCLUDED = frozenset({"keep", "generalize"})


def dictionary_columns(findings: Sequence[Any]) -> list[tuple[str, str]]:
    """(column, entity) of the structured PII columns whose values form the dictionary: the
    columns the leak guard protects (not free text, not ``keep`` or ``generalize``)."""
    out = []
    for f in findings:
        if f.kind == "free_text" or f.strategy in DICTIONARY_STRATEGIES_EXCLUDED:
            continue
        if f.kind == "none" and f.policy_source != "config":
            continue
        out.append((f.column, f.entity_types[0] if f.entity_types else "PII"))
    return out


def load_known_values(conn: PgConnection, table: str, findings: Sequence[Any], ds: str,
                      *, fetch_rows: int = 50_000) -> KnownValues:
    """The dictionary for ``table``'s bronze slice of ``ds``: the distinct raw values of its
    structured PII columns, read in one set-based query (a DISTINCT per column, so each
    aggregate is planned from that column's statistics, under one UNION ALL) and streamed into
    the index. Empty (no query) when the table has no protected free-text column. Read-only:
    the caller's transaction is left as it was."""
    from psycopg2 import sql

    columns = dictionary_columns(findings)
    builder = KnownValuesBuilder()
    free_text = any(f.kind == "free_text" and f.strategy != "keep" for f in findings)
    if not columns or not free_text:  # nothing to look for, or nowhere to look
        return builder.build()
    per_column = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {index} AS c, v FROM (SELECT DISTINCT b.{col}::text AS v FROM {tbl} AS b "
                "WHERE b._atlas_logical_date = %(ds)s) AS d{index} WHERE v IS NOT NULL AND v <> ''").format(
            index=sql.Literal(i), col=sql.Identifier(column), tbl=sql.Identifier("bronze", table))
        for i, (column, _) in enumerate(columns)
    )
    query = per_column
    with conn.cursor(name=f"atlas_known_values_{table}") as cur:
        cur.itersize = fetch_rows
        cur.execute(query, {"ds": ds})
        while rows := cur.fetchmany(fetch_rows):
            by_column: dict[int, list[str]] = {}
            for index, value in rows:
                by_column.setdefault(index, []).append(value)
            for index, values in by_column.items():
                builder.add_many(columns[index][1], values)
    return builder.build()
