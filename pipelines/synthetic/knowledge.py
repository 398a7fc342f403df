"""The generator's knowledge table: hand-written conditions and procedures (YAML data files in
`knowledge/`) plus a long tail of conditions derived from the ICD-10-CM code set itself.

A *concept* is one clinical condition the note can document (e.g. "knee osteoarthritis"), with
one or more variants that select the specific code from documented attributes (laterality,
severity, type, stage, episode of care, trimester). Each concept's phrasings are split into
family A (train/dev) and family B (test only).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from codesets import load_codesets
from codesets.normalize import dotted

KNOWLEDGE_DIR = Path(__file__).with_name("knowledge")
FAMILIES = ("A", "B")
FISCAL_YEARS = (2024, 2025, 2026)

LAT_PHRASES: dict[str, dict[str, list[str]]] = {
    "R": {"A": ["right"], "B": ["right"]},
    "L": {"A": ["left"], "B": ["left"]},
    "B": {"A": ["bilateral"], "B": ["bilateral"]},
}


@dataclass(frozen=True, slots=True)
class Variant:
    """One way a concept is coded: the attribute value and the codes it selects."""

    value: str
    codes: tuple[str, ...]  # dotted; may hold "{tri}" (trimester from weeks) placeholders
    phrases: dict[str, tuple[str, ...]]  # family -> attribute phrasings ("" allowed)


@dataclass(slots=True)
class Concept:
    id: str
    role: str
    specialties: tuple[str, ...]
    age: tuple[int, int]
    sex: str  # "" any, "F", "M"
    weight: float
    names: dict[str, tuple[str, ...]]  # family -> phrasings with optional "{v}"
    variants: tuple[Variant, ...]
    attr: str  # attribute name that selects the variant ("" when a single code)
    episode: bool = False
    fallback: dict[str, str] = field(default_factory=dict)
    meds: tuple[str, ...] = ()
    labs: tuple[str, ...] = ()
    procs: tuple[str, ...] = ()
    lat_proc: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # bmi, excision, destruction, repair, biopsy
    derived: bool = False


@dataclass(frozen=True, slots=True)
class Procedure:
    code: str
    cat: str
    names: dict[str, tuple[str, ...]]
    dx: tuple[str, ...]  # dotted ICD prefixes; "*" any
    minor: bool = False
    lat: bool = False
    units: int = 1
    dose: float = 0.0
    addon: str = ""
    valid_from: str = ""
    valid_until: str = ""
    age: tuple[int, int] = (0, 124)
    components: int = 1
    key: str = ""

    def supports(self, icd: str) -> bool:
        return any(p == "*" or icd.startswith(p) for p in self.dx)


@dataclass(slots=True)
class Knowledge:
    concepts: dict[str, Concept]
    procedures: dict[str, Procedure]
    vaccines: list[Procedure]
    uncertain: list[dict[str, Any]]
    distractors: dict[str, dict[str, list[str]]]
    by_specialty: dict[str, list[Concept]]
    derived_by_specialty: dict[str, list[Concept]]
    catalog_by_specialty: dict[str, list[Any]] = field(default_factory=dict)


def _fam(d: Any) -> dict[str, tuple[str, ...]]:
    if isinstance(d, list):
        return {"A": tuple(d), "B": tuple(d)}
    return {f: tuple(d.get(f, []) or d.get("A", [])) for f in FAMILIES}


def _codes(x: Any) -> tuple[str, ...]:
    return tuple(x) if isinstance(x, list) else (str(x),)


def _concept(row: dict[str, Any]) -> Concept:
    names = _fam(row["names"])
    attr = row.get("by", "")
    variants: list[Variant] = []
    if "code" in row:
        variants.append(Variant("-", _codes(row["code"]), {f: ("",) for f in FAMILIES}))
    else:
        phr = row.get("phr", {})
        for value, codes in row["codes"].items():
            value = str(value)
            if value in phr:
                phrases = _fam(phr[value])
            elif attr == "lat" and value in LAT_PHRASES:
                phrases = {f: tuple(LAT_PHRASES[value][f]) for f in FAMILIES}
            else:
                phrases = {f: (value,) for f in FAMILIES}
            variants.append(Variant(value, _codes(codes), phrases))
    extra: dict[str, Any] = {k: row[k] for k in ("bmi", "bmi_peds", "excision", "destruction", "repair", "biopsy") if k in row}
    return Concept(
        id=row["id"],
        role=row.get("role", "chronic"),
        specialties=tuple(row.get("sp", [])),
        age=tuple(row.get("age", [0, 100])),
        sex=row.get("sex", ""),
        weight=float(row.get("w", 1.0)),
        names=names,
        variants=tuple(variants),
        attr="" if attr == "none" else attr,
        episode=bool(row.get("ep", False)),
        fallback=dict(row.get("fallback", {}) or {}),
        meds=tuple(row.get("meds", [])),
        labs=tuple(row.get("labs", [])),
        procs=tuple(row.get("procs", [])),
        lat_proc=bool(row.get("lat_proc", False)),
        extra=extra,
    )


def _procedure(row: dict[str, Any]) -> Procedure:
    return Procedure(
        code=str(row["code"]),
        cat=row.get("cat", "vaccine"),
        names=_fam(row["names"]),
        dx=tuple(str(x) for x in row.get("dx", ["Z23"])),
        minor=bool(row.get("minor", False)),
        lat=bool(row.get("lat", False)),
        units=int(row.get("units", 1)),
        dose=float(row.get("dose", 0) or 0),
        addon=str(row.get("addon", "")),
        valid_from=str(row.get("from", "")),
        valid_until=str(row.get("until", "")),
        age=(int(row.get("age", [0, 124])[0]), int(row.get("age", [0, 124])[1])),
        components=int(row.get("components", 1)),
        key=str(row.get("key", "")),
    )


# ---- derived long tail ----------------------------------------------------------------
# Chapter / block prefixes considered outpatient-plausible, with the specialties that see them
# and the share of eligible codes taken into the tail (deterministic by code hash).
DERIVED_RULES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("B0", ("dermatology", "pediatrics"), 60),
    ("B35", ("dermatology",), 100),
    ("B36", ("dermatology",), 100),
    ("D1", ("surgery_center", "dermatology"), 25),
    ("D2", ("dermatology", "surgery_center", "obgyn"), 40),
    ("D5", ("internal_medicine",), 60),
    ("D6", ("internal_medicine",), 60),
    ("D7", ("internal_medicine",), 40),
    ("E0", ("endocrinology",), 70),
    ("E1", ("endocrinology", "internal_medicine"), 30),
    ("E2", ("endocrinology",), 70),
    ("E3", ("endocrinology",), 60),
    ("E5", ("internal_medicine", "family_medicine"), 70),
    ("E6", ("endocrinology", "internal_medicine"), 50),
    ("E7", ("endocrinology", "internal_medicine"), 40),
    ("E8", ("internal_medicine", "endocrinology"), 50),
    ("F", ("mental_health", "telehealth"), 45),
    ("G2", ("internal_medicine",), 40),
    ("G4", ("internal_medicine", "family_medicine"), 45),
    ("G5", ("orthopedics", "pain_management"), 30),
    ("G6", ("pain_management", "internal_medicine"), 40),
    ("G8", ("pain_management",), 60),
    ("H0", ("family_medicine", "urgent_care", "pediatrics"), 18),
    ("H1", ("family_medicine", "urgent_care"), 18),
    ("H2", ("surgery_center", "family_medicine"), 15),
    ("H4", ("family_medicine",), 10),
    ("H5", ("family_medicine",), 15),
    ("H6", ("family_medicine", "urgent_care", "pediatrics"), 30),
    ("H7", ("family_medicine",), 30),
    ("H8", ("family_medicine",), 30),
    ("H9", ("family_medicine",), 30),
    ("I0", ("cardiology",), 40),
    ("I1", ("cardiology",), 60),
    ("I2", ("cardiology",), 30),
    ("I3", ("cardiology",), 40),
    ("I4", ("cardiology",), 40),
    ("I5", ("cardiology",), 40),
    ("I7", ("cardiology",), 12),
    ("I8", ("internal_medicine", "cardiology"), 15),
    ("I9", ("cardiology",), 30),
    ("J0", ("urgent_care", "telehealth", "pediatrics"), 70),
    ("J1", ("urgent_care", "pulmonology"), 50),
    ("J2", ("urgent_care", "pulmonology"), 70),
    ("J3", ("pulmonology", "family_medicine"), 50),
    ("J4", ("pulmonology",), 60),
    ("J6", ("pulmonology",), 40),
    ("J8", ("pulmonology",), 40),
    ("J9", ("pulmonology",), 40),
    ("K2", ("internal_medicine", "surgery_center"), 40),
    ("K3", ("internal_medicine", "surgery_center"), 40),
    ("K4", ("surgery_center",), 40),
    ("K5", ("internal_medicine", "surgery_center"), 40),
    ("K6", ("surgery_center", "internal_medicine"), 40),
    ("K7", ("internal_medicine",), 30),
    ("K8", ("surgery_center", "internal_medicine"), 40),
    ("K9", ("internal_medicine",), 30),
    ("L0", ("dermatology", "urgent_care"), 35),
    ("L1", ("dermatology",), 50),
    ("L2", ("dermatology",), 50),
    ("L3", ("dermatology",), 50),
    ("L4", ("dermatology",), 50),
    ("L5", ("dermatology",), 50),
    ("L6", ("dermatology",), 50),
    ("L7", ("dermatology",), 50),
    ("L8", ("dermatology",), 35),
    ("L9", ("dermatology",), 35),
    ("M0", ("internal_medicine", "orthopedics"), 6),
    ("M1", ("orthopedics",), 10),
    ("M2", ("orthopedics",), 10),
    ("M3", ("internal_medicine",), 20),
    ("M4", ("pain_management", "orthopedics"), 25),
    ("M5", ("pain_management", "orthopedics"), 25),
    ("M6", ("orthopedics",), 6),
    ("M7", ("orthopedics", "pain_management"), 12),
    ("M8", ("orthopedics", "endocrinology"), 3),
    ("M9", ("orthopedics",), 10),
    ("N0", ("internal_medicine",), 30),
    ("N1", ("internal_medicine",), 40),
    ("N2", ("internal_medicine", "urgent_care"), 40),
    ("N3", ("internal_medicine", "urgent_care"), 40),
    ("N4", ("family_medicine", "internal_medicine"), 40),
    ("N5", ("family_medicine",), 40),
    ("N6", ("obgyn",), 50),
    ("N7", ("obgyn",), 50),
    ("N8", ("obgyn",), 40),
    ("N9", ("obgyn",), 50),
    ("R0", ("urgent_care", "family_medicine", "telehealth"), 60),
    ("R1", ("urgent_care", "family_medicine"), 60),
    ("R2", ("urgent_care", "family_medicine"), 60),
    ("R3", ("urgent_care", "internal_medicine"), 60),
    ("R4", ("family_medicine", "internal_medicine"), 60),
    ("R5", ("family_medicine", "internal_medicine", "telehealth"), 60),
    ("R6", ("family_medicine", "internal_medicine"), 60),
    ("R7", ("internal_medicine", "family_medicine"), 40),
    ("R9", ("internal_medicine",), 30),
    ("S0", ("urgent_care",), 3),
    ("S1", ("urgent_care",), 3),
    ("S2", ("urgent_care",), 3),
    ("S3", ("urgent_care", "orthopedics"), 2),
    ("S4", ("urgent_care", "orthopedics"), 2),
    ("S5", ("urgent_care", "orthopedics"), 1),
    ("S6", ("urgent_care", "orthopedics"), 1),
    ("S7", ("urgent_care", "orthopedics"), 2),
    ("S8", ("urgent_care", "orthopedics"), 1),
    ("S9", ("urgent_care", "orthopedics"), 2),
)

_EXCLUDE_WORDS = re.compile(
    r"\b(other|elsewhere|NEC|sequela|nonunion|malunion|delayed healing|open fracture|"
    r"pregnancy|childbirth|puerperium|newborn|neonatal|drug|poisoning|adverse|underdosing|"
    r"complicating|coma|with hemorrhage|perinatal|in utero|fetus|congenital|type 1 diabetes|"
    r"type 2 diabetes|due to underlying condition|in remission|HIV|abortion|transplant)\b",
    re.IGNORECASE,
)
_EPISODE = re.compile(
    r",\s*(initial encounter(?: for closed fracture)?|subsequent encounter(?: for fracture with routine healing)?)$",
    re.IGNORECASE,
)
_FEMALE = re.compile(r"\b(female|ovar|uter|vagin|vulv|cervi[cx]|endometr|fallopian|menstru|menopaus|breast)", re.I)
_MALE = re.compile(r"\b(male|prostat|testi|scrot|penis|penile|epididym|spermat)", re.I)


def _share(code: str) -> int:
    return int(hashlib.sha1(code.encode()).hexdigest()[:6], 16) % 100


def _paraphrase_b(desc: str) -> str:
    """Family-B rendering of a code title: qualifier moved in front, shorthand."""
    d = desc
    if ", " in d:
        head, tail = d.split(", ", 1)
        if len(tail.split()) <= 4 and " with" not in tail:
            d = f"{tail} {head[0].lower() + head[1:]}"
    d = re.sub(r"\bwithout\b", "w/o", d)
    d = re.sub(r"\bwith\b", "w/", d)
    return d


EPONYMS = frozenset({"Raynaud", "Graves", "Hashimoto", "Bell", "Parkinson", "Alzheimer", "Meniere", "Tietze", "Baker",
                     "Dupuytren", "Morton", "Osgood-Schlatter", "Sjogren", "Cushing", "Addison", "Barrett", "Kawasaki",
                     "Hodgkin", "Paget", "Reiter", "Tourette", "Asperger", "Guillain-Barre", "Lyme", "Bowen", "Peyronie"})


def _clean_title(desc: str) -> str:
    d = re.sub(r",?\s*unspecified\b", "", desc, flags=re.I).strip(" ,")
    d = re.sub(r"^Unspecified\s+", "", d).strip()
    d = re.sub(r"\s+", " ", d)
    first = d.split(" ", 1)[0] if d else ""
    if d and not (len(d) > 1 and d[1].isupper()) and "'" not in first and first not in EPONYMS:
        d = d[0].lower() + d[1:]
    return d


def _safe_containers(icd: Any, key: str) -> list[str]:
    """Icd10cm.containers() with a cycle guard (some one-category blocks share the category id)."""
    out: list[str] = []
    struct = icd._structure
    item = struct.get(key[:3])
    parent = item[1] if item else ""
    while parent and parent not in out and parent != key[:3]:
        out.append(parent)
        node = struct.get(parent)
        parent = node[1] if node else ""
    return out


def _has_code_first(icd: Any, key: str) -> bool:
    notes = icd._notes
    hosts = [key, *icd.ancestors(key), *_safe_containers(icd, key)]
    return any(n.note_type == "codeFirst" for h in hosts for n in notes.get(h, ()))


def _derive(core_codes: set[str]) -> list[Concept]:
    cs = load_codesets()
    icd = cs.icd
    out: list[Concept] = []
    rules = sorted(DERIVED_RULES, key=lambda r: -len(r[0]))
    seen_bases: set[str] = set()
    for key in sorted(icd.codes):
        entry = icd.codes[key]
        if any(entry.flags.get(fy) != "B" for fy in FISCAL_YEARS):
            continue
        rule = next((r for r in rules if key.startswith(r[0])), None)
        if rule is None or dotted(key) in core_codes:
            continue
        _prefix, specialties, pct = rule
        desc = entry.description
        is_injury = key[0] == "S"
        if is_injury:
            if key[-1] not in "AD" or len(key) != 7:
                continue
            base = key[:-1]
            if base in seen_bases:
                continue
            if _share(base) >= pct:
                continue
            if not _EPISODE.search(desc):
                continue
            seen_bases.add(base)
        elif _share(key) >= pct:
            continue
        if _EXCLUDE_WORDS.search(desc) or len(desc) > 95 or "(" in desc or "[" in desc:
            continue
        mce = icd.mce(key)
        if mce.manifestation or mce.external_cause or mce.unacceptable_first_listed:
            continue
        if _has_code_first(icd, key):
            continue
        if is_injury:
            codes_ok = []
            for ch in "AD":
                k2 = key[:-1] + ch
                e2 = icd.codes.get(k2)
                if e2 and all(e2.flags.get(fy) == "B" for fy in FISCAL_YEARS):
                    codes_ok.append(ch)
            if "A" not in codes_ok:
                continue
            title = _EPISODE.sub("", icd.codes[key[:-1] + "A"].description)
            variants = tuple(Variant("-", (dotted(key[:-1]),), {f: ("",) for f in FAMILIES}) for _ in (0,))
        else:
            title = desc
            variants = (Variant("-", (dotted(key),), {f: ("",) for f in FAMILIES}),)
        clean = _clean_title(title)
        if len(clean) < 4:
            continue
        terms = [t for t in icd.inclusion_terms.get(key, []) if len(t) < 70 and "(" not in t]
        names_a = [clean] + [_clean_title(t) for t in terms[0::2]]
        names_b = [_clean_title(_paraphrase_b(title))] + [_clean_title(t) for t in terms[1::2]]
        sex = mce.sex
        if not sex:
            if _FEMALE.search(desc) and not _MALE.search(desc):
                sex = "F"
            elif _MALE.search(desc) and not _FEMALE.search(desc) and "female" not in desc.lower():
                sex = "M"
        lo, hi = max(mce.age_lo, 0), min(mce.age_hi, 95)
        if hi - lo < 2:
            continue
        role = "injury" if is_injury else ("symptom" if key[0] == "R" else "derived")
        out.append(
            Concept(
                id=f"icd:{dotted(key[:-1] if is_injury else key)}",
                role=role,
                specialties=specialties,
                age=(max(lo, 18) if key[0] in "IEMN" and lo < 18 and hi > 40 else lo, hi),
                sex=sex,
                weight=1.0,
                names={"A": tuple(dict.fromkeys(names_a)), "B": tuple(dict.fromkeys(names_b))},
                variants=variants,
                attr="",
                episode=is_injury,
                derived=True,
            )
        )
    return out


@lru_cache(maxsize=1)
def load_knowledge() -> Knowledge:
    with open(KNOWLEDGE_DIR / "conditions.yaml", encoding="utf-8") as fh:
        cond = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    with open(KNOWLEDGE_DIR / "procedures.yaml", encoding="utf-8") as fh:
        proc = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    concepts = {row["id"]: _concept(row) for row in cond["conditions"]}
    procedures = {str(r["code"]): _procedure(r) for r in proc["procedures"]}
    vaccines = [_procedure(r) for r in proc["vaccines"]]
    core_codes = {c for k in concepts.values() for v in k.variants for c in v.codes}
    derived = _derive(core_codes)
    for d in derived:
        concepts[d.id] = d
    by_sp: dict[str, list[Concept]] = {}
    der_sp: dict[str, list[Concept]] = {}
    for c in concepts.values():
        for sp in c.specialties:
            (der_sp if c.derived else by_sp).setdefault(sp, []).append(c)
    # the project's CPT catalog: extra lay phrasings for our procedures, and further in-office
    # services by specialty (X-rays, labs, in-office tests, splints, minor procedures)
    catalog = load_codesets().procedures.catalog
    for code, proc_entry in list(procedures.items()):
        entry = catalog.get(code)
        if entry and entry.synonyms:
            syn = list(entry.synonyms)
            procedures[code] = replace(proc_entry, names={
                "A": tuple(dict.fromkeys([*proc_entry.names["A"], *syn[0::2]])),
                "B": tuple(dict.fromkeys([*proc_entry.names["B"], *syn[1::2]])),
            })
    cat_sp: dict[str, list[Any]] = {}
    for entry in catalog.values():
        if entry.category not in CATALOG_CATEGORIES or entry.units_basis or entry.addon_primary or code_is_advanced_imaging(entry):
            continue
        for sp in entry.specialties or ("family_medicine",):
            cat_sp.setdefault(sp, []).append(entry)
    for sp in cat_sp:
        cat_sp[sp].sort(key=lambda e: e.code)
    return Knowledge(concepts, procedures, vaccines, cond["uncertain"], cond["distractors"], by_sp, der_sp, cat_sp)


CATALOG_CATEGORIES = {"lab", "imaging", "cardio", "pulm", "screening", "minor_surgery", "cast_splint", "joint_injection", "obgyn", "other"}


def code_is_advanced_imaging(entry: Any) -> bool:
    """CT, MRI, ultrasound and nuclear studies are done at imaging facilities, not billed by the office."""
    if entry.category != "imaging":
        return False
    text = " ".join(entry.synonyms).lower() + " " + entry.description.lower()
    return not any(w in text for w in ("x-ray", "xray", "radiograph", "film")) or any(
        w in text for w in (" ct", "mri", "ultrasound", "sonogra", "nuclear", "mammo", "dexa", "pet "))
