"""The deterministic claim validator (DESIGN.md 4.3).

Structural problems versus findings
-----------------------------------
`validate` raises `ClaimError` (a ValueError; the API answers 422, the CLI exits 2) only for a
claim that cannot be evaluated at all:

- not a JSON object / wrong types (e.g. ``icd10cm`` not a list, ``units`` not a number,
  a pointer that is neither a code nor an integer, ``patient.sex`` not F/M/U);
- a date of service that is not ``YYYY-MM-DD`` or precedes every loaded code set;
- a code of an unknown code system: a diagnosis that is not shaped like an ICD-10-CM code
  (``99213`` in ``icd10cm``), a service-line code not shaped like CPT/HCPCS (an ICD-10-PCS
  ``0DTJ4ZZ``), or a line ``system`` other than cpt/hcpcs.

Everything a binding rule id describes is a finding instead, so a billing engineer sees every
problem of a claim at once: more than 12 diagnoses (`too_many_diagnoses`), a pointer outside
1..number of diagnoses or naming a code that is not on the claim (`invalid_pointer`), more than
4 pointers (`too_many_pointers`), a well-formed code that is not in the code set
(`invalid_code`), and so on. Evaluation goes on with what can be evaluated: the first 4 valid
pointers of a line are the ones a payer receives and the only ones medical necessity looks at
(the returned line keeps every valid pointer, as dotted codes; invalid ones are dropped).

Codes the medical-necessity table does not cover raise no `dx_not_supporting_procedure`
(an unknown policy must not deny a claim); `supports()` answers True for them.

Severities: every rule has a default severity in rules.yaml; some situations use a named
variant (e.g. `ncci_ptp_conflict` bypassed by a modifier is `info`, `missing_dx_pointer` is a
`warning` when pointers could be assigned and an `error` when the claim has no diagnosis,
`addon_without_primary` for an AOC type 3 code is a `warning`).

Lines without pointers get pointers assigned (the supporting diagnoses, most specific first,
at most 4) and a `missing_dx_pointer` warning that names them; when no diagnosis on the
claim supports the line, `dx_not_supporting_procedure` is raised instead.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import ValidationError

from codesets import CodeFormatError, DateOfServiceError, fiscal_year, load_codesets
from codesets.fiscal import fy_end
from codesets.icd10cm import TabularNote
from codesets.lookup import CodeSets
from codesets.normalize import dotted, icd_key, proc_key
from validator.necessity import ANY, NONE
from validator.ruleset import Ruleset, load_ruleset
from validator.schemas import RULE_IDS, Claim, Finding, ServiceLine, ValidationResult

_SEV_RANK = {"error": 0, "warning": 1, "info": 2}
_RULE_RANK = {r: i for i, r in enumerate(RULE_IDS)}
_DIGITS = re.compile(r"^\s*[0-9]+\s*$")


class ClaimError(ValueError):
    """A claim that cannot be evaluated (malformed structure, date or code system): a 4xx error."""


# ---------------------------------------------------------------------------------------
# parsing


def _parse_claim(claim: Claim | dict[str, Any]) -> Claim:
    if isinstance(claim, Claim):
        return claim
    if not isinstance(claim, dict):
        raise ClaimError(f"a claim must be a JSON object, got {type(claim).__name__}")
    for i, line in enumerate(claim.get("cpt_lines") or []):
        if isinstance(line, dict):
            system = line.get("system")
            if system is not None and str(system).lower() not in ("cpt", "hcpcs"):
                raise ClaimError(
                    f"cpt_lines[{i}].system {system!r} is an unknown code system for a service line "
                    "(expected cpt or hcpcs)"
                )
            for p in line.get("dx") or []:
                if isinstance(p, bool) or not isinstance(p, str | int):
                    raise ClaimError(f"cpt_lines[{i}].dx: a pointer must be a diagnosis code or a 1-based index")
    try:
        return Claim.model_validate(claim)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err.get("loc", ()))
        raise ClaimError(f"malformed claim: {loc}: {err.get('msg', 'invalid value')}") from None


@dataclass(slots=True)
class _Ctx:
    cs: CodeSets
    rs: Ruleset
    day: dt.date | None
    fy: int  # ICD fiscal year used (newest when stale or no date)
    probe: dt.date  # CPT/HCPCS probe date
    findings: list[Finding]

    def emit(
        self,
        rule: str,
        *,
        codes: list[str],
        line: int | None = None,
        variant: str | None = None,
        policy: str | None = None,
        **fields: Any,
    ) -> None:
        v = self.rs.rule(rule).variant(variant)
        values = {k: ("" if val is None else val) for k, val in fields.items()}
        # a template placeholder the call does not fill raises KeyError (a bug, caught by the tests)
        self.findings.append(
            Finding(
                rule=rule,
                severity=v.severity,  # type: ignore[arg-type]
                codes=codes,
                line=line,
                message=v.message.format_map(values),
                fix=v.fix.format_map(values),
                policy=policy or v.policy,
            )
        )


def _join(items: list[str], limit: int = 8) -> str:
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


# ---------------------------------------------------------------------------------------
# cached look-ups (the code sets and the rule set are immutable while the process runs)


@lru_cache(maxsize=65536)
def _icd_status(cs_id: int, key: str, fy: int) -> tuple[str, str, int | None, tuple[str, ...]]:
    """(status, detail, deleted_fy, billable children) of a dotless ICD key in FY `fy`."""
    icd = _CS[cs_id].icd
    flag = icd.flag(key, fy)
    if flag == "B":
        return "valid", "", None, ()
    if flag == "H":
        kids = tuple(dotted(k) for k in icd.billable_descendants(key, fy))
        return "header", "", None, kids
    entry = icd.codes.get(key)
    if entry is not None and any(y < fy for y in entry.flags):
        last = max(y for y in entry.flags if y < fy)
        return "deleted", f"deleted in FY{last + 1} (last valid FY{last})", last + 1, ()
    if entry is not None:
        return "invalid", f"not valid until FY{min(entry.flags)}", None, ()
    return "invalid", "not an ICD-10-CM code in any loaded fiscal year", None, ()


@lru_cache(maxsize=65536)
def _proc_status(cs_id: int, key: str, probe: dt.date) -> tuple[str, str, str]:
    """(status, detail, termination date) of a CPT/HCPCS code on `probe`."""
    procs = _CS[cs_id].procedures
    if procs.span_on(key, probe) is not None:
        return "valid", "", ""
    last = procs.last_span(key)
    if last is None:
        return "invalid", "not in the loaded CMS I/OCE code list", ""
    if last.valid_to < probe:
        return "deleted", f"terminated on {last.valid_to.isoformat()}", last.valid_to.isoformat()
    return "invalid", f"not valid until {last.valid_from.isoformat()}", ""


_CS: dict[int, CodeSets] = {}


def _cs_id(cs: CodeSets) -> int:
    i = id(cs)
    _CS[i] = cs
    return i


@lru_cache(maxsize=65536)
def _excl_notes(cs_id: int, key: str) -> tuple[TabularNote, ...]:
    """Excludes1 notes that apply to a dotless key: its own, its ancestors', its block's and
    chapter's (walks the block/chapter structure with a cycle guard)."""
    icd = _CS[cs_id].icd
    hosts = [key, *icd.ancestors(key)]
    structure = icd._structure
    seen: set[str] = set()
    item = structure.get(key[:3])
    parent = item[1] if item else ""
    while parent and parent not in seen:
        seen.add(parent)
        hosts.append(parent)
        node = structure.get(parent)
        parent = node[1] if node else ""
    notes = icd._notes
    return tuple(n for h in hosts for n in notes.get(h, ()) if n.note_type == "excludes1")


@lru_cache(maxsize=65536)
def _excludes1(cs_id: int, a: str, b: str) -> tuple[str, str, str] | None:
    """(excluder, excluded, note text) for an Excludes1 pair of dotless keys (checked both ways)."""
    for x, y in ((a, b), (b, a)):
        if y.startswith(x) or x.startswith(y):
            continue
        for note in _excl_notes(cs_id, x):
            if note.matches(y) and not _note_exception(cs_id, note.text, y):
                return x, y, note.text
    return None


def excludes1_pair(cs: CodeSets, a: str, b: str) -> tuple[str, str, str] | None:
    """(excluder, excluded, note text) when ICD-10-CM codes `a` and `b` (dotted or not) may not be
    reported together (an Excludes1 note, either direction), else None."""
    return _excludes1(_cs_id(cs), icd_key(a), icd_key(b))


_EXCEPT = re.compile(r"\bexcept\s+([a-z][a-z ,-]*?)\s*\(", re.IGNORECASE)


def _note_exception(cs_id: int, text: str, excluded: str) -> bool:
    """Range-level notes that carve out an exception ("..., except malposition (N86-N88)"):
    an excluded code whose description names the exception is allowed."""
    m = _EXCEPT.search(text)
    if not m:
        return False
    words = [w for w in re.split(r"[\s,]+", m.group(1).lower()) if len(w) > 3]
    desc = _CS[cs_id].icd.description(excluded).lower()
    return bool(words) and all(w in desc for w in words)


# ---------------------------------------------------------------------------------------
# pointers


def _rank_dx(
    rs: Ruleset, cs: CodeSets, code: str, keys: list[str], first: str | None
) -> list[tuple[str, int]]:
    """Diagnoses (dotless keys) that support `code`, best first: the first-listed diagnosis;
    then conditions before Z (status/encounter) codes and external causes last; then the most
    specific (longest) code, the most specific table match, and the code itself as tie-break
    (so the order of non-first-listed diagnoses on the claim does not matter)."""
    table = rs.necessity
    covered = table.covers(code)
    icd = cs.icd
    out: list[tuple[tuple[int, int, int, int, int], str, int]] = []
    for k in dict.fromkeys(keys):
        if k not in icd.codes:
            continue
        strength = table.best(code, k)[0] if covered else ANY
        if strength == NONE:
            continue
        external = icd.mce(k).external_cause
        rank = (0 if k == first else 1, int(external), int(k.startswith("Z")), -len(k), -strength)
        out.append((rank, k, strength))
    out.sort(key=lambda t: (t[0], t[1]))
    return [(k, s) for _, k, s in out]


def assign_pointers(
    icd10cm: list[str],
    cpt_lines: list[ServiceLine] | list[dict[str, Any]],
    dos: str | dt.date | None = None,
    *,
    codesets: CodeSets | None = None,
    ruleset: Ruleset | None = None,
) -> list[ServiceLine]:
    """Service lines with pointers normalised to dotted dx codes, and assigned where missing.

    A line without pointers gets the claim's diagnoses that support its code (medical-necessity
    table), the first-listed diagnosis first when it supports the line, then the most specific
    ones, at most 4. A line that no diagnosis supports keeps an empty list (the validator then
    reports `dx_not_supporting_procedure`). Unknown or malformed codes are skipped, not raised.
    `dos` is accepted for symmetry with `validate` (the table does not vary by date).
    """
    cs = codesets or load_codesets()
    rs = ruleset or load_ruleset()
    keys: list[str] = []
    for c in icd10cm:
        try:
            keys.append(icd_key(c))
        except CodeFormatError:
            continue
    first = keys[0] if keys else None
    out: list[ServiceLine] = []
    for raw in cpt_lines:
        line = raw if isinstance(raw, ServiceLine) else ServiceLine.model_validate(raw)
        try:
            code = proc_key(line.code)
        except CodeFormatError:
            out.append(line.model_copy())
            continue
        resolved = [k for k, _ in (_resolve(p, keys) for p in line.dx) if k is not None]
        if resolved:
            dx = [dotted(k) for k in dict.fromkeys(resolved)]
        else:
            dx = [dotted(k) for k, _ in _rank_dx(rs, cs, code, keys, first)[: rs.policy.max_pointers]]
        out.append(ServiceLine(code=code, modifiers=[m.strip().upper() for m in line.modifiers], units=line.units, dx=list(dx)))
    return out


def _resolve(p: str | int, keys: list[str]) -> tuple[str | None, str]:
    """(dotless key, reason) for one pointer; key None when the pointer is invalid."""
    if isinstance(p, int) or (isinstance(p, str) and _DIGITS.match(p)):
        i = int(p)
        if 1 <= i <= len(keys):
            return keys[i - 1], ""
        return None, f"index {i} is outside 1..{len(keys)}"
    try:
        k = icd_key(p)
    except CodeFormatError:
        return None, f"{p!r} is neither a diagnosis code nor an index"
    if k in keys:
        return k, ""
    return None, f"{dotted(k)} is not among the claim's diagnoses"


# ---------------------------------------------------------------------------------------
# validate


def validate(
    claim: Claim | dict[str, Any], *, codesets: CodeSets | None = None, ruleset: Ruleset | None = None
) -> ValidationResult:
    """Validate a claim (DESIGN.md 4.3). Raises ClaimError when it cannot be evaluated.

    `ruleset` defaults to the packaged rules (load_ruleset()); tests pass their own.
    """
    c = _parse_claim(claim)
    cs = codesets or load_codesets()
    rs = ruleset or load_ruleset()
    cid = _cs_id(cs)
    try:
        day = cs.check_dos(c.date_of_service)
    except DateOfServiceError as exc:
        raise ClaimError(str(exc)) from None
    newest = cs.newest_fy
    procs = cs.procedures
    ctx = _Ctx(cs, rs, day, newest, procs.coverage_end, [])
    dos_text = day.isoformat() if day else "the newest loaded code sets"
    if day is not None:
        fy = fiscal_year(day)
        if fy > newest:
            ctx.emit("stale_codeset", codes=[], system="ICD-10-CM", dos=dos_text,
                     newest=f"FY{newest}", coverage_end=fy_end(newest).isoformat())
        else:
            ctx.fy = fy
        if day > procs.coverage_end:
            ctx.emit("stale_codeset", codes=[], system="CPT/HCPCS", dos=dos_text,
                     newest=f"I/OCE {procs.newest_version.isoformat()}", coverage_end=procs.coverage_end.isoformat())
        else:
            ctx.probe = day

    # ---- diagnoses -----------------------------------------------------------------
    keys: list[str] = []
    for i, raw in enumerate(c.icd10cm):
        try:
            keys.append(icd_key(raw))
        except CodeFormatError:
            hint = ""
            try:
                proc_key(raw)
                hint = " (it looks like a CPT/HCPCS code: procedures go in cpt_lines)"
            except CodeFormatError:
                pass
            raise ClaimError(f"icd10cm[{i}] {raw!r} is not an ICD-10-CM code: unknown code system{hint}") from None
    lines_in: list[tuple[ServiceLine, str]] = []
    for i, line in enumerate(c.cpt_lines):
        try:
            lines_in.append((line, proc_key(line.code)))
        except CodeFormatError:
            raise ClaimError(
                f"cpt_lines[{i}].code {line.code!r} is not a CPT or HCPCS code: unknown code system"
            ) from None

    pol = rs.policy
    if len(keys) > pol.max_diagnoses:
        ctx.emit("too_many_diagnoses", codes=[], n=len(keys), dropped=len(keys) - pol.max_diagnoses)

    valid_dx: set[str] = set()
    for k in dict.fromkeys(keys):
        status, detail, deleted_fy, kids = _icd_status(cid, k, ctx.fy)
        d = dotted(k)
        if status == "valid":
            valid_dx.add(k)
        elif status == "header":
            ctx.emit("non_billable_code", codes=[d], code=d, fy=f"FY{ctx.fy}", children=_join(list(kids), 12),
                     n_children=len(kids))
        elif status == "deleted":
            ctx.emit("deleted_code", codes=[d], code=d, system="ICD-10-CM", dos=dos_text, detail=detail,
                     deleted_fy=f"FY{deleted_fy}", terminated="")
        else:
            ctx.emit("invalid_code", codes=[d], code=d, system="ICD-10-CM", dos=dos_text, detail=detail)

    icd = cs.icd
    age = c.patient.age
    sex = c.patient.sex
    for k in dict.fromkeys(keys):
        if k not in icd.codes:
            continue
        m = icd.mce(k)
        d = dotted(k)
        if age is not None and not (m.age_lo <= age <= m.age_hi):
            ctx.emit("age_conflict", codes=[d], code=d, age=age, age_lo=m.age_lo, age_hi=m.age_hi, system="ICD-10-CM")
        if m.sex in ("M", "F") and sex in ("M", "F") and m.sex != sex:
            ctx.emit("sex_conflict_warning", codes=[d], code=d, sex=sex, code_sex=m.sex)
    if keys and keys[0] in icd.codes:
        m = icd.mce(keys[0])
        d = dotted(keys[0])
        if m.manifestation:
            ctx.emit("manifestation_as_first_listed", codes=[d], code=d)
        if m.external_cause:
            ctx.emit("e_code_first_listed", codes=[d], code=d)

    uniq = sorted({k for k in keys if k in icd.codes})
    for i, a in enumerate(uniq):
        for b in uniq[i + 1 :]:
            hit = _excludes1(cid, a, b)
            if hit is None or _policy_exception(rs, a, b):
                continue
            excluder, excluded, text = hit
            ctx.emit("excludes1_conflict", codes=[dotted(excluder), dotted(excluded)], code=dotted(excluder),
                     other=dotted(excluded), note=text, host=dotted(excluder))

    # ---- service lines ---------------------------------------------------------------
    first = keys[0] if keys else None
    out_lines: list[ServiceLine] = []
    line_dx: list[list[str]] = []
    valid_lines: list[tuple[int, str, frozenset[str]]] = []
    for n, (line, code) in enumerate(lines_in, start=1):
        mods = [m.strip().upper() for m in line.modifiers if m.strip()]
        status, detail, terminated = _proc_status(cid, code, ctx.probe)
        system = "CPT" if code[0].isdigit() else "HCPCS"
        if status == "deleted":
            ctx.emit("deleted_code", codes=[code], line=n, code=code, system=system, dos=dos_text, detail=detail,
                     deleted_fy="", terminated=terminated, variant="procedure")
        elif status == "invalid":
            ctx.emit("invalid_code", codes=[code], line=n, code=code, system=system, dos=dos_text, detail=detail)
        else:
            valid_lines.append((n, code, frozenset(mods)))
            span = cs.procedures.span_on(code, ctx.probe)
            if span is not None and age is not None and not (span.age_lo <= age <= span.age_hi):
                ctx.emit("age_conflict", codes=[code], line=n, code=code, age=age, age_lo=span.age_lo,
                         age_hi=span.age_hi, system=system)

        # pointers
        resolved: list[str] = []
        for p in line.dx:
            rk, reason = _resolve(p, keys)
            if rk is None:
                ctx.emit("invalid_pointer", codes=[code], line=n, code=code, pointer=str(p), n_dx=len(keys), reason=reason)
            elif rk not in resolved:
                resolved.append(rk)
        if len(resolved) > pol.max_pointers:
            kept = resolved[: pol.max_pointers]
            ctx.emit("too_many_pointers", codes=[code], line=n, code=code, n=len(resolved),
                     kept=", ".join(dotted(k) for k in kept))
        ranked = None
        if not resolved:
            if not keys:
                ctx.emit("missing_dx_pointer", codes=[code], line=n, code=code, assigned="", variant="no_diagnoses")
            else:
                ranked = _rank_dx(rs, cs, code, keys, first)[: pol.max_pointers]
                assigned = [k for k, _ in ranked]
                if assigned and not line.dx:
                    ctx.emit("missing_dx_pointer", codes=[code, *(dotted(k) for k in assigned)], line=n, code=code,
                             assigned=", ".join(dotted(k) for k in assigned))
                resolved = assigned
        used = resolved[: pol.max_pointers]
        line_dx.append(used)
        out_lines.append(ServiceLine(code=code, modifiers=mods, units=line.units, dx=[dotted(k) for k in resolved]))

        # medical necessity: only the diagnoses the line points to count
        table = rs.necessity
        if keys and table.covers(code) and status == "valid":
            supported = [k for k in used if k in icd.codes and table.best(code, k)[0] != NONE]
            if not supported:
                pointed = [k for k in used if k in icd.codes]
                rows = table.rows_for(code)
                row = rows[0]
                policy_name = "; ".join(dict.fromkeys(r.policy or r.rule_id for r in rows))
                payer = " (payer-specific policy)" if all(r.payer_specific for r in rows) else ""
                examples = ", ".join(dict.fromkeys(e for r in rows for e in r.example_supported))
                dx_list = pointed if pointed else sorted({k for k in keys if k in icd.codes})
                variant = None if pointed else "none_on_claim"
                ctx.emit("dx_not_supporting_procedure", codes=[code, *(dotted(k) for k in dx_list)], line=n,
                         code=code, dx=", ".join(dotted(k) for k in dx_list) or "none", policy_name=policy_name,
                         payer_note=payer, supported_examples=examples or "see the medical-necessity table",
                         variant=variant, policy=f"{policy_name}{payer}" if row.policy else None)

    _check_ncci(ctx, valid_lines)
    _check_addons(ctx, valid_lines)
    _check_modifiers(ctx, c, valid_lines)
    return _result(ctx, out_lines)


def _policy_exception(rs: Ruleset, a: str, b: str) -> bool:
    for (x, y), _ in rs.policy.excludes1_exceptions:
        if (a.startswith(x) and b.startswith(y)) or (a.startswith(y) and b.startswith(x)):
            return True
    return False


def _check_ncci(ctx: _Ctx, lines: list[tuple[int, str, frozenset[str]]]) -> None:
    procs = ctx.cs.procedures
    em = ctx.rs.policy.em_codes
    em_bypass = ctx.rs.policy.em_bypass_modifiers
    for i, (n1, a, ma) in enumerate(lines):
        for n2, b, mb in lines[i + 1 :]:
            if a == b:
                continue
            edit = procs.ptp_edit(a, b, ctx.probe)
            if edit is None or edit.modifier_indicator not in (0, 1):
                continue
            col1_line, col2_line = (n1, n2) if edit.column1 == a else (n2, n1)
            col2_mods = mb if edit.column2 == b else ma
            col1_mods = ma if edit.column1 == a else mb
            codes = [edit.column1, edit.column2]
            base: dict[str, Any] = {"column1": edit.column1, "column2": edit.column2, "modifier_indicator": edit.modifier_indicator,
                    "line1": col1_line, "line2": col2_line}
            line = col2_line
            if edit.modifier_indicator == 0:
                ctx.emit("ncci_ptp_conflict", codes=codes, line=line, variant="never", bypass="", **base)
                continue
            if edit.column2 in em or edit.column1 in em:
                em_code, em_mods, em_line = (
                    (edit.column2, col2_mods, col2_line) if edit.column2 in em else (edit.column1, col1_mods, col1_line)
                )
                bypass = sorted(em_mods & em_bypass)
                hint = f"modifier 25 on the E/M {em_code} (line {em_line})"
                line = em_line
            else:
                bypass = sorted(m for m in col2_mods if procs.is_ptp_bypass(m))
                hint = f"a PTP-bypass modifier (59, XE, XP, XS, XU or an anatomic modifier) on {edit.column2} (line {col2_line})"
            if bypass:
                ctx.emit("ncci_ptp_conflict", codes=codes, line=line, variant="bypassed", bypass=", ".join(bypass),
                         modifier_hint=hint, **base)
            else:
                ctx.emit("ncci_ptp_conflict", codes=codes, line=line, bypass="", modifier_hint=hint, **base)


def _check_addons(ctx: _Ctx, lines: list[tuple[int, str, frozenset[str]]]) -> None:
    addons = ctx.cs.procedures.addons
    present = {code for _, code, _ in lines}
    for n, code, _ in lines:
        info = addons.get(code)
        if info is None:
            continue
        aoc_type, primaries = info
        if not primaries or present & primaries:
            continue
        prim = sorted(primaries)
        ctx.emit("addon_without_primary", codes=[code], line=n, code=code, primaries=_join(prim, 10),
                 aoc_type=aoc_type, variant="type3" if aoc_type == 3 else None)


def _check_modifiers(ctx: _Ctx, c: Claim, lines: list[tuple[int, str, frozenset[str]]]) -> None:
    pol = ctx.rs.policy
    procs = ctx.cs.procedures
    ems = [(n, code, mods) for n, code, mods in lines if code in pol.em_codes]
    others = [(n, code, mods) for n, code, mods in lines if code not in pol.em_codes]
    for n, em_code, mods in ems:
        if mods & pol.em_bypass_modifiers:
            continue
        trigger = [
            code
            for _, code, _ in others
            if code in pol.global_period_procedures or procs.ptp_edit(em_code, code, ctx.probe) is not None
        ]
        if trigger:
            t = sorted(set(trigger))
            ctx.emit("missing_modifier", codes=[em_code, *t], line=n, code=em_code, other=", ".join(t), needed="25",
                     variant="em_25")
    setting = (c.setting or "").strip().lower()
    pos = (c.place_of_service or "").strip()
    if setting in pol.telehealth_settings or pos in pol.telehealth_pos:
        for n, code, mods in lines:
            if code in pol.telehealth_codes and not (mods & pol.telehealth_modifiers):
                ctx.emit("missing_modifier", codes=[code], line=n, code=code, needed="95 (video) or 93 (audio-only)",
                         setting=setting or "telehealth", pos=pos or "n/a", variant="telehealth")
    catalog = procs.catalog
    for n, code, mods in lines:
        entry = catalog.get(code)
        lateral = code in pol.laterality_codes or (entry is not None and entry.laterality)
        if lateral and not (mods & pol.laterality_modifiers):
            ctx.emit("missing_modifier", codes=[code], line=n, code=code, needed="RT, LT or 50", variant="laterality")


def _finding_key(f: Finding) -> tuple[int, int, int, tuple[str, ...], str]:
    return (_SEV_RANK[f.severity], f.line or 0, _RULE_RANK.get(f.rule, 99), tuple(f.codes), f.message)


def _result(ctx: _Ctx, lines: list[ServiceLine]) -> ValidationResult:
    seen: set[tuple[int, int, int, tuple[str, ...], str]] = set()
    findings: list[Finding] = []
    for f in sorted(ctx.findings, key=_finding_key):
        k = _finding_key(f)
        if k not in seen:
            seen.add(k)
            findings.append(f)
    sevs = {f.severity for f in findings}
    status: Literal["pass", "warn", "fail"] = "fail" if "error" in sevs else "warn" if "warning" in sevs else "pass"
    return ValidationResult(status=status, findings=findings, cpt_lines=lines, ruleset_version=ctx.rs.version)


def supports(
    cpt_code: str, icd_code: str, *, codesets: CodeSets | None = None, ruleset: Ruleset | None = None
) -> bool:
    """Whether the medical-necessity table accepts `icd_code` for `cpt_code`.

    Codes the table does not cover have no known restriction: True for any existing
    ICD-10-CM code. Malformed codes and ICD codes absent from every loaded fiscal year: False.
    """
    try:
        code = proc_key(cpt_code)
        key = icd_key(icd_code)
    except CodeFormatError:
        return False
    cs = codesets or load_codesets()
    if key not in cs.icd.codes:
        return False
    table = (ruleset or load_ruleset()).necessity
    if not table.covers(code):
        return True
    return table.best(code, key)[0] != NONE
