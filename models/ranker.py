"""Reranker over (note, code) candidate features, probability calibration and per-system
decision thresholds. All estimators follow scikit-learn's contract (get_params/set_params,
fit returns self, fitted attributes end with an underscore)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y


class CandidateRanker(ClassifierMixin, BaseEstimator):
    """Binary relevance model over candidate feature rows: is this code in the gold set?

    `kind="gbm"` (histogram gradient boosting, default) or `kind="logistic"`. Scores come from
    walking the compiled trees with numpy: bitwise scikit-learn's scores, without its OpenMP
    predictor, which is slow for a few rows on a busy CPU and hangs in a process forked after
    OpenMP was used (libgomp is not fork-safe: batch workers, pre-forking servers).
    """

    def __init__(self, kind: str = "gbm", max_iter: int = 200, learning_rate: float = 0.08,
                 max_leaf_nodes: int = 31, l2: float = 1.0, random_state: int = 0) -> None:
        self.kind = kind
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2 = l2
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> CandidateRanker:
        X, y = check_X_y(X, y, dtype=np.float64)
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        if len(self.classes_) < 2:
            # one class only: a constant model (still a valid, fitted estimator)
            self.model_ = None
            self.constant_ = float(self.classes_[0]) if len(self.classes_) else 0.0
            return self
        if self.kind == "gbm":
            model = HistGradientBoostingClassifier(
                max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
                l2_regularization=self.l2, random_state=self.random_state, early_stopping=False)
        elif self.kind == "logistic":
            model = LogisticRegression(C=1.0 / max(self.l2, 1e-6), max_iter=1000, random_state=self.random_state)
        else:
            raise ValueError(f"unknown ranker kind {self.kind!r} (expected 'gbm' or 'logistic')")
        self.model_ = model.fit(X, y)
        self.trees_ = _compile_trees(model) if self.kind == "gbm" else None
        return self

    def decision_scores(self, X: np.ndarray) -> np.ndarray:
        """Probability of the positive class (uncalibrated)."""
        check_is_fitted(self, "classes_")
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the ranker was fitted with {self.n_features_in_}")
        if self.model_ is None:
            return np.full(X.shape[0], self.constant_)
        trees = getattr(self, "trees_", None)
        if trees is not None:
            return _predict_trees(trees, X)
        return np.asarray(self.model_.predict_proba(X)[:, list(self.model_.classes_).index(self.classes_[-1])])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.decision_scores(X)
        if len(self.classes_) < 2:
            return p[:, None] if self.constant_ else (1 - p)[:, None]
        return np.column_stack([1 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        p = self.decision_scores(X)
        if len(self.classes_) < 2:
            return np.full(len(p), self.classes_[0])
        return np.where(p >= 0.5, self.classes_[-1], self.classes_[0])


def _compile_trees(model: HistGradientBoostingClassifier) -> dict[str, np.ndarray] | None:
    """Flatten a fitted binary HistGradientBoostingClassifier into node arrays so that all trees
    are walked together with a few numpy operations per depth level. The per-tree OpenMP
    predictor costs milliseconds per tree on a busy CPU; this costs microseconds."""
    try:
        predictors = [it[0] for it in model._predictors]
        baseline = float(np.ravel(model._baseline_prediction)[0])
    except (AttributeError, IndexError):
        return None
    feats, thr, left, right, leaf, value, nan_left, roots = [], [], [], [], [], [], [], []
    offset = 0
    max_depth = 0
    for p in predictors:
        nodes = p.nodes
        if np.any(nodes["is_categorical"]):
            return None
        roots.append(offset)
        feats.append(nodes["feature_idx"].astype(np.int64))
        thr.append(nodes["num_threshold"].astype(np.float64))
        left.append(nodes["left"].astype(np.int64) + offset)
        right.append(nodes["right"].astype(np.int64) + offset)
        leaf.append(nodes["is_leaf"].astype(bool))
        value.append(nodes["value"].astype(np.float64))
        nan_left.append(nodes["missing_go_to_left"].astype(bool))
        max_depth = max(max_depth, int(nodes["depth"].max()))
        offset += len(nodes)
    if not predictors:
        return None
    lf = np.concatenate(leaf)
    lt = np.concatenate(left)
    rt = np.concatenate(right)
    idx = np.arange(len(lf))
    # leaves point to themselves, so extra steps are no-ops
    lt[lf] = idx[lf]
    rt[lf] = idx[lf]
    return {"feature": np.concatenate(feats), "threshold": np.concatenate(thr), "left": lt, "right": rt,
            "value": np.concatenate(value), "nan_left": np.concatenate(nan_left), "roots": np.asarray(roots),
            "depth": np.asarray([max_depth]), "baseline": np.asarray([baseline])}


def _predict_trees(t: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    n = X.shape[0]
    n_trees = len(t["roots"])
    left, right = t["left"], t["right"]
    is_leaf = left == np.arange(len(left))
    node = np.tile(t["roots"], n)  # (row, tree) pairs, row-major
    active = np.flatnonzero(~is_leaf[node])
    while active.size:  # only pairs that have not reached a leaf are walked further
        nd = node[active]
        x = X[active // n_trees, t["feature"][nd]]
        go_left = np.where(np.isnan(x), t["nan_left"][nd], x <= t["threshold"][nd])
        nxt = np.where(go_left, left[nd], right[nd])
        node[active] = nxt
        active = active[~is_leaf[nxt]]
    # baseline + tree 1 + tree 2 + ... in that order, then expit: bitwise what scikit-learn's
    # predictor gives
    leaf = t["value"][node].reshape(n, n_trees)
    raw = np.full(n, t["baseline"][0])
    for j in range(n_trees):
        raw += leaf[:, j]
    return np.asarray(expit(raw))


class IsotonicCalibrator(RegressorMixin, BaseEstimator):
    """Monotone map from raw scores to calibrated probabilities (isotonic, or Platt when
    there are too few positives for a stable isotonic fit)."""

    def __init__(self, method: str = "auto", min_positives: int = 30) -> None:
        self.method = method
        self.min_positives = min_positives

    def fit(self, X: np.ndarray, y: np.ndarray) -> IsotonicCalibrator:
        s = np.asarray(X, dtype=np.float64).reshape(-1)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(s) != len(y) or len(s) == 0:
            raise ValueError("scores and labels must be non-empty and aligned")
        self.n_features_in_ = 1
        method = self.method
        if method == "auto":
            method = "isotonic" if y.sum() >= self.min_positives and (len(y) - y.sum()) >= self.min_positives else "platt"
        self.method_ = method
        if method == "isotonic":
            self.iso_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True).fit(s, y)
        elif method == "platt":
            if len(np.unique(y)) < 2:
                self.const_ = float(y.mean())
                self.platt_ = None
            else:
                self.platt_ = LogisticRegression(C=1e4, max_iter=1000).fit(s.reshape(-1, 1), y)
        else:
            raise ValueError(f"unknown calibration method {self.method!r}")
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "method_")
        s = np.asarray(X, dtype=np.float64).reshape(-1)
        # the fitted maps evaluated with numpy: the same numbers as IsotonicRegression.predict
        # (linear interpolation between its thresholds, clipped outside) and
        # LogisticRegression.predict_proba (tested), without scikit-learn's input validation,
        # which cost ~0.25 ms a call on every request
        if self.method_ == "isotonic":
            return np.interp(s, self.iso_.X_thresholds_, self.iso_.y_thresholds_)
        if self.platt_ is None:
            return np.full(len(s), self.const_)
        return np.asarray(expit(s * float(self.platt_.coef_[0, 0]) + float(self.platt_.intercept_[0])))


THRESHOLD_RULES = ("best", "one_se")


def tune_threshold(probs: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray, n_missed: int = 0,
                   grid: Sequence[float] | None = None, rule: str = "best", max_drop: float = 0.005) -> tuple[float, float]:
    """Decision threshold for micro-F1 over candidate rows; `n_missed` gold codes that no
    candidate covered count as false negatives at every threshold. Returns (threshold, f1).

    `rule="best"`: the lowest threshold with the highest F1. `rule="one_se"`: the lowest
    threshold whose F1 is within one standard error of the best (sqrt(F1 (1 - F1) / gold
    codes), the one-standard-error rule of model selection), and never more than `max_drop`
    below it (a small dev set has a large standard error; it must not open the gate to every
    weak candidate). On in-distribution dev notes F1 is flat over a wide band of thresholds, and
    where the argmax falls in that band is noise; the lowest threshold that is statistically as
    good keeps the recall that wording the model never saw (lower scores for right codes) needs."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    grid = list(grid) if grid is not None else [round(x, 3) for x in np.arange(0.05, 0.951, 0.01)]
    total_pos = int(y.sum()) + n_missed
    curve: list[tuple[float, float]] = []
    for t in grid:
        pred = p >= t
        tp = int((pred & (y == 1)).sum())
        fp = int((pred & (y == 0)).sum())
        curve.append((float(t), 2 * tp / (2 * tp + fp + (total_pos - tp)) if (tp + fp + total_pos) else 0.0))
    return pick_threshold(curve, total_pos, rule, max_drop)


def pick_threshold(curve: Sequence[tuple[float, float]], total_pos: int, rule: str = "best",
                   max_drop: float = 0.005) -> tuple[float, float]:
    """(threshold, F1) off an F1 curve in ascending threshold order, by `rule` (see
    `tune_threshold`); `total_pos`: the gold codes the F1 counts (its standard error)."""
    if rule not in THRESHOLD_RULES:
        raise ValueError(f"unknown threshold rule {rule!r} (expected one of {THRESHOLD_RULES})")
    if not curve:
        return 0.5, -1.0
    best = max(f for _, f in curve)
    floor = best - 1e-12
    if rule == "one_se" and total_pos > 0:
        floor = best - min(float(np.sqrt(max(best * (1.0 - best), 0.0) / total_pos)), max_drop)
    return next((t, f) for t, f in curve if f >= floor)


def expected_calibration_error(probs: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray, n_bins: int = 10) -> float:
    """ECE with equal-width bins: sum over bins of |accuracy - confidence| x bin share."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if len(p) == 0:
        return 0.0
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            ece += m.mean() * abs(y[m].mean() - p[m].mean())
    return float(ece)
