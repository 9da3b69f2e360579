"""International phone numbers, parsed and checked by the phonenumbers library."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from atlas.pii.entities import PHONE_NUMBER
from atlas.pii.recognizers.base import AtlasRecognizer
from atlas.pii.recognizers.dk_phone import PHONE_CONTEXT, LabelledNumbersUnboosted

# A run of digits with the separators phone numbers are written with, optional extension.
CANDIDATE = re.compile(  # not inside an identifier such as ORD-2025-227499
    r"(?<![\w+])(?<![^\W\d_][-/])(?:\+|00)?\(?\d[\d \t().\-/]{5,22}\d(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![\w])"
)
DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")


EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,6}$")
# Regions whose national formats (no country code) are recognised, from the phonenumbers region
# data: a number valid in one of them (its length, trunk prefix and number ranges) is a phone.
NATIONAL_REGIONS = ("DK", "NO", "SE", "FI", "IS", "DE", "AT", "CH", "NL", "BE", "LU", "FR", "GB", "IE", "PL",
                    "ES", "PT", "IT", "US", "CA")


@lru_cache(maxsize=1)
def region_rules() -> tuple[tuple[str, str, frozenset[int], re.Pattern[str]], ...]:
    """(region, trunk prefix, possible national lengths, national number pattern) of each
    national region, from phonenumbers' metadata (the pattern every valid number matches)."""
    import phonenumbers

    rules = []
    for region in NATIONAL_REGIONS:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        general = metadata.general_desc
        rules.append((region, metadata.national_prefix or "", frozenset(general.possible_length),
                      re.compile(general.national_number_pattern)))
    return tuple(rules)


@lru_cache(maxsize=1)
def country_lengths() -> dict[str, tuple[str, frozenset[int]]]:
    """Country calling code -> (trunk prefix, possible national lengths over its regions)."""
    import phonenumbers

    out = {}
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        lengths: set[int] = set()
        prefix = ""
        for region in regions:
            metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, region)
            if metadata is None:
                continue
            lengths.update(metadata.general_desc.possible_length or ())
            prefix = prefix or (metadata.national_prefix or "")
        out[str(code)] = (prefix, frozenset(lengths))
    return out


def _matching_regions(digits: str) -> Iterator[str]:
    for region, prefix, lengths, pattern in region_rules():
        significant = digits[len(prefix) :] if prefix and digits.startswith(prefix) else digits
        if len(significant) in lengths and pattern.fullmatch(significant):
            yield region


# National numbers possible by length alone (new ranges and test numbers are often not yet in the
# region patterns): with a trunk 0 in these regions, or of a length typical for one.
TRUNK_ZERO_REGIONS = ("SE", "DE", "GB", "NL", "FR", "FI")
REGIONS_BY_LENGTH = {8: ("DK", "NO"), 9: ("PL",), 10: ("US",)}


def possible_national(digits: str) -> bool:
    lengths = {rule[0]: rule[2] for rule in region_rules()}
    if digits.startswith("0"):
        return any(len(digits) - 1 in lengths[region] for region in TRUNK_ZERO_REGIONS)
    return any(len(digits) in lengths[region] for region in REGIONS_BY_LENGTH.get(len(digits), ()))


def national_regions(digits: str) -> tuple[str, ...]:
    """Regions where ``digits`` (after the trunk prefix, if written) has a valid length and
    matches the region's national number pattern."""
    return tuple(_matching_regions(digits))


def possible_international(digits: str) -> bool:
    """Whether ``digits`` (country code + national number, a written ``(0)`` trunk included)
    has a possible length for its country: country codes are a prefix code."""
    countries = country_lengths()
    for size in (1, 2, 3):
        entry = countries.get(digits[:size])
        if entry is None:
            continue
        prefix, lengths = entry
        national = digits[size:]
        if prefix and national.startswith(prefix) and len(national) - len(prefix) in lengths:
            return True
        return len(national) in lengths
    return False


@lru_cache(maxsize=65536)
def phone_score(candidate: str, international: float, national: float) -> float:
    """International score for a possible number with a country code (``+`` or ``00``), national
    score for a number matching a national region's number pattern (needs context), else 0.
    Both from phonenumbers' region metadata, without parsing each candidate."""
    digits = "".join(ch for ch in EXTENSION.sub("", candidate) if ch.isdigit())
    if not 7 <= len(digits) <= 15 or DATE_LIKE.match(candidate):
        return 0.0
    head = candidate.lstrip("( ")
    if head.startswith("+"):
        return international if possible_international(digits) else 0.0
    if head.startswith("00"):
        return international if possible_international(digits[2:]) else 0.0
    if any(True for _ in _matching_regions(digits)) or possible_national(digits):
        return national
    return 0.0


class InternationalPhoneRecognizer(LabelledNumbersUnboosted, AtlasRecognizer):
    """``PHONE_NUMBER`` in any country's format.

    Candidates (digit runs with phone separators) are parsed once by phonenumbers: with an
    international prefix (``+44``, ``0049``, ``+44 (0)20``) a possible number scores 0.6, above
    the default threshold; a national format valid in one of :data:`NATIONAL_REGIONS` (the
    phonenumbers region data: length, trunk prefix, number ranges) scores 0.4 and needs a
    context word or a column-name hint, as in Presidio. Numbers the text labels as something
    else (``order number``, ``faktura``) never get a context boost. Dates are never candidates.
    """

    ATLAS_NAME = "phone"
    INTERNATIONAL_SCORE = 0.6
    NATIONAL_SCORE = 0.4
    ENTITY = PHONE_NUMBER
    CONTEXT = PHONE_CONTEXT

    def find(self, text: str, nlp_artifacts: NlpArtifacts | None) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for match in CANDIDATE.finditer(text):
            candidate = match.group().rstrip(" \t.-/(")
            score = self.score(candidate)
            if score:
                start = match.start()
                results.append(self._result(start, start + len(candidate), score))
        return results

    def score(self, candidate: str) -> float:
        """Score of one candidate string, 0 when it is no phone number."""
        return phone_score(candidate, self.INTERNATIONAL_SCORE, self.NATIONAL_SCORE)


