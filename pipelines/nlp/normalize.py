"""Token normalisation shared by the lexicon builder and the matcher.

Both sides go through the same function so that the match is tolerant to case, inflection
("fractures" / "fracture"), stopwords ("pain in the left knee" / "left knee pain") and a small
curated set of misspellings. Word order is handled by the matcher (bag-of-tokens keys).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# word-ish tokens: letters/digits, allowing internal slash or apostrophe ("s/p", "a/p", "crohn's")
TOKEN_RE = re.compile(r"[A-Za-z0-9]+(?:[/'\u2019][A-Za-z0-9]+)*")


def _enumerator(text: str, m: re.Match[str]) -> bool:
    """Whether token `m` is a list item's number: 1-2 digits that open their line (after
    spaces or '#') and are followed by '.' or ')' and a space."""
    a, b = m.span()
    if b - a > 2 or not text[a:b].isdigit() or text[b : b + 1] not in (".", ")") or text[b + 1 : b + 2] not in (" ", "\t"):
        return False
    line = text.rfind("\n", 0, a) + 1
    return not text[line:a].strip(" \t#")

# dropped on both sides before matching (never carry the meaning of a code on their own)
STOPWORDS = frozenset(
    ["a", "an", "and", "the", "of", "with", "to", "in", "on", "for", "by", "or", "nos", "unspecified", "as", "at", "is", "are", "was", "were", "be", "been", "being", "his", "her", "their", "its", "this", "that", "these", "those", "from", "into", "mellitus", "primary", "unilateral", "specified", "organism", "site"]
)

_SUFFIXES = (
    ("ities", "ity"),
    ("ies", "y"),
    ("sses", "ss"),
    ("xes", "x"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("oses", "osis"),
    ("es", "e"),
    ("s", ""),
)
_KEEP_S = frozenset(
    ["diabetes", "mellitus", "herpes", "measles", "mumps", "rabies", "scabies", "lupus", "pancreas", "bronchus", "thorax", "sinus", "virus", "stenosis", "psoriasis", "cirrhosis", "fibrosis", "sepsis", "syphilis", "tuberculosis", "osteoporosis", "thrombosis", "arthrosis", "kyphosis", "scoliosis", "lordosis", "ketoacidosis", "acidosis", "alkalosis", "psychosis", "neurosis", "hypothyroidis", "nephrosis", "gastroparesis", "paresis", "uterus", "abdomen", "anus", "status", "rickets", "this", "was", "has", "is", "as", "us", "plus", "bilious", "nervous", "fetus", "hiatus", "iris", "pubis", "pelvis", "tonsillitis", "crisis", "basis", "gas", "bus", "yes", "emesis", "diuresis", "ptosis", "mitosis", "mucous", "tendinitis", "bursitis", "hepatitis", "arthritis", "dermatitis", "bronchitis", "sinusitis", "gastritis", "colitis", "cystitis", "pharyngitis", "otitis", "conjunctivitis", "cellulitis", "pneumonitis", "appendicitis", "diverticulitis", "pancreatitis", "meningitis", "encephalitis", "nephritis", "esophagitis", "prostatitis", "vaginitis", "rhinitis", "laryngitis", "stomatitis", "gingivitis", "keratitis", "uveitis", "iritis", "myositis", "vasculitis", "osteomyelitis", "thyroiditis", "mastitis", "epididymitis", "orchitis", "urethritis", "pyelonephritis", "glomerulonephritis", "enteritis", "gastroenteritis", "ileitis", "proctitis", "cholecystitis", "cholangitis", "phlebitis", "thrombophlebitis", "pericarditis", "myocarditis", "endocarditis", "bronchiolitis", "tracheitis", "epiglottitis", "plantar", "ankylosis", "bronchiectasis", "atelectasis", "metastasis", "analysis", "dialysis", "diagnosis", "prognosis", "hemostasis", "homeostasis", "hemoptysis", "hematemesis", "enuresis", "diaphoresis", "lymphadenitis", "tenosynovitis", "synovitis", "fasciitis", "capsulitis", "spondylosis", "spondylitis"]
)


def lower_same_length(text: str) -> str:
    """Lower-cased text with the same offsets (a few code points change length when lowered)."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return low


def stem(tok: str) -> str:
    """Light, deterministic inflection folding (plural -> singular); no over-stemming."""
    if len(tok) <= 3 or tok in _KEEP_S or tok.endswith(("itis", "osis", "ysis", "asis", "esis", "us", "ss")):
        return tok
    for suf, rep in _SUFFIXES:
        if tok.endswith(suf) and len(tok) - len(suf) >= 3:
            return tok[: len(tok) - len(suf)] + rep
    return tok


def _deletes(w: str) -> set[str]:
    return {w} | {w[:i] + w[i + 1 :] for i in range(len(w))}


# British -> American medical spelling (SpellFixer.fix: kept where the lexicon knows the result)
_BRITISH = (
    (re.compile(r"is(e|ed|es|ing|ation|ations)$"), r"iz\1"),  # generalised, localised, hospitalisation
    (re.compile(r"ys(e|ed|es|ing)$"), r"yz\1"),  # analysed, paralysed
    (re.compile(r"our(s|al)?$"), r"or\1"),  # tumour, tumours
)
_DIGRAPHS = ((re.compile(r"(?<=[a-z])ae|^ae"), "e"), (re.compile(r"(?<=[a-z])oe|^oe"), "e"))  # anaemia, oedema


def american(word: str) -> str:
    """The American spelling of a British medical spelling ("generalised" -> "generalized",
    "oedema" -> "edema", "anaemia" -> "anemia", "tumour" -> "tumor"); other words unchanged.
    A candidate only: the caller keeps it where the lexicon knows the result."""
    out = word
    for pat, rep in _BRITISH:
        out = pat.sub(rep, out)
    for pat, rep in _DIGRAPHS:
        out = pat.sub(rep, out)
    return out


class SpellFixer:
    """Typo repair for words nobody knows: a raw word of `min_len`+ letters that is neither a
    lexicon token nor a `known` word becomes the lexicon token at optimal-string-alignment
    distance 1 (one letter dropped, doubled, replaced or two swapped: "cretinine" ->
    "creatinine"), when that token is the only lexicon or known word that close ("toady" is one
    letter from "toad" and from "today": left alone). The first letter must agree: typos there
    are rare and prefixes change meaning (a-traumatic). Candidates come from a single-deletion
    index (SymSpell's idea), the distance check from RapidFuzz."""

    def __init__(self, vocab: Iterable[str], known: Iterable[str] = (), min_len: int = 5,
                 keys: Iterable[str] = ()) -> None:
        self.min_len = min_len
        self.vocab = frozenset(vocab)
        self.known = frozenset(known)
        # one-word lexicon keys: a British spelling that is a key of its own keeps its own
        # (curated) codes ("hyperlipidaemia" -> E78.5, where "hyperlipidemia" is ambiguous)
        self.keys = frozenset(keys)
        index: dict[str, list[str]] = {}
        for w in self.vocab | self.known:
            if len(w) >= min_len - 1 and w.isalpha():
                for d in _deletes(w):
                    index.setdefault(d, []).append(w)
        self.index = index

    def fix(self, word: str) -> str | None:
        if len(word) < self.min_len or not word.isalpha():
            return None
        us = american(word)
        if us != word and word not in self.keys and stem(us) in self.vocab:
            # a British spelling of a lexicon word ("generalised", "oedema", "tumour"), even where a
            # curated British key holds it too: the American key is the code sets' own wording
            return stem(us)
        if word in self.vocab or word in self.known or stem(word) in self.vocab:
            return None
        from rapidfuzz.distance import OSA

        found = {w for d in _deletes(word) for w in self.index.get(d, ())
                 if w[0] == word[0] and OSA.distance(word, w) == 1}
        if len(found) != 1:
            return None
        w = found.pop()
        return w if w in self.vocab else None


class Normalizer:
    """Maps raw tokens to match tokens: lower case, misspelling fix, abbreviation expansion, stem,
    and (once a lexicon is attached, `fixer`) typo repair of unknown words."""

    def __init__(self, misspellings: dict[str, str] | None = None, expansions: dict[str, str] | None = None):
        self.misspellings = dict(misspellings or {})
        # single-token rewrites that are not concepts on their own ("lt" -> "left", "yo" -> "year")
        self.expansions = dict(expansions or {})
        self._cache: dict[str, tuple[str, ...]] = {}
        self._fixer: SpellFixer | None = None

    @property
    def fixer(self) -> SpellFixer | None:
        return self._fixer

    @fixer.setter
    def fixer(self, fixer: SpellFixer | None) -> None:
        self._fixer = fixer
        self._cache = {}

    def norm_token(self, raw: str) -> tuple[str, ...]:
        """Zero, one or several normalised tokens for one raw token (cached)."""
        hit = self._cache.get(raw)
        if hit is not None:
            return hit
        low = raw.lower().replace("\u2019", "'")
        low = self.misspellings.get(low, low)
        if low.endswith("'s") and len(low) > 4:
            low = low[:-2]  # possessive eponyms: "Parkinson's disease" == "Parkinson disease"
        exp = self.expansions.get(low)
        if exp is None and "/" in low and any(len(p) > 3 for p in low.split("/")):
            # "emphysema/COPD": two words, unlike the short forms "s/p", "r/o", "b/l", "n/v"
            out = tuple(t for part in low.split("/") if part for t in self.norm_token(part))
            if len(self._cache) < 200_000:
                self._cache[raw] = out
            return out
        if exp is None and self._fixer is not None and low not in STOPWORDS:
            fixed = self._fixer.fix(low)
            if fixed is not None:
                out = (fixed,)
                if len(self._cache) < 200_000:
                    self._cache[raw] = out
                return out
        parts = exp.split() if exp is not None else [low]
        out = tuple(stem(p) for p in parts if p not in STOPWORDS)
        if len(self._cache) < 200_000:
            self._cache[raw] = out
        return out

    def tokens(self, text: str) -> list[str]:
        out: list[str] = []
        for m in TOKEN_RE.finditer(text):
            out.extend(self.norm_token(m.group()))
        return out

    def spans(self, text: str, offset: int = 0) -> Iterator[tuple[str, int, int]]:
        """(normalised token, start, end) for every content token in `text`. A list item's number
        ("1. Obesity class III", "2) CKD") is no content token: as a word of a sorted-word key it
        would name a code of its own ("1 class obesity" is "Obesity, class 1")."""
        for m in TOKEN_RE.finditer(text):
            if _enumerator(text, m):
                continue
            for t in self.norm_token(m.group()):
                yield t, m.start() + offset, m.end() + offset

    def key(self, text: str) -> str:
        """Order-free lexicon key of a phrase: sorted normalised content tokens."""
        return " ".join(sorted(self.tokens(text)))
