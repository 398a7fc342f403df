"""Mentions -> (note, code) candidates -> feature rows for the reranker.

Everything that reads NLP output or code sets to build features lives here (DESIGN: turning
mentions into features is the pipeline's job, not the models').
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from codesets import CodeSets
from codesets.normalize import CodeFormatError, dotted, icd_key, proc_key
from models.cooccurrence import CodeCooccurrence
from pipelines.nlp.types import Mention, NoteAnalysis

ICD = "icd10cm"
CPT = "cpt"  # CPT and HCPCS Level II share one ranked list ("cpt" in the response)

# Assertions that never yield a diagnosis code of their own (ICD-10-CM outpatient guidelines
# IV.H / IV.J: no coding of ruled-out, possible or family conditions as the patient's own).
BLOCKED_DX_ASSERTIONS = frozenset({"negated", "family", "hypothetical", "uncertain"})
BLOCKED_PROC_ASSERTIONS = frozenset({"negated", "family", "hypothetical", "uncertain", "historical"})
ASSESSMENT_SECTIONS = frozenset({"assessment", "assessment_plan", "plan"})
HPI_SECTIONS = frozenset({"chief_complaint", "hpi", "subjective"})
HISTORY_SECTIONS = frozenset({"pmh", "psh", "family_history", "social_history"})
EXAM_SECTIONS = frozenset({"ros", "exam", "objective", "vitals"})
PROC_SECTIONS = frozenset({"procedure", "orders", "immunizations", "labs", "imaging"})

FEATURES: tuple[str, ...] = (
    "is_cpt", "lex_max", "term_max", "dense_max", "sup", "sup_rank_inv", "sup_present", "n_mentions",
    "frac_present", "any_present", "any_negated", "any_family", "any_historical", "any_hypothetical",
    "any_uncertain", "in_assessment", "in_hpi", "in_history", "in_exam", "in_proc_section",
    "kind_condition", "kind_symptom", "kind_finding", "kind_procedure", "kind_lab", "kind_medication",
    "depth", "billable", "unspecified", "prior", "attr_agree", "attr_conflict", "rule", "resolved",
    "n_sources", "em_time", "em_mdm", "em_preventive", "competing",
    # context features (models trained before they existed use LEGACY_FEATURES)
    "done_cue", "planned_cue",
    # note features: a candidate among its note's other candidates (note_features; models trained
    # before them use CONTEXT_FEATURES). Same category (system + first 3 characters): the best
    # note-level score, present mention and lexical score of its other codes, and whether one of
    # them is a child of this code; the candidate's note-level score against the note's best of
    # its system and its rank among the note's candidates; how many candidates the note has; and
    # the best and summed support of its usual companion codes (models.cooccurrence)
    "cat_sup_max", "cat_present", "cat_lex_max", "cat_has_child", "sup_gap", "sup_rank_note",
    "n_cands_log", "cooc_max", "cooc_sum",
)
LEGACY_FEATURES: tuple[str, ...] = FEATURES[: FEATURES.index("competing") + 1]
CONTEXT_FEATURES: tuple[str, ...] = FEATURES[: FEATURES.index("planned_cue") + 1]
NOTE_FEATURES: tuple[str, ...] = FEATURES[len(CONTEXT_FEATURES):]
_COLUMNS: dict[tuple[str, ...], np.ndarray] = {}

# a procedure, lab or imaging study that is only planned at this visit (not billable today) ...
_PLANNED = re.compile(
    r"\b(?:will (?:schedule|order|obtain|arrange|refer|get|repeat|check|draw|perform|do)|to be (?:scheduled|done|performed|"
    r"obtained|drawn|completed)|scheduled (?:for|on)|(?:is |was )?ordered|order(?:s)? placed|referr(?:ed|al) (?:to|for)|"
    r"refer(?:red)? (?:to|for)|pending|(?:at|on|before) (?:the )?next visit|outside (?:facility|imaging|lab|center|office)|"
    r"sent out|send out|recommend(?:ed)?|plan(?:ned|s)? (?:to|for)|consider(?:ing)?|future|follow[- ]?up with)\b", re.IGNORECASE)
# ... unless the same sentence says it was done
_DONE = re.compile(r"\b(?:performed|done|today|in (?:the )?(?:clinic|office)|administered|given|drawn|collected|completed|"
                   r"obtained|placed today|result(?:s|ed)?|showed|shows|reviewed|interpreted|normal|negative|positive)\b",
                   re.IGNORECASE)


# ... or reported from before this encounter: results someone else (or an earlier visit) billed
# ("Recent labs: A1c 7.2%", "Reviewed labs: ...", "most recent TSH", "prior echo showed")
_PRIOR = re.compile(
    r"\b(?:(?:most )?recent|prior|previous|last|outside|old)\s+(?:labs?|lab work|results?|values?|studies|"
    r"imaging|bloodwork)\b|\b(?:most recent|previous|prior)\b|\breviewed (?:labs?|lab work|results?|records?)\b|"
    r"\blabs? (?:reviewed|from)\b", re.IGNORECASE)
# what still says the test was done at this encounter, whatever else the sentence reports
_TODAY = re.compile(r"\b(?:today|this visit|in (?:the )?(?:clinic|office)|point[- ]of[- ]care|poc|drawn|collected|"
                    r"performed)\b", re.IGNORECASE)


def mention_sentence(text: str, m: Mention) -> str:
    """The sentence (or clause up to ';' / line end) that holds mention `m`."""
    a = max(text.rfind(x, 0, m.start) for x in (".", ";", "\n")) + 1
    ends = [i for i in (text.find(x, m.end) for x in (". ", ";", "\n")) if i >= 0]
    return text[a : min(ends) if ends else len(text)]


def done_or_planned(sentence: str) -> tuple[bool, bool]:
    """(said to be done at this encounter, only ordered/scheduled/referred or reported from
    before) for one sentence. "to be done", "to be drawn": the planning phrase itself does not
    say it was done; "Recent labs: A1c 7.2%", "Reviewed labs: ...": results from before, unless
    the sentence also says today, drawn, collected, performed or in the clinic."""
    planned = bool(_PLANNED.search(sentence))
    done = bool(_DONE.search(_PLANNED.sub(" ", sentence) if planned else sentence))
    if not planned and _PRIOR.search(sentence) and not _TODAY.search(sentence):
        return False, True  # results from before this encounter ("reviewed" reads them, not done)
    return done, planned and not done


def planned_only(text: str, m: Mention) -> bool:
    """Whether the sentence holding `m` only orders, schedules or refers it."""
    return done_or_planned(mention_sentence(text, m))[1]

# family history (Z80-Z84) and personal history (Z85-Z87) targets by code prefix, most specific
# prefix first; only used when the code set confirms the target is billable.
FAMILY_HISTORY: tuple[tuple[str, str], ...] = (
    ("C18", "Z80.0"), ("C19", "Z80.0"), ("C20", "Z80.0"), ("C15", "Z80.0"), ("C16", "Z80.0"), ("C25", "Z80.0"),
    ("C34", "Z80.1"), ("C33", "Z80.1"), ("C50", "Z80.3"), ("C56", "Z80.41"), ("C61", "Z80.42"),
    ("C53", "Z80.49"), ("C54", "Z80.49"), ("C64", "Z80.51"), ("C67", "Z80.52"), ("C91", "Z80.6"),
    ("C92", "Z80.6"), ("C81", "Z80.7"), ("C82", "Z80.7"), ("C83", "Z80.7"), ("C43", "Z80.8"), ("C", "Z80.9"),
    ("E10", "Z83.3"), ("E11", "Z83.3"), ("E13", "Z83.3"), ("E78", "Z83.42"), ("E66", "Z83.49"),
    ("F10", "Z81.1"), ("F1", "Z81.3"), ("F3", "Z81.8"), ("F2", "Z81.8"), ("F0", "Z81.8"),
    ("G30", "Z82.0"), ("G40", "Z82.0"), ("G", "Z82.0"), ("H54", "Z82.1"), ("H90", "Z82.2"), ("H91", "Z82.2"),
    ("I63", "Z82.3"), ("I64", "Z82.3"), ("I21", "Z82.49"), ("I25", "Z82.49"), ("I10", "Z82.49"), ("I", "Z82.49"),
    ("J45", "Z82.5"), ("J44", "Z82.5"), ("M", "Z82.69"), ("N18", "Z84.1"), ("N", "Z84.2"), ("Q", "Z82.79"),
    ("K50", "Z83.79"), ("K51", "Z83.79"), ("K", "Z83.79"), ("D", "Z83.2"),
)
PERSONAL_HISTORY: tuple[tuple[str, str], ...] = (
    ("C50", "Z85.3"), ("C61", "Z85.46"), ("C18", "Z85.038"), ("C19", "Z85.048"), ("C20", "Z85.048"),
    ("C34", "Z85.118"), ("C43", "Z85.820"), ("C44", "Z85.828"), ("C53", "Z85.41"), ("C54", "Z85.42"),
    ("C56", "Z85.43"), ("C64", "Z85.528"), ("C67", "Z85.51"), ("C73", "Z85.850"), ("C", "Z85.9"),
    ("I21", "I25.2"), ("I22", "I25.2"), ("I63", "Z86.73"), ("G45", "Z86.73"), ("I82.4", "Z86.718"),
    ("I26", "Z86.711"), ("D12", "Z86.010"), ("K63.5", "Z86.010"), ("N20", "Z87.442"), ("N39.0", "Z87.440"),
    ("K25", "Z87.11"), ("K26", "Z87.11"), ("K27", "Z87.11"), ("O14", "Z87.59"), ("S72", "Z87.81"),
    ("A15", "Z86.11"), ("E66", "Z86.39"),
)

_ATTR_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "laterality": {"right": ("right",), "left": ("left",), "bilateral": ("bilateral",)},
    "episode": {"initial": ("initial encounter",), "subsequent": ("subsequent encounter",), "sequela": ("sequela",)},
    "acuity": {"acute": ("acute",), "chronic": ("chronic",), "acute_on_chronic": ("acute on chronic",)},
    "type": {"1": ("type 1",), "2": ("type 2",)},
    "trimester": {"1": ("first trimester",), "2": ("second trimester",), "3": ("third trimester",)},
    "severity": {"mild": ("mild",), "moderate": ("moderate",), "severe": ("severe",)},
    "exacerbation": {"with": ("exacerbation",)},
}
# attributes that move a code to a sibling only where a sibling names them (an exacerbation near
# "gout" or "type 2 diabetes" must not move the code to an unspecified sibling)
_SIBLING_ONLY = frozenset({"exacerbation"})
_MISSING_NAMES: dict[str, str] = {
    "laterality": "laterality (right, left or bilateral)",
    "episode": "episode of care (initial, subsequent or sequela)",
    "acuity": "acuity (acute, chronic or acute on chronic)",
    "type": "type",
    "trimester": "trimester",
    "severity": "severity",
    "stage": "stage",
    "site_or_type": "the specific site or type",
}


def code_system(code: str) -> str:
    """'icd10cm' for ICD-10-CM codes, 'cpt' for CPT and HCPCS Level II."""
    if "." in code or (len(code) >= 3 and code[0].isalpha() and code[1].isdigit() and code[2].isalnum()
                       and not re.fullmatch(r"[A-V]\d{4}", code)):
        return ICD
    return CPT


def norm_code(code: str, system: str) -> str | None:
    try:
        return dotted(icd_key(code)) if system == ICD else proc_key(code)
    except CodeFormatError:
        return None


@dataclass(slots=True)
class Candidate:
    system: str
    code: str
    lex: float = 0.0
    term: float = 0.0
    dense: float = 0.0
    sup: float = 0.0
    sup_rank: int = 10_000
    rule: float = 0.0
    resolved: bool = False
    attr_agree: int = 0
    attr_conflict: int = 0
    specificity: str | None = None
    sources: set[str] = field(default_factory=set)
    mentions: list[Mention] = field(default_factory=list)
    em: dict[str, float] = field(default_factory=dict)
    modifiers: list[str] = field(default_factory=list)
    units: int = 1
    # procedures only: a mention's sentence says it was done at this encounter ("drawn in clinic
    # today"), or every mention's sentence only orders, schedules or refers it
    done: float = 0.0
    planned: float = 0.0

    def add_mention(self, m: Mention) -> None:
        if all(x.start != m.start or x.end != m.end for x in self.mentions):
            self.mentions.append(m)

    @property
    def asserted(self) -> bool:
        """Whether at least one evidence mention states the condition/procedure for this patient."""
        if self.rule > 0:
            return True
        blocked = BLOCKED_DX_ASSERTIONS if self.system == ICD else BLOCKED_PROC_ASSERTIONS
        return any(m.assertion not in blocked for m in self.mentions)


class CodeInfo:
    """Cached code-set facts the features need (description, billable, depth, resolution)."""

    def __init__(self, cs: CodeSets) -> None:
        self.cs = cs
        self.fy = cs.icd.fiscal_years[-1]

    def icd_description(self, code: str) -> str:
        return self.cs.icd.description(icd_key(code))

    def description(self, code: str, system: str) -> str:
        if system == ICD:
            return self.icd_description(code)
        return self.cs.procedures.description(code)

    def billable(self, code: str, fy: int | None = None) -> bool:
        """Billable in fiscal year `fy` (default: the newest loaded year)."""
        try:
            return self.cs.icd.is_billable(icd_key(code), self.fy if fy is None else fy)
        except CodeFormatError:
            return False

    def exists(self, code: str, system: str) -> bool:
        if system == ICD:
            try:
                return icd_key(code) in self.cs.icd.codes
            except CodeFormatError:
                return False
        return code in self.cs.procedures.spans or code in self.cs.procedures.catalog

    def resolve(self, code: str, attributes: dict[str, str]) -> tuple[str, bool, int, int, str | None]:
        """A billable code for an ICD-10-CM candidate, using the mention's attributes.

        Returns (code, changed, n_attr_agree, n_attr_conflict, specificity prompt or None).
        """
        return _resolve(self, code, tuple(sorted(attributes.items())))


@lru_cache(maxsize=50_000)
def _resolve(info: CodeInfo, code: str, attrs: tuple[tuple[str, str], ...]) -> tuple[str, bool, int, int, str | None]:
    icd = info.cs.icd
    try:
        key = icd_key(code)
    except CodeFormatError:
        return code, False, 0, 0, None
    attributes = dict(attrs)
    fy = info.fy
    entry = icd.codes.get(key)
    if entry is None:
        # CodiEsp-style truncated code (dropped 7th character): resolve from its nearest ancestor
        anc = next((key[:n] for n in range(len(key) - 1, 2, -1) if key[:n] in icd.codes), None)
        if anc is None:
            return code, False, 0, 0, None
        key = anc
    pool: list[str]
    if icd.is_billable(key, fy):
        parent = icd.parent(key)
        desc = icd.description(key).lower()
        siblings = [k for k in icd.billable_descendants(parent, fy) if len(k) == len(key)] if parent is not None else []
        wants_other = any(
            attributes.get(a) and not any(w in desc for w in _ATTR_WORDS[a].get(attributes[a], ()))
            and (a not in _SIBLING_ONLY or any(w in icd.description(k).lower() for k in siblings
                                               for w in _ATTR_WORDS[a].get(attributes[a], ())))
            for a in _ATTR_WORDS
        )
        # a documented stage or class ("stage G5", "class III") that this code does not name
        # moves it to the code of its category that does (N18.9 -> N18.5, E66.9 -> E66.813)
        stage = attributes.get("stage")
        staged = [k for k in icd.billable_descendants(key[:3], fy) if _names_stage(icd.description(k).lower(), stage)] \
            if stage and not _names_stage(desc, stage) else []
        if staged:
            pool = icd.billable_descendants(key[:3], fy)
        elif not wants_other or parent is None:
            agree, conflict = _attr_score(desc, attributes)
            return dotted(key), False, agree, conflict, None
        else:
            pool = siblings
    else:
        pool = icd.billable_descendants(key, fy)
    if not pool:
        return dotted(key), False, 0, 0, None
    scored = []
    for k in pool:
        d = icd.description(k).lower()
        agree, conflict = _attr_score(d, attributes)
        unspec = "unspecified" in d or d.endswith("nos")
        scored.append((agree - 2 * conflict, unspec, -len(k), k, agree, conflict))
    # most attribute agreement; then prefer 'unspecified' (nothing undocumented assumed), shortest
    scored.sort(key=lambda s: (-s[0], not s[1], -s[2], s[3]))
    best = scored[0]
    chosen = best[3]
    missing = _missing_detail(icd, pool, chosen, attributes)
    prompt = None
    if missing:
        prompt = "document " + " and ".join(_MISSING_NAMES.get(m, m) for m in missing) + " for a more specific code"
    return dotted(chosen), chosen != icd_key(code), best[4], best[5], prompt


def _attr_score(desc: str, attributes: dict[str, str]) -> tuple[int, int]:
    agree = conflict = 0
    for a, values in _ATTR_WORDS.items():
        v = attributes.get(a)
        if not v:
            continue
        mine = values.get(v, ())
        if any(w in desc for w in mine):
            agree += 1
        elif any(w in desc for other, ws in values.items() if other != v for w in ws):
            conflict += 1
    stage = attributes.get("stage")
    if stage and _names_stage(desc, stage):
        agree += 1
    elif stage and _STAGE_WORD.search(desc):
        conflict += 1  # the description names another stage or class
    return agree, conflict


_STAGE_WORD = re.compile(r"\b(?:stage|class) [0-9]")


def _names_stage(desc: str, stage: str | None) -> bool:
    """Whether a (lower-case) description names this stage or class ("stage 5", "class 3")."""
    return bool(stage) and bool(re.search(rf"\b(?:stage|class) {re.escape(stage.lower())}\b", desc))


def _missing_detail(icd: Any, pool: list[str], chosen: str, attributes: dict[str, str]) -> list[str]:
    """Attributes that distinguish the pool's codes but were not documented."""
    descs = [icd.description(k).lower() for k in pool]
    cdesc = icd.description(chosen).lower()
    if "unspecified" not in cdesc and "initial encounter" not in cdesc:
        return []
    missing = []
    for a, values in _ATTR_WORDS.items():
        if attributes.get(a):
            continue
        present = {v for v, ws in values.items() if any(any(w in d for w in ws) for d in descs)}
        if len(present) >= 2:
            missing.append(a)
    if not attributes.get("stage") and sum("stage" in d for d in descs) >= 2:
        missing.append("stage")
    if not missing and "unspecified" in cdesc:
        missing.append("site_or_type")
    return missing


_WITHOUT = re.compile(r"\bwithout ([a-z]+(?: [a-z]+)?)")
_UNCOMPLICATED = re.compile(r"\buncomplicated\b|\bwithout complications?\b")


def contradictory(desc_a: str, desc_b: str) -> bool:
    """Whether two sibling descriptions say opposite things of one detail ("... with abnormal
    findings" vs "... without abnormal findings"): at most one of such codes can be true."""
    a, b = desc_a.lower(), desc_b.lower()
    for x, y in ((a, b), (b, a)):
        if _UNCOMPLICATED.search(x) and re.search(r"\bwith\b", _UNCOMPLICATED.sub("", y)) and not _UNCOMPLICATED.search(y):
            return True  # "asthma, uncomplicated" vs "asthma with (acute) exacerbation"
        for detail in _WITHOUT.findall(x):
            if re.search(rf"\bwith {re.escape(detail)}\b", y) and not re.search(rf"\bwithout {re.escape(detail)}\b", y):
                return True
    return False


_DETAIL_WORD = re.compile(r"\b(?:not|non) [a-z]+|[a-z0-9]+")  # "not intractable" is one detail, not "intractable"
_GENERIC_WORDS = frozenset({"unspecified", "of", "the", "and", "or", "a", "an", "in", "site", "type", "disorder"})


def _root(word: str) -> str:
    """A word without its inflection, so a noun and its adjective meet ("depression" and
    "depressive" -> "depress")."""
    for suffix in ("ions", "ion", "ives", "ive", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def redundant_unspecified(desc: str, sibling: str) -> bool:
    """Whether an "unspecified" code (description `desc`) only restates a more specific code of its
    category (`sibling`): every detail it names is in the sibling's description, so billing both
    says one condition twice ("Migraine, unspecified, not intractable, without status
    migrainosus" beside "Chronic migraine without aura, not intractable, without status
    migrainosus"). Codes that name another detail ("unspecified diabetic retinopathy" beside
    "diabetic chronic kidney disease") are different conditions and both stand."""
    a, b = desc.lower(), sibling.lower()
    if "unspecified" not in a or a == b:
        return False
    words_a, words_b = {_root(w) for w in _DETAIL_WORD.findall(a)}, {_root(w) for w in _DETAIL_WORD.findall(b)}
    if "unspecified" in b and len(words_b) <= len(words_a):
        return False  # the sibling is no more specific
    return words_a - {_root(w) for w in _GENERIC_WORDS} <= words_b


def is_family_history_code(code: str) -> bool:
    """A family history code (Z80-Z84): a family mention is what supports it."""
    return code[:3] in ("Z80", "Z81", "Z82", "Z83", "Z84")


def history_target(code: str, table: Sequence[tuple[str, str]]) -> str | None:
    for prefix, target in table:
        if code.replace(".", "").startswith(prefix.replace(".", "")):
            return target
    return None


def feature_row(c: Candidate, info: CodeInfo, priors: dict[str, float], n_cands_same_cat: int) -> list[float]:
    a = Counter(m.assertion for m in c.mentions)
    n = max(len(c.mentions), 1)
    sections = {m.section for m in c.mentions}
    kinds = {m.kind for m in c.mentions}
    is_icd = c.system == ICD
    if is_icd:
        key = c.code.replace(".", "")
        depth = float(len(key))
        billable = float(info.billable(c.code))
        unspec = float("unspecified" in info.icd_description(c.code).lower())
    else:
        depth, billable, unspec = 5.0, 1.0, 0.0
    return [
        0.0 if is_icd else 1.0,
        c.lex,
        c.term,
        c.dense,
        c.sup,
        1.0 / (1.0 + c.sup_rank) if c.sup_rank < 10_000 else 0.0,
        1.0 if c.sup_rank < 10_000 else 0.0,
        math.log1p(len(c.mentions)),
        a["present"] / n if c.mentions else 0.0,
        float(a["present"] > 0),
        float(a["negated"] > 0),
        float(a["family"] > 0),
        float(a["historical"] > 0),
        float(a["hypothetical"] > 0),
        float(a["uncertain"] > 0),
        float(bool(sections & ASSESSMENT_SECTIONS)),
        float(bool(sections & HPI_SECTIONS)),
        float(bool(sections & HISTORY_SECTIONS)),
        float(bool(sections & EXAM_SECTIONS)),
        float(bool(sections & PROC_SECTIONS)),
        float("condition" in kinds),
        float("symptom" in kinds),
        float("finding" in kinds),
        float("procedure" in kinds),
        float("lab" in kinds),
        float("medication" in kinds),
        depth,
        billable,
        unspec,
        priors.get(c.code, 0.0),
        float(c.attr_agree),
        float(c.attr_conflict),
        c.rule,
        float(c.resolved),
        float(len(c.sources)),
        c.em.get("time", 0.0),
        c.em.get("mdm", 0.0),
        c.em.get("preventive", 0.0),
        float(n_cands_same_cat),
        c.done,
        c.planned,
    ]


def feature_matrix(cands: Sequence[Candidate], info: CodeInfo, priors: dict[str, dict[str, float]],
                   names: Sequence[str] = FEATURES, cooc: CodeCooccurrence | None = None,
                   note_cpt: bool = True) -> np.ndarray:
    """Feature rows of `cands` (one note's candidates), columns in the order of `names` (a
    model keeps the feature names it was trained with). `cooc`: the fitted diagnosis
    co-occurrence the `cooc_*` features read (none: they are 0); `note_cpt=False`: procedure
    rows' note features are 0."""
    cat = Counter((c.system, c.code[:3]) for c in cands)
    rows = [feature_row(c, info, priors.get(c.system, {}), cat[(c.system, c.code[:3])] - 1) for c in cands]
    X = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(CONTEXT_FEATURES))
    key = tuple(names)
    if any(n in NOTE_FEATURES for n in key):
        notes = note_features(cands, X, cooc)
        if not note_cpt:
            notes[[c.system != ICD for c in cands]] = 0.0
        X = np.hstack([X, notes])
    else:
        X = np.hstack([X, np.zeros((len(cands), len(NOTE_FEATURES)))])
    if key == FEATURES:
        return X
    cols = _COLUMNS.get(key)
    if cols is None:
        unknown = [n for n in key if n not in FEATURES]
        if unknown:
            raise ValueError(f"unknown ranker features {unknown}")
        cols = _COLUMNS[key] = np.asarray([FEATURES.index(n) for n in key], dtype=np.int64)
    return X[:, cols]


_COL = {n: i for i, n in enumerate(CONTEXT_FEATURES)}


def note_features(cands: Sequence[Candidate], X: np.ndarray, cooc: CodeCooccurrence | None = None) -> np.ndarray:
    """The NOTE_FEATURES columns of one note's candidates, from their CONTEXT_FEATURES rows `X`.
    Chosen on held-out CodiEsp train folds (benchmarks/bench_corpus_ranker.py): MAP +0.008,
    +0.011 and +0.017 on folds 0-2 in offline replays of captured ranker rows."""
    n = len(cands)
    out = np.zeros((n, len(NOTE_FEATURES)))
    if n == 0:
        return out
    sup, lex, present = X[:, _COL["sup"]], X[:, _COL["lex_max"]], X[:, _COL["any_present"]]
    systems = [c.system for c in cands]
    groups: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(cands):
        groups.setdefault((c.system, c.code[:3]), []).append(i)
    best_sup = {s: max(sup[i] for i in range(n) if systems[i] == s) for s in set(systems)}
    rank = np.empty(n)
    rank[np.argsort(-sup, kind="stable")] = np.arange(n)
    keys = [c.code.replace(".", "") for c in cands]
    for i, c in enumerate(cands):
        others = [j for j in groups[(c.system, c.code[:3])] if j != i]
        if others:
            out[i, 0] = max(sup[j] for j in others)
            out[i, 1] = max(present[j] for j in others)
            out[i, 2] = max(lex[j] for j in others)
            out[i, 3] = float(any(keys[j].startswith(keys[i]) for j in others))
        out[i, 4] = sup[i] - best_sup[c.system]
        out[i, 5] = 1.0 / (1.0 + rank[i])
    out[:, 6] = math.log1p(n)
    if cooc is not None:
        icd = [i for i in range(n) if systems[i] == ICD]
        if icd:
            # a companion's support: its note-level score, or its lexical score when said present
            strength = np.maximum(sup[icd], lex[icd] * present[icd])
            out[icd, 7:9] = cooc.scores([cands[i].code for i in icd], strength)
    return out


def set_context(cands: Iterable[Candidate], analysis: NoteAnalysis) -> None:
    """Context features of one note's procedure candidates: done/planned cues of their
    mentions' sentences. (Note-shape features, section count and length, were measured too:
    they cost 0.02 ICD F1 on new templates, benchmarks/bench_family_d.py, session 7.)"""
    text = analysis.text
    cache: dict[tuple[int, int], tuple[bool, bool]] = {}
    for c in cands:
        if c.system != CPT or not c.mentions:
            continue
        flags = []
        for m in c.mentions:
            k = (m.start, m.end)
            if k not in cache:
                cache[k] = done_or_planned(mention_sentence(text, m))
            flags.append(cache[k])
        c.done = float(any(d for d, _ in flags))
        c.planned = float(all(p for _, p in flags))


def gold_match(code: str, gold: Iterable[str]) -> bool:
    """A candidate matches gold when equal, or when gold is a truncated form of it (CodiEsp's
    dropped 7th characters and category-level codes)."""
    key = code.replace(".", "")
    for g in gold:
        gk = g.replace(".", "")
        if key == gk or (len(gk) >= 3 and key.startswith(gk) and len(gk) < len(key) and gk[-1] == "X"):
            return True
    return False
