"""Total time for office E/M is read however it is phrased, and durations of symptoms are not."""

import pytest

from pipelines.nlp import NlpPipeline


@pytest.fixture(scope="module")
def nlp():
    return NlpPipeline.load()


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("Total time 32 minutes on the date of the encounter.", 32),
        ("I spent 45 minutes with the patient today.", 45),
        ("Time on the date of service, including chart review and documentation: 41 min.", 41),
        ("A total of 25 minutes was devoted to counseling and coordination of care.", 25),
        ("Chest pain lasting 20 minutes, then resolved.", None),
        ("Symptoms began 30 minutes before arrival at the visit.", None),
        ("Takes ibuprofen 3 times a day for 10 minutes of relief.", None),
    ],
)
def test_total_time(nlp, text, minutes):
    assert nlp.analyze(text).facts.total_minutes == minutes


def test_saved_pipeline_keeps_long_note_limit(nlp, tmp_path):
    from pipelines.nlp import NlpPipeline

    nlp.to_disk(tmp_path / "nlp")
    loaded = NlpPipeline.load(tmp_path / "nlp")
    text = "Essential hypertension, stable. " * 40000  # 1.3 MB
    assert loaded.analyze(text).mentions


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # a documented overall MDM level wins over the level derived from problems/data/risk cues
        ("Hypertension, worsening; start lisinopril. MDM: straightforward.", "straightforward"),
        ("Cough. Medical decision making: high complexity.", "high"),
        ("Medical decision making of moderate complexity was required.", "moderate"),
        ("Decision-making complexity assessed as low given one stable problem.", "low"),
        ("MDM minimal, one self-limited problem.", "straightforward"),
    ],
)
def test_documented_mdm_level(nlp, text, level):
    assert nlp.analyze(text).facts.mdm_level == level


def test_mdm_without_a_documented_level_is_derived(nlp):
    # "high" in an unrelated sentence is not an MDM statement
    f = nlp.analyze("Blood pressure high today. Hypertension, worsening; started lisinopril 10 mg daily.").facts
    assert f.mdm_level == "moderate"


@pytest.mark.parametrize(
    ("text", "therapy", "total"),
    [
        ("Psychotherapy time: 47 minutes.", 47, None),  # psychotherapy time is not the E/M time
        ("Individual psychotherapy provided for 49 minutes. Total time 25 minutes.", 49, 25),
        ("45 minutes of individual psychotherapy.", 45, None),
        ("Medical discussion by phone: 12 minutes.", None, 12),
        ("Physical therapy referral placed. Pain for 20 minutes after walking.", None, None),
        ("Home physical therapy 3 times a week for 30 minutes.", None, None),
        ("Therapy session lasted 53 min.", 53, None),
    ],
)
def test_psychotherapy_and_phone_minutes(nlp, text, therapy, total):
    f = nlp.analyze(text).facts
    assert (f.psychotherapy_minutes, f.total_minutes) == (therapy, total)


@pytest.mark.parametrize(
    ("text", "counseling", "total"),
    [
        ("Smoking cessation counseling, 8 minutes. Total time 25 minutes.", 8, 25),
        ("Smoking cessation counseling, over 10 minutes performed today.", 11, None),
        ("Performed today: smoking cessation counseling, 3-10 minutes.", 10, None),
        ("Spent 12 minutes on tobacco cessation counseling.", 12, None),  # not the E/M time
        ("Counseled to quit smoking for 5 min.", 5, None),
        ("Former smoker, quit 5 years ago. Time spent 25 minutes.", None, 25),
    ],
)
def test_tobacco_counseling_minutes(nlp, text, counseling, total):
    f = nlp.analyze(text).facts
    assert (f.tobacco_counseling_minutes, f.total_minutes) == (counseling, total)


@pytest.mark.parametrize(
    ("text", "new"),
    [
        ("New patient here to establish care.", True),
        ("Initial consultation for knee pain.", True),
        ("Transferring care from another provider.", True),
        ("Has never been seen in this clinic before.", True),
        ("This is her first time at this clinic.", True),
        ("Returns for follow-up of diabetes.", False),
        ("Here for 3 month check.", False),
        ("Known patient of this clinic.", False),
        ("Symptoms return when walking.", None),
        ("Not seen in our clinic in the past 3 years.", True),
        ("Last seen in March; since her last visit BP improved.", False),
        ("Interval history: doing well.", False),
        ("Fracture of the radius, initial encounter.", None),  # ICD wording, not a new patient
        ("Knee pain for 3 days.", None),
    ],
)
def test_new_or_established(nlp, text, new):
    assert nlp.analyze(text).facts.new_patient is new


@pytest.mark.parametrize(("text", "preventive"), [("Yearly physical today.", True), ("Well-child check at 4 years.", True),
                                                  ("Annual check-up.", True), ("Physical therapy twice weekly.", False),
                                                  ("Follow-up of hypertension.", False)])
def test_preventive_visit(nlp, text, preventive):
    assert nlp.analyze(text).facts.preventive is preventive
