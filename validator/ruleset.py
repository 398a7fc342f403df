"""Rules as data: loading and checking validator/rules/*.yaml and medical_necessity.csv.

Every rule file has a closed set of keys. An unknown key, a missing key, an unknown rule id,
an unknown severity or a message placeholder the engine does not provide raises
`RulesetError` at load, naming the file and the key.

Files (package data, read with importlib.resources):
- ``rules.yaml``: one entry per binding rule id (DESIGN.md 4.3): severity, source policy,
  message and fix templates, optional variants, positive/negative example claims.
- ``policy.yaml``: code lists the rules need (E/M codes, procedures with a global period,
  telehealth-eligible services and modifiers, laterality codes and modifiers, Excludes1
  exceptions).
- ``medical_necessity.csv``: which ICD-10-CM codes support each CPT/HCPCS code
  (see validator.necessity).
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from validator.necessity import NecessityTable, parse_necessity_csv
from validator.schemas import RULE_IDS

RULES_PACKAGE = "validator.rules"
RULE_FILES = ("rules.yaml", "policy.yaml", "medical_necessity.csv")
SEVERITIES = ("error", "warning", "info")

_RULES_TOP_KEYS = {"version", "rules"}
_RULE_KEYS = {"id", "severity", "policy", "message", "fix", "variants", "examples", "note"}
_VARIANT_KEYS = {"severity", "message", "fix", "policy"}
_EXAMPLE_KEYS = {"positive", "negative"}
_EXAMPLE_ITEM_KEYS = {"claim", "note", "line"}

# placeholders the engine fills for each rule (a template may use any subset)
PLACEHOLDERS: dict[str, set[str]] = {
    "invalid_code": {"code", "system", "dos", "detail"},
    "deleted_code": {"code", "system", "dos", "detail", "deleted_fy", "terminated"},
    "non_billable_code": {"code", "fy", "children", "n_children"},
    "stale_codeset": {"system", "dos", "newest", "coverage_end"},
    "dx_not_supporting_procedure": {"code", "dx", "policy_name", "payer_note", "supported_examples"},
    "ncci_ptp_conflict": {"column1", "column2", "modifier_indicator", "bypass", "line1", "line2", "modifier_hint"},
    "addon_without_primary": {"code", "primaries", "aoc_type"},
    "missing_modifier": {"code", "other", "needed", "setting", "pos"},
    "excludes1_conflict": {"code", "other", "note", "host"},
    "age_conflict": {"code", "age", "age_lo", "age_hi", "system"},
    "sex_conflict_warning": {"code", "sex", "code_sex"},
    "manifestation_as_first_listed": {"code"},
    "e_code_first_listed": {"code"},
    "missing_dx_pointer": {"code", "assigned"},
    "too_many_pointers": {"code", "n", "kept"},
    "invalid_pointer": {"code", "pointer", "n_dx", "reason"},
    "too_many_diagnoses": {"n", "dropped"},
}

_POLICY_KEYS = {
    "em_codes",
    "em_bypass_modifiers",
    "global_period_procedures",
    "telehealth",
    "laterality",
    "excludes1_exceptions",
    "max_diagnoses",
    "max_pointers",
}
_TELEHEALTH_KEYS = {"settings", "place_of_service", "modifiers", "eligible_codes", "policy"}
_LATERALITY_KEYS = {"codes", "modifiers", "policy"}
_EXC_KEYS = {"codes", "policy"}


class RulesetError(ValueError):
    """A rule file that does not follow its schema."""


@dataclass(frozen=True, slots=True)
class RuleVariant:
    severity: str
    message: str
    fix: str
    policy: str


@dataclass(frozen=True, slots=True)
class RuleDef:
    id: str
    severity: str
    policy: str
    message: str
    fix: str
    variants: dict[str, RuleVariant]
    positive: tuple[dict[str, Any], ...]
    negative: tuple[dict[str, Any], ...]

    def variant(self, name: str | None) -> RuleVariant:
        if name is None:
            return RuleVariant(self.severity, self.message, self.fix, self.policy)
        return self.variants[name]


@dataclass(frozen=True, slots=True)
class CodeRanges:
    """Procedure codes given as single codes or inclusive ranges of same-shaped codes."""

    exact: frozenset[str]
    ranges: tuple[tuple[str, str], ...]

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, str):
            return False
        if code in self.exact:
            return True
        return any(len(lo) == len(code) and lo <= code <= hi for lo, hi in self.ranges)


@dataclass(frozen=True, slots=True)
class Policy:
    em_codes: CodeRanges
    em_bypass_modifiers: frozenset[str]
    global_period_procedures: CodeRanges
    telehealth_settings: frozenset[str]
    telehealth_pos: frozenset[str]
    telehealth_modifiers: frozenset[str]
    telehealth_codes: CodeRanges
    telehealth_policy: str
    laterality_codes: CodeRanges
    laterality_modifiers: frozenset[str]
    laterality_policy: str
    excludes1_exceptions: tuple[tuple[tuple[str, str], str], ...]
    max_diagnoses: int
    max_pointers: int


@dataclass(frozen=True)
class Ruleset:
    version: str
    rules: dict[str, RuleDef]
    policy: Policy
    necessity: NecessityTable
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256[:8]

    def rule(self, rule_id: str) -> RuleDef:
        return self.rules[rule_id]


def _where(fname: str, ctx: str) -> str:
    return f"{fname}: {ctx}" if ctx else fname


def _closed(obj: Any, allowed: set[str], fname: str, ctx: str, required: set[str] | None = None) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise RulesetError(f"{_where(fname, ctx)}: expected a mapping, got {type(obj).__name__}")
    unknown = sorted(set(map(str, obj)) - allowed)
    if unknown:
        raise RulesetError(
            f"{_where(fname, ctx)}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )
    missing = sorted((required or set()) - set(obj))
    if missing:
        raise RulesetError(f"{_where(fname, ctx)}: missing key {missing[0]!r}")
    return obj


def _str(obj: Any, fname: str, ctx: str) -> str:
    if not isinstance(obj, str):
        raise RulesetError(f"{_where(fname, ctx)}: expected a string, got {type(obj).__name__}")
    return obj


def _template(text: Any, rule_id: str, fname: str, ctx: str) -> str:
    t = _str(text, fname, ctx)
    allowed = PLACEHOLDERS[rule_id]
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(t) if f is not None]
    except ValueError as exc:
        raise RulesetError(f"{_where(fname, ctx)}: bad template: {exc}") from None
    for f in fields:
        if f not in allowed:
            raise RulesetError(
                f"{_where(fname, ctx)}: unknown placeholder {{{f}}} (allowed: {', '.join(sorted(allowed))})"
            )
    return t


def _severity(value: Any, fname: str, ctx: str) -> str:
    if value not in SEVERITIES:
        raise RulesetError(f"{_where(fname, ctx)}: severity {value!r} is not one of {', '.join(SEVERITIES)}")
    return str(value)


def parse_rules(data: Any, fname: str = "rules.yaml") -> tuple[str, dict[str, RuleDef]]:
    top = _closed(data, _RULES_TOP_KEYS, fname, "", {"version", "rules"})
    semver = _str(top["version"], fname, "version")
    if not isinstance(top["rules"], list):
        raise RulesetError(f"{fname}: 'rules' must be a list")
    rules: dict[str, RuleDef] = {}
    for i, raw in enumerate(top["rules"]):
        ctx = f"rules[{i}]"
        r = _closed(raw, _RULE_KEYS, fname, ctx, {"id", "severity", "policy", "message", "fix"})
        rid = r["id"]
        if rid not in RULE_IDS:
            raise RulesetError(f"{fname}: {ctx}: unknown rule id {rid!r} (binding ids: {', '.join(RULE_IDS)})")
        if rid in rules:
            raise RulesetError(f"{fname}: {ctx}: duplicate rule id {rid!r}")
        ctx = f"rule {rid}"
        variants: dict[str, RuleVariant] = {}
        sev = _severity(r["severity"], fname, ctx)
        policy = _str(r["policy"], fname, f"{ctx}.policy")
        message = _template(r["message"], rid, fname, f"{ctx}.message")
        fix = _template(r["fix"], rid, fname, f"{ctx}.fix")
        for vname, vraw in (r.get("variants") or {}).items():
            vctx = f"{ctx}.variants.{vname}"
            v = _closed(vraw, _VARIANT_KEYS, fname, vctx)
            variants[str(vname)] = RuleVariant(
                _severity(v.get("severity", sev), fname, vctx),
                _template(v.get("message", message), rid, fname, f"{vctx}.message"),
                _template(v.get("fix", fix), rid, fname, f"{vctx}.fix"),
                _str(v.get("policy", policy), fname, f"{vctx}.policy"),
            )
        ex = _closed(r.get("examples") or {}, _EXAMPLE_KEYS, fname, f"{ctx}.examples")
        groups: dict[str, tuple[dict[str, Any], ...]] = {}
        for kind in ("positive", "negative"):
            items = ex.get(kind) or []
            if not isinstance(items, list):
                raise RulesetError(f"{fname}: {ctx}.examples.{kind} must be a list")
            for j, item in enumerate(items):
                _closed(item, _EXAMPLE_ITEM_KEYS, fname, f"{ctx}.examples.{kind}[{j}]", {"claim"})
            groups[kind] = tuple(items)
        rules[rid] = RuleDef(rid, sev, policy, message, fix, variants, groups["positive"], groups["negative"])
    missing = [rid for rid in RULE_IDS if rid not in rules]
    if missing:
        raise RulesetError(f"{fname}: no definition for rule id {missing[0]!r}")
    return semver, rules


def _ranges(items: Any, fname: str, ctx: str) -> CodeRanges:
    if not isinstance(items, list):
        raise RulesetError(f"{_where(fname, ctx)}: expected a list of codes or ranges")
    exact: set[str] = set()
    ranges: list[tuple[str, str]] = []
    for it in items:
        if isinstance(it, int) and not isinstance(it, bool) and len(str(it)) == 5:
            it = str(it)  # an unquoted CPT code such as 90785 (codes with a leading 0 must be quoted)
        s = _str(it, fname, ctx).strip().upper()
        if "-" in s:
            lo, hi = (x.strip() for x in s.split("-", 1))
            if len(lo) != len(hi) or lo > hi:
                raise RulesetError(f"{_where(fname, ctx)}: bad code range {s!r}")
            ranges.append((lo, hi))
        else:
            exact.add(s)
    return CodeRanges(frozenset(exact), tuple(ranges))


def _strset(items: Any, fname: str, ctx: str) -> frozenset[str]:
    if not isinstance(items, list):
        raise RulesetError(f"{_where(fname, ctx)}: expected a list")
    return frozenset(_str(x, fname, ctx).strip().upper() for x in items)


def parse_policy(data: Any, fname: str = "policy.yaml") -> Policy:
    top = _closed(data, _POLICY_KEYS, fname, "", _POLICY_KEYS)
    th = _closed(top["telehealth"], _TELEHEALTH_KEYS, fname, "telehealth", _TELEHEALTH_KEYS)
    lat = _closed(top["laterality"], _LATERALITY_KEYS, fname, "laterality", _LATERALITY_KEYS)
    excs: list[tuple[tuple[str, str], str]] = []
    for i, raw in enumerate(top["excludes1_exceptions"] or []):
        e = _closed(raw, _EXC_KEYS, fname, f"excludes1_exceptions[{i}]", _EXC_KEYS)
        codes = e["codes"]
        if not (isinstance(codes, list) and len(codes) == 2):
            raise RulesetError(f"{fname}: excludes1_exceptions[{i}].codes must be a pair of code prefixes")
        a, b = (str(c).replace(".", "").upper().rstrip("*") for c in codes)
        excs.append(((a, b), _str(e["policy"], fname, f"excludes1_exceptions[{i}].policy")))
    for k in ("max_diagnoses", "max_pointers"):
        if not isinstance(top[k], int) or top[k] < 1:
            raise RulesetError(f"{fname}: {k} must be a positive integer")
    return Policy(
        em_codes=_ranges(top["em_codes"], fname, "em_codes"),
        em_bypass_modifiers=_strset(top["em_bypass_modifiers"], fname, "em_bypass_modifiers"),
        global_period_procedures=_ranges(top["global_period_procedures"], fname, "global_period_procedures"),
        telehealth_settings=frozenset(s.lower() for s in _strset(th["settings"], fname, "telehealth.settings")),
        telehealth_pos=_strset(th["place_of_service"], fname, "telehealth.place_of_service"),
        telehealth_modifiers=_strset(th["modifiers"], fname, "telehealth.modifiers"),
        telehealth_codes=_ranges(th["eligible_codes"], fname, "telehealth.eligible_codes"),
        telehealth_policy=_str(th["policy"], fname, "telehealth.policy"),
        laterality_codes=_ranges(lat["codes"], fname, "laterality.codes"),
        laterality_modifiers=_strset(lat["modifiers"], fname, "laterality.modifiers"),
        laterality_policy=_str(lat["policy"], fname, "laterality.policy"),
        excludes1_exceptions=tuple(excs),
        max_diagnoses=top["max_diagnoses"],
        max_pointers=top["max_pointers"],
    )


def _read(name: str) -> bytes | None:
    ref = resources.files(RULES_PACKAGE).joinpath(name)
    return ref.read_bytes() if ref.is_file() else None


def _yaml(raw: bytes, fname: str) -> Any:
    try:
        return yaml.safe_load(raw.decode("utf-8"))
    except yaml.YAMLError as exc:
        raise RulesetError(f"{fname}: not valid YAML: {exc}") from None


def build_ruleset(rules_yaml: bytes, policy_yaml: bytes, necessity_csv: bytes | None) -> Ruleset:
    """A Ruleset from the raw bytes of the three rule files (used by load_ruleset and tests)."""
    semver, rules = parse_rules(_yaml(rules_yaml, "rules.yaml"))
    policy = parse_policy(_yaml(policy_yaml, "policy.yaml"))
    necessity = parse_necessity_csv(necessity_csv.decode("utf-8") if necessity_csv else "", "medical_necessity.csv")
    h = hashlib.sha256()
    files: dict[str, str] = {}
    for name, raw in (("rules.yaml", rules_yaml), ("policy.yaml", policy_yaml), ("medical_necessity.csv", necessity_csv)):
        if raw is None:
            continue
        h.update(name.encode() + b"\0" + raw + b"\0")
        files[name] = hashlib.sha256(raw).hexdigest()[:8]
    return Ruleset(f"rules-{semver}+{h.hexdigest()[:8]}", rules, policy, necessity, files)


@lru_cache(maxsize=1)
def load_ruleset() -> Ruleset:
    """The packaged rule set (cached). Raises RulesetError if a rule file breaks its schema."""
    rules_raw = _read("rules.yaml")
    policy_raw = _read("policy.yaml")
    if rules_raw is None or policy_raw is None:
        raise RulesetError("validator/rules/rules.yaml and policy.yaml must be installed with the package")
    return build_ruleset(rules_raw, policy_raw, _read("medical_necessity.csv"))
