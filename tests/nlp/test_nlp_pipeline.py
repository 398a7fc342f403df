"""Sections, sentences, mentions, candidates, attributes, E/M facts, persistence, robustness."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.nlp import SECTIONS, NlpPipeline, NoteAnalysis
from pipelines.nlp.rules_engine import ContextRules, RuleError, Sectionizer, split_sentences

NOTE = """CHIEF COMPLAINT: Follow-up of diabetes; new cough.

HPI: 62 yo established patient with T2DM, uncontrolled (A1c 9.1), and essential hypertension.
Reports productive cough for 5 days. Denies chest pain or shortness of breath.

PMH: HTN, HLD, GERD.
FHx: Mother had breast cancer. Father with CAD.
SHx: Former smoker.

VITALS: BP 148/92, HR 88, T 100.2 F, SpO2 96%.

ASSESSMENT AND PLAN:
1. Type 2 diabetes with hyperglycemia - increase metformin, start empagliflozin.
2. Acute bronchitis vs pneumonia - chest x-ray ordered. Return if fever develops.
3. Left knee osteoarthritis, chronic - steroid injection performed today.
Total time spent on the date of the encounter: 35 minutes.
"""


def _find(a: NoteAnalysis, text: str, occurrence: int = 0):
    hits = [m for m in a.mentions if m.text.lower() == text.lower()]
    hits = hits or [m for m in a.mentions if text.lower() in m.text.lower()]
    assert len(hits) > occurrence, f"no mention {text!r} in {[m.text for m in a.mentions]}"
    return hits[occurrence]


def _codes(m) -> list[str]:
    return [c.code for c in m.candidates]


# ---------------------------------------------------------------------------- sections
@pytest.mark.parametrize(
    ("header", "section"),
    [
        ("ASSESSMENT AND PLAN:", "assessment_plan"),
        ("A/P:", "assessment_plan"),
        ("IMPRESSION/PLAN:", "assessment_plan"),
        ("PROCEDURE NOTE:", "procedure"),
        ("PMH:", "pmh"),
        ("FHx:", "family_history"),
        ("SHx:", "social_history"),
        ("Telehealth visit:", "telehealth"),
        ("Review of Systems\n", "ros"),  # alone on its line, no colon
        ("HPI -", "hpi"),
    ],
)
def test_section_headers(header: str, section: str) -> None:
    secs = Sectionizer()(f"Intro line.\n{header} something here\nmore text")
    names = [s.name for s in secs]
    assert section in names
    assert all(n in SECTIONS for n in names)


def test_section_scope_does_not_bleed(nlp: NlpPipeline) -> None:
    text = "FHx: Mother had diabetes.\nA/P: Hypertension - continue lisinopril."
    a = nlp.analyze(text)
    assert _find(a, "diabetes").assertion == "family"
    htn = _find(a, "Hypertension")
    assert htn.section == "assessment_plan"
    assert htn.assertion == "present"
    # a blank line ends a family-history section even without a new header
    b = nlp.analyze("Family history: father with CAD.\n\nHypertension, stable.")
    assert _find(b, "CAD").assertion == "family"
    assert _find(b, "Hypertension").assertion == "present"
    assert _find(b, "Hypertension").section != "family_history"


def test_sections_cover_note(nlp: NlpPipeline) -> None:
    a = nlp.analyze(NOTE)
    names = [s.name for s in a.sections]
    assert names[:3] == ["chief_complaint", "hpi", "pmh"]
    assert "assessment_plan" in names and "vitals" in names
    for s in a.sections:
        assert 0 <= s.start < s.end <= len(NOTE)


def test_bad_rules_are_rejected() -> None:
    with pytest.raises(RuleError):
        Sectionizer({"rules": [{"id": "x", "section": "nowhere", "headers": ["x"]}]})
    with pytest.raises(RuleError):
        ContextRules({"rules": [{"id": "x", "pattern": "no", "category": "negated", "direction": "sideways"}]})
    with pytest.raises(RuleError):
        ContextRules({"rules": [{"id": "x", "pattern": "no", "category": "negated", "direction": "forward", "typo": 1}]})


# ---------------------------------------------------------------------------- sentences
def test_sentences_lists_vitals_and_abbreviations() -> None:
    text = "VITALS: BP 120/80, T 98.6 F. HR 72.\n1. HTN - stable. 2. DM - A1c 7.1\n- cough\n- fever\nSeen by Dr. Smith today."
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert "- cough" in spans and "- fever" in spans
    assert any(x.startswith("2. DM") for x in spans)
    assert "Seen by Dr. Smith today." in spans  # no break after "Dr."
    assert not any(x.endswith("98.") for x in spans)  # decimals are not sentence ends


def test_run_on_dictation_is_split() -> None:
    text = ", ".join(["patient reports mild cough"] * 200)
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(e - s <= 600 for s, e in spans)


def test_spacy_sentences_are_set(nlp: NlpPipeline) -> None:
    doc = nlp.nlp("No fever. Has cough.\nPlan: rest")
    assert [s.text.strip() for s in doc.sents] == ["No fever.", "Has cough.", "Plan:", "rest"]


# ---------------------------------------------------------------------------- mentions
def test_mentions_offsets_kinds_and_candidates(nlp: NlpPipeline) -> None:
    a = nlp.analyze(NOTE)
    for m in a.mentions:
        assert NOTE[m.start : m.end] == m.text
        assert m.section in SECTIONS
        assert all(0 < c.score <= 1 for c in m.candidates)
    assert "E11.65" in _codes(_find(a, "Type 2 diabetes with hyperglycemia"))
    assert "M17.12" in _codes(_find(a, "Left knee osteoarthritis"))
    assert "I10" in _codes(_find(a, "essential hypertension"))
    assert _find(a, "T2DM").kind == "condition"
    assert any(c.startswith("E11") for c in _codes(_find(a, "T2DM")))
    assert _find(a, "metformin").kind == "medication"
    assert _find(a, "chest x-ray").kind == "procedure"
    assert any(c.startswith("710") or c.startswith("7104") for c in _codes(_find(a, "chest x-ray")))
    assert _find(a, "cough").kind == "symptom"
    # header words are not mentions
    assert not any(m.start < 15 and m.text.lower() == "chief complaint" for m in a.mentions)


@pytest.mark.parametrize(
    ("text", "mention", "code"),
    [
        ("osteoarthritis of the left knee", "osteoarthritis of the left knee", "M17.12"),
        ("pnuemonia", "pnuemonia", "J18.9"),  # misspelling
        ("recurrent kidney stones", "kidney stones", "N20.0"),  # inflection
        ("HTN", "HTN", "I10"),
        ("COPD with acute exacerbation", "COPD with acute exacerbation", "J44.1"),
        ("hypothyroid", "hypothyroid", "E03.9"),
        ("afib", "afib", "I48.91"),
        ("Unilateral primary osteoarthritis, right knee", "osteoarthritis, right knee", "M17.11"),
        ("pain in left knee", "pain in left knee", "M25.562"),
        ("carcinoma of the pancreas", "carcinoma of the pancreas", "C25.9"),  # neoplasm table
        ("liver metastases", "liver metastases", "C78.7"),
        ("MDD, single episode, severe without psychotic features", "MDD, single episode, severe", "F32.2"),
        ("COPD with acute bronchitis", "COPD with acute bronchitis", "J44.0"),
        # case-report / translated wording, per the ICD-10-CM Alphabetic Index
        ("cervical adenopathies", "adenopathies", "R59.9"),
        ("thrombopenia", "thrombopenia", "D69.6"),
        ("renal lithiasis", "renal lithiasis", "N20.0"),
        ("HCV", "HCV", "B19.20"),
        ("smoker", "smoker", "F17.200"),
        ("current smoker", "current smoker", "F17.210"),
        ("septic shock", "septic shock", "R65.21"),
        ("hiatal hernia", "hiatal hernia", "K44.9"),
        ("renal failure", "renal failure", "N19"),
        # lay names
        ("passing out spells", "passing out", "R55"),
        ("water on the knee", "water on the knee", "M25.469"),
        ("blood clot in the leg", "blood clot in the leg", "I82.409"),
    ],
)
def test_lexicon_variants(nlp: NlpPipeline, text: str, mention: str, code: str) -> None:
    a = nlp.analyze(f"Assessment: {text}.")
    m = _find(a, mention)
    assert code in _codes(m)


@pytest.mark.parametrize(
    "text",
    [
        "Counseled on diet, physical activity and medication adherence.",
        "Activity as tolerated.",
        "Flu shot given today.",
        "No collision reported; storm season advice given.",
    ],
)
def test_ordinary_words_key_no_external_cause_code(nlp: NlpPipeline, text: str) -> None:
    # "Activity, unspecified" (Y93.9), "shot" (W34.00): one-word external-cause texts are
    # ordinary words in a visit note, never an injury's cause by themselves
    a = nlp.analyze(f"Plan: {text}")
    codes = {c.code for m in a.mentions for c in m.candidates}
    assert not {c for c in codes if c[0] in "VWXY"}


def test_external_cause_phrases_still_key_their_codes(nlp: NlpPipeline) -> None:
    a = nlp.analyze("Assessment: gunshot wound to the thigh.")
    assert any(c.code.startswith("W34.00") for m in a.mentions for c in m.candidates)


@pytest.mark.parametrize(
    ("text", "want", "not_want"),
    [
        # one sorted-word lexicon key holds both orders; the words around "without" decide
        ("migraine with aura without status migrainosus", "G43.109", "G43.001"),
        ("migraine without aura, with status migrainosus", "G43.001", "G43.109"),
        ("inguinal hernia without obstruction or gangrene", "K40.90", "K40.30"),
        ("inguinal hernia with obstruction, without gangrene", "K40.30", "K40.90"),
        ("agoraphobia without panic disorder", "F40.02", None),
        ("panic disorder without agoraphobia", None, "F40.02"),
    ],
)
def test_without_keeps_its_side(nlp: NlpPipeline, text: str, want: str | None, not_want: str | None) -> None:
    a = nlp.analyze(f"Assessment: {text}.")
    codes = {c.code for m in a.mentions for c in m.candidates}
    if want:
        assert want in codes
    if not_want:
        assert not_want not in codes


def test_procedure_and_lab_candidates_from_catalog(nlp: NlpPipeline) -> None:
    a = nlp.analyze("Plan: hemoglobin A1c and lipid panel today; ECG performed.")
    assert "83036" in _codes(_find(a, "hemoglobin A1c"))
    assert _find(a, "lipid panel").kind == "lab"
    assert "93000" in _codes(_find(a, "ECG"))


# ---------------------------------------------------------------------------- attributes
@pytest.mark.parametrize(
    ("text", "mention", "key", "value"),
    [
        ("Right knee pain.", "Right knee pain", "laterality", "right"),
        ("Bilateral knee osteoarthritis.", "Bilateral knee osteoarthritis", "laterality", "bilateral"),
        ("Acute on chronic systolic heart failure.", "systolic heart failure", "acuity", "acute_on_chronic"),
        ("Chronic low back pain.", "low back pain", "acuity", "chronic"),
        ("Moderate persistent asthma.", "asthma", "severity", "moderate persistent"),
        ("CKD stage 3b.", "CKD stage 3b", "stage", "3b"),
        ("Type 1 diabetes.", "Type 1 diabetes", "type", "1"),
        ("T2DM.", "T2DM", "type", "2"),
        ("Ankle sprain, subsequent encounter.", "Ankle sprain", "episode", "subsequent"),
        ("Gestational diabetes, 30 weeks gestation.", "Gestational diabetes", "trimester", "3"),
        ("Preeclampsia in the second trimester.", "Preeclampsia", "trimester", "2"),
        ("Shoulder pain.", "Shoulder pain", "body_site", "shoulder"),
        ("T2DM, uncontrolled (A1c 9.1).", "T2DM", "control", "uncontrolled"),
        ("Asthma, mild intermittent, exacerbated.", "Asthma", "exacerbation", "with"),
        ("Moderate persistent asthma with flare.", "asthma", "exacerbation", "with"),
    ],
)
def test_attributes(nlp: NlpPipeline, text: str, mention: str, key: str, value: str) -> None:
    a = nlp.analyze(text)
    m = _find(a, mention)
    assert m.attributes.get(key) == value, m.attributes


def test_list_numbers_are_not_words_of_a_mention(nlp: NlpPipeline) -> None:
    # "1. Obesity class III": the item number with "obesity class" is the sorted-word key of
    # "Obesity, class 1" (E66.811)
    a = nlp.analyze("Assessment:\n1. Obesity class III, diet counseling.\n2) CKD stage G5.\n#3. Type diabetes.")
    codes = {c.code for m in a.mentions for c in m.candidates}
    assert "E66.811" not in codes
    assert _find(a, "Obesity class III").attributes.get("stage") == "3"
    assert _find(a, "CKD").attributes.get("stage") == "5"  # KDIGO G-stage
    assert not any(m.text.startswith(("1", "2", "#")) for m in a.mentions)


@pytest.mark.parametrize("text", ["Moderate persistent asthma without exacerbation.", "Asthma, no flares this year."])
def test_exacerbation_denied_is_not_an_attribute(nlp: NlpPipeline, text: str) -> None:
    assert "exacerbation" not in _find(nlp.analyze(text), "sthma").attributes


def test_attributes_do_not_leak_between_problems(nlp: NlpPipeline) -> None:
    a = nlp.analyze("Left knee pain and hypertension.")
    assert "laterality" not in _find(a, "hypertension").attributes


# ---------------------------------------------------------------------------- E/M facts
def test_em_facts(nlp: NlpPipeline) -> None:
    f = nlp.analyze(NOTE).facts
    assert f.total_minutes == 35
    assert f.new_patient is False
    assert f.prescription_drug_management is True
    assert f.mdm_risk == "moderate"
    assert f.mdm_problems in ("moderate", "high")
    assert f.mdm_level == "moderate"
    assert f.procedures_today is True
    g = nlp.analyze("New patient video visit via telehealth. Annual wellness visit. I spent 42 minutes.").facts
    assert g.new_patient is True and g.telehealth == "video" and g.preventive and g.total_minutes == 42
    h = nlp.analyze("Audio-only telephone visit. Sore throat, stable. Rest and fluids.").facts
    assert h.telehealth == "audio" and h.prescription_drug_management is False
    assert h.mdm_level in ("straightforward", "low")
    assert nlp.analyze("").facts.total_minutes is None


# ---------------------------------------------------------------------------- persistence
def test_save_and_load_round_trip(nlp: NlpPipeline, tmp_path: Path) -> None:
    nlp.to_disk(tmp_path / "nlp")
    loaded = NlpPipeline.load(tmp_path / "nlp")
    assert loaded.version == nlp.version
    assert loaded.nlp.pipe_names == nlp.nlp.pipe_names
    assert all(name.startswith("medcode_") and name.endswith("_v1") for name in loaded.nlp.pipe_names)
    a, b = nlp.analyze(NOTE), loaded.analyze(NOTE)
    assert [(m.start, m.end, m.assertion, _codes(m)) for m in a.mentions] == [
        (m.start, m.end, m.assertion, _codes(m)) for m in b.mentions
    ]
    assert a.facts == b.facts


def test_load_missing_artifact_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a saved medcode NLP pipeline"):
        NlpPipeline.load(tmp_path / "nope")


def test_batch_equals_single(nlp: NlpPipeline) -> None:
    texts = [NOTE, "", "No fever.", "Possible UTI."]
    batch = nlp.analyze_batch(texts)
    for t, b in zip(texts, batch, strict=True):
        single = nlp.analyze(t)
        assert [(m.start, m.end, m.assertion) for m in single.mentions] == [
            (m.start, m.end, m.assertion) for m in b.mentions
        ]


# ---------------------------------------------------------------------------- robustness
@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t  \n",
        "Le patient présente une fièvre et une toux depuis trois jours.",
        "患者は発熱と咳があります。",
        "\x00\x01\x02 fever \x7f\x1b[31m cough",
        "chest\x08pain and left\x00knee pain",
        "𝔣𝔢𝔳𝔢𝔯 \u200b\u200d\ufeff cough \u202e reversed \ud7ff",
        "A/P:" * 500,
        "no no no no not denies without",
    ],
)
def test_odd_input_does_not_crash(nlp: NlpPipeline, text: str) -> None:
    a = nlp.analyze(text)
    assert a.text == text
    for m in a.mentions:
        assert text[m.start : m.end] == m.text


def test_one_megabyte_note(nlp: NlpPipeline) -> None:
    text = (NOTE * (1_000_000 // len(NOTE) + 1))[:1_000_000]
    a = nlp.analyze(text)
    assert len(a.mentions) > 1000
    assert all(text[m.start : m.end] == m.text for m in a.mentions[:50])


def test_non_string_is_rejected(nlp: NlpPipeline) -> None:
    with pytest.raises(TypeError):
        nlp.analyze(None)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_property_arbitrary_text(nlp: NlpPipeline, text: str) -> None:
    a = nlp.analyze(text)
    for m in a.mentions:
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start : m.end] == m.text
        assert m.section in SECTIONS
    for s in a.sections:
        assert 0 <= s.start <= s.end <= len(text)


def test_note_text_never_logged(nlp: NlpPipeline, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Zyxwvut Qwertyson has pneumonia"
    with caplog.at_level(logging.DEBUG):
        nlp.analyze(secret)
        nlp.analyze_batch([secret])
    assert "Zyxwvut" not in caplog.text


def test_a_phrase_never_spans_a_full_stop(nlp: NlpPipeline) -> None:
    # the next sentence starts in lower case, so the splitter keeps one sentence; the phrase
    # "screening. phq-9" must still not become one mention (it would read as Medicare's G0444)
    a = nlp.analyze("Performed today: eye chart screening. phq-9 performed in clinic today.")
    assert [(m.text, _codes(m)) for m in a.mentions] == [("eye chart screening", ["99173"]), ("phq-9", ["96127"])]
    # abbreviations with a full stop do not cut a phrase
    assert [m.text for m in nlp.analyze("Seen by Dr. Smith for left knee pain.").mentions] == ["left knee pain"]


def test_version_names_pipeline_and_lexicon(nlp: NlpPipeline) -> None:
    assert nlp.version.startswith("medcode-nlp-")
    assert "+lex-" in nlp.version


def test_rule_file_codes_are_valid() -> None:
    """Every code named in the curated rule files is a valid, reportable code."""
    from codesets import load_codesets
    from pipelines.nlp.lexicon import curated_concepts, read_rule_file

    cs = load_codesets()
    bad = []
    for rule in read_rule_file("status_codes.yaml")["rules"]:
        if cs.lookup(rule["code"]).status != "valid":
            bad.append(rule["code"])
    for concept in curated_concepts():  # every synonym rule file
        for system, codes in (concept.get("codes") or {}).items():
            for code in codes:
                if system == "icd10cm" and cs.lookup(code, system="icd10cm").status not in ("valid", "header"):
                    bad.append(code)
                if system in ("cpt", "hcpcs") and str(code) not in cs.procedures.catalog and not cs.procedures.spans.get(str(code)):
                    bad.append(code)
    assert not bad, bad


def test_curated_files_have_closed_keys_and_unique_ids() -> None:
    from pipelines.nlp.lexicon import CURATED_FILES, curated_concepts

    concepts = curated_concepts()
    assert len(CURATED_FILES) == 2
    assert len({c["id"] for c in concepts}) == len(concepts)
    assert all(set(c) == {"id", "kind", "terms", "codes"} for c in concepts if "codes" in c)


@pytest.mark.parametrize(
    ("text", "phrase", "code"),
    [
        ("Raised blood pressure, on amlodipine.", "Raised blood pressure", "I10"),
        ("Paroxysmal a-fib, rate controlled.", "Paroxysmal a-fib", "I48.0"),
        ("COPD flare-up since Monday.", "COPD flare-up", "J44.1"),
        ("Left knee DJD, worse on stairs.", "Left knee DJD", "M17.12"),
    ],
)
def test_clinical_synonyms_are_recognised(nlp: NlpPipeline, text: str, phrase: str, code: str) -> None:
    """Alternative clinician wordings from synonyms_clinical.yaml reach their codes."""
    assert code in _codes(_find(nlp.analyze(text), phrase))


def test_family_and_personal_history_status_codes(nlp: NlpPipeline) -> None:
    a = nlp.analyze("Family history of colon cancer. History of DVT. Mother had breast cancer.")
    assert "Z80.0" in _codes(_find(a, "colon cancer"))
    assert "Z86.718" in _codes(_find(a, "DVT"))
    assert "Z80.3" in _codes(_find(a, "breast cancer"))
    # a present condition gets no status code
    assert not any(c.startswith("Z8") for c in _codes(_find(nlp.analyze("Colon cancer, on chemotherapy."), "Colon cancer")))


@pytest.mark.parametrize("text", ["Relevant history: family history of breast cancer.", "Family history of breast cancer."])
def test_family_history_of_a_personal_history_phrase(nlp: NlpPipeline, text: str) -> None:
    # the lexicon knows "history of breast cancer" (Z85.3): the "family" before it is the
    # family cue, and the personal history code stands for the condition (C50 -> Z80.3)
    a = nlp.analyze(text)
    m = next(m for m in a.mentions if "breast cancer" in m.text)
    assert m.assertion == "family" and "Z80.3" in _codes(m)
    personal = next(m for m in nlp.analyze("History of breast cancer, in remission.").mentions if "breast" in m.text)
    assert personal.assertion == "historical" and "Z80.3" not in _codes(personal)


def test_status_codes_map_personal_history_to_family_history_only() -> None:
    from pipelines.nlp.rules_engine import StatusCodes

    s = StatusCodes()
    assert s.codes("family", ["Z85.3"]) == ["Z80.3"]  # "family history of" + "history of breast cancer"
    assert s.codes("family", ["C18.9"]) == ["Z80.0"]
    assert s.codes("historical", ["C50.919"]) == ["Z85.3"]
    assert s.codes("historical", ["Z80.0"]) == []  # a family history phrase in a history section is no personal history
