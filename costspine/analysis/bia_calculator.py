"""The arithmetic behind the live budget calculator of ``bia.xlsx``: cost per patient by year since entry.

The budget of :func:`~costspine.analysis.bia.compute_budget` is linear in the patients entering
each year and in the pathway mix. This module takes what one base-case run gave
``compute_budget`` (kept on each :class:`~costspine.analysis.bia_run.Segment`) and returns, per
patient group, world and pathway, the cost **per patient** entering in year ``j`` that falls in
budget year ``y`` (``y − j`` = years since entry; ``y = j − 1`` too, for the patients arriving in a
model cycle that starts before the new year): the cohort cost profile. With those numbers the
budget is a sum of products a spreadsheet can hold as live formulas::

    B_w[y] = (1 + r) ** −(y − 1) · ( Σ_{j ≤ y+1} N_j · Σ_s mix_w[j, s] · cost_w[s, j, y]
                                    + N_run-in · Σ_s mix_current[1, s] · ongoing_w[s, y]
                                    + N_0 · Σ_s mix_w[1, s] · present_w[s, y] )

``N_j`` are the patients entering during year ``j``, ``N_run-in`` the year-1 episodes standing
in for each year before year 1 of an ongoing plan and ``N_0`` the prevalent patients present at
the start of year 1. For the prevalent group, ``N_j = (members_j · onset + joiners_j · P) / 1000``
with joiners replacing leavers at the hazard ``−ln(1 − leave)`` (:func:`~costspine.analysis.bia.build_joiners`).
The prevalent patients per 1,000 members ``P`` and the onset follow the plan file's expressions,
taken apart at the base case as ``P = G − k · rate`` (``k``: prevalent patients per new episode a
year that the acute model still follows, the overlap) and ``onset = x · P + c`` (``x``: the stock's
exit hazard when the onset is derived from the stock); see :func:`prevalence_structure`. The profile differs slightly between entry years because a year holds 13.04
four-week model cycles, so it is given for every entry year. Arrays only: no files, no openpyxl.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine.analysis.bia import build_joiners, compute_budget, drop_first_years
from costspine.errors import AnalysisError
from costspine.model.inputs import base_case_parameters, evaluate_parameters

WORLDS = ("current", "new")


@dataclass(frozen=True)
class GroupProfile:
    """One patient group's cost per patient, by world, pathway, entry year and budget year.

    Attributes
    ----------
    name, label : str
        ``"acute"`` or ``"prevalent"``, and the plain-language label.
    strategies : tuple of str
    mix_current, mix_new : ndarray, shape (year, strategy)
    entering : dict of str to ndarray, shape (entry year, strategy, budget year, category)
        ``"current"``/``"new"`` → undiscounted cost per patient entering during entry year ``j``
        that falls in budget year ``y`` (0 for ``y < j``).
    ongoing : dict or None
        Ongoing care from the run-in years before year 1, per year-1 entrant: shape (strategy,
        budget year, category) for each world; None when the group has no run-in.
    present : dict or None
        Care of one patient present at the start of year 1: shape (strategy, budget year,
        category) for each world; None when the group has none.
    policy_start_year : int or None
        First budget year whose care the policy prices (new world only); None without a policy.
    """

    name: str
    label: str
    strategies: tuple
    mix_current: np.ndarray
    mix_new: np.ndarray
    entering: dict
    ongoing: dict | None
    present: dict | None
    policy_start_year: int | None

    @property
    def has_policy(self) -> bool:
        return self.policy_start_year is not None


@dataclass(frozen=True)
class PrevalenceStructure:
    """The prevalent patients per 1,000 members ``P = G − k · rate`` and the onset ``x · P + c``.

    Attributes
    ----------
    gross : float
        ``G``: prevalent patients per 1,000 members, counting those the acute model still follows.
    overlap_per_episode : float
        ``k``: of them, per new episode a year, those still followed by the acute model (0 when the
        prevalence does not depend on the episode rate).
    exit_hazard : float
        ``x``: onset per prevalent patient a year (the stock's exits by recovery and death in a
        steady state); 0 when the onset does not depend on the prevalence.
    other_onset : float
        ``c``: onset per 1,000 members a year not tied to the prevalence.
    follows_file : bool
        False when the file's expressions are not of that form: ``k = x = 0`` then, and the sheet's
        prevalence and onset are fixed numbers (edits to the episode rate do not move them).
    """

    gross: float
    overlap_per_episode: float
    exit_hazard: float
    other_onset: float
    follows_file: bool = True

    def per_1000(self, rate: float) -> float:
        return self.gross - self.overlap_per_episode * rate

    def onset(self, rate: float) -> float:
        return self.exit_hazard * self.per_1000(rate) + self.other_onset


@dataclass(frozen=True)
class CalculatorInputs:
    """Everything the calculator sheet starts from (the base case of one ``costspine bia`` run).

    Attributes
    ----------
    members : float
        Members in year 1.
    growth : float
        Member growth a year (fraction).
    rate_per_1000 : float
        New episodes per 1,000 members a year.
    prevalence : PrevalenceStructure or None
        How the prevalent patients per 1,000 members and their onset follow the inputs (None
        without a prevalent group).
    leave : float
        Members leaving the plan a year (fraction); it shapes the cost profile, so it is fixed.
    discount_rate : float
    categories : tuple of str
    groups : tuple of GroupProfile
    """

    members: float
    growth: float
    rate_per_1000: float
    prevalence: PrevalenceStructure | None
    leave: float
    discount_rate: float
    categories: tuple
    groups: tuple

    @property
    def n_years(self) -> int:
        return self.groups[0].mix_current.shape[0]

    @property
    def prevalent_per_1000(self) -> float | None:
        """Prevalent patients per 1,000 members (in the chronic group), None without one."""
        return None if self.prevalence is None else self.prevalence.per_1000(self.rate_per_1000)

    @property
    def onset_per_1000(self) -> float | None:
        """New prevalent patients per 1,000 members a year among members, None without a prevalent group."""
        return None if self.prevalence is None else self.prevalence.onset(self.rate_per_1000)


def calculator_inputs(run) -> CalculatorInputs:
    """The cost profiles and plan inputs of a base-case :class:`~costspine.analysis.bia_run.BiaRun`.

    Raises
    ------
    AnalysisError
        The run has parameter draws (the calculator is the base case's arithmetic), or the
        profiles do not reproduce the run's budget (a defect: the message names the group).
    """
    if run.n_draws:
        raise AnalysisError("the budget calculator reproduces the base case; this run has parameter draws")
    groups = tuple(_group_profile(seg) for seg in run.segments)
    members = run.members_by_year
    growth = float(run.spec.member_growth_per_year)
    leave = float(np.asarray(run.leave_per_year if run.leave_per_year is not None else 0.0).reshape(-1)[0])
    rate = float(np.asarray(run.rate_per_1000).reshape(-1)[0])
    prevalence = None
    for seg in run.segments:
        if seg.name == "prevalent":
            per_1000 = float(np.asarray(seg.initial).reshape(-1)[0]) * 1000.0 / members[0]
            joiners = build_joiners(members, growth_per_year=growth, leave_per_year=leave)[0]
            onset = (float(seg.entering[0, 0]) * 1000.0 - joiners[0] * per_1000) / members[0]
            prevalence = prevalence_structure(run.scenario, run.spec, rate, per_1000, onset)
    inputs = CalculatorInputs(
        members=float(members[0]),
        growth=growth,
        rate_per_1000=rate,
        prevalence=prevalence,
        leave=leave,
        discount_rate=float(run.spec.discount_rate),
        categories=tuple(run.budget.categories),
        groups=groups,
    )
    for world in WORLDS:
        expected = getattr(run.budget, world)[0]
        got = calculator_budget(inputs, world)
        scale = max(float(np.abs(expected).max()), 1.0)
        if not np.allclose(got, expected, rtol=1e-9, atol=1e-9 * scale):
            raise AnalysisError(
                f"budget calculator: the cost profiles do not reproduce the {world} budget "
                f"(largest gap {float(np.abs(got - expected).max()):.6g}); this is a defect in costspine"
            )
    return inputs


PROBES = (0.5, 1.5)  # factors on the episode rate's parameters
STOCK_PROBE = 1.2  # factor on the parameters only the prevalence uses
PROBE_TOLERANCE = 1e-9


def prevalence_structure(scenario, spec, rate: float, per_1000: float, onset: float) -> PrevalenceStructure:
    """Take the file's prevalence and onset apart as ``P = G − k · rate`` and ``onset = x · P + c``.

    The expressions of ``budget_impact.prevalent`` are evaluated at the base case with the
    parameters of the episode rate scaled (``k``), and with the parameters only the prevalence
    uses scaled (``x``); the form is accepted when it reproduces every evaluation to 1e-9.

    Parameters
    ----------
    scenario : Scenario
        The BIA file (its parameters).
    spec : BiaSpec
    rate, per_1000, onset : float
        The base case's plan episode rate, prevalent patients and onset per 1,000 members (as the run used them).

    Returns
    -------
    PrevalenceStructure
        With ``follows_file=False`` (fixed prevalence and onset) when the expressions are not of that form.
    """
    params = base_case_parameters(scenario)
    derived = {p.name: p.expression for p in scenario.parameters if p.family == "derived"}
    rate_exprs = list(spec.rate.values()) if isinstance(spec.rate, dict) else [spec.rate]
    rate_names = _depends_on(rate_exprs, derived) & set(params)
    stock_names = (_depends_on([spec.prevalent.per_1000], derived) & set(params)) - rate_names

    def evaluate(scale: dict):
        values = evaluate_parameters(scenario, {k: v * scale.get(k, 1.0) for k, v in params.items()})
        rates = [float(np.asarray(e.evaluate(values, tables=scenario.tables), dtype=float).reshape(-1)[0]) for e in rate_exprs]
        plan_rate = rates[0] if spec.age_shares is None else float(np.dot(rates, list(spec.age_shares.values())))
        out = [
            float(np.asarray(e.evaluate(values, tables=scenario.tables), dtype=float).reshape(-1)[0])
            for e in (spec.prevalent.per_1000, spec.prevalent.onset)
        ]
        return plan_rate, *out

    fixed = PrevalenceStructure(per_1000, 0.0, 0.0, onset, follows_file=False)
    try:
        probes = [evaluate(dict.fromkeys(rate_names, f)) for f in PROBES]
        probes.append(evaluate(dict.fromkeys(stock_names, STOCK_PROBE)))
    except Exception:  # an expression that cannot be evaluated away from the base case: keep the numbers fixed
        return fixed
    (r1, p1, _), _, (_, p_stock, o_stock) = probes
    k = -(p1 - per_1000) / (r1 - rate) if r1 != rate else 0.0
    moved = [(p, o) for _, p, o in probes if p != per_1000]
    x = (moved[-1][1] - onset) / (moved[-1][0] - per_1000) if moved else 0.0
    structure = PrevalenceStructure(float(per_1000 + k * rate), float(k), float(x), float(onset - x * per_1000))
    if abs(structure.other_onset) <= PROBE_TOLERANCE * max(abs(onset), 1.0):
        structure = PrevalenceStructure(structure.gross, k, x, 0.0)
    checks = [(rate, per_1000, onset), *probes]
    for i, (r, p, o) in enumerate(checks):  # the last probe moves G, so it checks the onset only
        if (i < len(checks) - 1 and not _close(structure.per_1000(r), p)) or not _close(x * p + structure.other_onset, o):
            return fixed
    return structure


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= PROBE_TOLERANCE * max(abs(a), abs(b), 1.0)


def _depends_on(expressions, derived: dict) -> set:
    """Every name the expressions read, through derived parameters."""
    seen, todo = set(), [n for e in expressions for n in e.names]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            if name in derived:
                todo.extend(derived[name].names)
    return seen


def entrants(inputs: CalculatorInputs, members=None) -> dict:
    """Patients entering by year, as the sheet computes them: ``{"acute": (year,), "prevalent": (year,),
    "present": float}`` (the last two only with a prevalent group)."""
    members = inputs.members * (1.0 + inputs.growth) ** np.arange(inputs.n_years, dtype=float) if members is None else members
    out = {"acute": members * inputs.rate_per_1000 / 1000.0}
    if inputs.prevalent_per_1000 is not None:
        joiners = build_joiners(members, growth_per_year=inputs.growth, leave_per_year=inputs.leave)[0]
        out["prevalent"] = (members * inputs.onset_per_1000 + joiners * inputs.prevalent_per_1000) / 1000.0
        out["present"] = members[0] * inputs.prevalent_per_1000 / 1000.0
    return out


def calculator_budget(inputs: CalculatorInputs, world: str) -> np.ndarray:
    """The budget by year and category, shape (year, category), by the calculator's arithmetic."""
    counts = entrants(inputs)
    discount = (1.0 + inputs.discount_rate) ** -np.arange(inputs.n_years, dtype=float)
    total = 0.0
    for group in inputs.groups:
        mix = getattr(group, f"mix_{world}")
        n = counts[group.name]
        total = total + np.einsum("j,js,jsyc->yc", n, mix, group.entering[world])
        if group.ongoing is not None:
            total = total + n[0] * np.einsum("s,syc->yc", group.mix_current[0], group.ongoing[world])
        if group.present is not None:
            total = total + counts["present"] * np.einsum("s,syc->yc", mix[0], group.present[world])
    return total * discount[:, None]


def _group_profile(seg) -> GroupProfile:
    inp = seg.inputs
    if inp is None:
        raise AnalysisError(f"budget calculator: patient group {seg.name!r} kept no budget inputs")
    cost, policy_cost = inp["cost"], inp["policy_cost"]
    n_years, run_in = inp["mix_current"].shape[0], int(inp["run_in"])
    n_strategies = cost.shape[1]
    total_years = run_in + n_years
    start = inp["policy_start_year"]

    def respond(episodes, initial, s):
        mix = np.zeros((total_years, n_strategies))
        mix[:, s] = 1.0
        budget = compute_budget(
            cost,
            cycle_years=inp["cycle_years"],
            episodes_per_year=episodes,
            mix_current=mix,
            mix_new=mix,
            policy_cost_per_cycle=policy_cost if start is not None else None,
            policy_start_year=start + run_in if start is not None else None,
            initial_patients=initial,
            leave_per_year=inp["leave"],
        )
        if run_in:
            budget = drop_first_years(budget, run_in)
        return budget

    entering = {w: np.zeros((n_years, n_strategies, n_years, cost.shape[3])) for w in WORLDS}
    ongoing = {w: np.zeros((n_strategies, n_years, cost.shape[3])) for w in WORLDS} if run_in else None
    present = {w: np.zeros((n_strategies, n_years, cost.shape[3])) for w in WORLDS} if inp["initial"] is not None else None
    unit = np.eye(total_years)  # one patient entering in each year: one draw per entry year
    for s in range(n_strategies):
        budget = respond(unit, None, s)
        for w in WORLDS:
            values = getattr(budget, w)  # (entry year incl. run-in, budget year, category)
            entering[w][:, s] = values[run_in:]
            if run_in:
                ongoing[w][s] = values[:run_in].sum(axis=0)
        if present is not None:
            budget = respond(np.zeros((1, total_years)), 1.0, s)
            for w in WORLDS:
                present[w][s] = getattr(budget, w)[0]
    for w in WORLDS:
        early = [(j, y) for j in range(n_years) for y in range(j - 1) if np.any(entering[w][j, :, y] != 0)]
        if early:
            raise AnalysisError(
                f"budget calculator: patients of group {seg.name!r} entering in year {early[0][0] + 1} cost something in "
                f"year {early[0][1] + 1}, more than a year before entry; this is a defect in costspine"
            )
    return GroupProfile(
        name=seg.name,
        label=seg.label,
        strategies=tuple(inp["strategies"]),
        mix_current=np.asarray(inp["mix_current"], dtype=float),
        mix_new=np.asarray(inp["mix_new"], dtype=float),
        entering=entering,
        ongoing=ongoing,
        present=present,
        policy_start_year=start,
    )
