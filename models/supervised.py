"""Document-level multi-label model for codes seen in training: TF-IDF (word + char n-grams)
and one logistic regression per label, with the weights stacked into one sparse-dense product
so that a note is scored against every label in one matrix multiply.

The ridge solver scores exactly x X^T A, split for speed: features that occur in more than
`dense_min_df` training notes (the frequent word and char n-grams every note has) carry
precomputed primal weights W = X^T A (dense), the rare rest goes through the sparse kernel.
That gives the same scores as the plain dual product at a fraction of the cost (a note has
~2,300 nonzero features, most of them frequent, whose postings cover most training notes)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion


class TfidfMultiLabel(ClassifierMixin, BaseEstimator):
    """fit(texts, label_sets) / predict_proba(texts) -> (n, n_labels) / top_k(text, k).

    `solver="ridge"` (default): one multi-output ridge regression solved in its dual form,
    (K + alpha I)^-1 Y with K = X X^T, so every label is fitted by a single n_docs x n_docs
    solve; scores are x X^T A, clipped to [0, 1]. `solver="logistic"`: one liblinear logistic
    regression per label, pruned to the `max_weights` strongest weights. Labels seen fewer than
    `min_count` times are left to the other candidate generators. Deterministic.
    """

    def __init__(self, min_count: int = 2, alpha: float = 1.0, C: float = 4.0, max_features: int = 40000,
                 char_ngrams: bool = True, solver: str = "ridge", max_weights: int = 3000,
                 dense_min_df: int = 100, random_state: int = 0) -> None:
        self.min_count = min_count
        self.alpha = alpha
        self.C = C
        self.max_features = max_features
        self.char_ngrams = char_ngrams
        self.solver = solver
        self.max_weights = max_weights
        self.dense_min_df = dense_min_df
        self.random_state = random_state

    def _vectorizer(self) -> FeatureUnion:
        parts: list[tuple[str, TfidfVectorizer]] = [
            ("word", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=self.max_features,
                                     sublinear_tf=True, lowercase=True, dtype=np.float32)),
        ]
        if self.char_ngrams:
            parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3,
                                                  max_features=self.max_features, sublinear_tf=True,
                                                  dtype=np.float32)))
        return FeatureUnion(parts)

    def fit(self, X: Sequence[str], y: Sequence[Sequence[str]]) -> TfidfMultiLabel:
        texts = list(X)
        labels = [list(dict.fromkeys(ls)) for ls in y]
        if len(texts) != len(labels):
            raise ValueError("X and y must have the same length")
        if not texts:
            raise ValueError("TfidfMultiLabel needs at least one training document")
        if self.solver not in ("ridge", "logistic"):
            raise ValueError(f"unknown solver {self.solver!r} (expected 'ridge' or 'logistic')")
        counts = Counter(c for ls in labels for c in ls)
        self.classes_ = np.array(sorted(c for c, n in counts.items() if n >= self.min_count and n < len(texts)))
        self.vectorizer_ = self._vectorizer().fit(texts)
        Xm = self.vectorizer_.transform(texts).tocsr().astype(np.float32)
        index = {c: j for j, c in enumerate(self.classes_)}
        Y = np.zeros((len(texts), len(self.classes_)), dtype=np.float64)
        for i, ls in enumerate(labels):
            for c in ls:
                j = index.get(c)
                if j is not None:
                    Y[i, j] = 1.0
        self.n_features_in_ = 1
        if self.solver == "ridge":
            XT = Xm.T.tocsr()
            K = (Xm @ Xm.T).toarray().astype(np.float64)
            mean = Y.mean(axis=0)
            A = np.linalg.solve(K + self.alpha * np.eye(len(texts)), Y - mean)
            self.dual_coef_ = A.astype(np.float32)
            self.intercept_ = mean.astype(np.float32)
            self._split(XT)
            return self
        n_feat = Xm.shape[1]
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        b = np.zeros(len(self.classes_), dtype=np.float32)
        for j in range(len(self.classes_)):
            clf = LogisticRegression(C=self.C, solver="liblinear", random_state=self.random_state, max_iter=200)
            clf.fit(Xm, Y[:, j].astype(int))
            w = clf.coef_[0].astype(np.float32)
            keep = np.flatnonzero(w) if np.count_nonzero(w) <= self.max_weights else \
                np.argpartition(-np.abs(w), self.max_weights - 1)[: self.max_weights]
            rows.append(keep)
            cols.append(np.full(len(keep), j))
            vals.append(w[keep])
            b[j] = clf.intercept_[0]
        shape = (n_feat, len(self.classes_))
        self.coef_ = (sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape,
                                    dtype=np.float32) if rows else sp.csc_matrix(shape, dtype=np.float32))
        self.intercept_ = b
        return self

    def _split(self, XT: sp.csr_matrix) -> None:
        df = np.diff(XT.indptr)
        dense = df > self.dense_min_df
        self.dense_features_ = np.flatnonzero(dense).astype(np.int64)
        self.rare_features_ = np.flatnonzero(~dense).astype(np.int64)
        self.dense_coef_ = np.asarray(XT[self.dense_features_] @ self.dual_coef_, dtype=np.float32)
        self.rare_XT_ = XT[self.rare_features_].tocsr()

    def upgrade(self) -> bool:
        """Convert a ridge model saved before the dense/rare split (it kept the whole X^T) to the
        split form: same scores, faster. Returns True when something changed."""
        if self.solver != "ridge" or hasattr(self, "dense_coef_") or not hasattr(self, "train_XT_"):
            return False
        if not hasattr(self, "dense_min_df"):
            self.dense_min_df = 100
        self._split(self.train_XT_)
        del self.train_XT_
        return True

    def _transform(self, X: Sequence[str]) -> sp.csr_matrix:
        texts = list(X)
        parts = [v.transform(texts) for _, v in self.vectorizer_.transformer_list]
        return sp.hstack(parts, format="csr", dtype=np.float32)

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        Xm = self._transform(X)
        if self.solver == "ridge":
            if not hasattr(self, "dense_coef_"):  # artifacts saved before the dense/rare split
                k = (Xm @ self.train_XT_).toarray()
                return _by_row(k, self.dual_coef_) + self.intercept_
            Xc = Xm.tocsc()
            dense = np.asarray(Xc[:, self.dense_features_].tocsr() @ self.dense_coef_)
            k = Xc[:, self.rare_features_].tocsr() @ self.rare_XT_
            # k has a nonzero for about half the training notes (a note's ~650 rare n-grams each
            # occur in up to `dense_min_df` of them): a dense BLAS product beats the sparse
            # kernel (1.2 ms vs 3.2 ms a note, 2 cores); same scores to float32 rounding
            return dense + _by_row(k.toarray(), self.dual_coef_) + self.intercept_
        return np.asarray((Xm @ self.coef_).toarray()) + self.intercept_

    def column_scorer(self, X: Sequence[str]) -> Callable[[int], np.ndarray]:
        """Decision scores of `X` for one class at a time (`scorer(j)`), sharing the transform
        and the kernel between calls: cheaper than `decision_function` when a few classes are
        wanted."""
        Xm = self._transform(X)
        if self.solver == "ridge" and hasattr(self, "dense_coef_"):
            Xc = Xm.tocsc()
            Xd = Xc[:, self.dense_features_].tocsr()
            k = Xc[:, self.rare_features_].tocsr() @ self.rare_XT_
            return lambda j: (np.asarray(Xd @ self.dense_coef_[:, j]).ravel() + np.asarray(k @ self.dual_coef_[:, j]).ravel()
                              + self.intercept_[j])
        full = self.decision_function(X)
        return lambda j: full[:, j]

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        z = self.decision_function(X)
        if self.solver == "ridge":
            return np.clip(z, 0.0, 1.0)
        return 1.0 / (1.0 + np.exp(-z))

    def predict(self, X: Sequence[str]) -> list[list[str]]:
        p = self.predict_proba(X)
        return [[str(c) for c in self.classes_[row >= 0.5]] for row in p]

    def top_k(self, text: str, k: int = 30) -> list[tuple[str, float]]:
        p = self.predict_proba([text])[0]
        if len(p) == 0:
            return []
        k = min(k, len(p))
        idx = np.argpartition(-p, k - 1)[:k]
        idx = idx[np.argsort(-p[idx], kind="stable")]
        return [(str(self.classes_[i]), float(p[i])) for i in idx]


def _by_row(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`a @ b`, one row of `a` at a time. A float32 BLAS product of a whole batch sums in an
    order that depends on the batch's size (up to 1.5e-7 apart on a probability), and a note
    must score the same in a batch job as alone in the service; one row is one product either
    way."""
    if len(a) <= 1:
        return np.asarray(a @ b)
    return np.vstack([a[i : i + 1] @ b for i in range(len(a))])
