"""The mention lexicon: normalised, order-free phrase keys -> kind + scored code candidates.

Built once from the code sets (ICD-10-CM descriptions and inclusion terms, the CPT catalog's
descriptions and lay synonyms, HCPCS Level II short descriptions of drugs and vaccines) plus the
curated abbreviation/synonym file `rules/synonyms.yaml`, then cached as an artifact
(`to_disk` / `from_disk`), never rebuilt per call.

Matching is a greedy leftmost-longest scan over a sentence's normalised content tokens: a window
matches when its sorted token bag equals a lexicon key, so "left knee osteoarthritis" finds
"Unilateral primary osteoarthritis, left knee". A co-occurrence table prunes windows that cannot
grow into any key, which keeps the scan linear in practice.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipelines.nlp.normalize import Normalizer

LEXICON_FORMAT = 2
MAX_CANDIDATES = 12
MAX_KEY_TOKENS = 12

# single tokens that never make a mention on their own (too generic, or section/EM vocabulary)
GENERIC = frozenset(
    ["other", "disease", "disorder", "condition", "syndrome", "finding", "abnormal", "abnormality", "history", "status", "encounter", "care", "follow", "visit", "patient", "problem", "left", "right", "bilateral", "acute", "chronic", "unknown", "lesion", "mass", "symptom", "sign", "complication", "injury", "type", "stage", "part", "region", "body", "system", "function", "use", "long", "term", "current", "personal", "family", "examination", "exam", "test", "screening", "procedure", "specified", "not", "elsewhere", "classified", "due", "without", "less", "more", "than", "high", "low", "level", "levels", "normal", "change", "changes", "other", "multiple", "single", "first", "second", "third", "initial", "subsequent", "sequela", "nec", "effect", "effects", "adverse", "late", "presence", "absence", "contact", "exposure", "observation", "control", "controlled", "uncontrolled", "day", "days", "week", "weeks", "month", "months", "year", "years", "time", "pain"]
)
# "pain" is generic alone in ICD headings ("Pain, unspecified" -> R52) but a real symptom in notes:
# the curated file maps the bare word, so only derived (not curated) single-token keys are blocked.

_PAREN = re.compile(r"\s*[\(\[][^)\]]*[\)\]]")
_EPISODE = re.compile(
    r",?\s*(initial|subsequent|sequela)\b.*$|,\s*sequela$", re.IGNORECASE
)
_QUALIFIERS = re.compile(
    r",?\s*(without (complications?|mention of [a-z ]+|hyperglycemia|coma)|not elsewhere classified|"
    r"not intractable|uncomplicated|not specified as [a-z ]+|(?:site )?not specified)\b",
    re.IGNORECASE,
)
_DOSE_ROUTE = re.compile(r"(?:[\d.]+\s*(?:ml|mg|mcg|units?|g)|im|iv|sc|subq|id|intranasal|oral|each|per dose)", re.IGNORECASE)
_LATERALITY = re.compile(r"\b(left|right|bilateral|unilateral|unspecified side)\b", re.IGNORECASE)

_RULES_PKG = "pipelines.nlp.rules"


# A frozen lexicon entry is a plain tuple (fast to unpickle):
# (kind, concept, curated, ((system, code, score, term), ...))
LexEntry = tuple[str, str, bool, tuple[tuple[str, str, float, str], ...]]
KIND, CONCEPT, CURATED, CANDIDATES = 0, 1, 2, 3


@dataclass(slots=True)
class Entry:
    """Mutable entry used while building; frozen into a LexEntry by `finish`."""

    kind: str
    concept: str
    curated: bool = False
    candidates: list[tuple[str, str, float, str]] = field(default_factory=list)  # system, code, score, term


def read_rule_file(name: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
    return yaml.load(resources.files(_RULES_PKG).joinpath(name).read_text(encoding="utf-8"), Loader=loader)


def rules_digest() -> str:
    h = hashlib.sha256()
    for name in sorted(p.name for p in resources.files(_RULES_PKG).iterdir() if p.name.endswith(".yaml")):
        h.update(name.encode())
        h.update(resources.files(_RULES_PKG).joinpath(name).read_bytes())
    return h.hexdigest()[:10]


def icd_kind(code: str) -> str:
    c = code.replace(".", "")
    if c.startswith("R"):
        return "symptom" if c[1:3] < "70" else "finding"
    return "condition"


def proc_kind(code: str, category: str) -> str:
    cat = category.lower()
    if cat in ("lab", "pathology", "laboratory"):
        return "lab"
    if cat in ("drug", "vaccine", "medication") or (code[0] == "J" and cat != "vaccine_admin"):
        return "medication"
    return "procedure"


class Lexicon:
    def __init__(self, normalizer: Normalizer) -> None:
        self.norm = normalizer
        self.entries: dict[str, LexEntry] = {}
        self._building: dict[str, Entry] = {}
        # pruning tables: tokens that start some key's window, and token pairs that share a key
        self.vocab: frozenset[str] = frozenset()
        self.pairs: frozenset[str] = frozenset()
        # correctly spelled words that typo repair must leave alone (empty: no typo repair,
        # which is how lexicons saved before typo repair existed keep their behaviour)
        self.words: frozenset[str] = frozenset()
        self.source_digest = ""

    # ---- building --------------------------------------------------------------------
    def add(
        self, text: str, kind: str, system: str, code: str, score: float, curated: bool = False, concept: str = ""
    ) -> None:
        toks = self.norm.tokens(text)
        if not toks or len(toks) > MAX_KEY_TOKENS:
            return
        if not curated:
            content = [t for t in toks if t not in GENERIC]
            if not content:
                return
            if "not" in toks or "no" in toks:
                return  # "..., site not specified": a negation word inside a key would swallow a cue
            if len(toks) == 1 and (len(toks[0]) < 4 or toks[0].isdigit() or score < 0.9):
                return  # derived one-word keys ("moderate", "knee") only from whole descriptions
        key = " ".join(sorted(toks))
        entry = self._building.get(key)
        if entry is None:
            entry = self._building[key] = Entry(kind, concept or text.lower(), curated)
        elif curated and not entry.curated:
            entry.kind, entry.concept, entry.curated = kind, concept or text.lower(), True
        if code:
            for i, (s, c, sc, _) in enumerate(entry.candidates):
                if s == system and c == code:
                    if score > sc:
                        entry.candidates[i] = (system, code, score, text)
                    break
            else:
                entry.candidates.append((system, code, score, text))

    def finish(self) -> None:
        vocab: set[str] = set()
        pairs: set[str] = set()
        for key, entry in self._building.items():
            entry.candidates.sort(key=lambda c: (-c[2], len(c[1]), c[1]))
            cands = tuple(entry.candidates[:MAX_CANDIDATES])
            self.entries[key] = (entry.kind, entry.concept, entry.curated, cands)
            toks = key.split()
            vocab.update(toks)
            if len(toks) > 1:
                pairs.update(f"{a} {b}" for a in toks for b in toks if a != b)
        self.vocab = frozenset(vocab)
        self.pairs = frozenset(pairs)
        self._building = {}

    # ---- matching --------------------------------------------------------------------
    def match(self, toks: list[str]) -> list[tuple[int, int, str]]:
        """Longest match at each start, dropping matches nested in an earlier one:
        (start index, end index, key)."""
        out: list[tuple[int, int, str]] = []
        n = len(toks)
        entries = self.entries
        vocab = self.vocab
        pairs = self.pairs
        i = 0
        covered = 0
        while i < n:
            first = toks[i]
            if first not in vocab:
                i += 1
                continue
            best = -1
            best_key = ""
            j = i
            while j < n and j - i < MAX_KEY_TOKENS and (j == i or toks[j] == first or f"{first} {toks[j]}" in pairs):
                j += 1
                key = " ".join(sorted(toks[i:j])) if j - i > 1 else first
                if key in entries:
                    best, best_key = j, key
            if best > covered:
                # a match nested in the previous one is dropped; one that overlaps it and reaches
                # further is kept ("administered influenza vaccine, trivalent, preservative free")
                out.append((i, best, best_key))
                covered = best
            i += 1
        return out

    # ---- persistence -----------------------------------------------------------------
    def to_disk(self, path: Path) -> None:
        payload = {
            "format": LEXICON_FORMAT,
            "source_digest": self.source_digest,
            "entries": self.entries,
            "vocab": self.vocab,
            "pairs": self.pairs,
            "words": self.words,
        }
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # concurrent builders never share a temp file
        with open(tmp, "wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    @classmethod
    def from_disk(cls, path: Path, normalizer: Normalizer) -> Lexicon:
        was_enabled = gc.isenabled()
        gc.disable()  # hundreds of thousands of small containers: the collector only slows loading
        try:
            with open(path, "rb") as fh:
                payload = pickle.load(fh)  # our own artifact, written by to_disk
        finally:
            if was_enabled:
                gc.enable()
        if payload.get("format") != LEXICON_FORMAT:
            raise ValueError(f"lexicon artifact format {payload.get('format')!r} is not {LEXICON_FORMAT}")
        lex = cls(normalizer)
        lex.source_digest = payload["source_digest"]
        lex.entries = payload["entries"]
        lex.vocab = payload["vocab"]
        lex.pairs = payload["pairs"]
        lex.words = payload.get("words", frozenset())
        return lex


def known_words() -> frozenset[str]:
    """Words typo repair never touches: MiniLM's whole-word vocabulary (common English, ~22k
    lower-case words) plus the curated `known_words` of `rules/synonyms.yaml` (clinical words
    outside both vocabularies that sit one letter from a lexicon word, e.g. atraumatic)."""
    words = set(read_rule_file("synonyms.yaml").get("known_words", []) or [])
    try:
        from models.dense import WordPieceTokenizer, minilm_path

        words.update(w for w in WordPieceTokenizer(minilm_path()).get_vocab() if w.isalpha() and w.islower())
    except Exception:  # no MiniLM package or an unreadable tokenizer.json: curated words only
        pass
    return frozenset(words)


CURATED_FILES = ("synonyms.yaml", "synonyms_clinical.yaml")
_CONCEPT_KEYS = frozenset({"id", "kind", "terms", "codes"})


def curated_concepts() -> list[dict[str, Any]]:
    """The curated concepts of every synonym rule file, in file order (closed keys; a concept id
    is unique across files)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in CURATED_FILES:
        for item in read_rule_file(name).get("concepts", []) or []:
            extra = set(item) - _CONCEPT_KEYS
            if extra or item.get("id") in seen:
                raise ValueError(f"{name}: concept {item.get('id')!r}: unknown keys {sorted(extra)} or duplicate id")
            seen.add(item["id"])
            out.append(item)
    return out


def load_normalizer() -> Normalizer:
    data = read_rule_file("synonyms.yaml")
    return Normalizer(data.get("misspellings", {}), data.get("expansions", {}))


def _variants(desc: str) -> list[tuple[str, float]]:
    out = [(desc, 1.0)]
    base = _PAREN.sub("", desc).strip()
    if base != desc:
        out.append((base, 0.97))
    epi = _EPISODE.sub("", base).strip(" ,")
    if epi and epi != base:
        out.append((epi, 0.95))
    qual = _QUALIFIERS.sub("", epi).strip(" ,")
    if qual and qual != epi:
        out.append((qual, 0.9))
    lat = _LATERALITY.sub(" ", qual).strip(" ,")
    if lat and lat != qual:
        out.append((lat, 0.85))
    head = qual.split(",")[0].strip()
    if head and head != qual and len(head) > 3:
        out.append((head, 0.7))
    return out


def build_lexicon(cs: Any | None = None) -> Lexicon:
    """Build the lexicon from the packaged code sets and the curated rules (a few seconds)."""
    if cs is None:
        from codesets import load_codesets

        cs = load_codesets()
    from codesets.normalize import dotted

    norm = load_normalizer()
    lex = Lexicon(norm)
    lex.words = known_words()
    icd = cs.icd
    newest = icd.fiscal_years[-1]
    valid_icd: set[str] = set()
    # curated first: they define the concept names and kinds of the common phrases
    for item in curated_concepts():
        codes = item.get("codes", {}) or {}
        for term in item["terms"]:
            added = False
            for system, clist in codes.items():
                for code in clist:
                    lex.add(term, item["kind"], system, code, 1.0, curated=True, concept=item["id"])
                    added = True
            if not added:
                lex.add(term, item["kind"], "", "", 1.0, curated=True, concept=item["id"])
    for key, entry in icd.codes.items():
        if not entry.flags.get(newest):
            continue
        code = dotted(key)
        valid_icd.add(code)
        kind = icd_kind(code)
        for text, score in _variants(entry.description):
            if _keyable(lex, code, text):
                lex.add(text, kind, "icd10cm", code, score)
    for key, terms in icd.inclusion_terms.items():
        entry = icd.codes.get(key)
        if entry is None or not entry.flags.get(newest):
            continue
        code = dotted(key)
        for term in terms:
            for text, score in _variants(term)[:4]:
                if _keyable(lex, code, text):
                    lex.add(text, icd_kind(code), "icd10cm", code, 0.95 * score)
    _add_neoplasm_terms(lex, valid_icd)
    _add_default_children(lex, icd, newest)
    procs = cs.procedures
    for code, c in procs.catalog.items():
        if c.category.startswith("em_"):
            continue  # E/M levels come from the encounter facts, not from phrases
        kind = proc_kind(code, c.category)
        for text, score in _variants(c.description):
            lex.add(text, kind, c.system, code, 0.9 * score)
        # "Influenza vaccine, trivalent, preservative-free, 0.5 ml, IM" -> without dose and route
        parts = [p for p in c.description.split(",") if not _DOSE_ROUTE.fullmatch(p.strip())]
        if len(parts) < len(c.description.split(",")) and parts:
            lex.add(",".join(parts), kind, c.system, code, 0.88)
        for syn in c.synonyms:
            lex.add(syn, kind, c.system, code, 1.0)
    _add_vaccine_admin(lex, procs.catalog)
    # HCPCS Level II drugs (public CMS short descriptions), by drug name: only names that are
    # not ordinary clinical words (those appear in ICD-10-CM descriptions)
    icd_words = {w.lower() for e in icd.codes.values() for w in re.findall(r"[A-Za-z]{5,}", e.description)}
    for code, spans in procs.spans.items():
        if code[0] != "J" or code in procs.catalog:
            continue
        span = spans[-1]
        desc = span.description
        if not desc or span.valid_to.year < 2025:
            continue
        words = re.findall(r"[A-Za-z]{5,}", desc)
        if words and words[0].lower() not in icd_words and words[0].lower() not in ("injection", "unclassified", "compounded"):
            lex.add(words[0], "medication", "hcpcs", code, 0.6)
    lex.finish()
    lex.source_digest = lexicon_source_digest(cs)
    return lex


def _keyable(lex: Lexicon, code: str, text: str) -> bool:
    """Whether a code-set text may key this code. External-cause codes (chapter 20, V00-Y99)
    tell how an injury happened; a one-word text of theirs is an ordinary word in a visit note
    ("Activity, unspecified" -> "activity", "shot", "collision", "storm", "tram"), never the
    cause of an injury by itself, so it keys nothing. Their longer texts still do."""
    if code[0] not in "VWXY":
        return True
    return len([t for t in lex.norm.tokens(text) if t not in GENERIC]) > 1


_NEOPLASM_TEMPLATES = {
    "Malignant Primary": ("{site} cancer", "{site} carcinoma", "malignant neoplasm of {site}", "{site} malignancy"),
    "Malignant Secondary": ("metastasis to {site}", "{site} metastases", "secondary malignant neoplasm of {site}"),
    "Ca in situ": ("{site} carcinoma in situ",),
    "Benign": ("benign neoplasm of {site}", "benign {site} tumor"),
}


def _add_neoplasm_terms(lex: Lexicon, valid_icd: set[str]) -> None:
    """Phrases from the ICD-10-CM Neoplasm table (site x behaviour): "breast cancer" -> C50.9-,
    "metastasis to liver" -> C78.7. Header codes get their default child later."""
    from codesets._data import read_rows
    from codesets.normalize import dotted

    for r in read_rows("icd10cm_index_terms.csv.gz"):
        if r["source"] != "neoplasm" or not r["code"]:
            continue
        parts = [p.strip() for p in r["term_path"].split(",")]
        behaviour = parts[-1]
        templates = _NEOPLASM_TEMPLATES.get(behaviour)
        if templates is None or len(parts) < 4:
            continue
        code = dotted(r["code"].rstrip("-"))
        if code not in valid_icd:
            continue
        site_parts = [_PAREN.sub("", p).strip() for p in parts[2:-1]]
        site = " ".join(reversed([p for p in site_parts if p and p.upper() != "NEC"]))
        if not site or len(site.split()) > 4:
            continue
        kind = icd_kind(code)
        for t in templates:
            lex.add(t.format(site=site), kind, "icd10cm", code, 0.85)


_DEFAULT_CHILD = re.compile(r"\b(unspecified|uncomplicated|without complications?|not intractable)\b", re.IGNORECASE)


def _add_default_children(lex: Lexicon, icd: Any, fy: int) -> None:
    """A key that names a header code (not reportable) also offers the header's default billable
    child ("..., unspecified", "..., uncomplicated") at a slightly lower score, so the ranker sees a
    billable code for "gout" or "nicotine dependence, cigarettes"."""
    from codesets.normalize import dotted

    cache: dict[str, list[str]] = {}
    for entry in lex._building.values():
        extra: list[tuple[str, str, float, str]] = []
        for system, code, score, term in entry.candidates:
            if system != "icd10cm":
                continue
            key = code.replace(".", "")
            if icd.flag(key, fy) != "H":
                continue
            kids = cache.get(key)
            if kids is None:
                kids = sorted(
                    (k for k in icd.children(key) if icd.flag(k, fy) == "B" and _DEFAULT_CHILD.search(icd.description(k))),
                    key=lambda k: ("unspecified" in icd.description(k).lower(), k),
                )[:2]
                cache[key] = kids
            extra.extend(("icd10cm", dotted(k), round(score * 0.95, 4), term) for k in kids)
        have = {c[1] for c in entry.candidates}
        entry.candidates.extend(c for c in extra if c[1] not in have)


def _add_vaccine_admin(lex: Lexicon, catalog: dict[str, Any]) -> None:
    """A vaccine product mention also offers the administration codes billed with it (first and
    each additional vaccine; Medicare's G codes for influenza, pneumococcal and hepatitis B)."""
    admin = [c for c in ("90471", "90472") if c in catalog]
    for entry in lex._building.values():
        vaccines = [c for c in entry.candidates if c[1] in catalog and catalog[c[1]].category == "vaccine"]
        if not vaccines:
            continue
        top = vaccines[0][2]
        extra: list[str] = list(admin)
        concept = f"{entry.concept} {vaccines[0][3]}".lower()
        if "influenza" in concept or "flu" in concept:
            extra.append("G0008")
        elif "pneumococcal" in concept or "pcv" in concept or "ppsv" in concept:
            extra.append("G0009")
        elif "hepatitis b" in concept or "hep b" in concept:
            extra.append("G0010")
        have = {c[1] for c in entry.candidates}
        for code in extra:
            if code not in have and code in catalog:
                entry.candidates.append((catalog[code].system, code, round(0.8 * top, 4), "vaccine administration"))
        if "Z23" not in have:  # the encounter for immunization
            entry.candidates.append(("icd10cm", "Z23", round(0.8 * top, 4), "vaccine administration"))


def lexicon_source_digest(cs: Any) -> str:
    return f"{cs.version}+rules-{rules_digest()}"
