"""spaCy components, registered as versioned `medcode_<name>_v1` factories.

Each component does its work on character offsets (regexes in C, dict look-ups) and keeps its
results on Doc extensions, so the whole pipeline stays well above 300 notes/s:

    doc._.medcode_sections   list[Section]
    doc._.medcode_sentences  list[(start, end)] character spans (also set as token.is_sent_start)
    doc._.medcode_mentions   list[Mention]  (also doc.spans["medcode_mentions"], label = kind)
    doc._.medcode_phrases    list[Mention]  open phrases (kind "phrase", no candidates; phrases.py)
    doc._.medcode_facts      EncounterFacts
"""

import bisect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy
from spacy.attrs import IDX, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import registry
from spacy.vocab import Vocab

from pipelines.nlp.attributes import AttributeScanner, encounter_facts
from pipelines.nlp.lexicon import Lexicon, load_normalizer
from pipelines.nlp.measures import bmi_spans
from pipelines.nlp.normalize import SpellFixer
from pipelines.nlp.phrases import HEADER, MENTION, OPEN, open_runs, phrase_rules
from pipelines.nlp.rules_engine import (
    ContextRules,
    Cue,
    SectionIndex,
    Sectionizer,
    StatusCodes,
    header_spans,
    split_sentences,
)
from pipelines.nlp.types import CodeCandidate, EncounterFacts, Mention, Section

for _name, _default in (
    ("medcode_sections", None),
    ("medcode_sentences", None),
    ("medcode_mentions", None),
    ("medcode_phrases", None),
    ("medcode_facts", None),
):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)


# a Doc's user_data key that turns open phrases on or off for that note alone (NlpPipeline.analyze(..., phrases=))
PHRASES_KEY = "medcode_phrases"
_TOKEN_WS = re.compile(r"(\w+|[^\w\s])(\s*)")
# a full stop or semicolon followed by white space after a word of 4+ characters ends a phrase even
# where the sentence splitter kept going (a lower-case next sentence: "eye chart screening. phq-9
# performed"); shorter words before a period are often abbreviations ("Dr.", "vs.", "L.")
_PHRASE_END = re.compile(r"(?<=\w{4})[.;](?=\s)")


class MedcodeTokenizer:
    """A fast regex tokenizer (words, single punctuation marks, whitespace runs) that keeps the
    text byte-for-byte (doc.text == input). The components work on character offsets, so spaCy's
    rule tokenizer (several times slower on clinical text) buys nothing here."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        lead = len(text) - len(text.lstrip())
        if lead:
            words.append(text[:lead])
            spaces.append(False)
        for tok, ws in _TOKEN_WS.findall(text, lead):
            words.append(tok)
            if not ws:
                spaces.append(False)
            elif ws == " ":
                spaces.append(True)
            elif ws[0] == " ":
                spaces.append(True)
                words.append(ws[1:])
                spaces.append(False)
            else:
                spaces.append(False)
                words.append(ws)
                spaces.append(False)
        doc = Doc(self.vocab, words=words, spaces=spaces)
        doc.user_data["medcode_text"] = text
        return doc

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        for t in texts:
            yield self(t)

    def to_disk(self, path: str | Path, *, exclude: Any = ()) -> None:
        return None

    def from_disk(self, path: str | Path, *, exclude: Any = ()) -> "MedcodeTokenizer":
        return self

    def to_bytes(self, *, exclude: Any = ()) -> bytes:
        return b""

    def from_bytes(self, data: bytes, *, exclude: Any = ()) -> "MedcodeTokenizer":
        return self


@registry.tokenizers("medcode_tokenizer_v1")  # type: ignore[untyped-decorator]
def make_tokenizer() -> Callable[[Language], MedcodeTokenizer]:
    def create(nlp: Language) -> MedcodeTokenizer:
        return MedcodeTokenizer(nlp.vocab)

    return create


def doc_text(doc: Doc) -> str:
    text = doc.user_data.get("medcode_text")
    if text is None:
        text = doc.user_data["medcode_text"] = doc.text
    return text


def _sections(doc: Doc) -> list[Section]:
    secs: list[Section] | None = doc._.medcode_sections
    if secs is None:
        secs = Sectionizer()(doc_text(doc))
        doc._.medcode_sections = secs
    return secs


def _sentences(doc: Doc) -> list[tuple[int, int]]:
    sents: list[tuple[int, int]] | None = doc._.medcode_sentences
    if sents is None:
        sents = split_sentences(doc_text(doc))
        doc._.medcode_sentences = sents
    return sents


class SectionsComponent:
    def __init__(self) -> None:
        self.sectionizer = Sectionizer()

    def __call__(self, doc: Doc) -> Doc:
        doc._.medcode_sections = self.sectionizer(doc_text(doc))
        return doc


class SentencesComponent:
    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        secs = doc._.medcode_sections or []
        extra = [s.start + len(s.header) + 1 for s in secs if s.header] + [s.start for s in secs]
        sents = split_sentences(text, extra)
        doc._.medcode_sentences = sents
        n = len(doc)
        if n:
            idx = doc.to_array(IDX)
            flags = numpy.full(n, -1, dtype="int32")
            flags[0] = 1
            if sents:
                pos = numpy.searchsorted(idx, numpy.array([s for s, _ in sents], dtype=idx.dtype), side="left")
                flags[pos[pos < n]] = 1
            doc.from_array([SENT_START], flags.reshape(-1, 1).astype("uint64"))  # type: ignore[arg-type]
        return doc


class MentionsComponent:
    def __init__(self) -> None:
        self.normalizer = load_normalizer()
        self._cand_cache: dict[str, tuple[CodeCandidate, ...]] = {}
        self._lexicon = Lexicon(self.normalizer)
        self.phrases_enabled = True  # NlpPipeline.open_phrases

    @property
    def lexicon(self) -> Lexicon:
        return self._lexicon

    @lexicon.setter
    def lexicon(self, lex: Lexicon) -> None:
        self._lexicon = lex
        self._cand_cache = {}
        lex.norm = self.normalizer
        self.normalizer.fixer = (SpellFixer(lex.vocab, lex.words, keys=(k for k in lex.entries if " " not in k))
                                 if lex.words else None)

    def __call__(self, doc: Doc) -> Doc:
        text = doc_text(doc)
        secs = _sections(doc)
        index = SectionIndex(secs)
        heads = header_spans(secs)
        head_starts = [a for a, _ in heads]
        lex = self.lexicon
        mentions: list[Mention] = []
        phrases: list[Mention] = []
        prules = phrase_rules()
        want_phrases = bool(doc.user_data.get(PHRASES_KEY, self.phrases_enabled))
        # normalise the whole note once, then cut the token stream at sentence boundaries
        all_spans = list(self.normalizer.spans(text))
        all_toks = [t for t, _, _ in all_spans]
        starts = [a for _, a, _ in all_spans]
        ends = sorted({bisect.bisect_right(starts, m.start()) for m in _PHRASE_END.finditer(text)})
        for si, (s, e) in enumerate(_sentences(doc)):
            lo = bisect.bisect_left(starts, s)
            hi = bisect.bisect_left(starts, e, lo)
            if hi <= lo:
                continue
            cuts = ends[bisect.bisect_right(ends, lo) : bisect.bisect_left(ends, hi)]
            for plo, phi in zip([lo, *cuts], [*cuts, hi], strict=True):  # phrases inside the sentence
                spans = all_spans[plo:phi]
                covered = [OPEN] * len(spans)
                for k, (_t, a, _b) in enumerate(spans):
                    h = bisect.bisect_right(head_starts, a) - 1
                    if h >= 0 and a < heads[h][1]:
                        covered[k] = HEADER  # header words are never part of an open phrase
                for i, j, key in lex.match(all_toks[plo:phi]):
                    covered[i:j] = [MENTION if c != HEADER else HEADER for c in covered[i:j]]
                    if covered[i] == HEADER:
                        continue  # a section header ("Allergies:") is not a mention
                    start, end = spans[i][1], spans[j - 1][2]
                    kind, concept, _curated, cands = lex.entries[key]
                    codes = self._candidates(key, cands)
                    if " without " in f" {key} ":
                        codes = self._same_order(codes, all_toks[plo + i : plo + j])
                    if mentions and mentions[-1].start == start and mentions[-1].end == end:
                        # one raw token holding two concepts ("emphysema/COPD"): one mention, both codes
                        prev = mentions[-1]
                        have = {c.code for c in prev.candidates}
                        prev.candidates.extend(c for c in codes if c.code not in have)
                        continue
                    mentions.append(
                        Mention(
                            start=start,
                            end=end,
                            text=text[start:end],
                            kind=kind,  # type: ignore[arg-type]
                            section=index.name_at(start),
                            assertion="present",
                            concept=concept,
                            candidates=list(codes),
                            sentence=si,
                        )
                    )
                if want_phrases and len(phrases) < prules.max_per_note and OPEN in covered:
                    for start, end, words in open_runs(text, spans, covered, prules):
                        section = index.name_at(start)
                        if section in prules.skip_sections or len(phrases) >= prules.max_per_note:
                            continue
                        phrases.append(Mention(start=start, end=end, text=text[start:end], kind="phrase",
                                               section=section, assertion="present", concept=words, sentence=si))
        self._measures(text, index, mentions, doc)
        doc._.medcode_mentions = mentions
        doc._.medcode_phrases = phrases
        if mentions and len(doc):
            # token index of each mention's first / last character (alignment "expand")
            idx = doc.to_array(IDX)
            m_starts = numpy.array([m.start for m in mentions], dtype=idx.dtype)
            m_ends = numpy.array([m.end for m in mentions], dtype=idx.dtype)
            first = numpy.searchsorted(idx, m_starts, side="right") - 1
            last = numpy.searchsorted(idx, m_ends, side="left")
            doc.spans["medcode_mentions"] = [
                Span(doc, int(a), int(b), label=m.kind) for m, a, b in zip(mentions, first, last, strict=True) if b > a
            ]
        else:
            doc.spans["medcode_mentions"] = []
        return doc

    @staticmethod
    def _measures(text: str, index: SectionIndex, mentions: list[Mention], doc: Doc) -> None:
        """Values that name a code by number (BMI -> Z68), as 'finding' mentions."""
        if "bmi" not in text.lower() and "body mass" not in text.lower():
            return
        sent_starts = [s for s, _ in _sentences(doc)]
        added = False
        for start, end, code in bmi_spans(text):
            # the lexicon's bare "body mass index" (Z68 category) gives way to the valued mention
            inner = [m for m in mentions if start <= m.start and m.end <= end
                     and all(c.code.startswith("Z68") for c in m.candidates)]
            for m in inner:
                mentions.remove(m)
            if any(m.start < end and start < m.end for m in mentions):
                continue
            mentions.append(Mention(start=start, end=end, text=text[start:end], kind="finding",
                                    section=index.name_at(start), assertion="present", concept="body mass index",
                                    candidates=[CodeCandidate("icd10cm", code, 1.0, "body mass index")],
                                    sentence=max(bisect.bisect_right(sent_starts, start) - 1, 0)))
            added = True
        if added:
            mentions.sort(key=lambda m: m.start)

    def _candidates(self, key: str, cands: tuple[tuple[str, str, float, str], ...]) -> tuple[CodeCandidate, ...]:
        """CodeCandidate objects per lexicon key, built once (mentions get their own list)."""
        hit = self._cand_cache.get(key)
        if hit is None:
            hit = tuple(CodeCandidate(sy, c, sc, t) for sy, c, sc, t in cands)  # type: ignore[arg-type]
            if len(self._cand_cache) < 50_000:
                self._cand_cache[key] = hit
        return hit

    def _same_order(self, codes: tuple[CodeCandidate, ...], window: list[str]) -> tuple[CodeCandidate, ...]:
        """A lexicon key is its words sorted, so "panic disorder without agoraphobia" and
        "agoraphobia without panic disorder" (F41.0, F40.02), or "migraine with aura without
        status migrainosus" and "migraine without aura, with status migrainosus", share one key
        ("with" is a stop word). Keep only the codes whose text puts the same words on each side
        of "without" as the note does: the others name the opposite condition. The mention stays
        (a concept the lexicon names), and the term and dense indexes may still code it."""
        sig = _without_sides(window)
        norm = self.normalizer
        return tuple(c for c in codes if _without_sides(norm.tokens(c.term)) == sig)

    def to_disk(self, path: str | Path, *, exclude: Any = ()) -> None:
        p = Path(path)
        p.mkdir(parents=True, exist_ok=True)
        self.lexicon.to_disk(p / "lexicon.pkl")

    def from_disk(self, path: str | Path, *, exclude: Any = ()) -> "MentionsComponent":
        self.lexicon = Lexicon.from_disk(Path(path) / "lexicon.pkl", self.normalizer)
        return self


def _without_sides(toks: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words before the first "without" and the words after it (each side sorted)."""
    if "without" not in toks:
        return tuple(sorted(toks)), ()
    k = toks.index("without")
    return tuple(sorted(toks[:k])), tuple(sorted(toks[k + 1 :]))


class ContextComponent:
    def __init__(self) -> None:
        self.rules = ContextRules()
        self.status = StatusCodes()

    def __call__(self, doc: Doc) -> Doc:
        # open phrases are read like mentions (they have no candidates, so no status codes)
        mentions: list[Mention] = (doc._.medcode_mentions or []) + (doc._.medcode_phrases or [])
        if not mentions:
            return doc
        text = doc_text(doc)
        sents = _sentences(doc)
        cues = self.rules.cues(text)
        cue_starts = [c.start for c in cues]
        scopes: dict[tuple[int, int], list[Cue]] = {}
        secs = SectionIndex(_sections(doc))
        for m in mentions:
            s, e = sents[m.sentence]
            # scope is bounded by the sentence and by the section
            sec_i = secs.at(m.start)
            if sec_i >= 0:
                sec = secs.sections[sec_i]
                s, e = max(s, sec.start + len(sec.header) + 1 if sec.header else sec.start), min(e, sec.end)
            scope = scopes.get((s, e))
            if scope is None:
                lo = bisect.bisect_left(cue_starts, s)
                hi = bisect.bisect_left(cue_starts, e)
                # a cue may start on the header's colon ("Social history: no tobacco use")
                scope = scopes[(s, e)] = [c for c in cues[max(lo - 1, 0) : hi] if s < c.end <= e]
            # a cue overlapping the mention is part of it, except a family cue that begins before it
            # ("family history of" before the mention "history of breast cancer"): that one applies
            sc = [replace(c, end=m.start) if c.category == "family" and c.start < m.start < c.end < m.end else c
                  for c in scope if not (c.start < m.end and m.start < c.end)
                  or (c.category == "family" and c.start < m.start < c.end < m.end)]
            m.assertion = self.rules.assertion(text, m.start, m.end, s, e, sc, m.section)  # type: ignore[assignment]
            if m.assertion in ("family", "historical") and m.candidates:
                top = [c.code for c in m.candidates[:3] if c.system == "icd10cm"]
                have = {c.code for c in m.candidates}
                score = round(0.9 * m.candidates[0].score, 4)
                for code in self.status.codes(m.assertion, top):
                    if code not in have:
                        m.candidates.append(CodeCandidate("icd10cm", code, score, f"{m.assertion} history"))
        return doc


class AttributesComponent:
    def __call__(self, doc: Doc) -> Doc:
        mentions: list[Mention] = doc._.medcode_mentions or []
        phrases: list[Mention] = doc._.medcode_phrases or []
        if not mentions and not phrases:
            return doc
        text = doc_text(doc)
        sents = _sentences(doc)
        scanner = AttributeScanner(text)
        # a mention's window is bounded by its neighbouring mentions; a phrase's by its neighbours
        # among mentions and phrases (mentions never see phrases: their attributes stay as they were)
        self._scan(mentions, mentions, scanner, sents, len(text))
        if phrases:
            self._scan(sorted([*mentions, *phrases], key=lambda x: (x.start, x.end)), phrases, scanner, sents, len(text))
        return doc

    @staticmethod
    def _scan(seq: list[Mention], targets: list[Mention], scanner: AttributeScanner, sents: list[tuple[int, int]],
              n_chars: int) -> None:
        """Attributes of each of `targets` (a subset of `seq`, in text order), read in a window
        bounded by its neighbours in `seq`."""
        wanted = {id(m) for m in targets}
        for k, m in enumerate(seq):
            if id(m) not in wanted:
                continue
            s, e = sents[m.sentence]
            prev_end = seq[k - 1].end if k > 0 else 0
            next_start = seq[k + 1].start if k + 1 < len(seq) else n_chars
            m.attributes.update(scanner.mention(m, s, e, prev_end, next_start))


class EmFactsComponent:
    def __call__(self, doc: Doc) -> Doc:
        secs = [s.name for s in _sections(doc)]
        mentions = doc._.medcode_mentions or []
        doc._.medcode_facts = encounter_facts(doc_text(doc), mentions, secs) if doc_text(doc).strip() else EncounterFacts()
        return doc


@Language.factory("medcode_sections_v1")
def make_sections(nlp: Language, name: str) -> SectionsComponent:
    return SectionsComponent()


@Language.factory("medcode_sentences_v1")
def make_sentences(nlp: Language, name: str) -> SentencesComponent:
    return SentencesComponent()


@Language.factory("medcode_mentions_v1")
def make_mentions(nlp: Language, name: str) -> MentionsComponent:
    return MentionsComponent()


@Language.factory("medcode_context_v1")
def make_context(nlp: Language, name: str) -> ContextComponent:
    return ContextComponent()


@Language.factory("medcode_attributes_v1")
def make_attributes(nlp: Language, name: str) -> AttributesComponent:
    return AttributesComponent()


@Language.factory("medcode_em_facts_v1")
def make_em_facts(nlp: Language, name: str) -> EmFactsComponent:
    return EmFactsComponent()


PIPE_NAMES = (
    "medcode_sections_v1",
    "medcode_sentences_v1",
    "medcode_mentions_v1",
    "medcode_context_v1",
    "medcode_attributes_v1",
    "medcode_em_facts_v1",
)
