import pytest

from codesets import load_codesets


@pytest.fixture(scope="module")
def cs():
    return load_codesets()


def _codes(cs, q, **kw):
    return [h.code for h in cs.search(q, **kw)]


def test_diabetes_phrase(cs):
    assert "E11.65" in _codes(cs, "type 2 diabetes with hyperglycemia", k=3)


def test_hba1c_phrase(cs):
    assert "83036" in _codes(cs, "hemoglobin a1c", k=3)


def test_misspelling_and_word_order(cs):
    assert "I10" in _codes(cs, "hypertension essental", k=5)
    assert "M25.562" in _codes(cs, "knee pain left", k=3)


def test_system_filter_and_code_prefix(cs):
    hits = cs.search("E11.6", system="icd10cm", k=5)
    assert hits and all(h.system == "icd10cm" and h.code.startswith("E11.6") for h in hits)
    assert all(h.system == "cpt" for h in cs.search("office visit", system="cpt", k=5))


def test_empty_query(cs):
    assert cs.search("   ") == []
