"""Compare two benchmark folders (each holding metrics.json, predictions.jsonl and gold.jsonl).

Both runs are re-scored on the notes they share, with the matching rule of run A. Headline
metrics get 95% bootstrap CIs (bias-shifted percentile, see metrics.bootstrap_ci); the difference B - A gets a paired bootstrap CI (the
same resampled notes for both runs). Per code, a *win* for A is a note where A's decision on
that code (suggested or not) agrees with the gold and B's does not; a loss is the reverse.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.evaluate import build_accumulators
from evaluation.gold import GoldFormatError, GoldNote, read_jsonl
from evaluation.metrics import HEADLINE, bootstrap_ci, bootstrap_weights
from evaluation.predictions import NotePrediction, read_predictions


class CompareError(ValueError):
    """A benchmark folder is missing or unreadable (one-line message)."""


def load_run(folder: str | Path) -> tuple[dict[str, Any], list[GoldNote], dict[str, NotePrediction]]:
    d = Path(folder)
    if not d.is_dir():
        raise CompareError(f"not a benchmark folder: {d}")
    for name in ("metrics.json", "predictions.jsonl", "gold.jsonl"):
        if not (d / name).is_file():
            raise CompareError(f"{d} has no {name} (run `medcode benchmark GOLD --out {d}` first)")
    try:
        metrics = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
        gold = read_jsonl(d / "gold.jsonl")
        preds = read_predictions(d / "predictions.jsonl")
    except (GoldFormatError, json.JSONDecodeError, OSError) as exc:
        raise CompareError(f"{d}: {exc}") from None
    return metrics, gold, preds


def compare_dirs(
    dir_a: str | Path, dir_b: str | Path, *, n_boot: int = 1000, seed: int = 0, top: int = 10
) -> dict[str, Any]:
    ma, gold_a, pred_a = load_run(dir_a)
    mb, gold_b, pred_b = load_run(dir_b)
    meta_a, meta_b = ma.get("meta", {}), mb.get("meta", {})
    ids_b = {n.id for n in gold_b}
    common = [n for n in gold_a if n.id in ids_b]
    if not common:
        raise CompareError("the two benchmark folders share no gold notes")
    warnings = []
    if meta_a.get("data_hash") != meta_b.get("data_hash"):
        warnings.append(
            f"the gold files differ (data hash {str(meta_a.get('data_hash'))[:12]} vs {str(meta_b.get('data_hash'))[:12]}); "
            f"compared on the {len(common)} shared note ids with A's gold"
        )
    match = meta_a.get("match", "strict")
    if meta_b.get("match", "strict") != match:
        warnings.append(f"the runs used different matching rules; both re-scored with A's rule ({match})")
    acc_a = build_accumulators(common, pred_a, match=match)
    acc_b = build_accumulators(common, pred_b, match=match)
    n = len(common)
    weights = bootstrap_weights(n, n_boot, seed) if n_boot > 0 else None
    systems: dict[str, Any] = {}
    for system, a in acc_a.items():
        b = acc_b[system]
        ca, cb = a.compute(), b.compute()
        rows = []
        if weights is not None:
            # weights index notes of `common`; accumulators hold only the notes annotated for the system
            sub = [i for i, note in enumerate(common) if system in note.systems]
            w = weights[:, sub]
            sa, sb = a.weighted_metrics(w), b.weighted_metrics(w)
        for key in HEADLINE:
            row: dict[str, Any] = {"metric": key, "a": ca[key], "b": cb[key], "delta": cb[key] - ca[key]}
            if weights is not None:
                row["a_ci"] = bootstrap_ci(sa[key], ca[key])
                row["b_ci"] = bootstrap_ci(sb[key], cb[key])
                d = sb[key] - sa[key]
                bias = float(np.mean(d)) - row["delta"]
                row["delta_ci"] = [float(np.percentile(d, 2.5)) - bias, float(np.percentile(d, 97.5)) - bias]
                row["p_b_better"] = float(np.mean(d > 0))
            rows.append(row)
        systems[system] = {"n_docs": len(a), "metrics": rows, **wins_losses(a.records, b.records, top)}
    return {
        "a": {"dir": str(dir_a), "model_version": meta_a.get("model_version"), "source": meta_a.get("source")},
        "b": {"dir": str(dir_b), "model_version": meta_b.get("model_version"), "source": meta_b.get("source")},
        "n_docs": n,
        "match": match,
        "bootstrap": {"n": n_boot, "seed": seed},
        "warnings": warnings,
        "systems": systems,
    }


def wins_losses(records_a: list[Any], records_b: list[Any], top: int) -> dict[str, Any]:
    """Per-code counts of notes where exactly one run decided correctly."""
    a_wins: Counter[str] = Counter()
    b_wins: Counter[str] = Counter()
    for ra, rb in zip(records_a, records_b, strict=True):
        gold = ra.gold
        pa, pb = set(ra.pred), set(rb.pred)
        for c in gold | pa | pb:
            ok_a = (c in pa) == (c in gold)
            ok_b = (c in pb) == (c in gold)
            if ok_a and not ok_b:
                a_wins[c] += 1
            elif ok_b and not ok_a:
                b_wins[c] += 1
    codes = set(a_wins) | set(b_wins)
    net = {c: a_wins[c] - b_wins[c] for c in codes}
    a_better = sorted((c for c in codes if net[c] > 0), key=lambda c: (-net[c], c))[:top]
    b_better = sorted((c for c in codes if net[c] < 0), key=lambda c: (net[c], c))[:top]
    return {
        "a_better": [{"code": c, "a_wins": a_wins[c], "b_wins": b_wins[c]} for c in a_better],
        "b_better": [{"code": c, "a_wins": a_wins[c], "b_wins": b_wins[c]} for c in b_better],
        "a_wins_total": sum(a_wins.values()),
        "b_wins_total": sum(b_wins.values()),
    }


def _ci(ci: list[float] | None) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""


def format_comparison(res: dict[str, Any]) -> str:
    """Plain-text side-by-side table."""
    a_name = res["a"]["model_version"] or Path(res["a"]["dir"]).name
    b_name = res["b"]["model_version"] or Path(res["b"]["dir"]).name
    out = [
        f"A: {res['a']['dir']}  ({a_name})",
        f"B: {res['b']['dir']}  ({b_name})",
        f"{res['n_docs']} shared notes; matching: {res['match']}; 95% bootstrap CIs "
        f"({res['bootstrap']['n']} resamples, seed {res['bootstrap']['seed']}; B - A paired)",
    ]
    out += [f"warning: {w}" for w in res["warnings"]]
    for system, s in res["systems"].items():
        out.append("")
        out.append(f"{system} ({s['n_docs']} notes)")
        out.append(f"  {'metric':<16}{'A':>8} {'':<17}{'B':>8} {'':<17}{'B - A':>8} {'':<18}")
        for r in s["metrics"]:
            out.append(
                f"  {r['metric']:<16}{r['a']:>8.3f} {_ci(r.get('a_ci')):<17}{r['b']:>8.3f} {_ci(r.get('b_ci')):<17}"
                f"{r['delta']:>+8.3f} {_ci(r.get('delta_ci')):<18}"
            )
        out.append(f"  per-code decisions: A right where B wrong {s['a_wins_total']}, B right where A wrong {s['b_wins_total']}")
        for label, key in (("A better on", "a_better"), ("B better on", "b_better")):
            items = ", ".join(f"{x['code']} (+{abs(x['a_wins'] - x['b_wins'])})" for x in s[key]) or "none"
            out.append(f"  {label}: {items}")
    return "\n".join(out)
