"""Office/outpatient E/M level (2021+ AMA/CMS rules) and CPT line rules: modifiers, units,
vaccine administration, venipuncture.

Pure functions over plain values (no NLP types), so the pipeline can feed them from any
analyser. Code numbers only: no CPT descriptor text lives here.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# 2021+ office/outpatient E/M: level by MDM or by total time on the date of the encounter.
MDM_LEVELS: tuple[str, ...] = ("straightforward", "low", "moderate", "high")
NEW_BY_LEVEL: tuple[str, ...] = ("99202", "99203", "99204", "99205")
EST_BY_LEVEL: tuple[str, ...] = ("99212", "99213", "99214", "99215")
# minimum total minutes (met or exceeded) for levels straightforward..high (2024+ CPT thresholds)
NEW_TIME: tuple[int, ...] = (15, 30, 45, 60)
EST_TIME: tuple[int, ...] = (10, 20, 30, 40)
# preventive medicine by age band: (upper age exclusive, new, established)
PREVENTIVE: tuple[tuple[int, str, str], ...] = (
    (1, "99381", "99391"),
    (5, "99382", "99392"),
    (12, "99383", "99393"),
    (18, "99384", "99394"),
    (40, "99385", "99395"),
    (65, "99386", "99396"),
    (200, "99387", "99397"),
)
# psychotherapy by time (CPT time rule: a unit is reported once its midpoint is passed):
# (minimum minutes, standalone code, add-on code when an E/M is reported the same day)
PSYCHOTHERAPY: tuple[tuple[int, str, str], ...] = ((16, "90832", "90833"), (38, "90834", "90836"), (53, "90837", "90838"))
# telephone E/M by physicians (audio only; deleted 2025-01-01): (minimum minutes, code)
PHONE_EM: tuple[tuple[int, str], ...] = ((5, "99441"), (11, "99442"), (21, "99443"))
PHONE_EM_CODES = frozenset(c for _, c in PHONE_EM)
# smoking and tobacco use cessation counseling: (minimum minutes, code); under 3 minutes is not billable
TOBACCO_COUNSELING: tuple[tuple[int, str], ...] = ((3, "99406"), (11, "99407"))
TOBACCO_COUNSELING_CODES = frozenset(c for _, c in TOBACCO_COUNSELING)
VACCINE_ADMIN_FIRST = "90471"
VACCINE_ADMIN_EACH_ADDITIONAL = "90472"
VENIPUNCTURE = "36415"


@dataclass(slots=True)
class EmDecision:
    code: str | None
    basis: str  # "time" | "mdm" | "preventive" | "none"
    level: int | None = None  # 0..3 (straightforward..high) for problem-oriented visits
    modifiers: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def is_em(code: str) -> bool:
    return code.isdigit() and 99202 <= int(code) <= 99499


def is_office_em(code: str) -> bool:
    return code in NEW_BY_LEVEL or code in EST_BY_LEVEL or code == "99211"


def is_preventive_em(code: str) -> bool:
    return code.isdigit() and 99381 <= int(code) <= 99397


def is_vaccine_product(code: str) -> bool:
    return code.isdigit() and 90476 <= int(code) <= 90759


def is_lab(code: str) -> bool:
    return code.isdigit() and 80047 <= int(code) <= 89398


# Lab codes whose specimen is not venous blood (urine, stool, swabs, tissue, capillary meters,
# skin tests): billing one of them alone never implies a venipuncture (36415 is collection of
# venous blood). Microbiology (87xxx) is mostly swabs/urine, except the blood-specimen tests listed.
NON_BLOOD_LAB_RANGES: tuple[tuple[int, int], ...] = (
    (81000, 81099),  # urinalysis, urine pregnancy test
    (82270, 82274),  # occult blood in stool
    (82962, 82962),  # glucose by a device cleared for home use (fingerstick)
    (83861, 83861),  # tear osmolarity
    (86580, 86580),  # tuberculosis skin test
    (87000, 87999),  # microbiology: cultures, antigen and molecular tests of swabs and urine
    (88000, 88399),  # cytopathology and surgical pathology (tissue, Pap)
    (89000, 89398),  # other fluids (semen, stool, synovial)
)
BLOOD_MICROBIOLOGY = frozenset({"87040", "87340", "87341", "87350", "87380", "87389", "87390", "87391",
                                "87517", "87521", "87522", "87536", "87535"})


def needs_venipuncture(code: str) -> bool:
    """Whether a billed lab test is run on venous blood (so drawing it is billable as 36415)."""
    if not is_lab(code):
        return False
    if code in BLOOD_MICROBIOLOGY:
        return True
    n = int(code)
    return not any(lo <= n <= hi for lo, hi in NON_BLOOD_LAB_RANGES)


def is_surgical(code: str) -> bool:
    return code.isdigit() and 10004 <= int(code) <= 69990


def _band(minutes: int | None, lows: Sequence[int]) -> int | None:
    """Index of the highest band whose minimum `minutes` meets (None: below every band)."""
    if minutes is None:
        return None
    i = bisect.bisect_right(lows, minutes) - 1
    return i if i >= 0 else None


def psychotherapy_code(minutes: int | None, with_em: bool) -> str | None:
    """Psychotherapy code for the documented minutes (None under 16 minutes)."""
    i = _band(minutes, [lo for lo, _, _ in PSYCHOTHERAPY])
    return None if i is None else PSYCHOTHERAPY[i][2 if with_em else 1]


def psychotherapy_counterpart(code: str, with_em: bool) -> str:
    """The same time band's standalone (no E/M) or add-on (with E/M) psychotherapy code."""
    for _, standalone, addon in PSYCHOTHERAPY:
        if code in (standalone, addon):
            return addon if with_em else standalone
    return code


def is_psychotherapy(code: str) -> bool:
    return any(code in (a, b) for _, a, b in PSYCHOTHERAPY)


def tobacco_counseling_code(minutes: int | None) -> str | None:
    """Tobacco cessation counseling code for the documented minutes (None under 3)."""
    i = _band(minutes, [lo for lo, _ in TOBACCO_COUNSELING])
    return None if i is None else TOBACCO_COUNSELING[i][1]


def phone_em_code(minutes: int | None) -> str | None:
    """Telephone E/M code for the documented minutes of medical discussion (None under 5)."""
    i = _band(minutes, [lo for lo, _ in PHONE_EM])
    return None if i is None else PHONE_EM[i][1]


def level_from_time(minutes: int | None, new_patient: bool) -> int | None:
    return _band(minutes, NEW_TIME if new_patient else EST_TIME)


def level_from_mdm(mdm_level: str | None) -> int | None:
    if mdm_level is None:
        return None
    m = mdm_level.strip().lower()
    return MDM_LEVELS.index(m) if m in MDM_LEVELS else None


def preventive_code(age: int | None, new_patient: bool) -> str | None:
    if age is None:
        return None
    for hi, new, est in PREVENTIVE:
        if age < hi:
            return new if new_patient else est
    return None


def office_em(
    *,
    total_minutes: int | None,
    mdm_level: str | None,
    new_patient: bool | None,
    preventive: bool = False,
    age: int | None = None,
    telehealth: str | None = None,
) -> list[EmDecision]:
    """E/M line(s) for one office/outpatient encounter.

    The level is the higher of the time-based and the MDM-based level (a visit may be coded
    on either). A preventive visit gives the age-banded preventive code; a problem-oriented
    visit documented with it adds a separate problem E/M (which then carries modifier 25).
    """
    new = bool(new_patient)
    out: list[EmDecision] = []
    if preventive:
        code = preventive_code(age, new)
        if code is not None:
            out.append(EmDecision(code, "preventive", None, [], [f"preventive visit, age {age}"]))
    t = level_from_time(total_minutes, new)
    m = level_from_mdm(mdm_level)
    if t is not None or m is not None:
        if preventive and t is None and (m is None or m == 0):
            pass  # a preventive visit's own work is not a separate problem visit
        else:
            candidates = [(x, b) for x, b in ((t, "time"), (m, "mdm")) if x is not None]
            level, basis = max(candidates, key=lambda xb: xb[0])
            code = (NEW_BY_LEVEL if new else EST_BY_LEVEL)[level]
            reasons = []
            if t is not None:
                reasons.append(f"total time {total_minutes} min")
            if m is not None:
                reasons.append(f"MDM {mdm_level}")
            out.append(EmDecision(code, basis, level, [], reasons))
    if telehealth in ("video", "audio"):
        mod = "95" if telehealth == "video" else "93"
        for d in out:
            d.modifiers.append(mod)
    return out


@dataclass(slots=True)
class Line:
    code: str
    modifiers: list[str] = field(default_factory=list)
    units: int = 1


# Medicare Part B vaccines are administered with HCPCS G codes (CMS), not 90471/90472:
# influenza -> G0008, pneumococcal -> G0009, hepatitis B -> G0010 (one per product)
FLU_VACCINES = frozenset({"90630", "90653", "90654", "90655", "90656", "90657", "90658", "90660", "90661", "90662",
                          "90664", "90666", "90667", "90668", "90672", "90673", "90674", "90682", "90685", "90686",
                          "90687", "90688", "90689", "90694", "90756"})
# from the 2024-25 season every US influenza vaccine is trivalent (FDA VRBPAC, March 2024: the
# B/Yamagata lineage was dropped), so a quadrivalent product is no longer what was given
TRIVALENT_FLU_FROM = dt.date(2024, 7, 1)
PNEUMO_VACCINES = frozenset({"90670", "90671", "90677", "90732"})
HEPB_VACCINES = frozenset({"90739", "90740", "90743", "90744", "90746", "90747", "90759"})
MEDICARE_ADMIN = {"G0008": FLU_VACCINES, "G0009": PNEUMO_VACCINES, "G0010": HEPB_VACCINES}
PEDIATRIC_COUNSEL_ADMIN = ("90460", "90461")
ADMIN_CODES = frozenset({VACCINE_ADMIN_FIRST, VACCINE_ADMIN_EACH_ADDITIONAL, *MEDICARE_ADMIN, *PEDIATRIC_COUNSEL_ADMIN})
MEDICARE_AGE = 65


def medicare_admin_code(product: str) -> str | None:
    return next((g for g, products in MEDICARE_ADMIN.items() if product in products), None)


# the clinician counselled the patient or parent about the vaccines given: one sentence that
# counsels and names vaccines or immunizations ("counseled the parent on each vaccine",
# "vaccine counseling provided"); CPT bills such administration through age 18 with 90460
_VACCINE_WORD = r"(?:vaccin\w*|immuni[sz]\w*|shots?)"
_VACCINE_COUNSEL = re.compile(
    rf"\bcounsel\w*[^.;\n]*\b{_VACCINE_WORD}\b|\b{_VACCINE_WORD}[^.;\n]*\bcounsel\w*", re.IGNORECASE)


def documents_vaccine_counseling(text: str) -> bool:
    """Whether a sentence of `text` says the patient or parent was counselled about vaccines."""
    return bool(_VACCINE_COUNSEL.search(text))


def add_vaccine_admin(lines: list[Line], age: int | None = None, counseled: bool = False) -> list[Line]:
    """Administration lines for the vaccine products on the claim.

    - under 19 with counselling by the physician (90460 already chosen): 90460/90461 kept;
    - under 19 when the note documents vaccine counselling (`counseled`): 90460, one unit per
      product (90461, each further component of a combination vaccine, is left to the coder);
    - 65 or older (taken as Medicare) when every product is a Part B vaccine (influenza,
      pneumococcal, hepatitis B): one G0008/G0009/G0010 per product;
    - otherwise 90471 for the first product and 90472 for each other.
    Administration codes on `lines` that contradict this are removed.
    """
    products = [ln for ln in lines if is_vaccine_product(ln.code)]
    have = {ln.code for ln in lines}
    if not products:
        return lines
    if "90460" in have and (age is None or age < 19):
        return lines
    rest = [ln for ln in lines if ln.code not in ADMIN_CODES]
    if counseled and age is not None and age < 19:
        return [*rest, Line("90460", units=len(products))]
    medicare = [medicare_admin_code(ln.code) for ln in products]
    if age is not None and age >= MEDICARE_AGE and all(medicare):
        return rest + [Line(g) for g in medicare if g]
    out = [*rest, Line(VACCINE_ADMIN_FIRST)]
    if len(products) > 1:
        out.append(Line(VACCINE_ADMIN_EACH_ADDITIONAL, units=len(products) - 1))
    return out


def one_flu_vaccine(codes_by_probability: Sequence[str], descriptions: dict[str, str],
                    day: dt.date | None) -> set[str]:
    """The influenza vaccine products to drop: one is given per encounter. From the 2024-25
    season (or with no date of service) a trivalent product is kept over a quadrivalent one;
    otherwise the most probable (`codes_by_probability`, best first) stays."""
    flu = [c for c in codes_by_probability if c in FLU_VACCINES]
    if len(flu) < 2:
        return set()
    keep = flu
    if day is None or day >= TRIVALENT_FLU_FROM:
        keep = [c for c in flu if "quadrivalent" not in descriptions.get(c, "").lower()] or flu
    return set(flu) - {keep[0]}


# Medicare's annual wellness visit (initial G0438, subsequent G0439) is billed instead of the
# preventive-medicine E/M (99381-99397), which Medicare does not cover
MEDICARE_WELLNESS = frozenset({"G0438", "G0439"})


# a preventive medicine visit (99381-99397) or Medicare's annual wellness visit is coded with an
# encounter-for-examination diagnosis (ICD-10-CM guidelines I.C.21.c.13, routine and administrative
# examinations); payers deny a preventive line without one. The codes a patient's age and sex allow,
# each family with and without abnormal findings (which one is the ranker's call):
ROUTINE_EXAM_CATEGORIES = ("Z00", "Z01", "Z02")  # any of these already coded settles the rule
_ADULT_EXAM = ("Z00.00", "Z00.01")  # general adult medical examination, 18 and over (without / with abnormal findings)
_CHILD_EXAM = ("Z00.129", "Z00.121")  # routine child health examination, 29 days to 17 years (without / with)
_NEWBORN_EXAM = ("Z00.110", "Z00.111")  # newborn health examination (under 8 days / 8 to 28 days old)
_GYN_EXAM = ("Z01.419", "Z01.411")  # gynecological examination, female (without / with)


def routine_exam_codes(age: int | None, sex: str | None) -> tuple[str, ...]:
    """The encounter-for-examination codes that can accompany a preventive visit of a patient of
    this age (years; None: unknown) and sex ('F', 'M', 'U' or None), without-findings code first."""
    out: list[str] = []
    if age is None or age >= 18:
        out += _ADULT_EXAM
    if age is None or age < 18:
        out += _CHILD_EXAM
    if age is None or age == 0:
        out += _NEWBORN_EXAM
    if sex != "M":
        out += _GYN_EXAM
    return tuple(out)


def needs_routine_exam_dx(lines: Sequence[Line]) -> bool:
    return any(is_preventive_em(ln.code) or ln.code in MEDICARE_WELLNESS for ln in lines)


# Medicare's annual depression screening at a subsequent annual wellness visit is G0444 (NCD 210.9;
# G0444 is not billed with the initial visit G0438, which includes a depression risk review): a brief
# standardised assessment (96127) at a G0439 visit of a Medicare-age patient is that screening
DEPRESSION_SCREENING_MEDICARE = "G0444"
BRIEF_ASSESSMENT = "96127"


def medicare_depression_screening(codes: Sequence[str], age: int | None) -> dict[str, str | None]:
    """{code: its replacement, or None to drop it} for the depression screening of a Medicare
    annual wellness visit among the billed `codes`."""
    have = set(codes)
    if age is None or age < MEDICARE_AGE or "G0439" not in have or BRIEF_ASSESSMENT not in have:
        return {}
    return {BRIEF_ASSESSMENT: None if DEPRESSION_SCREENING_MEDICARE in have else DEPRESSION_SCREENING_MEDICARE}


# joint aspiration/injection with ultrasound guidance (and recorded images) has its own codes,
# which include the guidance (CPT 2015): small 20600/20604, intermediate 20605/20606, major 20610/20611
JOINT_INJECTION_GUIDED = {"20600": "20604", "20605": "20606", "20610": "20611"}
_GUIDED = {v: k for k, v in JOINT_INJECTION_GUIDED.items()}
_US = r"(?:ultrasound|ultra-sound|sonograph\w*|sonographic|US)"
_GUIDANCE = re.compile(rf"\b(?:(without|no|not)\s+)?(?:{_US}[- ]guid\w*|under {_US}(?: guidance)?|{_US} guidance|guided by {_US})",
                       re.IGNORECASE)


def joint_injection_code(code: str, line: str) -> str:
    """The joint injection code for what the procedure's line says about ultrasound guidance:
    documented -> the guided code, denied ("without ultrasound guidance") -> the unguided one,
    not mentioned -> `code` as chosen."""
    if code not in JOINT_INJECTION_GUIDED and code not in _GUIDED:
        return code
    said = [m.group(1) is None for m in _GUIDANCE.finditer(line)]
    if not said:
        return code
    guided = said[0]
    unguided = _GUIDED.get(code, code)
    return JOINT_INJECTION_GUIDED[unguided] if guided else unguided


# destruction of premalignant lesions (actinic keratoses) is billed by count: 17000 for the first
# lesion, 17003 for each of the second through fourteenth (units), 17004 alone for 15 or more
PREMALIGNANT_DESTRUCTION = frozenset({"17000", "17003", "17004"})
_NUMBER_WORDS = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])}
_COUNT = "|".join([r"\d{1,3}", *_NUMBER_WORDS])
_LESIONS = r"(?:lesions?|keratos[ie]s|aks?|spots?)"
_LESION_COUNT = re.compile(
    rf"\b({_COUNT})\s+(?:[a-z-]+\s+){{0,3}}?{_LESIONS}\b|\b{_LESIONS}\s*(?:x|×|times|total(?:ing)?|:|#)\s*({_COUNT})\b",
    re.IGNORECASE)


def documented_lesion_count(line: str) -> int | None:
    """The number of lesions a procedure line says were treated ("to 20 actinic keratoses",
    "AKs x 3", "three lesions"), when it says one number."""
    found = {m.group(1) or m.group(2) for m in _LESION_COUNT.finditer(line)}
    counts = {int(f) if f.isdigit() else _NUMBER_WORDS[f.lower()] for f in found}
    return counts.pop() if len(counts) == 1 and 0 < min(counts) < 1000 else None


def premalignant_destruction_lines(count: int) -> list[tuple[str, int]]:
    """(code, units) billing the destruction of `count` premalignant lesions."""
    if count >= 15:
        return [("17004", 1)]
    return [("17000", 1)] + ([("17003", count - 1)] if count > 1 else [])


def drop_preventive_with_wellness(lines: list[Line]) -> list[Line]:
    if any(ln.code in MEDICARE_WELLNESS for ln in lines):
        return [ln for ln in lines if not is_preventive_em(ln.code)]
    return lines


def add_venipuncture(lines: list[Line], labs_drawn: bool) -> list[Line]:
    if labs_drawn and VENIPUNCTURE not in {ln.code for ln in lines}:
        return [*lines, Line(VENIPUNCTURE)]
    return lines


def apply_modifiers(lines: list[Line], ptp_indicator: dict[tuple[str, str], int] | None = None) -> list[Line]:
    """Modifier 25 on a problem E/M billed with a procedure (or with a preventive visit);
    XS on the column-2 code of an NCCI pair that allows a bypass modifier.

    `ptp_indicator[(column1, column2)]` is the NCCI modifier indicator (0 or 1) of each
    edit active between two codes of the claim.
    """
    ptp = ptp_indicator or {}
    codes = [ln.code for ln in lines]
    non_em = [c for c in codes if not is_em(c)]
    has_preventive = any(is_preventive_em(c) for c in codes)
    for ln in lines:
        if not is_office_em(ln.code):
            continue
        needs25 = has_preventive or any(is_surgical(c) for c in non_em)
        needs25 = needs25 or any(ptp.get((ln.code, c)) == 1 or ptp.get((c, ln.code)) == 1 for c in non_em)
        needs25 = needs25 or any(c in (VACCINE_ADMIN_FIRST, "90460", "96372") for c in non_em)
        if needs25 and "25" not in ln.modifiers:
            ln.modifiers.insert(0, "25")
    for (c1, c2), mi in sorted(ptp.items()):
        if mi != 1 or is_em(c1) or is_em(c2):
            continue
        for ln in lines:
            if ln.code == c2 and not ({"59", "XS", "XE", "XP", "XU"} & set(ln.modifiers)):
                ln.modifiers.append("XS")
    return lines


def laterality_modifier(laterality: str | None) -> str | None:
    return {"right": "RT", "left": "LT", "bilateral": "50"}.get((laterality or "").lower())
