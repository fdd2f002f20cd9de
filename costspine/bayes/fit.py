"""Bayesian calibration with PyMC: the only module that imports pymc, pytensor and arviz.

The scenario's own expressions are evaluated with a PyTensor backend, so the cohort model that
PyMC differentiates through is the same model the numpy engine runs (a test checks both agree).
The calibrated parameters get the scenario's distributions as priors; every other parameter stays
at its base-case value (:mod:`costspine.bayes.conditioning` says which of them the posterior
depends on). The likelihood targets' model predictions (mean indicator at a time, its change from
the start, undiscounted cost over the horizon, a cost ratio or an indicator difference) enter one
multivariate normal with the covariance of :mod:`costspine.bayes.likelihood` (ratios on the log
scale). NUTS samples it; R-hat, bulk ESS and divergences are checked, never ignored.

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


def _is_symbolic(value) -> bool:
    import pytensor

    return isinstance(value, pytensor.graph.basic.Variable)


def _backend(pt):
    """PyTensor where an argument is symbolic, numpy otherwise.

    Everything that does not depend on a calibrated parameter is computed once, in numpy, while the
    graph is built; only the calibrated parameters' paths become PyTensor operations. That keeps
    the graph small: compiling it and each gradient are several times faster than with every
    constant as a graph node.
    """
    import ast

    from costspine.expressions import NUMPY, Backend

    def hybrid(symbolic_fn, numeric_fn):
        def apply(*args):
            if any(_is_symbolic(a) for a in args):
                return symbolic_fn(*args)
            return numeric_fn(*args)

        return apply

    def variadic(fn):
        def apply(*args):
            out = args[0]
            for arg in args[1:]:
                out = fn(out, arg)
            return out

        return apply

    symbolic = {
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
    }
    compare = {ast.Lt: pt.lt, ast.LtE: pt.le, ast.Gt: pt.gt, ast.GtE: pt.ge, ast.Eq: pt.eq, ast.NotEq: pt.neq}
    return Backend(
        functions={name: hybrid(fn, NUMPY.functions[name]) for name, fn in symbolic.items()},
        compare={op: hybrid(fn, NUMPY.compare[op]) for op, fn in compare.items()},
        logical_and=hybrid(pt.and_, NUMPY.logical_and),
        logical_or=hybrid(pt.or_, NUMPY.logical_or),
        logical_not=hybrid(pt.invert, NUMPY.logical_not),
        where=hybrid(pt.switch, NUMPY.where),
        power=hybrid(pt.pow, NUMPY.power),
        mod=hybrid(pt.mod, NUMPY.mod),
    )


def _numeric_tables(scenario: Scenario, pt):
    """Tables accept only numeric (non-random) arguments inside the graph."""
    import pytensor

    def wrap(table):
        def call(x):
            if not isinstance(x, pytensor.graph.basic.Variable):
                return table(np.asarray(x, dtype=float))
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
        if _is_symbolic(value):
            return pt.broadcast_to(value, (n_cycles,))
        return np.broadcast_to(np.asarray(value, dtype=float), (n_cycles,))

    space = dict(build_time_names(n_cycles, settings.cycle_years))
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
        """Per strategy: the rewards' values summed by state, each a (T, state) tensor (None: all zero)."""
        totals = {}
        for reward in rewards:
            for k, i, value in iter_reward_cells(scenario, reward, part, spaces, evaluate):
                totals[k, i] = totals.get((k, i), np.zeros(n_cycles)) + per_cycle(value)
        out = []
        for k in range(len(scenario.strategies)):
            columns = [totals.get((k, i), np.zeros(n_cycles)) for i in range(n_states)]
            if not any(_is_symbolic(c) or np.any(c) for c in columns):
                out.append(None)
            elif any(_is_symbolic(c) for c in columns):
                out.append(pt.stack([pt.as_tensor_variable(c) for c in columns], axis=1))
            else:
                out.append(np.stack(columns, axis=1))
        return out

    state_costs, entry_costs = state_matrices(scenario.costs, "values"), state_matrices(scenario.costs, "on_entry")
    indicator_values = [state_matrices([indicator], "values") for indicator in scenario.indicators]
    masks = build_indicator_mask(scenario).astype(float)
    weights = cycle_weights(n_cycles, settings.cycle_correction, custom=getattr(settings, "weights", None))
    idx = point_index(n_cycles, n_cycles)  # indicators: the point's cycle
    cost_idx = point_index(n_cycles, n_cycles, correction=settings.cycle_correction)  # state costs: as counted
    trace, cost_total, indicators = {}, {}, {}
    for k, strategy in enumerate(scenario.strategies):
        rows, stays = [], []
        for i in range(n_states):
            row = [cells.get((k, i, j), np.zeros(n_cycles)) for j in range(n_states)]
            if (k, i) in rest:
                j_rest = rest[k, i]
                row[j_rest] = 1.0 - sum(c for j, c in enumerate(row) if j != j_rest)
            rows.append(pt.stack([pt.as_tensor_variable(c) for c in row], axis=1))  # (T, to)
            stays.append(pt.as_tensor_variable(row[i]))  # (T,): staying in i (no diagonal op: its gradient is slow to build)
        matrix = pt.stack(rows, axis=1)  # (T, from, to)
        points = [init]
        for t in range(n_cycles):
            points.append(pt.dot(points[-1], matrix[t]))
        trace[strategy] = points
        cost = 0.0
        if state_costs[k] is not None:
            cost = sum(
                float(weights[p]) * pt.dot(points[p], state_costs[k][cost_idx[p]]) for p in range(n_cycles + 1) if weights[p] != 0
            )
        if entry_costs[k] is not None:
            stay = pt.stack(stays, axis=1)  # (T, state)
            for t in range(1, n_cycles + 1):
                entries = points[t] - points[t - 1] * stay[t - 1]
                cost = cost + pt.dot(entries, entry_costs[k][t - 1])
        cost_total[strategy] = pt.as_tensor_variable(cost)
        for indicator, values_matrix, mask in zip(scenario.indicators, indicator_values, masks):
            values_k = values_matrix[k] if values_matrix[k] is not None else np.zeros((n_cycles, n_states))
            indicators[strategy, indicator.name] = [
                pt.dot(points[p], values_k[idx[p]]) / pt.dot(points[p], mask) for p in range(n_cycles + 1)
            ]
    return SymbolicModel(trace, cost_total, indicators)


def predict_target(model: SymbolicModel, target, scenario: Scenario):
    """Model prediction of one target (natural scale)."""
    point = int(round((target.years or 0.0) / scenario.settings.cycle_years))
    point = min(max(point, 0), scenario.settings.n_cycles)
    if target.kind == "indicator_mean":
        return model.indicators[target.strategy, target.indicator][point]
    if target.kind == "indicator_change":
        return model.indicators[target.strategy, target.indicator][point] - model.indicators[target.strategy, target.indicator][0]
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
        if evidence.likelihood is not None and t.likelihood:
            for s in filter(None, (t.strategy, t.comparator)):
                if s not in evidence.likelihood.arms:
                    c.add("likelihood.arms", f"no number of patients for {s!r} (target {t.name}); add {s} = <n>")
    if not any(t.likelihood for t in evidence.targets):
        c.add("targets", "no target enters the likelihood (every one has likelihood = false)")
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
    """The PyMC model: priors from the scenario, one multivariate normal likelihood for the targets.

    The likelihood targets, on their likelihood scale (log for ratios), are one observation of a
    multivariate normal centred on the model's predictions, with the covariance of
    :func:`costspine.bayes.likelihood.target_covariance` (shared control arm, repeated measures,
    design effect; independent targets when the evidence file has no ``[likelihood]``). Every
    target's prediction is computed afterwards with the numpy engine (no ``Deterministic`` in the
    graph: each would be compiled once more to record it).
    """
    from costspine.bayes.likelihood import likelihood_targets, observed_vector, target_covariance

    pm, pt, _ = _import()
    check_evidence_against_scenario(evidence, scenario)
    base = {k: float(v[0]) for k, v in base_case_parameters(scenario).items()}
    targets = likelihood_targets(evidence)
    with pm.Model() as model:
        values = dict(base)
        for name in evidence.calibrate:
            values[name] = _prior(pm, scenario.parameter(name))
        symbolic = build_symbolic_model(scenario, values, pt)
        predictions = {t.name: predict_target(symbolic, t, scenario) for t in targets}
        mu = pt.stack([pt.log(predictions[t.name]) if t.kind == "cost_ratio" else predictions[t.name] for t in targets])
        # log N(y | mu, S) as a Potential: the density of an observed MvNormal, without PyMC
        # rewriting the whole cohort graph into its log-probability representation (twice) first
        cov = target_covariance(targets, evidence.likelihood)
        chol = np.linalg.cholesky(cov)
        precision = np.linalg.inv(cov)
        constant = -np.log(np.diag(chol)).sum() - 0.5 * len(targets) * np.log(2 * np.pi)
        resid = observed_vector(targets) - mu
        pm.Potential("targets", constant - 0.5 * pt.dot(resid, pt.dot(precision, resid)))
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
    sampler: str = "pymc"

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
                "sampler": self.sampler,
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
    """Sample the calibration model with NUTS and check its diagnostics.

    PyMC's NUTS, with the model compiled by PyTensor's numba backend (one compiled function
    instead of hundreds of small C operations: about ten times faster per gradient), falling back
    to PyTensor's default backend if numba cannot compile it. The chains run one after another in
    this process (the 2 cores are better spent than on compiling the model again in a worker).
    nutpie 0.16.8 was measured on the bundled fit and took three times the CPU of this path, so it
    is not used.

    The returned InferenceData holds the groups ``posterior``, ``sample_stats``, ``prior``,
    ``posterior_predictive``, ``observed_data`` and ``log_likelihood`` (the last three computed
    with the numpy engine, see :func:`add_predictive_groups`).
    """
    pm, _, az = _import()
    model = build_calibration_model(scenario, evidence)
    common = dict(
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=seed,
        progressbar=progressbar,
        quiet=not progressbar,  # PyMC's quiet also hides its progress bar
        compute_convergence_checks=False,
    )
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sampler = "pymc"
        try:
            idata = pm.sample(cores=1, target_accept=target_accept, compile_kwargs={"mode": "NUMBA"}, **common)
        except pm.exceptions.SamplingError:
            raise
        except Exception:  # noqa: BLE001 - numba cannot compile this graph: PyTensor's C backend is slower, never wrong
            sampler = "pymc (C backend)"
            idata = pm.sample(cores=min(chains, 2), target_accept=target_accept, **common)
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
    predictions = predict_posterior_targets(scenario, evidence, flat)
    add_predictive_groups(idata, evidence, scenario, predictions, seed=seed, n_chains=posterior.sizes["chain"])
    return FitResult(
        tuple(names),
        flat,
        predictions,
        rhat,
        ess,
        divergences,
        tuple(failures),
        format_posterior_summary(summary),
        idata,
        sampler,
    )


def predict_posterior_targets(scenario: Scenario, evidence: Evidence, draws: dict) -> dict:
    """Every target's prediction per posterior draw, with the numpy cohort engine (other parameters at base)."""
    from costspine.bayes.predictive import predict_targets
    from costspine.simulate.cohort import run_cohort

    params = dict(base_case_parameters(scenario))
    params.update({name: np.asarray(values, dtype=float) for name, values in draws.items()})
    return {
        name: np.asarray(v, dtype=float) for name, v in predict_targets(run_cohort(scenario, params), evidence.targets).items()
    }


def add_predictive_groups(idata, evidence: Evidence, scenario: Scenario, predictions: dict, *, seed: int, n_chains: int) -> None:
    """Add ``prior``, ``posterior_predictive``, ``observed_data`` and ``log_likelihood`` to ``idata``.

    Computed without compiling anything more: the prior from the scenario's own distributions
    (:func:`costspine.params.draw_parameters`, as many draws as the posterior), replicated targets
    as the model's prediction per posterior draw (``predictions``, from
    :func:`predict_posterior_targets`) plus a multivariate normal error with the likelihood's
    covariance, and each draw's log likelihood of the observed targets.
    """
    from costspine._rng import stream
    from costspine.bayes.likelihood import likelihood_targets, observed_vector, target_covariance
    from costspine.params import draw_parameters

    _, _, az = _import()
    targets = likelihood_targets(evidence)
    n_draws = idata.posterior.sizes["draw"]
    specs = [scenario.parameter(n) for n in evidence.calibrate]
    prior = draw_parameters(specs, n_chains * n_draws, stream(seed, "calibration", "prior"))
    mu = np.column_stack(
        [np.log(predictions[t.name]) if t.kind == "cost_ratio" else predictions[t.name] for t in targets]
    )  # (draw, target)
    cov = target_covariance(targets, evidence.likelihood)
    chol = np.linalg.cholesky(cov)
    noise = stream(seed, "calibration", "posterior_predictive").standard_normal(mu.shape) @ chol.T
    observed = observed_vector(targets)
    resid = np.linalg.solve(chol, (observed - mu).T).T
    loglik = -0.5 * (resid**2).sum(axis=1) - np.log(np.diag(chol)).sum() - 0.5 * len(targets) * np.log(2 * np.pi)

    def shaped(values):
        return np.asarray(values).reshape(n_chains, n_draws, *np.shape(values)[1:])

    coords = {"target": [t.name for t in targets]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extra = az.from_dict(
            prior={n: shaped(prior[n]) for n in evidence.calibrate},
            posterior_predictive={"targets": shaped(mu + noise)},
            observed_data={"targets": observed},
            log_likelihood={"targets": shaped(loglik)},
            coords=coords,
            dims={"targets": ["target"]},
        )
        idata.extend(extra)


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
