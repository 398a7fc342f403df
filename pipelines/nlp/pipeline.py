"""NlpPipeline: the facade the rest of medcode codes against.

    from pipelines.nlp import NlpPipeline
    nlp = NlpPipeline.load()            # default: packaged rules + lexicon built from code sets (cached)
    analysis = nlp.analyze(text)        # NoteAnalysis(mentions, sections, facts)
    nlp.to_disk("artifact/nlp")         # a model artifact carries it; NlpPipeline.load(path) reads it

The default lexicon is built from the packaged code sets once and cached under
`$MEDCODE_CACHE_DIR/nlp/` (default `~/.cache/medcode/nlp/`), keyed by a digest of its sources,
so later loads take well under two seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from pipelines.nlp import components as _components  # noqa: F401  (registers the factories)
from pipelines.nlp.components import PHRASES_KEY, PIPE_NAMES, MentionsComponent
from pipelines.nlp.lexicon import Lexicon, build_lexicon, load_normalizer, rules_digest
from pipelines.nlp.types import EncounterFacts, NoteAnalysis

PIPELINE_VERSION = "medcode-nlp-1.0"
_META = "medcode_nlp.json"
_SOURCE_FILES = (
    "icd10cm_codes_fy2024_fy2026.csv.gz",
    "icd10cm_inclusion_terms.csv.gz",
    "hcpcs_cpt_codes_ioce.csv.gz",
    "cpt_catalog.csv",
)
# note text must never reach logs: keep chatty third-party loggers quiet
for _logger in ("medspacy", "PyRuSH", "pyrush", "spacy", "medspacy.context", "medspacy.section_detection"):
    logging.getLogger(_logger).setLevel(logging.WARNING)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def source_digest() -> str:
    """Digest of everything the default lexicon is built from (code-set files + rule files)."""
    h = hashlib.sha256(PIPELINE_VERSION.encode())
    root = resources.files("codesets.data")
    for name in _SOURCE_FILES:
        ref = root.joinpath(name)
        if ref.is_file():
            h.update(name.encode())
            h.update(ref.read_bytes())
    h.update(rules_digest().encode())
    # the build code itself: a change to how keys are made must never reuse an old cache
    nlp_pkg = resources.files("pipelines.nlp")
    for name in ("lexicon.py", "normalize.py"):
        h.update(nlp_pkg.joinpath(name).read_bytes())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    base = os.environ.get("MEDCODE_CACHE_DIR")
    return (Path(base) if base else Path.home() / ".cache" / "medcode") / "nlp"


def _blank() -> Language:
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "medcode_tokenizer_v1"}}})
    for name in PIPE_NAMES:
        nlp.add_pipe(name)
    nlp.max_length = 5_000_000
    return nlp


class NlpPipeline:
    """spaCy pipeline (blank English + medcode components) that turns a note into Mentions."""

    def __init__(self, nlp: Language, lexicon_digest: str = "") -> None:
        self.nlp = nlp
        self.nlp.max_length = max(self.nlp.max_length, 5_000_000)  # no parser/NER: long notes are safe
        self.lexicon_digest = lexicon_digest

    @property
    def version(self) -> str:
        return f"{PIPELINE_VERSION}+lex-{self.lexicon_digest[:10]}"

    def _mentions(self) -> MentionsComponent:
        comp = self.nlp.get_pipe("medcode_mentions_v1")
        assert isinstance(comp, MentionsComponent)
        return comp

    @property
    def lexicon(self) -> Lexicon:
        return self._mentions().lexicon

    @property
    def open_phrases(self) -> bool:
        """Whether analyses carry open phrases (`NoteAnalysis.phrases`); on by default. A
        consumer that does not use them switches them off and saves their cost."""
        return self._mentions().phrases_enabled

    @open_phrases.setter
    def open_phrases(self, on: bool) -> None:
        self._mentions().phrases_enabled = bool(on)

    # ---- construction ----------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> NlpPipeline:
        """Load a saved pipeline (`to_disk` output) or, with None, the default one."""
        if path is not None:
            return cls._from_disk(Path(path))
        digest = source_digest()
        cached = cache_dir() / f"lexicon-{digest}.pkl"
        nlp = _blank()
        comp = nlp.get_pipe("medcode_mentions_v1")
        assert isinstance(comp, MentionsComponent)
        lex: Lexicon | None = None
        if cached.is_file():
            try:
                lex = Lexicon.from_disk(cached, comp.normalizer)
            except Exception:  # a corrupt or stale cache is rebuilt, never fatal
                lex = None
        if lex is None:
            lex = build_lexicon()
            lex.source_digest = digest
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                lex.to_disk(cached)
                for old in cached.parent.glob("lexicon-*.pkl"):
                    if old != cached:
                        old.unlink(missing_ok=True)  # superseded builds
            except OSError:
                pass  # read-only home: keep the in-memory lexicon
        comp.lexicon = lex
        return cls(nlp, digest)

    @classmethod
    def build(cls) -> NlpPipeline:
        """Build the default pipeline from scratch (no cache)."""
        nlp = _blank()
        comp = nlp.get_pipe("medcode_mentions_v1")
        assert isinstance(comp, MentionsComponent)
        comp.lexicon = build_lexicon()
        digest = source_digest()
        comp.lexicon.source_digest = digest
        return cls(nlp, digest)

    @classmethod
    def _from_disk(cls, path: Path) -> NlpPipeline:
        meta_file = path / _META
        if not meta_file.is_file():
            raise FileNotFoundError(f"{path} is not a saved medcode NLP pipeline (no {_META})")
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta.get("pipeline_version", "").split(".")[0] != PIPELINE_VERSION.split(".")[0]:
            raise ValueError(f"saved pipeline version {meta.get('pipeline_version')!r} is not compatible")
        nlp = spacy.load(path)
        return cls(nlp, meta.get("lexicon_digest", ""))

    def to_disk(self, path: str | Path) -> None:
        p = Path(path)
        self.nlp.to_disk(p)
        meta = {"pipeline_version": PIPELINE_VERSION, "lexicon_digest": self.lexicon_digest, "pipes": list(PIPE_NAMES)}
        (p / _META).write_text(json.dumps(meta, indent=2), encoding="utf-8")

    # ---- analysis --------------------------------------------------------------------
    @staticmethod
    def _clean(text: str) -> str:
        """Same length as the input (offsets stay valid); control characters become spaces."""
        if not isinstance(text, str):
            raise TypeError(f"note text must be str, got {type(text).__name__}")
        return _CONTROL.sub(" ", text)

    @staticmethod
    def _analysis(text: str, doc: object) -> NoteAnalysis:
        d = doc  # spacy Doc
        if d.text != text:  # type: ignore[attr-defined]
            # control characters were blanked for matching: evidence text comes from the note itself
            for m in [*(d._.medcode_mentions or []), *(d._.medcode_phrases or [])]:  # type: ignore[attr-defined]
                m.text = text[m.start : m.end]
            for sec in d._.medcode_sections or []:  # type: ignore[attr-defined]
                if sec.header:
                    lead = len(text[sec.start : sec.end]) - len(text[sec.start : sec.end].lstrip(" \t"))
                    sec.header = text[sec.start + lead : sec.start + lead + len(sec.header)]
        return NoteAnalysis(
            text=text,
            mentions=list(d._.medcode_mentions or []),  # type: ignore[attr-defined]
            sections=list(d._.medcode_sections or []),  # type: ignore[attr-defined]
            facts=d._.medcode_facts or EncounterFacts(),  # type: ignore[attr-defined]
            phrases=list(d._.medcode_phrases or []),  # type: ignore[attr-defined]
        )

    # analyze(..., phrases=) and analyze_batch(..., phrases=) take a per-note switch for open phrases
    reads_phrases_per_note = True

    def _doc(self, text: str, phrases: bool | None) -> Doc:
        doc = self.nlp.make_doc(self._clean(text))
        if phrases is not None:
            doc.user_data[PHRASES_KEY] = bool(phrases)  # this note only (thread-safe, unlike open_phrases)
        return doc

    def analyze(self, text: str, phrases: bool | None = None) -> NoteAnalysis:
        """`phrases`: read this note's open phrases (True) or not (False); None: `open_phrases`."""
        return self._analysis(text, self.nlp(self._doc(text, phrases)))

    def analyze_batch(self, texts: Iterable[str], batch_size: int = 64,
                      phrases: Sequence[bool | None] | None = None) -> list[NoteAnalysis]:
        originals = list(texts)
        flags = list(phrases) if phrases is not None else [None] * len(originals)
        if len(flags) != len(originals):
            raise ValueError(f"{len(originals)} texts but {len(flags)} phrase switches")
        docs = self.nlp.pipe((self._doc(t, f) for t, f in zip(originals, flags, strict=True)), batch_size=batch_size)
        return [self._analysis(t, d) for t, d in zip(originals, docs, strict=True)]


__all__ = ["PIPELINE_VERSION", "NlpPipeline", "load_normalizer"]
