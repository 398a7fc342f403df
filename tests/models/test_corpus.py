"""The corpus classifier behind per-corpus calibration (models/corpus.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from models.corpus import PRIMARY, CorpusClassifier

VISITS = ["HPI: established patient, follow up of hypertension. Assessment: stable. Plan: refill lisinopril.",
          "Chief complaint: cough for three days. Exam: lungs clear. Assessment: acute bronchitis. Plan: fluids.",
          "HPI: knee pain after a fall. Assessment: sprain. Plan: ice, rest, return in two weeks."]
REPORTS = ["We present the case of a 40-year-old man admitted for fever; cultures grew brucella.",
           "We describe a woman with abdominal mass; the biopsy showed a lymphoma and she was referred.",
           "A case of renal colic in a young man is reported; tomography showed a ureteral stone."]


def _fit() -> CorpusClassifier:
    texts = [f"{t} ({i})" for i in range(10) for t in VISITS + REPORTS]
    labels = [PRIMARY if (k % 6) < 3 else "reports" for k in range(60)]
    return CorpusClassifier().fit(texts, labels)


def test_tells_corpora_apart_and_returns_probabilities() -> None:
    m = _fit()
    assert list(m.classes_) == [PRIMARY, "reports"]
    p = m.predict_proba(["Assessment: hypertension. Plan: follow up.", "We present the case of a man with a stone."])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert p[0, 0] > 0.5 and p[1, 1] > 0.5
    assert list(m.predict(["We describe the case of a woman with fever."])) == ["reports"]


def test_estimator_contract_and_errors() -> None:
    m = CorpusClassifier(C=2.0)
    assert clone(m).get_params() == {"C": 2.0, "max_features": 20000, "gate_quantiles": (0.02, 0.1), "random_state": 0}
    with pytest.raises(ValueError, match="gate_quantiles"):
        CorpusClassifier(gate_quantiles=(0.5, 0.1)).fit(VISITS + REPORTS, [PRIMARY] * 3 + ["reports"] * 3)
    with pytest.raises(ValueError, match="two corpora"):
        CorpusClassifier().fit(VISITS, [PRIMARY] * 3)
    with pytest.raises(ValueError, match="aligned"):
        CorpusClassifier().fit(VISITS, [PRIMARY])
    a, b = _fit(), _fit()
    np.testing.assert_array_equal(a.predict_proba(REPORTS), b.predict_proba(REPORTS))  # deterministic


def test_fast_probabilities_match_scikit_learn_and_survive_pickle() -> None:
    import pickle

    m = _fit()
    texts = VISITS + REPORTS + ["", "words nobody trained on", "Plan: ice. We present the case."]
    want = m.model_.predict_proba(m.vectorizer_.transform(texts))
    want = want[:, [list(m.model_.classes_).index(c) for c in m.classes_]]
    np.testing.assert_allclose(m.predict_proba(texts), want, atol=1e-6)
    back = pickle.loads(pickle.dumps(m))
    np.testing.assert_allclose(back.predict_proba(texts), want, atol=1e-6)
    three = CorpusClassifier().fit(VISITS * 4 + REPORTS * 4 + ["Operative report: incision, closure."] * 12,
                                   [PRIMARY] * 12 + ["reports"] * 12 + ["surgery"] * 12)
    texts3 = [*texts, "Operative report: closure."]
    want3 = three.model_.predict_proba(three.vectorizer_.transform(texts3))
    np.testing.assert_allclose(three.predict_proba(texts3), want3[:, [list(three.model_.classes_).index(c) for c in three.classes_]], atol=1e-6)


def test_weights_need_resemblance_not_only_the_classifiers_preference() -> None:
    """A note unlike both corpora may still lean to the smaller one in the classifier; the
    routing weight also asks that it resemble that corpus as much as the corpus's own notes."""
    m = _fit()
    report, visit = REPORTS[0], VISITS[0]
    # half report words, half words no corpus used: the classifier leans to reports, the
    # similarity to the reports' centroid stays below every report's own
    odd = "We present the zorblat quixel vantor plimsy darrow kestrel brindle of a yurt."
    w = m.weights([report, visit, odd, ""])
    p = m.predict_proba([report, visit, odd, ""])
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    j = list(m.classes_).index("reports")
    assert w[0, j] == pytest.approx(p[0, j])  # a report: the classifier's full weight
    assert w[1, j] <= p[1, j] and w[1, j] < 0.05  # a visit note
    assert p[2, j] > 0.5 and w[2, j] == 0.0  # leans to reports, resembles no report
    assert w[3, j] == 0.0  # empty note: no words, no resemblance


def test_a_classifier_fitted_before_the_gate_still_routes() -> None:
    """Models registered with the ungated classifier (version 31) keep loading and serving."""
    m = _fit()
    del m.centroids_, m.gates_
    np.testing.assert_allclose(m.weights(REPORTS + VISITS), m.predict_proba(REPORTS + VISITS))
