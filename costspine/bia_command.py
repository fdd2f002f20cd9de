"""``costspine bia``: budget impact of one or more scenarios, printed and written to files.

A budget-impact (BIA) scenario is a model scenario with a ``[budget_impact]`` section, usually a
small file that ``extends`` a pathway scenario (``docs/budget-impact.md``). This module reads that
section, runs the pathway model (and the policy scenario, if any) with common parameter draws,
hands the undiscounted per-cycle costs and service counts to
:func:`costspine.analysis.bia.compute_budget`, and hands the results to
:mod:`costspine.reports.bia_report` for the printed tables and the files. No pandas: the
arithmetic is in :mod:`costspine.analysis.bia`, the section rules in
:mod:`costspine.analysis.bia_section`.

The policy scenario runs over the BIA file's horizon (``settings.n_cycles``): the BIA file decides
how long an episode is followed; the policy changes prices and volumes. Its cycle length, cycle
correction, currency and price year must be the BIA file's.

Randomness: one seed per run. ``SeedSequence(seed).spawn(2)`` gives the parameter stream and the
posterior-row stream. The BIA scenario and its policy scenario both draw from the *same* two
streams; :func:`costspine.params.draw_parameters` keys each parameter's stream by its name, so a
parameter the two files share gets identical draws (common random numbers), and a parameter
only one file has is drawn from its own stream.

Everything is computed before anything is written, and every file is written atomically.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from costspine.analysis.bia import (
    BudgetImpact,
    build_mix,
    build_population,
    compute_budget,
    episodes_from_rate,
    find_budget_impact_problems,
    summarize_budget,
)
from costspine.errors import AnalysisError, Problem, ScenarioError, UsageError
from costspine.expressions import FUNCTIONS, TIME_NAMES, parse_expression
from costspine.model import evaluate_parameters, run_cohort
from costspine.reports.bia_report import (
    format_bia,
    format_bia_comparison,
    summarize_bia,
    write_bia_comparison,
    write_bia_reports,
)
from costspine.reports.manifest import build_manifest, write_json
from costspine.scenario import Scenario, load_scenario


@dataclass(frozen=True)
class BiaSpec:
    """The validated ``[budget_impact]`` section of one scenario, plus its loaded policy scenario.

    Attributes
    ----------
    years : int
        The file's horizon; uptake curves and by-year lists are defined over it.
    members : float
        Average members in year 1.
    member_growth_per_year, discount_rate : float
        Fractions.
    categories : tuple of str
        The cost categories counted in the payer's budget, in the scenario's order.
    rate : Expression or dict of str to Expression
        Episodes per 1,000 members per year (by age band with ``age_shares``).
    rate_source : str
    age_shares : dict of str to float, or None
    mix_current, mix_new : dict
        The raw mix tables (resolved by :func:`costspine.analysis.bia_section.build_mix`).
    policy : Scenario or None
        The policy scenario, ready to run: its strategies and services line up with the BIA file's,
        and it runs over the BIA file's horizon (``settings.n_cycles``).
    policy_start_year : int or None
    policy_own_cycles : int or None
        The policy file's own ``n_cycles``, for the report.
    """

    perspective: str
    description: str
    years: int
    members: float
    member_growth_per_year: float
    discount_rate: float
    categories: tuple
    rate: object
    rate_source: str
    age_shares: dict | None
    mix_current: dict
    mix_new: dict
    policy: Scenario | None
    policy_start_year: int | None
    policy_own_cycles: int | None = None


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

    @property
    def n_years(self) -> int:
        return self.budget.n_years

    def value(self, measure: str, item: str = "all", year="total") -> dict:
        """The summary record ``{mean, low, high}`` of one measure, item and year (or ``"total"``)."""
        for row in self.rows:
            if row["measure"] == measure and row["item"] == item and row["year"] == year:
                return row
        raise KeyError((measure, item, year))


# --------------------------------------------------------------------------------------------
# Reading the section and the policy


def read_bia_spec(scenario: Scenario) -> BiaSpec:
    """Validate a scenario's ``[budget_impact]`` section and load its policy scenario.

    Parameters
    ----------
    scenario : Scenario
        A loaded scenario (the BIA file).

    Returns
    -------
    BiaSpec

    Raises
    ------
    ScenarioError
        With every problem of the section, of the policy file, and of how the policy lines up
        with the BIA scenario (strategies, categories, cycles, currency, services).
    """
    where = f"{scenario.path}: budget_impact"
    section = scenario.sections.get("budget_impact")
    if section is None:
        raise ScenarioError(Problem(where, "missing; `costspine bia` needs a [budget_impact] section — add one, or "
                                           "write a small BIA file that `extends` this scenario (see docs/budget-impact.md)"))
    names = _parameter_names(scenario)
    problems = find_budget_impact_problems(section, where=where, strategies=list(scenario.strategies),
                                           categories=list(scenario.categories), parameters=names)
    policy, policy_own_cycles = None, None
    policy_entry = section.get("policy") if isinstance(section, dict) else None
    policy_ok = not any(p.where.startswith(f"{where}.policy") for p in problems)
    if policy_ok and isinstance(policy_entry, dict) and isinstance(policy_entry.get("scenario"), str):
        policy, policy_own_cycles, policy_problems = _load_policy(scenario, policy_entry["scenario"],
                                                                  where=f"{where}.policy.scenario")
        problems += policy_problems
    if problems:
        raise ScenarioError(problems)
    rate_value = section["episodes_per_1000_members"]["value"]
    if isinstance(rate_value, dict):
        rate = {band: parse_expression(rate_value[band]) for band in section["age_mix"]}
    else:
        rate = parse_expression(rate_value)
    categories = scenario.categories if section["categories"] == "all" else \
        tuple(c for c in scenario.categories if c in section["categories"])
    return BiaSpec(
        perspective=section["perspective"],
        description=section.get("description", ""),
        years=int(section["years"]),
        members=float(section["members"]),
        member_growth_per_year=float(section["member_growth_per_year"]),
        discount_rate=float(section["discount_rate"]),
        categories=categories,
        rate=rate,
        rate_source=section["episodes_per_1000_members"]["source"],
        age_shares={band: float(v) for band, v in section["age_mix"].items()} if "age_mix" in section else None,
        mix_current=section["mix_current"],
        mix_new=section["mix_new"],
        policy=policy,
        policy_start_year=int(policy_entry["start_year"]) if policy is not None else None,
        policy_own_cycles=policy_own_cycles,
    )


def _parameter_names(scenario: Scenario) -> set:
    return {name for spec in scenario.parameters for name in (spec.components or (spec.name,))}


def _load_policy(scenario: Scenario, relative: str, *, where: str):
    """Load the policy scenario (relative to the BIA file) and check it lines up with the BIA scenario.

    Returns ``(policy ready to run, its own n_cycles, problems)``.
    """
    path = scenario.path.parent / relative
    if not path.is_file():
        return None, None, [Problem(where, f"file not found: {path} (the path is relative to {scenario.path.parent}/)")]
    try:
        policy = load_scenario(path)
    except ScenarioError as exc:
        return None, None, list(exc.problems)
    problems = []
    if set(policy.strategies) != set(scenario.strategies):
        problems.append(Problem(f"{policy.path}: strategies", f"a policy must declare the same strategies as "
                                f"{scenario.path} ({', '.join(scenario.strategies)}); got {', '.join(policy.strategies)}"))
    if set(policy.categories) != set(scenario.categories):
        problems.append(Problem(f"{policy.path}: costs", f"a policy must use the same cost categories as "
                                f"{scenario.path} ({', '.join(scenario.categories)}); got {', '.join(policy.categories)}"))
    ours, theirs = scenario.settings, policy.settings
    for key in ("cycle_length", "cycle_unit", "cycle_correction", "currency", "price_year"):
        if getattr(ours, key) != getattr(theirs, key):
            problems.append(Problem(f"{policy.path}: settings.{key}", f"must equal {scenario.path}'s "
                                    f"({getattr(ours, key)!r}) so that both run on the same cycles and prices; "
                                    f"got {getattr(theirs, key)!r}"))
    services, service_problems = _policy_services(scenario, policy)
    problems += service_problems
    if problems:
        return None, None, problems
    # The BIA file sets how long an episode is followed; the policy changes prices and volumes only.
    settings = dataclasses.replace(theirs, n_cycles=ours.n_cycles)
    return dataclasses.replace(policy, settings=settings, services=services), theirs.n_cycles, []


def _policy_services(scenario: Scenario, policy: Scenario) -> tuple[tuple, list[Problem]]:
    """The services counted under the policy: the policy's own entry of a name, else the BIA file's.

    A BIA file's ``[services]`` entry is evaluated in the policy scenario (its parameters, its
    trace), so a policy that changes volumes through a parameter changes the counts too.
    """
    own = {s.name: s for s in policy.services}
    problems = []
    for name in own:
        if name not in {s.name for s in scenario.services}:
            problems.append(Problem(f"{policy.path}: services.{name}", f"not declared in {scenario.path}; the BIA "
                                    "file lists the services counted — add it there, or remove it here"))
    known = _parameter_names(policy) | TIME_NAMES
    callable_names = set(FUNCTIONS) | set(policy.tables)
    services = []
    for service in scenario.services:
        if service.name in own:
            services.append(own[service.name])
            continue
        for strategy in policy.strategies:
            local = known | set(policy.strategy_values.get(strategy, {}))
            for part, table in (("values", service.state_values), ("on_entry", service.entry_values)):
                for state, expr in table.get(strategy, {}).items():
                    missing = sorted((expr.names - local) | (expr.calls - callable_names))
                    unknown_state = state not in policy.states
                    if missing or unknown_state:
                        what = f"names {', '.join(map(repr, missing))}" if missing else f"state {state!r}"
                        problems.append(Problem(f"{scenario.path}: services.{service.name}.{part}.{state}",
                                                f"is also counted under the policy {policy.path}, which has no {what} "
                                                f"(strategy {strategy}); declare [services.{service.name}] in the policy file"))
        services.append(service)
    return tuple(services), problems


# --------------------------------------------------------------------------------------------
# Computing


def compute_bia(scenario: Scenario, spec: BiaSpec, *, members: float | None = None, years: int | None = None,
                draws: int = 0, seed: int | None = None, progress=None) -> BiaRun:
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
        raise UsageError(f"--years {n_years}: {scenario.path} defines the budget over budget_impact.years = "
                         f"{spec.years} (its uptake curves and by-year lists span that horizon); "
                         f"use --years between 1 and {spec.years}, or lengthen the file's horizon")
    if draws == 1 or draws < 0:
        raise UsageError(f"--draws {draws}: use 0 for the base case or at least 2 draws for 95 % intervals "
                         "(200 or more for stable ones)")
    if members is not None and not (np.isfinite(members) and members > 0):
        raise UsageError(f"--members must be a positive number of members; got {members}")
    if draws and seed is None:
        raise UsageError("--draws needs a --seed")
    params, policy_params, posterior = _draw_parameters(scenario, spec.policy, draws, seed, progress)

    result = run_cohort(scenario, params)
    rate, rate_plan = _episode_rate(scenario, spec, params, base_case=not draws)
    members_by_year = build_population(spec.members if members is None else float(members),
                                       growth_per_year=spec.member_growth_per_year, years=n_years)
    episodes = episodes_from_rate(members_by_year, rate, age_shares=None if spec.age_shares is None
                                  else list(spec.age_shares.values()))
    strategies = list(scenario.strategies)
    mix_current = build_mix(spec.mix_current, strategies=strategies, years=spec.years,
                            where=f"{scenario.path}: budget_impact.mix_current")[:n_years]
    mix_new = build_mix(spec.mix_new, strategies=strategies, years=spec.years,
                        where=f"{scenario.path}: budget_impact.mix_new")[:n_years]
    category_index = [scenario.categories.index(c) for c in spec.categories]
    cost = result.cost_per_cycle[..., category_index]
    services = result.services_per_cycle if scenario.services else None

    policy_applied = spec.policy is not None and spec.policy_start_year <= n_years
    policy_cost = policy_services = None
    if policy_applied:
        policy = spec.policy
        policy_result = run_cohort(policy, policy_params)
        order = [policy.strategies.index(s) for s in strategies]
        policy_cost = policy_result.cost_per_cycle[:, order][..., [policy.categories.index(c) for c in spec.categories]]
        if services is not None:
            policy_services = policy_result.services_per_cycle[:, order]
    budget = compute_budget(
        cost, cycle_years=scenario.settings.cycle_years, episodes_per_year=episodes,
        mix_current=mix_current, mix_new=mix_new,
        policy_cost_per_cycle=policy_cost, policy_start_year=spec.policy_start_year if policy_applied else None,
        discount_rate=spec.discount_rate, services_per_cycle=services, policy_services_per_cycle=policy_services,
        strategies=strategies, categories=spec.categories,
        services=[s.name for s in scenario.services] if services is not None else None,
    )
    return BiaRun(scenario=scenario, spec=spec, budget=budget, members_by_year=members_by_year,
                  rate_per_1000=rate_plan, rows=summarize_budget(budget, members_by_year=members_by_year),
                  n_draws=int(draws), seed=int(seed) if draws else None, policy_applied=policy_applied,
                  posterior=posterior)


def _draw_parameters(scenario, policy, draws, seed, progress):
    """Base case (``draws == 0``) or common parameter draws for the scenario and its policy."""
    if not draws:
        return None, None, []
    from costspine.params import draw_parameters

    param_seq, posterior_seq = np.random.SeedSequence(seed).spawn(2)
    out, provenance = [], []
    for s in (scenario, policy):
        if s is None:
            out.append(None)
            continue
        params = draw_parameters(s.parameters, draws, np.random.default_rng(param_seq), correlations=s.correlations)
        if any(spec.family == "posterior" for spec in s.parameters):
            from costspine.posterior import draw_posterior_parameters

            posterior, prov = draw_posterior_parameters(s, draws, np.random.default_rng(posterior_seq), progress=progress)
            params.update(posterior)
            provenance += [p for p in prov if p not in provenance]
        out.append(params)
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
            raise ScenarioError(Problem(f"{scenario.path}: {where}", f"{expr.text!r} must be one number per draw; "
                                        "it cannot depend on time"))
        bad = np.flatnonzero(~(np.isfinite(rate) & (rate >= 0)))
        if bad.size:
            message = (f"{expr.text!r} gives {rate[bad[0]]:g} episodes per 1,000 members"
                       + ("" if base_case else f" in draw {bad[0]} ({bad.size} bad draws)")
                       + "; a rate must be finite and >= 0 — check the distribution of the parameters it uses")
            if base_case:
                raise ScenarioError(Problem(f"{scenario.path}: {where}", message))
            raise AnalysisError(f"{scenario.path}: {where}: {message}")
        columns.append(rate)
    n_draws = max(c.size for c in columns)
    rates = np.column_stack([np.broadcast_to(c, (n_draws,)) for c in columns])
    if spec.age_shares is None:
        return rates[:, 0], rates[:, 0]
    return rates, rates @ np.array(list(spec.age_shares.values()))


def run_bia_command(scenarios: list[Scenario], *, members=None, years=None, draws: int = 0, seed=None,
                    out_dir: Path, argv: list[str], started: datetime, progress=None, xlsx_path=None) -> str:
    """Budget impact of each scenario: compute all, then write the reports; return the text to print.

    One scenario writes into ``out_dir``; several write one subfolder per scenario plus
    ``comparison.csv`` and a ``summary.json`` listing them. ``manifest.json`` records the inputs
    of every scenario and policy file, the command line and the seed. The workbook (one, comparing
    the scenarios when several) goes to ``xlsx_path`` if given, else ``bia.xlsx`` in ``out_dir``.

    Raises
    ------
    ScenarioError
        Every problem of every scenario's ``[budget_impact]`` section and policy, together.
    UsageError
        A bad option (see :func:`compute_bia`).
    """
    from costspine.reports.build import output_name, with_about, workbook_path

    xlsx = workbook_path(xlsx_path, out_dir=out_dir, command="bia")
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
        raise UsageError("two scenarios have the same name (" + ", ".join(sorted({n for n in names if names.count(n) > 1}))
                         + "); their reports would share a folder — give each a distinct [model] name")
    runs = [compute_bia(s, spec, members=members, years=years, draws=draws, seed=seed, progress=progress)
            for s, spec in zip(scenarios, specs)]
    text = "\n\n".join(format_bia(r) for r in runs)
    if len(runs) > 1:
        text += "\n\n" + format_bia_comparison(runs)

    out_dir = Path(out_dir)
    from costspine.reports.build_bia import build_bia_workbook, plan_bia_figures
    from costspine.reports.excel import write_workbook

    # the workbook is built (and checked) before any file is written; its About sheet is filled in last
    book = build_bia_workbook(runs, manifest={})
    figures = plan_bia_figures(runs, folder=out_dir)
    written = []
    if len(runs) == 1:
        written += write_bia_reports(runs[0], out_dir)
    else:
        for r in runs:
            written += write_bia_reports(r, out_dir / r.scenario.name)
        written.append(write_bia_comparison(runs, out_dir / "comparison.csv"))
        written.append(write_json(out_dir / "summary.json", {"scenarios": [summarize_bia(r) for r in runs]}))
    written += [plot() for plot in figures]
    inputs = list(dict.fromkeys(f for s, spec in zip(scenarios, specs)
                                for f in s.files + (spec.policy.files if spec.policy is not None else ())))
    manifest = build_manifest(command="bia", argv=list(argv), inputs=inputs, seed=seed if draws else None,
                              started=started, outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir)])
    manifest["draws"] = int(draws)
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    return text
