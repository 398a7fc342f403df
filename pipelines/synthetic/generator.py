"""Synthetic outpatient visit notes with gold ICD-10-CM, CPT/HCPCS lines, diagnosis pointers and
character-exact evidence (DESIGN.md 4.1).

Every note is generated from its own random stream (`Random(f"{seed}:{index}")`), so the
corpus is deterministic for a seed and `generate(n)` is a prefix of `generate(m)` for m > n.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from codesets import load_codesets
from codesets.fiscal import fiscal_year
from codesets.normalize import icd_key
from pipelines.synthetic.knowledge import Concept, Knowledge, Procedure, Variant, load_knowledge
from pipelines.synthetic.necessity import rule_for, supported
from pipelines.synthetic.phrasing import LAYOUTS, T

DOS_START = dt.date(2023, 10, 1)
DOS_END = dt.date(2026, 6, 30)  # newest CPT/HCPCS quarter loaded; later dates are stale_codeset
SPLITS = (("train", 0.8), ("dev", 0.1), ("test", 0.1))

SPECIALTIES: dict[str, float] = {
    "family_medicine": 12,
    "internal_medicine": 10,
    "cardiology": 7,
    "orthopedics": 7,
    "mental_health": 7,
    "dermatology": 7,
    "pain_management": 6,
    "telehealth": 6,
    "surgery_center": 5,
    "pediatrics": 8,
    "urgent_care": 9,
    "endocrinology": 6,
    "pulmonology": 5,
    "obgyn": 6,
}
KINDS: dict[str, dict[str, float]] = {
    "family_medicine": {"office": 0.6, "preventive": 0.25, "telehealth": 0.15},
    "internal_medicine": {"office": 0.7, "preventive": 0.2, "telehealth": 0.1},
    "cardiology": {"office": 0.85, "telehealth": 0.15},
    "orthopedics": {"office": 0.7, "procedure": 0.3},
    "mental_health": {"psych": 1.0},
    "dermatology": {"office": 0.55, "procedure": 0.45},
    "pain_management": {"office": 0.45, "procedure": 0.55},
    "telehealth": {"telehealth": 1.0},
    "surgery_center": {"asc": 1.0},
    "pediatrics": {"office": 0.55, "preventive": 0.45},
    "urgent_care": {"office": 1.0},
    "endocrinology": {"office": 0.8, "telehealth": 0.2},
    "pulmonology": {"office": 0.85, "telehealth": 0.15},
    "obgyn": {"office": 0.55, "preventive": 0.3, "procedure": 0.15},
}
COMORBID_POOL = ("htn", "hld", "t2dm", "hypothyroid", "gerd", "obesity", "ckd", "gad", "mdd_single", "asthma",
                 "allergic_rhinitis", "osteoporosis", "vitd", "afib", "bph", "insomnia", "tobacco", "anemia", "migraine",
                 "hf", "cad", "copd", "prediabetes", "knee_oa", "gout")
HISTORY_POOL = ("former_smoker", "hx_colon_polyps", "hx_breast_ca", "hx_dvt", "fhx_colon_ca", "fhx_breast_ca", "fhx_cad",
                "stent_status", "pacemaker")
OUTSIDE_ONLY = {"72148", "72141", "73721", "73221", "74177", "71250", "78452", "71271", "77067", "95810", "93880",
                "93925", "76700", "76705", "76536", "93306", "95806"}
ASC_CATS = {"asc"}
PROC_ONLY_CATS = {"pain"}
E_M_NEW = {2: "99202", 3: "99203", 4: "99204", 5: "99205"}
E_M_EST = {2: "99212", 3: "99213", 4: "99214", 5: "99215"}
TIME_NEW = {2: (15, 29), 3: (30, 44), 4: (45, 59), 5: (60, 74)}
TIME_EST = {2: (10, 19), 3: (20, 29), 4: (30, 39), 5: (40, 54)}
MDM_NAMES = {2: "straightforward", 3: "low", 4: "moderate", 5: "high"}
MDM_REASONS = {
    2: ("one self-limited problem, no data reviewed", "minimal problem, minimal risk"),
    3: ("one stable chronic illness, OTC drug management", "acute uncomplicated illness, limited data"),
    4: ("two or more stable chronic illnesses with prescription drug management",
        "chronic illness with exacerbation, prescription drug management"),
    5: ("chronic illness with severe exacerbation, decision regarding escalation of care",
        "acute illness posing threat to bodily function, drug therapy requiring intensive monitoring"),
}
PREV_NEW = ((0, "99381"), (1, "99382"), (5, "99383"), (12, "99384"), (18, "99385"), (40, "99386"), (65, "99387"))
PREV_EST = ((0, "99391"), (1, "99392"), (5, "99393"), (12, "99394"), (18, "99395"), (40, "99396"), (65, "99397"))
DIGIT_MODS = {"R1": "F5", "R2": "F6", "R3": "F7", "R4": "F8", "R5": "F9",
              "L1": "FA", "L2": "F1", "L3": "F2", "L4": "F3", "L5": "F4"}
# Excision of lesions: site group -> last-two-digit base; diameter bands (cm) -> final digit
EXCISION_BASE = {"benign": {"trunk": "114", "ext": "114", "scalp": "1142", "face": "1144"},
                 "malignant": {"trunk": "116", "ext": "116", "scalp": "1162", "face": "1164"}}
EXCISION_BANDS = ((0.5, "0"), (1.0, "1"), (2.0, "2"), (3.0, "3"), (4.0, "4"), (99.0, "6"))
REPAIR_CODES = {  # (group, complexity) -> [(max length cm, code)]
    ("trunk_ext", "simple"): ((2.5, "12001"), (7.5, "12002"), (12.5, "12004"), (20.0, "12005"), (30.0, "12006"), (99, "12007")),
    ("scalp", "simple"): ((2.5, "12001"), (7.5, "12002"), (12.5, "12004"), (20.0, "12005"), (30.0, "12006"), (99, "12007")),
    ("hands", "simple"): ((2.5, "12001"), (7.5, "12002"), (12.5, "12004"), (20.0, "12005")),
    ("face", "simple"): ((2.5, "12011"), (5.0, "12013"), (7.5, "12014"), (12.5, "12015"), (20.0, "12016"), (30.0, "12017"), (99, "12018")),
    ("trunk_ext", "intermediate"): ((2.5, "12031"), (7.5, "12032"), (12.5, "12034"), (20.0, "12035"), (30.0, "12036"), (99, "12037")),
    ("scalp", "intermediate"): ((2.5, "12031"), (7.5, "12032"), (12.5, "12034"), (20.0, "12035"), (30.0, "12036"), (99, "12037")),
    ("hands", "intermediate"): ((2.5, "12041"), (7.5, "12042"), (12.5, "12044"), (20.0, "12045"), (30.0, "12046"), (99, "12047")),
    ("face", "intermediate"): ((2.5, "12051"), (5.0, "12052"), (7.5, "12053"), (12.5, "12054"), (20.0, "12055"), (30.0, "12056"), (99, "12057")),
}
SEX_WORDS = {"A": {"F": ("female", "woman"), "M": ("male", "man")}, "B": {"F": ("female patient", "lady"), "M": ("male patient", "gentleman")}}
CHILD_WORDS = {"F": ("girl", "female"), "M": ("boy", "male")}
RELATIVES = {"A": ("mother", "father", "brother", "sister", "maternal grandmother"), "B": ("paternal uncle", "maternal aunt", "paternal grandfather", "sibling")}


# ---------------------------------------------------------------------------------------
@dataclass
class Mention:
    text: str
    codes: tuple[str, ...] = ()


@dataclass
class Spec:
    """One sentence: template with {m} markers, its mentions and other fields."""

    tpl: str
    mentions: list[Mention] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass
class Problem:
    concept: Concept
    variant: Variant
    codes: list[str]  # codes this problem's mentions support (incl. combination codes)
    own: list[str]  # codes this problem contributes to the gold list, in order
    text: str  # mention text
    role: str


@dataclass
class Line:
    code: str
    modifiers: list[str] = field(default_factory=list)
    units: int = 1
    dx: list[str] = field(default_factory=list)
    text: str = ""  # evidence mention ("" -> whole sentence)
    cat: str = ""


class Renderer:
    """Builds the note text and records exact character offsets of coded mentions."""

    MARK = "\x00"

    def __init__(self, rng: random.Random, misspell: float) -> None:
        self.rng = rng
        self.parts: list[str] = []
        self.pos = 0
        self.evidence: dict[str, list[dict[str, Any]]] = {}
        self.misspell = misspell
        self.misspelled_mention = False

    def add(self, s: str, misspell: bool = True) -> None:
        if misspell and self.misspell > 0:
            s = _misspell_text(s, self.rng, self.misspell)
        self.parts.append(s)
        self.pos += len(s)

    def mention(self, m: Mention) -> None:
        text = m.text
        if m.codes and self.rng.random() < 0.025:
            new = _misspell_text(text, self.rng, 1.0, one=True)
            if new != text:
                text = new
                self.misspelled_mention = True
        start = self.pos
        self.parts.append(text)
        self.pos += len(text)
        for c in m.codes:
            self.evidence.setdefault(c, []).append({"start": start, "end": self.pos, "text": text})

    def sentence(self, spec: Spec) -> None:
        body = spec.tpl.format(m=self.MARK, **spec.vars) if spec.vars or "{" in spec.tpl else spec.tpl
        pieces = body.split(self.MARK)
        for i, piece in enumerate(pieces):
            if piece:
                self.add(piece)
            if i < len(pieces) - 1:
                self.mention(spec.mentions[i] if i < len(spec.mentions) else spec.mentions[-1])

    def text(self) -> str:
        return "".join(self.parts)


_WORD = re.compile(r"[A-Za-z]{5,}")


def _misspell_word(w: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(w) - 2)
    op = rng.random()
    if op < 0.4:
        return w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    if op < 0.7:
        return w[:i] + w[i + 1 :]
    return w[:i] + w[i] + w[i:]


def _misspell_text(s: str, rng: random.Random, p: float, one: bool = False) -> str:
    if one:
        words = list(_WORD.finditer(s))
        if not words:
            return s
        m = rng.choice(words)
        return s[: m.start()] + _misspell_word(m.group(), rng) + s[m.end() :]
    return _WORD.sub(lambda m: _misspell_word(m.group(), rng) if rng.random() < p else m.group(), s)


# ---------------------------------------------------------------------------------------
def _wchoice(rng: random.Random, items: dict[str, float]) -> str:
    keys = list(items)
    return rng.choices(keys, weights=[items[k] for k in keys])[0]


@lru_cache(maxsize=200_000)
def _valid_icd(code: str, fy: int) -> bool:
    try:
        return load_codesets().icd.flag(icd_key(code), fy) == "B"
    except ValueError:
        return False


@lru_cache(maxsize=50_000)
def _valid_proc(code: str, day: dt.date) -> bool:
    procs = load_codesets().procedures
    return procs.span_on(code, day) is not None


@lru_cache(maxsize=200_000)
def _excludes1(a: str, b: str) -> bool:
    from pipelines.synthetic.knowledge import _safe_containers

    icd = load_codesets().icd
    notes = icd._notes
    ka, kb = icd_key(a), icd_key(b)
    for x, y in ((ka, kb), (kb, ka)):
        hosts = [x, *icd.ancestors(x), *_safe_containers(icd, x)]
        for h in hosts:
            for n in notes.get(h, ()):
                if n.note_type == "excludes1" and n.matches(y) and not y.startswith(x) and not x.startswith(y):
                    return True
    return False


_T = TypeVar("_T")


def _pick(rng: random.Random, seq: Sequence[_T]) -> _T:
    return seq[rng.randrange(len(seq))]


class NoteGenerator:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.k: Knowledge = load_knowledge()
        self.cs = load_codesets()
        self.days = (DOS_END - DOS_START).days

    # ---- patient, concept selection ---------------------------------------------------
    def _patient(self, rng: random.Random, specialty: str, kind: str) -> tuple[int, str]:
        if specialty == "pediatrics":
            age = rng.choice([0, 0, 1, 1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 15, 16, 17])
        elif specialty == "obgyn":
            return rng.randint(17, 78), "F"
        elif specialty == "mental_health":
            age = rng.randint(14, 80)
        elif specialty == "urgent_care":
            age = rng.randint(2, 85)
        elif specialty == "dermatology":
            age = rng.randint(12, 92)
        elif specialty in ("cardiology", "surgery_center"):
            age = rng.randint(40, 92)
        else:
            age = rng.randint(18, 92)
        return age, rng.choice("FM")

    def _fits(self, c: Concept, age: int, sex: str) -> bool:
        return c.age[0] <= age <= c.age[1] and (not c.sex or c.sex == sex)

    def _choose_primary(self, rng: random.Random, specialty: str, age: int, sex: str, kind: str) -> Concept | None:
        core = [c for c in self.k.by_specialty.get(specialty, []) if self._fits(c, age, sex)]
        if kind == "asc":
            core = [c for c in core if c.id == "colon_polyp" or any(self.k.procedures.get(p) and self.k.procedures[p].cat in ASC_CATS for p in c.procs)]
        elif kind == "procedure":
            core = [c for c in core if self._has_office_proc(c, procedure_day=True)]
        if kind in ("office", "telehealth", "psych") and rng.random() < 0.55:
            tail = [c for c in self.k.derived_by_specialty.get(specialty, []) if self._fits(c, age, sex)]
            if specialty == "telehealth":
                tail = [c for sp in ("telehealth", "family_medicine") for c in self.k.derived_by_specialty.get(sp, []) if self._fits(c, age, sex) and c.role != "injury"]
            if tail:
                return tail[rng.randrange(len(tail))]
        if not core:
            return None
        return rng.choices(core, weights=[c.weight for c in core])[0]

    def _has_office_proc(self, c: Concept, procedure_day: bool = False) -> bool:
        if c.extra.get("excision") or c.extra.get("destruction") or c.extra.get("biopsy") or c.extra.get("repair"):
            return True
        for p in c.procs:
            proc = self.k.procedures.get(p)
            if proc and (proc.minor or proc.cat in PROC_ONLY_CATS) and proc.cat not in ASC_CATS:
                return True
        return False

    def _variant(self, rng: random.Random, c: Concept, family: str) -> Variant:
        return c.variants[rng.randrange(len(c.variants))]

    def _resolve(self, rng: random.Random, c: Concept, v: Variant, fy: int, ctx: dict[str, Any]) -> list[str] | None:
        out = []
        for code in v.codes:
            if "{tri}" in code:
                code = code.replace("{tri}", str(ctx.get("tri", 2)))
            if c.episode:
                code = code + ("X" * (7 - len(icd_key(code)) - 1) if len(icd_key(code)) < 6 else "") + ctx.get("ep", "A")
                code = _fix_dots(code)
            if not _valid_icd(code, fy):
                fb = c.fallback.get(code)
                if fb and _valid_icd(fb, fy):
                    code = fb
                else:
                    return None
            out.append(code)
        return out

    def _mention_text(self, rng: random.Random, c: Concept, v: Variant, family: str) -> str:
        name = _pick(rng, c.names[family] or c.names["A"])
        phr = _pick(rng, v.phrases[family] or v.phrases["A"])
        text = name.replace("{v}", phr) if "{v}" in name else name
        return re.sub(r"\s+", " ", text).strip(" ,")

    def _problem(self, rng: random.Random, c: Concept, family: str, fy: int, ctx: dict[str, Any]) -> Problem | None:
        variants = list(c.variants)
        rng.shuffle(variants)
        for v in variants[:3]:
            codes = self._resolve(rng, c, v, fy, ctx)
            if codes:
                text = self._mention_text(rng, c, v, family)
                prob = Problem(c, v, list(codes), list(codes), text, c.role)
                ctx.setdefault("problems", []).append(prob)
                return prob
        return None

    # ---- main entry --------------------------------------------------------------------
    def note(self, index: int) -> dict[str, Any]:
        rng = random.Random(f"medcode-synthetic:{self.seed}:{index}")
        for _attempt in range(8):
            note = self._try(rng, index)
            if note is not None:
                return note
        raise RuntimeError(f"could not generate note {index}")  # pragma: no cover

    def _try(self, rng: random.Random, index: int) -> dict[str, Any] | None:
        r = rng.random()
        split = "train" if r < SPLITS[0][1] else ("dev" if r < SPLITS[0][1] + SPLITS[1][1] else "test")
        family = "B" if split == "test" else "A"
        specialty = _wchoice(rng, SPECIALTIES)
        kind = _wchoice(rng, KINDS[specialty])
        day = DOS_START + dt.timedelta(days=rng.randrange(self.days + 1))
        fy = fiscal_year(day)
        age, sex = self._patient(rng, specialty, kind)
        tags: set[str] = set()
        ctx: dict[str, Any] = {"ep": "A" if rng.random() < 0.7 else "D", "fy": fy}
        weeks = rng.randint(6, 39)
        ctx["weeks"], ctx["tri"] = weeks, (1 if weeks < 14 else 2 if weeks < 28 else 3)

        if kind == "preventive":
            built = self._preventive(rng, specialty, age, sex, day, fy, family, tags, ctx)
        else:
            built = self._problem_visit(rng, specialty, kind, age, sex, day, fy, family, tags, ctx)
        if built is None:
            return None
        specs, gold_icd, lines, setting = built
        layout = self._layout(rng, kind, family)
        for extra in range(4):
            text, evidence, misspelled = self._render(rng, layout, specs, family, extra)
            words = len(text.split())
            if words >= 100 or extra == 3:
                break
        if not 100 <= words <= 600:
            return None
        if misspelled:
            tags.add("misspelling")
        # keep only lines/codes with evidence in the text
        if any(c not in evidence for c in gold_icd) or any(ln.code not in evidence for ln in lines):
            return None
        for ln in lines:
            ln.dx = [d for d in ln.dx if d in gold_icd and supported(ln.code, d)][:4]
            if not ln.dx:
                return None
        cpt_lines = [{"code": ln.code, "modifiers": ln.modifiers, "units": ln.units, "dx": ln.dx} for ln in lines]
        cpt = list(dict.fromkeys(ln.code for ln in lines))
        ev = {c: evidence[c] for c in [*gold_icd, *cpt]}
        if any(m in ("25", "57") for ln in lines for m in ln.modifiers):
            tags.add("modifier_25" if any("25" in ln.modifiers for ln in lines) else "modifier_57")
        if any(m in ("RT", "LT", "50") or m.startswith("F") for ln in lines for m in ln.modifiers):
            tags.add("laterality")
        return {
            "id": f"syn-{self.seed}-{index:06d}",
            "text": text,
            "icd10cm": gold_icd,
            "cpt": cpt,
            "cpt_lines": cpt_lines,
            "patient": {"age": age, "sex": sex},
            "date_of_service": day.isoformat(),
            "setting": setting,
            "specialty": specialty,
            "split": split,
            "evidence": ev,
            "hard_case": sorted(tags),
            "note_style": layout,
            "phrasing_family": family,
            "concepts": sorted({p.concept.id for p in ctx.get("problems", []) if set(p.own) & set(gold_icd)}),
        }

    def _layout(self, rng: random.Random, kind: str, family: str) -> str:
        k = "procedure" if kind == "asc" else kind
        options = [name for name, lay in LAYOUTS.items() if lay["family"] == family and k in lay["kinds"]]  # type: ignore[operator]
        return _pick(rng, options)

    # ---- problem-oriented visits ---------------------------------------------------------
    def _problem_visit(self, rng: random.Random, specialty: str, kind: str, age: int, sex: str, day: dt.date, fy: int,
                       family: str, tags: set[str], ctx: dict[str, Any]) -> tuple[dict[str, list[Spec]], list[str], list[Line], str] | None:
        primary_c = self._choose_primary(rng, specialty, age, sex, kind)
        if primary_c is None:
            return None
        if primary_c.role == "pregnancy" and not (17 <= age <= 44):
            return None
        primary = self._problem(rng, primary_c, family, fy, ctx)
        if primary is None:
            return None
        problems = [primary]
        n_comorbid = 0 if kind == "asc" else rng.choices([0, 1, 2, 3], weights=[3, 4, 3, 1.5])[0]
        if age < 18:
            n_comorbid = min(n_comorbid, 1)
        pool = [self.k.concepts[c] for c in COMORBID_POOL if self._fits(self.k.concepts[c], age, sex)]
        if specialty == "mental_health":
            pool = [self.k.concepts[c] for c in ("gad", "mdd_single", "mdd_recurrent", "insomnia", "adhd", "ptsd", "panic", "alcohol_dep") if self._fits(self.k.concepts[c], age, sex)]
        rng.shuffle(pool)
        for c in pool[:n_comorbid]:
            if c.id == primary_c.id or any(p.concept.id == c.id for p in problems):
                continue
            p = self._problem(rng, c, family, fy, ctx)
            if p:
                problems.append(p)
        if kind in ("office", "telehealth") and age >= 18 and rng.random() < 0.3:
            tail = self.k.derived_by_specialty.get(specialty) or self.k.derived_by_specialty.get("internal_medicine", [])
            dc = tail[rng.randrange(len(tail))]
            if self._fits(dc, age, sex) and dc.role != "injury" and dc.id != primary_c.id:
                p = self._problem(rng, dc, family, fy, ctx)
                if p:
                    problems.append(p)
        if primary_c.role == "pregnancy" or primary_c.id in ("gdm", "preg_htn"):
            problems = [p for p in problems if p.role == "pregnancy" or p is primary]
            z3a = f"Z3A.{ctx['weeks']:02d}"
            if _valid_icd(z3a, fy):
                ctx["z3a"] = z3a
        # symptom for an uncertain diagnosis (outpatient rule: code the symptom)
        uncertain: list[tuple[str, Problem]] = []
        if kind in ("office", "telehealth") and rng.random() < 0.18:
            u = self.k.uncertain[rng.randrange(len(self.k.uncertain))]
            sym_c = self.k.concepts[_pick(rng, u["symptoms"])]
            if self._fits(sym_c, age, sex) and all(p.concept.id != sym_c.id for p in problems):
                sp = self._problem(rng, sym_c, family, fy, ctx)
                if sp:
                    dx = _pick(rng, u["dx"][family] if family in u["dx"] else u["dx"]["A"])
                    uncertain.append((dx, sp))
                    problems.insert(1, sp)
                    tags.add("uncertain_dx")
        # history / status codes documented as relevant
        if kind != "asc" and age >= 30 and rng.random() < 0.3:
            hc = self.k.concepts[_pick(rng, HISTORY_POOL)]
            if self._fits(hc, age, sex):
                hp = self._problem(rng, hc, family, fy, ctx)
                if hp:
                    problems.append(hp)
                    if hc.id.startswith("fhx"):
                        tags.add("family_history")
        combos = self._combinations(problems, fy, tags)
        problems = self._drop_conflicts(problems)
        if problems[0] is not primary:
            return None
        gold = self._gold_order(problems, combos, ctx)
        if len(gold) > 12:
            return None
        setting = {"telehealth": "telehealth", "asc": "asc"}.get(kind, "urgent_care" if specialty == "urgent_care" else "office")
        if kind == "psych" and rng.random() < 0.4:
            setting = "telehealth"
        lines, proc_specs = self._procedures(rng, kind, specialty, problems, gold, age, sex, day, family, tags, ctx)
        if kind == "asc" and not lines:
            return None
        em_specs: list[Spec] = []
        em = self._em(rng, kind, specialty, problems, gold, lines, age, day, family, setting, tags, em_specs)
        if em:
            lines = em + lines
        if kind == "procedure" and not lines:
            return None
        lines = self._ptp(lines, day)
        if not lines:
            return None
        if setting == "telehealth":
            tele = next((m for ln in lines for m in ln.modifiers if m in ("95", "93")), "95")
            for ln in lines:
                if ln.code not in ("99441", "99442", "99443") and not {"95", "93"} & set(ln.modifiers):
                    ln.modifiers.append(tele)
        specs = self._sections(rng, kind, specialty, problems, uncertain, gold, age, sex, family, tags, ctx)
        specs["procedures"] = proc_specs + specs.get("procedures", [])
        if kind in ("procedure", "asc") and proc_specs:
            narrative = list(T["proc_narrative"][family])
            rng.shuffle(narrative)
            specs["procedures"] = [Spec(_pick(rng, T["proc_consent"][family]))] + specs["procedures"] + [Spec(x) for x in narrative[:4]]
        specs["em"] = em_specs
        if setting == "telehealth":
            tags.add("telehealth")
        return specs, gold, lines, setting

    def _combinations(self, problems: list[Problem], fy: int, tags: set[str]) -> dict[str, list[str]]:
        """Guideline-presumed links: HTN + CKD -> I12, HTN + HF -> I11.0, both -> I13, DM + CKD -> E11.22."""
        by = {p.concept.id: p for p in problems}
        combos: dict[str, list[str]] = {}
        htn, ckd, hf, dm = by.get("htn"), by.get("ckd"), by.get("hf"), by.get("t2dm")
        stage5 = bool(ckd and ckd.own[0] in ("N18.5", "N18.6"))
        if htn and (ckd or hf):
            if ckd and hf:
                code = "I13.2" if stage5 else "I13.0"
            elif ckd:
                code = "I12.0" if stage5 else "I12.9"
            else:
                code = "I11.0"
            htn.own = [code]
            htn.codes = [code]
            for other in (ckd, hf):
                if other:
                    other.codes = [*other.codes, code]
            tags.add("combination_code")
        if dm and ckd:
            if dm.own == ["E11.9"]:
                dm.own = ["E11.22"]
                dm.codes = ["E11.22"]
            elif "E11.22" not in dm.own:
                dm.own = [*dm.own, "E11.22"]
                dm.codes = [*dm.codes, "E11.22"]
            ckd.codes = [*ckd.codes, "E11.22"]
            tags.add("combination_code")
        if dm and "E11.22" in dm.own and not ckd:
            # diabetic CKD documented without a stage: add the unspecified CKD code
            dm.own = [*dm.own, "N18.9"]
            dm.codes = [*dm.codes, "N18.9"]
        return combos

    def _drop_conflicts(self, problems: list[Problem]) -> list[Problem]:
        kept: list[Problem] = []
        for p in problems:
            existing = [c for q in kept for c in q.own]
            if any(c in existing for c in p.own):
                continue
            if any(_excludes1(a, b) for a in p.own for b in existing):
                continue
            kept.append(p)
        return kept

    def _gold_order(self, problems: list[Problem], combos: dict[str, list[str]], ctx: dict[str, Any]) -> list[str]:
        out: list[str] = []
        for p in problems:
            for c in p.own:
                if c not in out:
                    out.append(c)
        if ctx.get("z3a") and any(p.role == "pregnancy" for p in problems):
            out.append(ctx["z3a"])
        for extra in ctx.get("extra_codes", []):
            if extra not in out:
                out.append(extra)
        return out

    # ---- procedures ------------------------------------------------------------------
    def _proc_ok(self, code: str, day: dt.date, age: int) -> bool:
        p = self.k.procedures.get(code)
        if p is None or not _valid_proc(code, day) or not _age_ok(code, day, age):
            return False
        if p.valid_from and day.isoformat() < p.valid_from:
            return False
        if p.valid_until and day.isoformat() > p.valid_until:
            return False
        return p.age[0] <= age <= p.age[1]

    def _dx_for(self, proc: Procedure, gold: list[str], prefer: list[str] | None = None) -> list[str]:
        order = [c for c in (prefer or []) if c in gold] + [c for c in gold if c not in (prefer or [])]
        return [c for c in order if proc.supports(c) and supported(proc.code, c)][:4]

    def _pname(self, rng: random.Random, code: str, family: str) -> str:
        p = self.k.procedures[code]
        return _pick(rng, p.names[family] or p.names["A"])

    def _procedures(self, rng: random.Random, kind: str, specialty: str, problems: list[Problem], gold: list[str], age: int,
                    sex: str, day: dt.date, family: str, tags: set[str], ctx: dict[str, Any]) -> tuple[list[Line], list[Spec]]:
        lines: list[Line] = []
        specs: list[Spec] = []
        if kind in ("telehealth",):
            # tests can only be ordered, never performed, on a video/phone visit
            for p in problems[:2]:
                for code in p.concept.labs[:1]:
                    if code in self.k.procedures and rng.random() < 0.4:
                        specs.append(Spec(_pick(rng, T["order_outside"][family]), [Mention(self._pname(rng, code, family))]))
                        tags.add("ordered_not_performed")
            return lines, specs
        if kind == "psych":
            return self._psych(rng, problems, gold, age, day, family, specs, tags)
        primary = problems[0]
        c = primary.concept
        # skin procedures
        if kind in ("procedure", "office") and (c.extra or kind == "procedure"):
            self._skin_and_repair(rng, primary, gold, day, family, lines, specs, tags, age, kind)
        # ASC procedures
        if kind == "asc":
            self._asc(rng, primary, problems, gold, age, day, family, lines, specs, tags, ctx)
            return lines, specs
        # procedures listed on the concept (office tests, injections, pain procedures)
        for p in problems[:3]:
            procs = [code for code in p.concept.procs if self._proc_ok(code, day, age)]
            rng.shuffle(procs)
            for code in procs[:2]:
                proc = self.k.procedures[code]
                if proc.cat in ASC_CATS:
                    continue
                if code in OUTSIDE_ONLY:
                    if rng.random() < 0.3:
                        specs.append(Spec(_pick(rng, T["order_outside"][family]), [Mention(self._pname(rng, code, family))]))
                        tags.add("ordered_not_performed")
                    continue
                if proc.cat in PROC_ONLY_CATS and kind != "procedure" and code not in ("20552", "20553"):
                    continue
                if proc.addon or proc.cat == "drug":
                    continue
                if kind == "office" and p is not primary and (rng.random() < 0.7 or specialty not in p.concept.specialties):
                    continue
                if kind == "procedure" and not (proc.minor or proc.cat in PROC_ONLY_CATS):
                    continue
                if kind == "office" and rng.random() < 0.45:
                    continue
                dx = self._dx_for(proc, gold, p.own)
                if not dx:
                    continue
                if any(ln.code == code for ln in lines):
                    continue
                self._add_proc(rng, proc, p, dx, day, age, family, lines, specs, tags)
                if kind == "procedure":
                    break
        # labs drawn in clinic (venipuncture + tests), point-of-care tests
        if kind == "office":
            drawn: list[Line] = []
            for p in problems[:3]:
                for code in p.concept.labs:
                    if rng.random() < 0.3 and self._proc_ok(code, day, age) and all(ln.code != code for ln in lines + drawn):
                        proc = self.k.procedures[code]
                        dx = self._dx_for(proc, gold, p.own)
                        if dx:
                            drawn.append(Line(code, [], proc.units, dx, self._pname(rng, code, family), "lab"))
            if drawn:
                poc = [ln for ln in drawn if ln.code in ("87880", "87804", "87811", "81003", "81002", "81025", "87210")]
                blood = [ln for ln in drawn if ln not in poc]
                for ln in poc:
                    result = _pick(rng, ("negative", "positive", "normal", "trace protein"))
                    specs.append(Spec(_pick(rng, T["poc_test"][family]), [Mention(ln.text, (ln.code,))], {"result": result}))
                    lines.append(ln)
                if blood:
                    for ln in blood:
                        specs.append(Spec(_pick(rng, T["lab_drawn"][family]), [Mention(ln.text, (ln.code,))]))
                        lines.append(ln)
                    dx = list(dict.fromkeys(c for ln in blood for c in ln.dx))[:4]
                    vp = Line("36415", [], 1, dx, self._pname(rng, "36415", family), "lab")
                    specs.append(Spec("Specimen collection: {m}.", [Mention(vp.text, ("36415",))]))
                    lines.append(vp)
        if kind == "office" and rng.random() < 0.3:
            self._catalog_extra(rng, specialty, gold, age, day, family, lines, specs, tags)
        # vaccines during problem visits (flu season), tetanus with lacerations
        if kind == "office" and (day.month in (9, 10, 11, 12, 1, 2)) and rng.random() < 0.15 and age >= 3:
            self._vaccines(rng, ["flu"], age, day, family, lines, specs, tags, ctx, gold)
        if c.extra.get("repair") and age >= 7 and rng.random() < 0.35:
            specs.append(Spec(_pick(rng, T["tetanus_due"][family])))
            self._vaccines(rng, ["tdap"], age, day, family, lines, specs, tags, ctx, gold)
        return lines, specs

    def _catalog_extra(self, rng: random.Random, specialty: str, gold: list[str], age: int, day: dt.date, family: str,
                       lines: list[Line], specs: list[Spec], tags: set[str]) -> None:
        """A further in-office service from the project's CPT catalog, pointed at a diagnosis the
        medical-necessity table accepts for it."""
        options = self.k.catalog_by_specialty.get(specialty, [])
        if not options:
            return
        for _ in range(4):
            entry = options[rng.randrange(len(options))]
            code = entry.code
            if any(ln.code == code for ln in lines) or not _valid_proc(code, day) or rule_for(code) is None or not _age_ok(code, day, age):
                continue
            if rule_for(code).patterns == ("*",) and entry.category not in ("lab", "cardio", "pulm"):  # type: ignore[union-attr]
                continue
            dx = [c for c in gold if supported(code, c)][:4]
            if not dx:
                continue
            syns = entry.synonyms[0::2] if family == "A" else (entry.synonyms[1::2] or entry.synonyms)
            if not syns:
                continue
            name = _pick(rng, syns)
            mods: list[str] = []
            if needs_laterality(code):
                lat = _pick(rng, ("R", "L"))
                name = name + (", right" if lat == "R" else ", left") if family == "A" else ("right " if lat == "R" else "left ") + name
                mods.append("RT" if lat == "R" else "LT")
                tags.add("laterality")
            tpl = T["lab_drawn" if entry.category == "lab" else "proc_done"][family]
            specs.append(Spec(_pick(rng, tpl), [Mention(name, (code,))]))
            lines.append(Line(code, mods, 1, dx, name, "lab" if entry.category == "lab" else "catalog"))
            if entry.category == "lab" and all(ln.code != "36415" for ln in lines):
                vp = self._pname(rng, "36415", family)
                specs.append(Spec("Specimen collection: {m}.", [Mention(vp, ("36415",))]))
                lines.append(Line("36415", [], 1, dx, vp, "lab"))
            tags.add("catalog_service")
            return

    def _add_proc(self, rng: random.Random, proc: Procedure, p: Problem, dx: list[str], day: dt.date, age: int, family: str,
                  lines: list[Line], specs: list[Spec], tags: set[str]) -> None:
        mods: list[str] = []
        units = proc.units
        name = self._pname(rng, proc.code, family)
        if proc.lat or needs_laterality(proc.code):
            lat = p.variant.value if p.concept.attr == "lat" else ""
            if lat not in ("R", "L", "B"):
                if proc.lat and p.concept.attr:
                    return
                lat = _pick(rng, ("R", "L", "B"))
                name = name + {"R": ", right", "L": ", left", "B": ", bilateral"}[lat] if family == "A" else name + {
                    "R": " (right side)", "L": " (left side)", "B": " (both sides)"}[lat]
            mods.append({"R": "RT", "L": "LT", "B": "50"}[lat])
            tags.add("laterality")
        ln = Line(proc.code, mods, units, dx, name, proc.cat)
        specs.append(Spec(_pick(rng, T["proc_done"][family]), [Mention(name, (proc.code,))]))
        lines.append(ln)
        # add-on levels
        for addon in (a for a in self.k.procedures.values() if a.addon == proc.code and a.cat == proc.cat and a.cat == "pain"):
            if rng.random() < 0.4 and self._proc_ok(addon.code, day, age):
                aname = self._pname(rng, addon.code, family)
                specs.append(Spec(_pick(rng, T["proc_done"][family]), [Mention(aname, (addon.code,))]))
                lines.append(Line(addon.code, list(ln.modifiers), 1, dx, aname, "pain"))
                tags.add("addon_code")
                break
        # injected drug with units by dose
        if proc.code in ("20610", "20611", "20605", "20550", "20526", "27096", "62323", "62321", "64483", "64493", "64490"):
            drug = _pick(rng, ("J3301", "J1010", "J3301", "J1100"))
            if proc.code == "20610" and any(c.startswith("M17") for c in dx) and rng.random() < 0.25:
                drug = "J7325"
            if self._proc_ok(drug, day, age):
                self._drug(rng, drug, dx, family, lines, specs, tags, injection=False)
        if proc.code == "96372":
            drug = _pick(rng, [d for d in ("J1885", "J0696", "J1100", "J1200", "J2405", "J2550", "J0561", "J3420")
                               if self.k.procedures[d].supports(dx[0])] or ["J1885"])
            self._drug(rng, drug, dx, family, lines, specs, tags, injection=False)

    def _drug(self, rng: random.Random, code: str, dx: list[str], family: str, lines: list[Line], specs: list[Spec],
              tags: set[str], injection: bool) -> None:
        proc = self.k.procedures[code]
        dose_options: dict[str, tuple[float, ...]] = {"J3301": (20, 40, 80), "J1010": (40, 80), "J1100": (4, 8, 10), "J1885": (30, 60), "J0696": (250, 500, 1000),
                        "J1200": (25, 50), "J2405": (4, 8), "J2550": (25, 50), "J0561": (1200000, 2400000), "J3420": (1000,),
                        "J7325": (48,), "J1050": (150,)}
        mg = _pick(rng, dose_options.get(code, (proc.dose or 1.0,)))
        per = proc.dose or 1
        units = max(1, round(mg / per)) if code != "J7325" else 1
        unit_word = "units" if code == "J0561" else "mg"
        name = f"{self._pname(rng, code, family)} {int(mg):,} {unit_word}"
        dxs = [c for c in dx if proc.supports(c)] or dx
        if not any(proc.supports(c) for c in dx):
            return
        specs.append(Spec(_pick(rng, ("Medication given: {m}.", "Injected {m}.") if family == "A" else ("Drug administered: {m}.",)),
                          [Mention(name, (code,))]))
        lines.append(Line(code, [], units, dxs[:4], name, "drug"))
        if units > 1:
            tags.add("units")

    def _skin_and_repair(self, rng: random.Random, primary: Problem, gold: list[str], day: dt.date, family: str,
                         lines: list[Line], specs: list[Spec], tags: set[str], age: int, kind: str) -> None:
        c = primary.concept
        dx = primary.own[:1]
        if c.extra.get("destruction") == "ak":
            n = rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20])
            text = f"cryotherapy with liquid nitrogen to {n} actinic keratos{'is' if n == 1 else 'es'}" if family == "A" else f"LN2 destruction of {n} premalignant lesion{'s' if n > 1 else ''}"
            codes: list[tuple[str, int]] = [("17004", 1)] if n >= 15 else [("17000", 1)] + ([("17003", n - 1)] if n > 1 else [])
            specs.append(Spec(_pick(rng, T["proc_done"][family]), [Mention(text, tuple(c0 for c0, _ in codes))]))
            for code, units in codes:
                lines.append(Line(code, [], units, dx, text, "skin"))
            if n > 2:
                tags.add("units")
        elif c.extra.get("destruction") == "benign":
            n = rng.choice([1, 2, 3, 5, 8, 12, 16])
            code = "17111" if n >= 15 else "17110"
            text = f"cryodestruction of {n} benign lesion{'s' if n > 1 else ''}" if family == "A" else f"LN2 applied to {n} benign lesion{'s' if n > 1 else ''}"
            specs.append(Spec(_pick(rng, T["proc_done"][family]), [Mention(text, (code,))]))
            lines.append(Line(code, [], 1, dx, text, "skin"))
        elif c.extra.get("excision") and (kind == "procedure" or rng.random() < 0.5):
            kindx = c.extra["excision"]
            site = primary.variant.value
            group = "face" if site in ("nose", "face") else "scalp" if site == "scalp" else "trunk"
            size = round(rng.uniform(0.3, 4.6), 1)
            margin = 0.2 if kindx == "benign" else 0.4
            excised = round(size + 2 * margin, 1)
            digit = next(d for lim, d in EXCISION_BANDS if excised <= lim)
            base = EXCISION_BASE[kindx][group]
            code = (base + digit) if len(base) == 4 else (base + "0" + digit)
            if not _valid_proc(code, day):
                return
            text = (f"excision of {size} cm lesion with {margin} cm margins (excised diameter {excised} cm)" if family == "A"
                    else f"elliptical excision, lesion {size} cm plus {margin} cm margin each side = {excised} cm")
            specs.append(Spec(_pick(rng, T["proc_done"][family]), [Mention(text, (code,))]))
            lines.append(Line(code, [], 1, dx, text, "skin"))
            tags.add("size_based_code")
        elif c.extra.get("biopsy") and rng.random() < 0.7:
            n = rng.choice([1, 1, 2, 3])
            punch = rng.random() < 0.4
            first, add = ("11104", "11105") if punch else ("11102", "11103")
            text = (f"{'punch' if punch else 'shave'} biopsy of {n} lesion{'s' if n > 1 else ''}" if family == "A"
                    else f"{'4 mm punch' if punch else 'tangential'} sampling, {n} site{'s' if n > 1 else ''}")
            specs.append(Spec(_pick(rng, T["proc_done"][family]), [Mention(text, (first,) + ((add,) if n > 1 else ()))]))
            lines.append(Line(first, [], 1, dx, text, "skin"))
            if n > 1:
                lines.append(Line(add, [], n - 1, dx, text, "skin"))
                tags.add("addon_code")
        elif c.extra.get("repair"):
            group = c.extra["repair"]
            complexity = "intermediate" if rng.random() < 0.35 else "simple"
            length = round(rng.choice([rng.uniform(0.8, 2.5), rng.uniform(2.6, 7.5), rng.uniform(2.6, 12.0), rng.uniform(7.6, 31.0)]), 1)
            table = REPAIR_CODES.get((group, complexity), REPAIR_CODES[("trunk_ext", complexity)])
            code = next((cd for lim, cd in table if length <= lim), table[-1][1])
            layer = "layered closure" if complexity == "intermediate" else "single-layer closure"
            text = (f"{complexity} repair of {length} cm laceration, {layer}" if family == "A"
                    else f"{length} cm wound closed ({'deep and superficial layers' if complexity == 'intermediate' else 'superficial sutures only'})")
            specs.append(Spec(_pick(rng, T["proc_done"][family]), [Mention(text, (code,))]))
            lines.append(Line(code, [], 1, dx, text, "skin"))
            tags.add("size_based_code")

    def _asc(self, rng: random.Random, primary: Problem, problems: list[Problem], gold: list[str], age: int, day: dt.date,
             family: str, lines: list[Line], specs: list[Spec], tags: set[str], ctx: dict[str, Any]) -> None:
        c = primary.concept
        medicare = age >= 65
        if c.id == "colon_polyp" or (c.id.startswith("icd:K63") and False):
            # screening colonoscopy that found a polyp: Z12.11 first-listed, finding second
            found = rng.random() < 0.7
            hx = rng.random() < 0.25
            gold.clear()
            gold.append("Z12.11")
            ctx_mentions = [Mention("screening colonoscopy" if family == "A" else "colorectal cancer screening exam", ("Z12.11",))]
            specs.append(Spec("Indication: {m}." if family == "A" else "Reason: {m}.", ctx_mentions))
            if hx:
                gold.append("Z80.0")
                specs.append(Spec("Risk factor: {m}.", [Mention("family history of colon cancer" if family == "A" else "first-degree relative with colon cancer", ("Z80.0",))]))
            if found:
                gold.insert(1, primary.own[0])
                code = _pick(rng, ("45385", "45380"))
                mod = "PT" if medicare else "33"
                text = self._pname(rng, code, family)
                specs.append(Spec(_pick(rng, T["proc_done"][family]), [Mention(text, (code,))]))
                lines.append(Line(code, [mod], 1, [g for g in gold][:4], text, "asc"))
                tags.add("screening_to_diagnostic")
            else:
                primary.own = []
                primary.codes = []
                code = ("G0105" if hx else "G0121") if medicare else "45378"
                no_mods: list[str] = [] if medicare else ["33"]
                text = self._pname(rng, code, family)
                specs.append(Spec(_pick(rng, T["proc_done"][family]) + (" No polyps seen." if family == "A" else " Colonic mucosa unremarkable."),
                                  [Mention(text, (code,))]))
                lines.append(Line(code, no_mods, 1, list(gold)[:4], text, "asc"))
            ctx["asc_override"] = True
            return
        procs = [p for p in c.procs if self._proc_ok(p, day, age) and self.k.procedures[p].cat in ASC_CATS]
        if not procs:
            return
        code = _pick(rng, procs)
        proc = self.k.procedures[code]
        mods: list[str] = []
        if proc.lat:
            lat = primary.variant.value
            if lat not in ("R", "L"):
                return
            mods.append("RT" if lat == "R" else "LT")
            tags.add("laterality")
        if code == "26055":
            mods.append(DIGIT_MODS[primary.variant.value])
            tags.add("laterality")
        dx = self._dx_for(proc, gold, primary.own)
        if not dx:
            return
        text = self._pname(rng, code, family)
        specs.append(Spec(_pick(rng, T["proc_done"][family]), [Mention(text, (code,))]))
        lines.append(Line(code, mods, 1, dx, text, "asc"))

    def _psych(self, rng: random.Random, problems: list[Problem], gold: list[str], age: int, day: dt.date, family: str,
               specs: list[Spec], tags: set[str]) -> tuple[list[Line], list[Spec]]:
        lines: list[Line] = []
        dx = [c for c in gold if c.startswith("F")][:4] or gold[:1]
        if not dx[0].startswith("F"):
            return lines, specs
        mode = rng.choices(["eval", "therapy", "em_addon"], weights=[2, 4, 4])[0]
        if mode == "eval":
            text = self._pname(rng, "90791", family)
            specs.append(Spec(_pick(rng, T["proc_done"][family]), [Mention(text, ("90791",))]))
            lines.append(Line("90791", [], 1, dx, text, "psych"))
        else:
            ptime = rng.randint(16, 70) if mode == "therapy" else rng.randint(16, 50)
            if mode == "therapy":
                code = "90832" if ptime <= 37 else "90834" if ptime <= 52 else "90837"
            else:
                code = "90833" if ptime <= 37 else "90836"
            text = _pick(rng, T["psychotherapy_time"][family]).format(ptime=ptime, m="")
            specs.append(Spec("{m}", [Mention(text, (code,))]))
            specs.append(Spec(_pick(rng, T["psych_content"][family])))
            lines.append(Line(code, [], 1, dx, text, "psych"))
            tags.add("time_based_code")
        if rng.random() < 0.5:
            n = rng.choice([1, 2])
            text = (f"PHQ-9 score {rng.randint(3, 24)}" + (f" and GAD-7 score {rng.randint(2, 20)}" if n == 2 else "")) if family == "A" else (
                f"standardized depression instrument result {rng.randint(3, 24)}" + (f", anxiety instrument result {rng.randint(2, 20)}" if n == 2 else ""))
            specs.append(Spec("Screening instruments administered and scored: {m}.", [Mention(text, ("96127",))]))
            lines.append(Line("96127", [], n, dx, text, "screen"))
        return lines, specs

    def _vaccines(self, rng: random.Random, keys: list[str], age: int, day: dt.date, family: str, lines: list[Line],
                  specs: list[Spec], tags: set[str], ctx: dict[str, Any], gold: list[str]) -> None:
        given: list[Procedure] = []
        for key in keys:
            if key == "flu" and age >= 65 and rng.random() < 0.5:
                key = "flu_hd"
            options = [v for v in self.k.vaccines if v.key == key and v.age[0] <= age <= v.age[1] and _valid_proc(v.code, day)
                       and (not v.valid_from or day.isoformat() >= v.valid_from) and (not v.valid_until or day.isoformat() <= v.valid_until)]
            if options and all(g.key != key for g in given):
                given.append(options[0] if len(options) == 1 else _pick(rng, options))
        if not given:
            return
        if "Z23" not in gold:
            gold.append("Z23")
        mentions = []
        for v in given:
            name = _pick(rng, v.names[family] or v.names["A"])
            mentions.append(Mention(name, (v.code, "Z23")))
            lines.append(Line(v.code, [], 1, ["Z23"], name, "vaccine"))
        for m in mentions:
            specs.append(Spec(_pick(rng, T["vaccine"][family]), [m]))
        medicare_keys = {"flu", "flu_hd", "pneumo"}
        if age < 19 and ctx.get("counsel", rng.random() < 0.8):
            specs.append(Spec("{m}", [Mention(_pick(rng, T["vaccine_counsel"][family]), ("90460", "90461"))]))
            lines.append(Line("90460", [], len(given), ["Z23"], "", "vaccine_admin"))
            extra = sum(v.components - 1 for v in given)
            if extra:
                lines.append(Line("90461", [], extra, ["Z23"], "", "vaccine_admin"))
            tags.add("vaccine_admin")
            return
        if age >= 65 and all(v.key in medicare_keys for v in given):
            for v in given:
                code = "G0008" if v.key.startswith("flu") else "G0009"
                lines.append(Line(code, [], 1, ["Z23"], "", "vaccine_admin"))
            tags.add("medicare_admin")
        else:
            lines.append(Line("90471", [], 1, ["Z23"], "", "vaccine_admin"))
            if len(given) > 1:
                lines.append(Line("90472", [], len(given) - 1, ["Z23"], "", "vaccine_admin"))
        tags.add("vaccine_admin")
        # admin lines take the vaccine mentions as evidence
        admin_codes = [ln.code for ln in lines if ln.cat == "vaccine_admin"]
        for m in mentions:
            m.codes = tuple(dict.fromkeys((*m.codes, *admin_codes)))

    # ---- E/M ---------------------------------------------------------------------------
    def _em(self, rng: random.Random, kind: str, specialty: str, problems: list[Problem], gold: list[str], lines: list[Line],
            age: int, day: dt.date, family: str, setting: str, tags: set[str], em_specs: list[Spec]) -> list[Line]:
        if kind == "asc" or not gold:
            return []
        if kind == "psych" and (not lines or lines[0].code in ("90791", "90832", "90834", "90837")):
            if setting == "telehealth":
                for ln in lines:
                    ln.modifiers.append("95")
                em_specs.append(Spec("{m}", [Mention(_pick(rng, T["tele_video"][family]), tuple(ln.code for ln in lines))]))
            return []
        procedures = [ln for ln in lines if ln.cat not in ("lab", "vaccine", "vaccine_admin", "drug", "screen")]
        minor = [ln for ln in procedures if (self.k.procedures.get(ln.code) and self.k.procedures[ln.code].minor) or ln.cat == "skin"]
        major = [ln for ln in procedures if ln.code == "25600"]
        if kind == "procedure":
            # scheduled procedure: E/M only when a separate significant problem is addressed
            others = [p for p in problems[1:] if p.role in ("chronic", "acute", "symptom", "derived")]
            if not (others and rng.random() < 0.4):
                return []
        if problems[0].concept.id == "prenatal" and _valid_proc("0502F", day):
            # routine antepartum visit: part of the global obstetric package, tracked with 0502F
            text = _pick(rng, ("Routine prenatal visit, included in global OB care.", "Subsequent prenatal care visit (global package)."))
            if family == "B":
                text = "Antepartum visit within the global obstetric package; no separate E/M."
            em_specs.append(Spec("{m}", [Mention(text, ("0502F",))]))
            tags.add("global_ob")
            return [Line("0502F", [], 1, gold[:4], text, "em")]
        new = rng.random() < (0.3 if kind == "office" else 0.15)
        if kind == "telehealth" or setting == "telehealth":
            new = new and rng.random() < 0.3
        em_specs.append(Spec(_pick(rng, T["em_new" if new else "em_est"][family]), [], {"last": rng.randint(2, 12)}))
        chronic = [p for p in problems if p.role in ("chronic", "pregnancy")]
        if any(v in p.variant.value for p in problems for v in ("ex", "acsys", "acdia", "severe", "hyper")) or len(chronic) >= 2:
            base = 4
        elif chronic or len(problems) >= 2:
            base = 3
        else:
            base = rng.choice([2, 3])
        level = max(2, min(5, base + rng.choices([-1, 0, 0, 0, 1], k=1)[0]))
        audio_only = setting == "telehealth" and kind != "psych" and rng.random() < 0.25
        tele_mods: list[str] = []
        code: str
        if audio_only and day < dt.date(2025, 1, 1):
            minutes = rng.randint(5, 30)
            code = "99441" if minutes <= 10 else "99442" if minutes <= 20 else "99443"
            em_specs.append(Spec("{m}", [Mention(_pick(rng, T["tele_audio"][family]), (code,))]))
            em_specs.append(Spec("{m}", [Mention(f"Medical discussion by phone: {minutes} minutes." if family == "A" else f"Telephone time with patient {minutes} min.", (code,))]))
            tags.add("audio_only")
            return [Line(code, [], 1, gold[:4], "", "em")]
        if setting == "telehealth":
            tele_mods = ["93"] if audio_only else ["95"]
            tpl = T["tele_audio" if audio_only else "tele_video"][family]
            em_specs.insert(0, Spec("{m}", [Mention(_pick(rng, tpl), ("__EM__",))]))
            if audio_only:
                tags.add("audio_only")
        if rng.random() < 0.5:
            lo, hi = (TIME_NEW if new else TIME_EST)[level]
            minutes = rng.randint(lo, hi)
            sent = _pick(rng, T["em_time"][family]).format(minutes=minutes)
            tags.add("em_time")
        else:
            mdm = MDM_NAMES[level]
            sent = _pick(rng, T["em_mdm"][family]).format(mdm=mdm, mdm_reason=_pick(rng, MDM_REASONS[level]))
            tags.add("em_mdm")
        code = (E_M_NEW if new else E_M_EST)[level]
        em_specs.append(Spec("{m}", [Mention(sent, (code,))]))
        for s in em_specs:
            for m in s.mentions:
                m.codes = tuple(code if c == "__EM__" else c for c in m.codes)
        mods = list(tele_mods)
        proc_dx = {c for ln in procedures for c in ln.dx}
        em_dx = [c for c in gold if c not in proc_dx] + [c for c in gold if c in proc_dx]
        if major:
            mods.append("57")
            tags.add("modifier_57")
        elif (minor or any(ln.cat in ("pain",) or has_global_period(ln.code) for ln in procedures)
              or self._em_ptp(code, lines, day)):
            if kind == "office" and minor and len(problems) == 1 and rng.random() < 0.5:
                # the visit is only about the procedure problem: the E/M is not separately identifiable
                em_specs.clear()
                return []
            mods.append("25")
            tags.add("modifier_25")
            sep = [p for p in problems if not set(p.own) & proc_dx] or problems
            em_specs.append(Spec(_pick(rng, T["separate_em"][family]), [Mention(sep[0].text, tuple(sep[0].codes))]))
        out = [Line(code, mods, 1, em_dx[:4], "", "em")]
        if (age >= 65 and not new and "25" not in mods and day >= dt.date(2024, 1, 1) and specialty in (
                "family_medicine", "internal_medicine", "cardiology", "endocrinology", "pulmonology")
                and chronic and rng.random() < 0.35):
            text = self._pname(rng, "G2211", family)
            em_specs.append(Spec("{m}" + (" applies: ongoing longitudinal care for this serious condition." if family == "A" else " - continuing focal point for all needed services."),
                                 [Mention(text[0].upper() + text[1:], ("G2211",))]))
            out.append(Line("G2211", list(tele_mods), 1, em_dx[:4], text, "addon_em"))
            tags.add("g2211")
        return out

    def _em_ptp(self, em: str, lines: list[Line], day: dt.date) -> bool:
        procs = self.cs.procedures
        return any(
            (e := procs.ptp_edit(em, ln.code, day)) is not None and e.modifier_indicator == 1 for ln in lines
            if ln.cat not in ("lab", "vaccine", "drug")
        )

    def _ptp(self, lines: list[Line], day: dt.date) -> list[Line]:
        """Resolve NCCI PTP pairs: an E/M paired with a procedure carries 25 where the edit allows a
        bypass; distinct skin procedures take 59; otherwise the column-2 code is dropped. Add-on codes
        whose primary is absent are dropped too."""
        procs = self.cs.procedures
        out: list[Line] = []
        for ln in lines:
            keep = True
            drop: list[Line] = []
            for prev in out:
                e = procs.ptp_edit(prev.code, ln.code, day)
                if e is None:
                    continue
                em_line = prev if is_em(prev.code) else ln if is_em(ln.code) else None
                if em_line is not None and not (is_em(prev.code) and is_em(ln.code)) and e.modifier_indicator == 1:
                    if not any(m in em_line.modifiers for m in ("25", "57")):
                        em_line.modifiers.append("25")
                    continue
                if e.modifier_indicator == 1 and ln.cat == "skin" and prev.cat == "skin":
                    target = ln if e.column2 == ln.code else prev
                    if "59" not in target.modifiers:
                        target.modifiers.append("59")
                    continue
                if e.column2 == ln.code:
                    keep = False
                    break
                drop.append(prev)
            for d in drop:
                out.remove(d)
            if keep:
                out.append(ln)
        addons = procs.addons
        present = {ln.code for ln in out}
        return [ln for ln in out if not (ln.code in addons and addons[ln.code][0] == 1 and addons[ln.code][1]
                                         and not addons[ln.code][1] & present)]

    # ---- preventive visits --------------------------------------------------------------
    def _preventive(self, rng: random.Random, specialty: str, age: int, sex: str, day: dt.date, fy: int, family: str,
                    tags: set[str], ctx: dict[str, Any]) -> tuple[dict[str, list[Spec]], list[str], list[Line], str] | None:
        if specialty == "obgyn" and sex != "F":
            return None
        specs: dict[str, list[Spec]] = {k: [] for k in ("hpi", "pmh", "meds", "allergies", "social", "family", "ros", "vitals", "exam", "results", "assessment", "procedures", "plan", "em", "cc", "tele")}
        lines: list[Line] = []
        gold: list[str] = []
        new = rng.random() < 0.2
        abnormal = rng.random() < 0.3
        finding: Problem | None = None
        if abnormal:
            opts = [c for c in ("obesity", "elevated_bp", "prediabetes", "vitd", "peds_obesity", "hld", "anemia", "acne", "atopic")
                    if self._fits(self.k.concepts[c], age, sex)]
            if opts:
                finding = self._problem(rng, self.k.concepts[_pick(rng, opts)], family, fy, ctx)
            abnormal = finding is not None
        if age < 18:
            zcode = "Z00.121" if abnormal else "Z00.129"
            words = CHILD_WORDS[sex]
            age_child = f"{rng.randint(2, 11)}-month-old" if age == 0 else f"{age}-year-old"
            intro = Spec(_pick(rng, T["well_child_intro"][family]), [], {"age_child": age_child, "sexw": _pick(rng, words)})
            exam_text = ("well child exam with abnormal findings" if abnormal else "well child exam, normal") if family == "A" else (
                "routine child health check, abnormal finding noted" if abnormal else "routine child health check without abnormality")
        elif specialty == "obgyn" and age >= 65:
            # Medicare screening pelvic exam and Pap (G0101/Q0091): Z12.4, not the routine gyn exam code
            zcode = "Z12.4"
            intro = Spec(_pick(rng, T["preventive_intro"][family]), [], {"age": age, "sexw": _pick(rng, SEX_WORDS[family][sex])})
            exam_text = "screening for cervical cancer, Pap collected" if family == "A" else "cervical cytology screening visit"
        elif specialty == "obgyn":
            zcode = "Z01.411" if abnormal else "Z01.419"
            intro = Spec(_pick(rng, T["preventive_intro"][family]), [], {"age": age, "sexw": _pick(rng, SEX_WORDS[family][sex])})
            exam_text = ("annual gynecological exam with abnormal findings" if abnormal else "annual gynecological exam, normal") if family == "A" else (
                "routine well-woman exam, abnormal finding" if abnormal else "routine well-woman exam without abnormality")
        else:
            zcode = "Z00.01" if abnormal else "Z00.00"
            intro = Spec(_pick(rng, T["preventive_intro"][family]), [], {"age": age, "sexw": _pick(rng, SEX_WORDS[family][sex])})
            exam_text = _pick(rng, T["preventive_abnormal" if abnormal else "preventive_normal"][family])
        gold.append(zcode)
        specs["hpi"].append(intro)
        specs["assessment"].append(Spec("{m}", [Mention(exam_text, (zcode,))]))
        if finding:
            gold.extend(c for c in finding.own if c not in gold)
            specs["assessment"].append(Spec(_pick(rng, T["assess"][family]), [Mention(finding.text, tuple(finding.codes))], {"plan": _pick(rng, T["plan_chronic"][family])}))
            if finding.concept.extra.get("bmi"):
                self._bmi(rng, finding, family, specs, gold, fy)
        # E/M: AWV for Medicare, or preventive code by age band
        medicare = age >= 65 and specialty != "obgyn"
        if medicare and rng.random() < 0.6:
            code = "G0438" if new else "G0439"
            text = ("initial annual wellness visit" if new else "subsequent annual wellness visit") if family == "A" else (
                "Medicare wellness visit (first)" if new else "Medicare wellness visit (repeat)")
            tags.add("awv")
        elif specialty == "obgyn" and age >= 65:
            code = "G0101"
            text = self._pname(rng, "G0101", family)
        else:
            table = PREV_NEW if new else PREV_EST
            code = [c for lo, c in table if age >= lo][-1]
            text = ("new patient preventive visit" if new else "established patient preventive visit") if family == "A" else (
                "comprehensive preventive evaluation, first time with us" if new else "periodic comprehensive preventive reevaluation")
            tags.add("preventive_em")
        specs["em"].append(Spec("{m}.", [Mention(text[0].upper() + text[1:], (code,))]))
        lines.append(Line(code, [], 1, gold[:4], text, "em"))
        # screenings, vaccines, labs
        if age < 18:
            for scode, lo, hi in (("96110", 0, 3), ("99173", 3, 17), ("92551", 4, 17), ("96127", 12, 17), ("96161", 0, 0)):
                if lo <= age <= hi and rng.random() < 0.6:
                    st = self._pname(rng, scode, family)
                    specs["procedures"].append(Spec(_pick(rng, T["proc_done"][family]), [Mention(st, (scode,))]))
                    lines.append(Line(scode, [], 1, [zcode], st, "screen"))
            keys = {0: ["dtap_combo", "hib", "pcv", "rota"], 1: ["mmr", "var", "hepa"], 4: ["dtap", "ipv", "mmr", "var"],
                    11: ["tdap", "hpv", "mening"], 16: ["mening", "menb"], 17: ["flu"]}
            vk = keys.get(age) or (["flu"] if rng.random() < 0.5 else [])
            if vk:
                self._vaccines(rng, vk[: rng.randint(1, len(vk))], age, day, family, lines, specs["procedures"], tags, ctx, gold)
        else:
            if specialty != "obgyn" and rng.random() < 0.5:
                scode = "G0444" if (medicare and code == "G0439") else "96127"
                st = self._pname(rng, scode, family)
                if "Z13.31" not in gold and scode == "96127":
                    gold.append("Z13.31")
                specs["procedures"].append(Spec(_pick(rng, T["proc_done"][family]), [Mention(st, (scode,) + (("Z13.31",) if scode == "96127" else ()))]))
                lines.append(Line(scode, [], 1, [zcode] + (["Z13.31"] if scode == "96127" else []), st, "screen"))
            if specialty == "obgyn":
                if age >= 65:
                    st = self._pname(rng, "Q0091", family)
                    specs["procedures"].append(Spec(_pick(rng, T["proc_done"][family]), [Mention(st, ("Q0091",))]))
                    lines.append(Line("Q0091", [], 1, [zcode], st, "obgyn"))
                elif 21 <= age <= 65 and rng.random() < 0.5:
                    st = self._pname(rng, "87624", family)
                    specs["procedures"].append(Spec(_pick(rng, T["lab_drawn"][family]), [Mention(st, ("87624",))]))
                    lines.append(Line("87624", [], 1, [zcode], st, "lab"))
            if rng.random() < 0.35 and age < 65:
                vkeys = ["flu"] if day.month in (9, 10, 11, 12, 1, 2, 3) else []
                vkeys += [k for k in (["tdap"] if rng.random() < 0.3 else []) + (["zoster"] if age >= 50 and rng.random() < 0.4 else [])]
                if vkeys:
                    self._vaccines(rng, vkeys, age, day, family, lines, specs["procedures"], tags, ctx, gold)
            elif age >= 65 and rng.random() < 0.35:
                vkeys = (["flu"] if day.month in (9, 10, 11, 12, 1, 2, 3) else []) + (["pneumo"] if rng.random() < 0.5 else [])
                if vkeys:
                    self._vaccines(rng, vkeys, age, day, family, lines, specs["procedures"], tags, ctx, gold)
            if rng.random() < 0.4 and age >= 20:
                screens = [("80061", "Z13.220"), ("83036", "Z13.1")]
                drawn = []
                for lab, z in screens[: rng.randint(1, 2)]:
                    if _valid_icd(z, fy) and _valid_proc(lab, day):
                        if z not in gold:
                            gold.append(z)
                        lt = self._pname(rng, lab, family)
                        specs["procedures"].append(Spec(_pick(rng, T["lab_drawn"][family]), [Mention(lt, (lab, z))]))
                        lines.append(Line(lab, [], 1, [z], lt, "lab"))
                        drawn.append(z)
                if drawn:
                    vp = self._pname(rng, "36415", family)
                    specs["procedures"].append(Spec("Specimen collection: {m}.", [Mention(vp, ("36415",))]))
                    lines.append(Line("36415", [], 1, drawn, vp, "lab"))
            smoker = rng.random() < 0.12 and age >= 18
            if smoker and _valid_icd("F17.210", fy):
                gold.append("F17.210")
                code_c = "99406" if rng.random() < 0.6 else "99407"
                mins = rng.randint(4, 10) if code_c == "99406" else rng.randint(11, 20)
                st = f"smoking cessation counseling, {mins} minutes" if family == "A" else f"{mins} min spent on tobacco cessation counseling"
                specs["plan"].append(Spec("Current every-day smoker ({m}); " + ("counseled: {m}." if True else ""),
                                          [Mention("nicotine dependence, cigarettes" if family == "A" else "cigarette nicotine dependence", ("F17.210",)),
                                           Mention(st, (code_c,))]))
                lines.append(Line(code_c, [], 1, ["F17.210"], st, "counsel"))
        # separately identifiable problem with modifier 25
        if rng.random() < 0.25 and age >= 1:
            sp_opts = [c for c in self.k.by_specialty.get("family_medicine" if age >= 18 else "pediatrics", []) if self._fits(c, age, sex) and c.role in ("chronic", "acute")]
            if sp_opts:
                pc = rng.choices(sp_opts, weights=[c.weight for c in sp_opts])[0]
                prob = self._problem(rng, pc, family, fy, ctx)
                if prob and not any(c in gold for c in prob.own) and not any(_excludes1(a, b) for a in prob.own for b in gold):
                    gold.extend(prob.own)
                    level = rng.choice([2, 3, 3, 4])
                    minutes = rng.randint(*TIME_EST[level])
                    pcode = E_M_EST[level]
                    specs["assessment"].append(Spec(_pick(rng, T["separate_em"][family]), [Mention(prob.text, tuple(prob.codes))]))
                    sent = _pick(rng, T["em_time"][family]).format(minutes=minutes)
                    specs["em"].append(Spec("{m}", [Mention(("Problem-oriented portion: " if family == "A" else "Separate problem visit - ") + sent[0].lower() + sent[1:], (pcode,))]))
                    lines.insert(1, Line(pcode, ["25"], 1, prob.own[:4], "", "em"))
                    tags.add("modifier_25")
        if len(gold) > 12:
            return None
        # history etc
        self._common_sections(rng, specs, family, age, sex, gold, [], tags)
        specs["vitals"].append(self._vitals(rng, family, None, age))
        lines = self._ptp(lines, day)
        return specs, gold, lines, "office"

    def _bmi(self, rng: random.Random, p: Problem, family: str, specs: dict[str, list[Spec]], gold: list[str], fy: int) -> None:
        v = p.variant.value
        ranges = {"c1": (30.0, 34.9), "c2": (35.0, 39.9), "c3": (40.0, 49.9), "morbid": (40.0, 54.9), "unspec": (30.0, 39.9)}
        lo, hi = ranges.get(v, (30.0, 39.9))
        bmi = round(rng.uniform(lo, hi), 1)
        code = _bmi_code(bmi)
        if code and _valid_icd(code, fy) and code not in gold:
            gold.append(code)
            specs["vitals"].append(Spec(_pick(rng, ("{m}.", "Measured {m}.")) if family == "A" else "Anthropometrics: {m}.",
                                        [Mention(f"BMI {bmi}" if family == "A" else f"body mass index {bmi} kg/m2", (code,))]))

    # ---- sections ----------------------------------------------------------------------
    def _sections(self, rng: random.Random, kind: str, specialty: str, problems: list[Problem], uncertain: list[tuple[str, Problem]],
                  gold: list[str], age: int, sex: str, family: str, tags: set[str], ctx: dict[str, Any]) -> dict[str, list[Spec]]:
        specs: dict[str, list[Spec]] = {k: [] for k in ("cc", "tele", "hpi", "pmh", "meds", "allergies", "social", "family", "ros", "vitals", "exam", "results", "assessment", "procedures", "plan", "em")}
        primary = problems[0]
        sexw = _pick(rng, SEX_WORDS[family][sex]) if age >= 18 else _pick(rng, CHILD_WORDS[sex])
        pm = Mention(primary.text, tuple(primary.codes))
        if ctx.get("asc_override"):
            specs["hpi"].append(Spec("{age}-year-old {sexw} presenting for scheduled procedure.", [], {"age": age, "sexw": sexw}))
        elif primary.role == "injury":
            ep = ctx.get("ep", "A")
            ep_a = "for initial evaluation" if ep == "A" else "for follow-up (subsequent visit)"
            ep_b = "at first presentation" if ep == "A" else "at a routine follow-up visit, healing as expected"
            specs["hpi"].append(Spec(_pick(rng, T["open_injury"][family]), [pm], {"age": age, "sexw": sexw, "when": _pick(rng, ("yesterday", "2 days ago", "this morning", "last week")) if ep == "A" else "3 weeks ago", "episode_a": ep_a, "episode_b": ep_b}))
            tags.add("episode_of_care")
        else:
            specs["hpi"].append(Spec(_pick(rng, T["open_problem"][family]), [pm], {"age": age, "sexw": sexw}))
        specs["cc"].append(Spec("{m}", [Mention(primary.text[:1].upper() + primary.text[1:] if family == "A" else primary.text)]))
        if primary.role == "pregnancy":
            g = 1 if primary.variant.value == "first" else rng.randint(2, 5)
            specs["hpi"].append(Spec(_pick(rng, T["prenatal"][family]), [], {"g": g, "p": g - 1, "weeks": ctx["weeks"], "days": rng.randint(0, 6)}))
            if ctx.get("z3a"):
                specs["hpi"][-1] = Spec(specs["hpi"][-1].tpl.replace("{weeks}w{days}d", "{m}").replace("{weeks} weeks {days} days", "{m}").replace("{weeks}+{days} weeks", "{m}"),
                                        [Mention(f"{ctx['weeks']}w{rng.randint(0, 6)}d" if family == "A" else f"{ctx['weeks']} weeks", (ctx["z3a"],))], specs["hpi"][-1].vars)
        bank = T["hpi_psych" if specialty == "mental_health" else "hpi_detail"][family]
        for tpl_d in rng.sample(bank, min(len(bank), rng.randint(2, 4))):
            specs["hpi"].append(Spec(tpl_d, [], {"dur": _pick(rng, ("3 days", "1 week", "2 weeks", "several months", "a year", "10 days")),
                                                                                "course": _pick(rng, ("worsening", "stable", "improving", "intermittent")), "pain": rng.randint(2, 9)}))
        for p in problems[1:]:
            if p.role in ("history", "status"):
                continue
            if any(p is u[1] for u in uncertain):
                continue
            specs["hpi"].append(Spec(_pick(rng, T["hpi_comorbid"][family]), [Mention(p.text, tuple(p.codes))]))
        for _dx, sp in uncertain:
            specs["hpi"].append(Spec("Also reports {m}.", [Mention(sp.text, tuple(sp.codes))]))
        # assessment lines in gold order
        n = 0
        for p in problems:
            if p.role in ("history", "status"):
                specs["assessment"].append(Spec(_pick(rng, T["history_code"][family]), [Mention(p.text, tuple(p.codes))]))
                continue
            if not p.own and not p.codes:
                continue
            n += 1
            plan = _pick(rng, T["plan_injury" if p.role == "injury" else "plan_chronic" if p.role in ("chronic", "derived") else "plan_acute"][family])
            unc = next((dx for dx, sp in uncertain if sp is p), None)
            if unc:
                plan = _pick(rng, T["uncertain"][family]).format(dx=unc) + " " + plan
            tpl = _pick(rng, T["assess"][family]) if kind not in ("asc", "procedure") else "{m}"
            prefix = f"{n}. " if family == "A" else ""
            specs["assessment"].append(Spec(prefix + tpl, [Mention(p.text, tuple(p.codes))], {"plan": plan}))
        if ctx.get("z3a") and primary.role == "pregnancy" and family == "B":
            pass
        # medications, incl. long-term drug status codes for diabetes
        meds: list[Mention] = []
        for p in problems:
            if p.concept.meds and rng.random() < 0.85:
                med = _pick(rng, p.concept.meds)
                codes: tuple[str, ...] = ()
                if p.concept.id == "t2dm":
                    status = "Z79.4" if "insulin" in med else "Z79.85" if ("glutide" in med) else "Z79.84"
                    if status not in gold:
                        gold.append(status)
                        tags.add("long_term_drug_status")
                    codes = (status,)
                meds.append(Mention(med, codes))
        filler = ["aspirin 81 mg daily", "multivitamin daily", "acetaminophen 500 mg PRN", "omega-3 1 g daily", "ibuprofen 400 mg PRN"]
        for extra_med in rng.sample(filler, rng.randint(0, 2)):
            meds.append(Mention(extra_med))
        if meds:
            specs["meds"].append(Spec(_pick(rng, T["meds_intro"][family]).replace("{meds}", ", ".join(["{m}"] * len(meds))), meds))
        self._common_sections(rng, specs, family, age, sex, gold, problems, tags)
        if kind not in ("telehealth", "psych") or family == "B":
            specs["vitals"].append(self._vitals(rng, family, problems, age))
            for p in problems:
                if p.concept.extra.get("bmi") and age >= 18:
                    self._bmi(rng, p, family, specs, gold, fiscal_year_of(ctx))
        for edu in rng.sample(T["education"][family], rng.randint(1, 2)):
            specs["plan"].append(Spec(edu))
        if kind in ("procedure", "asc") or any(ln for ln in specs.get("procedures", [])):
            pass
        specs["plan"].append(Spec(_pick(rng, T["followup"][family]), [], {"fu": _pick(rng, ("2 weeks", "4-6 weeks", "3 months", "6 months", "1 year"))}))
        if kind == "psych":
            specs["exam"] = [Spec(_pick(rng, ("Appearance appropriate, speech normal rate, mood '{mood}', affect congruent, thought process linear, no SI/HI.",
                                               "MSE: alert, cooperative, mood {mood}, affect restricted, insight fair, judgment fair.")) if family == "A" else
                                  "Presentation: engaged; mood described as {mood}; no evidence of psychosis; denies harm to self/others.", [], {"mood": _pick(rng, ("anxious", "down", "okay", "better", "tired"))})]
        return specs

    def _common_sections(self, rng: random.Random, specs: dict[str, list[Spec]], family: str, age: int, sex: str, gold: list[str],
                         problems: list[Problem], tags: set[str]) -> None:
        d = self.k.distractors
        gold_set = set(gold)
        # negated review of systems: never coded
        neg = list(d["negated"][family])
        rng.shuffle(neg)
        for term in neg[: rng.randint(2, 5)]:
            specs["ros"].append(Spec(_pick(rng, T["negation"][family]), [Mention(term)]))
            if term in CODABLE_SYMPTOMS:
                tags.add("negation")
        specs["ros"].append(Spec(_pick(rng, T["ros_normal"][family])))
        if rng.random() < 0.35:
            term = _pick(rng, d["ruled_out"][family])
            tpl = _pick(rng, T["ruled_out"][family])
            specs["results"].append(Spec(tpl, [Mention(term[:1].upper() + term[1:] if tpl.startswith("{m}") else term)]))
            tags.add("ruled_out")
        # family history mentions (not coded unless a Z80-Z84 code is in the gold)
        if rng.random() < 0.6:
            rel = _pick(rng, RELATIVES[family])
            specs["family"].append(Spec(_pick(rng, T["family"][family]), [Mention(_pick(rng, d["family"][family]))], {"rel": rel}))
            tags.add("family_history")
        if rng.random() < 0.5 and age >= 18:
            specs["pmh"].append(Spec(_pick(rng, T["resolved"][family]), [Mention(_pick(rng, d["resolved"][family]))]))
            tags.add("historical")
        specs["allergies"].append(Spec(_pick(rng, T["allergies"][family])))
        if rng.random() < 0.6 and age >= 18:
            specs["social"].append(Spec(_pick(rng, T["social"][family])))
        exam = list(T["exam"][family])
        rng.shuffle(exam)
        for s in exam[: rng.randint(3, 7)]:
            specs["exam"].append(Spec(s))
        if rng.random() < 0.3 and any(g.startswith(("E11", "N18", "I1", "E78")) for g in gold_set):
            specs["results"].append(Spec(_pick(rng, T["labs_result"][family]), [], {"a1c": round(rng.uniform(5.8, 10.5), 1), "cr": round(rng.uniform(0.7, 2.4), 2),
                                                                                   "ldl": rng.randint(60, 190), "egfr": rng.randint(18, 95), "k": round(rng.uniform(3.4, 5.3), 1)}))
        if rng.random() < 0.2 and any(p.role == "chronic" for p in problems):
            tags.add("ruled_out")
            specs["results"].append(Spec("No evidence of {m} on today's exam." if family == "A" else "Exam not suggestive of {m}.", [Mention(_pick(rng, d["ruled_out"][family]))]))

    def _vitals(self, rng: random.Random, family: str, problems: list[Problem] | None, age: int = 40) -> Spec:
        htn = bool(problems and any(p.concept.id == "htn" for p in problems))
        sbp = rng.randint(132, 162) if htn else rng.randint(104, 136)
        return Spec(_pick(rng, T["vitals"][family]), [], {"bp": f"{sbp}/{rng.randint(62, 94)}", "hr": rng.randint(58, 104), "rr": rng.randint(12, 20),
                                                           "temp": round(rng.uniform(97.2, 100.8), 1), "spo2": rng.randint(92, 100),
                                                           "wt": rng.randint(120, 290) if age >= 16 else max(8, int(age * 6.5 + rng.randint(7, 20)))})

    # ---- rendering ---------------------------------------------------------------------
    def _render(self, rng: random.Random, layout: str, specs: dict[str, list[Spec]], family: str, extra: int) -> tuple[str, dict[str, list[dict[str, Any]]], bool]:
        r = Renderer(random.Random(rng.random()), misspell=0.022)
        lay = LAYOUTS[layout]
        filler = list(T["exam"][family])
        first = True
        for header, keys in lay["sections"]:  # type: ignore[attr-defined]
            body = [s for k in keys for s in specs.get(k, [])]
            has_exam = any("exam" in ks for _h, ks in lay["sections"])  # type: ignore[attr-defined]
            if extra and ("exam" in keys or (first and not has_exam)):
                body += [Spec(s) for s in filler[: 3 * extra]]
            if not body and header.endswith(":"):
                continue
            if not first:
                r.add("\n\n", misspell=False)
            first = False
            r.add(header, misspell=False)
            listing = any(k == "assessment" for k in keys)
            for i, s in enumerate(body):
                sep = "\n" if (listing and i > 0) or i == 0 else " "
                if header.endswith("-") and i == 0:
                    sep = " "
                r.add(sep, misspell=False)
                r.sentence(s)
        return r.text(), r.evidence, r.misspelled_mention


def fiscal_year_of(ctx: dict[str, Any]) -> int:
    return int(ctx.get("fy", 2026))


@lru_cache(maxsize=2)
def _policy_codes(name: str) -> Any:
    """A code list from the validator's policy file (`laterality_codes`,
    `global_period_procedures`); empty when the validator's rule files are absent."""
    try:
        from validator.ruleset import load_ruleset

        return getattr(load_ruleset().policy, name)
    except Exception:  # the validator's rule files are optional for the generator
        return ()


def has_global_period(code: str) -> bool:
    """Procedures with a global surgical period (a same-day E/M needs modifier 25/57)."""
    return code in _policy_codes("global_period_procedures")


@lru_cache(maxsize=5_000)
def needs_laterality(code: str) -> bool:
    """RT/LT/50 required: the CPT catalog's laterality flag or the validator policy's list."""
    entry = load_codesets().procedures.catalog.get(code)
    return bool(entry and entry.laterality) or code in _policy_codes("laterality_codes")


@lru_cache(maxsize=50_000)
def _age_ok(code: str, day: dt.date, age: int) -> bool:
    span = load_codesets().procedures.span_on(code, day)
    return span is not None and span.age_lo <= age <= span.age_hi


# negated terms that name a codable sign/symptom (a naive coder would code them)
CODABLE_SYMPTOMS = frozenset({
    "chest pain", "shortness of breath", "fever", "nausea", "vomiting", "diarrhea", "dysuria", "hematuria", "headache",
    "palpitations", "syncope", "weight loss", "rash", "abdominal pain", "cough", "wheezing", "leg swelling", "melena",
    "hemoptysis", "orthopnea", "dysphagia", "polyuria", "polydipsia", "tinnitus", "hematochezia", "blood in stool",
    "photophobia", "bruising", "numbness", "weakness", "night sweats", "chills", "joint swelling",
})


_EM_RE = re.compile(r"^99(?:20[2-5]|21[1-5]|38[1-7]|39[1-7])$")


def is_em(code: str) -> bool:
    """Office/outpatient and preventive E/M codes (the codes modifier 25 applies to)."""
    return bool(_EM_RE.match(code)) or code in ("G0438", "G0439")


def _fix_dots(code: str) -> str:
    k = icd_key(code)
    return k if len(k) <= 3 else f"{k[:3]}.{k[3:]}"


def _bmi_code(bmi: float) -> str | None:
    if bmi < 30:
        return None
    if bmi < 40:
        return f"Z68.{int(bmi)}"
    for hi, code in ((45, "Z68.41"), (50, "Z68.42"), (60, "Z68.43"), (70, "Z68.44")):
        if bmi < hi:
            return code
    return "Z68.45"


def generate(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n notes for a seed; deterministic and prefix-stable."""
    if n < 0:
        raise ValueError("n must be >= 0")
    gen = NoteGenerator(seed)
    return [gen.note(i) for i in range(n)]
