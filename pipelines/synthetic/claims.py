"""Synthetic claim cases for the validator (DESIGN.md 4.3 claim schema), deterministic from a seed.

    python -m pipelines.synthetic.claims --out data/synthetic/claims.jsonl [--seed 7] [--n-clean 120] [--per-fault 12]

Each line is a claim plus ``id``, ``scenario``, ``fault`` and ``expected_findings`` (the rule
ids the injected fault must raise; empty for clean claims). Claims are built from outpatient
visit scenarios whose codes are real (ICD-10-CM FY2025-FY2026, CPT/HCPCS valid in the CMS I/OCE
2024-10..2026-06) and whose pointers the medical-necessity table supports (validator.supports).
Correct coding decisions that depend on CMS data use it directly: modifier 25 on an E/M when a
same-day procedure has a global period or an NCCI PTP edit with it (cs.procedures.ptp_edit),
anatomic modifiers, telehealth modifier 95. Faults are then injected one per claim, each
family from real CMS data: a diagnosis that does not support the line, a code deleted for the
date of service (FY addenda), a header code, an NCCI pair without and with a bypass modifier,
an add-on without its primary, an Excludes1 pair (tabular notes), an MCE age conflict, a
manifestation or external-cause code first-listed, missing/excess/invalid pointers, more than
12 diagnoses, an E/M with a procedure and no 25, a telehealth line without 95, a missing RT/LT,
plus invalid codes, stale code sets and sex advisories.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesets import load_codesets
from codesets.normalize import icd_key
from validator import supports
from validator.ruleset import load_ruleset

DOS_FIRST = dt.date(2024, 10, 1)
DOS_LAST = dt.date(2026, 6, 30)  # newest I/OCE release covers to this date


@dataclass
class Line:
    code: str
    dx: list[str]
    modifiers: list[str] = field(default_factory=list)
    units: int = 1


@dataclass
class Case:
    scenario: str
    dx: list[str]
    lines: list[Line]
    age: int
    sex: str
    dos: dt.date
    setting: str = "office"
    pos: str = "11"
    fault: str = "clean"
    expected: list[str] = field(default_factory=list)
    raw_pointers: dict[int, list[str | int]] = field(default_factory=dict)  # line index -> pointers as given


# ---- scenarios (clean, correctly coded visits) -------------------------------------


def _em(rng: random.Random, new: bool = False) -> str:
    return rng.choice(["99203", "99204"] if new else ["99212", "99213", "99214", "99214", "99215"])


def s_diabetes(rng: random.Random) -> Case:
    dm = rng.choice(["E11.65", "E11.9", "E11.69", "E11.649"])
    dx = [dm, "I10"]
    if rng.random() < 0.6:
        dx.append("E78.5")
    dx.append(rng.choice(["Z79.4", "Z79.84", "Z79.85"]))
    lines = [Line(_em(rng), [d for d in dx[:3]]), Line("83036", [dm, dx[-1]])]
    if "E78.5" in dx:
        lines.append(Line("80061", ["E78.5"]))
    if rng.random() < 0.5:
        lines.append(Line("80053", ["I10", dm]))
    lines.append(Line("36415", [dm]))
    return Case("diabetes_follow_up", dx, lines, rng.randint(35, 85), rng.choice("FM"), _dos(rng))


def s_hypertension(rng: random.Random) -> Case:
    lip = rng.choice(["E78.5", "E78.00", "E78.2"])
    dx = ["I10", lip]
    lines = [Line(_em(rng), ["I10", lip]), Line("80061", [lip]), Line(rng.choice(["80048", "80053"]), ["I10"])]
    if rng.random() < 0.4:
        lines.append(Line("93000", ["I10"]))
    lines.append(Line("36415", ["I10"]))
    return Case("hypertension_lipids", dx, lines, rng.randint(40, 85), rng.choice("FM"), _dos(rng))


def s_knee(rng: random.Random) -> Case:
    side = rng.choice(["RT", "LT"])
    dxo = {"RT": ["M17.11", "M25.561"], "LT": ["M17.12", "M25.562"]}[side]
    d = rng.choice(dxo)
    lines = [Line(_em(rng), [d]), Line("20610", [d], [side])]
    if rng.random() < 0.6:
        lines.append(Line(rng.choice(["73560", "73562", "73564"]), [d], [side]))
    return Case("knee_pain_injection", [d], lines, rng.randint(45, 85), rng.choice("FM"), _dos(rng))


def s_throat(rng: random.Random) -> Case:
    d = rng.choice(["J02.9", "J02.0", "J06.9"])
    lines = [Line(rng.choice(["99212", "99213"]), [d])]
    if d.startswith("J02"):
        lines.append(Line("87880", [d]))
    return Case("sore_throat", [d], lines, rng.randint(4, 70), rng.choice("FM"), _dos(rng))


def s_preventive(rng: random.Random) -> Case:
    age = rng.randint(18, 64)
    em = "99395" if age < 40 else "99396"
    z = rng.choice(["Z00.00", "Z00.01"])
    dx = [z, "Z13.220"]
    lines = [Line(em, [z]), Line("80061", ["Z13.220"]), Line("36415", ["Z13.220"])]
    if rng.random() < 0.5:
        dx.append("Z23")
        lines += [Line("90471", ["Z23"]), Line(rng.choice(["90686", "90715"]), ["Z23"])]
    return Case("preventive_adult", dx, lines, age, rng.choice("FM"), _dos(rng))


def s_laceration(rng: random.Random) -> Case:
    inj = rng.choice(["S61.411A", "S61.412A", "S01.81XA"])
    dx = [inj]
    if rng.random() < 0.6:
        dx.append(rng.choice(["W26.0XXA", "W25.XXXA"]))
    lines = [Line("12001", [inj])]
    if rng.random() < 0.5:
        lines.insert(0, Line("99213", [inj]))
    return Case("laceration_repair", dx, lines, rng.randint(5, 80), rng.choice("FM"), _dos(rng), setting="urgent_care",
                pos="20")


def s_telehealth(rng: random.Random) -> Case:
    d = rng.choice(["F41.1", "F32.A", "F33.1", "F43.23"])
    code = rng.choice(["99213", "99214", "90834", "90837"])
    return Case("telehealth_behavioral", [d], [Line(code, [d], ["95"])], rng.randint(18, 70), rng.choice("FM"),
                _dos(rng), setting="telehealth", pos=rng.choice(["02", "10"]))


def s_wound(rng: random.Random) -> Case:
    ulcer = rng.choice(["L97.412", "L97.422", "L97.512"])
    dx = ["E11.621", ulcer]
    lines = [Line("11042", [ulcer, "E11.621"]), Line("11045", [ulcer])]
    return Case("diabetic_foot_ulcer", dx, lines, rng.randint(50, 85), rng.choice("FM"), _dos(rng))


def s_asthma(rng: random.Random) -> Case:
    d = rng.choice(["J45.909", "J45.20", "J45.30"])
    return Case("asthma_spirometry", [d], [Line("99213", [d]), Line("94010", [d])], rng.randint(8, 70),
                rng.choice("FM"), _dos(rng))


def s_uti(rng: random.Random) -> Case:
    d = rng.choice(["N39.0", "R30.0", "R35.0"])
    return Case("urinary_symptoms", [d], [Line("99213", [d]), Line("81003", [d])], rng.randint(18, 80), "F", _dos(rng))


def s_back(rng: random.Random) -> Case:
    d = rng.choice(["M54.50", "M54.59"])
    lines = [Line("99213", [d]), Line("96372", [d]), Line("J1100", [d], units=rng.randint(1, 4))]
    return Case("back_pain_injection", [d], lines, rng.randint(25, 75), rng.choice("FM"), _dos(rng))


def s_flu_shot(rng: random.Random) -> Case:
    age = rng.randint(65, 90)
    return Case("medicare_flu_shot", ["Z23"], [Line("G0008", ["Z23"]), Line("90686", ["Z23"])], age, rng.choice("FM"),
                _dos(rng))


def s_palpitations(rng: random.Random) -> Case:
    d = rng.choice(["R00.2", "R00.0", "R07.9"])
    return Case("palpitations_ecg", [d], [Line(_em(rng), [d]), Line("93000", [d])], rng.randint(25, 85),
                rng.choice("FM"), _dos(rng))


def s_warts(rng: random.Random) -> Case:
    d = rng.choice(["B07.9", "B07.8", "B07.0"])
    lines = [Line("17110", [d])]
    if rng.random() < 0.5:
        lines.insert(0, Line("99213", [d]))
    return Case("wart_destruction", [d], lines, rng.randint(6, 60), rng.choice("FM"), _dos(rng))


def s_anemia(rng: random.Random) -> Case:
    d = rng.choice(["D64.9", "D50.9", "D51.0"])
    return Case("anemia_labs", [d], [Line("99213", [d]), Line("85025", [d]), Line("36415", [d])], rng.randint(20, 85),
                rng.choice("FM"), _dos(rng))


SCENARIOS: list[Callable[[random.Random], Case]] = [
    s_diabetes, s_hypertension, s_knee, s_throat, s_preventive, s_laceration, s_telehealth, s_wound, s_asthma,
    s_uti, s_back, s_flu_shot, s_palpitations, s_warts, s_anemia,
]


def _dos(rng: random.Random) -> dt.date:
    return DOS_FIRST + dt.timedelta(days=rng.randint(0, (DOS_LAST - DOS_FIRST).days))


# ---- coding decisions from CMS data ------------------------------------------------


def _apply_modifier_25(case: Case) -> None:
    """Modifier 25 on the E/M when a same-day procedure has a global period or an NCCI edit with it."""
    rs = load_ruleset()
    procs = load_codesets().procedures
    pol = rs.policy
    for line in case.lines:
        if line.code not in pol.em_codes:
            continue
        others = [x.code for x in case.lines if x is not line and x.code not in pol.em_codes]
        needs_25 = any(o in pol.global_period_procedures or procs.ptp_edit(line.code, o, case.dos) for o in others)
        if needs_25 and "25" not in line.modifiers:
            line.modifiers.append("25")


def _check_supported(case: Case) -> None:
    for line in case.lines:
        if not any(supports(line.code, d) for d in line.dx):
            raise AssertionError(f"scenario {case.scenario}: {line.code} not supported by {line.dx}")


# ---- faults -----------------------------------------------------------------------

UNRELATED_DX = ["M54.50", "K21.9", "H10.9", "L30.9", "G43.909", "J30.9", "R51.9"]
FILLER_DX = ["K21.9", "J30.9", "G47.00", "F41.1", "M54.50", "E66.9", "L40.0", "K59.00", "H52.4", "Z87.891",
             "M79.7", "N95.1", "F17.210", "Z68.30", "E55.9", "Z86.73"]
DELETED_FY2026 = ["S30.1XXA", "T78.07XA", "T78.08XA"]
DELETED_FY2025 = ["T81.32XA"]
INVALID_DX = ["E11.99", "I10.1", "J06.8", "K21.90", "R06.99"]  # well-formed, in no fiscal year
EXCLUDES1_PARTNER = {"E11": ["E10.9", "R73.9", "R73.03"], "N39": ["N30.00"], "J02": ["J03.90"],
                     "M545": ["S39.012A"]}
MANIFESTATION_PAIRS = [("D63.1", "N18.4"), ("D63.1", "N18.5"), ("D63.1", "N18.32"), ("D63.0", "C18.9")]
INJURY_PAIRS = [("S93.401A", "W01.0XXA"), ("S52.501A", "W19.XXXA"), ("S01.81XA", "W22.8XXA")]
NCCI_PAIRS = [("85025", "85027", "D64.9"), ("93000", "93005", "R00.2"), ("80053", "80048", "I10")]
LAB_LIKE = ("83036", "80061", "80053", "80048", "85025", "87880", "81003", "94010", "93000", "20610", "73560",
            "73562", "73564", "11042", "17110", "12001", "90686", "90715", "J1100")


def _keys(case: Case) -> set[str]:
    return {icd_key(d) for d in case.dx}


def _conflicts(case: Case, code: str) -> bool:
    icd = load_codesets().icd
    k = icd_key(code)
    return k in _keys(case) or any(_excl(icd, k, o) for o in _keys(case))


def _excl(icd: Any, a: str, b: str) -> bool:
    from validator.engine import _cs_id, _excludes1

    return _excludes1(_cs_id(load_codesets()), *sorted((a, b))) is not None


def _add_dx(case: Case, code: str) -> bool:
    if _conflicts(case, code) or len(case.dx) >= 12:
        return False
    case.dx.append(code)
    return True


def f_not_supported(case: Case, rng: random.Random) -> bool:
    cands = [ln for ln in case.lines if ln.code in LAB_LIKE and load_ruleset().necessity.covers(ln.code)]
    if not cands:
        return False
    line = rng.choice(cands)
    opts = [d for d in UNRELATED_DX if not supports(line.code, d) and not _conflicts(case, d)]
    if not opts:
        return False
    d = rng.choice(opts)
    case.dx.append(d)
    line.dx = [d]
    case.expected = ["dx_not_supporting_procedure"]
    return True


def f_deleted(case: Case, rng: random.Random) -> bool:
    code = rng.choice(DELETED_FY2026 if case.dos >= dt.date(2025, 10, 1) else DELETED_FY2025)
    if not _add_dx(case, code):
        return False
    case.lines[0].dx = [*case.lines[0].dx[:3], code]
    case.expected = ["deleted_code"]
    return True


def f_header(case: Case, rng: random.Random) -> bool:
    icd = load_codesets().icd
    i = rng.randrange(len(case.dx))
    k = icd_key(case.dx[i])
    parent = icd.parent(k)
    if parent is None or icd.flag(parent, 2026) != "H" or icd.flag(parent, 2025) != "H":
        return False
    header = icd.display(parent)
    old = case.dx[i]
    if header in case.dx:
        return False
    for line in case.lines:
        line.dx = [header if d == old else d for d in line.dx]
        if not any(supports(line.code, d) for d in line.dx):
            return False
    case.dx[i] = header
    case.expected = ["non_billable_code"]
    return True


def f_invalid(case: Case, rng: random.Random) -> bool:
    code = rng.choice(INVALID_DX)
    if icd_key(code) in load_codesets().icd.codes:
        raise AssertionError(f"{code} exists in the loaded ICD-10-CM code sets")
    if code in case.dx or len(case.dx) >= 12:
        return False
    case.dx.append(code)
    case.lines[0].dx = [*case.lines[0].dx[:3], code]
    case.expected = ["invalid_code"]
    return True


def f_stale(case: Case, rng: random.Random) -> bool:
    case.dos = dt.date(2026, 10, 1) + dt.timedelta(days=rng.randint(0, 80))
    case.expected = ["stale_codeset"]
    return True


def _ncci(case: Case, rng: random.Random, bypass: bool) -> bool:
    a, b, d = rng.choice(NCCI_PAIRS)
    if bypass and a == "80053":
        return False
    codes = {ln.code for ln in case.lines}
    if a in codes or b in codes or (icd_key(d) not in _keys(case) and not _add_dx(case, d)):
        return False
    mods = [rng.choice(["59", "XU", "XS"])] if bypass else []
    case.lines += [Line(a, [d]), Line(b, [d], mods)]
    case.expected = ["ncci_ptp_conflict"]
    return True


def f_ncci(case: Case, rng: random.Random) -> bool:
    return _ncci(case, rng, bypass=False)


def f_ncci_bypassed(case: Case, rng: random.Random) -> bool:
    return _ncci(case, rng, bypass=True)


def f_addon(case: Case, rng: random.Random) -> bool:
    if case.scenario == "diabetic_foot_ulcer":
        case.lines = [ln for ln in case.lines if ln.code != "11042"]
    else:
        em = [ln for ln in case.lines if ln.code in ("99212", "99213", "99214")]
        if not em:
            return False
        case.lines.append(Line("99417", list(em[0].dx[:1])))
    case.expected = ["addon_without_primary"]
    return True


def f_excludes1(case: Case, rng: random.Random) -> bool:
    icd = load_codesets().icd
    for d in case.dx:
        for prefix, partners in EXCLUDES1_PARTNER.items():
            if icd_key(d).startswith(prefix):
                p = rng.choice(partners)
                if icd_key(p) in _keys(case) or len(case.dx) >= 12:
                    return False
                if not _excl(icd, icd_key(d), icd_key(p)):
                    raise AssertionError(f"{d} / {p} is not an Excludes1 pair in the tabular notes")
                case.dx.append(p)
                case.expected = ["excludes1_conflict"]
                return True
    return False


def f_age(case: Case, rng: random.Random) -> bool:
    icd = load_codesets().icd
    code = rng.choice(["Z00.110", "Z00.111"]) if case.age >= 18 else "N40.0"
    m = icd.mce(icd_key(code))
    if m.age_lo <= case.age <= m.age_hi or not _add_dx(case, code):
        return False
    if code == "N40.0" and case.sex != "M":
        case.sex = "M"
    case.expected = ["age_conflict"]
    return True


def f_sex(case: Case, rng: random.Random) -> bool:
    code = "N40.0" if case.sex == "F" else "N95.1"
    if case.age < 18 or not _add_dx(case, code):
        return False
    case.expected = ["sex_conflict_warning"]
    return True


def f_manifestation(case: Case, rng: random.Random) -> bool:
    man, etio = rng.choice(MANIFESTATION_PAIRS)
    if _conflicts(case, man) or _conflicts(case, etio) or len(case.dx) > 10:
        return False
    case.dx = [man, etio, *case.dx]
    case.lines[0].dx = [man, etio, *case.lines[0].dx][:4]
    case.expected = ["manifestation_as_first_listed"]
    return True


def f_ecode_first(case: Case, rng: random.Random) -> bool:
    inj, ext = rng.choice(INJURY_PAIRS)
    if _conflicts(case, inj) or _conflicts(case, ext) or len(case.dx) > 10:
        return False
    case.dx = [ext, inj, *[d for d in case.dx]]
    case.expected = ["e_code_first_listed"]
    return True


def f_missing_pointer(case: Case, rng: random.Random) -> bool:
    line = rng.choice(case.lines)
    line.dx = []
    case.expected = ["missing_dx_pointer"]
    return True


def f_too_many_pointers(case: Case, rng: random.Random) -> bool:
    em = [ln for ln in case.lines if ln.code in load_ruleset().policy.em_codes]
    if not em:
        return False
    for d in rng.sample(FILLER_DX, len(FILLER_DX)):
        if len(case.dx) >= 6:
            break
        _add_dx(case, d)
    if len(case.dx) < 5:
        return False
    em[0].dx = list(case.dx[:5])
    case.expected = ["too_many_pointers"]
    return True


def f_invalid_pointer(case: Case, rng: random.Random) -> bool:
    i = rng.randrange(len(case.lines))
    line = case.lines[i]
    if rng.random() < 0.5 and len(case.dx) < 12:
        bad: str | int = rng.randint(len(case.dx) + 1, 12)
    else:
        bad = next(d for d in ["K21.9", "J30.9", "E66.9"] if d not in case.dx)
    case.raw_pointers[i] = [*line.dx[:3], bad]
    case.expected = ["invalid_pointer"]
    return True


def f_too_many_dx(case: Case, rng: random.Random) -> bool:
    pool = [d for d in FILLER_DX if d not in case.dx]
    rng.shuffle(pool)
    for d in pool:  # past the 12 a claim can carry: no cap here
        if len(case.dx) >= 13:
            break
        if not _conflicts(case, d):
            case.dx.append(d)
    if len(case.dx) < 13:
        return False
    case.expected = ["too_many_diagnoses"]
    return True


def f_missing_25(case: Case, rng: random.Random) -> bool:
    em = [ln for ln in case.lines if "25" in ln.modifiers]
    if not em:
        return False
    em[0].modifiers.remove("25")
    procs = load_codesets().procedures
    case.expected = ["missing_modifier"]
    if any(procs.ptp_edit(em[0].code, ln.code, case.dos) for ln in case.lines if ln is not em[0]):
        case.expected.append("ncci_ptp_conflict")
    return True


def f_telehealth(case: Case, rng: random.Random) -> bool:
    tele = load_ruleset().policy.telehealth_codes
    lines = [ln for ln in case.lines if ln.code in tele]
    if not lines:
        return False
    if case.setting == "telehealth":
        lines[0].modifiers = [m for m in lines[0].modifiers if m not in ("95", "93", "GT", "GQ", "FQ")]
    else:
        case.setting, case.pos = "telehealth", rng.choice(["02", "10"])
        if any(ln.code not in tele and ln.code not in ("36415",) for ln in case.lines):
            return False
    case.expected = ["missing_modifier"]
    return True


def f_laterality(case: Case, rng: random.Random) -> bool:
    lat = [ln for ln in case.lines if {"RT", "LT"} & set(ln.modifiers)]
    if not lat:
        return False
    line = rng.choice(lat)
    line.modifiers = [m for m in line.modifiers if m not in ("RT", "LT")]
    case.expected = ["missing_modifier"]
    return True


FAULTS: dict[str, Callable[[Case, random.Random], bool]] = {
    "dx_not_supporting_procedure": f_not_supported,
    "deleted_code": f_deleted,
    "header_code": f_header,
    "invalid_code": f_invalid,
    "stale_codeset": f_stale,
    "ncci_without_bypass": f_ncci,
    "ncci_with_bypass": f_ncci_bypassed,
    "addon_without_primary": f_addon,
    "excludes1_pair": f_excludes1,
    "age_conflict": f_age,
    "sex_advisory": f_sex,
    "manifestation_first": f_manifestation,
    "external_cause_first": f_ecode_first,
    "missing_pointer": f_missing_pointer,
    "too_many_pointers": f_too_many_pointers,
    "invalid_pointer": f_invalid_pointer,
    "too_many_diagnoses": f_too_many_dx,
    "em_without_25": f_missing_25,
    "telehealth_without_95": f_telehealth,
    "missing_laterality": f_laterality,
}


# ---- output -------------------------------------------------------------------------


def _to_json(case: Case, cid: str, rng: random.Random) -> dict[str, Any]:
    lines = []
    for i, ln in enumerate(case.lines):
        if i in case.raw_pointers:
            ptrs: list[str | int] = list(case.raw_pointers[i])
        elif ln.dx and rng.random() < 0.4:
            ptrs = [case.dx.index(d) + 1 for d in ln.dx]  # 1-based indexes
        else:
            ptrs = list(ln.dx)
        lines.append({"code": ln.code, "modifiers": ln.modifiers, "units": ln.units, "dx": ptrs})
    return {
        "id": cid,
        "scenario": case.scenario,
        "fault": case.fault,
        "date_of_service": case.dos.isoformat(),
        "patient": {"age": case.age, "sex": case.sex},
        "setting": case.setting,
        "place_of_service": case.pos,
        "icd10cm": list(case.dx),
        "cpt_lines": lines,
        "expected_findings": sorted(set(case.expected)),
    }


def _base(rng: random.Random, i: int) -> Case:
    case = SCENARIOS[i % len(SCENARIOS)](rng)
    _apply_modifier_25(case)
    _check_supported(case)
    return case


def generate(seed: int = 7, n_clean: int = 120, per_fault: int = 12) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n_clean):
        out.append(_to_json(_base(rng, i), f"claim-clean-{i:04d}", rng))
    k = 0
    for name, fault in FAULTS.items():
        made = tries = 0
        while made < per_fault:
            tries += 1
            if tries > per_fault * 60:
                raise RuntimeError(f"fault {name}: could only build {made} of {per_fault} claims")
            case = _base(rng, k)
            k += 1
            if not fault(case, rng):
                continue
            case.fault = name
            out.append(_to_json(case, f"claim-{name}-{made:03d}", rng))
            made += 1
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("data/synthetic/claims.jsonl"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--n-clean", type=int, default=120)
    ap.add_argument("--per-fault", type=int, default=12)
    args = ap.parse_args(argv)
    rows = generate(args.seed, args.n_clean, args.per_fault)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")
    n_clean = sum(1 for r in rows if not r["expected_findings"])
    print(f"wrote {len(rows)} claims ({n_clean} clean) to {args.out}")


if __name__ == "__main__":
    main()
