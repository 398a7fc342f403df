"""BMI values name their Z68 code by value band (adult) or percentile (pediatric)."""

import pytest

from pipelines.nlp import NlpPipeline
from pipelines.nlp.measures import adult_bmi_code, pediatric_bmi_code


@pytest.fixture(scope="module")
def nlp():
    return NlpPipeline.load()


@pytest.mark.parametrize(("value", "code"), [(17.2, "Z68.1"), (19.94, "Z68.1"), (20.0, "Z68.20"), (24.9, "Z68.24"),
                                             (31.4, "Z68.31"), (39.9, "Z68.39"), (40.0, "Z68.41"), (46.2, "Z68.42"),
                                             (52.0, "Z68.43"), (65.5, "Z68.44"), (71.0, "Z68.45"), (2.0, None)])
def test_adult_bands(value, code):
    assert adult_bmi_code(value) == code


@pytest.mark.parametrize(("pct", "code"), [(3, "Z68.51"), (50, "Z68.52"), (90, "Z68.53"), (97, "Z68.54")])
def test_pediatric_percentiles(pct, code):
    assert pediatric_bmi_code(pct) == code


@pytest.mark.parametrize(
    ("text", "code", "assertion"),
    [
        ("Class 3 obesity. BMI 46.2.", "Z68.42", "present"),
        ("Vitals: BP 120/80, BMI: 31.4 kg/m2.", "Z68.31", "present"),
        ("Body mass index 52 today.", "Z68.43", "present"),
        ("BMI at the 97th percentile for age.", "Z68.54", "present"),
        ("No prior BMI 20 documented.", "Z68.20", "negated"),
    ],
)
def test_bmi_mentions(nlp, text, code, assertion):
    found = [(c.code, m.assertion) for m in nlp.analyze(text).mentions for c in m.candidates if c.code.startswith("Z68")]
    assert found == [(code, assertion)]
    assert text[next(m for m in nlp.analyze(text).mentions if m.kind == "finding").start:].lower().startswith(("bmi", "body"))


def test_no_bmi_no_mention(nlp):
    assert not [m for m in nlp.analyze("BP 120/80, HR 72, weight 80 kg.").mentions if m.concept == "body mass index"]
