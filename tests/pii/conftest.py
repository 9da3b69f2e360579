"""PII test helpers: one scanner per session (loading the NER model takes seconds), keys,
and checks that speak in booleans and counts (no test output ever shows a value)."""

from __future__ import annotations

import pytest

from atlas.config import PiiSpec

ALL_RECOGNIZERS = PiiSpec().recognizers


@pytest.fixture(scope="session")
def scanner():
    from atlas.pii.scanner import ScanOptions, TextScanner

    return TextScanner(ScanOptions(recognizers=ALL_RECOGNIZERS, n_process=1))


@pytest.fixture(scope="session")
def keys():
    from atlas.pii.keys import generate_keys

    return generate_keys()


@pytest.fixture(scope="session")
def found(scanner):
    """found(text, entity, part=None) -> bool: a span of ``entity`` covers ``part`` (default:
    the whole text) completely."""

    def check(text: str, entity: str, part: str | None = None) -> bool:
        target = part if part is not None else text
        start = text.index(target)
        end = start + len(target)
        spans = scanner.scan([text])[0]
        covered = set()
        for span in spans:
            if span.entity == entity:
                covered.update(range(span.start, span.end))
        return all(i in covered for i in range(start, end) if not text[i].isspace())

    return check


@pytest.fixture(scope="session")
def entities_in(scanner):
    """entities_in(text) -> set of entity types detected anywhere in the text."""

    def check(text: str) -> set[str]:
        return {span.entity for span in scanner.scan([text])[0]}

    return check


def luhn_complete(prefix: str, length: int = 16) -> str:
    """A Luhn-valid card number starting with ``prefix``."""
    from tests.pii.heldout_set import luhn_complete as with_check_digit

    return with_check_digit(prefix + "0" * (length - len(prefix) - 1))
