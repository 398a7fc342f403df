"""Predictions in the DESIGN.md 4.2 output shape, one JSON object per note plus "id".

Accepted per system (`icd10cm`, `cpt`, and `icd10pcs` for external systems): a list of
suggestion objects (`{"code", "confidence", "rank", "evidence", "dx", ...}`) or of plain code
strings; `ranked.<system>`: a list of `{"code", "score"}` objects or plain strings (kept in
the given order unless every item has a score, then sorted by score, ties in given order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.gold import SYSTEMS, GoldFormatError, iter_jsonl, normalize_pred_code


@dataclass(slots=True)
class SystemPrediction:
    codes: list[str] = field(default_factory=list)  # emitted suggestions, rank order
    confidence: dict[str, float] = field(default_factory=dict)
    ranked: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)  # aligned with ranked (empty if unscored)
    evidence: dict[str, list[str]] = field(default_factory=dict)  # code -> evidence snippets


@dataclass(slots=True)
class NotePrediction:
    id: str
    systems: dict[str, SystemPrediction] = field(default_factory=dict)
    pairs: set[tuple[str, str]] = field(default_factory=set)  # (procedure code, dx code)
    cpt_codes: list[str] = field(default_factory=list)
    validation: dict[str, Any] | None = None
    model_version: str | None = None
    codeset_version: str | None = None
    ruleset_version: str | None = None

    def system(self, name: str) -> SystemPrediction:
        return self.systems.get(name) or SystemPrediction()


def _evidence_texts(item: dict[str, Any]) -> list[str]:
    out = []
    for ev in item.get("evidence") or []:
        if isinstance(ev, dict) and isinstance(ev.get("text"), str) and ev["text"].strip():
            out.append(ev["text"].strip())
    return out


def _emitted(value: Any, system: str, where: str) -> tuple[list[tuple[str, dict[str, Any]]], SystemPrediction]:
    sp = SystemPrediction()
    items: list[tuple[float, int, str, dict[str, Any]]] = []
    if value is None:
        value = []
    if not isinstance(value, list):
        raise GoldFormatError(f"{where}: '{system}' must be a list")
    for j, item in enumerate(value):
        if isinstance(item, str):
            items.append((float(j), j, normalize_pred_code(item, system), {}))
        elif isinstance(item, dict) and isinstance(item.get("code"), str):
            rank = item.get("rank")
            r = float(rank) if isinstance(rank, int | float) and not isinstance(rank, bool) else float(j)
            items.append((r, j, normalize_pred_code(item["code"], system), item))
        else:
            raise GoldFormatError(f"{where}: '{system}' items must be codes or objects with a 'code'")
    items.sort(key=lambda x: (x[0], x[1]))
    kept: list[tuple[str, dict[str, Any]]] = []
    for _, _, code, item in items:
        if code in sp.confidence or code in sp.codes:
            continue
        sp.codes.append(code)
        conf = item.get("confidence")
        if isinstance(conf, int | float) and not isinstance(conf, bool):
            sp.confidence[code] = float(conf)
        texts = _evidence_texts(item)
        if texts:
            sp.evidence[code] = texts
        kept.append((code, item))
    return kept, sp


def _ranked(value: Any, system: str, where: str) -> tuple[list[str], list[float]]:
    if value is None:
        return [], []
    if not isinstance(value, list):
        raise GoldFormatError(f"{where}: 'ranked.{system}' must be a list")
    rows: list[tuple[str, float | None]] = []
    for item in value:
        if isinstance(item, str):
            rows.append((normalize_pred_code(item, system), None))
        elif isinstance(item, dict) and isinstance(item.get("code"), str):
            s = item.get("score")
            score = float(s) if isinstance(s, int | float) and not isinstance(s, bool) else None
            rows.append((normalize_pred_code(item["code"], system), score))
        else:
            raise GoldFormatError(f"{where}: 'ranked.{system}' items must be codes or {{code, score}} objects")
    if rows and all(s is not None for _, s in rows):
        order = sorted(range(len(rows)), key=lambda i: (-(rows[i][1] or 0.0), i))
        rows = [rows[i] for i in order]
        return [c for c, _ in rows], [float(s or 0.0) for _, s in rows]
    return [c for c, _ in rows], []


def parse_prediction(rec: Any, where: str) -> NotePrediction:
    """One prediction record (a SuggestionSet dict plus "id") -> NotePrediction."""
    if not isinstance(rec, dict):
        raise GoldFormatError(f"{where}: expected a JSON object")
    nid = rec.get("id")
    if not isinstance(nid, str | int) or isinstance(nid, bool) or str(nid) == "":
        raise GoldFormatError(f"{where}: missing or empty 'id'")
    out = NotePrediction(id=str(nid))
    ranked_raw = rec.get("ranked")
    ranked: dict[str, Any] = ranked_raw if isinstance(ranked_raw, dict) else {}
    emitted_icd: list[str] = []
    for system in SYSTEMS:
        if system not in rec and system not in ranked:
            continue
        kept, sp = _emitted(rec.get(system), system, where)
        sp.ranked, sp.scores = _ranked(ranked.get(system), system, where)
        out.systems[system] = sp
        if system == "icd10cm":
            emitted_icd = sp.codes
        if system == "cpt":
            out.cpt_codes = list(sp.codes)
            for code, item in kept:
                for d in item.get("dx") or []:
                    if isinstance(d, int) and not isinstance(d, bool):
                        if 1 <= d <= len(emitted_icd):
                            out.pairs.add((code, emitted_icd[d - 1]))
                    elif isinstance(d, str):
                        if d.strip().isdigit():
                            i = int(d)
                            if 1 <= i <= len(emitted_icd):
                                out.pairs.add((code, emitted_icd[i - 1]))
                        else:
                            out.pairs.add((code, normalize_pred_code(d, "icd10cm")))
    v = rec.get("validation")
    out.validation = v if isinstance(v, dict) else None
    for key in ("model_version", "codeset_version", "ruleset_version"):
        val = rec.get(key)
        setattr(out, key, str(val) if val is not None else None)
    return out


def read_predictions(path: str | Path) -> dict[str, NotePrediction]:
    """Read a predictions JSONL file; raises GoldFormatError with the line number on bad input."""
    path = Path(path)
    if not path.exists():
        raise GoldFormatError(f"predictions file not found: {path}")
    out: dict[str, NotePrediction] = {}
    for where, rec in iter_jsonl(path):
        pred = parse_prediction(rec, where)
        if pred.id in out:
            raise GoldFormatError(f"{where}: duplicate prediction id {pred.id!r}")
        out[pred.id] = pred
    return out
