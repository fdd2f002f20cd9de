"""Bayesian calibration with PyMC: the only module that imports pymc, pytensor and arviz.

The scenario's own expressions are evaluated with a PyTensor backend, so the cohort model that
PyMC differentiates through is the same model the numpy engine runs (a test checks both agree).
The calibrated parameters get the scenario's distributions as priors; every other parameter stays
at its base-case value. Each evidence target's model prediction (mean indicator at a time,
undiscounted cost over the horizon, a cost ratio or an indicator difference) enters a normal
likelihood with the target's standard error (ratios on the log scale). NUTS samples it; R-hat,
bulk ESS and divergences are checked, never ignored.

Everything returned to the rest of the package is plain numpy.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from costspine.engines.outcomes import cycle_weights, point_index
from costspine.errors import AnalysisError
from costspine.model.evaluate import (
    build_indicator_mask,
    build_strategy_spaces,
    build_time_names,
    evaluate_expression,
    find_rest_cells,
    iter_initial_cells,
    iter_reward_cells,
    iter_transition_cells,
)
from costspine.model.inputs import base_case_parameters
from costspine.problems import Collector
from costspine.scenario.evidence import Evidence
from costspine.scenario.types import Scenario

RHAT_MAX = 1.01
ESS_BULK_MIN = 400


def _import():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
        import pymc as pm
        import pytensor.tensor as pt
    return pm, pt, az


def _backend(pt):
    from costspine.expressions import Backend

    def variadic(fn):
        def apply(*args):
            out = args[0]
            for arg in args[1:]:
                out = fn(out, arg)
            return out

        return apply

    import ast

    return Backend(
        functions={
            "exp": pt.exp,
            "log": pt.log,
            "sqrt": pt.sqrt,
            "abs": pt.abs,
            "floor": pt.floor,
            "ceil": pt.ceil,
            "min": variadic(pt.minimum),
            "max": variadic(pt.maximum),
            "clip": pt.clip,
            "where": pt.switch,
            "rate_to_prob": lambda r, t: 1.0 - pt.exp(-r * t),
            "prob_to_rate": lambda p, t: -pt.log1p(-p) / t,
            "prob_to_prob": lambda p, t0, t1: 1.0 - (1.0 - p) ** (t1 / t0),
        },
        compare={ast.Lt: pt.lt, ast.LtE: pt.le, ast.Gt: pt.gt, ast.GtE: pt.ge, ast.Eq: pt.eq, ast.NotEq: pt.neq},
        logical_and=pt.and_,
        logical_or=pt.or_,
        logical_not=pt.invert,
        where=pt.switch,
        power=pt.pow,
        mod=pt.mod,
    )


def _numeric_tables(scenario: Scenario, pt):
    """Tables accept only numeric (non-random) arguments inside the graph."""
    import pytensor

    def wrap(table):
        def call(x):
            if isinstance(x, pytensor.graph.basic.Variable):
                try:
                    x = x.eval()
                except Exception as exc:  # a random argument cannot be looked up symbolically
                    raise AnalysisError(
                        f"table {table.name!r} is called with a calibrated quantity; "
                        f"look-up tables may only depend on time and fixed parameters ({exc})"
                    ) from None
            return pt.as_tensor_variable(table(np.asarray(x, dtype=float)))

        return call

    return {name: wrap(t) for name, t in scenario.tables.items()}


@dataclass(frozen=True)
class SymbolicModel:
    """Symbolic per-strategy outputs of the cohort model (PyTensor variables)."""

    trace: dict  # strategy -> list of T+1 state vectors
    cost_total: dict  # strategy -> undiscounted, cycle-corrected total cost incl. entry costs
    indicators: dict  # (strategy, indicator) -> list of T+1 scalars (occupancy-weighted mean)


def build_symbolic_model(scenario: Scenario, values: dict, pt) -> SymbolicModel:
    """Evaluate the scenario with PyTensor; ``values`` maps parameter names to floats or tensors.

    Names, strategy values, transition cells (with ``rest``), initial shares and reward cells come
    from the one evaluation path of :mod:`costspine.model.evaluate`, with the PyTensor backend.
    """
    backend = _backend(pt)
    tables = _numeric_tables(scenario, pt)
    settings = scenario.settings
    n_cycles, n_states = settings.n_cycles, len(scenario.states)

    def evaluate(expr, local, where):
        return evaluate_expression(scenario, expr, local, where, backend=backend, tables=tables)

    def per_cycle(value):
        return pt.broadcast_to(pt.as_tensor_variable(value), (n_cycles,))

    space = {
        name: pt.as_tensor_variable(value) if np.ndim(value) else value
        for name, value in build_time_names(n_cycles, settings.cycle_years).items()
    }
    space.update(values)
    for spec in scenario.parameters:
        if spec.family == "derived":
            space[spec.name] = evaluate(spec.expression, space, f"parameters.{spec.name}")
    spaces = build_strategy_spaces(scenario, space, evaluate)
    cells = {(k, i, j): per_cycle(value) for k, i, j, value in iter_transition_cells(scenario, spaces, evaluate)}
    rest = {(k, i): j for k, i, j in find_rest_cells(scenario)}
    init = dict(iter_initial_cells(scenario, space, evaluate))
    init = pt.stack([pt.as_tensor_variable(init[i]) if i in init else pt.as_tensor_variable(0.0) for i in range(n_states)])

    def state_matrices(rewards, part):
        """Per strategy: the rewards' values summed by state, each a (T, state) tensor."""
        totals = {}
        for reward in rewards:
            for k, i, value in iter_reward_cells(scenario, reward, part, spaces, evaluate):
                totals[k, i] = totals.get((k, i), pt.zeros((n_cycles,))) + per_cycle(value)
        return [
            pt.stack([totals.get((k, i), pt.zeros((n_cycles,))) for i in range(n_states)], axis=1)
            for k in range(len(scenario.strategies))
        ]

    state_costs, entry_costs = state_matrices(scenario.costs, "values"), state_matrices(scenario.costs, "on_entry")
    indicator_values = [state_matrices([indicator], "values") for indicator in scenario.indicators]
    masks = build_indicator_mask(scenario).astype(float)
    weights = cycle_weights(n_cycles, settings.cycle_correction, custom=getattr(settings, "weights", None))
    idx = point_index(n_cycles, n_cycles)  # indicators: the point's cycle
    cost_idx = point_index(n_cycles, n_cycles, correction=settings.cycle_correction)  # state costs: as counted
    trace, cost_total, indicators = {}, {}, {}
    for k, strategy in enumerate(scenario.strategies):
        rows = []
        for i in range(n_states):
            row = [cells.get((k, i, j), pt.zeros((n_cycles,))) for j in range(n_states)]
            if (k, i) in rest:
                j_rest = rest[k, i]
                row[j_rest] = 1.0 - sum(c for j, c in enumerate(row) if j != j_rest)
            rows.append(pt.stack(row, axis=1))  # (T, to)
        matrix = pt.stack(rows, axis=1)  # (T, from, to)
        points = [init]
        for t in range(n_cycles):
            points.append(pt.dot(points[-1], matrix[t]))
        trace[strategy] = points
        cost = sum(
            float(weights[p]) * pt.dot(points[p], state_costs[k][cost_idx[p]]) for p in range(n_cycles + 1) if weights[p] != 0
        )
        for t in range(1, n_cycles + 1):
            stay = pt.diagonal(matrix[t - 1])
            entries = points[t] - points[t - 1] * stay
            cost = cost + pt.dot(entries, entry_costs[k][t - 1])
        cost_total[strategy] = cost
        for indicator, values_matrix, mask in zip(scenario.indicators, indicator_values, masks):
            indicators[strategy, indicator.name] = [
                pt.dot(points[p], values_matrix[k][idx[p]]) / pt.dot(points[p], mask) for p in range(n_cycles + 1)
            ]
    return SymbolicModel(trace, cost_total, indicators)


def predict_target(model: SymbolicModel, target, scenario: Scenario):
    """Model prediction of one target (natural scale)."""
    point = int(round((target.years or 0.0) / scenario.settings.cycle_years))
    point = min(max(point, 0), scenario.settings.n_cycles)
    if target.kind == "indicator_mean":
        return model.indicators[target.strategy, target.indicator][point]
    if target.kind == "indicator_difference":
        return (
            model.indicators[target.strategy, target.indicator][point]
            - model.indicators[target.comparator, target.indicator][point]
        )
    if target.kind == "cost_mean":
        return model.cost_total[target.strategy]
    return model.cost_total[target.strategy] / model.cost_total[target.comparator]


def check_evidence_against_scenario(evidence: Evidence, scenario: Scenario) -> None:
    """Every calibrated parameter and every target must exist in the scenario."""
    c = Collector(default_file=str(evidence.path))
    names = {s.name: s for s in scenario.parameters}
    for name in evidence.calibrate:
        spec = names.get(name)
        if spec is None:
            c.add("evidence.calibrate", f"{name!r} is not a parameter of {scenario.path}")
        elif spec.family in ("fixed", "derived", "dirichlet", "posterior"):
            c.add(
                "evidence.calibrate",
                f"{name!r} has no prior distribution in {scenario.path} (family {spec.family}); give it one there",
            )
    indicators = {i.name for i in scenario.indicators}
    for t in evidence.targets:
        for s in filter(None, (t.strategy, t.comparator)):
            if s not in scenario.strategies:
                c.add(f"targets.{t.name}", f"unknown strategy {s!r}; the scenario has {', '.join(scenario.strategies)}")
        if t.indicator and t.indicator not in indicators:
            c.add(
                f"targets.{t.name}",
                f"unknown indicator {t.indicator!r}; the scenario has {', '.join(sorted(indicators)) or 'none'}",
            )
    c.raise_if_any()


def _prior(pm, spec):
    a = spec.args
    family = spec.family
    if family == "normal":
        return pm.Normal(spec.name, mu=a["mean"], sigma=a["sd"])
    if family == "lognormal":
        return pm.LogNormal(spec.name, mu=a["meanlog"], sigma=a["sdlog"])
    if family == "gamma":
        return pm.Gamma(spec.name, alpha=a["shape"], beta=1.0 / a["scale"])
    if family == "beta":
        return pm.Beta(spec.name, alpha=a["alpha"], beta=a["beta"])
    if family == "uniform":
        return pm.Uniform(spec.name, lower=a["min"], upper=a["max"])
    if family == "triangular":
        return pm.Triangular(spec.name, lower=a["min"], c=a["mode"], upper=a["max"])
    raise AnalysisError(f"parameter {spec.name!r}: no prior for family {family!r}")


def build_calibration_model(scenario: Scenario, evidence: Evidence):
    """The PyMC model: priors from the scenario, likelihood from the evidence targets."""
    pm, pt, _ = _import()
    check_evidence_against_scenario(evidence, scenario)
    base = {k: float(v[0]) for k, v in base_case_parameters(scenario).items()}
    with pm.Model() as model:
        values = dict(base)
        for name in evidence.calibrate:
            values[name] = _prior(pm, scenario.parameter(name))
        symbolic = build_symbolic_model(scenario, values, pt)
        for target in evidence.targets:
            prediction = pm.Deterministic(f"pred_{target.name}", predict_target(symbolic, target, scenario))
            if not target.likelihood:
                continue
            if target.kind == "cost_ratio":
                pm.Normal(f"obs_{target.name}", mu=pt.log(prediction), sigma=target.se, observed=np.log(target.mean))
            else:
                pm.Normal(f"obs_{target.name}", mu=prediction, sigma=target.se, observed=target.mean)
    return model


@dataclass(frozen=True)
class FitResult:
    """A calibration: posterior draws as arrays plus diagnostics (and the InferenceData)."""

    parameters: tuple
    draws: dict  # name -> ndarray (chain * draw,)
    predictions: dict  # target name -> ndarray (chain * draw,)
    rhat: dict
    ess_bulk: dict
    divergences: int
    failures: tuple  # human-readable diagnostic failures
    summary_text: str
    idata: object

    @property
    def converged(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        """ArviZ's posterior summary, then the diagnostics verdict."""
        verdict = "diagnostics pass" if self.converged else "diagnostics failed: " + "; ".join(self.failures)
        return f"{self.summary_text}\n\n{verdict} (divergences: {self.divergences})"

    def to_dict(self) -> dict:
        """Calibrated parameters, R-hat, bulk ESS, divergences and failures (JSON-ready; no draws)."""
        from costspine._files import _jsonable

        return _jsonable(
            {
                "calibrated": list(self.parameters),
                "rhat": self.rhat,
                "ess_bulk": self.ess_bulk,
                "divergences": self.divergences,
                "converged": self.converged,
                "failures": list(self.failures),
            }
        )

    def to_frame(self):
        """Posterior draws keyed by ``draw`` (chains stacked), one column per calibrated parameter."""
        import pandas as pd

        n = len(next(iter(self.draws.values()))) if self.draws else 0
        return pd.DataFrame({"draw": np.arange(n), **{name: np.asarray(self.draws[name]) for name in self.parameters}})


def fit_evidence(
    evidence: Evidence,
    scenario: Scenario,
    *,
    draws: int,
    tune: int,
    chains: int,
    target_accept: float,
    seed: int,
    progressbar: bool = False,
) -> FitResult:
    """Sample the calibration model with NUTS and check its diagnostics."""
    pm, _, az = _import()
    model = build_calibration_model(scenario, evidence)
    cores = min(chains, 2)
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=seed,
            target_accept=target_accept,
            progressbar=progressbar,
            quiet=True,
            compute_convergence_checks=False,
        )
    names = list(evidence.calibrate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = az.summary(idata, var_names=names, round_to=4)
    rhat = {n: float(summary.loc[n, "r_hat"]) for n in names}
    ess = {n: float(summary.loc[n, "ess_bulk"]) for n in names}
    divergences = int(idata.sample_stats["diverging"].values.sum())
    failures = []
    for n in names:
        if not rhat[n] <= RHAT_MAX:
            failures.append(f"{n}: R-hat {rhat[n]:.3f} > {RHAT_MAX}")
        if not ess[n] >= ESS_BULK_MIN:
            failures.append(f"{n}: bulk ESS {ess[n]:.0f} < {ESS_BULK_MIN}")
    if divergences:
        failures.append(f"{divergences} divergent transitions")
    posterior = idata.posterior
    flat = {n: posterior[n].values.reshape(-1) for n in names}
    predictions = {t.name: posterior[f"pred_{t.name}"].values.reshape(-1) for t in evidence.targets}
    return FitResult(
        tuple(names), flat, predictions, rhat, ess, divergences, tuple(failures), format_posterior_summary(summary), idata
    )


ARVIZ_COLUMNS = {  # ArviZ summary column -> header a reader knows
    "mean": "mean",
    "sd": "sd",
    "hdi_3%": "3% HDI",
    "hdi_97%": "97% HDI",
    "mcse_mean": "MCSE of mean",
    "mcse_sd": "MCSE of sd",
    "ess_bulk": "bulk ESS",
    "ess_tail": "tail ESS",
    "r_hat": "R-hat",
}


def format_posterior_summary(summary) -> str:
    """ArviZ's posterior summary (a DataFrame, one row per parameter) as a 100-column text table."""
    from costspine._text import format_significant, format_table

    columns = list(summary.columns)
    rows = [[name, *(float(summary.loc[name, c]) for c in columns)] for name in summary.index]
    formats = {i + 1: (",.0f" if c.startswith("ess") else format_significant) for i, c in enumerate(columns)}
    return format_table(["parameter", *(ARVIZ_COLUMNS.get(c, c) for c in columns)], rows, formats=formats)


def write_inference_data(fit: FitResult, path) -> None:
    """Save the InferenceData as NetCDF (atomically)."""
    import os
    import tempfile
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        fit.idata.to_netcdf(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
