"""International phone numbers, parsed and checked by the phonenumbers library."""

from __future__ import annotations

import re
from functools import lru_cache

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from atlas.pii.entities import PHONE_NUMBER
from atlas.pii.recognizers.base import AtlasRecognizer
from atlas.pii.recognizers.dk_phone import PHONE_CONTEXT, LabelledNumbersUnboosted

# A run of digits with the separators phone numbers are written with, optional extension.
CANDIDATE = re.compile(
    r"(?<![\w+])(?:\+|00)?\(?\d[\d \t().\-/]{5,22}\d(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![\w])"
)
DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")


EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,6}$")
# Regions whose national formats (no country code) are recognised, from the phonenumbers region
# data: a number valid in one of them (its length, trunk prefix and number ranges) is a phone.
NATIONAL_REGIONS = ("DK", "NO", "SE", "FI", "IS", "DE", "AT", "CH", "NL", "BE", "LU", "FR", "GB", "IE", "PL",
                    "ES", "PT", "IT", "US", "CA")


@lru_cache(maxsize=1)
def region_rules() -> tuple[tuple[str, str, frozenset[int]], ...]:
    """(region, trunk prefix, possible national lengths) of each national region."""
    import phonenumbers

    rules = []
    for region in NATIONAL_REGIONS:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        rules.append((region, metadata.national_prefix or "", frozenset(metadata.general_desc.possible_length)))
    return tuple(rules)


def national_regions(digits: str) -> tuple[str, ...]:
    """Regions whose number lengths fit ``digits`` (after their trunk prefix, if written)."""
    out = []
    for region, prefix, lengths in region_rules():
        significant = digits[len(prefix) :] if prefix and digits.startswith(prefix) else digits
        if len(significant) in lengths:
            out.append(region)
    return tuple(out)


@lru_cache(maxsize=65536)
def phone_score(candidate: str, international: float, national: float) -> float:
    """International score for a possible number with a country code (``+`` or ``00``), national
    score for a number valid in a national region its digits fit (needs context), else 0."""
    import phonenumbers

    digits = "".join(ch for ch in EXTENSION.sub("", candidate) if ch.isdigit())
    if not 7 <= len(digits) <= 15 or DATE_LIKE.match(candidate):
        return 0.0
    head = candidate.lstrip("( ")
    try:
        if head.startswith(("+", "00")):
            number = phonenumbers.parse("+" + head[1:] if head[0] == "+" else "+" + head[2:], None)
            return international if phonenumbers.is_possible_number(number) else 0.0
        for region in national_regions(digits):
            if phonenumbers.is_valid_number(phonenumbers.parse(candidate, region)):
                return national
    except phonenumbers.NumberParseException:
        return 0.0
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


