"""Payment card numbers: 12-19 digits in the usual groupings, Luhn-valid."""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from atlas.pii.entities import CREDIT_CARD
from atlas.pii.recognizers.base import AtlasRecognizer
from atlas.pii.recognizers.dk_phone import LabelledNumbersUnboosted

# Digit groups joined by one consistent separator (space or dash) or none at all.
CANDIDATE = re.compile(r"(?<![\w+.,/-])\d{4}(?:([ -]?)\d{2,13}(?:\1\d{1,7}){0,3})(?![\w-]|[ .,/-]\d)")
# Groupings people and card issuers use: 4-4-4-4(-3), 4-6-5 / 4-6-4 (Amex, Diners), 6-13
# (UnionPay), 4-4-4 and 4-4-5; the last group of a 4-grouped number may be short.
_FOURS = re.compile(r"^4(?:,4)*(?:,[1-7])?$")
GROUPINGS = frozenset({"4,6,5", "4,6,4", "6,13", "4,6,6", "4,6,9"})
# (IIN prefixes, lengths) of networks whose numbers stand on their own: a Luhn-valid number of
# such a network and length scores above the threshold; any other Luhn-valid 12-19 digits need a
# context word ("card", "kort", "visa").
NETWORKS = (
    (("4",), (16, 19)),  # Visa
    (tuple(str(p) for p in range(51, 56)) + tuple(str(p) for p in range(2221, 2721)), (16,)),  # Mastercard
    (("34", "37"), (15,)),  # American Express
    (("300", "301", "302", "303", "304", "305", "36", "38", "39"), (14, 16, 19)),  # Diners Club
    (("6011", "644", "645", "646", "647", "648", "649", "65"), (16, 19)),  # Discover
    (tuple(str(p) for p in range(3528, 3590)), (16, 17, 18, 19)),  # JCB
    (("62",), (16, 17, 18, 19)),  # UnionPay
    (("5019", "4571"), (16,)),  # Dankort, Visa/Dankort
    (("2200", "2201", "2202", "2203", "2204"), (16, 17, 18, 19)),  # Mir
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def known_network(digits: str) -> bool:
    return any(len(digits) in lengths and digits.startswith(prefixes) for prefixes, lengths in NETWORKS)


def usual_grouping(candidate: str) -> bool:
    groups = re.split(r"[ -]", candidate)
    if len(groups) == 1:
        return True
    shape = ",".join(str(len(g)) for g in groups)
    return bool(_FOURS.match(shape)) or shape in GROUPINGS


class AtlasCreditCardRecognizer(LabelledNumbersUnboosted, AtlasRecognizer):
    """``CREDIT_CARD``: 12-19 digits, ungrouped or in a usual grouping, passing the Luhn check.

    A number of a known network with that network's length (Visa 16/19, Mastercard incl. the
    2-series, Amex 15, Diners, Discover, JCB, UnionPay, Dankort, Mir) scores 0.8; any other
    Luhn-valid 12-19 digits (Maestro, other issuers and lengths) score 0.3 and need a context
    word such as ``card``, ``kort``, ``visa`` or ``betalt med kort``. Numbers the text labels as
    something else (EAN, order, tracking) are never boosted."""

    ATLAS_NAME = "credit_card"
    ENTITY = CREDIT_CARD
    NETWORK_SCORE = 0.8
    OTHER_SCORE = 0.3
    CONTEXT = {
        "en": ["credit", "debit", "card", "cards", "visa", "mastercard", "amex", "maestro", "payment", "paid", "pan",
               "chargeback", "declined", "charged"],
        "da": ["kort", "kortet", "kortnummer", "kortnr", "kreditkort", "betalingskort", "dankort", "visa",
               "mastercard", "betaling", "betalt", "betale", "kreditkarte", "karte", "kartennummer"],
    }

    def find(self, text: str, nlp_artifacts: NlpArtifacts | None) -> list[RecognizerResult]:
        results = []
        for match in CANDIDATE.finditer(text):
            candidate = match.group()
            digits = candidate.replace(" ", "").replace("-", "")
            if not 12 <= len(digits) <= 19 or not usual_grouping(candidate) or not luhn_valid(digits):
                continue
            score = self.NETWORK_SCORE if known_network(digits) else self.OTHER_SCORE
            results.append(self._result(match.start(), match.end(), score))
        return results
