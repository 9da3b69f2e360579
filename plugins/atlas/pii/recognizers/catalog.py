"""The recognizers a table may enable (``pii.recognizers``), by name: the one list of them.

Cheap to import (no Presidio): ``atlas.config`` builds ``RecognizerName`` from
:data:`RECOGNIZER_NAMES` when a DAG file is parsed. Each entry names what builds the recognizer
(``module:attribute``), imported only when an analyzer is built.

One registration per recognizer: texts are analysed once, under the first configured language,
so each recognizer is registered for that language only, with the context words of every
configured language (notes mix Danish and English; one NER model serves both).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

FACTORIES: dict[str, str] = {
    "cpr": "atlas.pii.recognizers.cpr:DanishCprRecognizer",
    "dk_phone": "atlas.pii.recognizers.dk_phone:DanishPhoneRecognizer",
    "phone": "atlas.pii.recognizers.phone:InternationalPhoneRecognizer",
    "email": "atlas.pii.recognizers.predefined:EMAIL",
    "iban": "atlas.pii.recognizers.predefined:IBAN",
    "credit_card": "atlas.pii.recognizers.credit_card:AtlasCreditCardRecognizer",
    "ip_address": "atlas.pii.recognizers.predefined:IP_ADDRESS",
    "person": "atlas.pii.recognizers.person:PersonRecognizer",
    "location": "atlas.pii.recognizers.location:LocationRecognizer",
}
RECOGNIZER_NAMES: tuple[str, ...] = tuple(FACTORIES)
# Recognizers that read the NER model's entities (the expensive pass).
NER_RECOGNIZERS = frozenset({"person", "location"})


def factory(name: str) -> Any:
    """What builds recognizer ``name``: called with ``supported_language`` and ``context``; its
    ``CONTEXT`` maps each language to that language's context words."""
    module, attribute = FACTORIES[name].split(":")
    return getattr(import_module(module), attribute)


def context_words(context: Mapping[str, Sequence[str]], languages: Sequence[str]) -> list[str]:
    """The context words of every configured language, in order, without repeats."""
    return list(dict.fromkeys(word for language in languages for word in context.get(language, ())))


def build(name: str, languages: Sequence[str]) -> EntityRecognizer:
    """Recognizer ``name`` for the analysed language (the first of ``languages``), carrying the
    context words of all of them."""
    make = factory(name)
    return make(supported_language=languages[0], context=context_words(make.CONTEXT, languages))
