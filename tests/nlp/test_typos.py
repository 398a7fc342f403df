"""Typo repair: unknown words one letter from a lexicon word are repaired; real words,
ambiguous typos and first-letter changes are left alone; possessive eponyms match either way."""

import pytest

from pipelines.nlp import NlpPipeline
from pipelines.nlp.normalize import SpellFixer


@pytest.fixture(scope="module")
def nlp():
    return NlpPipeline.load()


def _codes(nlp, text):
    return {c.code for m in nlp.analyze(text).mentions for c in m.candidates}


@pytest.mark.parametrize(
    ("typo", "right", "code"),
    [
        ("Urine cretinine ordered.", "Urine creatinine ordered.", "82570"),  # dropped letter
        ("Nail avlsion performed.", "Nail avulsion performed.", "11730"),
        ("Well chlid exam.", "Well child exam.", "Z00.129"),  # swapped letters
        ("Diagnositc interview completed.", "Diagnostic interview completed.", "90791"),
        ("Hypertennsion, stable.", "Hypertension, stable.", "I10"),  # doubled letter
    ],
)
def test_typo_finds_the_same_code(nlp, typo, right, code):
    assert code in _codes(nlp, right)
    assert code in _codes(nlp, typo)


def test_fixer_rules():
    f = SpellFixer(vocab={"creatinine", "toad", "traumatic", "dense"}, known={"today", "denies", "atraumatic"})
    assert f.fix("cretinine") == "creatinine"
    assert f.fix("creatinine") is None  # already a lexicon word
    assert f.fix("atraumatic") is None  # a known word, one letter from a lexicon word
    assert f.fix("toady") is None  # one letter from "toad" and from the known "today": ambiguous
    assert f.fix("denes") is None  # "dense" or "denies"
    assert f.fix("xreatinine") is None  # first letter differs
    assert f.fix("todd") is None  # too short to trust
    assert f.fix("cretinnine") is None  # two edits away


def test_common_words_are_not_rewritten(nlp):
    fx = nlp.nlp.get_pipe("medcode_mentions_v1").normalizer.fixer
    assert fx is not None
    for w in ["alert", "tender", "clinic", "being", "consent", "worse", "better", "could", "atraumatic", "splinting"]:
        assert fx.fix(w) is None, w


@pytest.mark.parametrize("text", ["History of Cushing syndrome.", "History of Cushing's syndrome.",
                                  "History of Cushing\u2019s syndrome."])
def test_possessive_eponyms(nlp, text):
    assert "E24.9" in _codes(nlp, text)


@pytest.mark.parametrize(
    ("british", "code"),
    [
        ("Generalised atherosclerosis.", "I70.91"),  # "generalised" is also a word of a curated key
        ("Localised swelling of the knee.", "R22.4"),
        ("Ischaemic heart disease.", "I25.9"),
        ("Oesophagitis.", "K20.90"),
    ],
)
def test_british_spellings_find_the_code_sets_wording(nlp, british, code):
    american = british.replace("ised", "ized").replace("ae", "e").replace("Oe", "E")
    assert code in _codes(nlp, american)
    assert _codes(nlp, british) == _codes(nlp, american)


def test_british_spelling_rules():
    from pipelines.nlp.normalize import american

    assert [american(w) for w in ["generalised", "oedema", "anaemia", "tumour", "paralysed", "hospitalisation"]] == \
        ["generalized", "edema", "anemia", "tumor", "paralyzed", "hospitalization"]
    f = SpellFixer(vocab={"generalized", "hyperlipidemia", "hyperlipidaemia"}, keys={"hyperlipidaemia"})
    assert f.fix("generalised") == "generalized"
    assert f.fix("hyperlipidaemia") is None  # a one-word key of its own keeps its curated codes
    assert f.fix("exercise") is None  # "exercize" is no lexicon word: left alone
