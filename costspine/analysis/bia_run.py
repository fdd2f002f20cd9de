"""Budget impact of a scenario: its ``[budget_impact]`` spec, pathway costs from the cohort model,
the policy scenario and (optionally) parameter draws → a :class:`BiaRun`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine.analysis.bia import (
    BudgetImpact,
    _add_rows,
    build_joiners,
    build_population,
    combine_budgets,
    compute_budget,
    drop_first_years,
    episodes_from_rate,
    summarize_budget,
)
from costspine.analysis.bia_health import (
    PEOPLE,
    Health,
    combine_health,
    run_with_health,
    split_health,
    summarize_health,
)
from costspine.errors import AnalysisError, Problem, ScenarioError, UsageError
from costspine.model.inputs import evaluate_parameters
from costspine.scenario.bia_spec import BiaSpec
from costspine.scenario.budget_impact import build_mix
from costspine.scenario.types import Scenario

MAX_RUN_IN_YEARS = 10
"""Most years of episodes before year 1 followed into the budget (an open plan's ongoing care)."""


@dataclass(frozen=True)
class Segment:
    """One patient group of the plan and its part of the budget.

    Attributes
    ----------
    name : str
        ``"acute"`` (new episodes, the BIA file's pathway model) or ``"prevalent"``.
    label : str
    budget : BudgetImpact
    health : Health
        Health by year under each world (QALYs, people by state, ODI person-years).
    entering : ndarray, shape (draw, year)
        Patients entering during each year (new episodes; or onsets and joiners' prevalent patients).
    initial : ndarray, shape (draw,), or None
        Prevalent patients present at the start of year 1.
    inputs : dict or None
        What :func:`~costspine.analysis.bia.compute_budget` was given for this group (per-cycle
        costs, mixes, entrants, run-in years, leave rate, policy), for the live budget calculator
        (:mod:`costspine.analysis.bia_calculator`).
    """

    name: str
    label: str
    budget: BudgetImpact
    health: Health
    entering: np.ndarray
    initial: np.ndarray | None = None
    inputs: dict | None = None


@dataclass(frozen=True)
class BiaRun:
    """One scenario's budget impact and everything needed to report it (computes nothing itself).

    Attributes
    ----------
    scenario : Scenario
    spec : BiaSpec
    budget : BudgetImpact
    members_by_year : ndarray, shape (year,)
    rate_per_1000 : ndarray, shape (draw,)
        Plan-level episodes per 1,000 members per year used in each draw.
    rows : list of dict
        :func:`costspine.analysis.bia.summarize_budget` records.
    n_draws : int
        0 for the deterministic base case.
    seed : int or None
        The run's seed when parameters were drawn.
    policy_applied : bool
        False when ``--years`` ends before the policy starts.
    posterior : list of dict
        Provenance of posterior draws, if any parameter came from a calibration.
    segments : tuple of Segment
        The patient groups whose budgets add up to ``budget``: new acute episodes, then (with
        ``[budget_impact.prevalent]``) the plan's prevalent patients.
    leave_per_year : ndarray, shape (draw,)
        Fraction of members leaving the plan a year (0 when the file gives none).
    prevalent_policy_applied : bool
        Whether the prevalent patients' policy starts within the horizon.
    """

    scenario: Scenario
    spec: BiaSpec
    budget: BudgetImpact
    members_by_year: np.ndarray
    rate_per_1000: np.ndarray
    rows: list
    n_draws: int
    seed: int | None
    policy_applied: bool
    posterior: list
    segments: tuple = ()
    leave_per_year: np.ndarray | None = None
    prevalent_policy_applied: bool = False

    @property
    def central(self) -> str:
        """What the central figure is: ``"base case"`` (deterministic, no draws) or ``"mean of draws"``."""
        return "mean of draws" if self.n_draws else "base case"

    @property
    def n_years(self) -> int:
        return self.budget.n_years

    def __repr__(self) -> str:
        from costspine._text import format_repr

        return format_repr(
            type(self).__name__, scenario=self.scenario.name, years=self.n_years, draws=self.n_draws, seed=self.seed
        )

    def _repr_html_(self) -> str:
        """Every summary record of the whole plan (item ``all``): mean and interval, as an HTML table."""
        from costspine._text import format_html_table

        rows = [[r["measure"], r["year"], r["mean"], r["low"], r["high"]] for r in self.rows if r["item"] == "all"]
        return format_html_table(
            ["measure", "year", "mean", "low", "high"],
            rows,
            caption=f"Budget impact: {self.scenario.title} ({self.scenario.settings.currency})",
        )

    def value(self, measure: str, item: str = "all", year="total") -> dict:
        """The summary record ``{mean, low, high}`` of one measure, item and year (or ``"total"``)."""
        for row in self.rows:
            if row["measure"] == measure and row["item"] == item and row["year"] == year:
                return row
        raise KeyError((measure, item, year))

    def summary(self) -> str:
        """The printed report: budget and PMPM by year, difference by category, services, mix."""
        from costspine.analysis.bia_summary import format_bia

        return format_bia(self)

    def to_dict(self) -> dict:
        """What ``summary.json`` holds for this scenario (JSON-ready)."""
        from costspine._files import _jsonable
        from costspine.analysis.bia_summary import summarize_bia

        return _jsonable(summarize_bia(self))

    def to_frame(self):
        """Long table keyed by ``measure, item, year`` (item: ``all``, a category or a service): mean, low, high."""
        import pandas as pd

        columns = ["measure", "item", "year", "mean", "low", "high"]
        return pd.DataFrame([{k: row[k] for k in columns} for row in self.rows], columns=columns)


def compute_bia(
    scenario: Scenario,
    spec: BiaSpec,
    *,
    members: float | None = None,
    years: int | None = None,
    draws: int = 0,
    seed: int | None = None,
    progress=None,
) -> BiaRun:
    """Run the pathway model (and the policy) and compute the budget impact.

    Parameters
    ----------
    scenario : Scenario
    spec : BiaSpec
        From :func:`read_bia_spec`.
    members : float, optional
        Replaces ``budget_impact.members``.
    years : int, optional
        The first ``years`` years of the file's horizon (``<= spec.years``).
    draws : int
        0: deterministic base case; ``>= 2``: parameter draws and 95 % intervals.
    seed : int, optional
        Required with ``draws > 0``.
    progress : callable, optional
        Receives progress messages (e.g. when a posterior must be fitted first).

    Returns
    -------
    BiaRun

    Raises
    ------
    UsageError
        ``years`` beyond the file's horizon, ``draws == 1``, ``members <= 0``.
    AnalysisError
        A parameter draw gives a negative or non-finite episode rate, or invalid probabilities.
    """
    n_years = spec.years if years is None else int(years)
    if not 1 <= n_years <= spec.years:
        raise UsageError(
            f"--years {n_years}: {scenario.path} defines the budget over budget_impact.years = "
            f"{spec.years} (its uptake curves and by-year lists span that horizon); "
            f"use --years between 1 and {spec.years}, or lengthen the file's horizon"
        )
    if draws == 1 or draws < 0:
        raise UsageError(
            f"--draws {draws}: use 0 for the base case or at least 2 draws for 95 % intervals (200 or more for stable ones)"
        )
    if members is not None and not (np.isfinite(members) and members > 0):
        raise UsageError(f"--members must be a positive number of members; got {members}")
    if draws and seed is None:
        raise UsageError("--draws needs a --seed")
    if draws:  # all draws are evaluated at once: refuse before drawing if the cohort arrays cannot fit
        from costspine.model.inputs import check_cohort_memory

        for model in (scenario, spec.policy):
            if model is not None:
                check_cohort_memory(model, draws)
    params, policy_params, posterior = _draw_parameters(scenario, spec.policy, draws, seed, progress)
    members_by_year = build_population(
        spec.members if members is None else float(members), growth_per_year=spec.member_growth_per_year, years=n_years
    )
    values = evaluate_parameters(scenario, params)
    rate, rate_plan = _episode_rate(scenario, spec, params, base_case=not draws)
    episodes = episodes_from_rate(
        members_by_year, rate, age_shares=None if spec.age_shares is None else list(spec.age_shares.values())
    )
    leave = (
        np.zeros(1)
        if spec.leave_rate is None
        else _fraction_value(scenario, spec.leave_rate, values, "budget_impact.leave_plan_per_year.value", base_case=not draws)
    )
    policy_applied = spec.policy is not None and spec.policy_start_year <= n_years
    # An open plan (prevalent patients given) is already running: episodes that began in the years
    # before year 1 are still in care. They enter at year 1's rate under the current mix (run-in years).
    run_in = 0
    if spec.prevalent is not None:
        run_in = min(int(np.ceil(scenario.settings.n_cycles * scenario.settings.cycle_years - 1e-9)), MAX_RUN_IN_YEARS)
    acute = _segment_budget(
        scenario,
        params,
        spec.policy if policy_applied else None,
        policy_params,
        policy_start_year=spec.policy_start_year,
        mix_tables=(spec.mix_current, spec.mix_new),
        mix_where=f"{scenario.path}: budget_impact",
        file_years=spec.years,
        n_years=n_years,
        categories=spec.categories,
        episodes=episodes,
        initial=None,
        leave=leave,
        discount_rate=spec.discount_rate,
        run_in=run_in,
    )
    segments = [
        Segment("acute", "new acute/subacute episodes", acute[0], acute[1], episodes.reshape(-1, n_years), inputs=acute[2])
    ]
    prevalent = spec.prevalent
    prevalent_applied = False
    if prevalent is not None:
        p_params, p_policy_params, p_posterior = _draw_parameters(prevalent.scenario, prevalent.policy, draws, seed, progress)
        posterior += [p for p in p_posterior if p not in posterior]
        per_1000 = _fraction_value(
            scenario, prevalent.per_1000, values, "budget_impact.prevalent.per_1000_members.value", base_case=not draws, high=1000
        )
        onset = _fraction_value(
            scenario,
            prevalent.onset,
            values,
            "budget_impact.prevalent.onset_per_1000_members.value",
            base_case=not draws,
            high=1000,
        )
        joiners = build_joiners(members_by_year, growth_per_year=spec.member_growth_per_year, leave_per_year=leave)
        initial = members_by_year[0] * per_1000 / 1000.0
        incident = (members_by_year * onset[:, None] + joiners * per_1000[:, None]) / 1000.0
        prevalent_applied = prevalent.policy is not None and prevalent.policy_start_year <= n_years
        chronic = _segment_budget(
            prevalent.scenario,
            p_params,
            prevalent.policy if prevalent_applied else None,
            p_policy_params,
            policy_start_year=prevalent.policy_start_year,
            mix_tables=(prevalent.mix_current, prevalent.mix_new),
            mix_where=f"{scenario.path}: budget_impact.prevalent",
            file_years=spec.years,
            n_years=n_years,
            categories=spec.categories,
            episodes=incident,
            initial=initial,
            leave=leave,
            discount_rate=spec.discount_rate,
        )
        segments.append(
            Segment(
                "prevalent",
                prevalent.description or "prevalent patients",
                chronic[0],
                chronic[1],
                incident,
                initial=initial,
                inputs=chronic[2],
            )
        )
    budget = combine_budgets([seg.budget for seg in segments], names=[seg.name for seg in segments])
    health = combine_health([seg.health for seg in segments])
    rows = summarize_budget(budget, members_by_year=members_by_year)
    rows += summarize_health(health)
    rows += summarize_segments(segments)
    return BiaRun(
        scenario=scenario,
        spec=spec,
        budget=budget,
        members_by_year=members_by_year,
        rate_per_1000=rate_plan,
        rows=rows,
        n_draws=int(draws),
        seed=int(seed) if draws else None,
        policy_applied=policy_applied,
        posterior=posterior,
        segments=tuple(segments),
        leave_per_year=leave,
        prevalent_policy_applied=prevalent_applied,
    )


def summarize_segments(segments) -> list[dict]:
    """Records by patient group (item = group name): ``entering`` (patients entering each year; the
    prevalent patients at the start count in year 1) and ``in_care_current``/``in_care_new`` (average
    number of patients in care, i.e. alive and not recovered, each year)."""
    rows: list[dict] = []
    for seg in segments:
        entering = seg.budget.episodes
        _add_rows(rows, "entering", seg.name, np.concatenate([entering, entering.sum(axis=1, keepdims=True)], axis=1))
        people = [i for i, n in enumerate(seg.health.names) if n.startswith(PEOPLE) and n != PEOPLE + "recovered"]
        for world in ("current", "new"):
            amounts = getattr(seg.health, world)[..., people].sum(axis=-1)
            _add_rows(rows, f"in_care_{world}", seg.name, np.concatenate([amounts, amounts.sum(axis=1, keepdims=True)], axis=1))
    return rows


def _segment_budget(
    model,
    params,
    policy,
    policy_params,
    *,
    policy_start_year,
    mix_tables,
    mix_where,
    file_years,
    n_years,
    categories,
    episodes,
    initial,
    leave,
    discount_rate,
    run_in=0,
):
    """One patient group's budget, health by year and the inputs of :func:`compute_budget`.

    ``run_in`` years before year 1 receive year 1's entrants under the current mix in both worlds
    (an ongoing plan); they are computed and then dropped, so only their care in years 1.. counts.
    """
    strategies = list(model.strategies)
    mixes = [
        build_mix(table, strategies=strategies, years=file_years, where=f"{mix_where}.{key}")[:n_years]
        for table, key in zip(mix_tables, ("mix_current", "mix_new"))
    ]
    inputs = {
        "strategies": tuple(strategies),
        "mix_current": mixes[0],
        "mix_new": mixes[1],
        "episodes": np.asarray(episodes, dtype=float).reshape(-1, n_years),
        "initial": initial,
        "run_in": run_in,
        "leave": leave,
        "policy_start_year": policy_start_year if policy is not None else None,
        "cycle_years": model.settings.cycle_years,
        "discount_rate": discount_rate,
    }
    if run_in:
        episodes = np.asarray(episodes, dtype=float).reshape(-1, n_years)
        episodes = np.concatenate([np.repeat(episodes[:, :1], run_in, axis=1), episodes], axis=1)
        mixes = [np.concatenate([np.repeat(mixes[0][:1], run_in, axis=0), m], axis=0) for m in mixes]
        if policy_start_year is not None:
            policy_start_year += run_in
    result, health = run_with_health(model, params)
    category_index = [model.categories.index(c) for c in categories]
    cost = result.cost_per_cycle[..., category_index]
    services = result.services_per_cycle if model.services else np.zeros(cost.shape[:3] + (0,))
    service_names = [s.name for s in model.services]
    policy_cost = policy_services = None
    if policy is not None:
        policy_result, policy_health = run_with_health(policy, policy_params)
        order = [policy.strategies.index(s) for s in strategies]
        policy_cost = policy_result.cost_per_cycle[:, order][..., [policy.categories.index(c) for c in categories]]
        policy_services = policy_result.services_per_cycle[:, order] if model.services else np.zeros(policy_cost.shape[:3] + (0,))
        policy_services = np.concatenate([policy_services, policy_health.values[:, order]], axis=-1)
    inputs["cost"], inputs["policy_cost"] = cost, policy_cost
    both = np.concatenate([services, health.values], axis=-1)
    budget = compute_budget(
        cost,
        cycle_years=model.settings.cycle_years,
        episodes_per_year=episodes,
        mix_current=mixes[0],
        mix_new=mixes[1],
        policy_cost_per_cycle=policy_cost,
        policy_start_year=policy_start_year if policy is not None else None,
        discount_rate=discount_rate,
        services_per_cycle=both,
        policy_services_per_cycle=policy_services,
        strategies=strategies,
        categories=categories,
        services=service_names + list(health.names),
        initial_patients=initial,
        leave_per_year=leave,
    )
    if run_in:
        budget = drop_first_years(budget, run_in, discount_rate=discount_rate)
    return (*split_health(budget, n_services=len(service_names), names=health.names), inputs)


def _fraction_value(scenario, expr, values, where, *, base_case, high=1.0):
    """A per-draw rate from an expression over the BIA file's parameters: finite, >= 0 and < ``high``."""
    value = np.atleast_1d(np.asarray(expr.evaluate(values, tables=scenario.tables), dtype=float))
    if value.ndim != 1:
        raise ScenarioError(Problem(f"{scenario.path}: {where}", f"{expr.text!r} must be one number per draw"))
    bad = np.flatnonzero(~(np.isfinite(value) & (value >= 0) & (value < high)))
    if bad.size:
        message = (
            f"{expr.text!r} gives {value[bad[0]]:g}"
            + ("" if base_case else f" in draw {bad[0]} ({bad.size} bad draws)")
            + f"; expected a number in [0, {high:g}) — check the distribution of the parameters it uses"
        )
        if base_case:
            raise ScenarioError(Problem(f"{scenario.path}: {where}", message))
        raise AnalysisError(f"{scenario.path}: {where}: {message}")
    return value


def _draw_parameters(scenario, policy, draws, seed, progress):
    """Base case (``draws == 0``) or the run's parameter draws for the scenario and its policy.

    The same layout as ``psa`` (:func:`costspine.analysis.parameter_draws.draw_run_parameters`):
    draw ``d`` of a parameter is draw ``d`` of ``psa --seed`` with the same seed, and parameters the
    two files share get the same draws.
    """
    if not draws:
        return None, None, []
    from costspine.analysis.parameter_draws import draw_run_parameters

    out, provenance = [], []
    for s in (scenario, policy):
        if s is None:
            out.append(None)
            continue
        pools = []
        if any(spec.family == "posterior" for spec in s.parameters):
            from costspine.bayes.posterior import load_posterior_pools

            pools, prov = load_posterior_pools(s, progress=progress)
            provenance += [p for p in prov if p not in provenance]
        out.append(draw_run_parameters(s, seed=int(seed), start=0, stop=int(draws), posterior_pools=pools))
    return out[0], out[1], provenance


def _episode_rate(scenario, spec, params, *, base_case):
    """Episodes per 1,000 members: shape (draw,) or, by age band, (draw, band); and the plan rate (draw,)."""
    values = evaluate_parameters(scenario, params)
    key = "budget_impact.episodes_per_1000_members.value"
    exprs = spec.rate if isinstance(spec.rate, dict) else {None: spec.rate}
    columns = []
    for band, expr in exprs.items():
        where = key + (f".{band}" if band is not None else "")
        rate = np.atleast_1d(np.asarray(expr.evaluate(values, tables=scenario.tables), dtype=float))
        if rate.ndim != 1:
            raise ScenarioError(
                Problem(f"{scenario.path}: {where}", f"{expr.text!r} must be one number per draw; it cannot depend on time")
            )
        bad = np.flatnonzero(~(np.isfinite(rate) & (rate >= 0)))
        if bad.size:
            message = (
                f"{expr.text!r} gives {rate[bad[0]]:g} episodes per 1,000 members"
                + ("" if base_case else f" in draw {bad[0]} ({bad.size} bad draws)")
                + "; a rate must be finite and >= 0 — check the distribution of the parameters it uses"
            )
            if base_case:
                raise ScenarioError(Problem(f"{scenario.path}: {where}", message))
            raise AnalysisError(f"{scenario.path}: {where}: {message}")
        columns.append(rate)
    n_draws = max(c.size for c in columns)
    rates = np.column_stack([np.broadcast_to(c, (n_draws,)) for c in columns])
    if spec.age_shares is None:
        return rates[:, 0], rates[:, 0]
    return rates, rates @ np.array(list(spec.age_shares.values()))


@dataclass(frozen=True)
class BiaAnalysis:
    """Budget impact of one or more scenarios (side by side when several).

    Attributes
    ----------
    runs : tuple of BiaRun
        One per scenario, in the order given; scenario names are distinct.
    draws : int
        Parameter draws of each run (0: deterministic base case).
    seed : int or None
        The seed the draws came from (None without draws).
    """

    runs: tuple
    draws: int = 0
    seed: int | None = None

    @property
    def inputs(self) -> list:
        """Every scenario and policy file read, once each, as ``(path, sha256)``."""
        return list(
            dict.fromkeys(
                f for r in self.runs for f in r.scenario.files + (r.spec.policy.files if r.spec.policy is not None else ())
            )
        )

    def __repr__(self) -> str:
        from costspine._text import format_repr

        return format_repr(type(self).__name__, scenarios=[r.scenario.name for r in self.runs], draws=self.draws, seed=self.seed)

    def _repr_html_(self) -> str:
        """Each scenario's whole-plan records over the horizon (year ``total``), as an HTML table."""
        from costspine._text import format_html_table

        rows = [
            [r.scenario.name, row["measure"], row["mean"], row["low"], row["high"]]
            for r in self.runs
            for row in r.rows
            if row["item"] == "all" and row["year"] == "total"
        ]
        return format_html_table(
            ["scenario", "measure", "mean", "low", "high"], rows, caption=f"Budget impact over the horizon ({self.draws} draws)"
        )

    def summary(self) -> str:
        """Each scenario's report, then (several scenarios) the side-by-side table."""
        from costspine.analysis.bia_summary import format_bia_comparison

        text = "\n\n".join(r.summary() for r in self.runs)
        if len(self.runs) > 1:
            text += "\n\n" + format_bia_comparison(list(self.runs))
        return text

    def to_dict(self) -> dict:
        """``{"scenarios": [...]}``: each run's :meth:`BiaRun.to_dict` (JSON-ready)."""
        return {"scenarios": [r.to_dict() for r in self.runs]}

    def to_frame(self):
        """Every run's :meth:`BiaRun.to_frame`, keyed by ``scenario`` first."""
        import pandas as pd

        frames = [r.to_frame().assign(scenario=r.scenario.name) for r in self.runs]
        frame = pd.concat(frames, ignore_index=True)
        return frame[["scenario", *[c for c in frame.columns if c != "scenario"]]]


def analyze_bia(
    scenarios: list[Scenario],
    *,
    members: float | None = None,
    years: int | None = None,
    draws: int = 0,
    seed: int | None = None,
    progress=None,
) -> BiaAnalysis:
    """Budget impact of each scenario: the one library call of ``costspine bia``.

    Reads every scenario's ``[budget_impact]`` section (and policy) first, so that every problem
    of every scenario is reported together, then computes each run (see :func:`compute_bia`).

    Raises
    ------
    ScenarioError
        Every problem of every scenario's ``[budget_impact]`` section and policy, together.
    UsageError
        Two scenarios share a name, or a bad option (see :func:`compute_bia`).
    """
    from costspine.scenario.bia_spec import read_bia_spec

    specs, problems = [], []
    for scenario in scenarios:
        try:
            specs.append(read_bia_spec(scenario))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise UsageError(
            "two scenarios have the same name ("
            + ", ".join(sorted({n for n in names if names.count(n) > 1}))
            + "); their reports would share a folder — give each a distinct [model] name"
        )
    runs = tuple(
        compute_bia(s, spec, members=members, years=years, draws=draws, seed=seed, progress=progress)
        for s, spec in zip(scenarios, specs)
    )
    return BiaAnalysis(runs=runs, draws=int(draws), seed=seed if draws else None)
