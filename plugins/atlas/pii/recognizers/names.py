"""Token rules around person names, for the small NER model's gaps.

* :func:`clean_ner_span` trims what is not a name from an NER span ("Kunden", "Tlf",
  "O12345678", lower-case words) and drops spans with nothing left.
* :func:`widen_name_span` grows a partial span ("Jensen" of "Anders Jensen") over adjacent
  capitalised name tokens and hyphen joins ("Kjeldsen-Lassen").
* :func:`cue_name_spans` finds capitalised name sequences by the words around them, the way
  people write notes: a cue before ("customer", "kunden", "spoke with", "handled by") or a
  verb after ("... asked", "... ringede").

No list of names is used; the word lists are common words and cue words of English and
Danish customer-service notes.
"""

from __future__ import annotations

from typing import Any

# Capitalised words that start sentences or label things but are not names (en + da).
COMMON_WORDS = frozenset(
    """
    a an the and or but if then so to of in on at by for from with without about after before into
    customer customers client clients kunde kunden kunder contact called calls call spoke talked asked
    wants wanted said says email emailed mail phone phoned rang ring sent send please note notes dear hi
    hello re fw fwd mr mrs ms miss dr prof hr fru frk sir madam team support order orders refund
    delivery payment invoice card login password account address moved complaint replacement vip
    his her their our my your we i he she they it this that these those new old via no yes not
    monday tuesday wednesday thursday friday saturday sunday january february march
    july september october november december today yesterday tomorrow
    ny nye adresse tlf telefon mobil faktura ordre ordren refusion personnummer konto levering
    samtale hej tak mvh venlig hilsen kære ring ringede ringet har vil skal kan er var og eller men
    til fra med af på i om hos efter før den det de der en et som ikke ja nej
    mandag tirsdag onsdag torsdag fredag lørdag søndag januar februar marts juni juli
    oktober december dag i dag igår i morgen
    """.split()
)
PARTICLES = frozenset({"van", "von", "de", "der", "den", "la", "le", "di", "da", "du", "af", "zu", "ten", "ter"})
# A cue word right before a name; "weak" cues need at least two name tokens after them.
STRONG_BEFORE = frozenset(
    """
    customer client contact person called call phoned spoke talked mr mrs ms mx miss dr prof hr fru frk dear
    hi hello hej kære kunde kunden kontaktperson navn name named agent caller att attn kontakt herr frau
    wife husband spouse partner son daughter mother father brother sister colleague
    kone mand hustru ægtefælle søn datter mor far bror søster kollega
    """.split()
)
WEAK_BEFORE = frozenset({"with", "from", "by", "to", "for", "med", "fra", "af", "til", "and", "og", "cc", "hos",
                         "ved", "von", "mit"})
# A verb right after a name.
VERBS_AFTER = frozenset(
    """
    called calls phoned rang asked asks says said wrote writes wants wanted confirmed complained requested
    reported prefers mentioned emailed replied agreed ringede ringer skrev skriver siger sagde ønsker
    spurgte bekræftede klagede svarede
    """.split()
)
CUE_SCORE = 0.65
MAX_NAME_TOKENS = 4


def has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def is_uncased_name(text: str) -> bool:
    """Letters of a script without capitals (Arabic, Hebrew, Chinese ...): in a note written in a
    cased script, such a word is a name candidate whatever its case."""
    return text.isalpha() and not any(ch.isupper() or ch.islower() for ch in text)


def is_name_token(token: Any) -> bool:
    """Capitalised, alphabetic (apostrophes allowed), not all capitals, not a common word; or a
    word of an uncased script."""
    text = token.text
    if len(text) >= 2 and text[0].isupper():
        return (
            text.replace("'", "").replace("\u2019", "").isalpha()
            and not text.isupper()
            and text.lower() not in COMMON_WORDS
        )
    return len(text) >= 2 and not text.isascii() and is_uncased_name(text)


FLAGS_KEY = "atlas_name_flags"


def name_flags(doc: Any) -> list[bool]:
    """is_name_token for every token of ``doc``, computed once per doc (kept in user_data)."""
    flags = doc.user_data.get(FLAGS_KEY)
    if flags is None or len(flags) != len(doc):
        flags = [is_name_token(token) for token in doc]
        doc.user_data[FLAGS_KEY] = flags
    return flags


def _hyphen_join(doc: Any, i: int) -> bool:
    """doc[i] is a '-' glued between two name tokens (Jan-Erik, Kjeldsen-Lassen)."""
    flags = name_flags(doc)
    return (
        0 < i < len(doc) - 1
        and flags[i - 1]
        and flags[i + 1]
        and doc[i].text == "-"
        and not doc[i - 1].whitespace_
        and not doc[i].whitespace_
    )


def _part_of_name(doc: Any, i: int) -> bool:
    return name_flags(doc)[i] or _hyphen_join(doc, i)


def name_run(doc: Any, start: int) -> int:
    """End (exclusive) of the run of name tokens starting at ``start`` (particles allowed inside)."""
    end = start
    while end < len(doc) and end - start < MAX_NAME_TOKENS * 2:
        if _part_of_name(doc, end):
            end += 1
        elif end > start and end + 1 < len(doc) and name_flags(doc)[end + 1] and doc[end].text in PARTICLES:
            end += 1
        else:
            break
    return end


def count_name_tokens(doc: Any, start: int, end: int) -> int:
    return sum(name_flags(doc)[start:end])


def clean_ner_span(doc: Any, start: int, end: int) -> tuple[int, int] | None:
    """The NER span trimmed to name tokens at both ends; None if no name token is left."""
    flags = name_flags(doc)
    while start < end and not flags[start]:
        start += 1
    while end > start and not flags[end - 1]:
        end -= 1
    if start >= end or any(has_digit(doc[i].text) for i in range(start, end)):
        return None
    return start, end


def widen_name_span(doc: Any, start: int, end: int) -> tuple[int, int]:
    """Token range [start, end) grown over adjacent name tokens and hyphen joins."""
    while start > 0 and (_part_of_name(doc, start - 1)):
        start -= 1
    while end < len(doc) and _part_of_name(doc, end):
        end += 1
    return start, end


def _cue_before(doc: Any, i: int) -> str | None:
    """'strong' / 'weak' when a cue word precedes token i (skipping ':' ',' and a title's '.')."""
    j = i - 1
    while j >= 0 and doc[j].text in {":", ",", "."}:
        j -= 1
    if j < 0:
        return None
    word = doc[j].lower_.rstrip(".")
    if word in STRONG_BEFORE:
        return "strong"
    if word in WEAK_BEFORE:
        return "weak"
    return None


def _sentence_start(doc: Any, i: int) -> bool:
    return i == 0 or doc[i - 1].text in {".", "!", "?", ";", "\n"}


CUES_KEY = "atlas_cue_spans"


def cue_name_spans(doc: Any) -> list[tuple[int, int]]:
    """Token ranges of capitalised name sequences marked as names by the words around them
    (computed once per doc)."""
    spans = doc.user_data.get(CUES_KEY)
    if spans is None:
        spans = _find_cue_name_spans(doc)
        doc.user_data[CUES_KEY] = spans
    return spans


def names_left_to_ner(doc: Any) -> list[bool]:
    """Name-word flags minus the words the cue rules already mark as names: what NER is for."""
    flags = list(name_flags(doc))
    for start, end in cue_name_spans(doc):
        flags[start:end] = [False] * (end - start)
    return flags


def _find_cue_name_spans(doc: Any) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    flags = name_flags(doc)
    i = 0
    while i < len(doc):
        if not flags[i]:
            i += 1
            continue
        end = name_run(doc, i)
        names = count_name_tokens(doc, i, end)
        cue = _cue_before(doc, i)
        verb_after = end < len(doc) and doc[end].lower_ in VERBS_AFTER
        if (
            (cue == "strong")
            or (cue == "weak" and names >= 2)
            or (verb_after and (names >= 2 or _sentence_start(doc, i) or cue is not None))
        ):
            spans.append((i, end))
        i = end
    return spans
