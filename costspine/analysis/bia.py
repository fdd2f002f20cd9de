"""Budget impact analysis: a plan's spine-care budget by calendar year under two pathway mixes.

Each calendar year's new spine-pain episodes form an entering cohort that runs through the
pathway (cohort) model. A cohort contributes costs to later calendar years according to its
*time since entry*, never the calendar year, and the budget of a year is the sum over every
cohort that has entered so far (Sullivan et al. 2014, ISPOR BIA Good Practice II). Arrays in,
arrays out: no files, no pandas, no printing. The method and the ``[budget_impact]`` keys are in
``docs/budget-impact.md``.

Timing scheme (exact, any cycle length): calendar time from the start of year 1 is cut into grid
cycles ``[m·h, (m+1)·h)`` of the model's cycle length ``h`` years. Episodes arrive evenly within
each year, so grid cycle ``m`` receives ``Σ_y E_y · |cycle m ∩ year y|`` arrivals, which enter the
model at that cycle's start; cost of model cycle ``k`` of those arrivals falls in grid cycle
``m + k``, spread evenly over it, and is shared between calendar years by overlap.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

import numpy as np

from costspine.errors import Problem, ScenarioError, UsageError

MAX_YEARS = 10
SHARE_TOLERANCE = 1e-6
REST = "rest"
UPTAKE_SHAPES = ("linear", "s-curve")
PERSPECTIVES = ("payer",)
SECTION_KEYS = {"description", "perspective", "years", "members", "member_growth_per_year", "age_mix",
                "episodes_per_1000_members", "mix_current", "mix_new", "policy", "categories",
                "discount_rate"}
REQUIRED_KEYS = SECTION_KEYS - {"description", "age_mix", "policy"}
EPISODE_KEYS = {"value", "source"}
POLICY_KEYS = {"scenario", "start_year"}
UPTAKE_KEYS = {"start", "end", "shape"}
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
        raise UsageError(f"build_population: growth_per_year must be a fraction in (-1, 1); got {growth_per_year!r}"
                         " — did you write a percentage? 2 % is 0.02")
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise UsageError(f"build_population: years must be a whole number >= 1; got {years!r}")
    return float(members) * (1.0 + growth_per_year) ** np.arange(years, dtype=float)


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
            raise UsageError(f"episodes_from_rate: rate_per_1000 must end with one rate per age band "
                             f"({shares.shape[0] if shares.ndim == 1 else '?'}); got shape {rate.shape}")
        if np.any(shares < 0) or abs(shares.sum() - 1.0) > SHARE_TOLERANCE:
            raise UsageError(f"episodes_from_rate: age_shares must be >= 0 and sum to 1; got {shares.tolist()}")
        rate = rate @ shares
    if rate.ndim > 1 or not np.all(np.isfinite(rate)) or np.any(rate < 0):
        raise UsageError("episodes_from_rate: rate_per_1000 must be a finite number >= 0 or one per draw "
                         f"(shape (draw,)); got shape {rate.shape}, min {rate.min() if rate.size else 'n/a'}")
    return rate[..., None] * members / 1000.0 if rate.ndim else members * float(rate) / 1000.0


def uptake_curve(start: float, end: float, years: int, *, shape: str = "linear") -> np.ndarray:
    """Share of new episodes taking up a pathway in each year, from ``start`` (year 1) to ``end`` (last year).

    Parameters
    ----------
    start, end : float
        Shares in [0, 1] in year 1 and in year ``years``.
    years : int
        ≥ 1; with one year ``start`` must equal ``end``.
    shape : {"linear", "s-curve"}
        ``linear``: ``f(x) = x``; ``s-curve``: smoothstep ``f(x) = 3x² − 2x³`` (slow, fast, slow).

    Returns
    -------
    ndarray, shape (year,)
        ``start + (end − start) · f((t − 1) / (years − 1))``.

    Examples
    --------
    >>> uptake_curve(0.1, 0.5, 5)
    array([0.1, 0.2, 0.3, 0.4, 0.5])
    """
    if shape not in UPTAKE_SHAPES:
        raise UsageError(f"uptake_curve: shape must be one of {', '.join(UPTAKE_SHAPES)}; got {shape!r}")
    for name, value in (("start", start), ("end", end)):
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise UsageError(f"uptake_curve: {name} must be a share in [0, 1]; got {value!r}")
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years < 1:
        raise UsageError(f"uptake_curve: years must be a whole number >= 1; got {years!r}")
    if years == 1:
        if start != end:
            raise UsageError(f"uptake_curve: with one year the curve has one point; start ({start}) and end "
                             f"({end}) differ — give a single share instead")
        return np.array([float(start)])
    x = np.arange(years, dtype=float) / (years - 1)
    f = x if shape == "linear" else x * x * (3.0 - 2.0 * x)
    return start + (end - start) * f


# --------------------------------------------------------------------------------------------
# The budget


def compute_budget(cost_per_cycle, *, cycle_years: float, episodes_per_year, mix_current, mix_new,
                   policy_cost_per_cycle=None, policy_start_year: int | None = None, discount_rate: float = 0.0,
                   services_per_cycle=None, policy_services_per_cycle=None,
                   strategies=None, categories=None, services=None) -> BudgetImpact:
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
    >>> cost = np.array([[[[100.0], [50.0]], [[100.0], [50.0]]]])   # 1 draw, 2 strategies, 2 cycles
    >>> mix = np.array([[1.0, 0.0], [1.0, 0.0]])
    >>> b = compute_budget(cost, cycle_years=1.0, episodes_per_year=[1000, 1000], mix_current=mix, mix_new=mix)
    >>> b.current[0, :, 0]
    array([100000., 150000.])
    """
    h = float(cycle_years)
    if not (math.isfinite(h) and h > 0):
        raise UsageError(f"compute_budget: cycle_years must be a positive number of years; got {cycle_years!r}")
    if not (math.isfinite(discount_rate) and 0.0 <= discount_rate < 1.0):
        raise UsageError(f"compute_budget: discount_rate must be a fraction in [0, 1); got {discount_rate!r}"
                         + (f" — did you mean {discount_rate / 100:g}?" if 1 <= discount_rate < 100 else ""))
    cost = _check_per_cycle("cost_per_cycle", cost_per_cycle)
    n_strategies = cost.shape[1]
    episodes = np.asarray(episodes_per_year, dtype=float)
    if episodes.ndim not in (1, 2) or episodes.shape[-1] < 1:
        raise UsageError(f"compute_budget: episodes_per_year must have shape (year,) or (draw, year); got {episodes.shape}")
    if not np.all(np.isfinite(episodes)) or np.any(episodes < 0):
        raise UsageError("compute_budget: episodes_per_year must be finite and >= 0; "
                         f"first bad cell at index {tuple(int(i) for i in np.argwhere(~(episodes >= 0) | ~np.isfinite(episodes))[0])}")
    episodes = episodes.reshape((-1, episodes.shape[-1]))
    n_years = episodes.shape[1]
    mixes = {name: _check_mix(name, m, n_years, n_strategies) for name, m in
             (("mix_current", mix_current), ("mix_new", mix_new))}
    if (policy_cost_per_cycle is None) != (policy_start_year is None):
        raise UsageError("compute_budget: give policy_cost_per_cycle and policy_start_year together (or neither)")
    policy = None
    if policy_cost_per_cycle is not None:
        policy = _check_per_cycle("policy_cost_per_cycle", policy_cost_per_cycle, like=cost)
        if isinstance(policy_start_year, bool) or not isinstance(policy_start_year, (int, np.integer)) \
                or not 1 <= policy_start_year <= n_years:
            raise UsageError(f"compute_budget: policy_start_year must be a whole year in 1..{n_years} (the horizon); "
                             f"got {policy_start_year!r} — lengthen the horizon or drop the policy")
    svc = pol_svc = None
    if services_per_cycle is not None:
        svc = _check_per_cycle("services_per_cycle", services_per_cycle, strategies=n_strategies)
        if policy is not None:
            if policy_services_per_cycle is None:
                raise UsageError("compute_budget: a policy changes volumes too; give policy_services_per_cycle "
                                 "(the services under the policy) with services_per_cycle")
            pol_svc = _check_per_cycle("policy_services_per_cycle", policy_services_per_cycle, like=svc)
    elif policy_services_per_cycle is not None:
        raise UsageError("compute_budget: policy_services_per_cycle was given without services_per_cycle")
    arrays = [cost, episodes] + [a for a in (policy, svc, pol_svc) if a is not None]
    try:
        n_draws = np.broadcast_shapes(*[(a.shape[0],) for a in arrays])[0]
    except ValueError:
        raise UsageError("compute_budget: the draw axes differ: " + ", ".join(str(a.shape[0]) for a in arrays)
                         + " — every input needs the same number of draws (or 1)") from None

    overlap = _grid_overlap(h, n_years)                      # (M, Y), years
    share = overlap / h                                     # fraction of grid cycle m in year y
    before = np.arange(n_years) + 1 < (policy_start_year or n_years + 1)
    discount = (1.0 + discount_rate) ** -np.arange(n_years, dtype=float)
    arrivals = {name: overlap @ (episodes[:, :, None] * m) for name, m in mixes.items()}   # (D, M, S)

    def accumulate(per_cycle, arrive, policy_per_cycle=None):
        if policy_per_cycle is None:
            out = share.T @ _stream(arrive, per_cycle)                           # (D, Y, C)
        else:                                                                    # years before / from the start
            out = ((share.T * before[:, None]) @ _stream(arrive, per_cycle)
                   + (share.T * ~before[:, None]) @ _stream(arrive, policy_per_cycle))
        return np.broadcast_to(out, (n_draws,) + out.shape[1:]).copy()

    current = accumulate(cost, arrivals["mix_current"]) * discount[:, None]
    new = accumulate(cost, arrivals["mix_new"], policy) * discount[:, None]
    services_current = services_new = services_difference = None
    if svc is not None:
        services_current = accumulate(svc, arrivals["mix_current"])
        services_new = accumulate(svc, arrivals["mix_new"], pol_svc)
        services_difference = services_new - services_current
    episodes_d = np.broadcast_to(episodes, (n_draws, n_years)).copy()
    return BudgetImpact(
        current=current, new=new, difference=new - current, episodes=episodes_d,
        episodes_current=episodes_d[:, :, None] * mixes["mix_current"],
        episodes_new=episodes_d[:, :, None] * mixes["mix_new"],
        services_current=services_current, services_new=services_new, services_difference=services_difference,
        strategies=_labels("strategies", strategies, n_strategies),
        categories=_labels("categories", categories, cost.shape[3]),
        services=_labels("services", services, 0 if svc is None else svc.shape[3]),
        cycle_years=h, model_horizon_years=cost.shape[2] * h, discount_rate=float(discount_rate),
        policy_start_year=None if policy_start_year is None else int(policy_start_year),
    )


def _grid_overlap(h: float, n_years: int) -> np.ndarray:
    """``o[m, y]``: years of grid cycle ``[m h, (m+1) h)`` inside calendar year ``[y, y+1)``, shape (M, Y)."""
    n_grid = max(1, int(math.ceil(n_years / h)))
    while (n_grid - 1) * h >= n_years and n_grid > 1:       # guard against rounding up past the horizon
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
    for k in range(min(per_cycle.shape[2], n_grid)):         # loop over cycles only
        out[:, k:, :] += arrivals[:, : n_grid - k, :] @ per_cycle[:, :, k, :]
    return out


def _check_per_cycle(name, value, *, like=None, strategies=None) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.ndim != 4:
        raise UsageError(f"compute_budget: {name} must have shape (draw, strategy, cycle, category|service); "
                         f"got {array.ndim} dimensions {array.shape}")
    if like is not None and array.shape[1:] != like.shape[1:]:
        raise UsageError(f"compute_budget: {name} must match the shape of the base arrays apart from draws "
                         f"({like.shape[1:]} after the draw axis); got {array.shape[1:]}")
    if strategies is not None and array.shape[1] != strategies:
        raise UsageError(f"compute_budget: {name} has {array.shape[1]} strategies; cost_per_cycle has {strategies}")
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        d, s, k, c = (int(i) for i in bad[0])
        raise UsageError(f"compute_budget: {name} must be finite; draw={d} strategy={s} cycle={k} column={c} "
                         f"is {array[d, s, k, c]} ({len(bad)} bad cells) — check the model run that produced it")
    return array


def _check_mix(name, value, n_years: int, n_strategies: int) -> np.ndarray:
    mix = np.asarray(value, dtype=float)
    if mix.shape != (n_years, n_strategies):
        raise UsageError(f"compute_budget: {name} must have shape (year, strategy) = ({n_years}, {n_strategies}); "
                         f"got {mix.shape}")
    bad = np.argwhere(~((mix >= 0) & (mix <= 1)))
    if bad.size:
        t, s = (int(i) for i in bad[0])
        raise UsageError(f"compute_budget: {name} year={t + 1} strategy={s}: share must be in [0, 1]; got {mix[t, s]}")
    sums = mix.sum(axis=1)
    bad_years = np.flatnonzero(np.abs(sums - 1.0) > SHARE_TOLERANCE)
    if bad_years.size:
        raise UsageError(f"compute_budget: {name} shares must sum to 1 in every year; "
                         + "; ".join(f"year={t + 1} sums to {sums[t]:.6g}" for t in bad_years))
    return mix


def _check_members(members_by_year, n_years) -> np.ndarray:
    members = np.asarray(members_by_year, dtype=float)
    if members.ndim != 1 or (n_years is not None and members.shape[0] != n_years):
        raise UsageError(f"members_by_year must have shape (year,){f' = ({n_years},)' if n_years else ''}; "
                         f"got {members.shape}")
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
    months = np.append(12.0 * members, 12.0 * members.sum())            # (year + 1,)
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
        rows.append({"measure": measure, "item": item, "year": y + 1 if y < n_years else "total",
                     "mean": float(mean[y]), "low": float(low[y]) if interval else None,
                     "high": float(high[y]) if interval else None})


# --------------------------------------------------------------------------------------------
# The [budget_impact] scenario section


def check_budget_impact_section(section: dict, *, where: str, strategies: list[str], categories: list[str],
                                parameters=None) -> list[Problem]:
    """Every problem of a ``[budget_impact]`` table (keys in ``docs/budget-impact.md``); never raises.

    Parameters
    ----------
    section : dict
        The table as read from TOML.
    where : str
        Prefix of key paths, e.g. ``"scenarios/bia.toml: budget_impact"``.
    strategies, categories : list of str
        The scenario's strategies and cost categories.
    parameters : collection of str, optional
        The scenario's parameter names; when given, names in ``episodes_per_1000_members.value``
        expressions are checked against them.

    Returns
    -------
    list of Problem
        Empty when the section is valid.
    """
    problems: list[Problem] = []

    def add(key, message):
        problems.append(Problem(f"{where}.{key}" if key else where, message))

    if not isinstance(section, dict):
        add("", f"expected a table, got {_describe(section)}")
        return problems
    for key in section:
        if key not in SECTION_KEYS:
            add(key, "unknown key" + _hint(key, SECTION_KEYS, always=True))
    for key in sorted(REQUIRED_KEYS - set(section)):
        add(key, "missing (every input that changes the budget is written in the file; see docs/budget-impact.md)")
    years = _number(add, "years", section.get("years"), low=1, high=MAX_YEARS, integer=True,
                    hint=" — ISPOR recommends 1 to 5 years")
    _text(add, "perspective", section.get("perspective"), choices=PERSPECTIVES)
    _text(add, "description", section.get("description"))
    _number(add, "members", section.get("members"), low=0, exclusive=True)
    _number(add, "member_growth_per_year", section.get("member_growth_per_year"), low=-1, high=1, exclusive=True,
            hint=_percent_hint(section.get("member_growth_per_year"), "growth is a fraction"))
    _number(add, "discount_rate", section.get("discount_rate"), low=0, high=1, exclusive_high=True,
            hint=_percent_hint(section.get("discount_rate"), "rates are fractions")
            + " (ISPOR BIA reports undiscounted budgets: discount_rate = 0)")
    bands = _check_age_mix(add, section.get("age_mix"))
    _check_episode_rate(add, section.get("episodes_per_1000_members"), bands, parameters)
    if "categories" in section:
        _check_categories(add, section["categories"], categories)
    for key in ("mix_current", "mix_new"):
        if key in section and years is not None:
            _resolve_mix(section[key], strategies=list(strategies), years=years, key=key, add=add)
        elif key in section:
            _resolve_mix(section[key], strategies=list(strategies), years=1, key=key, add=add, shape_only=True)
    if "policy" in section:
        _check_policy(add, section["policy"], years)
    return problems


def build_mix(spec: dict, *, strategies, years: int, where: str = "budget_impact.mix") -> np.ndarray:
    """Pathway shares by year, shape (year, strategy), from a ``mix_current``/``mix_new`` table.

    Entries are a share, a list of shares by year, an uptake curve ``{start, end, shape}`` or
    ``"rest"`` (one minus the others); strategies not listed have share 0.

    Raises
    ------
    ScenarioError
        With every problem of the table.
    """
    problems: list[Problem] = []
    mix = _resolve_mix(spec, strategies=list(strategies), years=years, key=None,
                       add=lambda key, msg: problems.append(Problem(f"{where}.{key}" if key else where, msg)))
    if problems:
        raise ScenarioError(problems)
    return mix


def _resolve_mix(spec, *, strategies, years, key, add, shape_only=False):
    def path(*parts):
        return ".".join(p for p in (key,) + parts if p)

    if not isinstance(spec, dict) or not spec:
        add(path(), f"expected a table {{strategy = share}}, got {_describe(spec)}")
        return None
    shares = np.zeros((years, len(strategies)))
    rest, ok = [], True
    for name, value in spec.items():
        if name not in strategies:
            add(path(name), "unknown strategy" + _hint(name, strategies, always=True))
            ok = False
            continue
        j = strategies.index(name)
        if value == REST:
            rest.append(name)
        elif isinstance(value, list):
            if not shape_only and len(value) != years:
                add(path(name), f"has {len(value)} shares; expected one per year ({years}), or a single share")
                ok = False
                continue
            for t, v in enumerate(value):
                number = _number(add, path(name) + f"[{t}]", v, low=0, high=1)
                ok = ok and number is not None
                if number is not None and not shape_only:
                    shares[t, j] = number
        elif isinstance(value, dict):
            ok = _uptake_into(add, path(name), value, shares[:, j], years, shape_only) and ok
        elif isinstance(value, str):
            add(path(name), f"expected a share, a list of shares by year, {{start, end, shape}} or \"rest\"; got {value!r}")
            ok = False
        else:
            number = _number(add, path(name), value, low=0, high=1)
            ok = ok and number is not None
            shares[:, j] = number or 0.0
    if len(rest) > 1:
        add(path(), f"at most one strategy may be \"rest\"; got {', '.join(rest)}")
        return None
    if not ok or shape_only:
        return None
    others = shares.sum(axis=1)
    if rest:
        remainder = 1.0 - others
        bad = np.flatnonzero(remainder < -SHARE_TOLERANCE)
        if bad.size:
            add(path(rest[0]), "\"rest\" would be negative: " + "; ".join(
                f"year {t + 1}: the other shares sum to {others[t]:.6g}" for t in bad))
            return None
        shares[:, strategies.index(rest[0])] = np.maximum(remainder, 0.0)
        return shares
    bad = np.flatnonzero(np.abs(others - 1.0) > SHARE_TOLERANCE)
    if bad.size:
        add(path(), "shares must sum to 1 in every year: " + "; ".join(
            f"year {t + 1} sums to {others[t]:.6g}" for t in bad) + " — or let one strategy be \"rest\"")
        return None
    return shares


def _uptake_into(add, key, spec, out, years, shape_only) -> bool:
    ok = True
    for k in spec:
        if k not in UPTAKE_KEYS:
            add(f"{key}.{k}", "unknown key" + _hint(k, UPTAKE_KEYS, always=True))
            ok = False
    for k in sorted(UPTAKE_KEYS - set(spec)):
        add(f"{key}.{k}", "missing; an uptake curve is {start = share, end = share, shape = \"linear\"}")
        ok = False
    start = _number(add, f"{key}.start", spec.get("start"), low=0, high=1)
    end = _number(add, f"{key}.end", spec.get("end"), low=0, high=1)
    shape = _text(add, f"{key}.shape", spec.get("shape"), choices=UPTAKE_SHAPES)
    if not ok or None in (start, end, shape):
        return False
    if shape_only:
        return True
    if years == 1 and start != end:
        add(key, f"one year cannot go from {start} to {end}; give a single share")
        return False
    out[:] = uptake_curve(start, end, years, shape=shape)
    return True


def _check_age_mix(add, spec):
    if spec is None:
        return None
    if not isinstance(spec, dict) or not spec:
        add("age_mix", f"expected a table {{band = share}} such as {{\"18-44\" = 0.5, \"45-64\" = 0.5}}; got {_describe(spec)}")
        return None
    values = [_number(add, f"age_mix.{band}", v, low=0, high=1) for band, v in spec.items()]
    if None not in values and abs(sum(values) - 1.0) > SHARE_TOLERANCE:
        add("age_mix", f"shares must sum to 1; got {sum(values):.6g}")
    return list(spec)


def _check_episode_rate(add, spec, bands, parameters):
    key = "episodes_per_1000_members"
    if spec is None:
        return
    if not isinstance(spec, dict):
        add(key, f"expected a table {{value = ..., source = \"...\"}}, got {_describe(spec)}"
                 " — the rate needs its source (write \"assumption: ...\" where there is none)")
        return
    for k in spec:
        if k not in EPISODE_KEYS:
            add(f"{key}.{k}", "unknown key" + _hint(k, EPISODE_KEYS, always=True))
    source = _text(add, f"{key}.source", spec.get("source"), required=True)
    if source is not None and not source.strip():
        add(f"{key}.source", "is empty; cite the source or write \"assumption: <reasoning>\"")
    value = spec.get("value")
    if value is None:
        add(f"{key}.value", "missing; expected episodes per 1,000 members per year (a number, an expression "
                            "or, with age_mix, a table by age band)")
    elif isinstance(value, dict):
        if bands is None:
            add(f"{key}.value", "a rate by age band needs an age_mix table with the same bands")
            return
        for band in value:
            if band not in bands:
                add(f"{key}.value.{band}", "not a band of age_mix" + _hint(band, bands, always=True))
        for band in bands:
            if band not in value:
                add(f"{key}.value.{band}", "missing; give a rate for every band of age_mix")
            else:
                _rate(add, f"{key}.value.{band}", value[band], parameters)
    else:
        if bands is not None:
            add(f"{key}.value", "with age_mix, give a table of rates by age band")
        _rate(add, f"{key}.value", value, parameters)


def _rate(add, key, value, parameters):
    from costspine.expressions import FUNCTIONS, ExpressionError, parse_expression

    if isinstance(value, str):
        try:
            expr = parse_expression(value)
        except ExpressionError as exc:
            add(key, str(exc))
            return
        unknown = sorted(expr.names - set(parameters)) if parameters is not None else []
        for name in unknown:
            add(key, f"{name!r} is not a parameter" + _hint(name, parameters, always=False))
        if not expr.names and expr.calls <= set(FUNCTIONS):
            _number(add, key, float(np.asarray(expr.evaluate({}))), low=0)
    else:
        _number(add, key, value, low=0)


def _check_categories(add, value, categories):
    if value == "all":
        return
    if not isinstance(value, list) or not value:
        add("categories", f"expected \"all\" or a non-empty array of cost categories; got {_describe(value)}")
        return
    seen = set()
    for i, name in enumerate(value):
        if not isinstance(name, str) or name not in categories:
            add(f"categories[{i}]", f"unknown cost category {name!r}" + _hint(str(name), categories, always=True))
        elif name in seen:
            add(f"categories[{i}]", f"{name!r} is listed twice")
        seen.add(name)


def _check_policy(add, spec, years):
    if not isinstance(spec, dict):
        add("policy", f"expected a table {{scenario = \"file.toml\", start_year = 2}}; got {_describe(spec)}")
        return
    for k in spec:
        if k not in POLICY_KEYS:
            add(f"policy.{k}", "unknown key" + _hint(k, POLICY_KEYS, always=True))
    for k in sorted(POLICY_KEYS - set(spec)):
        add(f"policy.{k}", "missing; a policy is {scenario = \"file.toml\", start_year = 2}")
    scenario = _text(add, "policy.scenario", spec.get("scenario"))
    if scenario is not None and not scenario.endswith(".toml"):
        add("policy.scenario", f"expected the path of a scenario file ending in .toml; got {scenario!r}")
    high = years if years is not None else MAX_YEARS
    _number(add, "policy.start_year", spec.get("start_year"), low=1, high=high, integer=True,
            hint=f" — the policy must start within the horizon (years = {high})")


def _number(add, key, value, *, low=None, high=None, integer=False, exclusive=False, exclusive_high=False, hint=""):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        add(key, f"expected a number, got {_describe(value)}")
        return None
    if not math.isfinite(value):
        add(key, f"expected a finite number, got {value}")
        return None
    if integer and value != int(value):
        add(key, f"expected a whole number, got {value}")
        return None
    too_low = low is not None and (value <= low if exclusive else value < low)
    too_high = high is not None and (value >= high if (exclusive or exclusive_high) else value > high)
    if too_low or too_high:
        left = "(" if (exclusive or low is None) else "["
        right = ")" if (exclusive or exclusive_high or high is None) else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        add(key, f"must be in {left}{lo}, {hi}{right}; got {value:g}{hint}")
        return None
    return int(value) if integer else float(value)


def _text(add, key, value, *, choices=None, required=False):
    if value is None:
        if required:
            add(key, "missing; expected text")
        return None
    if not isinstance(value, str):
        add(key, f"expected text, got {_describe(value)}")
        return None
    if choices is not None and value not in choices:
        add(key, f"expected one of {', '.join(map(repr, choices))}; got {value!r}" + _hint(value, choices))
        return None
    return value


def _percent_hint(value, what: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= abs(value) < 100:
        return f" — {what}, did you mean {value / 100:g}?"
    return ""


def _hint(name, known, *, always=False) -> str:
    known = sorted(str(k) for k in known)
    match = difflib.get_close_matches(str(name), known, n=1)
    if match:
        return f" — did you mean {match[0]!r}?"
    return f"; expected one of: {', '.join(known)}" if always and known else ""


def _describe(value) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    return f"{type(value).__name__} {value!r}"
