"""Every recognizer name a config may enable exists, and an unknown one fails at config load."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import ValidationError

from atlas.config import PiiSpec, RecognizerName


def test_config_names_match_recognizer_classes():
    import importlib
    import pkgutil

    import atlas.pii.recognizers as recognizers

    names = set()
    for module in pkgutil.iter_modules(recognizers.__path__):
        loaded = importlib.import_module(f"atlas.pii.recognizers.{module.name}")
        names |= {obj.ATLAS_NAME for obj in vars(loaded).values() if hasattr(obj, "ATLAS_NAME")}
    assert names == set(get_args(RecognizerName))


def test_unknown_recognizer_rejected_at_load():
    with pytest.raises(ValidationError, match="recognizers"):
        PiiSpec(recognizers=("cpr", "horoscope"))
