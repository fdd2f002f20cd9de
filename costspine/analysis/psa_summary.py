"""PSA draws as one labelled record (:class:`PSADraws`), their summary (CEAC, CEAF, EVPI,
incremental results), EVPPI rows, and the ``draws.npz`` store that ``costspine voi`` reads.
"""

from __future__ import annotations

import difflib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from costspine.errors import UsageError

DRAWS_FILE = "draws.npz"

DRAWS_FORMAT = 1

GRID_POINTS = 101

@dataclass(frozen=True)
class PSADraws:
    """What the summaries need from a PSA: labelled draws (from a run or from ``draws.npz``)."""

    scenario: str
    title: str
    currency: str
    effect_name: str
    strategies: tuple
    strategy_labels: dict
    comparator: str
    wtp: tuple
    categories: tuple
    outcome_names: tuple
    parameter_names: tuple
    parameter_groups: dict  # Dirichlet row name -> its component names
    parameters: np.ndarray  # (draw, parameter)
    costs: np.ndarray  # (draw, strategy, category)
    outcomes: np.ndarray  # (draw, strategy, outcome)
    seed: int
    discount_outcomes: float
    inputs: list = field(default_factory=list)  # [(path, sha256)] of the scenario files
    extra: dict = field(default_factory=dict)  # provenance copied into summary.json

    @property
    def n_draws(self) -> int:
        return self.costs.shape[0]

    @property
    def total_cost(self) -> np.ndarray:
        return self.costs.sum(axis=-1)

    @property
    def effect(self) -> np.ndarray:
        return self.outcomes[:, :, self.outcome_names.index(self.effect_name)]

    @property
    def comparator_index(self) -> int:
        return self.strategies.index(self.comparator)

def draws_from_result(result) -> PSADraws:
    """:class:`PSADraws` from a :class:`~costspine.analysis.psa.PSAResult`."""
    s = result.scenario
    return PSADraws(
        scenario=s.name, title=s.title, currency=s.settings.currency, effect_name=s.analysis.effect,
        strategies=s.strategies, strategy_labels=dict(s.strategy_labels), comparator=s.analysis.comparator,
        wtp=tuple(float(w) for w in s.analysis.wtp), categories=s.categories, outcome_names=result.outcome_names,
        parameter_names=result.parameter_names,
        parameter_groups={spec.name: list(spec.components) for spec in s.parameters if spec.family == "dirichlet"},
        parameters=result.parameters, costs=result.costs, outcomes=result.outcomes, seed=result.seed,
        discount_outcomes=s.settings.discount_outcomes, inputs=[tuple(f) for f in s.files],
        extra={"method": result.method, **({"individuals": result.individuals} if result.method == "microsim" else {}),
               "chunk_size": result.chunk_size, "chunks": [list(c) for c in result.chunks],
               "posterior": result.posterior, "resumed_chunks": result.resumed_chunks,
               "base_case": {st: {"cost_total": float(result.base_costs[k].sum()),
                                  "effect": float(result.base_outcomes[k, result.outcome_names.index(s.analysis.effect)])}
                             for k, st in enumerate(s.strategies)}},
    )

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
    from costspine.analysis.decision import compute_evpi, compute_net_benefit
    from costspine.analysis.psa import named_stream
    from costspine.analysis.voi import compute_evppi

    lam = np.asarray(wtp, dtype=float)
    nb = compute_net_benefit(draws.total_cost, draws.effect, lam)
    evpi = compute_evpi(draws.total_cost, draws.effect, lam)
    rows = []
    seed_seq = np.random.SeedSequence(draws.seed)
    for label, group in groups:
        theta = {name: draws.parameters[:, draws.parameter_names.index(name)] for name in group}
        for j, w in enumerate(lam):
            rng = named_stream(seed_seq, f"evppi {','.join(group)} at {w!r}")
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
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {k: data[k] for k in ("parameters", "costs", "outcomes")}
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"{path}: cannot read the PSA draws ({exc}); rerun `costspine psa`") from None
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
