"""Free-text recall and precision per entity on held-out tables (tests/pii/heldout_set.py).

The notes are protected the way build_silver protects them: the detectors' spans merged with
the spans of the table's own structured values (the known-value dictionary). Targets: recall
>= 0.99 for email, phone, CPR, IBAN and card, >= 0.97 for person; precision >= 0.95. The
per-entity table is printed (``pytest -s``); failures name entities and rates, never values.
"""

from __future__ import annotations

import pytest

from atlas.config import PiiSpec
from atlas.pii import ColumnFinding, build_protector
from atlas.pii.known_values import KnownValues
from tests.pii.heldout_set import FINAL_TEMPLATES, TEMPLATES, HeldOutGenerator, score

STRUCTURED = {"customer_name": "PERSON", "email_address": "EMAIL_ADDRESS", "phone_number": "PHONE_NUMBER",
              "cpr_number": "DK_CPR", "iban": "IBAN_CODE", "card_number": "CREDIT_CARD", "address": "LOCATION"}
ROWS, NOTES_PER_ROW = 2000, 1.5


@pytest.mark.parametrize(("name", "templates"), [("held-out", TEMPLATES), ("final", FINAL_TEMPLATES)])
def test_free_text_recall_and_precision_meet_the_targets(name, templates, keys):
    table = HeldOutGenerator().table(ROWS, NOTES_PER_ROW, templates)
    known = KnownValues.from_columns((entity, table.column(column)) for column, entity in STRUCTURED.items())
    notes = ColumnFinding("notes", "free_text", ("PERSON",), 0.9, 0.5, 100, ("person",), "replace", "default")
    with build_protector(PiiSpec(), [notes], keys, known_values=known, n_process=1) as protector:
        spans = protector.find_spans([note.text for note in table.notes])
    result = score(table.notes, spans)
    print("\n" + result.table(f"{name} set: {len(table.notes)} notes, detectors + known values"))
    assert not result.misses(), result.misses()
