"""Danish phone numbers: +45 / 0045 and eight digits; bare eight digits need context."""

from __future__ import annotations

import re
from functools import lru_cache

from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from atlas.pii.entities import PHONE_NUMBER

# Context words of both phone recognizers ("number" is left out: "order number 12345678").
PHONE_CONTEXT = {
    "en": [
        "phone", "phoned", "telephone", "tel", "mobile", "cell", "cellphone", "call", "called", "calling", "calls",
        "callback", "sms", "text", "texted", "fax", "contact", "contacted", "reach", "reached", "reachable",
        "answer", "voicemail", "dial", "dialled", "dialed", "ring", "rang", "whatsapp", "hotline", "direct", "dir",
        "landline", "switchboard", "extension", "ext",
    ],
    "da": [
        "telefon", "telefonen", "tlf", "tlfnr", "mobil", "mobilen", "mobilnr", "mobilnummer", "telefonnummer",
        "telefonnr", "nummer", "nummeret", "ring", "ringe", "ringede", "ringet", "ringer", "ringes", "opkald",
        "sms", "kontakt", "kontakte", "kontakter", "kontaktet", "kontaktes", "kontaktede", "træffes", "fastnet",
        "privat", "arbejde", "direkte", "lokalnummer", "omstilling", "hovednummer",
    ],
}


# A number labelled as something else ("invoice 5502000293", "ordre: 12345678") is no phone,
# whatever context words stand further back.
OTHER_NUMBER_LABEL = re.compile(
    r"(?:invoice|order|tracking|ticket|case|reference|ref|sku|ean|gtin|upc|isbn|account|customer|member|"
    r"parcel|shipment|serial|batch|lot|item|article|product|version|rechnung|bestellung|auftrag|kunden|"
    r"faktura|ordre|sag|konto|kunde|medlem|pakke|forsendelse|vare|varenummer|serienummer|"
    r"fakturanummer|ordrenummer|sagsnummer|kundenummer|reg)\W{0,3}(?:no\.?|nr\.?|number|nummer|id|#)?\W{0,3}$",
    re.IGNORECASE,
)


@lru_cache(maxsize=65536)
def valid_danish(digits: str) -> bool:
    import phonenumbers

    if digits[0] in "01":  # Danish numbers start with 2-9; 00 would read as an international prefix
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(digits, "DK"))
    except phonenumbers.NumberParseException:
        return False


def labelled_as_other_number(text: str, start: int) -> bool:
    return bool(OTHER_NUMBER_LABEL.search(text[max(0, start - 40) : start]))


def freeze_labelled_numbers(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Mark results labelled as another kind of number as already context-enhanced, so that
    Presidio's context step leaves their (below-threshold) score alone."""
    for result in results:
        if labelled_as_other_number(text, result.start):
            result.recognition_metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
    return results


class LabelledNumbersUnboosted:
    """Context words never boost a number the text labels as something else (invoice, order ...)."""

    def enhance_using_context(
        self,
        text: str,
        raw_recognizer_results: list[RecognizerResult],
        other_raw_recognizer_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        return freeze_labelled_numbers(text, raw_recognizer_results)


class DanishPhoneRecognizer(LabelledNumbersUnboosted, PatternRecognizer):
    """``PHONE_NUMBER`` in Danish formats: ``+45 20 30 40 50``, ``0045 2030 4050``, ``(+45) 20304050``.

    Eight bare digits (``20 30 40 50``, ``2030 4050``, ``20-30-40-50``, ``20304050``) that form a
    valid Danish number score below the default threshold unless a context word (``tlf``,
    ``mobil``, ``ring``, ``kontaktet``, ``phone``) or a column-name hint supports them.
    """

    ATLAS_NAME = "dk_phone"
    PATTERNS = (
        Pattern(
            "dk_phone_prefixed",
            r"(?<![\w+])(?:\(\s*)?(?:\+|00)45(?:\s*\))?[ .-]?\d{2}(?:[ .-]?\d){6}(?![\d])",
            0.7,
        ),
        Pattern(
            "dk_phone_bare",
            r"(?<![\w+.,/-])\d{2}(?:([ -]?)\d{2}\1\d{2}\1\d{2}|\d{2}[ -]\d{4})(?![\w.,/-]?\d)",
            0.4,
        ),
    )
    CONTEXT = PHONE_CONTEXT

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(
            supported_entity=PHONE_NUMBER,
            name=self.ATLAS_NAME,
            patterns=list(self.PATTERNS),
            context=context or self.CONTEXT.get(supported_language, self.CONTEXT["en"]),
            supported_language=supported_language,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        """Bare eight digits must be a valid Danish number (no leading 0 or 1 ...); prefixed ones
        are taken as written."""
        digits = "".join(ch for ch in pattern_text if ch.isdigit())
        if len(digits) != 8:
            return None
        return None if valid_danish(digits) else False
