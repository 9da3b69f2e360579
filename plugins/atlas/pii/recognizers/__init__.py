"""Presidio recognizers, enabled per table by name (``PiiSpec.recognizers``).

:mod:`atlas.pii.recognizers.catalog` lists them by name (cheap to import); Atlas's own
recognizers have a file each, Presidio's predefined ones are configured in
:mod:`atlas.pii.recognizers.predefined`.
"""

from __future__ import annotations

from atlas.pii.recognizers.catalog import NER_RECOGNIZERS, RECOGNIZER_NAMES, build

__all__ = ["NER_RECOGNIZERS", "RECOGNIZER_NAMES", "build"]
