"""One entry point for a base-case run, whichever engine: cohort or microsimulation."""

from __future__ import annotations

import numpy as np

from costspine.errors import UsageError
from costspine.simulate.cohort import CohortResult, run_cohort

METHODS = ("cohort", "microsim")


def run_scenario(
    scenario, params=None, *, method: str = "cohort", individuals: int | None = None, seed=None, progress=None, notice=None
) -> CohortResult:
    """Run a scenario's base case (or the given parameter draws) with the cohort model or the
    microsimulation.

    Parameters
    ----------
    scenario : Scenario
    params : dict of str to ndarray, shape (draw,), optional
        Parameter values; the base case when omitted.
    method : {"cohort", "microsim"}
    individuals : int, optional
        Microsimulation only: individuals per strategy (default: the scenario's).
    seed : int, optional
        Microsimulation only: the run's seed.
    progress : callable(done, total), optional
        Microsimulation only: called after each chunk of individuals.
    notice : callable(str), optional
        Microsimulation only: told when the compiled kernel must be compiled first (~20 s).

    Returns
    -------
    CohortResult or MicrosimResult
        The microsimulation also keeps its results by level of each categorical or binary
        population attribute (``levels``; :func:`costspine.analysis.subgroups.run_subgroups`).
    """
    if method == "microsim":
        from costspine.simulate.microsim import run_microsim

        return run_microsim(
            scenario, params, n_individuals=individuals, seed=seed, progress=progress, notice=notice, by_level=True
        )
    if method != "cohort":
        raise UsageError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if individuals is not None:
        raise UsageError("--individuals applies to --method microsim only")
    return run_cohort(scenario, params)


def find_scenario_warnings(scenario, result: CohortResult | None = None) -> list:
    """Warnings about a scenario that is valid but probably not what its author meant
    (``costspine validate`` and ``costspine run`` print them on stderr and carry on).

    Today: state rewards that can never count (:func:`costspine.model.counting.find_uncounted_rewards`)
    — a state occupied only at trace points whose cycle-correction weight is 0, judged on the
    base-case cohort trace.

    Parameters
    ----------
    scenario : Scenario
    result : CohortResult, optional
        The scenario's base-case cohort result, if already run (its trace is reused).

    Returns
    -------
    list of Problem
        Each printed as ``warning: <file>: <key>: <message>``.

    Examples
    --------
    >>> from costspine import load_scenario
    >>> find_scenario_warnings(load_scenario("scenarios/examples/hiv_chancellor.toml"))
    []
    """
    from costspine.model.counting import find_uncounted_rewards
    from costspine.simulate.cohort import derive_reward_factors

    weights = derive_reward_factors(scenario.settings).weights
    if np.all(weights != 0):  # every point counts: nothing can vanish
        return []
    if result is None or result.method == "microsim" or result.trace.shape[0] != 1:
        result = run_cohort(scenario)
    return find_uncounted_rewards(scenario, result.trace[0], weights)


def check_scenario(path, *, warnings: list | None = None):
    """Check a scenario file the way ``run`` and ``bia`` would read it (``costspine validate``).

    Reads the file (and its ``extends`` chain), checks every section — including
    ``[budget_impact]`` and the policy file it names — and builds the base case of the scenario
    and of its policy, so every probability out of range is found too.

    Parameters
    ----------
    path : str or Path
        The scenario TOML file.
    warnings : list, optional
        When given, the scenario's warnings (:func:`find_scenario_warnings`) are appended to it.

    Returns
    -------
    Scenario
        The loaded scenario, when it has no problem.

    Raises
    ------
    ScenarioError
        With every problem found, each naming the file that declares its key.
    """
    from costspine.errors import ScenarioError
    from costspine.problems import Collector
    from costspine.scenario.bia_spec import check_budget_impact_section
    from costspine.scenario.load import load_scenario
    from costspine.simulate.microsim import check_model

    scenario = load_scenario(path)
    c = Collector(scenario.origin, str(scenario.path))
    policy, _ = check_budget_impact_section(c, scenario)
    base_case = None
    for model in (scenario, policy):
        if model is None:
            continue
        try:
            result = check_model(model)
            base_case = result if model is scenario else base_case
        except ScenarioError as exc:
            c.extend(exc.problems)
    c.raise_if_any()
    if warnings is not None:
        warnings.extend(find_scenario_warnings(scenario, base_case))
    return scenario
