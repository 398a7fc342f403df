"""Coding metrics in pure numpy (cross-checked against scikit-learn in tests/evaluation).

One `MetricAccumulator` per code system collects per-note gold sets, emitted predictions, ranked
lists and confidences; `compute()` turns everything seen so far into metrics, so accumulating in
batches equals computing once.

Definitions (all documented in the report too):

- micro precision / recall / F1: over (note, code) pairs of every note in the accumulator.
- macro precision / recall / F1: unweighted mean over every code that occurs in the gold **or**
  the predictions of the evaluated notes (the label set of scikit-learn's MultiLabelBinarizer
  fitted on both); a code never predicted has precision 0, a code never in gold recall 0
  (scikit-learn's `zero_division=0`). F1 per code is 2TP / (2TP + FP + FN).
- map: the CodiEsp definition. Per note, average precision of the ranked list (de-duplicated,
  first occurrence kept) against the gold set: the sum of precision@i over the ranks i that hold
  a gold code, divided by the number of gold codes (gold codes never ranked count as misses).
  Averaged over the notes with at least one gold code (trec_eval skips topics without relevant
  documents). The ranked list is the `ranked` field; when it is empty the emitted codes in rank
  order are used.
- precision@k = hits in the top k / k (k fixed, as trec_eval's P@k); recall@k = hits in the top
  k / number of gold codes. Averaged over notes with at least one gold code.
- exact_match: share of notes whose emitted code set equals the gold set.
- ece: expected calibration error over the emitted suggestions (confidence vs. "code is in the
  gold"), 15 equal-width bins over [0, 1] (right-closed, as sklearn.calibration_curve), weighted
  by bin size. `ece_ranked` does the same over every ranked candidate when the ranked scores are
  probabilities (all within [0, 1]), so that below-threshold calibration is measured too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

DEFAULT_KS: tuple[int, ...] = (1, 5, 10, 20)
ECE_BINS = 15
HEADLINE: tuple[str, ...] = (
    "f1_micro",
    "precision_micro",
    "recall_micro",
    "f1_macro",
    "map",
    "precision@5",
    "recall@10",
)


# ---- small helpers ----------------------------------------------------------------------------
def _div(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if (p + r) else 0.0


def _dedup(codes: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for c in codes:
        if c not in seen:
            seen.add(c)
            out.append(c)
    return tuple(out)


def average_precision(ranked: Sequence[str], gold: Collection[str]) -> float:
    """CodiEsp/trec_eval AP of one ranked list against a gold set (0 when gold is empty)."""
    if not gold:
        return 0.0
    hits = 0
    total = 0.0
    for i, code in enumerate(_dedup(ranked), 1):
        if code in gold:
            hits += 1
            total += hits / i
    return total / len(gold)


def reliability(
    confidences: Sequence[float] | FloatArray, correct: Sequence[bool] | NDArray[np.bool_], n_bins: int = ECE_BINS
) -> dict[str, Any]:
    """ECE and reliability-diagram data: equal-width bins over [0, 1], right-closed like
    sklearn.calibration.calibration_curve (a confidence on an edge belongs to the lower bin)."""
    conf = np.clip(np.asarray(confidences, dtype=np.float64), 0.0, 1.0)
    corr = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], conf, side="left")
    count = np.bincount(ids, minlength=n_bins).astype(np.float64)
    sum_conf = np.bincount(ids, weights=conf, minlength=n_bins)
    sum_corr = np.bincount(ids, weights=corr, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(count > 0, sum_conf / np.maximum(count, 1), np.nan)
        acc = np.where(count > 0, sum_corr / np.maximum(count, 1), np.nan)
    n = conf.size
    ece = float(np.sum(np.abs(sum_corr - sum_conf)) / n) if n else None
    return {
        "ece": ece,
        "n": int(n),
        "edges": [float(x) for x in edges],
        "count": [int(x) for x in count],
        "mean_confidence": [None if np.isnan(x) else float(x) for x in mean_conf],
        "accuracy": [None if np.isnan(x) else float(x) for x in acc],
    }


def prf(tp: float, fp: float, fn: float) -> dict[str, float]:
    p, r = _div(tp, tp + fp), _div(tp, tp + fn)
    return {"precision": p, "recall": r, "f1": _f1(p, r)}


# ---- prefix matching (CodiEsp quirk) ----------------------------------------------------------
_billable_cache: list[frozenset[str]] = []


def billable_icd_keys() -> frozenset[str]:
    """Dotless ICD-10-CM codes billable in any loaded fiscal year (empty if code sets fail)."""
    if not _billable_cache:
        try:
            from codesets import load_codesets

            codes = load_codesets().icd.codes
            _billable_cache.append(frozenset(k for k, c in codes.items() if "B" in c.flags.values()))
        except Exception:  # no code sets: every 6-character gold code counts as a prefix form
            _billable_cache.append(frozenset())
    return _billable_cache[0]


def is_prefix_form(code: str, system: str) -> bool:
    """CodiEsp's shortened codes: a 6-character ICD-10-CM code (dotless) that is not itself a
    billable code, i.e. one whose 7th character was dropped (`S02.0XX` for `S02.0XXA`), or a
    4-character ICD-10-PCS code (`BW20` for `BW20ZZZ`...)."""
    if system == "icd10cm":
        key = code.replace(".", "")
        return len(key) == 6 and key not in billable_icd_keys()
    if system == "icd10pcs":
        return len(code) == 4
    return False


def prefix_form_match(gold: Collection[str], codes: Sequence[str], system: str) -> tuple[str, ...]:
    """Cut predicted codes to the gold's length where the gold code is a prefix form
    (`is_prefix_form`): a prediction that extends such a gold code by exactly the missing
    characters (one for ICD-10-CM, three for ICD-10-PCS) is replaced by the gold code; every
    other prediction is left as it is (strict)."""
    full = {"icd10cm": 7, "icd10pcs": 7}.get(system)
    if full is None:
        return _dedup(codes)
    prefixes = {g.replace(".", ""): g for g in gold if is_prefix_form(g, system)}
    if not prefixes:
        return _dedup(codes)
    out = []
    for c in codes:
        key = c.replace(".", "")
        hit = prefixes.get(key[:6] if system == "icd10cm" else key[:4]) if len(key) == full else None
        out.append(hit or c)
    return _dedup(out)


def has_prefix_forms(gold_sets: Iterable[Collection[str]], system: str) -> bool:
    return any(is_prefix_form(g, system) for gs in gold_sets for g in gs)


# ---- code groups for breakdowns ---------------------------------------------------------------
_CPT_SECTIONS: tuple[tuple[int, int, str], ...] = (
    (100, 1999, "Anesthesia (00100-01999)"),
    (10004, 69990, "Surgery (10004-69990)"),
    (70010, 79999, "Radiology (70010-79999)"),
    (80047, 89398, "Pathology and laboratory (80047-89398)"),
    (90281, 99199, "Medicine (90281-99199)"),
    (99202, 99499, "Evaluation and management (99202-99499)"),
    (99500, 99607, "Medicine (99500-99607)"),
)
_PCS_SECTIONS = {
    "0": "Medical and surgical",
    "1": "Obstetrics",
    "2": "Placement",
    "3": "Administration",
    "4": "Measurement and monitoring",
    "5": "Extracorporeal assistance",
    "6": "Extracorporeal therapies",
    "7": "Osteopathic",
    "8": "Other procedures",
    "9": "Chiropractic",
    "B": "Imaging",
    "C": "Nuclear medicine",
    "D": "Radiation therapy",
    "F": "Physical rehabilitation and diagnostic audiology",
    "G": "Mental health",
    "H": "Substance abuse treatment",
    "X": "New technology",
}
_ICD_CHAPTERS_BY_LETTER: tuple[tuple[str, str, str], ...] = (
    ("A00", "B99", "Certain infectious and parasitic diseases (A00-B99)"),
    ("C00", "D49", "Neoplasms (C00-D49)"),
    ("D50", "D89", "Diseases of the blood and immune mechanism (D50-D89)"),
    ("E00", "E89", "Endocrine, nutritional and metabolic diseases (E00-E89)"),
    ("F01", "F99", "Mental, behavioral and neurodevelopmental disorders (F01-F99)"),
    ("G00", "G99", "Diseases of the nervous system (G00-G99)"),
    ("H00", "H59", "Diseases of the eye and adnexa (H00-H59)"),
    ("H60", "H95", "Diseases of the ear and mastoid process (H60-H95)"),
    ("I00", "I99", "Diseases of the circulatory system (I00-I99)"),
    ("J00", "J99", "Diseases of the respiratory system (J00-J99)"),
    ("K00", "K95", "Diseases of the digestive system (K00-K95)"),
    ("L00", "L99", "Diseases of the skin and subcutaneous tissue (L00-L99)"),
    ("M00", "M99", "Diseases of the musculoskeletal system and connective tissue (M00-M99)"),
    ("N00", "N99", "Diseases of the genitourinary system (N00-N99)"),
    ("O00", "O9A", "Pregnancy, childbirth and the puerperium (O00-O9A)"),
    ("P00", "P96", "Certain conditions originating in the perinatal period (P00-P96)"),
    ("Q00", "QA0", "Congenital malformations and chromosomal abnormalities (Q00-QA0)"),
    ("R00", "R99", "Symptoms, signs and abnormal findings (R00-R99)"),
    ("S00", "T88", "Injury, poisoning and other consequences of external causes (S00-T88)"),
    ("U00", "U85", "Codes for special purposes (U00-U85)"),
    ("V00", "Y99", "External causes of morbidity (V00-Y99)"),
    ("Z00", "Z99", "Factors influencing health status and contact with health services (Z00-Z99)"),
)


def icd_chapter(code: str) -> str:
    """ICD-10-CM chapter of a code by its category range (the 22 chapters of the tabular list;
    the ranges are fixed by the classification, so no code-set lookup is needed)."""
    cat = code.replace(".", "")[:3].upper()
    for lo, hi, title in _ICD_CHAPTERS_BY_LETTER:
        if lo <= cat <= hi:
            return title
    return "Unknown chapter"


def code_group(code: str, system: str) -> str:
    """Breakdown group of a code: ICD-10-CM chapter, CPT section (HCPCS letter), PCS section."""
    if system == "icd10cm":
        return icd_chapter(code)
    if system == "cpt":
        if code[:1].isalpha():
            return f"HCPCS Level II {code[0]}"
        if code.endswith("F"):
            return "Category II (performance measurement)"
        if code.endswith("T"):
            return "Category III (emerging technology)"
        if code.endswith(("U", "M")):
            return "Proprietary laboratory / multianalyte assays"
        try:
            n = int(code[:5])
        except ValueError:
            return "Other"
        for lo, hi, title in _CPT_SECTIONS:
            if lo <= n <= hi:
                return title
        return "Other"
    if system == "icd10pcs":
        return f"{code[:1]} {_PCS_SECTIONS.get(code[:1], 'Unknown section')}"
    return "Other"


# ---- the accumulator ----------------------------------------------------------------------------
@dataclass(slots=True)
class NoteRecord:
    gold: frozenset[str]
    pred: tuple[str, ...]
    ranked: tuple[str, ...]
    confidence: dict[str, float]
    ranked_scores: tuple[float, ...]
    note_id: str = ""
    specialty: str | None = None


@dataclass
class MetricAccumulator:
    """Metrics of one code system, accumulated over batches of notes."""

    system: str = "icd10cm"
    ks: tuple[int, ...] = DEFAULT_KS
    training_codes: frozenset[str] | None = None
    group_fn: Callable[[str], str] | None = None
    records: list[NoteRecord] = field(default_factory=list)

    def update(
        self,
        gold_sets: Sequence[Collection[str]],
        pred_sets: Sequence[Sequence[str]],
        ranked_lists: Sequence[Sequence[str]] | None = None,
        confidences: Sequence[Mapping[str, float]] | None = None,
        *,
        ranked_scores: Sequence[Sequence[float]] | None = None,
        note_ids: Sequence[str] | None = None,
        specialties: Sequence[str | None] | None = None,
    ) -> None:
        """Add a batch of notes. `pred_sets` are the emitted codes (rank order if any),
        `ranked_lists` the full ranked candidates, `confidences` code -> confidence of the
        emitted suggestions, `ranked_scores` aligned with `ranked_lists`."""
        n = len(gold_sets)
        if len(pred_sets) != n:
            raise ValueError(f"{n} gold sets but {len(pred_sets)} prediction sets")
        for name, seq in (
            ("ranked_lists", ranked_lists),
            ("confidences", confidences),
            ("ranked_scores", ranked_scores),
            ("note_ids", note_ids),
            ("specialties", specialties),
        ):
            if seq is not None and len(seq) != n:
                raise ValueError(f"{n} gold sets but {len(seq)} {name}")
        for i in range(n):
            pred = _dedup(pred_sets[i])
            ranked_raw = list(ranked_lists[i]) if ranked_lists is not None else []
            scores_raw = list(ranked_scores[i]) if ranked_scores is not None else []
            if scores_raw and len(scores_raw) != len(ranked_raw):
                raise ValueError(f"note {i}: {len(ranked_raw)} ranked codes but {len(scores_raw)} scores")
            if ranked_raw:
                seen: set[str] = set()
                ranked_l: list[str] = []
                scores_l: list[float] = []
                for j, c in enumerate(ranked_raw):
                    if c in seen:
                        continue
                    seen.add(c)
                    ranked_l.append(c)
                    if scores_raw:
                        scores_l.append(float(scores_raw[j]))
                ranked, scores = tuple(ranked_l), tuple(scores_l)
            else:
                ranked, scores = pred, ()
            conf = {str(k): float(v) for k, v in (confidences[i] if confidences is not None else {}).items()}
            self.records.append(
                NoteRecord(
                    gold=frozenset(gold_sets[i]),
                    pred=pred,
                    ranked=ranked,
                    confidence=conf,
                    ranked_scores=scores,
                    note_id=str(note_ids[i]) if note_ids is not None else str(len(self.records)),
                    specialty=specialties[i] if specialties is not None else None,
                )
            )

    def merge(self, other: MetricAccumulator) -> None:
        self.records.extend(other.records)

    def __len__(self) -> int:
        return len(self.records)

    # ---- per-note statistics ------------------------------------------------------------------
    def note_stats(self) -> dict[str, FloatArray]:
        """Per-note arrays: tp, fp, fn, n_gold, has_gold, ap, exact, p@k, r@k."""
        n = len(self.records)
        out: dict[str, FloatArray] = {
            k: np.zeros(n) for k in ("tp", "fp", "fn", "n_gold", "has_gold", "ap", "exact")
        }
        for k in self.ks:
            out[f"p@{k}"] = np.zeros(n)
            out[f"r@{k}"] = np.zeros(n)
        for i, r in enumerate(self.records):
            pred = set(r.pred)
            tp = len(pred & r.gold)
            out["tp"][i] = tp
            out["fp"][i] = len(pred) - tp
            out["fn"][i] = len(r.gold) - tp
            out["n_gold"][i] = len(r.gold)
            out["has_gold"][i] = 1.0 if r.gold else 0.0
            out["exact"][i] = 1.0 if pred == r.gold else 0.0
            if r.gold:
                out["ap"][i] = average_precision(r.ranked, r.gold)
                hits = np.cumsum([c in r.gold for c in r.ranked]) if r.ranked else np.zeros(0)
                for k in self.ks:
                    h = float(hits[min(k, hits.size) - 1]) if hits.size else 0.0
                    out[f"p@{k}"][i] = h / k
                    out[f"r@{k}"][i] = h / len(r.gold)
        return out

    def code_index(self) -> tuple[list[str], dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]]]:
        """Codes (gold or predicted, sorted) and, for 'tp', 'fp', 'fn', the (note row, code
        column) coordinates of every such (note, code) pair: a sparse note x code matrix."""
        codes = sorted(set().union(*(r.gold | set(r.pred) for r in self.records))) if self.records else []
        index = {c: j for j, c in enumerate(codes)}
        coords: dict[str, tuple[list[int], list[int]]] = {k: ([], []) for k in ("tp", "fp", "fn")}
        for i, r in enumerate(self.records):
            pred = set(r.pred)
            for kind, cs in (("tp", pred & r.gold), ("fp", pred - r.gold), ("fn", r.gold - pred)):
                rows, cols = coords[kind]
                for c in cs:
                    rows.append(i)
                    cols.append(index[c])
        return codes, {
            k: (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)) for k, (rows, cols) in coords.items()
        }

    # ---- metrics ------------------------------------------------------------------------------
    def compute(self) -> dict[str, Any]:
        """Every metric of the records seen so far (keys of DESIGN.md 4.4 plus extras)."""
        st = self.note_stats()
        tp, fp, fn = (float(st[k].sum()) for k in ("tp", "fp", "fn"))
        micro = prf(tp, fp, fn)
        n_rank = float(st["has_gold"].sum())
        out: dict[str, Any] = {
            "n_docs": len(self.records),
            "n_docs_with_gold": int(n_rank),
            "n_gold": int(tp + fn),
            "n_pred": int(tp + fp),
            "tp": int(tp),
            "f1_micro": micro["f1"],
            "precision_micro": micro["precision"],
            "recall_micro": micro["recall"],
        }
        out.update(self._macro())
        out["map"] = _div(float(st["ap"].sum()), n_rank)
        for k in self.ks:
            out[f"precision@{k}"] = _div(float(st[f"p@{k}"].sum()), n_rank)
            out[f"recall@{k}"] = _div(float(st[f"r@{k}"].sum()), n_rank)
        out["exact_match"] = _div(float(st["exact"].sum()), len(self.records))
        rel = self.reliability()
        out["ece"] = rel["ece"]
        rel_ranked = self.reliability(ranked=True)
        out["ece_ranked"] = rel_ranked["ece"] if rel_ranked else None
        out["reliability"] = rel
        if self.system == "icd10cm":
            cat = self.category_level()
            out["category"] = cat
        if self.training_codes is not None:
            out["unseen"] = self.seen_unseen(self.training_codes)
        return out

    def _macro(self) -> dict[str, float]:
        codes, coords = self.code_index()
        if not codes:
            return {"precision_macro": 0.0, "recall_macro": 0.0, "f1_macro": 0.0, "n_codes_macro": 0}
        m = len(codes)
        t, f_p, f_n = (np.bincount(coords[k][1], minlength=m).astype(np.float64) for k in ("tp", "fp", "fn"))
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(t + f_p > 0, t / np.maximum(t + f_p, 1), 0.0)
            r = np.where(t + f_n > 0, t / np.maximum(t + f_n, 1), 0.0)
            f = np.where(2 * t + f_p + f_n > 0, 2 * t / np.maximum(2 * t + f_p + f_n, 1), 0.0)
        return {
            "precision_macro": float(p.mean()),
            "recall_macro": float(r.mean()),
            "f1_macro": float(f.mean()),
            "n_codes_macro": len(codes),
        }

    def reliability(self, ranked: bool = False) -> dict[str, Any]:
        """Reliability data over emitted suggestions (or, with ranked=True, over every ranked
        candidate, only when the ranked scores are probabilities in [0, 1]; else {})."""
        conf: list[float] = []
        corr: list[bool] = []
        for r in self.records:
            if ranked:
                if not r.ranked_scores:
                    continue
                conf.extend(r.ranked_scores)
                corr.extend(c in r.gold for c in r.ranked)
            else:
                for c in r.pred:
                    if c in r.confidence:
                        conf.append(r.confidence[c])
                        corr.append(c in r.gold)
        if ranked and (not conf or min(conf) < 0.0 or max(conf) > 1.0):
            return {}
        return reliability(conf, corr)

    def category_level(self) -> dict[str, float]:
        """Micro P/R/F1 at the 3-character ICD-10-CM category level."""
        tp = fp = fn = 0
        for r in self.records:
            g = {c[:3] for c in r.gold}
            p = {c[:3] for c in r.pred}
            tp += len(g & p)
            fp += len(p - g)
            fn += len(g - p)
        m = prf(tp, fp, fn)
        return {"f1_micro": m["f1"], "precision_micro": m["precision"], "recall_micro": m["recall"]}

    def seen_unseen(self, training_codes: Collection[str]) -> dict[str, dict[str, float]]:
        """Metrics restricted to codes unseen (and seen) in training: recall over gold codes of
        that kind, precision over predicted codes of that kind."""
        out: dict[str, dict[str, float]] = {}
        for name, keep in (("unseen", False), ("seen", True)):
            tp = n_gold = n_pred = 0
            for r in self.records:
                g = {c for c in r.gold if (c in training_codes) == keep}
                p = {c for c in r.pred if (c in training_codes) == keep}
                tp += len(g & p)
                n_gold += len(g)
                n_pred += len(p)
            m = prf(tp, n_pred - tp, n_gold - tp)
            out[name] = {
                "n_gold": n_gold,
                "n_pred": n_pred,
                "tp": tp,
                "precision_micro": m["precision"],
                "recall_micro": m["recall"],
                "f1_micro": m["f1"],
            }
        return out

    # ---- breakdowns ---------------------------------------------------------------------------
    def by_group(self) -> dict[str, dict[str, float]]:
        """Micro P/R/F1 per code group (ICD-10-CM chapter, CPT section, PCS section)."""
        fn_group = self.group_fn or (lambda c: code_group(c, self.system))
        counts: dict[str, list[int]] = {}
        for r in self.records:
            pred = set(r.pred)
            for c in pred | r.gold:
                row = counts.setdefault(fn_group(c), [0, 0, 0])
                if c in pred and c in r.gold:
                    row[0] += 1
                elif c in pred:
                    row[1] += 1
                else:
                    row[2] += 1
        out = {}
        for g, (t, f_p, f_n) in sorted(counts.items(), key=lambda kv: -(kv[1][0] + kv[1][2])):
            m = prf(t, f_p, f_n)
            out[g] = {
                "n_gold": t + f_n,
                "n_pred": t + f_p,
                "precision_micro": m["precision"],
                "recall_micro": m["recall"],
                "f1_micro": m["f1"],
            }
        return out

    def by_specialty(self) -> dict[str, dict[str, float]]:
        """Headline metrics per note specialty (notes without one are grouped as 'unspecified')."""
        groups: dict[str, MetricAccumulator] = {}
        for r in self.records:
            acc = groups.setdefault(r.specialty or "unspecified", MetricAccumulator(self.system, self.ks))
            acc.records.append(r)
        out = {}
        for name, acc in sorted(groups.items()):
            st = acc.note_stats()
            m = prf(float(st["tp"].sum()), float(st["fp"].sum()), float(st["fn"].sum()))
            out[name] = {
                "n_docs": len(acc),
                "precision_micro": m["precision"],
                "recall_micro": m["recall"],
                "f1_micro": m["f1"],
                "map": _div(float(st["ap"].sum()), float(st["has_gold"].sum())),
            }
        return out

    def per_code(self) -> dict[str, dict[str, int]]:
        """TP/FP/FN counts per code."""
        out: dict[str, dict[str, int]] = {}
        for r in self.records:
            pred = set(r.pred)
            for c in pred | r.gold:
                row = out.setdefault(c, {"tp": 0, "fp": 0, "fn": 0})
                row["tp" if (c in pred and c in r.gold) else ("fp" if c in pred else "fn")] += 1
        return out

    def confusions(self, top: int = 20) -> list[dict[str, Any]]:
        """Within-category confusions: in one note, gold code g missed while code p of the same
        3-character category was predicted instead (e.g. E11.65 -> E11.9)."""
        counter: Counter[tuple[str, str]] = Counter()
        for r in self.records:
            pred = set(r.pred)
            missed = r.gold - pred
            wrong = pred - r.gold
            for g in missed:
                for p in wrong:
                    if g[:3] == p[:3]:
                        counter[(g, p)] += 1
        return [{"gold": g, "predicted": p, "count": n} for (g, p), n in counter.most_common(top)]

    # ---- bootstrap ---------------------------------------------------------------------------
    def bootstrap(
        self, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05, metrics: Sequence[str] = HEADLINE
    ) -> dict[str, list[float]]:
        """95% bootstrap CIs over notes (resampled with replacement, seeded): percentile
        intervals shifted by the bootstrap bias (see `bootstrap_ci`)."""
        n = len(self.records)
        if n == 0 or n_boot <= 0:
            return {}
        weights = bootstrap_weights(n, n_boot, seed)
        samples = self.weighted_metrics(weights, metrics)
        point = self.weighted_metrics(np.ones((1, n)), metrics)
        return {k: bootstrap_ci(v, float(point[k][0]), alpha) for k, v in samples.items()}

    def weighted_metrics(self, weights: FloatArray, metrics: Sequence[str] = HEADLINE) -> dict[str, FloatArray]:
        """Headline metrics for each row of a (B, n_notes) matrix of note weights (bootstrap
        counts); row b equals compute() on the notes repeated weights[b] times."""
        st = self.note_stats()
        out: dict[str, FloatArray] = {}
        tp, fp, fn = weights @ st["tp"], weights @ st["fp"], weights @ st["fn"]
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-12), 0.0)
            r = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1e-12), 0.0)
            f = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)
            n_rank = weights @ st["has_gold"]
            denom = np.maximum(n_rank, 1e-12)
            cand: dict[str, FloatArray] = {
                "f1_micro": f,
                "precision_micro": p,
                "recall_micro": r,
                "map": np.where(n_rank > 0, (weights @ st["ap"]) / denom, 0.0),
                "exact_match": (weights @ st["exact"]) / np.maximum(weights.sum(1), 1e-12),
            }
            for k in self.ks:
                cand[f"precision@{k}"] = np.where(n_rank > 0, (weights @ st[f"p@{k}"]) / denom, 0.0)
                cand[f"recall@{k}"] = np.where(n_rank > 0, (weights @ st[f"r@{k}"]) / denom, 0.0)
        if "f1_macro" in metrics:
            cand["f1_macro"] = self._weighted_macro_f1(weights)
        for name in metrics:
            if name in cand:
                out[name] = cand[name]
        return out

    def _weighted_macro_f1(self, weights: FloatArray, chunk: int = 64) -> FloatArray:
        codes, coords = self.code_index()
        res = np.zeros(weights.shape[0])
        m = len(codes)
        if not m:
            return res
        for s in range(0, weights.shape[0], chunk):
            wt = weights[s : s + chunk].T  # (n_notes, b)
            sums = {}
            for kind, (rows, cols) in coords.items():
                acc = np.zeros((m, wt.shape[1]))
                np.add.at(acc, cols, wt[rows])
                sums[kind] = acc
            t, f_p, f_n = sums["tp"], sums["fp"], sums["fn"]
            present = (t + f_p + f_n) > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                f1 = np.where(present, 2 * t / np.maximum(2 * t + f_p + f_n, 1e-12), 0.0)
            res[s : s + chunk] = f1.sum(0) / np.maximum(present.sum(0), 1)
        return res


def bootstrap_weights(n: int, n_boot: int, seed: int) -> FloatArray:
    """(n_boot, n) note multiplicities of `n_boot` resamples with replacement (seeded)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)


def bootstrap_ci(samples: FloatArray, estimate: float, alpha: float = 0.05) -> list[float]:
    """Percentile interval of the bootstrap samples, shifted by the bootstrap bias
    (mean of the samples minus the estimate) and clipped to [0, 1]. Ratio metrics such as
    macro F1 are biased under resampling (rare codes drop in and out of the average); the
    shift keeps the interval around the estimate. Unbiased metrics are left as they are."""
    bias = float(np.mean(samples)) - estimate
    lo = float(np.percentile(samples, 100 * alpha / 2)) - bias
    hi = float(np.percentile(samples, 100 * (1 - alpha / 2))) - bias
    return [min(max(lo, 0.0), 1.0), min(max(hi, 0.0), 1.0)]


# ---- pairing, E/M and validator metrics ---------------------------------------------------------
def link_f1(
    gold_pairs: Sequence[Collection[tuple[str, str]]], pred_pairs: Sequence[Collection[tuple[str, str]]]
) -> dict[str, float]:
    """Micro P/R/F1 over (procedure code, diagnosis code) pointer pairs, note by note."""
    if len(gold_pairs) != len(pred_pairs):
        raise ValueError(f"{len(gold_pairs)} gold notes but {len(pred_pairs)} predicted notes")
    tp = fp = fn = 0
    for g, p in zip(gold_pairs, pred_pairs, strict=True):
        gs, ps = set(g), set(p)
        tp += len(gs & ps)
        fp += len(ps - gs)
        fn += len(gs - ps)
    m = prf(tp, fp, fn)
    return {
        "link_f1": m["f1"],
        "link_precision": m["precision"],
        "link_recall": m["recall"],
        "n_gold_pairs": tp + fn,
        "n_pred_pairs": tp + fp,
        "n_docs": len(gold_pairs),
    }


def is_em_code(code: str) -> bool:
    """Office/outpatient (99202-99215) and preventive (99381-99397) E/M visit codes."""
    if len(code) != 5 or not code.isdigit():
        return False
    n = int(code)
    return 99202 <= n <= 99215 or 99381 <= n <= 99397


def em_level(codes: Sequence[str]) -> str:
    """The first E/M visit code of a list, or 'none'."""
    return next((c for c in codes if is_em_code(c)), "none")


def em_confusion(gold_cpt: Sequence[Sequence[str]], pred_cpt: Sequence[Sequence[str]]) -> dict[str, Any]:
    """E/M level confusion matrix over notes where gold or prediction holds an E/M code.
    Rows are gold levels, columns predicted levels; 'none' = no E/M code."""
    pairs = [(em_level(g), em_level(p)) for g, p in zip(gold_cpt, pred_cpt, strict=True)]
    pairs = [(g, p) for g, p in pairs if g != "none" or p != "none"]
    labels = sorted({x for pair in pairs for x in pair} - {"none"})
    if any("none" in pair for pair in pairs):
        labels.append("none")
    index = {lab: i for i, lab in enumerate(labels)}
    mat = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for g, p in pairs:
        mat[index[g], index[p]] += 1
    correct = sum(1 for g, p in pairs if g == p)
    gold_em = [(g, p) for g, p in pairs if g != "none"]
    within_one = sum(
        1 for g, p in gold_em if p != "none" and g[:4] == p[:4] and abs(int(g) - int(p)) <= 1
    )
    return {
        "labels": labels,
        "matrix": mat.tolist(),
        "n": len(pairs),
        "accuracy": _div(correct, len(pairs)),
        "n_gold_em": len(gold_em),
        "accuracy_gold_em": _div(sum(1 for g, p in gold_em if g == p), len(gold_em)),
        "within_one_level": _div(within_one, len(gold_em)),
    }


def finding_rates(validations: Sequence[Mapping[str, Any] | None]) -> dict[str, Any]:
    """Share of notes whose suggestions drew each validator rule, and the status distribution."""
    n = len(validations)
    rule_notes: Counter[str] = Counter()
    rule_total: Counter[str] = Counter()
    severity: Counter[str] = Counter()
    status: Counter[str] = Counter()
    for v in validations:
        if not v:
            status["missing"] += 1
            continue
        status[str(v.get("status", "missing"))] += 1
        rules_here = set()
        for f in v.get("findings") or []:
            rule = str(f.get("rule", "unknown"))
            rule_total[rule] += 1
            severity[str(f.get("severity", "unknown"))] += 1
            rules_here.add(rule)
        rule_notes.update(rules_here)
    return {
        "n_docs": n,
        "status": {k: _div(v, n) for k, v in sorted(status.items())},
        "rule_note_rate": {k: _div(v, n) for k, v in rule_notes.most_common()},
        "rule_count": dict(rule_total.most_common()),
        "severity_count": dict(sorted(severity.items())),
        "findings_per_note": _div(sum(rule_total.values()), n),
    }
