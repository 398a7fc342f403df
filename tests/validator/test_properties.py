"""Hypothesis properties: determinism, and invariance to the order of non-first-listed
diagnoses (pointers given as codes) and of the input findings."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator import validate
from validator.ruleset import Ruleset

# real codes with interesting properties: Excludes1 pairs, MCE age/sex/manifestation/external
# cause, headers, deleted codes, lab/E-M/procedure codes with NCCI edits and add-ons
DX = ["E11.65", "E11.9", "E10.9", "R73.9", "R73.03", "I10", "E78.5", "Z79.4", "J06.9", "N40.0", "D63.1",
      "N18.4", "W01.0XXA", "S93.401A", "M17.11", "E11.6", "T78.1XXA", "O09.00", "L97.412", "F45.8", "G47.63"]
CPT = ["99213", "99214", "83036", "80061", "80053", "80048", "36415", "93000", "93005", "96372", "20610",
       "73562", "11042", "11045", "27445", "99999"]
MODS = ["25", "59", "RT", "LT", "95", "XS"]

line_st = st.fixed_dictionaries({
    "code": st.sampled_from(CPT),
    "modifiers": st.lists(st.sampled_from(MODS), max_size=2, unique=True),
    "units": st.integers(1, 3),
    "n_ptr": st.integers(0, 5),
    "seed": st.integers(0, 10_000),
})


@st.composite
def claims(draw: Any) -> dict[str, Any]:
    dx = draw(st.lists(st.sampled_from(DX), min_size=1, max_size=8, unique=True))
    lines = []
    for raw in draw(st.lists(line_st, min_size=1, max_size=6)):
        ptrs = [dx[(raw["seed"] + i * 7) % len(dx)] for i in range(raw["n_ptr"])]
        lines.append({"code": raw["code"], "modifiers": raw["modifiers"], "units": raw["units"],
                      "dx": list(dict.fromkeys(ptrs))})
    return {
        "date_of_service": draw(st.sampled_from(["2025-03-02", "2026-03-02", "2026-11-02"])),
        "patient": {"age": draw(st.integers(0, 100)), "sex": draw(st.sampled_from(["F", "M", "U"]))},
        "setting": draw(st.sampled_from(["office", "telehealth"])),
        "icd10cm": dx,
        "cpt_lines": lines,
    }


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(claims())
def test_deterministic(ruleset: Ruleset, claim: dict[str, Any]) -> None:
    a = validate(claim, ruleset=ruleset)
    b = validate(claim, ruleset=ruleset)
    assert a == b
    assert a.status == ("fail" if any(f.severity == "error" for f in a.findings)
                        else "warn" if any(f.severity == "warning" for f in a.findings) else "pass")


@SETTINGS
@given(claims(), st.randoms(use_true_random=False))
def test_order_of_non_first_diagnoses_does_not_matter(ruleset: Ruleset, claim: dict[str, Any], rnd: Any) -> None:
    base = validate(claim, ruleset=ruleset)
    rest = claim["icd10cm"][1:]
    rnd.shuffle(rest)
    shuffled = {**claim, "icd10cm": [claim["icd10cm"][0], *rest]}
    other = validate(shuffled, ruleset=ruleset)
    assert other.findings == base.findings
    assert other.status == base.status
    assert other.cpt_lines == base.cpt_lines


@SETTINGS
@given(claims())
def test_findings_come_in_canonical_order(ruleset: Ruleset, claim: dict[str, Any]) -> None:
    res = validate(claim, ruleset=ruleset)
    sev = {"error": 0, "warning": 1, "info": 2}
    keys = [(sev[f.severity], f.line or 0) for f in res.findings]
    assert keys == sorted(keys)
    assert len({f.model_dump_json() for f in res.findings}) == len(res.findings)
