"""Suggester end to end on a tiny corpus with a rule-based NLP stand-in (the real NLP
pipeline has its own tests); covers the contract shape, evidence, assertions, specificity,
E/M levels, modifiers, determinism and persistence."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from codesets import load_codesets
from pipelines.nlp.types import CodeCandidate, EncounterFacts, Mention, NoteAnalysis, Section
from pipelines.schemas import SuggestionSet, SuggestRequest
from pipelines.suggest import SuggestConfig, Suggester, load_suggester

LEXICON: dict[str, tuple[str, str, str]] = {
    # phrase: (kind, system, code)
    "essential hypertension": ("condition", "icd10cm", "I10"),
    "hypertension": ("condition", "icd10cm", "I10"),
    "type 2 diabetes": ("condition", "icd10cm", "E11.9"),
    "breast cancer": ("condition", "icd10cm", "C50.919"),
    "chest pain": ("symptom", "icd10cm", "R07.9"),
    "knee pain": ("symptom", "icd10cm", "M25.56"),
    "cough": ("symptom", "icd10cm", "R05.9"),
    "pneumonia": ("condition", "icd10cm", "J18.9"),
    "influenza vaccine": ("procedure", "cpt", "90686"),
    "lipid panel": ("lab", "cpt", "80061"),
    "electrocardiogram": ("procedure", "cpt", "93000"),
}
SECTION_RE = re.compile(r"^(HPI|PMH|Family history|Assessment|Plan|Procedures):", re.M | re.I)
SECTION_NAMES = {"hpi": "hpi", "pmh": "pmh", "family history": "family_history", "assessment": "assessment",
                 "plan": "plan", "procedures": "procedure"}


class StandInNlp:
    def analyze(self, text: str) -> NoteAnalysis:
        sections = []
        heads = list(SECTION_RE.finditer(text))
        for i, h in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            sections.append(Section(SECTION_NAMES[h.group(1).lower()], h.start(), end, h.group(1)))
        mentions: list[Mention] = []
        taken: list[tuple[int, int]] = []
        low = text.lower()
        for phrase in sorted(LEXICON, key=len, reverse=True):
            for m in re.finditer(r"\b" + re.escape(phrase) + r"\b", low):
                if any(s < m.end() and m.start() < e for s, e in taken):
                    continue
                taken.append((m.start(), m.end()))
                kind, system, code = LEXICON[phrase]
                sent_start = max(low.rfind(".", 0, m.start()), low.rfind("\n", 0, m.start())) + 1
                prefix = low[sent_start:m.start()]
                section = next((s.name for s in sections if s.start <= m.start() < s.end), "unknown")
                assertion = "present"
                if re.search(r"\b(no|denies|negative for)\b", prefix):
                    assertion = "negated"
                elif "family history" in prefix or section == "family_history":
                    assertion = "family"
                elif re.search(r"\b(history of)\b", prefix) or section == "pmh":
                    assertion = "historical"
                elif re.search(r"\b(rule out|possible|suspected)\b", prefix):
                    assertion = "uncertain"
                attrs = {}
                lat = re.search(r"\b(left|right|bilateral)\s+$", prefix)
                if lat:
                    attrs["laterality"] = lat.group(1)
                mentions.append(Mention(m.start(), m.end(), text[m.start():m.end()], kind, section, assertion,
                                        attrs, phrase, [CodeCandidate(system, code, 0.95, phrase)]))  # type: ignore[arg-type]
        mentions.sort(key=lambda x: x.start)
        facts = EncounterFacts()
        t = re.search(r"total time (\d+) min", low)
        if t:
            facts.total_minutes = int(t.group(1))
        facts.new_patient = True if "new patient" in low else False if "established patient" in low else None
        mdm = re.search(r"mdm (straightforward|low|moderate|high)", low)
        if mdm:
            facts.mdm_level = mdm.group(1)  # type: ignore[assignment]
        facts.telehealth = "video" if "video visit" in low else None
        facts.preventive = "annual physical" in low
        therapy = re.search(r"psychotherapy (\d+) min", low)
        if therapy:
            facts.psychotherapy_minutes = int(therapy.group(1))
        return NoteAnalysis(text, mentions, sections, facts)


# ---------------------------------------------------------------------------------------------

NOTES = [
    ("HPI: Established patient with essential hypertension, follow up. Total time 25 min.\n"
     "Assessment: hypertension, stable.", ["I10"], ["99213"]),
    ("HPI: New patient with type 2 diabetes. No chest pain. Total time 50 min.\nAssessment: type 2 diabetes.",
     ["E11.9"], ["99204"]),
    ("HPI: Established patient with cough for 3 days. Total time 15 min. Influenza vaccine given.\n"
     "Assessment: cough.", ["R05.9"], ["99212", "90686", "90471"]),
    ("HPI: Established patient reports left knee pain. MDM moderate.\nAssessment: left knee pain.",
     ["M25.562"], ["99214"]),
    ("HPI: Established patient, chest pain at rest. Electrocardiogram today normal. MDM moderate.\n"
     "Family history of breast cancer.\nAssessment: chest pain.", ["R07.9", "Z80.3"], ["99214", "93000"]),
    ("HPI: Established patient with hypertension and type 2 diabetes. Lipid panel drawn. Total time 32 min.\n"
     "Assessment: hypertension; type 2 diabetes.", ["I10", "E11.9"], ["99214", "80061", "36415"]),
    ("HPI: New patient with pneumonia, cough. Rule out pneumonia? No, confirmed pneumonia. MDM high.\n"
     "Assessment: pneumonia.", ["J18.9", "R05.9"], ["99205"]),
    ("HPI: Established patient, right knee pain after a fall. Total time 22 min.\nAssessment: right knee pain.",
     ["M25.561"], ["99213"]),
]


def _notes(n: int, split: str) -> list[dict]:
    out = []
    for i in range(n):
        text, icd, cpt = NOTES[i % len(NOTES)]
        out.append({"id": f"{split}-{i}", "text": text, "icd10cm": icd, "cpt": cpt, "split": split,
                    "patient": {"age": 40 + i % 30, "sex": "F"}})
    return out


UNIVERSE = sorted({"I10", "E11.9", "E11.65", "C50.919", "C50.911", "R07.9", "R07.89", "M25.561", "M25.562",
                   "M25.569", "R05.9", "J18.9", "Z80.3", "99212", "99213", "99214", "99204", "99205", "90686",
                   "90471", "80061", "36415", "93000"})
CONFIG = {"dense_scope": "off", "code_universe": UNIVERSE, "cv_folds": 2, "ranker_max_iter": 30,
          "supervised_min_count": 2}


@pytest.fixture(scope="module")
def suggester() -> Suggester:
    return Suggester.fit(_notes(32, "train"), _notes(16, "dev"), CONFIG, nlp=StandInNlp())


def _check_evidence(text: str, result: SuggestionSet) -> None:
    for s in [*result.icd10cm, *result.cpt]:
        assert s.evidence, s.code
        for e in s.evidence:
            assert text[e.start:e.end] == e.text


def test_suggest_shape_and_evidence(suggester: Suggester) -> None:
    text = NOTES[5][0]
    r = suggester.suggest(text, {"patient": {"age": 61, "sex": "M"}, "date_of_service": "2026-03-02"})
    assert isinstance(r, SuggestionSet)
    assert len(r.request_id) == 32 and int(r.request_id, 16) >= 0
    assert r.model_version == suggester.model_version and r.model_version.startswith("suggester-")
    assert r.codeset_version
    codes = [s.code for s in r.icd10cm]
    assert "I10" in codes and "E11.9" in codes
    cpt = {s.code: s for s in r.cpt}
    assert "99214" in cpt  # 32 minutes, established
    assert cpt["99214"].dx  # pointers to diagnoses
    assert set(cpt["99214"].dx) <= set(codes)
    _check_evidence(text, r)
    for s in r.icd10cm:
        assert 0.0 <= s.confidence <= 1.0
    assert [s.rank for s in r.icd10cm] == list(range(1, len(r.icd10cm) + 1))
    ranked = [x.code for x in r.ranked.icd10cm]
    assert len(ranked) == len(set(ranked)) and set(codes) <= set(ranked)
    scores = [x.score for x in r.ranked.icd10cm]
    assert scores == sorted(scores, reverse=True)
    json.loads(r.model_dump_json())


def test_negated_family_and_uncertain_give_no_dx(suggester: Suggester) -> None:
    text = ("HPI: Established patient. No chest pain. Family history of breast cancer. Possible pneumonia.\n"
            "Total time 12 min.\nAssessment: cough.")
    r = suggester.suggest(text)
    codes = {s.code for s in r.icd10cm}
    assert "R07.9" not in codes  # negated
    assert not any(c.startswith("C50") for c in codes)  # family member's condition
    assert "J18.9" not in codes  # uncertain: the symptom is coded instead
    assert "R05.9" in codes
    assert "Z80.3" in codes  # family history of malignant neoplasm of breast
    z = next(s for s in r.icd10cm if s.code == "Z80.3")
    assert z.evidence[0].assertion == "family"
    _check_evidence(text, r)


def test_specificity_uses_laterality_or_prompts(suggester: Suggester) -> None:
    r = suggester.suggest("HPI: Established patient with left knee pain. Total time 12 min.\nAssessment: left knee pain.")
    assert "M25.562" in {s.code for s in r.icd10cm}
    info = suggester.info
    code, changed, _, _, prompt = info.resolve("M25.56", {})
    assert code == "M25.569" and changed and prompt and "laterality" in prompt
    code, _, agree, conflict, prompt = info.resolve("M25.56", {"laterality": "right"})
    assert code == "M25.561" and agree == 1 and conflict == 0 and prompt is None


def test_documented_exacerbation_resolves_within_its_code_family(suggester: Suggester) -> None:
    info = suggester.info
    code, changed, agree, _, _ = info.resolve("J45.20", {"exacerbation": "with"})
    assert (code, changed, agree) == ("J45.21", True, 1)  # mild intermittent asthma with exacerbation
    # a family without exacerbation codes keeps its code (no move to an unspecified sibling)
    assert info.resolve("E11.65", {"exacerbation": "with"})[:2] == ("E11.65", False)
    assert info.resolve("M10.9", {"exacerbation": "with"})[:2] == ("M10.9", False)


@pytest.mark.parametrize(("code", "stage", "want"), [
    ("N18.9", "5", "N18.5"),  # CKD, stage documented apart from the name
    ("N18.30", "3a", "N18.31"),
    ("E66.9", "3", "E66.813"),  # obesity class 3
    ("I10", "2", "I10"),  # hypertension stage 2: no staged code in the category
    ("I50.22", "3", "I50.22"),  # NYHA class III: heart failure codes name no class
])
def test_documented_stage_resolves_within_the_category(suggester: Suggester, code: str, stage: str, want: str) -> None:
    got, changed, agree, conflict, _ = suggester.info.resolve(code, {"stage": stage})
    assert (got, changed) == (want, want != code)
    assert (agree, conflict) == (int(want != code), 0)


def test_em_levels_and_modifiers(suggester: Suggester) -> None:
    r = suggester.suggest("HPI: New patient with type 2 diabetes. Total time 47 min. Video visit.\n"
                          "Assessment: type 2 diabetes.", {"setting": "telehealth"})
    em = [s for s in r.cpt if s.code.startswith("992")]
    assert [s.code for s in em] == ["99204"]
    assert "95" in em[0].modifiers


def test_billed_vaccine_brings_z23(suggester: Suggester) -> None:
    import dataclasses

    r = suggester.suggest(NOTES[2][0])
    assert "90686" in {s.code for s in r.cpt}
    z = next(s for s in r.icd10cm if s.code == "Z23")  # not a candidate of this tiny model: the rule adds it
    assert z.evidence and all(NOTES[2][0][e.start:e.end] == e.text for e in z.evidence)
    assert not [f for f in r.validation.findings if f.rule == "dx_not_supporting_procedure"]
    off = Suggester(suggester.nlp, dataclasses.replace(suggester.config, immunization_z23=False))
    off.__dict__.update({k: v for k, v in suggester.__dict__.items() if k != "config"})
    r_off = off.suggest(NOTES[2][0])
    assert "Z23" not in {s.code for s in r_off.icd10cm}
    # without Z23 the validator says the diagnoses do not support the vaccine lines
    assert {"90686", "90471"} <= {c for f in r_off.validation.findings if f.rule == "dx_not_supporting_procedure"
                                  for c in f.codes}


def test_vaccine_admin_added(suggester: Suggester) -> None:
    r = suggester.suggest(NOTES[2][0])
    codes = [s.code for s in r.cpt]
    assert "90686" in codes and "90471" in codes
    em = next(s for s in r.cpt if s.code == "99212")
    assert "25" in em.modifiers


def test_influenza_vaccine_billed_with_its_seasons_valence(suggester: Suggester) -> None:
    # every US flu vaccine is trivalent from the 2024-25 season: "influenza vaccine given" is 90656
    r = suggester.suggest(NOTES[2][0], {"date_of_service": "2025-10-04"})
    codes = [s.code for s in r.cpt]
    assert "90656" in codes and "90686" not in codes and "90471" in codes
    line = next(s for s in r.cpt if s.code == "90656")
    assert line.evidence and all(NOTES[2][0][e.start:e.end] == e.text for e in line.evidence)
    assert not [f for f in r.validation.findings if "90656" in f.codes and f.severity == "error"]
    # a note that names the valence keeps it; before the 2024-25 season the quadrivalent code stays
    said = NOTES[2][0].replace("Influenza vaccine", "Quadrivalent influenza vaccine")
    assert "90686" in {s.code for s in suggester.suggest(said, {"date_of_service": "2025-10-04"}).cpt}
    assert "90686" in {s.code for s in suggester.suggest(NOTES[2][0], {"date_of_service": "2023-10-04"}).cpt}
    # the valence is read on the flu vaccine's own line, not anywhere in the note
    other = NOTES[2][0] + "\nQuadrivalent meningococcal vaccine discussed for next year."
    assert "90656" in {s.code for s in suggester.suggest(other, {"date_of_service": "2025-10-04"}).cpt}


def test_deterministic_and_save_load_roundtrip(suggester: Suggester, tmp_path: Path) -> None:
    text = NOTES[4][0]
    a = suggester.suggest(text).model_dump(exclude={"request_id"})
    b = suggester.suggest(text).model_dump(exclude={"request_id"})
    assert a == b
    folder = suggester.save(tmp_path / "model")
    assert (folder / "config.json").is_file()
    loaded = Suggester.load(folder, nlp=StandInNlp())
    c = loaded.suggest(text).model_dump(exclude={"request_id"})
    assert c == a
    batch = loaded.suggest_batch([text, {"text": NOTES[0][0]}])
    assert batch[0].model_dump(exclude={"request_id"}) == a
    assert batch[1].icd10cm[0].code == "I10"


def test_batch_equals_one_by_one(suggester: Suggester) -> None:
    """suggest_batch shares the supervised product, dense look-ups and reranker across notes;
    every note must still get exactly what suggest() gives it alone (features stay per note)."""
    items = [{"text": t, "patient": {"age": 50, "sex": "F"}} for t, _, _ in NOTES] * 2
    one = [suggester.suggest(i["text"], i).model_dump(exclude={"request_id"}) for i in items]
    many = [r.model_dump(exclude={"request_id"}) for r in suggester.suggest_batch(items)]
    assert many == one


def test_batched_scoring_keeps_features_per_note(suggester: Suggester) -> None:
    import copy

    from pipelines.features import FEATURES, Candidate

    class CompetingOnly:
        def decision_scores(self, X: np.ndarray) -> np.ndarray:
            return X[:, FEATURES.index("competing")] / 10

    s = copy.copy(suggester)
    s.ranker, s.calibrators = CompetingOnly(), {}  # type: ignore[assignment]
    a = [Candidate("icd10cm", "C50.911"), Candidate("icd10cm", "C50.919")]
    b = [Candidate("icd10cm", "C50.912")]
    np.testing.assert_allclose(s._score(a + b, [2, 1]), np.concatenate([s._score(a), s._score(b)]))
    assert s._score(a + b, [2, 1])[2] == 0.0  # b's only C50 code competes with nothing in its own note


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_suggester(str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError):
        Suggester.load(tmp_path)
    with pytest.raises(ValueError):
        Suggester.fit([], [], CONFIG, nlp=StandInNlp())


def test_config_from_dict_ignores_unknown_keys() -> None:
    cfg = SuggestConfig.from_any({"dense_scope": "off", "nonsense": 1})
    assert cfg.dense_scope == "off"


def test_cli_suggest_errors(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from serving.cli import build_app

    runner = CliRunner()
    app = build_app()
    r = runner.invoke(app, ["suggest", str(tmp_path / "nope.txt")])
    assert r.exit_code == 2 and "note file not found" in r.output
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    r = runner.invoke(app, ["suggest", str(empty)])
    assert r.exit_code == 2 and "empty" in r.output
    note = tmp_path / "note.txt"
    note.write_text("Assessment: hypertension.")
    r = runner.invoke(app, ["suggest", str(note), "--format", "xml"])
    assert r.exit_code == 2 and "unknown format" in r.output
    r = runner.invoke(app, ["suggest", str(note), "--sex", "Q"])
    assert r.exit_code == 2 and "patient.sex" in r.output
    r = runner.invoke(app, ["suggest", str(note), "--model", str(tmp_path / "no-model")])
    assert r.exit_code == 2 and "no Suggester artifact" in r.output


def test_locate_evidence_skips_negated_sentences() -> None:
    from pipelines.suggest import _locate

    text = "HPI: No chest pain today.\nAssessment: atypical chest pain, musculoskeletal."
    an = StandInNlp().analyze(text)
    ev = _locate(text, an, ["chest pain, unspecified"])
    assert len(ev) == 1
    assert text[ev[0].start:ev[0].end] == ev[0].text
    assert "atypical chest pain" in ev[0].text and "No chest pain" not in ev[0].text
    assert _locate(text, an, ["fracture of femur"]) == []


@pytest.mark.parametrize(("age", "new", "expected"), [(50, False, "99396"), (70, False, "99397"), (30, True, "99385"),
                                                   (30, None, "99395")])
def test_preventive_code_follows_the_patients_age_band(suggester: Suggester, age: int, new: bool | None,
                                                       expected: str) -> None:
    # the ranker is most confident in the 65+ established code (say, the text resembles
    # training notes of older patients); the selection bills the patient's own band
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Annual physical. Hypertension, stable."
    analysis = suggester.nlp.analyze(text)
    analysis.facts.new_patient = new
    scored = [(Candidate("cpt", "99397", rule=1.0, em={"preventive": 1.0}), 0.93),
              (Candidate("cpt", "99396", rule=1.0, em={"preventive": 1.0}), 0.04),
              (Candidate("cpt", "99395", rule=1.0, em={"preventive": 1.0}), 0.02),
              (Candidate("cpt", "99385", rule=1.0, em={"preventive": 1.0}), 0.01)]
    _, cpt = suggester._select(_request(text, {"patient": {"age": age, "sex": "F"}}), analysis, scored)
    assert [c.code for c in cpt] == [expected]
    _, unknown_age = suggester._select(_request(text, {}), analysis, scored)
    assert [c.code for c in unknown_age] == ["99397"]  # no age: nothing to check against


def test_documented_preventive_visit_is_billed_even_when_the_ranker_doubts_it(suggester: Suggester) -> None:
    # the ranker leans on note-level scores, which fade on unfamiliar wording; the preventive
    # code of a documented preventive visit follows from the facts and the age band alone
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Annual physical. Established patient. Hypertension, stable."
    analysis = suggester.nlp.analyze(text)
    scored = [(Candidate("cpt", "99396", rule=1.0, em={"preventive": 1.0}), 0.05),
              (Candidate("cpt", "99213", rule=1.0, em={"mdm": 1.0}), 0.05)]
    req = _request(text, {"patient": {"age": 50, "sex": "F"}})
    s = Suggester(suggester.nlp, suggester.config)
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5, "em": 0.3}
    _, cpt = s._select(req, analysis, scored)
    assert [c.code for c in cpt] == ["99396"]  # the problem-oriented level still needs the ranker
    # without the preventive fact (the rule did not pick it) the threshold applies as before
    unruled = [(Candidate("cpt", "99396", em={"preventive": 0.0}), 0.05)]
    assert s._select(req, analysis, unruled)[1] == []


@pytest.mark.parametrize(
    ("patient", "icd_scores", "expected"),
    [
        ({"age": 50, "sex": "M"}, {"Z00.00": 0.11, "Z00.01": 0.05, "I10": 0.9}, "Z00.00"),
        ({"age": 50, "sex": "M"}, {"Z00.00": 0.01, "Z00.01": 0.2}, "Z00.01"),  # the ranker picks the member
        ({"age": 8, "sex": "M"}, {"Z00.00": 0.3}, "Z00.129"),  # a child: no adult exam code; none scored
        ({"age": 30, "sex": "F"}, {"Z00.00": 0.05, "Z01.419": 0.2}, "Z01.419"),  # a gynecological exam
        ({"age": 30, "sex": "M"}, {"Z01.419": 0.2}, "Z00.00"),  # no gynecological exam for a male
        ({"age": 50, "sex": "M"}, {"Z00.01": 0.7}, "Z00.01"),  # already coded by the ranker: not twice
    ],
)
def test_preventive_visit_brings_its_examination_code(suggester: Suggester, patient: dict, icd_scores: dict[str, float],
                                                     expected: str) -> None:
    # payers deny a preventive medicine line without an encounter-for-examination diagnosis
    # (guidelines I.C.21.c.13): the age and sex give the family, the ranker the member
    import dataclasses

    from models.em import preventive_code
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = ("Annual physical. Established patient. Hypertension, stable.\n"
            "Encounter for general adult medical examination with abnormal findings.")
    analysis = suggester.nlp.analyze(text)
    prev = preventive_code(patient["age"], False)
    scored = [(Candidate("cpt", prev, rule=1.0, em={"preventive": 1.0}), 0.9)]
    # only a candidate above the threshold is located in the text (by its code title)
    scored += [(Candidate("icd10cm", c, rule=1.0, sup_rank=0 if q >= 0.5 else 10**6), q) for c, q in icd_scores.items()]
    s = Suggester(suggester.nlp, suggester.config)
    s.__dict__.update({k: v for k, v in suggester.__dict__.items() if k not in ("config", "thresholds")})
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5, "em": 0.3}
    icd, cpt = s._select(_request(text, {"patient": patient, "date_of_service": "2025-03-04"}), analysis, scored)
    assert [c.code for c in cpt] == [prev]
    exam = [x for x in icd if x.code[:3] in ("Z00", "Z01")]
    assert [x.code for x in exam] == [expected]
    assert exam[0].evidence and all(text[e.start:e.end] == e.text for e in exam[0].evidence)
    assert 0 < exam[0].confidence <= 0.9
    # switched off, or without a preventive line, the ranker alone decides
    off = Suggester(suggester.nlp, dataclasses.replace(suggester.config, routine_exam_dx=False))
    off.__dict__.update({k: v for k, v in s.__dict__.items() if k != "config"})
    no_prev = [x for x in scored if x[0].system == "icd10cm"]
    for sug, sc in ((off, scored), (s, no_prev)):
        got = [x.code for x in sug._select(_request(text, {"patient": patient}), analysis, sc)[0]]
        assert [c for c in got if c[:3] in ("Z00", "Z01")] == [c for c, q in icd_scores.items() if q >= 0.5 and c[:3] in ("Z00", "Z01")]


@pytest.mark.parametrize(("dx", "expected"), [({}, ["Z13.220"]), ({"E78.5": 0.9}, [])])
def test_screening_test_at_a_preventive_visit_brings_its_screening_code(suggester: Suggester, dx: dict[str, float],
                                                                        expected: list[str]) -> None:
    # a lipid panel at a wellness visit screens (Z13.220) unless a lipid disorder is coded
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = ("Annual physical. Established patient. Fasting lipid panel drawn today.\n"
            "Hyperlipidemia, on a statin.")
    analysis = suggester.nlp.analyze(text)
    scored = [(Candidate("cpt", "99396", rule=1.0, em={"preventive": 1.0}), 0.9), (Candidate("cpt", "80061", rule=1.0), 0.8)]
    scored += [(Candidate("icd10cm", c, rule=1.0, sup_rank=0), q) for c, q in dx.items()]
    s = Suggester(suggester.nlp, suggester.config)
    s.__dict__.update({k: v for k, v in suggester.__dict__.items() if k not in ("config", "thresholds")})
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5, "em": 0.3}
    icd, cpt = s._select(_request(text, {"patient": {"age": 50, "sex": "M"}, "date_of_service": "2025-03-04"}),
                         analysis, scored)
    assert {"99396", "80061"} <= {c.code for c in cpt}
    got = [x for x in icd if x.code.startswith("Z13")]
    assert [x.code for x in got] == expected
    for x in got:
        assert x.evidence and all(text[e.start:e.end] == e.text for e in x.evidence)
        assert x.confidence == 0.8  # the visit's and the test's confidence, the lower
    lab = next(c for c in cpt if c.code == "80061")
    assert set(expected) <= set(lab.dx)  # the lipid panel points at its screening code
    # no preventive visit: the same lipid panel is not called screening
    icd2, _ = s._select(_request(text, {"patient": {"age": 50, "sex": "M"}}), analysis, scored[1:])
    assert not [x for x in icd2 if x.code.startswith("Z13")]


@pytest.mark.parametrize(("labs", "venipuncture"), [(["80061"], True), (["81003"], False), (["87880", "81003"], False),
                                                    (["81003", "85025"], True)])
def test_venipuncture_is_added_only_for_blood_tests(suggester: Suggester, labs: list[str], venipuncture: bool) -> None:
    from pipelines.features import Candidate
    from pipelines.nlp.types import Mention
    from pipelines.suggest import _request

    text = "Established patient with hypertension. Labs today as ordered. Total time 25 min."
    analysis = suggester.nlp.analyze(text)
    lab = Mention(40, 44, "Labs", "lab", "plan", "present", {}, "labs", [])
    analysis.mentions.append(lab)
    scored = [(Candidate("cpt", code, rule=1.0, mentions=[lab]), 0.95) for code in labs]
    _, cpt = suggester._select(_request(text, {}), analysis, scored)
    codes = [c.code for c in cpt]
    assert set(labs) <= set(codes)
    assert ("36415" in codes) is venipuncture


@pytest.mark.parametrize(("minutes", "ranked", "expected"), [(8, "99407", "99406"), (15, "99406", "99407"),
                                                           (None, "99407", "99407"), (2, "99407", "99407")])
def test_tobacco_counseling_code_follows_the_documented_minutes(suggester: Suggester, minutes: int | None,
                                                                ranked: str, expected: str) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Established patient, current smoker. Smoking cessation counseling given."
    analysis = suggester.nlp.analyze(text)
    analysis.facts.tobacco_counseling_minutes = minutes
    _, cpt = suggester._select(_request(text, {}), analysis, [(Candidate("cpt", ranked, rule=1.0), 0.97)])
    assert [c.code for c in cpt] == [expected]


@pytest.mark.parametrize(("fact", "minutes", "ranked", "expected"), [
    ("tobacco_counseling_minutes", 15, ["99406", "99407"], ["99407"]),  # both bands ranked: the documented one, once
    ("tobacco_counseling_minutes", None, ["99407", "99406"], ["99407"]),  # no minutes: the more probable band only
    ("psychotherapy_minutes", 63, ["90832", "90837", "90834"], ["90837"]),
    ("psychotherapy_minutes", None, ["90834", "90837"], ["90834"]),
])
def test_one_time_band_per_encounter(suggester: Suggester, fact: str, minutes: int | None, ranked: list[str],
                                     expected: list[str]) -> None:
    # psychotherapy (90832/90834/90837) and tobacco counseling (99406/99407) bill one time band each
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Established patient, current smoker. Smoking cessation counseling given. Psychotherapy provided."
    analysis = suggester.nlp.analyze(text)
    setattr(analysis.facts, fact, minutes)
    scored = [(Candidate("cpt", c, rule=1.0), 0.97 - i / 10) for i, c in enumerate(ranked)]
    _, cpt = suggester._select(_request(text, {}), analysis, scored)
    assert [c.code for c in cpt] == expected


def test_guideline_combination_codes_are_candidates_and_replace_their_components(suggester: Suggester) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _add_combinations, _CandidateBuilder, _request

    text = "Assessment: hypertension; chronic kidney disease stage 3. No heart failure."
    analysis = NoteAnalysis(text, [
        Mention(12, 24, "hypertension", "condition", "assessment", "present", {}, "hypertension",
                [CodeCandidate("icd10cm", "I10", 0.95, "hypertension")]),
        Mention(26, 58, "chronic kidney disease stage 3", "condition", "assessment", "present", {"stage": "3"}, "ckd",
                [CodeCandidate("icd10cm", "N18.30", 0.95, "ckd")]),
        Mention(63, 76, "heart failure", "condition", "assessment", "negated", {}, "hf",
                [CodeCandidate("icd10cm", "I50.9", 0.95, "heart failure")]),
    ], [], EncounterFacts())
    b = _CandidateBuilder(suggester)
    _add_combinations(b, analysis)
    assert set(b.cands) == {("icd10cm", "I12.9")}  # negated heart failure: not I13.0
    combo = b.cands[("icd10cm", "I12.9")]
    assert combo.rule == 1.0 and {m.text for m in combo.mentions} == {"hypertension", "chronic kidney disease stage 3"}
    scored = [(Candidate("icd10cm", "I10", lex=0.95, mentions=[analysis.mentions[0]]), 0.9),
              (Candidate("icd10cm", "N18.30", lex=0.95, mentions=[analysis.mentions[1]]), 0.9), (combo, 0.8)]
    s = Suggester(suggester.nlp, suggester.config)
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5}
    icd, _ = s._select(_request(text, {}), analysis, scored)
    assert [c.code for c in icd] == ["N18.30", "I12.9"]  # I10 is redundant once I12.9 is billed
    scored[2] = (combo, 0.3)  # the ranker does not believe the link: the components stay
    assert [c.code for c in s._select(_request(text, {}), analysis, scored)[0]] == ["I10", "N18.30"]


@pytest.mark.parametrize(("line", "expected"), [("Procedure: chest x-ray, PA and lateral.", "71046"),
                                               ("Procedure: chest x-ray, single view.", "71045"),
                                               ("Procedure: chest x-ray.", "71047")])
def test_xray_code_follows_the_documented_views(suggester: Suggester, line: str, expected: str) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = f"Established patient with cough.\n{line}"
    analysis = suggester.nlp.analyze(text)
    start = text.index("chest x-ray")
    m = Mention(start, start + 11, "chest x-ray", "procedure", "procedure", "present", {}, "cxr",
                [CodeCandidate("cpt", "71047", 0.9, "chest x-ray")])
    _, cpt = suggester._select(_request(text, {}), analysis, [(Candidate("cpt", "71047", lex=0.9, mentions=[m]), 0.95)])
    assert [c.code for c in cpt] == [expected]  # the ranker's pick stands when no view count is documented


@pytest.mark.parametrize(("a", "b", "opposite"), [("Z00.121", "Z00.129", True), ("E11.649", "E11.641", True),
                                                  ("J45.40", "J45.41", True), ("E11.9", "E11.65", True),
                                                  ("E11.65", "E11.22", False), ("I10", "I12.9", False)])
def test_contradictory_siblings(suggester: Suggester, a: str, b: str, opposite: bool) -> None:
    from pipelines.features import contradictory

    da, db = suggester.info.icd_description(a), suggester.info.icd_description(b)
    assert contradictory(da, db) is opposite and contradictory(db, da) is opposite


def test_only_the_more_probable_of_two_contradictory_siblings_is_suggested(suggester: Suggester) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Well child visit. Assessment: well child exam, normal."
    analysis = suggester.nlp.analyze(text)
    m = Mention(30, 45, "well child exam", "condition", "assessment", "present", {}, "wcc", [])
    scored = [(Candidate("icd10cm", "Z00.129", lex=0.9, mentions=[m]), 0.8),
              (Candidate("icd10cm", "Z00.121", lex=0.9, mentions=[m]), 0.7)]
    s = Suggester(suggester.nlp, suggester.config)
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5}
    icd, _ = s._select(_request(text, {}), analysis, scored)
    assert [c.code for c in icd] == ["Z00.129"]


@pytest.mark.parametrize(("unspecified", "specific", "redundant"), [
    ("G43.909", "G43.709", True),  # migraine, unspecified beside chronic migraine: one migraine
    ("M25.569", "M25.561", True),  # pain in unspecified knee beside pain in right knee
    ("E66.9", "E66.01", True),
    ("F32.A", "F32.1", True),  # depression, unspecified beside major depressive disorder (depression ~ depressive)
    ("F41.9", "F41.1", True),  # anxiety disorder, unspecified beside generalized anxiety disorder
    ("G43.919", "G43.909", False),  # intractable vs not intractable: not the same detail
    ("F32.A", "F34.1", False),  # dysthymic disorder names no depression
    ("E11.319", "E11.22", False),  # an unspecified retinopathy is another complication
    ("F43.10", "F43.23", False),  # another condition of the category
    ("G43.709", "G43.909", False),  # the specific code is never the redundant one
])
def test_redundant_unspecified(suggester: Suggester, unspecified: str, specific: str, redundant: bool) -> None:
    from pipelines.features import redundant_unspecified

    d = suggester.info.icd_description
    assert redundant_unspecified(d(unspecified), d(specific)) is redundant


def test_an_unspecified_code_is_not_billed_beside_its_specific_sibling(suggester: Suggester) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Assessment: chronic migraine without aura. Migraine."
    analysis = suggester.nlp.analyze(text)
    m1 = Mention(12, 42, "chronic migraine without aura", "condition", "assessment", "present", {}, "cm", [])
    m2 = Mention(44, 52, "Migraine", "condition", "assessment", "present", {}, "m", [])
    scored = [(Candidate("icd10cm", "G43.909", lex=0.9, mentions=[m2]), 0.9),
              (Candidate("icd10cm", "G43.709", lex=0.9, mentions=[m1]), 0.8),
              (Candidate("icd10cm", "I10", lex=0.9, mentions=[m2]), 0.7)]
    s = Suggester(suggester.nlp, suggester.config)
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5}
    icd, _ = s._select(_request(text, {}), analysis, scored)
    assert [(c.code, c.rank) for c in icd] == [("G43.709", 1), ("I10", 2)]
    # a case report of another corpus (CodiEsp) keeps both: its coders code them together
    icd, _ = s._select(_request(text, {}), analysis, scored, primary=False)
    assert [c.code for c in icd] == ["G43.909", "G43.709", "I10"]


def test_a_combination_code_chosen_by_the_ranker_drops_its_components(suggester: Suggester) -> None:
    # I25.118 (CAD with other angina) says all that I25.10 (CAD without angina) and I20.9 would:
    # billed together they contradict each other, whatever produced the combination code
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Assessment: CAD with stable angina. Coronary artery disease. Angina."
    analysis = suggester.nlp.analyze(text)
    m = Mention(12, 34, "CAD with stable angina", "condition", "assessment", "present", {}, "cad", [])
    scored = [(Candidate("icd10cm", "I25.118", lex=0.9, mentions=[m]), 0.9),
              (Candidate("icd10cm", "I25.10", lex=0.9, mentions=[m]), 0.8),
              (Candidate("icd10cm", "I20.9", lex=0.9, mentions=[m]), 0.7),
              (Candidate("icd10cm", "I10", lex=0.9, mentions=[m]), 0.6)]
    s = Suggester(suggester.nlp, suggester.config)
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5}
    icd, _ = s._select(_request(text, {}), analysis, scored)
    assert [(c.code, c.rank) for c in icd] == [("I25.118", 1), ("I10", 2)]


def test_a_telephone_em_is_not_billed_with_an_office_em(suggester: Suggester) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Telephone visit, 15 minutes of medical discussion. Assessment: cough."
    analysis = suggester.nlp.analyze(text)
    scored = [(Candidate("cpt", "99442", rule=1.0, em={"phone": 1.0}), 0.95),
              (Candidate("cpt", "99212", rule=1.0, em={"mdm": 1.0}), 0.8)]
    s = Suggester(suggester.nlp, suggester.config)
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5, "em": 0.3}
    req = _request(text, {"setting": "telehealth", "date_of_service": "2024-05-23"})
    assert [c.code for c in s._select(req, analysis, scored)[1]] == ["99442"]
    # the more probable of the two stays
    flipped = [(scored[1][0], 0.9), (scored[0][0], 0.6)]  # scored comes best first
    assert [c.code for c in s._select(req, analysis, flipped)[1]] == ["99212"]


def test_depression_screening_at_a_medicare_wellness_visit_is_g0444(suggester: Suggester) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Subsequent annual wellness visit. PHQ-9 depression screening administered, score 2."
    analysis = suggester.nlp.analyze(text)
    m = Mention(34, 57, "PHQ-9 depression screen", "procedure", "unknown", "present", {}, "phq", [])
    scored = [(Candidate("cpt", "G0439", rule=1.0, em={"preventive": 1.0}), 0.95),
              (Candidate("cpt", "96127", lex=0.9, mentions=[m]), 0.9)]
    s = Suggester(suggester.nlp, suggester.config)
    s.__dict__.update({k: v for k, v in suggester.__dict__.items() if k not in ("config", "thresholds")})
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5, "em": 0.3}
    _, cpt = s._select(_request(text, {"patient": {"age": 72, "sex": "F"}}), analysis, scored)
    g = next(c for c in cpt if c.code == "G0444")
    assert "96127" not in {c.code for c in cpt} and g.confidence == 0.9
    assert [e.text for e in g.evidence] == ["PHQ-9 depression screen"]
    _, younger = s._select(_request(text, {"patient": {"age": 60, "sex": "F"}}), analysis, scored)
    assert "96127" in {c.code for c in younger} and "G0444" not in {c.code for c in younger}


def test_ultrasound_guided_joint_injection_is_billed_with_its_guided_code(suggester: Suggester) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Procedure: right knee injection under ultrasound guidance, images recorded.\nAssessment: knee OA."
    analysis = suggester.nlp.analyze(text)
    start = text.index("right knee injection")
    m = Mention(start, start + 20, "right knee injection", "procedure", "procedure", "present", {}, "inj", [])
    _, cpt = suggester._select(_request(text, {}), analysis, [(Candidate("cpt", "20610", lex=0.9, mentions=[m]), 0.95)])
    line = next(c for c in cpt if c.code.startswith("206"))
    assert line.code == "20611" and [e.text for e in line.evidence] == ["right knee injection"]


@pytest.mark.parametrize(("count", "expected"), [("20", [("17004", 1)]), ("3", [("17000", 1), ("17003", 2)])])
def test_premalignant_lesion_destruction_follows_the_documented_count(suggester: Suggester, count: str,
                                                                      expected: list[tuple[str, int]]) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = f"Procedure: cryotherapy to {count} actinic keratoses of the scalp.\nAssessment: actinic keratosis."
    analysis = suggester.nlp.analyze(text)
    start = text.index("cryotherapy")
    m = Mention(start, start + 11, "cryotherapy", "procedure", "procedure", "present", {}, "cryo", [])
    scored = [(Candidate("cpt", "17000", lex=0.9, mentions=[m]), 0.95), (Candidate("cpt", "17003", lex=0.9, mentions=[m]), 0.9)]
    _, cpt = suggester._select(_request(text, {}), analysis, scored)
    got = [(c.code, c.units) for c in cpt if c.code.startswith("1700")]
    assert got == expected
    assert all(c.evidence and c.confidence == 0.95 for c in cpt if c.code.startswith("1700"))


def test_a_family_history_code_is_supported_by_its_family_mention(suggester: Suggester) -> None:
    # "family history of breast cancer": the family mention is the evidence of Z80.3 itself
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Assessment: essential tremor.\nRelevant history: family history of breast cancer."
    analysis = suggester.nlp.analyze(text)
    m = next(x for x in analysis.mentions if "breast cancer" in x.text)
    assert m.assertion == "family"
    cands = suggester.candidates(_request(text, {}), analysis, [])
    z = cands[("icd10cm", "Z80.3")]
    assert z.rule >= 1.0 and z.asserted and "history_rule" in z.sources
    s = Suggester(suggester.nlp, suggester.config)
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5}
    icd, _ = s._select(_request(text, {}), analysis, [(z, 0.9)])
    assert [(c.code, c.evidence[0].assertion) for c in icd] == [("Z80.3", "family")]
    # the patient's own code is never taken from a family mention
    c50 = Candidate("icd10cm", "C50.919", lex=0.9, mentions=[m])
    assert not c50.asserted


def test_a_note_is_primary_unless_another_corpus_outweighs_it(suggester: Suggester) -> None:
    import types

    import numpy as np

    from models.corpus import PRIMARY

    s = Suggester(suggester.nlp, suggester.config)
    assert s._primary(None)
    s.corpus_model = types.SimpleNamespace(classes_=np.array(["codiesp", PRIMARY]))
    assert not s._primary(np.array([0.7, 0.3]))
    assert s._primary(np.array([0.4, 0.6]))


@pytest.mark.parametrize(("sentence", "planned"), [
    ("Will schedule lumbar spine MRI.", True),
    ("Ordered lumbar spine MRI at outside imaging center.", True),
    ("Referred for colonoscopy.", True),
    ("Knee x-ray pending.", True),
    ("Knee x-ray to be done next week.", True),
    ("Knee x-ray performed today.", False),
    ("Lipid panel ordered and drawn today.", False),  # done at this visit after all
    ("Labs drawn today: lipid panel.", False),
    ("Electrocardiogram: normal sinus rhythm.", False),
    # results from before this encounter are not billed again
    ("Reviewed labs: lipid panel LDL 146.", True),
    ("Most recent labs - lipid panel LDL 146.", True),
    ("Recent labs: lipid panel LDL 146.", True),
    ("Prior MRI showed a disc bulge.", True),
    ("Recent labs reviewed; lipid panel drawn today.", False),  # and one done today
    ("Lipid panel reviewed with the patient.", False),
])
def test_planned_only_procedures(sentence: str, planned: bool) -> None:
    from pipelines.features import planned_only

    words = ("MRI", "colonoscopy", "x-ray", "panel", "Electrocardiogram")
    word = next(w for w in words if w in sentence)
    start = sentence.index(word)
    m = Mention(start, start + len(word), word, "procedure", "plan", "present")
    text = f"Plan discussed.\n{sentence}\nTotal time 25 min."
    m.start, m.end = m.start + 16, m.end + 16  # offsets into the note
    assert planned_only(text, m) is planned


def test_planned_procedures_are_not_billed_and_one_xray_code_per_site(suggester: Suggester) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    def cand(code: str, text: str, word: str) -> Candidate:
        start = text.index(word)
        m = Mention(start, start + len(word), word, "procedure", "plan", "present")
        return Candidate("cpt", code, lex=0.9, mentions=[m])

    text = "Established patient with low back pain.\nWill schedule lumbar spine MRI.\nKnee x-ray, 2 views, done today."
    scored = [(cand("72148", text, "MRI"), 0.9), (cand("73560", text, "Knee x-ray"), 0.8),
              (cand("73562", text, "Knee x-ray"), 0.7)]
    _, cpt = suggester._select(_request(text, {}), suggester.nlp.analyze(text), scored)
    assert [c.code for c in cpt] == ["73560"]  # the MRI is only scheduled; knee 1-2 views, not both knee codes


def test_codes_in_an_excludes1_relation_are_never_suggested_together(suggester: Suggester) -> None:
    # Z72.0 (tobacco use) Excludes1 nicotine dependence (F17.2-): the more probable one is kept
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Assessment: tobacco use disorder."
    analysis = suggester.nlp.analyze(text)
    m = Mention(12, 32, "tobacco use disorder", "condition", "assessment", "present", {}, "tobacco", [])
    s = Suggester(suggester.nlp, suggester.config)
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5}
    for first, second in (("F17.210", "Z72.0"), ("Z72.0", "F17.210")):
        scored = [(Candidate("icd10cm", first, lex=0.9, mentions=[m]), 0.8),
                  (Candidate("icd10cm", second, lex=0.9, mentions=[m]), 0.7)]
        icd, _ = s._select(_request(text, {}), analysis, scored)
        assert [c.code for c in icd] == [first]
        assert s._validate(_request(text, {}), icd, []).status != "fail"


def test_unseen_code_simulation_hides_a_stable_share_of_codes() -> None:
    from pipelines.suggest import _hidden_codes

    codes = {f"C{i:03d}" for i in range(2000)}
    a = _hidden_codes(codes, 0.3, 0, 0)
    assert a == _hidden_codes(set(sorted(codes, reverse=True)), 0.3, 0, 0)  # order-free
    assert 0.25 < len(a) / len(codes) < 0.35
    assert a != _hidden_codes(codes, 0.3, 0, 1)  # another fold hides other codes
    assert _hidden_codes(codes, 0.0, 0, 0) == set()


def test_fit_with_unseen_code_simulation(suggester: Suggester) -> None:
    s = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**CONFIG, "unseen_frac": 0.3}, nlp=StandInNlp())
    # the full models still see every code: hiding only shapes the ranker's training rows
    assert set(s.priors["icd10cm"]) == set(suggester.priors["icd10cm"])
    r = s.suggest(NOTES[0][0])
    assert "I10" in [c.code for c in r.icd10cm]


@pytest.mark.parametrize(("codes", "expected"), [(["99213", "90834"], ["99213", "90836"]),
                                                 (["90836"], ["90834"]), (["90837"], ["90837"])])
def test_psychotherapy_with_em_uses_the_add_on_code(suggester: Suggester, codes: list[str], expected: list[str]) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    text = "Established patient. Psychotherapy time: 45 minutes. Total time 20 min."
    analysis = suggester.nlp.analyze(text)
    scored = [(Candidate("cpt", c, rule=1.0, em={"time": 1.0}), 0.9 - i / 10) for i, c in enumerate(codes)]
    _, cpt = suggester._select(_request(text, {"patient": {"age": 40, "sex": "F"}}), analysis, scored)
    assert [c.code for c in cpt] == expected


@pytest.mark.parametrize(("dos", "minutes", "phone"), [("2024-06-03", 15, "99442"), ("2024-06-03", 25, "99443"),
                                                       ("2025-03-03", 15, None), ("2024-06-03", None, None)])
def test_audio_only_visits_before_2025_use_telephone_em(suggester: Suggester, dos: str, minutes: int | None,
                                                        phone: str | None) -> None:
    from pipelines.suggest import _request

    facts = EncounterFacts(total_minutes=minutes, new_patient=False, telehealth="audio")
    lines = suggester._em_lines(_request("x", {"date_of_service": dos, "setting": "telehealth"}), facts)
    picked = [code for code, _, _, chosen in lines if chosen]
    if phone:
        assert picked == [phone]
    else:
        assert not any(c.startswith("9944") for c in picked)


def test_em_lines_have_their_own_threshold(suggester: Suggester) -> None:
    from pipelines.features import Candidate
    from pipelines.suggest import _request

    assert 0.0 < suggester.thresholds["em"] < 1.0  # tuned on dev, on each note's top E/M candidate
    text = "Established patient with hypertension. Total time 25 min."
    analysis = suggester.nlp.analyze(text)
    scored = [(Candidate("cpt", "99213", rule=1.0, em={"time": 1.0}), 0.3), (Candidate("cpt", "93000", rule=1.0), 0.3)]
    s = Suggester(suggester.nlp, suggester.config)
    s.thresholds = {"icd10cm": 0.5, "cpt": 0.5, "em": 0.2}
    _, cpt = s._select(_request(text, {}), analysis, scored)
    assert [c.code for c in cpt] == ["99213"]  # the E/M passes its threshold, the other line does not
    s.thresholds["em"] = 0.4
    assert s._select(_request(text, {}), analysis, scored)[1] == []
    del s.thresholds["em"]  # models saved before E/M thresholds existed use the CPT threshold
    assert s._select(_request(text, {}), analysis, scored)[1] == []


def test_header_dropout_blanks_headers_in_place(suggester: Suggester) -> None:
    from pipelines.suggest import _blank_headers

    text = NOTES[4][0]
    bare = _blank_headers(text, suggester.nlp.analyze(text))
    assert len(bare) == len(text) and "Assessment:" not in bare and "HPI:" not in bare
    assert {s.name for s in suggester.nlp.analyze(bare).sections} <= {"unknown"}
    i = text.index("chest pain")
    assert bare[i:i + 10] == "chest pain"  # every word keeps its offset (gold evidence spans hold)
    s = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**CONFIG, "header_dropout": 0.5}, nlp=StandInNlp())
    assert "I10" in [c.code for c in s.suggest(NOTES[0][0]).icd10cm]


@pytest.mark.parametrize(("dos", "expected"), [("2024-05-02", ["Z86.010"]), ("2025-05-02", ["Z86.0100"]),
                                               ("", ["Z86.0100"]), ("2031-01-01", ["Z86.0100"])])
def test_icd_codes_follow_the_fiscal_year_of_the_date_of_service(suggester: Suggester, dos: str,
                                                                 expected: list[str]) -> None:
    # Z86.0100 exists from FY2025; on an FY2024 date the then-billable parent Z86.010 is billed.
    # No date, or a date outside the loaded code sets: the newest year's code.
    from pipelines.features import Candidate
    from pipelines.nlp.types import Mention
    from pipelines.suggest import _request

    text = "History of colon polyps."
    analysis = suggester.nlp.analyze(text)
    m = Mention(0, 24, text[:24], "condition", "pmh", "present")
    scored = [(Candidate("icd10cm", "Z86.0100", lex=1.0, mentions=[m]), 0.95)]
    icd, _ = suggester._select(_request(text, {"date_of_service": dos} if dos else {}), analysis, scored)
    assert [c.code for c in icd] == expected
    assert all(c.billable for c in icd)
    # the other way round: a note-level prediction learnt from FY2024 notes (Z86.010) is billed
    # as the newer years' unspecified child
    old = [(Candidate("icd10cm", "Z86.010", sup=0.9, mentions=[m]), 0.95)]
    icd, _ = suggester._select(_request(text, {"date_of_service": dos} if dos else {}), analysis, old)
    in_code_sets = dos.startswith(("2024", "2025"))
    assert [c.code for c in icd] == (expected if in_code_sets else ["Z86.010"])  # no usable date: the code stands


def test_confident_note_level_codes_may_cite_their_best_sentence(suggester: Suggester) -> None:
    from pipelines.features import Candidate

    # "BP" is no known phrasing of I10, so only the note-level model can propose it; with
    # `sup_evidence` it cites the sentence that alone scores I10 highest (never a negated one)
    text = "HPI: Established patient with elevated BP readings at home on amlodipine. No chest pain.\nAssessment: stable."
    analysis = suggester.nlp.analyze(text)
    cand = Candidate("icd10cm", "I10", sup=0.8, sup_rank=0)
    s = Suggester(suggester.nlp, SuggestConfig(**{**CONFIG, "sup_evidence": 0.0}))
    s.supervised, s.term_index = suggester.supervised, suggester.term_index
    assert s._support(text, analysis, cand) is None  # off: no known phrasing, no evidence
    s.config.sup_evidence = 0.5
    ev = s._support(text, analysis, cand)
    assert ev is not None and len(ev) == 1
    assert "chest pain" not in ev[0].text and text[ev[0].start:ev[0].end] == ev[0].text
    cand.sup = 0.4
    assert s._support(text, analysis, cand) is None  # below the configured probability


class _WordEncoder:
    """A stand-in encoder: each word a fixed random direction, a text the normalised sum."""

    dim = 64

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i] += np.random.default_rng(sum(map(ord, w))).standard_normal(self.dim)
        n = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(n == 0, 1, n)


def test_open_phrases_reach_codes_through_the_term_and_dense_indexes(suggester: Suggester) -> None:
    from models.dense import DenseIndex
    from models.lexical import TermIndex

    text = "HPI: Established patient with sugar illness. No lung infection.\nAssessment: sugar illness; lung infection."
    analysis = suggester.nlp.analyze(text)

    def phrase(words: str, start: int, assertion: str) -> Mention:
        end = start + len(words)
        return Mention(start, end, text[start:end], "phrase", "hpi", assertion, concept=words)  # type: ignore[arg-type]

    at = text.index("sugar illness")
    lung = text.index("lung infection")
    analysis.phrases = [phrase("sugar illness", at, "present"), phrase("lung infection", lung, "negated"),
                        phrase("lung infection", text.index("lung infection", lung + 1), "present")]
    analysis.phrases.append(phrase("Established", 5, "present"))
    s = Suggester(suggester.nlp, SuggestConfig(**{**CONFIG, "open_phrases": True}))
    s.term_index = TermIndex().fit(["sugar illness"], ["E11.9"], ["train"])  # a training name, no lexicon entry
    enc = _WordEncoder()
    rows = ["lung infection", "raised pressure", "established"]
    s.encoder, s.dense = enc, DenseIndex(["J18.9", "I10", "99213"], rows, enc.encode(rows))  # type: ignore[assignment]
    req = SuggestRequest(text=text)
    cands = s.candidates(req, analysis)
    sugar = cands[("icd10cm", "E11.9")]
    assert "term" in sugar.sources and [m.text for m in sugar.mentions] == ["sugar illness"]
    pneu = cands[("icd10cm", "J18.9")]
    assert "dense" in pneu.sources and pneu.dense > 0.99
    assert sorted(m.assertion for m in pneu.mentions) == ["negated", "present"]  # the ranker sees both
    assert ("icd10cm", "I10") not in cands  # below the similarity floor
    # an E/M level never comes from words (as in the lexicon): the facts decide it
    assert not any("dense" in c.sources for (sy, code), c in cands.items() if code == "99213")
    s.config.phrase_min_sim = 1.01  # a floor no phrase hit reaches: only the term index is left
    floor = s.candidates(req, analysis)
    assert ("icd10cm", "E11.9") in floor and ("icd10cm", "J18.9") not in floor
    # a note routed to a corpus with its own ranker keeps that corpus's floor
    routed = s.candidates_many([req], [analysis], [[]], phrases=[True])[0]
    assert ("icd10cm", "J18.9") in routed
    s.config.corpus_phrase_min_sim = 1.01
    assert ("icd10cm", "J18.9") not in s.candidates_many([req], [analysis], [[]], phrases=[True])[0]
    s.config.corpus_phrase_min_sim = 0.7
    s.config.phrase_min_sim = 0.55
    s.config.open_phrases = False
    off = s.candidates(req, analysis)
    assert ("icd10cm", "E11.9") not in off and ("icd10cm", "J18.9") not in off


def test_artifacts_saved_before_open_phrases_keep_them_off(suggester: Suggester, tmp_path: Path) -> None:
    s = Suggester.load(suggester.save(tmp_path / "m"), nlp=StandInNlp())
    assert s.config.open_phrases is False  # the default
    s.config.open_phrases = True
    s.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "config.json").read_text())
    assert Suggester.load(tmp_path / "m", nlp=StandInNlp()).config.open_phrases is True
    del meta["config"]["open_phrases"]
    (tmp_path / "m" / "config.json").write_text(json.dumps(meta))
    assert Suggester.load(tmp_path / "m", nlp=StandInNlp()).config.open_phrases is False


def test_artifacts_with_joblib_estimators_still_load(suggester: Suggester, tmp_path: Path) -> None:
    import pickle

    import joblib

    folder = suggester.save(tmp_path / "m")
    assert (folder / "estimators.pkl").exists() and not (folder / "estimators.joblib").exists()
    text = NOTES[5][0]
    before = Suggester.load(folder, nlp=StandInNlp()).suggest(text).model_dump(exclude={"request_id"})
    with open(folder / "estimators.pkl", "rb") as fh:
        joblib.dump(pickle.load(fh), folder / "estimators.joblib", compress=3)  # the format before session 5
    (folder / "estimators.pkl").unlink()
    assert Suggester.load(folder, nlp=StandInNlp()).suggest(text).model_dump(exclude={"request_id"}) == before


def test_a_documented_visit_is_billed_with_its_e_m_level_even_when_the_ranker_doubts_it(suggester: Suggester,
                                                                                       tmp_path: Path) -> None:
    from pipelines.features import Candidate

    s = Suggester.load(suggester.save(tmp_path / "m"), nlp=StandInNlp())
    s.thresholds["em"] = 1.01  # the ranker doubts every E/M level (as on templates it never saw)
    text = "HPI: Established patient with essential hypertension, follow up. Total time 25 min.\nAssessment: hypertension."
    assert "99213" in [c.code for c in s.suggest(text, {"setting": "office"}).cpt]  # 25 min, established
    # not in an inpatient setting, nor with the switch off
    assert not any(c.code.startswith("992") for c in s.suggest(text, {"setting": "inpatient"}).cpt)
    s.config.documented_visit_em = False
    assert not any(c.code.startswith("992") for c in s.suggest(text, {"setting": "office"}).cpt)
    s.config.documented_visit_em = True
    # a procedure, psychiatric service or telephone E/M billed: the E/M stays the ranker's call
    analysis = s.nlp.analyze(text)
    req = SuggestRequest(text=text, setting="office")
    scored = [(c, 0.5) for c in s.candidates(req, analysis).values()]
    skin = next(code for code, cat in s.cs.procedures.catalog.items() if cat.category == "skin")
    assert s._documented_visit_em(req, analysis, scored, []) is not None
    assert s._documented_visit_em(req, analysis, scored, [(Candidate("cpt", "80061"), 0.9)]) is not None  # a lab
    assert s._documented_visit_em(req, analysis, scored, [(Candidate("cpt", skin), 0.9)]) is None
    analysis.facts.telehealth = "audio"  # audio-only: telephone codes, not office E/M
    assert s._documented_visit_em(req, analysis, scored, []) is None
    analysis.facts.telehealth = None
    analysis.facts.new_patient = None  # new vs established not documented: no level can be derived
    assert s._documented_visit_em(req, analysis, scored, []) is None


@pytest.mark.parametrize("minutes, code", [(25, "90832"), (45, "90834"), (60, "90837"), (10, None)])
def test_documented_psychotherapy_minutes_bill_their_time_band(suggester: Suggester, tmp_path: Path,
                                                                minutes: int, code: str | None) -> None:
    s = Suggester.load(suggester.save(tmp_path / "m"), nlp=StandInNlp())
    s.thresholds["cpt"] = s.thresholds["em"] = 1.01  # the ranker doubts every line
    text = f"HPI: cough. Psychotherapy {minutes} min.\nAssessment: cough."
    billed = [c.code for c in s.suggest(text, {"setting": "office"}).cpt]
    assert billed == ([code] if code else [])
    s.config.documented_psychotherapy = False
    assert s.suggest(text, {"setting": "office"}).cpt == []


def _span(text: str, name: str, nth: int = 0) -> dict:
    start = -1
    for _ in range(nth + 1):
        start = text.index(name, start + 1)
    return {"start": start, "end": start + len(name), "text": name}


def test_name_swap_rewords_gold_names_with_lexicon_names_and_keeps_offsets() -> None:
    """Training-time name swap: a gold name is replaced, everywhere in the note, by another
    lexicon name of the same code; every evidence offset (names and sentences) stays exact."""
    from pipelines.nlp import NlpPipeline
    from pipelines.suggest import _name_swap

    nlp = NlpPipeline.load()
    text = ("HPI: Hypertension, doing well. Type 2 diabetes without complications.\n"
            "Assessment: hypertension, stable. Lipid panel ordered today.\n")
    sentence = "Lipid panel ordered today."
    notes = []
    for i in range(24):
        notes.append({"id": f"note-{i}", "text": text, "icd10cm": ["I10", "E11.9"], "cpt": ["80061"], "evidence": {
            "I10": [_span(text, "Hypertension"), _span(text, "hypertension")],
            "E11.9": [_span(text, "Type 2 diabetes without complications")],
            "80061": [_span(text, sentence)]}})
    untouched = [dict(n) for n in notes]
    assert _name_swap(Suggester(nlp, SuggestConfig(name_swap=0.0)), untouched) == 0
    assert all(a["text"] == text for a in untouched)
    changed = _name_swap(Suggester(nlp, SuggestConfig(name_swap=1.0)), notes)
    assert 0 < changed <= len(notes)
    lex = nlp.lexicon
    swapped_codes = set()
    for n in notes:
        for code, spans in n["evidence"].items():
            for sp in spans:
                assert n["text"][sp["start"]:sp["end"]] == sp["text"]
            names = {sp["text"].lower() for sp in spans}
            if code == "I10":
                assert len(names) == 1  # both mentions of the code got the same name
            if code == "80061":
                assert spans[0]["text"] == sentence  # sentences are never re-worded
            elif names != {"hypertension"} and names != {"type 2 diabetes without complications"}:
                swapped_codes.add(code)
                entry = lex.entries[lex.norm.key(spans[0]["text"])]
                assert entry[3][0][1] == code  # the new name's best code is the gold code
    assert swapped_codes == {"I10", "E11.9"}
    # deterministic: the same notes get the same words
    again = [{**n, "evidence": dict(n["evidence"])} for n in untouched]
    _name_swap(Suggester(nlp, SuggestConfig(name_swap=1.0)), again)
    assert [a["text"] for a in again] == [n["text"] for n in notes]


@pytest.mark.parametrize(("sentence", "done", "planned"), [
    ("Blood drawn in clinic today for lipid panel.", True, False),
    ("Lipid panel ordered at an outside lab.", False, True),
    ("Lipid panel to be drawn next week.", False, True),
    ("Lipid panel reviewed with the patient.", True, False),
    ("Lipid panel.", False, False),
])
def test_context_features_read_the_mention_sentence(sentence: str, done: bool, planned: bool) -> None:
    from pipelines.features import CONTEXT_FEATURES, Candidate, set_context
    from pipelines.nlp.types import NoteAnalysis, Section

    text = f"PLAN:\n{sentence}\nReturn in 3 months."
    start = text.index("ipid panel") - 1
    m = Mention(start, start + 11, "lipid panel", "lab", "plan", "present")
    narrative = Candidate("cpt", "80061", mentions=[m])
    ruled = Candidate("cpt", "36415")  # no mention
    dx = Candidate("icd10cm", "E78.5", mentions=[m])  # cues are for procedures only
    set_context([narrative, ruled, dx], NoteAnalysis(text, [m], [Section("plan", 0, len(text), "PLAN:")]))
    assert (narrative.done, narrative.planned) == (float(done), float(planned))
    assert ruled.done == ruled.planned == dx.done == dx.planned == 0.0
    assert CONTEXT_FEATURES[-2:] == ("done_cue", "planned_cue")


def test_models_trained_before_context_features_keep_their_39_columns(suggester: Suggester, tmp_path: Path) -> None:
    from pipelines.features import FEATURES, LEGACY_FEATURES

    ctx = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**CONFIG, "context_features": True},
                        nlp=StandInNlp())
    assert ctx.feature_names == FEATURES and ctx.ranker.n_features_in_ == len(FEATURES)
    legacy = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**CONFIG, "context_features": False},
                           nlp=StandInNlp())
    assert legacy.feature_names == LEGACY_FEATURES and legacy.ranker.n_features_in_ == 39
    folder = legacy.save(tmp_path / "m")
    text = NOTES[5][0]
    before = legacy.suggest(text).model_dump(exclude={"request_id"})
    meta = json.loads((folder / "config.json").read_text())
    del meta["feature_names"], meta["config"]["context_features"]  # an artifact written before them
    (folder / "config.json").write_text(json.dumps(meta))
    old = Suggester.load(folder, nlp=StandInNlp())
    assert old.feature_names == LEGACY_FEATURES
    assert old.suggest(text).model_dump(exclude={"request_id"}) == before
    meta["feature_names"] = [*LEGACY_FEATURES, "note_length"]  # a feature this code does not compute
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="note_length"):
        Suggester.load(folder, nlp=StandInNlp())
    new = Suggester.load(ctx.save(tmp_path / "n"), nlp=StandInNlp())
    assert new.feature_names == FEATURES
    assert new.suggest(text).model_dump(exclude={"request_id"}) == ctx.suggest(text).model_dump(exclude={"request_id"})


def test_cold_terms_rows_see_no_training_spans(suggester: Suggester) -> None:
    from pipelines.suggest import _fit_terms, _gold

    train = [_gold(n) for n in _notes(32, "train")]
    analyses = [suggester.nlp.analyze(g["text"]) for g in train]
    warm = _fit_terms(suggester, train, analyses)
    cold = _fit_terms(suggester, train, analyses, spans=False)
    learnt = [(m.text, c) for g, an in zip(train, analyses, strict=True) for m in an.mentions
              for c in g["icd10cm"] + g["cpt"] if c in dict(warm.lookup(m.text))]
    assert learnt  # the notes teach the warm index their wordings ...
    assert any(c not in dict(cold.lookup(t)) for t, c in learnt)  # ... which the cold one has never read
    assert len(cold) < len(warm)
    # a model trained with cold rows is still a valid, deterministic model
    a = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**CONFIG, "cold_terms": 0.5}, nlp=StandInNlp())
    b = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**CONFIG, "cold_terms": 0.5}, nlp=StandInNlp())
    text = NOTES[5][0]
    assert a.suggest(text).model_dump(exclude={"request_id"}) == b.suggest(text).model_dump(exclude={"request_id"})


def test_cold_sup_blanks_gold_names_and_keeps_offsets() -> None:
    from pipelines.suggest import _blank_evidence

    text = "Assessment: essential hypertension; type 2 diabetes."
    text += " Total time 25 minutes."
    g = {"text": text, "evidence": {"I10": [{"start": 12, "end": 34}], "E11.9": [[36, 51]], "bad": ["free text"],
                                    "99213": [{"start": 53, "end": 75}]}}
    out = _blank_evidence(g)
    assert len(out) == len(text)
    assert "hypertension" not in out and "diabetes" not in out and out.startswith("Assessment:")
    assert out.endswith("Total time 25 minutes.")  # E/M evidence is a fact, not a name: kept
    assert _blank_evidence({"text": text}) == text
    a = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**CONFIG, "cold_terms": 0.5, "cold_sup": True},
                      nlp=StandInNlp())
    assert a.ranker is not None and a.suggest(NOTES[0][0]).icd10cm is not None


def test_threshold_rule_is_checked_before_training() -> None:
    with pytest.raises(ValueError, match="threshold_rule"):
        SuggestConfig.from_any({"threshold_rule": "lowest"})
    s = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**CONFIG, "threshold_rule": "one_se"}, nlp=StandInNlp())
    best = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**CONFIG, "threshold_rule": "best"}, nlp=StandInNlp())
    assert all(s.thresholds[k] <= best.thresholds[k] for k in ("icd10cm", "cpt"))


def test_thresholds_are_read_off_dev_f1_after_selection() -> None:
    """threshold_fit 'selection': the ICD and CPT thresholds give the dev notes' best micro-F1
    as the benchmarks compute it (suggest, then compare with gold), and the F1 stored with the
    model is that F1."""
    with pytest.raises(ValueError, match="threshold_fit"):
        SuggestConfig.from_any({"threshold_fit": "notes"})
    dev = _notes(24, "dev")
    for i, n in enumerate(dev):  # coders who left a code out: F1 below 1, and the threshold matters
        if i % 3 == 0 and len(n["icd10cm"]) > 1:
            n["icd10cm"] = n["icd10cm"][:-1]
        if i % 4 == 1 and len(n["cpt"]) > 1:
            n["cpt"] = n["cpt"][:-1]
    s = Suggester.fit(_notes(32, "train"), dev, {**CONFIG, "threshold_rule": "best"}, nlp=StandInNlp())
    assert s.config.threshold_fit == "selection"

    def f1(system: str, t: float) -> float:
        saved = dict(s.thresholds)
        s.thresholds[system] = t
        tp = fp = fn = 0
        for n in dev:
            r = s.suggest(n["text"], n)
            got = {x.code for x in (r.icd10cm if system == "icd10cm" else r.cpt)}
            gold = set(n[system])
            tp, fp, fn = tp + len(got & gold), fp + len(got - gold), fn + len(gold - got)
        s.thresholds = saved
        return 2 * tp / (2 * tp + fp + fn)

    for system in ("icd10cm", "cpt"):
        chosen = f1(system, s.thresholds[system])
        assert chosen < 1.0
        assert chosen == pytest.approx(s.metrics[f"dev_{system}_f1_selection"], abs=1e-4)
        assert all(f1(system, t) <= chosen + 1e-9 for t in (0.05, 0.15, 0.3, 0.5, 0.7, 0.9))
    rows = Suggester.fit(_notes(32, "train"), dev, {**CONFIG, "threshold_rule": "best", "threshold_fit": "rows"},
                         nlp=StandInNlp())
    assert "dev_icd10cm_f1_selection" not in rows.metrics


def test_bench_thresholds_re_reads_the_thresholds_fit_chose() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_thresholds import retune

    dev = _notes(16, "dev")
    s = Suggester.fit(_notes(32, "train"), dev, CONFIG, nlp=StandInNlp())
    stored = dict(s.thresholds)
    assert retune(s, dev, "one_se") == stored  # the same rows, calibrators and rule give the same thresholds
    best = retune(s, dev, "best")
    assert all(stored[k] <= best[k] for k in ("icd10cm", "cpt"))


def test_confidence_ties_keep_the_rankers_order(suggester: Suggester) -> None:
    """Isotonic calibration is a step function: candidates that share a calibrated confidence
    are still listed in the ranker's order (not alphabetically), so rank metrics and a coder
    reading the ranked list see the ranker's preference."""
    import copy

    from pipelines.features import FEATURES

    class ByPrior:
        def decision_scores(self, X: np.ndarray) -> np.ndarray:
            return 0.1 + X[:, FEATURES.index("prior")] / 2

    class Plateau:
        def predict(self, x: np.ndarray) -> np.ndarray:
            return np.full(len(x), 0.3)

    s = copy.copy(suggester)
    s.ranker, s.calibrators = ByPrior(), {"icd10cm": Plateau(), "cpt": Plateau()}  # type: ignore[assignment]
    text = ("HPI: Cough and chest pain for a week, knee pain.\nPMH: type 2 diabetes, essential hypertension.\n"
            "Assessment: pneumonia.")
    ranked = [c for c in s.suggest(text).ranked.icd10cm if c.score == 0.3]
    codes = [c.code for c in ranked]
    assert len(codes) >= 3 and codes != sorted(codes)
    priors = [s.priors["icd10cm"].get(c, 0.0) for c in codes]
    assert priors == sorted(priors, reverse=True)


REPORTS = [
    ("We report the case of a woman admitted with fever, cough and pneumonia on imaging. "
     "Her past history included essential hypertension treated for years.", ["J18.9", "R05.9", "I10"]),
    ("A man consulted for chest pain radiating to the arm; the troponin curve was flat. "
     "He had type 2 diabetes and hypertension.", ["R07.9", "E11.9", "I10"]),
    ("We describe a patient with knee pain of the right side after a fall while hiking. "
     "Imaging ruled out fracture; her mother had breast cancer.", ["M25.561", "Z80.3"]),
    ("The case of an elderly patient with cough and pneumonia treated with antibiotics is presented; "
     "type 2 diabetes was poorly controlled during admission.", ["J18.9", "R05.9", "E11.65"]),
]


def _reports(n: int, corpus: str | None = "reports") -> list[dict]:
    out = []
    for i in range(n):
        text, icd = REPORTS[i % len(REPORTS)]
        note = {"id": f"report-{i}", "text": f"Case {i}. {text}", "icd10cm": icd}
        if corpus:
            note["corpus"] = corpus
        out.append(note)
    return out


@pytest.fixture(scope="module")
def corpus_suggester() -> Suggester:
    cfg = {**CONFIG, "corpus_min_notes": 20, "corpus_holdout": 0.5}
    return Suggester.fit(_notes(32, "train") + _reports(80), _notes(16, "dev"), cfg, nlp=StandInNlp())


def test_a_tagged_corpus_gets_its_own_calibration_from_held_out_notes(corpus_suggester: Suggester) -> None:
    s = corpus_suggester
    assert s.corpus_model is not None and list(s.corpus_model.classes_) == ["", "reports"]
    # diagnoses only: the reports carry no CPT gold, so procedures keep the primary calibration
    assert set(s.corpus_calibrators["reports"]) == {"icd10cm"}
    assert set(s.corpus_thresholds["reports"]) == {"icd10cm"}
    assert 25 <= s.metrics["corpus_holdout_notes"] <= 55  # half of the 80 reports, seeded
    report, visit = REPORTS[0][0], NOTES[0][0]
    w = s._corpus_weights([report, visit])
    assert w is not None and w[0, 1] > 0.8 and w[1, 0] > 0.8
    # a report note is scored with (mostly) the reports' calibrator and threshold
    thr = s._note_thresholds(w[0])
    assert thr["icd10cm"] == pytest.approx(w[0, 0] * s.thresholds["icd10cm"] + w[0, 1] * s.corpus_thresholds["reports"]["icd10cm"])
    assert thr["cpt"] == pytest.approx(s.thresholds["cpt"])


@pytest.fixture(scope="module")
def shared_ranker_suggester() -> Suggester:
    cfg = {**CONFIG, "corpus_min_notes": 20, "corpus_holdout": 0.5, "corpus_ranker": False}
    return Suggester.fit(_notes(32, "train") + _reports(80), _notes(16, "dev"), cfg, nlp=StandInNlp())


def test_corpus_calibration_keeps_each_notes_ranking(shared_ranker_suggester: Suggester) -> None:
    """With one ranker for every corpus the corpus mix changes confidences, never the order of
    a note's candidates."""
    s = shared_ranker_suggester
    assert not s.corpus_rankers
    text = REPORTS[3][0]
    an = s.nlp.analyze(text)
    from pipelines.suggest import _request

    cands = list(s.candidates(_request(text, None), an, s._supervised_scores([text])[0]).values())
    conf, raw = s._scores(cands, None, s._corpus_weights([text]))
    plain, _ = s._scores(cands)
    icd = np.array([c.system == "icd10cm" for c in cands])
    assert not np.allclose(conf[icd], plain[icd])  # the reports' calibration differs from the visit notes'
    order = np.argsort(-raw[icd], kind="stable")
    assert np.all(np.diff(conf[icd][order]) <= 1e-12)  # monotone in the ranker's score


def test_corpus_calibration_round_trip_and_switches(corpus_suggester: Suggester, tmp_path: Path) -> None:
    s = corpus_suggester
    s.save(tmp_path / "m")
    back = Suggester.load(tmp_path / "m", nlp=StandInNlp())
    texts = [REPORTS[1][0], NOTES[4][0]]
    want = [s.suggest(t).model_dump(exclude={"request_id"}) for t in texts]
    assert [back.suggest(t).model_dump(exclude={"request_id"}) for t in texts] == want
    assert [r.model_dump(exclude={"request_id"}) for r in back.suggest_batch(texts)] == want
    assert back.corpus_thresholds == s.corpus_thresholds
    from pipelines.suggest import _calibrated_corpora

    cfg = SuggestConfig(corpus_min_notes=20)
    corpora = ["", "reports", "feedback", "small", "synthetic"] * 10 + ["reports"] * 20
    # tagged and big enough; never coder feedback, never a corpus the dev split already calibrates
    assert _calibrated_corpora(corpora, {"synthetic"}, cfg) == ["reports"]
    assert _calibrated_corpora(corpora, {"synthetic"}, SuggestConfig(corpus_min_notes=20, corpus_calibration=False)) == []


def test_a_calibrated_corpus_gets_its_own_ranker(corpus_suggester: Suggester,
                                                shared_ranker_suggester: Suggester) -> None:
    """A case report is ranked by its corpus's own ranker (trained on that corpus's rows) and
    calibrated by its corpus's calibrator; a visit note, which gives that corpus no weight, is
    scored exactly as with one shared ranker."""
    from pipelines.features import feature_matrix
    from pipelines.suggest import _request

    s = corpus_suggester
    assert set(s.corpus_rankers) == {"reports"} and s.corpus_rankers["reports"] is not s.ranker
    report, visit = REPORTS[3][0], NOTES[5][0]
    w = s._corpus_weights([report, visit])
    assert w is not None and w[1, 1] == 0.0  # the visit note does not resemble the reports
    for text, wi in ((report, w[0]), (visit, w[1])):
        cands = list(s.candidates(_request(text, None), s.nlp.analyze(text), s._supervised_scores([text])[0]).values())
        conf, _ = s._scores(cands, None, wi[None, :])
        icd = np.array([c.system == "icd10cm" for c in cands])
        X = feature_matrix(cands, s.info, s.priors, s.feature_names, s.cooc)[icd]  # read among all the note's candidates
        primary = s.calibrators["icd10cm"].predict(s.ranker.decision_scores(X))
        own = s.corpus_calibrators["reports"]["icd10cm"].predict(s.corpus_rankers["reports"].decision_scores(X))
        assert conf[icd] == pytest.approx(np.clip(wi[0] * primary + wi[1] * own, 0, 1))
    # switched off (as in every model trained before it): the primary ranker ranks every note
    assert not shared_ranker_suggester.corpus_rankers
    assert shared_ranker_suggester._phrase_notes(w, 2) == [False, False]


def test_only_a_note_that_reads_like_an_own_ranker_corpus_reads_its_open_phrases(corpus_suggester: Suggester) -> None:
    from models.lexical import TermIndex

    s = corpus_suggester
    report, visit = REPORTS[0][0], NOTES[0][0]
    w = s._corpus_weights([report, visit])
    assert s._phrase_notes(w, 2) == [True, False]
    assert s._phrase_notes(None, 2) == [False, False]
    text = report
    analysis = s.nlp.analyze(text)
    at = text.index("fever")  # no lexicon entry covers it: an open phrase
    analysis.phrases = [Mention(at, at + 5, "fever", "phrase", "unknown", "present", concept="fever")]  # type: ignore[arg-type]
    saved = s.term_index
    try:
        s.term_index = TermIndex().fit(["fever"], ["R50.9"], ["train"])
        req = SuggestRequest(text=text)
        on, off = (s.candidates_many([req], [analysis], [[]], [flag])[0] for flag in (True, False))
    finally:
        s.term_index = saved
    assert ("icd10cm", "R50.9") in on and "term" in on[("icd10cm", "R50.9")].sources
    assert ("icd10cm", "R50.9") not in off


def test_artifacts_saved_before_corpus_rankers_load_without_them(corpus_suggester: Suggester, tmp_path: Path) -> None:
    import pickle

    folder = corpus_suggester.save(tmp_path / "m")
    back = Suggester.load(folder, nlp=StandInNlp())
    assert set(back.corpus_rankers) == {"reports"} and back.config.corpus_ranker and back.config.corpus_phrases
    meta = json.loads((folder / "config.json").read_text())
    del meta["config"]["corpus_ranker"], meta["config"]["corpus_phrases"], meta["config"]["corpus_phrase_min_sim"]
    (folder / "config.json").write_text(json.dumps(meta))
    with open(folder / "estimators.pkl", "rb") as fh:
        est = pickle.load(fh)
    del est["corpus_rankers"]  # an artifact written before session 11
    with open(folder / "estimators.pkl", "wb") as fh:
        pickle.dump(est, fh)
    old = Suggester.load(folder, nlp=StandInNlp())
    assert not old.corpus_rankers and not old.config.corpus_ranker and not old.config.corpus_phrases
    text = REPORTS[2][0]
    assert old.suggest(text).icd10cm is not None
    assert old._phrase_notes(old._corpus_weights([text]), 1) == [False]


def test_untagged_or_switched_off_training_has_no_corpus_calibration() -> None:
    cfg = {**CONFIG, "corpus_min_notes": 20, "corpus_holdout": 0.5}
    untagged = Suggester.fit(_notes(32, "train") + _reports(40, None), _notes(16, "dev"), cfg, nlp=StandInNlp())
    off = Suggester.fit(_notes(32, "train") + _reports(40), _notes(16, "dev"), {**cfg, "corpus_calibration": False},
                        nlp=StandInNlp())
    for s in (untagged, off):
        assert s.corpus_model is None and not s.corpus_calibrators and "corpus_holdout_notes" not in s.metrics
        assert s._corpus_weights(["any text"]) is None


def test_ranked_tail_from_the_note_level_model(suggester: Suggester) -> None:
    """Below every candidate the ranked list carries the note-level model's next codes, in its
    order, then the prior-only tail; suggestions and candidate scores do not change."""
    from pipelines.suggest import _request

    text = NOTES[5][0]
    s0 = copy_with(suggester, supervised_k=3, tail_k=0)
    s1 = copy_with(suggester, supervised_k=3, tail_k=50)
    r0, r1 = s0.suggest(text), s1.suggest(text)
    assert r1.icd10cm == r0.icd10cm and r1.cpt == r0.cpt
    sups, tails = s1._supervised_and_tail([text])
    assert len(sups[0]) == 3 and len(tails[0]) > 5
    cands = s1.candidates(_request(text, None), s1.nlp.analyze(text), sups[0])
    for system, ranked0, ranked1 in (("icd10cm", r0.ranked.icd10cm, r1.ranked.icd10cm), ("cpt", r0.ranked.cpt, r1.ranked.cpt)):
        n = sum(1 for c in cands.values() if c.system == system)
        assert ranked1[:n] == ranked0[:n]  # the candidates, as before
        codes = [c.code for c in ranked1]
        assert len(codes) == len(set(codes))
        new = [lab.split(":", 1)[1] for lab, _ in tails[0] if lab.startswith(system + ":")]
        new = [c for c in new if c not in codes[:n]]
        assert new and codes[n : n + len(new)] == new  # then the note-level model's next codes, in order
        scores = [c.score for c in ranked1]
        assert all(a > b for a, b in zip(scores[n - 1 :], scores[n:], strict=False))


def copy_with(s: Suggester, **changes: object) -> Suggester:
    import copy
    import dataclasses

    out = copy.copy(s)
    out.config = dataclasses.replace(s.config, **changes)  # type: ignore[arg-type]
    return out


def test_note_features_read_the_candidates_siblings_and_companions() -> None:
    """A candidate's note features come from its note's other candidates: its category's best
    note-level score, present mention and lexical score, whether a sibling is its child, its
    score against the note's best of its system, its rank, the note's size, and the support of
    the diagnoses usually coded with it."""
    from models.cooccurrence import CodeCooccurrence
    from pipelines.features import (
        CONTEXT_FEATURES,
        FEATURES,
        NOTE_FEATURES,
        Candidate,
        CodeInfo,
        feature_matrix,
    )
    m = Mention(0, 8, "diabetes", "condition", "assessment", "present")
    e11 = Candidate("icd10cm", "E11", sup=0.2)
    e119 = Candidate("icd10cm", "E11.9", lex=0.9, mentions=[m], sup=0.6)
    i10 = Candidate("icd10cm", "I10", sup=0.8)
    visit = Candidate("cpt", "99213", sup=0.3)
    cands = [e11, e119, i10, visit]
    co = CodeCooccurrence().fit([["I10", "E11.9"], ["I10", "E11.9"], ["I10"]])
    info = CodeInfo(load_codesets())
    X = feature_matrix(cands, info, {}, FEATURES, co)
    assert X.shape == (4, len(FEATURES)) and FEATURES[len(CONTEXT_FEATURES):] == NOTE_FEATURES
    col = {n: X[:, FEATURES.index(n)] for n in NOTE_FEATURES}
    assert col["cat_sup_max"].tolist() == pytest.approx([0.6, 0.2, 0.0, 0.0])
    assert col["cat_present"].tolist() == [1.0, 0.0, 0.0, 0.0] and col["cat_lex_max"].tolist() == pytest.approx([0.9, 0, 0, 0])
    assert col["cat_has_child"].tolist() == [1.0, 0.0, 0.0, 0.0]  # E11 has E11.9 beside it
    assert col["sup_gap"].tolist() == pytest.approx([-0.6, -0.2, 0.0, 0.0])  # against the best of its own system
    assert col["sup_rank_note"].tolist() == pytest.approx([1 / 4, 1 / 2, 1.0, 1 / 3])
    assert col["n_cands_log"].tolist() == pytest.approx([np.log1p(4)] * 4)
    # E11.9 is coded with I10 (support 0.8) in 2 of 3 notes: 0.8 x 2 / (3 + 2); procedures read none
    assert col["cooc_max"][1] == pytest.approx(0.8 * 2 / 5) and col["cooc_max"][3] == 0.0
    # I10's companion E11.9 lends its lexical support (present, 0.9 > its 0.6 note-level score)
    assert col["cooc_max"][2] == pytest.approx(0.9 * 2 / 4)
    # without the co-occurrence, its columns are 0; the other columns do not change
    X0 = feature_matrix(cands, info, {}, FEATURES)
    assert not X0[:, FEATURES.index("cooc_max")].any()
    assert np.array_equal(np.delete(X0, [FEATURES.index("cooc_max"), FEATURES.index("cooc_sum")], axis=1),
                          np.delete(X, [FEATURES.index("cooc_max"), FEATURES.index("cooc_sum")], axis=1))
    # note_features_cpt off: procedure rows read none, diagnosis rows the same
    Xd = feature_matrix(cands, info, {}, FEATURES, co, note_cpt=False)
    note = [FEATURES.index(n) for n in NOTE_FEATURES]
    assert not Xd[3, note].any() and X[3, note].any() and np.array_equal(Xd[:3], X[:3])
    # a model trained before the note features reads its own columns only
    assert np.array_equal(feature_matrix(cands, info, {}, CONTEXT_FEATURES, co), X[:, : len(CONTEXT_FEATURES)])


def test_cross_fitted_rows_read_companions_from_other_folds_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The co-occurrence a fold's ranker rows read is fitted on the other folds' notes (a note is
    no companion of itself); the served one on every training note."""
    from models.cooccurrence import CodeCooccurrence

    fitted: list[int] = []
    orig = CodeCooccurrence.fit

    def spy(self: CodeCooccurrence, code_sets: Any) -> CodeCooccurrence:
        sets = list(code_sets)
        fitted.append(len(sets))
        return orig(self, sets)

    monkeypatch.setattr(CodeCooccurrence, "fit", spy)
    s = Suggester.fit(_notes(30, "train"), _notes(16, "dev"), {**CONFIG, "cv_folds": 3}, nlp=StandInNlp())
    assert fitted == [30, 20, 20, 20]
    assert s.cooc is not None and len(s.cooc.given_) and s.feature_names[-2:] == ("cooc_max", "cooc_sum")
    fitted.clear()
    off = Suggester.fit(_notes(30, "train"), _notes(16, "dev"), {**CONFIG, "note_features": False}, nlp=StandInNlp())
    assert fitted == [] and off.cooc is None


def test_models_trained_before_note_features_load_and_score_as_before(tmp_path: Path) -> None:
    from pipelines.features import CONTEXT_FEATURES, FEATURES

    old = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**CONFIG, "note_features": False}, nlp=StandInNlp())
    assert old.feature_names == CONTEXT_FEATURES and old.ranker.n_features_in_ == len(CONTEXT_FEATURES)
    folder = old.save(tmp_path / "old")
    meta = json.loads((folder / "config.json").read_text())
    del meta["config"]["note_features"]  # an artifact written before the switch existed
    (folder / "config.json").write_text(json.dumps(meta))
    text = NOTES[5][0]
    loaded = Suggester.load(folder, nlp=StandInNlp())
    assert loaded.feature_names == CONTEXT_FEATURES and not loaded.config.note_features and loaded.cooc is None
    assert loaded.suggest(text).model_dump(exclude={"request_id"}) == old.suggest(text).model_dump(exclude={"request_id"})
    new = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), CONFIG, nlp=StandInNlp())
    assert new.feature_names == FEATURES and new.ranker.n_features_in_ == len(FEATURES)
    back = Suggester.load(new.save(tmp_path / "new"), nlp=StandInNlp())
    assert back.cooc is not None and back.cooc.given_ == new.cooc.given_
    assert back.suggest(text).model_dump(exclude={"request_id"}) == new.suggest(text).model_dump(exclude={"request_id"})


def test_a_corpus_notes_candidates_include_codes_that_corpus_coded_in_the_categories_named(
        corpus_suggester: Suggester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A note routed to a corpus with its own ranker also gets the codes that corpus's training
    notes were coded with in the categories its lexical candidates name; they carry no evidence,
    so they order the ranked list and are never suggested. A clinic note gets none."""
    from pipelines.suggest import _request

    s = corpus_suggester
    assert s.siblings["E11"] == ["E11.65", "E11.9"] and s.siblings["J18"] == ["J18.9"]
    assert "C50" not in s.siblings  # only the reports' own gold codes, never the clinic notes'
    text = "A woman with type 2 diabetes was admitted."
    an = s.nlp.analyze(text)
    lexical = {c.code for c in s.candidates_many([_request(text, None)], [an], [[]], [False])[0].values()
               if c.lex > 0 or c.term > 0}
    assert "E11.9" in lexical and "E11.65" not in lexical
    plain = s.candidates_many([_request(text, None)], [an], [[]], [False])[0]
    routed = s.candidates_many([_request(text, None)], [an], [[]], [True])[0]
    assert ("icd10cm", "E11.65") not in plain
    sib = routed[("icd10cm", "E11.65")]
    assert sib.sources == {"sibling"} and not sib.mentions
    # a candidate that was there already keeps its sources
    assert "sibling" not in routed[("icd10cm", "E11.9")].sources
    # served: a report is routed to its corpus, so its ranked list carries the sibling, its
    # suggestions never do (no evidence). The note-level model is switched off, since in this
    # 20-code universe it proposes every code itself
    monkeypatch.setattr(s, "supervised", None)
    report = REPORTS[3][0]  # type 2 diabetes -> E11.9 by the lexicon
    assert s._phrase_notes(s._corpus_weights([report]), 1) == [True]
    for out in (s.suggest(report), s.suggest_batch([report])[0]):
        assert "E11.65" in {c.code for c in out.ranked.icd10cm}
        assert "E11.65" not in {c.code for c in out.icd10cm}


def test_sibling_tables_of_cross_fitted_rows_come_from_other_folds(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipelines.suggest as sg

    sizes: list[int] = []
    orig = sg._sibling_table

    def spy(s: Suggester, notes: list[dict]) -> dict[str, list[str]]:
        sizes.append(len(notes))
        return orig(s, notes)

    monkeypatch.setattr(sg, "_sibling_table", spy)
    cfg = {**CONFIG, "corpus_min_notes": 20, "corpus_holdout": 0.5}
    s = Suggester.fit(_notes(32, "train") + _reports(80), _notes(16, "dev"), cfg, nlp=StandInNlp())
    # every report, then per fold the reports outside it (2 folds over 112 notes)
    assert sizes[0] == 80 and len(sizes) == 3 and sum(sizes[1:]) == 80 and all(0 < n < 80 for n in sizes[1:])
    assert s.siblings == orig(s, _reports(80))
    sizes.clear()
    off = Suggester.fit(_notes(32, "train") + _reports(80), _notes(16, "dev"), {**cfg, "corpus_siblings": False},
                        nlp=StandInNlp())
    assert off.siblings == {} and sizes == [0]


def test_a_corpus_note_takes_the_note_level_models_top_corpus_supervised_k(
        corpus_suggester: Suggester, monkeypatch: pytest.MonkeyPatch) -> None:
    s = corpus_suggester
    report, visit = REPORTS[0][0], NOTES[0][0]
    monkeypatch.setattr(s.config, "supervised_k", 3)
    monkeypatch.setattr(s.config, "tail_k", 4)
    full = s._supervised_scores([report, visit], extra=4)  # 7 labels a note, best first
    sups, tails = s._supervised_and_tail([report, visit], [True, False])
    assert [len(x) for x in sups] == [3, 3] and sups[0] == full[0][:3] and tails[0] == full[0][3:7]
    monkeypatch.setattr(s.config, "corpus_supervised_k", 6)
    full = s._supervised_scores([report, visit], extra=7)  # 10 labels a note
    sups, tails = s._supervised_and_tail([report, visit], [True, False])
    assert sups[0] == full[0][:6] and tails[0] == full[0][6:10]  # the routed report: 6, its tail after them
    assert sups[1] == full[1][:3] and tails[1] == full[1][3:7]  # the visit note as before
    unflagged = s._supervised_and_tail([report, visit])  # no routing flags: every note as before
    assert [len(x) for x in unflagged[0]] == [3, 3] and [len(x) for x in unflagged[1]] == [4, 4]


def test_models_whose_procedure_rows_read_note_features_keep_them(tmp_path: Path) -> None:
    """Versions 42 and 43 were trained before `note_features_cpt` existed, with note features on
    every row: loaded, they keep reading them on procedure rows."""
    both = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**CONFIG, "note_features_cpt": True}, nlp=StandInNlp())
    folder = both.save(tmp_path / "m")
    meta = json.loads((folder / "config.json").read_text())
    del meta["config"]["note_features_cpt"]
    (folder / "config.json").write_text(json.dumps(meta))
    loaded = Suggester.load(folder, nlp=StandInNlp())
    assert loaded.config.note_features_cpt and not SuggestConfig().note_features_cpt
    text = NOTES[5][0]
    assert loaded.suggest(text).model_dump(exclude={"request_id"}) == both.suggest(text).model_dump(exclude={"request_id"})


@pytest.mark.slow
def test_a_fine_tuned_dense_table_is_trained_saved_and_served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SuggestConfig.dense_finetune: the static MiniLM table is fine-tuned on (mention, title)
    pairs before the code texts are embedded, cached per machine, and the model carries the tuned
    table (a loaded model encodes as the trained one did; nothing is recomputed at load)."""
    import pipelines.suggest as S

    monkeypatch.setenv("MEDCODE_EMBED_CACHE_DIR", str(tmp_path / "cache"))
    cfg = {**CONFIG, "dense_scope": "subset", "dense_finetune_index": 5000}
    calls: list[int] = []
    real = S.StaticEncoder.fine_tune

    def spy(self, pairs, **kw):  # type: ignore[no-untyped-def]
        calls.append(len(pairs))
        return real(self, pairs, **kw)

    monkeypatch.setattr(S.StaticEncoder, "fine_tune", spy)
    plain = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), cfg, nlp=StandInNlp())
    assert calls == []
    tuned = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**cfg, "dense_finetune": True}, nlp=StandInNlp())
    assert len(calls) == 1 and calls[0] > 0
    assert tuned.encoder is not None and plain.encoder is not None
    assert tuned.encoder.fingerprint() != plain.encoder.fingerprint()
    assert tuned.dense is not None and plain.dense is not None and tuned.dense.codes == plain.dense.codes
    words = ["high blood pressure", "lung infection", "sugar diabetes"]
    loaded = Suggester.load(tuned.save(tmp_path / "m"), nlp=StandInNlp())
    assert loaded.config.dense_finetune
    assert np.allclose(loaded.encoder.encode(words), tuned.encoder.encode(words), atol=1e-6)  # type: ignore[union-attr]
    again = Suggester.fit(_notes(32, "train"), _notes(16, "dev"), {**cfg, "dense_finetune": True}, nlp=StandInNlp())
    assert len(calls) == 1  # the second training reads the cached table
    assert again.encoder.fingerprint() == tuned.encoder.fingerprint()  # type: ignore[union-attr]
    text = NOTES[2][0]
    assert [s.code for s in loaded.suggest(text).icd10cm] == [s.code for s in tuned.suggest(text).icd10cm]
