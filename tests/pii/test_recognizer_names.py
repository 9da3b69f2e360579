"""The recognizer catalog: every name builds a recognizer reporting that name, each is registered
once (for the analysed language), and an unknown name fails at config load."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import ValidationError

from atlas.config import PiiSpec, RecognizerName
from atlas.pii.recognizers.catalog import RECOGNIZER_NAMES, build, context_words, factory


def test_config_names_are_the_catalog_names():
    assert get_args(RecognizerName) == RECOGNIZER_NAMES
    assert PiiSpec().recognizers == RECOGNIZER_NAMES


@pytest.mark.parametrize("name", RECOGNIZER_NAMES)
def test_each_name_builds_a_recognizer_of_that_name_with_every_languages_words(name):
    recognizer = build(name, ("en", "da"))
    assert recognizer.name == name
    assert recognizer.supported_language == "en"
    words = factory(name).CONTEXT
    assert set(recognizer.context) == set(words["en"]) | set(words["da"])


def test_context_words_keep_order_without_repeats():
    assert context_words({"en": ["ip", "host"], "da": ["ip", "adresse"]}, ("da", "en")) == ["ip", "adresse", "host"]


def test_presidio_classes_are_configured_not_subclassed():
    from presidio_analyzer.predefined_recognizers import EmailRecognizer, IbanRecognizer, IpRecognizer

    assert type(build("email", ("en",))) is EmailRecognizer
    assert type(build("iban", ("en",))) is IbanRecognizer
    assert type(build("ip_address", ("en",))) is IpRecognizer


def test_engine_registers_each_recognizer_once_for_the_analysed_language():
    from atlas.pii.engine import analyzer_engine

    engine = analyzer_engine(RECOGNIZER_NAMES, ("da", "en"))
    assert engine.supported_languages == ["da"]
    assert sorted(r.name for r in engine.registry.recognizers) == sorted(RECOGNIZER_NAMES)
    assert {r.supported_language for r in engine.registry.recognizers} == {"da"}


def test_unknown_recognizer_rejected_at_load():
    with pytest.raises(ValidationError, match="recognizers"):
        PiiSpec(recognizers=("cpr", "horoscope"))
