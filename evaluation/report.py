"""Self-contained HTML benchmark report: headline table with bootstrap CIs, matplotlib plots
embedded as base64 PNGs, breakdowns, E/M confusion, validator findings and error analysis
(top false positives / negatives with evidence snippets, within-category confusions), plus the
model, code-set and rule-set versions and the gold data hash.

`render_report(..., show_snippets=False)` leaves every note snippet out (used for the copy that
goes to MLflow: note text never goes to the tracking server)."""

from __future__ import annotations

import base64
import io
import itertools
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from evaluation.gold import SYSTEMS
from evaluation.metrics import HEADLINE

TEMPLATES = Path(__file__).with_name("templates")
REPORT_KEYS: tuple[str, ...] = (
    *HEADLINE,
    "precision_macro",
    "recall_macro",
    "precision@1",
    "recall@5",
    "recall@20",
    "exact_match",
    "ece",
    "ece_ranked",
)
GROUP_NAMES = {"icd10cm": "ICD-10-CM chapter", "cpt": "CPT section", "icd10pcs": "ICD-10-PCS section"}


def fmt(x: Any) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return "n/a" if math.isnan(x) else f"{x:.3f}"
    return str(x)


def _describer() -> Callable[[str, str], str]:
    cache: dict[tuple[str, str], str] = {}

    def describe(code: str, system: str) -> str:
        key = (code, system)
        if key in cache:
            return cache[key]
        desc = ""
        try:
            from codesets import load_codesets

            cs = load_codesets()
            if system == "icd10cm":
                desc = cs.icd.description(code.replace(".", ""))
            elif system == "cpt":
                desc = cs.procedures.description(code)
        except Exception:  # descriptions are a convenience; the report works without them
            desc = ""
        cache[key] = desc or ""
        return cache[key]

    return describe


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def make_plots(metrics: Mapping[str, Any], systems: list[str]) -> list[dict[str, str]]:
    """Headline bars with CIs, reliability diagrams, P@k/R@k curves, group F1, E/M heatmap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    plots: list[dict[str, str]] = []
    keys = ["f1_micro", "precision_micro", "recall_micro", "f1_macro", "map", "precision@5", "recall@10"]
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    width = 0.8 / max(len(systems), 1)
    x = np.arange(len(keys))
    for i, s in enumerate(systems):
        m = metrics[s]
        vals = [float(m.get(k) or 0.0) for k in keys]
        ci = m.get("ci") or {}
        err = np.array(
            [[max(v - ci[k][0], 0.0), max(ci[k][1] - v, 0.0)] if k in ci else [0.0, 0.0] for k, v in zip(keys, vals, strict=True)]
        ).T
        ax.bar(x + i * width, vals, width, yerr=err, capsize=2, label=s)
    ax.set_xticks(x + width * (len(systems) - 1) / 2, keys, rotation=25, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title("Headline metrics (95% bootstrap CI)")
    ax.legend(fontsize=8)
    plots.append({"title": "Headline metrics", "data": _png(fig)})

    for s in systems:
        rel = metrics[s].get("reliability") or {}
        if not rel.get("n"):
            continue
        fig, ax = plt.subplots(figsize=(3.8, 3.6))
        edges = rel["edges"]
        centers = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
        acc = [a if a is not None else np.nan for a in rel["accuracy"]]
        ax.plot([0, 1], [0, 1], "--", color="grey", lw=1)
        ax.bar(centers, np.nan_to_num(acc), width=edges[1] - edges[0], alpha=0.7, edgecolor="black", lw=0.5)
        conf = [c if c is not None else np.nan for c in rel["mean_confidence"]]
        ax.plot(conf, acc, "o-", color="darkred", ms=3, lw=1)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence")
        ax.set_ylabel("share correct")
        ax.set_title(f"{s} reliability (ECE {fmt(rel.get('ece'))}, n={rel['n']})", fontsize=9)
        plots.append({"title": f"{s} reliability diagram", "data": _png(fig)})

    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    drew = False
    for s in systems:
        m = metrics[s]
        ks = sorted(int(k.split("@")[1]) for k in m if k.startswith("precision@"))
        if not ks:
            continue
        ax.plot(ks, [m[f"precision@{k}"] for k in ks], "o-", label=f"{s} P@k")
        ax.plot(ks, [m[f"recall@{k}"] for k in ks], "s--", label=f"{s} R@k")
        drew = True
    if drew:
        ax.set_xlabel("k")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7)
        ax.set_title("Ranking: precision@k and recall@k", fontsize=9)
        plots.append({"title": "precision and recall at k", "data": _png(fig)})
    else:
        plt.close(fig)

    for s in systems:
        groups = list((metrics[s].get("by_group") or {}).items())[:15]
        if not groups:
            continue
        fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(groups) + 1.0))
        names = [g if len(g) <= 48 else g[:47] + "…" for g, _ in groups]
        ax.barh(range(len(groups)), [r["f1_micro"] for _, r in groups], color="#4c78a8")
        ax.set_yticks(range(len(groups)), names, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_title(f"{s}: micro F1 by {GROUP_NAMES.get(s, 'group')}", fontsize=9)
        plots.append({"title": f"{s} F1 by group", "data": _png(fig)})

    em = metrics.get("em_level")
    if em and em.get("labels"):
        mat = np.asarray(em["matrix"])
        fig, ax = plt.subplots(figsize=(0.45 * len(em["labels"]) + 2, 0.45 * len(em["labels"]) + 1.6))
        ax.imshow(mat, cmap="Blues")
        ax.set_xticks(range(len(em["labels"])), em["labels"], rotation=60, fontsize=7)
        ax.set_yticks(range(len(em["labels"])), em["labels"], fontsize=7)
        for (i, j), v in np.ndenumerate(mat):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title("E/M level confusion", fontsize=9)
        plots.append({"title": "E/M level confusion", "data": _png(fig)})
    return plots


def render_report(
    metrics: Mapping[str, Any],
    errors: Mapping[str, Any],
    meta: Mapping[str, Any],
    *,
    title: str = "",
    show_snippets: bool = True,
) -> str:
    """The report as one HTML string (no external resources)."""
    systems = [s for s in SYSTEMS if s in metrics]
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]), keep_trailing_newline=True
    )
    tmpl = env.get_template("report.html")
    return tmpl.render(
        title=title or str(meta.get("gold_name", "")),
        metrics=metrics,
        errors={s: errors.get(s, {"false_positives": [], "false_negatives": [], "confusions": []}) for s in systems},
        meta={"n_docs": metrics.get("n_docs", 0), **meta},
        systems=systems,
        headline_keys=[k for k in REPORT_KEYS if any(k in metrics[s] for s in systems)],
        plots=make_plots(metrics, systems),
        fmt=fmt,
        describe=_describer(),
        group_names=GROUP_NAMES,
        show_snippets=show_snippets,
    )


def write_report(path: str | Path, *args: Any, **kwargs: Any) -> Path:
    p = Path(path)
    p.write_text(render_report(*args, **kwargs), encoding="utf-8")
    return p
