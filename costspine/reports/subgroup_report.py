"""Subgroup results as the terminal table, the workbook sheet "Subgroups" and ``summary.json``'s ``subgroups``.

One row per subgroup (level of a categorical or binary population attribute) and strategy, plus
the population (share 1: the share-weighted sum of the subgroups, equal to the run's totals):
share, cost, effect, each indicator at the last report time, and the increments against the
comparator with the ICER in the run's words (:func:`costspine.reports.wording.icer_cell`). For a
PSA the numbers are means over draws, with 95% intervals of the increments and the probability
that the strategy's net monetary benefit beats the comparator's at the first threshold.
"""

from __future__ import annotations

import math

import numpy as np

from costspine._text import format_table, wrap_text
from costspine.reports.wording import (
    EFFECT_DECIMALS,
    INDICATOR_DECIMALS,
    Increment,
    describe_time,
    effect_label_of,
    icer_cell,
    in_sentence,
    indicator_labels,
    singular,
)
from costspine.reports.workbook import Column, Sheet, Table

POPULATION = "population"


def _mcse(sub) -> list[dict | None]:
    """Per subgroup then the population: MCSE arrays (draw, strategy) of a microsimulation's means and
    increments (None for the cohort model, and for the population row: the run's own MCSE table has it)."""
    if sub.cost_se is None:
        return [None] * (len(sub.levels) + 1)
    rows = [
        {
            "cost_total": sub.cost_se[:, j],
            "effect": sub.effect_se[:, j],
            "incremental_cost": sub.incremental_cost_se[:, j],
            "incremental_effect": sub.incremental_effect_se[:, j],
        }
        for j in range(len(sub.levels))
    ]
    return rows + [None]


def _pooled_se(se: np.ndarray) -> float:
    """One MCSE for a column of draws: the draw's own for one draw, else the root mean square over draws."""
    se = se[np.isfinite(se)]  # NaN: a level with fewer than 2 individuals in that draw
    return float(np.sqrt(np.mean(np.square(se)))) if se.size else math.nan


def _levels(sub) -> list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray, dict]]:
    """(group id, label, share, cost, effect, indicators at the last time) per subgroup then the population, per draw."""
    last = {name: v[..., -1] for name, v in sub.indicators.items()}  # (D, L, S)
    rows = []
    for j, level in enumerate(sub.levels):
        rows.append(
            (
                level,
                f"{sub.label}: {level}",
                sub.share[:, j],
                sub.cost[:, j],
                sub.effect[:, j],
                {n: v[:, j] for n, v in last.items()},
            )
        )
    w = sub.share[:, :, None]
    total = dict.fromkeys(sub.indicators)  # an indicator's population mean weights by occupancy: the run's own table has it
    rows.append(
        (
            POPULATION,
            "Population (share-weighted)",
            sub.share.sum(axis=1),
            np.where(w > 0, w * sub.cost, 0.0).sum(axis=1),  # a level nobody was sampled into (share 0) adds nothing
            np.where(w > 0, w * sub.effect, 0.0).sum(axis=1),
            total,
        )
    )
    return rows


def _stats(x: np.ndarray) -> dict:
    return {"mean": float(np.mean(x)), "low": float(np.quantile(x, 0.025)), "high": float(np.quantile(x, 0.975))}


def subgroup_records(sub, *, wtp: float | None = None) -> list[dict]:
    """Plain records of one attribute's subgroups (means over draws; intervals when there are several draws)."""
    scenario = sub.scenario
    strategies = sub.strategies
    c = sub.comparator
    n_draws = sub.cost.shape[0]
    records = []
    individuals = None if sub.individuals is None else list(sub.individuals.mean(axis=0)) + [sub.individuals.sum(axis=1).mean()]
    for j, ((group, label, share, cost, effect, indicators), se) in enumerate(zip(_levels(sub), _mcse(sub))):
        entry = {"group": group, "label": label, "share": float(np.mean(share))}
        if individuals is not None:  # microsimulation: the share is individuals / n (a mean over draws in a PSA)
            entry["individuals"] = float(individuals[j]) if n_draws > 1 else int(individuals[j])
        entry["strategies"] = {}
        for k, s in enumerate(strategies):
            d_cost = cost[:, k] - cost[:, c]
            d_effect = effect[:, k] - effect[:, c]
            mc, me = float(np.mean(d_cost)), float(np.mean(d_effect))
            item = {
                "label": scenario.strategy_labels.get(s, s),
                "cost_total": float(np.mean(cost[:, k])),
                scenario.analysis.effect: float(np.mean(effect[:, k])),
                "incremental_cost": mc,
                "incremental_effect": me,
                "icer": (mc / me) if k != c and me != 0 else None,
            }
            if se is not None:
                item["cost_total_mcse"] = _pooled_se(se["cost_total"][:, k])
                item[f"{scenario.analysis.effect}_mcse"] = _pooled_se(se["effect"][:, k])
                if k != c:
                    item["incremental_cost_mcse"] = _pooled_se(se["incremental_cost"][:, k])
                    item["incremental_effect_mcse"] = _pooled_se(se["incremental_effect"][:, k])
            for name, v in indicators.items():
                if v is not None:
                    item[f"{name}_at_{sub.times[-1]:g}_years"] = float(np.nanmean(v[:, k]))
            if n_draws > 1 and k != c:
                item["incremental_cost_95"] = [_stats(d_cost)["low"], _stats(d_cost)["high"]]
                item["incremental_effect_95"] = [_stats(d_effect)["low"], _stats(d_effect)["high"]]
                if wtp is not None:
                    item["prob_cost_effective_vs_comparator"] = float(np.mean(wtp * d_effect - d_cost > 0))
            entry["strategies"][s] = item
        records.append(entry)
    return records


def summarize_subgroups(subgroups, *, wtp: float | None = None) -> dict:
    """``summary.json``'s ``subgroups``: per attribute, its subgroups' shares and per-strategy results."""
    if not subgroups:
        return {}
    first = subgroups[0]
    return {
        "method": describe_method(first),
        "draws": int(first.cost.shape[0]),
        "indicator_time_years": first.times[-1],
        "wtp": wtp,
        "attributes": {sub.attribute: {"label": sub.label, "groups": subgroup_records(sub, wtp=wtp)} for sub in subgroups},
    }


def describe_method(sub) -> str:
    """How the subgroups were computed, in a sentence (``summary.json``, sheet notes)."""
    if sub.method == "microsim":
        draws = sub.cost.shape[0]
        mcse = (
            "*_mcse: Monte Carlo standard errors of the subgroup means and increments"
            if draws == 1
            else "*_mcse: root mean square over draws of each draw's Monte Carlo standard error"
        )
        return (
            f"microsimulation: the {int(sub.individuals[0].sum()):,} simulated individuals per strategy"
            + (" and draw" if draws > 1 else "")
            + " grouped by attribute level (common random numbers); shares are the realised shares of the sample; "
            + mcse
        )
    return "cohort model, one cohort per population group, gathered by attribute level"


def _icer_words(item: dict, strategy: str, comparator: str, unit: str):
    entry = Increment(
        item["label"],
        item["incremental_cost"],
        item["incremental_effect"],
        math.nan if item["icer"] is None else item["icer"],
    )
    return icer_cell(entry, strategy, comparator, unit=unit)


def _table_rows(sub, *, wtp: float | None, text: bool) -> tuple[list[str], list[list]]:
    scenario = sub.scenario
    currency = scenario.settings.currency
    effect = scenario.analysis.effect
    effect_label = effect_label_of(scenario, effect)
    unit = in_sentence(singular(effect_label))
    ind = indicator_labels(scenario)
    when = describe_time(sub.times[-1])
    names = list(sub.indicators)
    psa = sub.cost.shape[0] > 1
    mcse = sub.cost_se is not None and not text  # the terminal has no room: summary.json and the sheet have them
    headers = ["Subgroup", "Share", "Strategy", f"Cost ({currency})", effect_label]
    if mcse:
        headers = ["Subgroup", "Share", "Strategy", f"Cost ({currency})", f"MCSE of cost ({currency})"]
        headers += [effect_label, f"MCSE of {in_sentence(effect_label)}"]
    if text:  # the terminal: the level and its share in one cell
        headers = ["Subgroup (share)", "Strategy", f"Cost ({currency})", effect_label]
    headers += [f"{ind.get(n, n)} at {when}" for n in names]
    headers += [f"Incremental cost ({currency})", f"Incremental {in_sentence(effect_label)}"]
    if mcse:
        headers += [f"MCSE of incremental cost ({currency})", f"MCSE of incremental {in_sentence(effect_label)}"]
    if psa and wtp is not None:
        headers += [f"P(cost-effective vs {scenario.strategy_labels.get(scenario.analysis.comparator)})"]
    headers += [f"ICER ({currency} per {unit})"]
    rows = []
    comparator = scenario.analysis.comparator
    for entry in subgroup_records(sub, wtp=wtp):
        for k, (s, item) in enumerate(entry["strategies"].items()):
            if text:
                name = entry["group"] if entry["group"] != POPULATION else "population"
                row = [f"{name} ({entry['share']:.1%})" if k == 0 else "", item["label"], item["cost_total"], item[effect]]
            elif mcse:
                row = [entry["label"], entry["share"], item["label"], item["cost_total"], item.get("cost_total_mcse")]
                row += [item[effect], item.get(f"{effect}_mcse")]
            else:
                row = [entry["label"], entry["share"], item["label"], item["cost_total"], item[effect]]
            row += [item.get(f"{n}_at_{sub.times[-1]:g}_years") for n in names]
            is_ref = s == comparator
            row += [None if is_ref else item["incremental_cost"], None if is_ref else item["incremental_effect"]]
            if mcse:
                row += [item.get("incremental_cost_mcse"), item.get("incremental_effect_mcse")]
            if psa and wtp is not None:
                row += [None if is_ref else item.get("prob_cost_effective_vs_comparator")]
            empty = math.isnan(item["cost_total"])  # a microsimulation level nobody was sampled into
            row += [None if empty else _icer_words(item, s, comparator, unit)]
            rows.append(row)
    return headers, rows


def format_subgroup_text(subgroups, *, wtp: float | None = None) -> str:
    """The terminal table(s): one per attribute, within 100 columns."""
    parts = []
    for sub in subgroups:
        headers, rows = _table_rows(sub, wtp=wtp, text=True)
        psa = sub.cost.shape[0] > 1
        what = "means over PSA draws" if psa else "base case"
        parts.append(format_table(headers, rows, title=f"Results by subgroup: {sub.label} ({what}, per patient)"))
    if parts and subgroups[0].method == "microsim":
        parts.append(
            wrap_text(
                "Subgroups are the simulated individuals at each level of the population's categorical attributes; "
                "shares are the realised shares of the sample. The population rows are their share-weighted sums and "
                "equal the totals above. Monte Carlo standard errors of each subgroup's means and increments are in "
                "summary.json and the workbook (small subgroups are noisy)."
            )
        )
    elif parts:
        parts.append(
            wrap_text(
                "Subgroups are the levels of the population's categorical attributes (other attributes averaged "
                "within them by share); the population rows are their share-weighted sums and equal the totals above."
            )
        )
    return "\n\n".join(parts)


def build_subgroup_sheet(subgroups, *, wtp: float | None = None) -> Sheet | None:
    """The workbook sheet "Subgroups" (None without subgroups)."""
    if not subgroups:
        return None
    tables = []
    for i, sub in enumerate(subgroups):
        headers, rows = _table_rows(sub, wtp=wtp, text=False)
        kinds = []
        for h in headers:
            if h.startswith("MCSE of cost") or h.startswith("MCSE of incremental cost"):
                kinds.append(Column(h, "currency", decimals=2))
            elif h.startswith("Cost") or h.startswith("Incremental cost") or h.startswith("ICER"):
                kinds.append(Column(h, "currency"))
            elif h == "Share":
                kinds.append(Column(h, "percent"))
            elif h.startswith("P("):
                kinds.append(Column(h, "probability"))
            elif h in ("Subgroup", "Strategy"):
                kinds.append(Column(h))
            elif h.startswith("MCSE of"):
                kinds.append(Column(h, "number", decimals=EFFECT_DECIMALS + 1))
            elif "ODI" in h or " at " in h:
                kinds.append(Column(h, "number", decimals=INDICATOR_DECIMALS))
            else:
                kinds.append(Column(h, "number", decimals=EFFECT_DECIMALS))
        tables.append(Table(f"subgroups_{i + 1}", tuple(kinds), [tuple(r) for r in rows], title=f"Results by {sub.label}"))
    psa = subgroups[0].cost.shape[0] > 1
    notes = (
        "One row per subgroup and strategy, per patient: the levels of the population's categorical attributes, other "
        "attributes averaged within each level by their shares (cohort model, one cohort per group).",
        "The population rows are the share-weighted sums of the subgroups and equal the run's totals.",
    )
    if subgroups[0].method == "microsim":
        first = subgroups[0]
        sample = f"{int(first.individuals[0].sum()):,} individuals per strategy" + (" and draw" if psa else "")
        notes = (
            "One row per subgroup and strategy, per patient: the simulated individuals at each level of the population's "
            f"categorical attributes (microsimulation, {sample}, common random numbers). Shares are the realised shares "
            "of the sample.",
            "The population rows are the share-weighted sums of the subgroups and equal the run's totals.",
            "MCSE: Monte Carlo standard error of the subgroup's mean cost and effect and of its increments (common random "
            "numbers)" + (" (root mean square over draws of each draw's own)" if psa else "") + "; small subgroups are noisy.",
        )
    if psa:
        notes += (
            "Means over the PSA draws; P(cost-effective) compares net monetary benefit with the comparator's "
            "at the first willingness-to-pay threshold, draw by draw.",
        )
    return Sheet("Subgroups", tuple(tables), notes=notes)
