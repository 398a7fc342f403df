"""Gold notes + predictions -> the metrics.json document (DESIGN.md 4.4) and error analysis.

    from evaluation.evaluate import evaluate
    result = evaluate(gold_notes, predictions_by_id)
    result.metrics["icd10cm"]["f1_micro"]

A gold note without a prediction counts as an empty prediction (`meta.n_missing_predictions`);
predictions for ids not in the gold are ignored (`meta.n_extra_predictions`). Each code system
is scored over the notes annotated for it (a JSONL key present, even empty).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from evaluation.gold import GoldNote, gold_systems
from evaluation.metrics import (
    DEFAULT_KS,
    HEADLINE,
    MetricAccumulator,
    em_confusion,
    finding_rates,
    has_prefix_forms,
    link_f1,
    prefix_form_match,
)
from evaluation.predictions import NotePrediction

MatchMode = Literal["strict", "prefix"]
SNIPPET_CHARS = 160


@dataclass
class Evaluation:
    metrics: dict[str, Any]
    accumulators: dict[str, MetricAccumulator]
    alt_accumulators: dict[str, MetricAccumulator] = field(default_factory=dict)
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)


def build_accumulators(
    gold: Sequence[GoldNote],
    preds: Mapping[str, NotePrediction],
    *,
    match: MatchMode = "strict",
    training_codes: Mapping[str, Collection[str]] | None = None,
    ks: tuple[int, ...] = DEFAULT_KS,
) -> dict[str, MetricAccumulator]:
    """One MetricAccumulator per code system present in the gold."""
    accs: dict[str, MetricAccumulator] = {}
    for system in gold_systems(list(gold)):
        train = training_codes.get(system) if training_codes else None
        acc = MetricAccumulator(system, ks, frozenset(train) if train is not None else None)
        notes = [n for n in gold if system in n.systems]
        gold_sets, pred_sets, ranked, scores, confs = [], [], [], [], []
        for n in notes:
            sp = preds[n.id].system(system) if n.id in preds else None
            g = n.codes(system)
            p = sp.codes if sp else []
            r = sp.ranked if sp else []
            s = sp.scores if sp else []
            c = dict(sp.confidence) if sp else {}
            if match == "prefix":
                p, r, s, c = _cut_to_gold(g, system, p, r, s, c)
            gold_sets.append(set(g))
            pred_sets.append(p)
            ranked.append(r)
            scores.append(s if s and len(s) == len(r) else [])
            confs.append(c)
        acc.update(
            gold_sets,
            pred_sets,
            ranked,
            confs,
            ranked_scores=scores if all(len(x) == len(y) for x, y in zip(scores, ranked, strict=True)) else None,
            note_ids=[n.id for n in notes],
            specialties=[n.specialty for n in notes],
        )
        accs[system] = acc
    return accs


def _cut_to_gold(
    gold: Sequence[str], system: str, pred: list[str], ranked: list[str], scores: list[float], conf: dict[str, float]
) -> tuple[list[str], list[str], list[float], dict[str, float]]:
    """Apply the prefix-form rule to one note's predictions (first occurrence/score kept)."""

    def cut(code: str) -> str:
        return prefix_form_match(gold, [code], system)[0]

    pred2 = list(dict.fromkeys(cut(x) for x in pred))
    best: dict[str, float | None] = {}
    for i, x in enumerate(ranked):
        best.setdefault(cut(x), scores[i] if scores else None)
    ranked2 = list(best)
    scores2 = [float(best[x] or 0.0) for x in ranked2] if scores else []
    conf2: dict[str, float] = {}
    for code, val in conf.items():
        conf2.setdefault(cut(code), val)
    return pred2, ranked2, scores2, conf2


def _headline(acc: MetricAccumulator, n_boot: int, seed: int) -> dict[str, Any]:
    m = acc.compute()
    m["ci"] = acc.bootstrap(n_boot=n_boot, seed=seed)
    m["by_group"] = acc.by_group()
    m["by_specialty"] = acc.by_specialty()
    return m


def evaluate(
    gold: Sequence[GoldNote],
    preds: Mapping[str, NotePrediction],
    *,
    match: MatchMode = "strict",
    training_codes: Mapping[str, Collection[str]] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    top_errors: int = 25,
) -> Evaluation:
    gold = list(gold)
    accs = build_accumulators(gold, preds, match=match, training_codes=training_codes)
    metrics: dict[str, Any] = {"n_docs": len(gold)}
    for system, acc in accs.items():
        metrics[system] = _headline(acc, n_boot, seed)
    # the other matching rule, when the gold holds CodiEsp prefix forms
    alt_mode: MatchMode = "strict" if match == "prefix" else "prefix"
    alt_accs: dict[str, MetricAccumulator] = {}
    prefix_systems = [
        s for s, a in accs.items() if s in ("icd10cm", "icd10pcs") and has_prefix_forms((r.gold for r in a.records), s)
    ]
    if prefix_systems:
        alt_all = build_accumulators(gold, preds, match=alt_mode, training_codes=training_codes)
        for s in prefix_systems:
            alt_accs[s] = alt_all[s]
            m = alt_all[s].compute()
            alt = {k: m[k] for k in (*HEADLINE, "exact_match", "ece")}
            alt["ci"] = alt_all[s].bootstrap(n_boot=n_boot, seed=seed)
            metrics[s]["prefix_match" if alt_mode == "prefix" else "strict_match"] = alt
    # pairing links, where gold cpt_lines exist
    linked = [n for n in gold if n.cpt_lines is not None]
    if linked:
        gp = [{(ln.code, d) for ln in n.cpt_lines or [] for d in ln.dx} for n in linked]
        pp = [preds[n.id].pairs if n.id in preds else set() for n in linked]
        metrics["pairs"] = link_f1(gp, pp)
    cpt_notes = [n for n in gold if "cpt" in n.systems]
    if cpt_notes:
        em = em_confusion(
            [n.cpt for n in cpt_notes], [preds[n.id].cpt_codes if n.id in preds else [] for n in cpt_notes]
        )
        if em["n"]:
            metrics["em_level"] = em
    vals = [preds[n.id].validation if n.id in preds else None for n in gold]
    if any(v is not None for v in vals):
        metrics["validation"] = finding_rates(vals)
    errors = {s: error_analysis(acc, gold, preds, s, top_errors) for s, acc in accs.items()}
    return Evaluation(metrics=metrics, accumulators=accs, alt_accumulators=alt_accs, errors=errors)


# ---- error analysis ---------------------------------------------------------------------------
def _snippet(text: str) -> str:
    t = " ".join(text.split())
    return t if len(t) <= SNIPPET_CHARS else t[: SNIPPET_CHARS - 1] + "…"


def gold_evidence(note: GoldNote, code: str) -> list[str]:
    """Evidence snippets for a gold code from the note's optional `evidence` map. Accepted
    values per code: a string, {"text"} / {"start", "end"} objects, [start, end] pairs, or a
    list of those; offsets are resolved against the note text."""
    if not note.evidence:
        return []
    val = note.evidence.get(code)
    if val is None:
        val = note.evidence.get(code.replace(".", ""))
    if val is None:
        return []
    items = val if isinstance(val, list) and not (len(val) == 2 and all(isinstance(x, int) for x in val)) else [val]
    out: list[str] = []
    for it in items:
        if isinstance(it, str):
            out.append(it)
        elif isinstance(it, dict):
            if isinstance(it.get("text"), str):
                out.append(it["text"])
            elif isinstance(it.get("start"), int) and isinstance(it.get("end"), int):
                out.append(note.text[it["start"] : it["end"]])
        elif isinstance(it, list | tuple) and len(it) == 2 and all(isinstance(x, int) for x in it):
            out.append(note.text[it[0] : it[1]])
    return [_snippet(s) for s in out if s.strip()]


def error_analysis(
    acc: MetricAccumulator, gold: Sequence[GoldNote], preds: Mapping[str, NotePrediction], system: str, top: int
) -> dict[str, Any]:
    """Top false positives / negatives with example evidence, and within-category confusions."""
    by_id = {n.id: n for n in gold}
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    fp_ex: dict[str, list[dict[str, str]]] = {}
    fn_ex: dict[str, list[dict[str, str]]] = {}
    for r in acc.records:
        pred = set(r.pred)
        sp = preds[r.note_id].system(system) if r.note_id in preds else None
        for c in sorted(pred - r.gold):
            fp[c] += 1
            ex = fp_ex.setdefault(c, [])
            if len(ex) < 3:
                snip = sp.evidence.get(c, []) if sp else []
                ex.append({"id": r.note_id, "evidence": _snippet(snip[0]) if snip else ""})
        for c in sorted(r.gold - pred):
            fn[c] += 1
            ex = fn_ex.setdefault(c, [])
            if len(ex) < 3:
                snip = gold_evidence(by_id[r.note_id], c)
                ranked_at = r.ranked.index(c) + 1 if c in r.ranked else None
                ex.append(
                    {"id": r.note_id, "evidence": snip[0] if snip else "", "ranked_at": str(ranked_at or "")}
                )
    return {
        "false_positives": [{"code": c, "count": n, "examples": fp_ex[c]} for c, n in fp.most_common(top)],
        "false_negatives": [{"code": c, "count": n, "examples": fn_ex[c]} for c, n in fn.most_common(top)],
        "confusions": acc.confusions(top) if system == "icd10cm" else [],
    }
