"""Rule loading and the pure-Python engines behind the spaCy components (sections, sentences,
assertion context). Rules are data files with closed keys in `pipelines/nlp/rules/`; every rule
has an id. Nothing here logs note text."""

from __future__ import annotations

import bisect
import itertools
import re
import re._parser as _sre_parser  # the stdlib regex parser: expands cue patterns to phrases
from dataclasses import dataclass
from typing import Any

from pipelines.nlp.lexicon import read_rule_file
from pipelines.nlp.normalize import lower_same_length
from pipelines.nlp.types import ASSERTIONS, SECTIONS, Section

_SECTION_KEYS = {"id", "section", "headers"}
_MAX_EXPANSIONS = 4000


class _Infinite(Exception):
    pass


def expand_pattern(pattern: str) -> list[str] | None:
    """Every string a (finite, simple) cue regex matches, lower-cased; None when the language is
    infinite or uses constructs the expander does not know (the rule then runs as a regex)."""
    try:
        parsed = _sre_parser.parse(pattern.lower())
        out = _expand(list(parsed))
    except (_Infinite, re.error):
        return None
    return sorted(set(out)) if len(out) <= _MAX_EXPANSIONS else None


def _expand(items: list[Any]) -> list[str]:
    acc = [""]
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            opts = [chr(av)]
        elif name == "IN":
            opts = []
            for iop, iav in av:
                if str(iop) == "LITERAL":
                    opts.append(chr(iav))
                elif str(iop) == "RANGE" and iav[1] - iav[0] < 12:
                    opts.extend(chr(x) for x in range(iav[0], iav[1] + 1))
                elif str(iop) == "CATEGORY" and str(iav) == "CATEGORY_DIGIT":
                    opts.extend("0123456789")
                else:
                    raise _Infinite
        elif name == "BRANCH":
            opts = [x for branch in av[1] for x in _expand(list(branch))]
        elif name == "SUBPATTERN":
            opts = _expand(list(av[-1]))
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            lo, hi, sub = av
            if hi > 3:
                raise _Infinite
            inner = _expand(list(sub))
            opts = []
            for k in range(lo, hi + 1):
                combos = [""]
                for _ in range(k):
                    combos = [c + x for c in combos for x in inner]
                opts.extend(combos)
        elif name == "CATEGORY" and str(av) == "CATEGORY_DIGIT":
            opts = list("0123456789")
        else:
            raise _Infinite
        acc = [a + o for a in acc for o in opts]
        if len(acc) > _MAX_EXPANSIONS:
            raise _Infinite
    return acc
_CONTEXT_KEYS = {"id", "pattern", "category", "direction", "max_words"}
CATEGORIES = ("negated", "historical", "family", "hypothetical", "uncertain", "pseudo", "terminate")
PRIORITY = ("negated", "family", "hypothetical", "uncertain", "historical")


class RuleError(ValueError):
    """A rule file does not follow its closed schema."""


# ---------------------------------------------------------------------------- sections
class Sectionizer:
    def __init__(self, data: dict[str, Any] | None = None) -> None:
        data = data if data is not None else read_rule_file("sections.yaml")
        self.rules: list[dict[str, Any]] = data["rules"]
        self.blank_line_ends = frozenset(data.get("blank_line_ends", []))
        header_to_section: dict[str, str] = {}
        ids: set[str] = set()
        for rule in self.rules:
            extra = set(rule) - _SECTION_KEYS
            if extra or not set(rule) >= _SECTION_KEYS:
                raise RuleError(f"section rule {rule.get('id')!r}: keys must be {sorted(_SECTION_KEYS)}")
            if rule["section"] not in SECTIONS:
                raise RuleError(f"section rule {rule['id']!r}: unknown section {rule['section']!r}")
            if rule["id"] in ids:
                raise RuleError(f"duplicate section rule id {rule['id']!r}")
            ids.add(rule["id"])
            for h in rule["headers"]:
                header_to_section.setdefault(str(h).lower(), rule["section"])
        self.header_to_section = header_to_section
        long_h = sorted((h for h in header_to_section if len(h) > 2), key=len, reverse=True)
        short_h = sorted((h for h in header_to_section if len(h) <= 2), key=len, reverse=True)
        alt_long = "|".join(re.escape(h).replace(r"\ ", r"\s+") for h in long_h)
        alt_short = "|".join(re.escape(h) for h in short_h)
        # long headers: "Plan:", "PLAN -", "ASSESSMENT AND PLAN" alone on a line; short ones need a colon
        self.pattern = re.compile(
            rf"^[ \t]*(?:#+[ \t]*|\*\*)?(?P<h>{alt_long})(?:\*\*)?[ \t]*(?::|-(?=\s)|(?=[ \t]*\r?$))"
            rf"|^[ \t]*(?P<s>{alt_short})[ \t]*:",
            re.IGNORECASE | re.MULTILINE,
        )
        self._blank = re.compile(r"\n[ \t]*\r?\n")

    def __call__(self, text: str) -> list[Section]:
        heads: list[tuple[int, int, str, str]] = []
        for m in self.pattern.finditer(text):
            h = m.group("h") or m.group("s")
            name = self.header_to_section.get(re.sub(r"\s+", " ", h.lower()), "unknown")
            heads.append((m.start(), m.end(), name, text[m.start(m.lastindex or 0) : m.end()].strip()))
        out: list[Section] = []
        if not heads or heads[0][0] > 0:
            first_end = heads[0][0] if heads else len(text)
            if text[:first_end].strip():
                out.append(Section("unknown", 0, first_end, ""))
        for i, (start, _hend, name, header) in enumerate(heads):
            end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
            if name in self.blank_line_ends:
                blank = self._blank.search(text, _hend, end)
                if blank is not None and text[blank.end() : end].strip():
                    out.append(Section(name, start, blank.start(), header))
                    out.append(Section("unknown", blank.end(), end, ""))
                    continue
            out.append(Section(name, start, end, header))
        return out


def header_spans(sections: list[Section]) -> list[tuple[int, int]]:
    """Character spans of the header texts (no mention is taken from a header)."""
    return [(s.start, s.start + len(s.header) + 1) for s in sections if s.header]


class SectionIndex:
    def __init__(self, sections: list[Section]) -> None:
        self.sections = sections
        self.starts = [s.start for s in sections]

    def at(self, pos: int) -> int:
        i = bisect.bisect_right(self.starts, pos) - 1
        return i

    def name_at(self, pos: int) -> str:
        i = self.at(pos)
        if i < 0:
            return "unknown"
        s = self.sections[i]
        return s.name if pos < s.end else "unknown"


# ---------------------------------------------------------------------------- sentences
_ABBREV = frozenset(
    ["dr", "mr", "mrs", "ms", "vs", "e.g", "i.e", "etc", "approx", "no", "st", "pt", "pts", "fig", "jr", "sr", "prof", "dept", "min", "max", "hr", "hrs", "wk", "wks", "mo", "yr", "yrs", "mg", "ml", "mcg", "tab", "tabs", "cap", "caps", "inc", "co", "ave", "lt", "rt"]
)
_PERIOD_BREAK = re.compile(r"(?<=[.!?])[\"')\]]*[ \t]+(?=[\"'(\[]?[A-Z0-9•\-\*])")
_SEMI = re.compile(r";[ \t]*")
_LINE = re.compile(r"[^\n]*(?:\n|$)")
_INLINE_LIST = re.compile(r"(?<=\S)[ \t]+(?=(?:[1-9]|1[0-9])[.)][ \t]+[A-Za-z])")
_LIST_START = re.compile(r"^[ \t]*(?:[-*•·]|\d{1,2}[.)]|[a-z][.)])[ \t]+")
_LIST_NUMBER = re.compile(r"(?:^|\s)\d{1,2}[.)]$")
_WORD_BEFORE = re.compile(r"([A-Za-z.]+)[.!?]$")
MAX_SENTENCE_CHARS = 600


def split_sentences(text: str, extra_breaks: list[int] | None = None) -> list[tuple[int, int]]:
    """Sentence spans (start, end) robust to lists, vitals lines, headers and run-on dictation."""
    breaks: set[int] = set(extra_breaks or ())
    prev_line = ""
    for m in _LINE.finditer(text):
        line = m.group()
        if not line:
            break
        stripped = line.strip()
        if stripped:
            cont = (
                prev_line
                and not prev_line.endswith((".", ":", ";", "!", "?"))
                and stripped[0].islower()
                and not _LIST_START.match(line)
            )
            if not cont:
                breaks.add(m.start())
        prev_line = stripped
    for m in _PERIOD_BREAK.finditer(text):
        head = text[max(0, m.start() - 12) : m.start()]
        w = _WORD_BEFORE.search(head)
        if w and w.group(1).lower().rstrip(".") in _ABBREV:
            continue
        if w and len(w.group(1)) == 1 and w.group(1).isupper():
            continue  # initials
        if _LIST_NUMBER.search(head):
            continue  # "1. HTN": a list number, not a sentence end
        breaks.add(m.end())
    for m in _SEMI.finditer(text):
        breaks.add(m.end())
    for m in _INLINE_LIST.finditer(text):
        breaks.add(m.end())
    breaks.discard(0)
    bounds = [0, *sorted(b for b in breaks if 0 < b < len(text)), len(text)]
    out: list[tuple[int, int]] = []
    for a, b in itertools.pairwise(bounds):
        seg = text[a:b]
        ls = len(seg) - len(seg.lstrip())
        rs = len(seg.rstrip())
        if rs <= ls:
            continue
        s, e = a + ls, a + rs
        while e - s > MAX_SENTENCE_CHARS:  # run-on dictation: cut at a comma or space
            cut = text.rfind(", ", s, s + MAX_SENTENCE_CHARS)
            if cut <= s:
                cut = text.rfind(" ", s, s + MAX_SENTENCE_CHARS)
            if cut <= s:
                cut = s + MAX_SENTENCE_CHARS
            out.append((s, cut))
            s = cut + 1
            while s < e and text[s] in " ,\t":
                s += 1
        if e > s:
            out.append((s, e))
    return out


# ---------------------------------------------------------------------------- context
@dataclass(frozen=True, slots=True)
class Cue:
    start: int
    end: int
    rule_id: str
    category: str
    direction: str
    max_words: int


_WORD = re.compile(r"\S+")
_FIRST = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


class ContextRules:
    def __init__(self, data: dict[str, Any] | None = None) -> None:
        data = data if data is not None else read_rule_file("context.yaml")
        self.default_max_words = int(data.get("default_max_words", 14))
        self.section_defaults: dict[str, str] = dict(data.get("section_defaults", {}))
        for sec, cat in self.section_defaults.items():
            if sec not in SECTIONS or cat not in ASSERTIONS:
                raise RuleError(f"context section default {sec!r}: {cat!r} is not a section/assertion")
        self.rules: list[tuple[re.Pattern[str] | None, str, str, str, int]] = []
        # token trie of every phrase the cue patterns expand to; "" marks the end of a phrase
        self.trie: dict[str, Any] = {}
        self.regex_rules: list[int] = []
        ids: set[str] = set()
        for rule in data["rules"]:
            if set(rule) - _CONTEXT_KEYS or not {"id", "pattern", "category", "direction"} <= set(rule):
                raise RuleError(f"context rule {rule.get('id')!r}: keys must be within {sorted(_CONTEXT_KEYS)}")
            if rule["category"] not in CATEGORIES:
                raise RuleError(f"context rule {rule['id']!r}: unknown category {rule['category']!r}")
            if rule["direction"] not in ("forward", "backward", "both"):
                raise RuleError(f"context rule {rule['id']!r}: unknown direction {rule['direction']!r}")
            if rule["id"] in ids:
                raise RuleError(f"duplicate context rule id {rule['id']!r}")
            ids.add(rule["id"])
            order = len(self.rules)
            phrases = expand_pattern(rule["pattern"])
            pat: re.Pattern[str] | None = None
            if phrases is None:  # not expandable: runs as a regex
                pat = re.compile(rf"(?<![a-z0-9])(?:{rule['pattern']})(?![a-z0-9])", re.IGNORECASE)
                self.regex_rules.append(order)
            else:
                for ph in phrases:
                    toks = _FIRST.findall(ph)
                    if not toks:
                        continue
                    node = self.trie
                    for t in toks:
                        node = node.setdefault(t, {})
                    node.setdefault("", order)  # the earlier rule wins on identical phrases
            self.rules.append(
                (pat, rule["id"], rule["category"], rule["direction"], int(rule.get("max_words", self.default_max_words)))
            )

    def cues(self, text: str) -> list[Cue]:
        """All cues in the text, overlaps resolved (longest first, then rule order)."""
        found: list[tuple[int, int, int, int]] = []  # -length, order, start, end
        low = lower_same_length(text)
        trie = self.trie
        toks = [(m.group(), m.start(), m.end()) for m in _FIRST.finditer(low)]
        n = len(toks)
        for i in range(n):
            node = trie.get(toks[i][0])
            if node is None:
                continue
            best = -1
            best_order = 0
            j = i
            while True:
                order = node.get("")
                if order is not None:
                    best, best_order = j, order
                j += 1
                if j >= n:
                    break
                node = node.get(toks[j][0])
                if node is None:
                    break
            if best >= 0:
                start, end = toks[i][1], toks[best][2]
                found.append((start - end, best_order, start, end))
        for order in self.regex_rules:
            pat = self.rules[order][0]
            assert pat is not None
            for m in pat.finditer(text):
                if m.end() > m.start():
                    found.append((m.start() - m.end(), order, m.start(), m.end()))
        found.sort()
        covered = bytearray(len(text) + 1)
        out: list[Cue] = []
        for _neg_len, order, s, e in found:
            if any(covered[s:e]):
                continue
            covered[s:e] = b"\x01" * (e - s)
            _, rid, cat, direction, mw = self.rules[order]
            out.append(Cue(s, e, rid, cat, direction, mw))
        out.sort(key=lambda c: c.start)
        return out

    def assertion(
        self, text: str, m_start: int, m_end: int, sent_start: int, sent_end: int, cues: list[Cue], section: str
    ) -> str:
        """The assertion of the mention text[m_start:m_end], given the cues of its sentence."""
        cats: set[str] = set()
        before = [c for c in cues if c.end <= m_start]
        after = [c for c in cues if c.start >= m_end]
        # forward cues: the nearest one applies if the mention is in its scope; cues right before it
        # chain ("denies history of", "possible history of"); anything else is cut off by it
        nearest_start = m_start
        for idx, c in enumerate(reversed(before)):
            if c.category in ("terminate", "pseudo"):
                break
            gap = _words_between(text, c.end, nearest_start)
            if idx == 0:
                if c.direction == "backward" or gap > c.max_words:
                    break
            elif gap > 0 or c.direction == "backward":
                break
            cats.add(c.category)
            nearest_start = c.start
        for c in after:
            if c.category in ("terminate", "pseudo"):
                break
            if c.direction in ("backward", "both") and _words_between(text, m_end, c.start) <= c.max_words:
                cats.add(c.category)
            break
        for p in PRIORITY:
            if p in cats:
                return p
        return self.section_defaults.get(section, "present")


_STATUS_KEYS = {"id", "assertion", "prefixes", "code"}


class StatusCodes:
    """Family / personal history status codes for mentions asserted family or historical."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        data = data if data is not None else read_rule_file("status_codes.yaml")
        self.rules: list[tuple[str, tuple[str, ...], str, str]] = []
        ids: set[str] = set()
        for rule in data["rules"]:
            if set(rule) != _STATUS_KEYS:
                raise RuleError(f"status rule {rule.get('id')!r}: keys must be {sorted(_STATUS_KEYS)}")
            if rule["assertion"] not in ("family", "historical") or rule["id"] in ids:
                raise RuleError(f"status rule {rule['id']!r}: bad assertion or duplicate id")
            ids.add(rule["id"])
            self.rules.append((rule["assertion"], tuple(rule["prefixes"]), rule["code"], rule["id"]))

    def codes(self, assertion: str, candidate_codes: list[str]) -> list[str]:
        """The status codes of a mention asserted `assertion` whose top candidates are
        `candidate_codes`. A personal-history code among them stands for the condition its rule
        names ("family history of breast cancer" matched as "history of breast cancer" -> Z85.3
        stands for C50, so the family code is Z80.3)."""
        if assertion == "family":  # never the other way: a "family history of X" phrase is no personal history
            candidate_codes = [*candidate_codes, *(p for a, prefixes, code, _ in self.rules if a == "historical"
                                                   and code in candidate_codes for p in prefixes)]
        out: list[str] = []
        for a, prefixes, code, _rid in self.rules:
            if a == assertion and code not in out and any(c.startswith(prefixes) for c in candidate_codes):
                out.append(code)
        return out


def _words_between(text: str, a: int, b: int) -> int:
    if b <= a:
        return 0
    return len(_WORD.findall(text, a, b))
