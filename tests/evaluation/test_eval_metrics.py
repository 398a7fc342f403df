"""Metrics: cross-checked against scikit-learn, batch accumulation, bootstrap, extras."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, confusion_matrix, f1_score, precision_score, recall_score
from sklearn.preprocessing import MultiLabelBinarizer

from evaluation.metrics import (
    MetricAccumulator,
    average_precision,
    code_group,
    em_confusion,
    finding_rates,
    icd_chapter,
    is_prefix_form,
    link_f1,
    prefix_form_match,
    reliability,
)

CODES = [f"E11.{i}" for i in range(10)] + ["I10", "J45.909", "R52", "Z00.00", "M54.50", "N39.0"]


def _random_batch(seed: int, n: int = 40) -> tuple[list[set[str]], list[list[str]], list[list[str]], list[dict[str, float]]]:
    rnd = random.Random(seed)
    gold, pred, ranked, conf = [], [], [], []
    for _ in range(n):
        g = set(rnd.sample(CODES, rnd.randint(0, 5)))
        p = [c for c in CODES if (c in g and rnd.random() < 0.7) or (c not in g and rnd.random() < 0.12)]
        rnd.shuffle(p)
        r = p + [c for c in rnd.sample(CODES, len(CODES)) if c not in p]  # every code ranked
        gold.append(g)
        pred.append(p)
        ranked.append(r)
        conf.append({c: rnd.random() for c in p})
    return gold, pred, ranked, conf


def _acc(seed: int = 0, n: int = 40) -> tuple[MetricAccumulator, tuple]:
    batch = _random_batch(seed, n)
    acc = MetricAccumulator("icd10cm")
    acc.update(*batch)
    return acc, batch


def test_micro_macro_match_sklearn() -> None:
    acc, (gold, pred, _, _) = _acc()
    m = acc.compute()
    # macro over codes present in the gold or the predictions = a binarizer fitted on both
    mlb = MultiLabelBinarizer().fit(gold + [set(p) for p in pred])
    yt, yp = mlb.transform(gold), mlb.transform([set(p) for p in pred])
    assert m["f1_micro"] == pytest.approx(f1_score(yt, yp, average="micro", zero_division=0))
    assert m["precision_micro"] == pytest.approx(precision_score(yt, yp, average="micro", zero_division=0))
    assert m["recall_micro"] == pytest.approx(recall_score(yt, yp, average="micro", zero_division=0))
    assert m["f1_macro"] == pytest.approx(f1_score(yt, yp, average="macro", zero_division=0))
    assert m["precision_macro"] == pytest.approx(precision_score(yt, yp, average="macro", zero_division=0))
    assert m["recall_macro"] == pytest.approx(recall_score(yt, yp, average="macro", zero_division=0))
    assert m["n_codes_macro"] == len(mlb.classes_)
    exact = np.mean([set(p) == g for g, p in zip(gold, pred, strict=True)])
    assert m["exact_match"] == pytest.approx(exact)


def test_map_matches_sklearn_average_precision_when_every_code_is_ranked() -> None:
    acc, (gold, _, ranked, _) = _acc(1)
    aps = []
    for g, r in zip(gold, ranked, strict=True):
        if not g:
            continue  # trec_eval skips topics without relevant documents
        y_true = [1 if c in g else 0 for c in r]
        y_score = [len(r) - i for i in range(len(r))]
        aps.append(average_precision_score(y_true, y_score))
    assert acc.compute()["map"] == pytest.approx(np.mean(aps))


def test_average_precision_codiesp_definition_hand_example() -> None:
    # gold {A, B, C}; ranked A x B y: hits at 1 and 3 -> (1/1 + 2/3) / 3 (C never ranked counts as a miss)
    assert average_precision(["A", "x", "B", "y"], {"A", "B", "C"}) == pytest.approx((1 + 2 / 3) / 3)
    assert average_precision(["A", "A", "B"], {"A", "B"}) == pytest.approx(1.0)  # duplicates dropped
    assert average_precision(["A"], set()) == 0.0


def test_precision_recall_at_k_hand_example() -> None:
    acc = MetricAccumulator("icd10cm", ks=(1, 2, 5))
    acc.update([{"A", "B"}, {"C"}, set()], [["A"], [], ["Z"]], [["A", "x", "B"], ["y", "C"], ["Z"]])
    m = acc.compute()
    # notes with gold: 2 (the third is skipped by ranking metrics)
    assert m["precision@1"] == pytest.approx((1 + 0) / 2)
    assert m["precision@2"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert m["precision@5"] == pytest.approx((2 / 5 + 1 / 5) / 2)  # k fixed, as trec_eval P@k
    assert m["recall@1"] == pytest.approx((1 / 2 + 0) / 2)
    assert m["recall@5"] == pytest.approx((1 + 1) / 2)
    assert m["map"] == pytest.approx(((1 + 2 / 3) / 2 + 1 / 2) / 2)
    assert m["n_docs"] == 3 and m["n_docs_with_gold"] == 2
    assert m["exact_match"] == pytest.approx(0.0)


def test_ranked_list_falls_back_to_emitted_codes() -> None:
    acc = MetricAccumulator("icd10cm")
    acc.update([{"A", "B"}], [["B", "A"]])
    assert acc.compute()["map"] == pytest.approx(1.0)


def test_ece_matches_sklearn_calibration_curve() -> None:
    rng = np.random.default_rng(3)
    conf = rng.random(500)
    correct = rng.random(500) < conf**1.5
    rel = reliability(conf, correct, n_bins=15)
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=15, strategy="uniform")
    bins = np.searchsorted(np.linspace(0, 1, 16)[1:-1], conf)
    counts = np.bincount(bins, minlength=15)
    counts = counts[counts > 0]
    assert rel["ece"] == pytest.approx(float(np.sum(counts * np.abs(prob_true - prob_pred)) / 500))
    assert sum(rel["count"]) == 500
    kept = [a for a in rel["accuracy"] if a is not None]
    assert kept == pytest.approx(list(prob_true))


def test_ece_over_accumulated_suggestions() -> None:
    acc = MetricAccumulator("icd10cm")
    # perfectly calibrated at 1.0: two right answers with confidence 1 -> ECE 0
    acc.update([{"A"}, {"B"}], [["A"], ["B"]], confidences=[{"A": 1.0}, {"B": 1.0}])
    assert acc.compute()["ece"] == pytest.approx(0.0)
    acc.update([{"C"}], [["D"]], confidences=[{"D": 0.9}])  # confident and wrong
    assert acc.compute()["ece"] == pytest.approx(0.9 / 3)
    assert acc.compute()["ece_ranked"] is None  # no ranked scores given
    empty = MetricAccumulator("icd10cm")
    empty.update([{"A"}], [["A"]])
    assert empty.compute()["ece"] is None  # no confidences at all


def test_two_batches_equal_one() -> None:
    gold, pred, ranked, conf = _random_batch(7, 60)
    once = MetricAccumulator("icd10cm", training_codes=frozenset(CODES[:8]))
    once.update(gold, pred, ranked, conf)
    twice = MetricAccumulator("icd10cm", training_codes=frozenset(CODES[:8]))
    twice.update(gold[:25], pred[:25], ranked[:25], conf[:25])
    twice.update(gold[25:], pred[25:], ranked[25:], conf[25:])
    assert twice.compute() == once.compute()
    assert twice.bootstrap(n_boot=50, seed=1) == once.bootstrap(n_boot=50, seed=1)
    assert twice.by_group() == once.by_group()


def test_update_rejects_misaligned_batches() -> None:
    acc = MetricAccumulator()
    with pytest.raises(ValueError, match="1 gold sets but 2 prediction sets"):
        acc.update([{"A"}], [["A"], ["B"]])
    with pytest.raises(ValueError, match="ranked codes but"):
        acc.update([{"A"}], [["A"]], [["A", "B"]], ranked_scores=[[0.5]])


def test_weighted_metrics_with_unit_weights_equal_compute() -> None:
    acc, _ = _acc(4)
    m = acc.compute()
    w = acc.weighted_metrics(np.ones((1, len(acc))))
    for key in ("f1_micro", "precision_micro", "recall_micro", "f1_macro", "map", "precision@5", "recall@10"):
        assert w[key][0] == pytest.approx(m[key]), key
    # weight 2 on a note equals repeating it
    dup = MetricAccumulator("icd10cm")
    dup.records = [*acc.records, acc.records[0]]
    wts = np.ones((1, len(acc)))
    wts[0, 0] = 2
    assert acc.weighted_metrics(wts)["f1_macro"][0] == pytest.approx(dup.compute()["f1_macro"])


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    acc, _ = _acc(5, 80)
    ci = acc.bootstrap(n_boot=300, seed=11)
    assert ci == acc.bootstrap(n_boot=300, seed=11)
    assert ci != acc.bootstrap(n_boot=300, seed=12)
    m = acc.compute()
    for key, (lo, hi) in ci.items():
        assert lo <= m[key] <= hi, key
        assert hi - lo > 0


def test_unseen_codes_reported_separately() -> None:
    acc = MetricAccumulator("icd10cm", training_codes=frozenset({"A", "B"}))
    acc.update([{"A", "C"}, {"D"}], [["A", "C", "E"], ["B"]])
    u = acc.compute()["unseen"]
    assert u["unseen"] == {"n_gold": 2, "n_pred": 2, "tp": 1, "precision_micro": 0.5, "recall_micro": 0.5, "f1_micro": 0.5}
    assert u["seen"]["n_gold"] == 1 and u["seen"]["tp"] == 1 and u["seen"]["precision_micro"] == 0.5


def test_category_level_and_confusions() -> None:
    acc = MetricAccumulator("icd10cm")
    acc.update([{"E11.65", "I10"}], [["E11.9", "I10"]])
    m = acc.compute()
    assert m["category"]["f1_micro"] == pytest.approx(1.0)
    assert m["f1_micro"] == pytest.approx(0.5)
    assert acc.confusions() == [{"gold": "E11.65", "predicted": "E11.9", "count": 1}]


def test_breakdowns_by_chapter_and_specialty() -> None:
    acc = MetricAccumulator("icd10cm")
    acc.update(
        [{"E11.9", "I10"}, {"I10"}], [["E11.9"], ["I10", "R52"]], specialties=["endocrinology", None]
    )
    g = acc.by_group()
    endo = g["Endocrine, nutritional and metabolic diseases (E00-E89)"]
    assert endo["f1_micro"] == 1.0 and endo["n_gold"] == 1
    circ = g["Diseases of the circulatory system (I00-I99)"]
    assert circ["recall_micro"] == 0.5 and circ["precision_micro"] == 1.0
    s = acc.by_specialty()
    assert set(s) == {"endocrinology", "unspecified"} and s["endocrinology"]["n_docs"] == 1


def test_code_groups() -> None:
    assert icd_chapter("S02.0XXA").startswith("Injury")
    assert icd_chapter("O9A.111").startswith("Pregnancy")
    assert code_group("99213", "cpt").startswith("Evaluation and management")
    assert code_group("71046", "cpt").startswith("Radiology")
    assert code_group("G0439", "cpt") == "HCPCS Level II G"
    assert code_group("0001F", "cpt").startswith("Category II")
    assert code_group("BW03ZZZ", "icd10pcs") == "B Imaging"


def test_prefix_form_rule() -> None:
    assert is_prefix_form("S02.0XX", "icd10cm")  # 7th character dropped
    assert not is_prefix_form("Z87.891", "icd10cm")  # a complete billable 6-character code
    assert is_prefix_form("BW20", "icd10pcs") and not is_prefix_form("BW20ZZZ", "icd10pcs")
    assert prefix_form_match({"S02.0XX", "Z87.891"}, ["S02.0XXA", "Z87.891A", "S02.0XXB"], "icd10cm") == (
        "S02.0XX",
        "Z87.891A",
    )
    assert prefix_form_match({"BW20"}, ["BW20ZZZ", "BW2", "BW03ZZZ"], "icd10pcs") == ("BW20", "BW2", "BW03ZZZ")
    assert prefix_form_match({"S02.0XX"}, ["S02.0XXA"], "cpt") == ("S02.0XXA",)


def test_link_f1() -> None:
    gold = [{("99213", "E11.9"), ("99213", "I10")}, {("71046", "R05.9")}]
    pred = [{("99213", "E11.9")}, {("71046", "R05.9"), ("71046", "J18.9")}]
    m = link_f1(gold, pred)
    assert m["link_precision"] == pytest.approx(2 / 3) and m["link_recall"] == pytest.approx(2 / 3)
    assert m["link_f1"] == pytest.approx(2 / 3) and m["n_gold_pairs"] == 3
    with pytest.raises(ValueError):
        link_f1(gold, pred[:1])


def test_em_confusion_matches_sklearn() -> None:
    gold = [["99213", "36415"], ["99214"], ["99395"], ["71046"], ["99213"]]
    pred = [["99213"], ["99213"], ["99396"], ["71046"], []]
    em = em_confusion(gold, pred)
    g = ["99213", "99214", "99395", "99213"]
    p = ["99213", "99213", "99396", "none"]
    assert em["labels"] == ["99213", "99214", "99395", "99396", "none"]
    assert em["matrix"] == confusion_matrix(g, p, labels=em["labels"]).tolist()
    assert em["n"] == 4 and em["accuracy"] == pytest.approx(1 / 4)
    assert em["within_one_level"] == pytest.approx(3 / 4)  # 99214->99213 and 99395->99396 count
    assert em["accuracy_gold_em"] == pytest.approx(1 / 4) and em["n_gold_em"] == 4


def test_finding_rates() -> None:
    vals = [
        {"status": "fail", "findings": [{"rule": "ncci_ptp_conflict", "severity": "error"}] * 2},
        {"status": "pass", "findings": []},
        None,
        {"status": "warn", "findings": [{"rule": "age_conflict", "severity": "warning"}]},
    ]
    r = finding_rates(vals)
    assert r["rule_note_rate"] == {"ncci_ptp_conflict": 0.25, "age_conflict": 0.25}
    assert r["rule_count"] == {"ncci_ptp_conflict": 2, "age_conflict": 1}
    assert r["status"] == {"fail": 0.25, "missing": 0.25, "pass": 0.25, "warn": 0.25}
    assert r["findings_per_note"] == pytest.approx(3 / 4)
