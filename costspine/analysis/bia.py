"""Budget impact analysis: a plan's spine-care budget by calendar year under two pathway mixes.

Each calendar year's new spine-pain episodes form an entering cohort that runs through the
pathway (cohort) model. A cohort contributes costs to later calendar years according to its
*time since entry*, never the calendar year, and the budget of a year is the sum over every
cohort that has entered so far (Sullivan et al. 2014, ISPOR BIA Good Practice II). Arrays in,
arrays out: no files, no pandas, no printing. The method and the ``[budget_impact]`` keys are in
``docs/budget-impact.md``; the section is checked and turned into mixes by
:mod:`costspine.analysis.bia_section`.

Timing scheme (exact, any cycle length): calendar time from the start of year 1 is cut into grid
cycles ``[m·h, (m+1)·h)`` of the model's cycle length ``h`` years. Episodes arrive evenly within
each year, so grid cycle ``m`` receives ``Σ_y E_y · |cycle m ∩ year y|`` arrivals, which enter the
model at that cycle's start; cost of model cycle ``k`` of those arrivals falls in grid cycle
``m + k``, spread evenly over it, and is shared between calendar years by overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from costspine.errors import UsageError
from costspine.scenario.budget_impact import SHARE_TOLERANCE

SUMMARY_LEVEL = 95.0


@dataclass(frozen=True)
class BudgetImpact:
    """Budget by calendar year under the current and the new pathway mix (made by :func:`compute_budget`).

    Attributes
    ----------
    current, new, difference : ndarray, shape (draw, year, category)
        Budget (currency of the scenario, price year; discounted only if ``discount_rate > 0``)
        under the current mix, under the new mix with the policy, and ``new − current``.
    episodes : ndarray, shape (draw, year)
        New episodes entering the pathway in each calendar year.
    episodes_current, episodes_new : ndarray, shape (draw, year, strategy)
        Those episodes split by pathway under each mix.
    services_current, services_new, services_difference : ndarray, shape (draw, year, service), or None
        Counts of services delivered in each calendar year (never discounted).
    strategies, categories, services : tuple of str
        Labels of the strategy, category and service axes.
    cycle_years : float
        Model cycle length ``h`` in years.
    model_horizon_years : float
        ``K · h``: how long one episode is followed; costs after it are 0 (see ``docs/budget-impact.md``).
    discount_rate : float
        Annual rate; year ``t`` is multiplied by ``(1 + r) ** -(t − 1)``.
    policy_start_year : int or None
        First calendar year (1-based) whose care is priced and counted under the policy.
    """

    current: np.ndarray
    new: np.ndarray
    difference: np.ndarray
    episodes: np.ndarray
    episodes_current: np.ndarray
    episodes_new: np.ndarray
    services_current: np.ndarray | None
    services_new: np.ndarray | None
    services_difference: np.ndarray | None
    strategies: tuple
    categories: tuple
    services: tuple
    cycle_years: float
    model_horizon_years: float
    discount_rate: float
    policy_start_year: int | None

    @property
    def n_draws(self) -> int:
        return self.current.shape[0]

    @property
    def n_years(self) -> int:
        return self.current.shape[1]

    def pmpm(self, members_by_year) -> dict:
        """Per member per month: ``budget_t / (members_t · 12)`` for each year.

        Parameters
        ----------
        members_by_year : array_like, shape (year,)
            Average enrolled members in each year.

        Returns
        -------
        dict
            ``{"current", "new", "difference"}`` → ndarray, shape (draw, year), summed over categories.
        """
        months = 12.0 * _check_members(members_by_year, self.n_years)
        return {name: getattr(self, name).sum(axis=-1) / months for name in ("current", "new", "difference")}

    def summary(self, *, members_by_year) -> list[dict]:
        """Shorthand for :func:`summarize_budget`."""
        return summarize_budget(self, members_by_year=members_by_year)


# --------------------------------------------------------------------------------------------
# Population, episodes and uptake


def build_population(members: float, *, growth_per_year: float, years: int) -> np.ndarray:
    """Average enrolled members in each year, growing geometrically.

    Parameters
    ----------
    members : float
        Average members in year 1 (adults, the SPINE CARE population).
    growth_per_year : float
        Fractional change per year, ``0.02`` for +2 %; in (−1, 1).
    years : int
        Number of years, ≥ 1.

    Returns
    -------
    ndarray, shape (year,)
        ``members · (1 + g) ** (t − 1)`` for ``t = 1..years``.

    Examples
    --------
    >>> build_population(1000, growth_per_year=0.1, years=3)
    array([1000., 1100., 1210.])
    """
    if not (isinstance(members, (int, float, np.number)) and math.isfinite(members) and members > 0):
        raise UsageError(f"build_population: members must be a positive number; got {members!r}")
    if not (math.isfinite(growth_per_year) and -1 < growth_per_year < 1):
        raise UsageError(
            f"build_population: growth_per_year must be a fraction in (-1, 1); got {growth_per_year!r}"
            " — did you write a percentage? 2 % is 0.02"
        )
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise UsageError(f"build_population: years must be a whole number >= 1; got {years!r}")
    return float(members) * (1.0 + growth_per_year) ** np.arange(years, dtype=float)


def build_joiners(members_by_year, *, growth_per_year: float, leave_per_year) -> np.ndarray:
    """Members joining the plan in each year: those replacing leavers plus the growth.

    Parameters
    ----------
    members_by_year : array_like, shape (year,)
        Average members in each year (from :func:`build_population`).
    growth_per_year : float
        The growth that built ``members_by_year``; year 1's growth is ``members_1 − members_1 / (1 + g)``.
    leave_per_year : float or array_like, shape (draw,)
        Fraction of members leaving a year.

    Returns
    -------
    ndarray, shape (draw, year)
        ``members_t · λ + (members_t − members_{t−1})`` with ``λ = −ln(1 − leave)``, never below 0
        (a shrinking plan gains only the members who replace leavers, less the shrinkage).

    Notes
    -----
    Members leave at the constant hazard ``λ``: of the members enrolled at any moment, a fraction
    ``leave`` has left a year later (the ``(1 − leave)^t`` that :func:`compute_budget` applies by time
    since entry). Members who join during a year leave at the same hazard, so a plan of constant
    size loses, and must gain, ``λ · members`` a year, more than ``leave · members``
    (0.223 against 0.2 at ``leave = 0.2``). With ``leave · members`` joiners the patients that new
    members bring fall short of those leaving and a plan in equilibrium shrinks.

    Examples
    --------
    >>> build_joiners([1000.0, 1000.0], growth_per_year=0.0, leave_per_year=0.2).round(2)
    array([[223.14, 223.14]])
    """
    members = _check_members(members_by_year, None)
    leave = np.atleast_1d(np.asarray(leave_per_year, dtype=float))
    previous = np.concatenate([[members[0] / (1.0 + growth_per_year)], members[:-1]])
    hazard = -np.log1p(-leave)
    return np.maximum(members[None, :] * hazard[:, None] + (members - previous)[None, :], 0.0)


def episodes_from_rate(members_by_year, rate_per_1000, *, age_shares=None) -> np.ndarray:
    """New episodes per year from members and an annual rate per 1,000 members.

    Parameters
    ----------
    members_by_year : array_like, shape (year,)
    rate_per_1000 : float or array_like, shape (draw,), or with ``age_shares`` shape ([draw,] age)
        New episodes presenting to primary care per 1,000 members per year.
    age_shares : array_like, shape (age,), optional
        Members' age mix; the plan rate is ``Σ_a share_a · rate_a``. Shares must sum to 1.

    Returns
    -------
    ndarray, shape (year,) for a scalar rate, else (draw, year)
        ``members_t · rate / 1000``.
    """
    members = _check_members(members_by_year, None)
    rate = np.asarray(rate_per_1000, dtype=float)
    if age_shares is not None:
        shares = np.asarray(age_shares, dtype=float)
        if shares.ndim != 1 or rate.shape[-1:] != shares.shape:
            raise UsageError(
                f"episodes_from_rate: rate_per_1000 must end with one rate per age band "
                f"({shares.shape[0] if shares.ndim == 1 else '?'}); got shape {rate.shape}"
            )
        if np.any(shares < 0) or abs(shares.sum() - 1.0) > SHARE_TOLERANCE:
            raise UsageError(f"episodes_from_rate: age_shares must be >= 0 and sum to 1; got {shares.tolist()}")
        rate = rate @ shares
    if rate.ndim > 1 or not np.all(np.isfinite(rate)) or np.any(rate < 0):
        raise UsageError(
            "episodes_from_rate: rate_per_1000 must be a finite number >= 0 or one per draw "
            f"(shape (draw,)); got shape {rate.shape}, min {rate.min() if rate.size else 'n/a'}"
        )
    return rate[..., None] * members / 1000.0 if rate.ndim else members * float(rate) / 1000.0


# --------------------------------------------------------------------------------------------
# The budget


def compute_budget(
    cost_per_cycle,
    *,
    cycle_years: float,
    episodes_per_year,
    mix_current,
    mix_new,
    policy_cost_per_cycle=None,
    policy_start_year: int | None = None,
    discount_rate: float = 0.0,
    services_per_cycle=None,
    policy_services_per_cycle=None,
    strategies=None,
    categories=None,
    services=None,
    initial_patients=None,
    leave_per_year=0.0,
) -> BudgetImpact:
    """Budget per calendar year of all entering cohorts, under the current and the new mix.

    Parameters
    ----------
    cost_per_cycle : array_like, shape (draw, strategy, cycle, category)
        Undiscounted expected cost per episode in each model cycle since entry (index 0 = the
        first cycle after entry). Costs after the last cycle are taken as 0.
    cycle_years : float
        Model cycle length ``h`` in years (``28 / 365.25`` for 4 weeks). Any positive value.
    episodes_per_year : array_like, shape (year,) or (draw, year)
        New episodes ``E_t`` entering in each calendar year; the number of years is its length.
    mix_current, mix_new : array_like, shape (year, strategy)
        Share of the episodes entering in year ``t`` that follow each pathway; rows sum to 1.
        A patient keeps the pathway of their entry year.
    policy_cost_per_cycle : array_like, shape of ``cost_per_cycle``, optional
        Per-episode costs under the policy, used in the new scenario for care delivered in
        calendar years ``≥ policy_start_year``, whatever the entry year of the cohort.
    policy_start_year : int, optional
        1-based calendar year; required with (only with) ``policy_cost_per_cycle``.
    discount_rate : float
        Annual rate in [0, 1); default 0 (ISPOR BIA: undiscounted, nominal in the price year).
    services_per_cycle, policy_services_per_cycle : array_like, shape (draw, strategy, cycle, service), optional
        Counts of services per episode per model cycle (MRIs, injections, ...), accumulated like
        costs but never discounted. With a policy, both are required.
    strategies, categories, services : sequence of str, optional
        Labels of the axes (default ``strategy_1``, ...).
    initial_patients : float or array_like, shape (draw,), optional
        Patients already present at the start of year 1 (prevalent patients). They enter the
        model at time 0, split by the first year's mix, and are counted in ``episodes`` of year 1.
    leave_per_year : float or array_like, shape (draw,)
        Fraction of patients leaving the plan (disenrolment) a year, in [0, 1). Per-cycle costs,
        services and counts of model cycle ``k`` are multiplied by the share still enrolled at
        the middle of that cycle, ``(1 − leave) ** ((k + ½) · h)``. Default 0: nobody leaves.

    Returns
    -------
    BudgetImpact

    Raises
    ------
    UsageError
        On a shape mismatch, a non-finite or negative input, shares that do not sum to 1, or an
        inconsistent policy; the message names the argument and the bad cell.

    Notes
    -----
    With grid cycles ``m = 0..M−1`` covering years ``[0, Y)`` and ``o[m, y] = |[m h, (m+1) h) ∩ [y, y+1)|``::

        arrivals[m, s] = Σ_y E_y · mix[y, s] · o[m, y]
        stream[m, c]   = Σ_{k ≤ m} Σ_s arrivals[m − k, s] · cost[s, k, c]
        budget[y, c]   = (1 + r) ** −y · Σ_m (o[m, y] / h) · stream[m, c]        (y = t − 1)

    In the new scenario ``stream`` uses the policy costs for the years ``y ≥ policy_start_year − 1``.
    With annual cycles this is the textbook sum ``B_t = Σ_{j ≤ t} E_j · c_{t − j}``.

    References
    ----------
    Sullivan SD, Mauskopf JA, Augustovski F, et al. Budget impact analysis—principles of good
    practice: report of the ISPOR 2012 Budget Impact Analysis Good Practice II Task Force.
    Value Health 2014;17(1):5-14.

    Examples
    --------
    >>> cost = np.array([[[[100.0], [50.0]], [[100.0], [50.0]]]])  # 1 draw, 2 strategies, 2 cycles
    >>> mix = np.array([[1.0, 0.0], [1.0, 0.0]])
    >>> b = compute_budget(cost, cycle_years=1.0, episodes_per_year=[1000, 1000], mix_current=mix, mix_new=mix)
    >>> b.current[0, :, 0]
    array([100000., 150000.])
    """
    h = float(cycle_years)
    if not (math.isfinite(h) and h > 0):
        raise UsageError(f"compute_budget: cycle_years must be a positive number of years; got {cycle_years!r}")
    if not (math.isfinite(discount_rate) and 0.0 <= discount_rate < 1.0):
        raise UsageError(
            f"compute_budget: discount_rate must be a fraction in [0, 1); got {discount_rate!r}"
            + (f" — did you mean {discount_rate / 100:g}?" if 1 <= discount_rate < 100 else "")
        )
    cost = _check_per_cycle("cost_per_cycle", cost_per_cycle)
    n_strategies = cost.shape[1]
    episodes = np.asarray(episodes_per_year, dtype=float)
    if episodes.ndim not in (1, 2) or episodes.shape[-1] < 1:
        raise UsageError(f"compute_budget: episodes_per_year must have shape (year,) or (draw, year); got {episodes.shape}")
    if not np.all(np.isfinite(episodes)) or np.any(episodes < 0):
        raise UsageError(
            "compute_budget: episodes_per_year must be finite and >= 0; "
            f"first bad cell at index {tuple(int(i) for i in np.argwhere(~(episodes >= 0) | ~np.isfinite(episodes))[0])}"
        )
    episodes = episodes.reshape((-1, episodes.shape[-1]))
    n_years = episodes.shape[1]
    mixes = {name: _check_mix(name, m, n_years, n_strategies) for name, m in (("mix_current", mix_current), ("mix_new", mix_new))}
    if (policy_cost_per_cycle is None) != (policy_start_year is None):
        raise UsageError("compute_budget: give policy_cost_per_cycle and policy_start_year together (or neither)")
    policy = None
    if policy_cost_per_cycle is not None:
        policy = _check_per_cycle("policy_cost_per_cycle", policy_cost_per_cycle, like=cost)
        if (
            isinstance(policy_start_year, bool)
            or not isinstance(policy_start_year, (int, np.integer))
            or not 1 <= policy_start_year <= n_years
        ):
            raise UsageError(
                f"compute_budget: policy_start_year must be a whole year in 1..{n_years} (the horizon); "
                f"got {policy_start_year!r} — lengthen the horizon or drop the policy"
            )
    svc = pol_svc = None
    if services_per_cycle is not None:
        svc = _check_per_cycle("services_per_cycle", services_per_cycle, strategies=n_strategies)
        if policy is not None:
            if policy_services_per_cycle is None:
                raise UsageError(
                    "compute_budget: a policy changes volumes too; give policy_services_per_cycle "
                    "(the services under the policy) with services_per_cycle"
                )
            pol_svc = _check_per_cycle("policy_services_per_cycle", policy_services_per_cycle, like=svc)
    elif policy_services_per_cycle is not None:
        raise UsageError("compute_budget: policy_services_per_cycle was given without services_per_cycle")
    initial = None
    if initial_patients is not None:
        initial = np.atleast_1d(np.asarray(initial_patients, dtype=float))
        if initial.ndim != 1 or not np.all(np.isfinite(initial)) or np.any(initial < 0):
            raise UsageError(
                f"compute_budget: initial_patients must be a number >= 0 or one per draw (shape (draw,)); got {initial.tolist()}"
            )
    leave = np.atleast_1d(np.asarray(leave_per_year, dtype=float))
    if leave.ndim != 1 or not np.all(np.isfinite(leave)) or np.any((leave < 0) | (leave >= 1)):
        raise UsageError(
            f"compute_budget: leave_per_year must be a fraction in [0, 1) or one per draw; got {leave.tolist()}"
            " — did you write a percentage? 21.5 % is 0.215"
        )
    arrays = [cost, episodes] + [a for a in (policy, svc, pol_svc) if a is not None]
    if initial is not None:
        arrays.append(initial[:, None])
    if leave.size > 1:
        arrays.append(leave[:, None])
    try:
        n_draws = np.broadcast_shapes(*[(a.shape[0],) for a in arrays])[0]
    except ValueError:
        raise UsageError(
            "compute_budget: the draw axes differ: "
            + ", ".join(str(a.shape[0]) for a in arrays)
            + " — every input needs the same number of draws (or 1)"
        ) from None

    overlap = _grid_overlap(h, n_years)  # (M, Y), years
    share = overlap / h  # fraction of grid cycle m in year y
    before = np.arange(n_years) + 1 < (policy_start_year or n_years + 1)
    discount = (1.0 + discount_rate) ** -np.arange(n_years, dtype=float)
    arrivals = {name: overlap @ (episodes[:, :, None] * m) for name, m in mixes.items()}  # (D, M, S)
    if initial is not None:  # prevalent patients enter at time 0 with the first year's mix
        for name, m in mixes.items():
            arrivals[name] = np.broadcast_to(arrivals[name], (n_draws,) + arrivals[name].shape[1:]).copy()
            arrivals[name][:, 0, :] += initial[:, None] * m[0]
    if np.any(leave > 0):
        n_cycles = cost.shape[2]
        enrolled = (1.0 - leave[:, None]) ** ((np.arange(n_cycles) + 0.5) * h)  # (D, K)
        cost = cost * enrolled[:, None, :, None]
        policy = None if policy is None else policy * enrolled[:, None, :, None]
        svc = None if svc is None else svc * enrolled[:, None, :, None]
        pol_svc = None if pol_svc is None else pol_svc * enrolled[:, None, :, None]

    def accumulate(per_cycle, arrive, policy_per_cycle=None):
        if policy_per_cycle is None:
            out = share.T @ _stream(arrive, per_cycle)  # (D, Y, C)
        else:  # years before / from the start
            out = (share.T * before[:, None]) @ _stream(arrive, per_cycle) + (share.T * ~before[:, None]) @ _stream(
                arrive, policy_per_cycle
            )
        return np.broadcast_to(out, (n_draws,) + out.shape[1:]).copy()

    current = accumulate(cost, arrivals["mix_current"]) * discount[:, None]
    new = accumulate(cost, arrivals["mix_new"], policy) * discount[:, None]
    services_current = services_new = services_difference = None
    if svc is not None:
        services_current = accumulate(svc, arrivals["mix_current"])
        services_new = accumulate(svc, arrivals["mix_new"], pol_svc)
        services_difference = services_new - services_current
    episodes_d = np.broadcast_to(episodes, (n_draws, n_years)).copy()
    if initial is not None:
        episodes_d[:, 0] += np.broadcast_to(initial, (n_draws,))
    return BudgetImpact(
        current=current,
        new=new,
        difference=new - current,
        episodes=episodes_d,
        episodes_current=episodes_d[:, :, None] * mixes["mix_current"],
        episodes_new=episodes_d[:, :, None] * mixes["mix_new"],
        services_current=services_current,
        services_new=services_new,
        services_difference=services_difference,
        strategies=_labels("strategies", strategies, n_strategies),
        categories=_labels("categories", categories, cost.shape[3]),
        services=_labels("services", services, 0 if svc is None else svc.shape[3]),
        cycle_years=h,
        model_horizon_years=cost.shape[2] * h,
        discount_rate=float(discount_rate),
        policy_start_year=None if policy_start_year is None else int(policy_start_year),
    )


def combine_budgets(parts, *, names) -> BudgetImpact:
    """One plan budget from the budgets of its patient groups (e.g. new acute episodes and prevalent
    chronic patients), each computed by :func:`compute_budget` over the same years and categories.

    Budgets, episodes and services add up (services by name); the strategy axis of
    ``episodes_current``/``episodes_new`` is the groups' strategies one after the other, labelled
    ``"<group>:<strategy>"``. ``cycle_years``, ``model_horizon_years`` and ``policy_start_year`` are
    the first group's.

    Parameters
    ----------
    parts : sequence of BudgetImpact
    names : sequence of str
        One name per group.

    Returns
    -------
    BudgetImpact
    """
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    for part in parts[1:]:
        if part.categories != first.categories or part.n_years != first.n_years:
            raise UsageError(
                "combine_budgets: every group needs the same categories and years; got "
                f"{part.categories} over {part.n_years} years and {first.categories} over {first.n_years} years"
            )
    n_draws = max(p.n_draws for p in parts)

    def total(field):
        return sum(np.broadcast_to(getattr(p, field), (n_draws,) + getattr(p, field).shape[1:]) for p in parts).copy()

    services = tuple(dict.fromkeys(s for p in parts for s in p.services))
    svc = None
    if services:
        svc = {}
        for field in ("services_current", "services_new"):
            out = np.zeros((n_draws, first.n_years, len(services)))
            for p in parts:
                if getattr(p, field) is not None:
                    out[..., [services.index(s) for s in p.services]] += getattr(p, field)
            svc[field] = out
    strategies = tuple(f"{name}:{s}" for name, p in zip(names, parts) for s in p.strategies)

    def by_strategy(field):
        return np.concatenate(
            [np.broadcast_to(getattr(p, field), (n_draws,) + getattr(p, field).shape[1:]) for p in parts], axis=2
        )

    return BudgetImpact(
        current=total("current"),
        new=total("new"),
        difference=total("difference"),
        episodes=total("episodes"),
        episodes_current=by_strategy("episodes_current"),
        episodes_new=by_strategy("episodes_new"),
        services_current=None if svc is None else svc["services_current"],
        services_new=None if svc is None else svc["services_new"],
        services_difference=None if svc is None else svc["services_new"] - svc["services_current"],
        strategies=strategies,
        categories=first.categories,
        services=services,
        cycle_years=first.cycle_years,
        model_horizon_years=first.model_horizon_years,
        discount_rate=first.discount_rate,
        policy_start_year=first.policy_start_year,
    )


def drop_first_years(budget: BudgetImpact, n: int, *, discount_rate: float = 0.0) -> BudgetImpact:
    """The budget without its first ``n`` years (run-in years of an ongoing plan), re-discounted from the new year 1.

    ``policy_start_year`` moves back by ``n``.
    """
    import dataclasses

    if n <= 0:
        return budget
    if n >= budget.n_years:
        raise UsageError(f"drop_first_years: cannot drop {n} of {budget.n_years} years")
    undo = (1.0 + discount_rate) ** n  # year n + 1 was discounted by (1 + r) ** -n

    def cut(a, money=False):
        if a is None:
            return None
        return a[:, n:] * (undo if money else 1.0)

    return dataclasses.replace(
        budget,
        current=cut(budget.current, True),
        new=cut(budget.new, True),
        difference=cut(budget.difference, True),
        episodes=cut(budget.episodes),
        episodes_current=cut(budget.episodes_current),
        episodes_new=cut(budget.episodes_new),
        services_current=cut(budget.services_current),
        services_new=cut(budget.services_new),
        services_difference=cut(budget.services_difference),
        policy_start_year=None if budget.policy_start_year is None else budget.policy_start_year - n,
    )


def _grid_overlap(h: float, n_years: int) -> np.ndarray:
    """``o[m, y]``: years of grid cycle ``[m h, (m+1) h)`` inside calendar year ``[y, y+1)``, shape (M, Y)."""
    n_grid = max(1, int(math.ceil(n_years / h)))
    while (n_grid - 1) * h >= n_years and n_grid > 1:  # guard against rounding up past the horizon
        n_grid -= 1
    while n_grid * h < n_years:
        n_grid += 1
    start = np.arange(n_grid, dtype=float)[:, None] * h
    year = np.arange(n_years, dtype=float)[None, :]
    return np.clip(np.minimum(start + h, year + 1.0) - np.maximum(start, year), 0.0, None)


def _stream(arrivals: np.ndarray, per_cycle: np.ndarray) -> np.ndarray:
    """Totals delivered in each grid cycle: ``Σ_k arrivals[m − k] · per_cycle[k]``, shape (D, M, C)."""
    n_grid = arrivals.shape[1]
    n_draws = max(arrivals.shape[0], per_cycle.shape[0])
    out = np.zeros((n_draws, n_grid, per_cycle.shape[3]))
    for k in range(min(per_cycle.shape[2], n_grid)):  # loop over cycles only
        out[:, k:, :] += arrivals[:, : n_grid - k, :] @ per_cycle[:, :, k, :]
    return out


def _check_per_cycle(name, value, *, like=None, strategies=None) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.ndim != 4:
        raise UsageError(
            f"compute_budget: {name} must have shape (draw, strategy, cycle, category|service); "
            f"got {array.ndim} dimensions {array.shape}"
        )
    if like is not None and array.shape[1:] != like.shape[1:]:
        raise UsageError(
            f"compute_budget: {name} must match the shape of the base arrays apart from draws "
            f"({like.shape[1:]} after the draw axis); got {array.shape[1:]}"
        )
    if strategies is not None and array.shape[1] != strategies:
        raise UsageError(f"compute_budget: {name} has {array.shape[1]} strategies; cost_per_cycle has {strategies}")
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        d, s, k, c = (int(i) for i in bad[0])
        raise UsageError(
            f"compute_budget: {name} must be finite; draw={d} strategy={s} cycle={k} column={c} "
            f"is {array[d, s, k, c]} ({len(bad)} bad cells) — check the model run that produced it"
        )
    return array


def _check_mix(name, value, n_years: int, n_strategies: int) -> np.ndarray:
    mix = np.asarray(value, dtype=float)
    if mix.shape != (n_years, n_strategies):
        raise UsageError(
            f"compute_budget: {name} must have shape (year, strategy) = ({n_years}, {n_strategies}); got {mix.shape}"
        )
    bad = np.argwhere(~((mix >= 0) & (mix <= 1)))
    if bad.size:
        t, s = (int(i) for i in bad[0])
        raise UsageError(f"compute_budget: {name} year={t + 1} strategy={s}: share must be in [0, 1]; got {mix[t, s]}")
    sums = mix.sum(axis=1)
    bad_years = np.flatnonzero(np.abs(sums - 1.0) > SHARE_TOLERANCE)
    if bad_years.size:
        raise UsageError(
            f"compute_budget: {name} shares must sum to 1 in every year; "
            + "; ".join(f"year={t + 1} sums to {sums[t]:.6g}" for t in bad_years)
        )
    return mix


def _check_members(members_by_year, n_years) -> np.ndarray:
    members = np.asarray(members_by_year, dtype=float)
    if members.ndim != 1 or (n_years is not None and members.shape[0] != n_years):
        raise UsageError(f"members_by_year must have shape (year,){f' = ({n_years},)' if n_years else ''}; got {members.shape}")
    if not np.all(np.isfinite(members)) or np.any(members <= 0):
        raise UsageError(f"members_by_year must be positive in every year; got {members.tolist()}")
    return members


def _labels(name, labels, n) -> tuple:
    if labels is None:
        singular = {"strategies": "strategy", "categories": "category", "services": "service"}[name]
        return tuple(f"{singular}_{i + 1}" for i in range(n))
    labels = tuple(str(x) for x in labels)
    if len(labels) != n:
        raise UsageError(f"compute_budget: {name} has {len(labels)} labels for an axis of length {n}")
    return labels


# --------------------------------------------------------------------------------------------
# Summary


def summarize_budget(budget: BudgetImpact, *, members_by_year) -> list[dict]:
    """Mean and 95 % interval over draws, per year and in total, as long-table records.

    Parameters
    ----------
    budget : BudgetImpact
    members_by_year : array_like, shape (year,)
        Average enrolled members, for PMPM.

    Returns
    -------
    list of dict
        One record per ``(measure, item, year)`` with keys ``measure``, ``item``, ``year``
        (``1..Y`` or ``"total"``), ``mean``, ``low``, ``high``. Measures: ``budget_current``,
        ``budget_new``, ``budget_difference``, ``pmpm_current``, ``pmpm_new``, ``pmpm_difference``
        (item ``"all"`` or a category), ``episodes`` (item ``"all"``), ``episodes_current``,
        ``episodes_new`` (item a strategy) and, when counted, ``services_current``,
        ``services_new``, ``services_difference`` (item a service). ``low``/``high`` are the 2.5 %
        and 97.5 % points over draws when there is more than one draw, else ``None``.

    Notes
    -----
    ``PMPM_t = budget_t / (members_t · 12)``; the total PMPM is ``Σ_t budget_t / (12 · Σ_t members_t)``.
    Intervals of totals are taken over the draws of the total, not summed from per-year intervals.
    """
    members = _check_members(members_by_year, budget.n_years)
    months = np.append(12.0 * members, 12.0 * members.sum())  # (year + 1,)
    rows: list[dict] = []

    def add(measure, values, items, *, per_month=False):
        # values: (draw, year, item); append the total over years, then the sum over items as "all"
        values = np.concatenate([values, values.sum(axis=1, keepdims=True)], axis=1)
        if per_month:
            values = values / months[None, :, None]
        for j, item in enumerate(items):
            _add_rows(rows, measure, item, values[:, :, j])

    for scenario in ("current", "new", "difference"):
        by_category = getattr(budget, scenario)
        with_all = np.concatenate([by_category.sum(axis=2, keepdims=True), by_category], axis=2)
        add(f"budget_{scenario}", with_all, ("all",) + budget.categories)
        add(f"pmpm_{scenario}", with_all, ("all",) + budget.categories, per_month=True)
    add("episodes", budget.episodes[:, :, None], ("all",))
    add("episodes_current", budget.episodes_current, budget.strategies)
    add("episodes_new", budget.episodes_new, budget.strategies)
    if budget.services_current is not None:
        for scenario in ("current", "new", "difference"):
            add(f"services_{scenario}", getattr(budget, f"services_{scenario}"), budget.services)
    return rows


def _add_rows(rows: list, measure: str, item: str, values: np.ndarray) -> None:
    n_years = values.shape[1] - 1
    interval = values.shape[0] > 1
    if interval:
        tail = (100.0 - SUMMARY_LEVEL) / 2.0
        low, high = np.percentile(values, [tail, 100.0 - tail], axis=0)
    mean = values.mean(axis=0)
    for y in range(n_years + 1):
        rows.append(
            {
                "measure": measure,
                "item": item,
                "year": y + 1 if y < n_years else "total",
                "mean": float(mean[y]),
                "low": float(low[y]) if interval else None,
                "high": float(high[y]) if interval else None,
            }
        )
