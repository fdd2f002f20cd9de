"""PSA draws (:class:`~costspine.analysis.psa_result.PSAResult`, alias ``PSADraws``), their summary (CEAC, CEAF, EVPI,
incremental results), EVPPI rows, and the ``draws.npz`` store that ``costspine voi`` reads.
"""

from __future__ import annotations

import difflib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from costspine.analysis.psa_result import PSADraws, PSAResult
from costspine.errors import UsageError

DRAWS_FILE = "draws.npz"

DRAWS_FORMAT = 1

GRID_POINTS = 101

def draws_from_result(result: PSAResult) -> PSAResult:
    """The draws of a run, as the summaries read them: ``result`` itself (one PSA result type)."""
    return result

def parse_evppi_groups(options, draws: PSADraws) -> list[tuple[str, tuple[str, ...]]]:
    """Parameter groups for EVPPI from ``--evppi`` options, as ``(label, parameter names)``.

    Each option is one group: ``a,b`` is the joint EVPPI of ``a`` and ``b`` (label ``a+b``); repeat
    ``--evppi`` for several groups. A Dirichlet row's name means all its components (one is left
    out of the regression: it is determined by the others). ``each`` means every sampled parameter
    that varies, one at a time.
    """
    known = list(draws.parameter_names)
    groups = []
    for option in options or ():
        if option.strip() == "each" and "each" not in known:
            varying = [n for j, n in enumerate(known) if np.ptp(draws.parameters[:, j]) > 0]
            groups.extend((n, (n,)) for n in varying)
            continue
        names, labels = [], []
        for raw in option.split(","):
            name = raw.strip()
            if not name:
                raise UsageError(f"--evppi {option!r}: empty parameter name; give names separated by commas")
            labels.append(name)
            if name in draws.parameter_groups:
                names.extend(draws.parameter_groups[name][:-1])
            elif name in known:
                names.append(name)
            else:
                choices = known + list(draws.parameter_groups)
                hint = difflib.get_close_matches(name, choices, n=1)
                extra = f" — did you mean {hint[0]!r}?" if hint else ""
                raise UsageError(f"--evppi: unknown parameter {name!r}{extra} Sampled parameters: {', '.join(choices)}")
        groups.append(("+".join(dict.fromkeys(labels)), tuple(dict.fromkeys(names))))
    return groups

def build_wtp_grid(wtp) -> np.ndarray:
    """Thresholds for curves: 0 to twice the largest threshold in 101 steps, plus the thresholds."""
    top = 2.0 * max(wtp) if max(wtp) > 0 else 1.0
    return np.unique(np.concatenate([np.linspace(0.0, top, GRID_POINTS), np.asarray(wtp, dtype=float)]))

def _stats(values) -> dict:
    from costspine.analysis.decision import summarize_draws

    s = summarize_draws(values)
    return {"mean": float(s.mean), "sd": float(s.sd), "lower": float(s.lower), "upper": float(s.upper)}

def summarize_psa(draws: PSADraws, *, wtp, population: dict | None = None) -> tuple[dict, dict]:
    """Headline results (``summary.json``) and the tables behind the curves.

    Returns ``(summary, tables)``; ``tables`` maps CSV names to ``(headers, rows)`` or, for
    per-draw tables, ``(headers, keys, matrix)`` (see :func:`write_matrix_csv`).
    """
    from costspine.analysis.cea import compute_cea
    from costspine.analysis.decision import (
        compute_ceac,
        compute_ceaf,
        compute_evpi,
        compute_mc_convergence,
        compute_net_benefit,
        population_evpi,
        summarize_incremental,
    )

    cost, effect = draws.total_cost, draws.effect
    lam = np.asarray(wtp, dtype=float)
    ref = draws.comparator_index
    strategies = draws.strategies
    nmb = compute_net_benefit(cost, effect, lam)  # (draw, strategy, wtp)
    # Curves over a grid that contains the thresholds: the values at the thresholds are read off it.
    grid = build_wtp_grid(lam)
    at = np.searchsorted(grid, lam)
    ceac_grid = compute_ceac(cost, effect, grid)  # (strategy, grid)
    ceaf_grid = compute_ceaf(cost, effect, grid, strategies=strategies)
    evpi_grid = compute_evpi(cost, effect, grid)
    evpi = evpi_grid[at]
    inc = summarize_incremental(cost, effect, comparator=ref, strategies=strategies)
    cea = compute_cea(cost.mean(axis=0), effect.mean(axis=0), strategies=strategies, comparator=draws.comparator, wtp=tuple(lam))

    per_strategy = {}
    for k, s in enumerate(strategies):
        per_strategy[s] = {
            "label": draws.strategy_labels.get(s, s),
            "cost_total": _stats(cost[:, k]),
            "cost_by_category": {c: _stats(draws.costs[:, k, i]) for i, c in enumerate(draws.categories)},
            "outcomes": {o: _stats(draws.outcomes[:, k, i]) for i, o in enumerate(draws.outcome_names)},
            "nmb": {wtp_key(w): _stats(nmb[:, k, j]) for j, w in enumerate(lam)},
            "frontier_status_of_means": cea.status[k],
            "frontier_icer_of_means": float(cea.frontier_icer[k]),
        }
        if "base_case" in draws.extra:
            per_strategy[s]["base_case"] = draws.extra["base_case"][s]
    incremental, convergence = {}, {}
    conv_rows = []
    for k, s in enumerate(strategies):
        if k == ref:
            continue
        inc_nmb = nmb[:, k, :] - nmb[:, ref, :]  # (draw, wtp)
        conv = compute_mc_convergence(inc_nmb)
        incremental[s] = {
            "versus": draws.comparator,
            "cost": {key: float(getattr(inc.incremental_cost, key)[k]) for key in ("mean", "sd", "lower", "upper")},
            "effect": {key: float(getattr(inc.incremental_effect, key)[k]) for key in ("mean", "sd", "lower", "upper")},
            "icer_of_means": float(cea.icer_vs_comparator[k]),
            "prob_cost_saving": float(inc.prob_cost_saving[k]),
            "prob_more_effect": float(inc.prob_more_effect[k]),
            "nmb": {wtp_key(w): _stats(inc_nmb[:, j]) for j, w in enumerate(lam)},
        }
        final = conv.running_mean[-1]
        convergence[s] = {wtp_key(w): {"mean_incremental_nmb": float(final[j]), "mcse": float(conv.mcse[j]),
                                       "mcse_relative": float(conv.mcse[j] / abs(final[j])) if final[j] else None}
                          for j, w in enumerate(lam)}
        for c, n in enumerate(conv.checkpoints):
            for j, w in enumerate(lam):
                conv_rows.append([s, draws.comparator, float(w), int(n), float(conv.checkpoint_mean[c, j]),
                                  float(conv.checkpoint_mcse[c, j])])

    summary = {
        "scenario": draws.scenario, "title": draws.title, "currency": draws.currency, "effect": draws.effect_name,
        "comparator": draws.comparator, "wtp": [float(w) for w in lam], "draws": draws.n_draws, "seed": draws.seed,
        **{k: v for k, v in draws.extra.items() if k != "base_case"},
        "strategies": per_strategy,
        "incremental": incremental,
        "prob_cost_effective": {wtp_key(w): {s: float(ceac_grid[k, g]) for k, s in enumerate(strategies)}
                                for w, g in zip(lam, at)},
        "ceaf": {wtp_key(w): {"optimal": ceaf_grid.optimal_strategy[g],
                              "prob_cost_effective": float(ceaf_grid.prob_cost_effective[g])} for w, g in zip(lam, at)},
        "evpi_per_person": {wtp_key(w): float(evpi[j]) for j, w in enumerate(lam)},
        "convergence": convergence,
    }
    evpi_rows = [[float(w), float(v)] for w, v in zip(grid, evpi_grid)]
    evpi_headers = ["wtp", "evpi_per_person"]
    if population is not None:
        factor = float(population_evpi(1.0, population_per_year=population["per_year"], years=population["years"],
                                       discount_rate=population["discount_rate"]))
        summary["population"] = {**population, "discounted_persons": factor}
        summary["evpi_population"] = {wtp_key(w): float(evpi[j] * factor) for j, w in enumerate(lam)}
        evpi_headers.append("evpi_population")
        evpi_rows = [row + [row[1] * factor] for row in evpi_rows]

    ceac_rows = []
    for j, w in enumerate(grid):
        for k, s in enumerate(strategies):
            ceac_rows.append([float(w), s, float(ceac_grid[k, j]), float(ceaf_grid.expected_nmb[k, j]),
                              int(ceaf_grid.optimal[j] == k)])
    plane_keys, plane_values = [], []
    for k, s in enumerate(strategies):
        if k != ref:
            plane_keys.extend((i, s, draws.comparator) for i in range(draws.n_draws))
            plane_values.append(np.column_stack([cost[:, k] - cost[:, ref], effect[:, k] - effect[:, ref]]))
    tables = {
        "ceac.csv": (["wtp", "strategy", "prob_cost_effective", "expected_nmb", "on_frontier"], ceac_rows),
        "ceaf.csv": (["wtp", "optimal", "prob_cost_effective"],
                     [[float(w), ceaf_grid.optimal_strategy[j], float(ceaf_grid.prob_cost_effective[j])]
                      for j, w in enumerate(grid)]),
        "evpi.csv": (evpi_headers, evpi_rows),
        "ce_plane.csv": (["draw", "strategy", "comparator", "incremental_cost", "incremental_effect"], plane_keys,
                         np.concatenate(plane_values) if plane_values else np.zeros((0, 2))),
        "convergence.csv": (["strategy", "comparator", "wtp", "draws", "mean_incremental_nmb", "mcse"], conv_rows),
    }
    return summary, tables

def compute_evppi_rows(draws: PSADraws, groups, *, wtp, method: str = "gam") -> list[dict]:
    """EVPPI (with its standard error) of each ``(label, names)`` group at each threshold.

    The standard error's random numbers come from the PSA seed (a stream named by the group and
    threshold), so the same draws give the same numbers in ``psa --evppi`` and ``voi``.
    """
    from costspine._rng import stream
    from costspine.analysis.decision import compute_evpi, compute_net_benefit
    from costspine.analysis.voi import compute_evppi

    lam = np.asarray(wtp, dtype=float)
    nb = compute_net_benefit(draws.total_cost, draws.effect, lam)
    evpi = compute_evpi(draws.total_cost, draws.effect, lam)
    rows = []
    for label, group in groups:
        theta = {name: draws.parameters[:, draws.parameter_names.index(name)] for name in group}
        for j, w in enumerate(lam):
            rng = stream(draws.seed, f"evppi {','.join(group)} at {w!r}")  # costspine._rng's layout
            r = compute_evppi(nb[:, :, j], theta, method=method, rng=rng)
            rows.append({"group": label, "parameters": list(group), "wtp": float(w), "evppi_per_person": r.evppi, "se": r.se,
                         "evpi_per_person": float(evpi[j]), "method": method, "draws": r.n_draws})
    return rows

def _encode_draws(draws: PSADraws) -> bytes:
    meta = {"format": DRAWS_FORMAT, "scenario": draws.scenario, "title": draws.title, "currency": draws.currency,
            "effect": draws.effect_name, "strategies": list(draws.strategies), "strategy_labels": draws.strategy_labels,
            "comparator": draws.comparator, "wtp": list(draws.wtp), "categories": list(draws.categories),
            "outcomes": list(draws.outcome_names), "parameter_names": list(draws.parameter_names),
            "parameter_groups": draws.parameter_groups, "seed": draws.seed, "discount_outcomes": draws.discount_outcomes,
            "inputs": [list(i) for i in draws.inputs], "extra": draws.extra}
    buffer = io.BytesIO()
    np.savez(buffer, parameters=draws.parameters, costs=draws.costs, outcomes=draws.outcomes,
             meta=np.array(json.dumps(meta, default=float)))
    return buffer.getvalue()

def load_psa_draws(results_dir) -> PSADraws:
    """Read the ``draws.npz`` that ``costspine psa`` wrote into ``results_dir``."""
    path = Path(results_dir) / DRAWS_FILE
    if not path.is_file():
        raise UsageError(f"{path}: not found; RESULTS_DIR must be a folder written by `costspine psa` "
                         f"(e.g. reports/<scenario>/psa)")
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {k: data[k] for k in ("parameters", "costs", "outcomes")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise UsageError(f"{path}: cannot read the PSA draws ({type(exc).__name__}: truncated or corrupt?); "
                         "rerun `costspine psa`") from None
    if meta.get("format") != DRAWS_FORMAT:
        raise UsageError(f"{path}: written by an incompatible costspine (format {meta.get('format')!r}); rerun `costspine psa`")
    return PSADraws(
        scenario=meta["scenario"], title=meta["title"], currency=meta["currency"], effect_name=meta["effect"],
        strategies=tuple(meta["strategies"]), strategy_labels=meta["strategy_labels"], comparator=meta["comparator"],
        wtp=tuple(meta["wtp"]), categories=tuple(meta["categories"]), outcome_names=tuple(meta["outcomes"]),
        parameter_names=tuple(meta["parameter_names"]), parameter_groups=meta["parameter_groups"],
        parameters=arrays["parameters"], costs=arrays["costs"], outcomes=arrays["outcomes"], seed=int(meta["seed"]),
        discount_outcomes=float(meta["discount_outcomes"]), inputs=[tuple(i) for i in meta["inputs"]], extra=meta["extra"],
    )


def wtp_key(value: float) -> str:
    """JSON key for a threshold: ``50000`` rather than ``50000.0``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# --------------------------------------------------------------------------------------------
# The PSA command's analysis: draws -> summary (+ EVPPI)


def population_spec(per_year, years, discount, default_discount: float) -> dict | None:
    """Population EVPI options as one record (None when neither ``per_year`` nor ``years`` is given).

    Raises
    ------
    UsageError
        Only one of ``per_year`` (``--population``) and ``years`` (``--horizon-years``) given.
    """
    if per_year is None and years is None:
        return None
    if per_year is None or years is None:
        raise UsageError("population EVPI needs both --population (people affected per year) and --horizon-years")
    rate = default_discount if discount is None else discount
    return {"per_year": float(per_year), "years": int(years), "discount_rate": float(rate),
            "discount_rate_source": "--discount" if discount is not None else "scenario settings.discount_outcomes"}


@dataclass(frozen=True)
class PSASummary:
    """A PSA's draws, headline results (what ``summary.json`` holds), curve tables and EVPPI.

    Attributes
    ----------
    draws : PSAResult
    wtp : tuple of float
        The thresholds summarised.
    data : dict
        :func:`summarize_psa` summary (plus ``evppi`` when EVPPI was asked for).
    tables : dict
        CSV name -> ``(headers, rows)`` or ``(headers, keys, matrix)`` (see :func:`summarize_psa`).
    evppi : list of dict
        :func:`compute_evppi_rows` records (empty without ``--evppi``).
    """

    draws: PSAResult
    wtp: tuple
    data: dict
    tables: dict
    evppi: list = field(default_factory=list)

    @property
    def strategies(self) -> tuple:
        return self.draws.strategies

    def summary(self) -> str:
        """The PSA table, increments and CEAF, Monte Carlo convergence, then EVPI (and EVPPI)."""
        return "\n\n".join([self.draws.summary(self.wtp), format_convergence_text(self.data),
                             format_voi_text(self.data, self.evppi)])

    def to_frame(self):
        """Long table keyed by ``strategy, wtp``: P(cost-effective), mean NMB, CEAF optimum and EVPI."""
        import pandas as pd

        rows = []
        for w in self.data["wtp"]:
            key = wtp_key(w)
            for s in self.strategies:
                rows.append({"strategy": s, "wtp": float(w),
                             "prob_cost_effective": self.data["prob_cost_effective"][key][s],
                             "mean_nmb": self.data["strategies"][s]["nmb"][key]["mean"],
                             "optimal": self.data["ceaf"][key]["optimal"] == s,
                             "evpi_per_person": self.data["evpi_per_person"][key]})
        return pd.DataFrame(rows, columns=["strategy", "wtp", "prob_cost_effective", "mean_nmb", "optimal",
                                           "evpi_per_person"])

    def to_dict(self) -> dict:
        """What ``summary.json`` holds, JSON-ready (NaN -> None)."""
        from costspine._files import _jsonable

        return _jsonable(self.data)


def analyze_psa(scenario, n_draws: int, *, seed: int, wtp=None, evppi=(), evppi_method: str = "gam",
                population=None, horizon_years=None, discount=None, **run_options) -> PSASummary:
    """Run a PSA of ``scenario`` and summarise it: the one library call of ``costspine psa``.

    Parameters
    ----------
    scenario : Scenario
    n_draws : int
    seed : int
    wtp : sequence of float, optional
        Thresholds (default: the scenario's ``[analysis] wtp``).
    evppi : sequence of str
        ``--evppi`` groups (see :func:`parse_evppi_groups`); none by default.
    evppi_method : {"gam", "gp"}
    population, horizon_years, discount : optional
        Population EVPI: people affected per year, years, discount rate (see :func:`population_spec`).
    **run_options
        Passed to :func:`costspine.analysis.psa.run_psa` (``method``, ``individuals``, ``workers``,
        ``scheduler``, ``store_dir``, ``resume``, ``on_chunk``, ``progress``).

    Raises
    ------
    UsageError
        Half a population option, an unknown ``--evppi`` parameter, or a bad run option.
    """
    from costspine.analysis.psa import run_psa

    wtp = tuple(scenario.analysis.wtp) if wtp is None else tuple(wtp)
    pop = population_spec(population, horizon_years, discount, scenario.settings.discount_outcomes)
    result = run_psa(scenario, n_draws, seed=seed, **run_options)
    groups = parse_evppi_groups(evppi, result)
    data, tables = summarize_psa(result, wtp=wtp, population=pop)
    rows = compute_evppi_rows(result, groups, wtp=wtp, method=evppi_method) if groups else []
    if rows:
        data["evppi"] = rows
    return PSASummary(draws=result, wtp=wtp, data=data, tables=tables, evppi=rows)


# --------------------------------------------------------------------------------------------
# Text


def format_voi_text(summary: dict, evppi_rows) -> str:
    """EVPI table (and population EVPI) and the EVPPI table of a PSA or VOI summary."""
    from costspine._text import format_table

    currency = summary["currency"]
    headers = ["wtp", f"EVPI per person ({currency})"]
    rows = [[w, summary["evpi_per_person"][wtp_key(w)]] for w in summary["wtp"]]
    if "evpi_population" in summary:
        headers.append(f"population EVPI ({currency})")
        rows = [row + [summary["evpi_population"][wtp_key(row[0])]] for row in rows]
    parts = [format_table(headers, rows, title="Expected value of perfect information")]
    if evppi_rows:
        parts.append(format_table(["parameters", "wtp", "EVPPI per person", "SE", "EVPI"],
                                  [[r["group"], r["wtp"], r["evppi_per_person"], r["se"], r["evpi_per_person"]]
                                   for r in evppi_rows],
                                  title=f"Expected value of partial perfect information ({evppi_rows[0]['method']})"))
        above = [r for r in evppi_rows if r["evppi_per_person"] > r["evpi_per_person"]]
        if above:
            parts[-1] += (f"\nNote: {len(above)} EVPPI estimate(s) exceed the EVPI; regression estimates carry noise (see SE), "
                          "and EVPPI cannot truly exceed EVPI — read them as ≈ EVPI.")
    return "\n\n".join(parts)


def format_convergence_text(summary: dict) -> str:
    """Mean incremental NMB ± MCSE of each strategy and threshold, from a PSA summary."""
    lines = ["Monte Carlo convergence of the mean incremental NMB (MCSE = sd/√draws):"]
    for s, by_wtp in summary["convergence"].items():
        for w, c in by_wtp.items():
            rel = f" ({c['mcse_relative']:.1%} of the mean)" if c["mcse_relative"] is not None else ""
            lines.append(f"  {s} vs {summary['comparator']} at {float(w):,.0f}: "
                         f"{c['mean_incremental_nmb']:,.2f} ± {c['mcse']:,.2f}{rel}")
    return "\n".join(lines)
