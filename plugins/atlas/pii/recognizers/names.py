"""Token rules for widening a partial PERSON span to the whole written name."""

from __future__ import annotations

from typing import Any

# Capitalised words that start sentences or address people but are never part of a name.
NOT_NAME_WORDS = frozenset(
    """
    a an the and or but if then so to of in on at by for from with without about after before
    customer customers client kunde kunden contact called calls call spoke talked asked wants wanted
    said says email emailed mail phone phoned rang ring sent send please note notes dear hi hello
    re fw fwd mr mrs ms miss dr prof hr fru frk sir madam team support order orders refund delivery
    his her their our my your we i he she they it this that these those new old per via
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december today yesterday tomorrow
    """.split()
)


def _is_name_token(token: Any) -> bool:
    text = token.text
    return (
        len(text) >= 2
        and text[0].isupper()
        and text.replace("'", "").replace("\u2019", "").isalpha()
        and not text.isupper()
        and text.lower() not in NOT_NAME_WORDS
    )


def widen_name_span(doc: Any, start: int, end: int) -> tuple[int, int]:
    """Token range [start, end) grown over adjacent capitalised name tokens and hyphen joins."""
    while start > 0 and _is_name_token(doc[start - 1]):
        start -= 1
    while end < len(doc):
        token = doc[end]
        if _is_name_token(token):
            end += 1
        elif token.text == "-" and end + 1 < len(doc) and _is_name_token(doc[end + 1]) and not token.whitespace_:
            end += 2
        else:
            break
    return start, end
