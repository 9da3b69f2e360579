"""Token rules around person names, for the small NER model's gaps.

* :func:`clean_ner_span` trims what is not a name from an NER span ("Kunden", "Tlf",
  "O12345678", lower-case words) and drops spans with nothing left.
* :func:`widen_name_span` grows a partial span ("Jensen" of "Anders Jensen") over adjacent
  capitalised name tokens and hyphen joins ("Kjeldsen-Lassen").
* :func:`cue_name_spans` finds capitalised name sequences by the words around them, the way
  people write notes: a cue before ("customer", "kunden", "spoke with", "handled by") or a
  verb after two name words or a cue ("Anne Holm asked", "kunden Mette ringede"); a sequence
  with an organisation word ("Danske Bank", "Salling Group") is no person.

No list of names is used; the word lists are common words and cue words of English and
Danish customer-service notes.
"""

from __future__ import annotations

from typing import Any

from atlas.pii.engine import doc_text

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
# Words that make a capitalised sequence an organisation, not a person ("Danske Bank",
# "Salling Group", "Novo Nordisk", "Volvo Cars").
ORGANISATION_WORDS = frozenset(
    """
    group gruppen bank banken line lines cars car holding holdings company co corp corporation inc ltd llc plc
    gmbh ag kg se sa sas sarl spa srl bv nv ab as asa aps a/s oy oyj kft sp foundation fonden fond kommune
    region universitet university hospital hospitalet klinik clinic hotel airlines airways shipping logistics
    energy pharma nordisk nordic dansk danske danmark denmark sverige norge international systems solutions
    services service technologies tech software partners consulting forsikring insurance finans finance
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


def is_name_text(text: str) -> bool:
    """Capitalised, alphabetic (apostrophes allowed), not all capitals, not a common word; or a
    word of an uncased script."""
    if len(text) >= 2 and text[0].isupper():
        return (
            text.replace("'", "").replace("\u2019", "").isalpha()
            and not text.isupper()
            and text.lower() not in COMMON_WORDS
        )
    return len(text) >= 2 and not text.isascii() and is_uncased_name(text)


def is_name_token(token: Any) -> bool:
    return is_name_text(token.text)


TABLE_KEY = "atlas_token_table"


class TokenTable:
    """Per-token text, lower-case text, start offset, trailing space and punctuation flag of a
    doc, read once from spaCy's arrays (no Token objects), with the name flags."""

    __slots__ = ("flags", "idx", "lower", "punct", "space", "text")

    def __init__(self, doc: Any) -> None:
        from spacy.attrs import IDX, IS_PUNCT, LENGTH, SPACY

        source = doc_text(doc)
        self.idx: list[int] = []
        self.text: list[str] = []
        self.space: list[bool] = []
        self.punct: list[bool] = []
        if len(doc):
            for start, length, space, punct in doc.to_array([IDX, LENGTH, SPACY, IS_PUNCT]).tolist():
                self.idx.append(start)
                self.text.append(source[start : start + length])
                self.space.append(bool(space))
                self.punct.append(bool(punct))
        self.lower = [t.lower() for t in self.text]
        self.flags = [is_name_text(t) for t in self.text]


def token_table(doc: Any) -> TokenTable:
    """The doc's :class:`TokenTable` (computed once, kept in ``doc.user_data``)."""
    table = doc.user_data.get(TABLE_KEY)
    if table is None or len(table.text) != len(doc):
        table = TokenTable(doc)
        doc.user_data[TABLE_KEY] = table
    return table


def name_flags(doc: Any) -> list[bool]:
    """is_name_token for every token of ``doc``, computed once per doc."""
    return token_table(doc).flags


def _hyphen_join(table: TokenTable, i: int) -> bool:
    """Token i is a '-' glued between two name tokens (Jan-Erik, Kjeldsen-Lassen)."""
    flags = table.flags
    return (
        0 < i < len(flags) - 1
        and flags[i - 1]
        and flags[i + 1]
        and table.text[i] == "-"
        and not table.space[i - 1]
        and not table.space[i]
    )


def _part_of_name(table: TokenTable, i: int) -> bool:
    return table.flags[i] or _hyphen_join(table, i)


def name_run(doc: Any, start: int) -> int:
    """End (exclusive) of the run of name tokens starting at ``start`` (particles allowed inside)."""
    table = token_table(doc)
    n = len(table.text)
    end = start
    while end < n and end - start < MAX_NAME_TOKENS * 2:
        if _part_of_name(table, end):
            end += 1
        elif end > start and end + 1 < n and table.flags[end + 1] and table.text[end] in PARTICLES:
            end += 1
        else:
            break
    return end


def names_an_organisation(doc: Any, start: int, end: int) -> bool:
    """Whether a token of [start, end] (the one after included) is an organisation word."""
    lower = token_table(doc).lower
    return any(lower[k] in ORGANISATION_WORDS for k in range(start, min(end + 1, len(lower))))


def count_name_tokens(doc: Any, start: int, end: int) -> int:
    return sum(name_flags(doc)[start:end])


def clean_ner_span(doc: Any, start: int, end: int) -> tuple[int, int] | None:
    """The NER span trimmed to name tokens at both ends; None if no name token is left."""
    table = token_table(doc)
    flags = table.flags
    while start < end and not flags[start]:
        start += 1
    while end > start and not flags[end - 1]:
        end -= 1
    if start >= end or any(has_digit(table.text[i]) for i in range(start, end)):
        return None
    return start, end


def widen_name_span(doc: Any, start: int, end: int) -> tuple[int, int]:
    """Token range [start, end) grown over adjacent name tokens and hyphen joins."""
    table = token_table(doc)
    while start > 0 and _part_of_name(table, start - 1):
        start -= 1
    while end < len(table.text) and _part_of_name(table, end):
        end += 1
    return start, end


def _cue_before(table: TokenTable, i: int) -> str | None:
    """'strong' / 'weak' when a cue word precedes token i (skipping ':' ',' and a title's '.')."""
    j = i - 1
    while j >= 0 and table.text[j] in {":", ",", "."}:
        j -= 1
    if j < 0:
        return None
    word = table.lower[j].rstrip(".")
    if word in STRONG_BEFORE:
        return "strong"
    if word in WEAK_BEFORE:
        return "weak"
    return None


def sentence_start(doc: Any, i: int) -> bool:
    return i == 0 or token_table(doc).text[i - 1] in {".", "!", "?", ";", "\n"}


CUES_KEY = "atlas_cue_spans"


def cue_name_spans(doc: Any) -> list[tuple[int, int]]:
    """Token ranges of capitalised name sequences marked as names by the words around them
    (computed once per doc)."""
    spans = doc.user_data.get(CUES_KEY)
    if spans is None:
        spans = _find_cue_name_spans(doc)
        doc.user_data[CUES_KEY] = spans
    return spans


KNOWN_KEY = "atlas_known_ranges"  # doc.user_data: character ranges already known to be PII


def names_left_to_ner(doc: Any) -> list[bool]:
    """Name-word flags minus the words the cue rules already mark as names and the words inside
    known values (the table's own names, addresses ...): what NER is for."""
    flags = list(name_flags(doc))
    for start, end in cue_name_spans(doc):
        flags[start:end] = [False] * (end - start)
    known = doc.user_data.get(KNOWN_KEY)
    if known:
        table = token_table(doc)
        for i, flag in enumerate(flags):
            if flag:
                begin, finish = table.idx[i], table.idx[i] + len(table.text[i])
                if any(a <= begin and finish <= b for a, b in known):
                    flags[i] = False
    return flags


def _find_cue_name_spans(doc: Any) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    table = token_table(doc)
    flags = table.flags
    n = len(flags)
    i = 0
    while i < n:
        if not flags[i]:
            i += 1
            continue
        end = name_run(doc, i)
        names = count_name_tokens(doc, i, end)
        cue = _cue_before(table, i)
        verb_after = end < n and table.lower[end] in VERBS_AFTER
        if (
            (cue == "strong")
            or (cue == "weak" and names >= 2)
            or (verb_after and (names >= 2 or cue is not None))
        ) and not names_an_organisation(doc, i, end):
            spans.append((i, end))
        i = end
    return spans
