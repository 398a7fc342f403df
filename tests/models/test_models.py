"""The learning parts alone: estimator contract, determinism, calibration monotonicity,
threshold tuning, ECE, the term index, the supervised model and the E/M rules."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_get_params_invariance, check_set_params

from models.cooccurrence import CodeCooccurrence
from models.em import (
    Line,
    add_vaccine_admin,
    add_venipuncture,
    apply_modifiers,
    level_from_time,
    needs_venipuncture,
    office_em,
    preventive_code,
)
from models.lexical import TermIndex
from models.ranker import CandidateRanker, IsotonicCalibrator, expected_calibration_error, tune_threshold
from models.supervised import TfidfMultiLabel


def _data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("est", [CandidateRanker(), CandidateRanker(kind="logistic"), IsotonicCalibrator(),
                                 TermIndex(), TfidfMultiLabel(), CodeCooccurrence()])
def test_estimator_contract(est: object) -> None:
    name = type(est).__name__
    check_get_params_invariance(name, est)
    check_set_params(name, est)
    c = clone(est)
    assert c.get_params() == est.get_params()  # type: ignore[attr-defined]


def test_ranker_fit_returns_self_learns_and_is_deterministic() -> None:
    X, y = _data()
    r = CandidateRanker(max_iter=50)
    assert r.fit(X, y) is r
    p = r.predict_proba(X)
    assert p.shape == (len(X), 2) and np.allclose(p.sum(axis=1), 1.0)
    assert (r.predict(X) == y).mean() > 0.8
    p2 = CandidateRanker(max_iter=50).fit(X, y).predict_proba(X)
    assert np.array_equal(p, p2)
    # the compiled tree walk agrees with scikit-learn's own predictor
    assert np.allclose(p[:, 1], r.model_.predict_proba(X)[:, 1], atol=1e-9)
    with pytest.raises(ValueError):
        r.decision_scores(X[:, :3])
    with pytest.raises(ValueError):
        CandidateRanker(kind="forest").fit(X, y)


def test_ranker_unfitted_and_single_class() -> None:
    X, _y = _data(50)
    with pytest.raises(NotFittedError):
        CandidateRanker().predict_proba(X)
    r = CandidateRanker().fit(X, np.zeros(len(X), dtype=int))
    assert np.all(r.decision_scores(X) == 0.0)


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_is_monotone_and_reduces_ece(method: str) -> None:
    rng = np.random.default_rng(1)
    true_p = rng.uniform(size=4000)
    y = (rng.uniform(size=4000) < true_p).astype(int)
    raw = true_p ** 3  # a monotone but badly calibrated score
    cal = IsotonicCalibrator(method=method).fit(raw[:2000], y[:2000])
    grid = np.linspace(0, 1, 101)
    out = cal.predict(grid)
    assert np.all(np.diff(out) >= -1e-12)
    assert np.all((out >= 0) & (out <= 1))
    before = expected_calibration_error(raw[2000:], y[2000:])
    after = expected_calibration_error(cal.predict(raw[2000:]), y[2000:])
    assert after < before / 3
    if method == "isotonic":
        assert after < 0.05
    # the numpy evaluation equals scikit-learn's own predict, inside and outside the fitted range
    wide = np.concatenate([np.linspace(-0.5, 1.5, 4001), raw])
    want = cal.iso_.predict(wide) if method == "isotonic" else cal.platt_.predict_proba(wide.reshape(-1, 1))[:, 1]
    np.testing.assert_allclose(cal.predict(wide), want, rtol=0, atol=1e-12)


def test_calibrator_errors() -> None:
    with pytest.raises(ValueError):
        IsotonicCalibrator().fit(np.array([]), np.array([]))
    with pytest.raises(ValueError):
        IsotonicCalibrator(method="beta").fit(np.array([0.1, 0.9]), np.array([0, 1]))
    with pytest.raises(NotFittedError):
        IsotonicCalibrator().predict(np.array([0.5]))


def test_threshold_tuning_and_ece() -> None:
    probs = [0.9, 0.8, 0.7, 0.3, 0.2]
    labels = [1, 1, 0, 1, 0]
    t, f1 = tune_threshold(probs, labels)
    assert 0.3 >= t > 0.2 and f1 == pytest.approx(2 * 3 / (2 * 3 + 1))
    # uncovered gold codes lower the achievable F1
    _, f1_missed = tune_threshold(probs, labels, n_missed=3)
    assert f1_missed < f1
    assert expected_calibration_error([1.0, 0.0], [1, 0]) == 0.0
    assert expected_calibration_error([0.9] * 10, [0] * 10) == pytest.approx(0.9)


def test_term_index() -> None:
    ti = TermIndex().fit(["Essential (primary) hypertension", "high blood pressure", "Pain in left knee"],
                         ["I10", "I10", "M25.562"], ["codeset", "train", "codeset"])
    assert ti.lookup("high blood pressure")[0] == ("I10", 1.0)
    code, score = ti.lookup("left knee pain")[0]  # word order differs: bag-of-stems key
    assert code == "M25.562" and 0.5 < score < 1.0
    assert ti.lookup("fracture") == []
    with pytest.raises(ValueError):
        TermIndex().fit(["a"], ["I10", "I11"])


@pytest.mark.parametrize("solver", ["ridge", "logistic"])
def test_supervised_multilabel(solver: str) -> None:
    texts = ["hypertension follow up blood pressure"] * 4 + ["diabetes a1c metformin"] * 4 + ["cough cold"] * 2
    labels = [["icd10cm:I10"]] * 4 + [["icd10cm:E11.9", "cpt:83036"]] * 4 + [["icd10cm:R05.9"]] * 2
    m = TfidfMultiLabel(char_ngrams=False, min_count=2, solver=solver).fit(texts, labels)
    assert set(m.classes_) == {"icd10cm:I10", "icd10cm:E11.9", "cpt:83036", "icd10cm:R05.9"}
    top = m.top_k("patient on metformin, a1c rising", 2)
    assert {c for c, _ in top} == {"icd10cm:E11.9", "cpt:83036"}
    p = m.predict_proba(["blood pressure check"])
    assert p.shape == (1, 4)
    assert m.classes_[int(np.argmax(p[0]))] == "icd10cm:I10"
    assert np.all((p >= 0) & (p <= 1))
    with pytest.raises(ValueError):
        TfidfMultiLabel().fit([], [])
    with pytest.raises(ValueError):
        TfidfMultiLabel(solver="svm").fit(texts, labels)


@pytest.mark.parametrize(("minutes", "new", "level"), [(9, False, None), (10, False, 0), (20, False, 1), (29, False, 1),
                                                      (30, False, 2), (40, False, 3), (75, False, 3), (14, True, None),
                                                      (15, True, 0), (44, True, 1), (45, True, 2), (60, True, 3)])
def test_em_time_thresholds(minutes: int, new: bool, level: int | None) -> None:
    assert level_from_time(minutes, new) == level


@pytest.mark.parametrize(("kwargs", "codes"), [
    ({"total_minutes": 25, "mdm_level": None, "new_patient": False}, ["99213"]),
    ({"total_minutes": None, "mdm_level": "moderate", "new_patient": False}, ["99214"]),
    ({"total_minutes": 20, "mdm_level": "high", "new_patient": True}, ["99205"]),  # higher of time and MDM
    ({"total_minutes": 62, "mdm_level": "low", "new_patient": True}, ["99205"]),
    ({"total_minutes": None, "mdm_level": "straightforward", "new_patient": None}, ["99212"]),
    ({"total_minutes": None, "mdm_level": None, "new_patient": False}, []),
    ({"total_minutes": None, "mdm_level": None, "new_patient": True, "preventive": True, "age": 45}, ["99386"]),
    ({"total_minutes": None, "mdm_level": None, "new_patient": False, "preventive": True, "age": 3}, ["99392"]),
    ({"total_minutes": 25, "mdm_level": "low", "new_patient": False, "preventive": True, "age": 70}, ["99397", "99213"]),
])
def test_office_em(kwargs: dict, codes: list[str]) -> None:
    assert [d.code for d in office_em(**kwargs)] == codes


def test_em_telehealth_modifiers() -> None:
    assert office_em(total_minutes=20, mdm_level=None, new_patient=False, telehealth="video")[0].modifiers == ["95"]
    assert office_em(total_minutes=20, mdm_level=None, new_patient=False, telehealth="audio")[0].modifiers == ["93"]


def test_preventive_age_bands() -> None:
    assert [preventive_code(a, True) for a in (0, 1, 5, 12, 18, 40, 65)] == [
        "99381", "99382", "99383", "99384", "99385", "99386", "99387"]
    assert preventive_code(None, True) is None


def test_line_rules() -> None:
    lines = add_vaccine_admin([Line("99213"), Line("90686"), Line("90715")])
    assert [(ln.code, ln.units) for ln in lines[-2:]] == [("90471", 1), ("90472", 1)]
    lines = add_venipuncture(lines, labs_drawn=True)
    assert lines[-1].code == "36415"
    assert add_venipuncture([Line("99213")], labs_drawn=False) == [Line("99213")]
    lines = apply_modifiers(lines)
    assert lines[0].modifiers == ["25"]  # E/M with vaccine administration
    # E/M alone: no 25; NCCI pair with indicator 1: XS on the column-2 code
    alone = apply_modifiers([Line("99213"), Line("80053")])
    assert alone[0].modifiers == []
    pair = apply_modifiers([Line("20610"), Line("20611")], {("20611", "20610"): 1})
    assert pair[0].modifiers == ["XS"] and pair[1].modifiers == []
    never = apply_modifiers([Line("20610"), Line("20611")], {("20611", "20610"): 0})
    assert never[0].modifiers == []


@pytest.mark.parametrize(("code", "venous"), [
    ("80053", True),   # metabolic panel
    ("85025", True),   # blood count
    ("83036", True),   # HbA1c
    ("87389", True),   # HIV antigen/antibody: blood microbiology
    ("81003", False),  # urinalysis
    ("87880", False),  # rapid strep swab
    ("87624", False),  # HPV from a cervical specimen
    ("82270", False),  # stool occult blood
    ("88305", False),  # tissue pathology
    ("99213", False),  # not a lab
])
def test_venipuncture_only_for_venous_blood_tests(code: str, venous: bool) -> None:
    assert needs_venipuncture(code) is venous


@pytest.mark.slow
def test_static_encoder_and_dense_index(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from models.dense import DenseIndex, StaticEncoder

    codes = ["I10", "E11.9", "M25.562", "R05.9", "J18.9"]
    texts = ["Essential (primary) hypertension", "Type 2 diabetes mellitus without complications",
             "Pain in left knee", "Cough, unspecified", "Pneumonia, unspecified organism"]
    enc = StaticEncoder.distill([*texts, "high blood pressure", "sugar diabetes", "coughing", "knee"])
    index = DenseIndex.build(codes, texts, enc)
    q = enc.encode(["hypertension", "diabetes type 2", "cough", ""])
    assert q.shape == (4, enc.dim)
    assert np.allclose(np.linalg.norm(q[:3], axis=1), 1.0, atol=1e-5)
    assert not q[3].any()  # nothing known: a zero vector, no hit forced
    hits = index.query(q[:3], k=2)
    assert [h[0][0] for h in hits] == ["I10", "E11.9", "R05.9"]
    enc.save(tmp_path)
    index.save(tmp_path)
    enc2, index2 = StaticEncoder.load(tmp_path), DenseIndex.load(tmp_path)
    assert np.allclose(enc2.encode(["hypertension"]), q[:1])
    assert index2.query(q[:1], k=1) == index.query(q[:1], k=1)
    with pytest.raises(ValueError):
        DenseIndex(["I10"], [], np.zeros((1, 3)))


def test_static_encoder_word_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from models.dense import DenseIndex, StaticEncoder

    codes = ["N30.00", "52000", "I10"]
    texts = ["Acute cystitis without hematuria", "Cystourethroscopy", "Essential (primary) hypertension"]
    base = StaticEncoder.distill([*texts, "bladder scope", "high blood pressure"])
    assert not base.has_words
    enc = base.with_words(["cystourethroscopy", "cystitis", "hypertension", "bladder", "scope"], texts)
    assert enc.has_words
    # a multi-piece word now has its own vector, not the mean of its pieces' vectors
    assert not np.allclose(enc.encode(["cystourethroscopy"]), base.encode(["cystourethroscopy"]))
    q = enc.encode(["cystourethroscopy", "hypertension essential", "blood", ""])  # "blood": not in the table
    assert np.allclose(np.linalg.norm(q[:3], axis=1), 1.0, atol=1e-5)  # a word outside the table falls back to pieces
    assert not q[3].any()
    index = DenseIndex.build(codes, texts, enc)
    assert [h[0][0] for h in index.query(q[:2], k=1)] == ["52000", "I10"]
    enc.save(tmp_path)
    again = StaticEncoder.load(tmp_path)
    assert again.has_words and np.allclose(again.encode(["cystourethroscopy", "zzqx"]), enc.encode(["cystourethroscopy", "zzqx"]))
    assert again.fingerprint() == enc.fingerprint() != base.fingerprint()
    base.save(tmp_path / "old")  # saved without a word table: loads and encodes as before
    assert np.allclose(StaticEncoder.load(tmp_path / "old").encode(["cystitis"]), base.encode(["cystitis"]))


def test_static_encoder_fine_tune_pulls_mentions_to_their_titles(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from models.dense import DenseIndex, StaticEncoder

    codes = ["I21.9", "N20.0", "K35.80", "R55", "I10", "E11.9"]
    titles = ["Acute myocardial infarction, unspecified", "Calculus of kidney",
              "Unspecified acute appendicitis", "Syncope and collapse",
              "Essential (primary) hypertension", "Type 2 diabetes mellitus without complications"]
    pairs = [("heart attack", titles[0]), ("kidney stone", titles[1]), ("appendix inflammation", titles[2]),
             ("passing out", titles[3]), ("high blood pressure", titles[4]), ("sugar diabetes", titles[5])]
    base = StaticEncoder.distill([*titles, *(a for a, _ in pairs)])
    tuned = base.fine_tune(pairs, epochs=40, lr=0.1, batch_size=8, seed=0)
    mentions = [a for a, _ in pairs]

    def right_first(enc: StaticEncoder) -> int:
        index = DenseIndex.build(codes, titles, enc)
        return sum(h[0][0] == c for h, c in zip(index.query(enc.encode(mentions), k=1), codes, strict=True))

    assert right_first(tuned) == len(codes) > right_first(base)
    # the base encoder is left as it was; same seed, same vectors
    assert base.fingerprint() == StaticEncoder.distill([*titles, *mentions]).fingerprint()
    again = base.fine_tune(pairs, epochs=40, lr=0.1, batch_size=8, seed=0)
    assert np.allclose(again.encode(mentions), tuned.encode(mentions))
    tuned.save(tmp_path)
    assert np.allclose(StaticEncoder.load(tmp_path).encode(mentions), tuned.encode(mentions), atol=1e-6)
    with pytest.raises(ValueError, match="whole-word"):
        base.with_words(["hypertension"], titles).fine_tune(pairs)


def test_dense_finetune_pairs_are_code_set_names_not_training_text() -> None:
    from codesets.lookup import load_codesets
    from pipelines.dense_pairs import finetune_pairs

    cs = load_codesets()
    note = {"text": "zz", "evidence": {"I10": [{"start": 0, "end": 9, "text": "BP is up"}],
                                       "99213": [{"start": 0, "end": 30, "text": "Total time 25 minutes today"}]}}
    pairs = finetune_pairs(cs, [note], max_index=500)
    titles = {b for _, b in pairs}
    assert cs.icd.codes["I10"].description in titles
    assert all(a == a.lower() and 2 < len(a) <= 80 and a != b.lower() for a, b in pairs)
    assert not any(a == "bp is up" for a, _ in pairs)  # training spans only on request
    with_spans = finetune_pairs(cs, [note], max_index=500, spans=True)
    assert ("bp is up", cs.icd.codes["I10"].description) in with_spans
    assert not any("total time" in a for a, _ in with_spans)  # E/M evidence is no name
    assert finetune_pairs(cs, [note], max_index=500) == pairs  # deterministic
    assert len(finetune_pairs(cs, [], max_index=0)) < len(pairs)
    only = finetune_pairs(cs, [note], max_index=60_000, spans=True, codes=["I10", "E11.9"])
    assert only and {b for _, b in only} <= {cs.icd.codes["I10"].description, cs.icd.codes["E119"].description}


@pytest.mark.parametrize("dense_min_df", [0, 2, 1000])
def test_ridge_split_scoring_equals_the_dual_product(dense_min_df: int) -> None:
    """Precomputed primal weights for frequent features + sparse kernel for rare ones must give
    exactly the kernel-ridge scores x X^T A, whatever the split point."""
    rng = np.random.default_rng(0)
    vocab = ["pressure", "sugar", "cough", "knee", "pain", "rash", "fever", "a1c", "statin", "x-ray", "left", "right"]
    texts = [" ".join(rng.choice(vocab, size=8)) for _ in range(60)]
    labels = [[f"l:{w}" for w in t.split()[:2]] for t in texts]
    m = TfidfMultiLabel(min_count=2, dense_min_df=dense_min_df).fit(texts, labels)
    new = ["knee pain left, fever", "sugar a1c statin statin", "nothing known here"]
    Xm = m._transform(new)
    Xt = m._transform(texts)
    expected = np.asarray((Xm @ Xt.T).toarray() @ m.dual_coef_) + m.intercept_
    np.testing.assert_allclose(m.decision_function(new), expected, atol=1e-5)
    assert len(m.dense_features_) + len(m.rare_features_) == Xt.shape[1]


def test_wordpiece_tokenizer_matches_transformers() -> None:
    """The torch-free tokenizer gives the same ids and special tokens as AutoTokenizer."""
    from transformers import AutoTokenizer

    from models.dense import WordPieceTokenizer, minilm_path

    ours = WordPieceTokenizer(minilm_path())
    ref = AutoTokenizer.from_pretrained(str(minilm_path()))
    texts = ["Type 2 diabetes mellitus with hyperglycemia", "Ünïcödé café – naïve", "", "  ",
             "s/p R TKA; HbA1c 9.1%; f/u 3 wks", "word " * 700]
    assert ours(texts, add_special_tokens=False)["input_ids"] == ref(texts, add_special_tokens=False)["input_ids"]
    assert ours.all_special_ids == sorted(ref.all_special_ids)
    assert (ours.cls_token_id, ours.sep_token_id) == (ref.cls_token_id, ref.sep_token_id)
    assert ours.get_vocab() == ref.get_vocab()


def test_nlp_import_does_not_load_torch() -> None:
    """The serving path (NLP + Suggester imports) stays torch-free: ~250 MB and ~1 s per process."""
    import subprocess
    import sys

    code = "import sys; import pipelines.suggest, pipelines.nlp; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_ranker_scores_are_sklearns_at_any_batch_size() -> None:
    """The numpy tree walk gives bitwise scikit-learn's probabilities, so a note scores the same
    alone or inside any batch."""
    X, y = _data(900)
    r = CandidateRanker(max_iter=40).fit(X, y)
    big = r.decision_scores(X)
    assert np.array_equal(big, r.model_.predict_proba(X)[:, 1])
    small = np.concatenate([r.decision_scores(X[i : i + 50]) for i in range(0, len(X), 50)])
    assert np.array_equal(big, small)


def test_old_format_ridge_upgrades_to_the_split_with_the_same_scores() -> None:
    texts = ["hypertension follow up blood pressure"] * 4 + ["diabetes a1c metformin"] * 4 + ["cough cold"] * 3
    labels = [["I10"]] * 4 + [["E11.9", "83036"]] * 4 + [["R05.9"]] * 3
    m = TfidfMultiLabel(min_count=2, dense_min_df=3).fit(texts, labels)
    new = ["a1c up on metformin", "cold and cough", "pressure check"]
    expected = m.decision_function(new)
    old = TfidfMultiLabel(min_count=2).fit(texts, labels)
    old.train_XT_ = old._transform(texts).T.tocsr()  # the pre-split artifact layout
    for attr in ("dense_coef_", "dense_features_", "rare_features_", "rare_XT_"):
        delattr(old, attr)
    np.testing.assert_allclose(old.decision_function(new), expected, atol=1e-6)  # legacy path still scores
    assert old.upgrade() is True and not hasattr(old, "train_XT_")
    np.testing.assert_allclose(old.decision_function(new), expected, atol=1e-6)
    assert old.upgrade() is False


@pytest.mark.parametrize(("minutes", "with_em", "code"), [(10, False, None), (16, False, "90832"), (37, False, "90832"),
                                                          (38, False, "90834"), (52, False, "90834"), (53, False, "90837"),
                                                          (20, True, "90833"), (45, True, "90836"), (60, True, "90838"),
                                                          (None, False, None)])
def test_psychotherapy_time_bands(minutes: int | None, with_em: bool, code: str | None) -> None:
    from models.em import psychotherapy_code, psychotherapy_counterpart

    assert psychotherapy_code(minutes, with_em) == code
    if code:
        assert psychotherapy_counterpart(code, not with_em) == psychotherapy_code(minutes, not with_em)
        assert psychotherapy_counterpart(code, with_em) == code


@pytest.mark.parametrize(("minutes", "code"), [(3, None), (5, "99441"), (10, "99441"), (11, "99442"), (20, "99442"),
                                               (21, "99443"), (45, "99443")])
def test_phone_em_time_bands(minutes: int, code: str | None) -> None:
    from models.em import phone_em_code

    assert phone_em_code(minutes) == code


@pytest.mark.parametrize(
    ("codes", "age", "admin"),
    [
        (["90686"], 40, [("90471", 1)]),
        (["90686", "90715"], 40, [("90471", 1), ("90472", 1)]),
        (["90662"], 70, [("G0008", 1)]),  # Medicare: influenza -> G0008
        (["90662", "90677"], 70, [("G0008", 1), ("G0009", 1)]),  # + pneumococcal -> G0009
        (["90662", "90715"], 70, [("90471", 1), ("90472", 1)]),  # Tdap is not a Part B vaccine
        (["90686"], None, [("90471", 1)]),  # age unknown: not assumed Medicare
        (["90686", "G0008"], 40, [("90471", 1)]),  # a contradicting admin code is replaced
        (["90686", "90471"], 70, [("G0008", 1)]),
        (["90700", "90460"], 4, [("90460", 1)]),  # pediatric counselling codes stay
        (["99213"], 70, []),
    ],
)
def test_vaccine_administration_codes(codes: list[str], age: int | None, admin: list[tuple[str, int]]) -> None:
    from models.em import ADMIN_CODES

    lines = add_vaccine_admin([Line(c) for c in codes], age)
    assert [(ln.code, ln.units) for ln in lines if ln.code in ADMIN_CODES] == admin


@pytest.mark.parametrize(
    ("codes", "age", "counseled", "admin"),
    [
        (["90656"], 8, True, [("90460", 1)]),  # under 19, counselled: 90460 per product
        (["90620", "90734"], 16, True, [("90460", 2)]),
        (["90656", "90471"], 8, True, [("90460", 1)]),  # the ranker's 90471 is replaced
        (["90656"], 8, False, [("90471", 1)]),  # no counselling documented
        (["90656"], 19, True, [("90471", 1)]),  # 19 and over: 90471/90472
        (["90656"], None, True, [("90471", 1)]),  # age unknown
    ],
)
def test_pediatric_vaccine_counseling_bills_90460(codes: list[str], age: int | None, counseled: bool,
                                                   admin: list[tuple[str, int]]) -> None:
    from models.em import ADMIN_CODES

    lines = add_vaccine_admin([Line(c) for c in codes], age, counseled)
    assert [(ln.code, ln.units) for ln in lines if ln.code in ADMIN_CODES] == admin


@pytest.mark.parametrize(
    ("text", "counseled"),
    [
        ("Parent received counseling from the physician on each vaccine.", True),
        ("Vaccine counseling provided to mother; VIS given.", True),
        ("Counselled the parents regarding immunizations due today.", True),
        ("Counseled on diet and exercise. Flu vaccine given.", False),  # counselling about something else
        ("Flu vaccine administered intramuscularly.", False),
    ],
)
def test_vaccine_counseling_is_read_from_one_sentence(text: str, counseled: bool) -> None:
    from models.em import documents_vaccine_counseling

    assert documents_vaccine_counseling(text) is counseled


@pytest.mark.parametrize("solver", ["ridge", "logistic"])
def test_column_scorer_matches_decision_function(solver: str) -> None:
    texts = ["hypertension on lisinopril", "type 2 diabetes on metformin", "knee pain after a fall",
             "hypertension and diabetes", "cough and fever", "fever with cough, chest x-ray"] * 3
    labels = [["I10"], ["E11.9"], ["M25.561"], ["I10", "E11.9"], ["R05.9"], ["R05.9", "R50.9"]] * 3
    m = TfidfMultiLabel(min_count=2, solver=solver, dense_min_df=2).fit(texts, labels)
    probe = ["lisinopril for hypertension", "fever", "metformin"]
    full = m.decision_function(probe)
    scorer = m.column_scorer(probe)
    for j in range(len(m.classes_)):
        np.testing.assert_allclose(scorer(j), full[:, j], rtol=1e-5, atol=1e-6)


def test_one_se_threshold_rule_takes_the_lowest_statistically_tied_threshold() -> None:
    rng = np.random.default_rng(0)
    # 400 right codes scored 0.3-1.0, 400 wrong ones 0.0-0.45: F1 is flat between ~0.3 and ~0.45
    probs = np.concatenate([rng.uniform(0.3, 1.0, 400), rng.uniform(0.0, 0.45, 400)])
    labels = np.array([1] * 400 + [0] * 400)
    t_best, f_best = tune_threshold(probs, labels)
    t_se, f_se = tune_threshold(probs, labels, rule="one_se", max_drop=1.0)  # the plain one-SE rule
    assert t_se <= t_best
    se = np.sqrt(f_best * (1 - f_best) / 400)
    assert f_best - se <= f_se <= f_best
    # every lower threshold is more than one standard error worse
    grid = [round(x, 3) for x in np.arange(0.05, 0.951, 0.01)]
    for t in [g for g in grid if g < t_se]:
        pred = probs >= t
        tp, fp = int((pred & (labels == 1)).sum()), int((pred & (labels == 0)).sum())
        assert 2 * tp / (2 * tp + fp + 400 - tp) < f_best - se
    # a small dev set's large standard error does not lower the threshold by more than max_drop
    t_cap, f_cap = tune_threshold(probs, labels, rule="one_se", max_drop=0.005)
    assert f_cap >= f_best - 0.005 and t_se <= t_cap <= t_best
    with pytest.raises(ValueError, match="threshold rule"):
        tune_threshold(probs, labels, rule="median")


@pytest.mark.parametrize(
    ("codes", "day", "dropped"),
    [
        (["90686", "90656"], "2025-11-03", {"90686"}),  # 2024-25 season on: the trivalent product stays
        (["90686", "90656"], None, {"90686"}),
        (["90686", "90656"], "2023-10-02", {"90656"}),  # before it: the more probable stays
        (["90656", "90715"], "2025-11-03", set()),  # one flu product and Tdap: nothing to drop
        (["90686"], "2025-11-03", set()),  # one product: the season rule (pipelines.flu_seasons) may re-code it
    ],
)
def test_one_influenza_vaccine_per_encounter(codes: list[str], day: str | None, dropped: set[str]) -> None:
    import datetime as dt

    from models.em import one_flu_vaccine

    desc = {"90686": "Influenza vaccine, quadrivalent, preservative-free", "90656": "Influenza vaccine, trivalent",
            "90715": "Tdap vaccine"}
    assert one_flu_vaccine(codes, desc, dt.date.fromisoformat(day) if day else None) == dropped


def test_note_level_scores_do_not_depend_on_the_batch() -> None:
    # a batch job must score a note exactly as the service scores it alone (a float32 BLAS
    # product over a whole batch sums in a size-dependent order)
    rng = np.random.default_rng(0)
    words = [f"w{j}" for j in range(400)]
    texts = [" ".join(rng.choice(words, 40)) for _ in range(500)]
    labels = [[f"C{j}" for j in rng.choice(60, 3, replace=False)] for _ in range(500)]
    m = TfidfMultiLabel(min_count=2, dense_min_df=20).fit(texts, labels)
    batch = m.predict_proba(texts)
    for i in (0, 7, 259, 499):
        assert np.array_equal(m.predict_proba([texts[i]])[0], batch[i])


@pytest.mark.parametrize(
    ("age", "sex", "expected"),
    [
        (45, "M", ("Z00.00", "Z00.01")),
        (45, "F", ("Z00.00", "Z00.01", "Z01.419", "Z01.411")),
        (9, "M", ("Z00.129", "Z00.121")),
        (0, "U", ("Z00.129", "Z00.121", "Z00.110", "Z00.111", "Z01.419", "Z01.411")),
        (None, "M", ("Z00.00", "Z00.01", "Z00.129", "Z00.121", "Z00.110", "Z00.111")),
    ],
)
def test_routine_exam_codes_follow_age_and_sex(age: int | None, sex: str, expected: tuple[str, ...]) -> None:
    from codesets import load_codesets
    from models.em import Line, needs_routine_exam_dx, routine_exam_codes

    got = routine_exam_codes(age, sex)
    assert got == expected
    icd = load_codesets().icd
    assert all(icd.is_billable(c.replace(".", ""), 2026) for c in got)
    assert needs_routine_exam_dx([Line("99396")]) and needs_routine_exam_dx([Line("G0439")])
    assert not needs_routine_exam_dx([Line("99213"), Line("90686")])


@pytest.mark.parametrize(
    ("codes", "age", "expected"),
    [
        (["G0439", "96127"], 70, {"96127": "G0444"}),  # subsequent AWV: Medicare's depression screening code
        (["G0439", "96127", "G0444"], 70, {"96127": None}),  # already there: the brief assessment goes
        (["G0438", "96127"], 70, {}),  # initial AWV: G0444 is not billed with it
        (["99397", "96127"], 70, {}),  # no AWV
        (["G0439", "96127"], 50, {}),  # under Medicare age
        (["G0439", "96127"], None, {}),
    ],
)
def test_medicare_depression_screening(codes: list[str], age: int | None, expected: dict[str, str | None]) -> None:
    from models.em import medicare_depression_screening

    assert medicare_depression_screening(codes, age) == expected


@pytest.mark.parametrize(
    ("code", "line", "expected"),
    [
        ("20610", "Right knee injection under ultrasound guidance, images saved.", "20611"),
        ("20610", "US-guided knee aspiration.", "20611"),
        ("20605", "Wrist injection, ultrasound-guided.", "20606"),
        ("20600", "Finger joint injected with sonographic guidance.", "20604"),
        ("20611", "Knee injection without ultrasound guidance.", "20610"),  # denied: the unguided code
        ("20611", "Knee injection, not under ultrasound.", "20610"),
        ("20610", "Knee injection performed.", "20610"),  # not mentioned: the chosen code stands
        ("20611", "Knee injection performed.", "20611"),
        ("20610", "Knee ultrasound showed an effusion; injection performed.", "20610"),  # imaging, not guidance
        ("99213", "Seen under ultrasound guidance.", "99213"),  # not a joint injection
    ],
)
def test_joint_injection_code_follows_documented_ultrasound_guidance(code: str, line: str, expected: str) -> None:
    from models.em import joint_injection_code

    assert joint_injection_code(code, line) == expected


@pytest.mark.parametrize(
    ("line", "count"),
    [
        ("Cryotherapy with liquid nitrogen to 20 actinic keratoses.", 20),
        ("LN2 to AKs x 3.", 3),
        ("Three lesions treated with cryotherapy.", 3),
        ("1. Cryotherapy to 5 lesions.", 5),  # a list number is no count
        ("Destroyed 2 AKs on the face and 3 lesions on the arm.", None),  # two numbers: left to the coder
        ("Cryotherapy performed.", None),
    ],
)
def test_documented_lesion_count(line: str, count: int | None) -> None:
    from models.em import documented_lesion_count

    assert documented_lesion_count(line) == count


@pytest.mark.parametrize(("count", "lines"), [(1, [("17000", 1)]), (2, [("17000", 1), ("17003", 1)]),
                                              (14, [("17000", 1), ("17003", 13)]), (15, [("17004", 1)]),
                                              (40, [("17004", 1)])])
def test_premalignant_destruction_is_billed_by_count(count: int, lines: list[tuple[str, int]]) -> None:
    from models.em import premalignant_destruction_lines

    assert premalignant_destruction_lines(count) == lines


def test_cooccurrence_reads_companions_smoothed_and_never_the_code_itself() -> None:
    sets = [["I10", "E11.9", "E78.5"], ["I10", "E11.9"], ["I10", "E11.9"], ["I10"], ["J18.9", "R05.9"]]
    co = CodeCooccurrence(smoothing=2.0)
    assert co.fit(sets) is co
    # P(E11.9 | I10) = 3 / (4 + 2); P(E78.5 | E11.9) = 1 / (3 + 2)
    assert co.given_["I10"]["E11.9"] == pytest.approx(0.5)
    assert co.given_["E11.9"]["E78.5"] == pytest.approx(0.2)
    out = co.scores(["E11.9", "I10", "E78.5", "Z99.9"], np.array([0.0, 1.0, 0.5, 1.0]))
    assert out.shape == (4, 2)
    assert out[0] == pytest.approx([0.5, 0.5 + 0.5 * (1 / 3)])  # I10 (1.0 x 3/6) and E78.5 (0.5 x 1/3)
    # E11.9 lends I10 nothing (its strength is 0); E78.5 lends I10 0.5 x P(I10 | E78.5) = 0.5 x 1/3
    assert out[1] == pytest.approx([0.5 / 3, 0.5 / 3])
    assert out[3] == pytest.approx([0.0, 0.0])  # never coded in training: no companions
    # a code is no companion of itself, and unfitted or empty input scores 0
    assert CodeCooccurrence().fit([["I10"]]).scores(["I10"], np.ones(1))[0] == pytest.approx([0.0, 0.0])
    assert CodeCooccurrence().scores(["I10"], np.ones(1))[0] == pytest.approx([0.0, 0.0])
    assert co.scores([], np.zeros(0)).shape == (0, 2)
