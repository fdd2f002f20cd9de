"""Cost-effectiveness analysis on expected costs and effects.

Incremental results against a comparator, net monetary benefit, and the efficiency frontier with
strong and extended dominance (Drummond et al., *Methods for the Economic Evaluation of Health
Care Programmes*, 4th ed., ch. 4; the algorithm of dampack's ``calculate_icers``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DOMINATED = "dominated"
EXTENDED = "extendedly dominated"
FRONTIER = "frontier"

# What an ICER against a comparator means (:func:`classify_icer`): only the last two are ratios to print.
ICER_REFERENCE = "reference"
ICER_DOMINANT = "dominant"
ICER_DOMINATED = "dominated"
ICER_EQUAL_EFFECT = "equal effect"
ICER_COST_PER_GAIN = "cost per unit gained"
ICER_SAVING_PER_LOSS = "saving per unit forgone"


def classify_icer(incremental_cost: float, incremental_effect: float) -> str:
    """What the ICER of a strategy against its comparator means, from the two increments.

    Returns
    -------
    str
        ``dominant`` (costs no more, more effect), ``dominated`` (costs no less, less effect),
        ``equal effect`` (no ratio), ``cost per unit gained`` (more cost, more effect: the usual
        ICER) or ``saving per unit forgone`` (less cost, less effect). A negative ratio is
        never a number to print: it is always ``dominant`` or ``dominated``.

    Examples
    --------
    >>> classify_icer(-10.0, 0.5), classify_icer(10.0, 0.5), classify_icer(10.0, -0.5)
    ('dominant', 'cost per unit gained', 'dominated')
    """
    dc, de = float(incremental_cost), float(incremental_effect)
    if np.isnan(dc) or np.isnan(de) or de == 0:
        return ICER_EQUAL_EFFECT
    if de > 0:
        return ICER_DOMINANT if dc <= 0 else ICER_COST_PER_GAIN
    return ICER_DOMINATED if dc >= 0 else ICER_SAVING_PER_LOSS


def reportable_icer(incremental_cost: float, incremental_effect: float) -> float:
    """The ICER where it is a ratio to print (cost per unit gained, or saving per unit forgone), else NaN."""
    status = classify_icer(incremental_cost, incremental_effect)
    if status in (ICER_COST_PER_GAIN, ICER_SAVING_PER_LOSS):
        return float(incremental_cost) / float(incremental_effect)
    return float("nan")


def effect_unit(effect_label: str) -> str:
    """'QALYs' -> 'QALY', 'Life-years' -> 'life-year': the unit one ICER is counted per."""
    label = " ".join(str(effect_label).split())
    label = label[:1].lower() + label[1:] if label[1:2].islower() else label
    return label[:-1] if label.endswith("s") and not label.endswith("ss") else label


def describe_icer(incremental_cost: float, incremental_effect: float, *, currency: str = "", effect_label: str = "") -> str:
    """An ICER in words: '12,471 USD per QALY', '120 USD saved per QALY forgone', 'dominant', 'dominated'.

    Without ``effect_label`` the unit reads 'unit gained' / 'unit forgone'.
    """
    status = classify_icer(incremental_cost, incremental_effect)
    if status not in (ICER_COST_PER_GAIN, ICER_SAVING_PER_LOSS):
        return status
    money = f"{abs(float(incremental_cost) / float(incremental_effect)):,.0f}" + (f" {currency}" if currency else "")
    unit = effect_unit(effect_label) if effect_label else "unit"
    if status == ICER_COST_PER_GAIN:
        return f"{money} per {unit}" if effect_label else f"{money} per unit gained"
    return f"{money} saved per {unit} forgone"


@dataclass(frozen=True)
class CEATable:
    """Deterministic CEA of a set of strategies.

    Attributes
    ----------
    strategies : tuple of str
    cost, effect : ndarray, shape (strategy,)
    comparator : str
    incremental_cost, incremental_effect : ndarray, shape (strategy,)
        Versus the comparator.
    icer_vs_comparator : ndarray, shape (strategy,)
        ``nan`` for the comparator itself and where the increment in effect is 0.
    status : tuple of str
        ``frontier``, ``dominated`` or ``extendedly dominated``.
    frontier_icer : ndarray, shape (strategy,)
        ICER versus the previous strategy on the frontier (``nan`` for the first and off-frontier).
    wtp : tuple of float
    nmb : ndarray, shape (strategy, wtp)
        Net monetary benefit ``effect · λ − cost``.
    """

    strategies: tuple
    cost: np.ndarray
    effect: np.ndarray
    comparator: str
    incremental_cost: np.ndarray
    incremental_effect: np.ndarray
    icer_vs_comparator: np.ndarray
    status: tuple
    frontier_icer: np.ndarray
    wtp: tuple
    nmb: np.ndarray
    currency: str = ""
    effect_label: str = ""

    def describe_vs_comparator(self, k: int) -> str:
        """Plain words for strategy ``k`` against the comparator: 'dominant (less costly, more effective)',
        'dominated (more costly, less effective)', or the ICER with its unit ('12,471 USD per QALY')."""
        if self.strategies[k] == self.comparator:
            return "comparator"
        status = self.icer_status(k)
        if status == ICER_DOMINANT:
            return "dominant (less costly, more effective)"
        if status == ICER_DOMINATED:
            return "dominated (more costly, less effective)"
        return describe_icer(
            self.incremental_cost[k], self.incremental_effect[k], currency=self.currency, effect_label=self.effect_label
        )

    def icer_status(self, k: int) -> str:
        """:func:`classify_icer` of strategy ``k`` against the comparator (``reference`` for the comparator)."""
        if self.strategies[k] == self.comparator:
            return ICER_REFERENCE
        return classify_icer(self.incremental_cost[k], self.incremental_effect[k])

    def reportable_icer(self, k: int) -> float:
        """The ICER of strategy ``k`` where it is a ratio to print, else NaN (dominant, dominated, comparator)."""
        if self.strategies[k] == self.comparator:
            return float("nan")
        return reportable_icer(self.incremental_cost[k], self.incremental_effect[k])

    def summary(self) -> str:
        """Cost, effect, increments and ICER versus the comparator, and frontier status, per strategy."""
        from costspine._text import format_table

        rows = [
            [
                s,
                self.cost[k],
                self.effect[k],
                self.incremental_cost[k],
                self.incremental_effect[k],
                self.describe_vs_comparator(k),
                self.status[k],
                self.frontier_icer[k],
            ]
            for k, s in enumerate(self.strategies)
        ]
        money = f" ({self.currency})" if self.currency else ""
        effect = self.effect_label or "effect"
        return format_table(
            [
                "strategy",
                f"cost{money}",
                effect,
                f"Δ cost{money}",
                f"Δ {effect}",
                f"vs {self.comparator}",
                "frontier",
                f"frontier ICER{money}",
            ],
            rows,
            title="Cost-effectiveness (deterministic)",
        )

    def to_frame(self):
        """Long table keyed by ``strategy, wtp``: cost, effect, increments, ICER, frontier status and NMB.

        ``icer`` is NaN where it is not a ratio to report (``icer_status`` says dominant, dominated,
        reference or equal effect); ``icer_signed`` is the plain ``Δcost / Δeffect``.
        """
        import pandas as pd

        rows = [
            {
                "strategy": s,
                "wtp": float(w),
                "cost": float(self.cost[k]),
                "effect": float(self.effect[k]),
                "incremental_cost": float(self.incremental_cost[k]),
                "incremental_effect": float(self.incremental_effect[k]),
                "icer": self.reportable_icer(k),
                "icer_status": self.icer_status(k),
                "icer_signed": float(self.icer_vs_comparator[k]),
                "frontier_status": self.status[k],
                "frontier_icer": float(self.frontier_icer[k]),
                "nmb": float(self.nmb[k, j]),
            }
            for k, s in enumerate(self.strategies)
            for j, w in enumerate(self.wtp)
        ]
        return pd.DataFrame(
            rows,
            columns=[
                "strategy",
                "wtp",
                "cost",
                "effect",
                "incremental_cost",
                "incremental_effect",
                "icer",
                "icer_status",
                "icer_signed",
                "frontier_status",
                "frontier_icer",
                "nmb",
            ],
        )

    def to_dict(self) -> dict:
        """Per strategy: cost, effect, increments, ICER, frontier status and ICER, NMB by threshold (JSON-ready)."""
        from costspine._files import _jsonable

        return _jsonable(
            {
                "comparator": self.comparator,
                "wtp": [float(w) for w in self.wtp],
                "strategies": {
                    s: {
                        "cost": self.cost[k],
                        "effect": self.effect[k],
                        "incremental_cost": self.incremental_cost[k],
                        "incremental_effect": self.incremental_effect[k],
                        "icer": self.reportable_icer(k),
                        "icer_status": self.icer_status(k),
                        "versus_comparator": self.describe_vs_comparator(k),
                        "frontier_status": self.status[k],
                        "frontier_icer": self.frontier_icer[k],
                        "nmb": list(self.nmb[k]),
                    }
                    for k, s in enumerate(self.strategies)
                },
            }
        )


def compute_icer(incremental_cost, incremental_effect) -> np.ndarray:
    """ICER ``Δcost / Δeffect``; ``nan`` where ``Δeffect`` is 0 (±inf where it is too small for a float)."""
    dc = np.asarray(incremental_cost, dtype=float)
    de = np.asarray(incremental_effect, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(de != 0, dc / np.where(de != 0, de, 1.0), np.nan)


def compute_frontier(cost, effect, *, names=None) -> tuple[list[str], np.ndarray]:
    """Status of each strategy and its ICER along the efficiency frontier.

    Parameters
    ----------
    cost, effect : array-like, shape (strategy,)
    names : sequence of str, optional
        Strategy ids. Of identical strategies (same cost and effect) the one whose id sorts first
        stays on the frontier, so the result does not depend on the order strategies are listed;
        without names, the first listed.

    Returns
    -------
    status : list of str
    frontier_icer : ndarray, shape (strategy,)

    Notes
    -----
    1. Sort by cost (ties: higher effect first). 2. A strategy is *dominated* if another costs no
    more and yields at least as much effect (strictly better in one). 3. Among the rest, in
    order of cost, compute ICERs between neighbours; a strategy whose ICER exceeds the next one's
    is *extendedly dominated*; drop it and repeat until ICERs increase.
    """
    cost = np.asarray(cost, dtype=float)
    effect = np.asarray(effect, dtype=float)
    n = len(cost)
    status = [FRONTIER] * n
    for i in range(n):
        for j in range(n):
            if i != j and cost[j] <= cost[i] and effect[j] >= effect[i] and (cost[j] < cost[i] or effect[j] > effect[i]):
                status[i] = DOMINATED
                break
    # identical strategies: keep one (the first id in sorted order, else the first listed)
    rank = list(range(n)) if names is None else sorted(range(n), key=lambda i: str(names[i]))
    for pos, i in enumerate(rank):
        for j in rank[:pos]:
            if status[i] == FRONTIER and status[j] == FRONTIER and cost[i] == cost[j] and effect[i] == effect[j]:
                status[i] = DOMINATED
    order = [i for i in sorted(range(n), key=lambda i: (cost[i], -effect[i])) if status[i] == FRONTIER]
    changed = True
    while changed and len(order) > 2:
        changed = False
        icers = [(cost[b] - cost[a]) / (effect[b] - effect[a]) for a, b in zip(order, order[1:])]
        for pos in range(len(icers) - 1):
            if icers[pos] > icers[pos + 1]:
                status[order[pos + 1]] = EXTENDED
                del order[pos + 1]
                changed = True
                break
    frontier_icer = np.full(n, np.nan)
    with np.errstate(over="ignore"):  # a tiny effect gap gives ±inf, which the wording shows as such
        for a, b in zip(order, order[1:]):
            frontier_icer[b] = (cost[b] - cost[a]) / (effect[b] - effect[a])
    return status, frontier_icer


def compute_cea(cost, effect, *, strategies, comparator: str, wtp, currency: str = "", effect_label: str = "") -> CEATable:
    """Incremental results, frontier and net monetary benefit.

    Parameters
    ----------
    cost, effect : array-like, shape (strategy,)
        Expected (discounted) cost and effect per strategy.
    strategies : sequence of str
    comparator : str
        Reference strategy for incremental results.
    wtp : sequence of float
        Willingness-to-pay thresholds (currency per unit of effect).
    currency, effect_label : str, optional
        For the words of :meth:`CEATable.describe_vs_comparator` ('12,471 USD per QALY').

    Returns
    -------
    CEATable

    Examples
    --------
    >>> t = compute_cea([100.0, 300.0], [1.0, 2.0], strategies=("a", "b"), comparator="a", wtp=(150.0,))
    >>> float(t.icer_vs_comparator[1])
    200.0
    """
    cost = np.asarray(cost, dtype=float)
    effect = np.asarray(effect, dtype=float)
    strategies = tuple(strategies)
    ref = strategies.index(comparator)
    inc_cost = cost - cost[ref]
    inc_effect = effect - effect[ref]
    icer = compute_icer(inc_cost, inc_effect)
    icer[ref] = np.nan
    status, frontier_icer = compute_frontier(cost, effect, names=strategies)
    lam = np.asarray(wtp, dtype=float)
    nmb = effect[:, None] * lam[None, :] - cost[:, None]
    return CEATable(
        strategies,
        cost,
        effect,
        comparator,
        inc_cost,
        inc_effect,
        icer,
        tuple(status),
        frontier_icer,
        tuple(wtp),
        nmb,
        currency=currency,
        effect_label=effect_label,
    )


def compute_result_cea(result) -> CEATable:
    """Deterministic cost-effectiveness table of a run result, on the means over its draws.

    Parameters
    ----------
    result : costspine.simulate.cohort.CohortResult
        Or a microsimulation result; its scenario's ``[analysis]`` gives comparator and thresholds.
    """
    analysis = result.scenario.analysis
    return compute_cea(
        result.total_cost.mean(axis=0),
        result.effect.mean(axis=0),
        strategies=result.strategies,
        comparator=analysis.comparator,
        wtp=analysis.wtp,
        currency=result.scenario.settings.currency,
        effect_label=effect_label_of(result.scenario, analysis.effect),
    )


def effect_label_of(scenario, effect: str) -> str:
    """The label of outcome ``effect`` of ``scenario`` ('QALYs'), else its name."""
    label = next((o.label for o in scenario.outcomes if o.name == effect), None)
    return " ".join(str(label or effect).split())


# ------------------------------------------------------------------------------ sequential table

NON_DOMINATED = "ND"
STRONGLY_DOMINATED = "D"
EXTENDEDLY_DOMINATED = "ED"
_STATUS_CODES = {FRONTIER: NON_DOMINATED, DOMINATED: STRONGLY_DOMINATED, EXTENDED: EXTENDEDLY_DOMINATED}


@dataclass(frozen=True)
class IncrementalTable:
    """The sequential incremental table: strategies by cost, each non-dominated or not, with the ICER
    of each frontier strategy against the previous one (Drummond et al., 4th ed., box 4.4).

    Attributes
    ----------
    strategies : tuple of str
        Strategy ids in table order: increasing cost (ties: more effect first).
    labels : tuple of str
        Strategy labels, in the same order.
    cost, effect : ndarray, shape (strategy,)
        Expected cost and effect, in table order.
    status : tuple of str
        ``"ND"`` (non-dominated: on the efficiency frontier), ``"D"`` (dominated: another strategy
        costs no more and yields at least as much) or ``"ED"`` (extendedly dominated: a mix of the
        two neighbouring frontier strategies yields more for less).
    versus : tuple of (str or None)
        For an ND strategy after the first, the previous ND strategy (the ICER's reference); for a D
        strategy, the cheapest strategy that dominates it; else ``None``.
    between : tuple of (tuple of str or None)
        For an ED strategy, the frontier strategies just cheaper and just dearer than it.
    incremental_cost, incremental_effect, icer : ndarray, shape (strategy,)
        Against ``versus`` for ND strategies after the first; ``nan`` for every other row, so no
        ICER is ever given for a dominated strategy, and none is negative.
    currency : str
    effect_name : str
        Name of the effect (e.g. ``"qalys"``).
    effect_label : str
        Its label (e.g. ``"QALYs"``), for headers; default the name.
    """

    strategies: tuple
    labels: tuple
    cost: np.ndarray
    effect: np.ndarray
    status: tuple
    versus: tuple
    between: tuple
    incremental_cost: np.ndarray
    incremental_effect: np.ndarray
    icer: np.ndarray
    currency: str = ""
    effect_name: str = "effect"
    effect_label: str = ""

    def label(self, strategy: str | None) -> str | None:
        """Label of a strategy id of this table (``None`` stays ``None``)."""
        return None if strategy is None else self.labels[self.strategies.index(strategy)]

    def describe(self, k: int) -> str:
        """Plain words for row ``k``: 'first on the frontier', 'versus X', 'dominated by X', 'extendedly dominated ...'."""
        status = self.status[k]
        if status == NON_DOMINATED:
            return "first on the frontier" if self.versus[k] is None else f"versus {self.label(self.versus[k])}"
        if status == STRONGLY_DOMINATED:
            return f"dominated by {self.label(self.versus[k])}"
        low, high = self.between[k]
        return f"extendedly dominated (by a mix of {self.label(low)} and {self.label(high)})"

    def summary(self, *, width: int = 100) -> str:
        """The table as text, at most ``width`` characters wide (labels wrap; numbers never do)."""
        from costspine._text import format_wrapped_table

        unit = f" ({self.currency})" if self.currency else ""
        effect = self.effect_label or self.effect_name
        headers = [
            "strategy",
            f"cost{unit}",
            effect,
            f"Δ cost{unit}",
            f"Δ {effect}",
            f"ICER ({(self.currency + ' ') if self.currency else ''}per {effect_unit(effect)})",
            "compared with",
        ]
        rows = [
            [
                self.labels[k],
                self.cost[k],
                self.effect[k],
                self.incremental_cost[k],
                self.incremental_effect[k],
                _format_icer(self.icer[k]),
                self.describe(k),
            ]
            for k in range(len(self.strategies))
        ]
        return format_wrapped_table(
            headers,
            rows,
            width=width,
            title="Sequential incremental analysis (by cost; ICER against the previous non-dominated strategy)",
        )

    def to_dict(self) -> dict:
        """JSON-ready rows in table order; ``None`` where an increment or ICER does not apply."""
        rows = []
        for k, strategy in enumerate(self.strategies):
            rows.append(
                {
                    "strategy": strategy,
                    "label": self.labels[k],
                    "cost": float(self.cost[k]),
                    "effect": float(self.effect[k]),
                    "status": self.status[k],
                    "versus": self.versus[k],
                    "between": list(self.between[k]) if self.between[k] else None,
                    "incremental_cost": _or_none(self.incremental_cost[k]),
                    "incremental_effect": _or_none(self.incremental_effect[k]),
                    "icer": _or_none(self.icer[k]),
                    "note": self.describe(k),
                }
            )
        return {
            "currency": self.currency,
            "effect": self.effect_name,
            "statuses": {
                NON_DOMINATED: "non-dominated (on the efficiency frontier)",
                STRONGLY_DOMINATED: "dominated",
                EXTENDEDLY_DOMINATED: "extendedly dominated",
            },
            "rows": rows,
        }

    def to_frame(self):
        """One row per strategy in table order (pandas DataFrame); ``NaN`` where a value does not apply."""
        import pandas as pd

        return pd.DataFrame(
            {
                "strategy": list(self.strategies),
                "label": list(self.labels),
                "cost": self.cost,
                "effect": self.effect,
                "status": list(self.status),
                "versus": list(self.versus),
                "incremental_cost": self.incremental_cost,
                "incremental_effect": self.incremental_effect,
                "icer": self.icer,
                "note": [self.describe(k) for k in range(len(self.strategies))],
            }
        )


def _or_none(value) -> float | None:
    return None if not np.isfinite(value) else float(value)


def _format_icer(value) -> float | None:
    return float(value) if np.isfinite(value) else None


def compute_incremental_table(
    cost, effect, *, strategies, labels=None, currency: str = "", effect_name: str = "effect", effect_label: str = ""
) -> IncrementalTable:
    """The sequential incremental table of a set of strategies.

    Parameters
    ----------
    cost, effect : array-like, shape (strategy,)
        Expected (discounted) cost and effect per strategy.
    strategies : sequence of str
        Strategy ids, in the order of ``cost`` and ``effect``.
    labels : sequence of str, optional
        Labels for the table (default: the ids).
    currency, effect_name, effect_label : str
        For headers only (the label defaults to the name).

    Returns
    -------
    IncrementalTable
        Rows in order of cost.

    Notes
    -----
    Statuses come from :func:`compute_frontier` (strong, then extended dominance). For frontier
    strategies :math:`s_1, \\dots, s_m` in order of cost, :math:`ICER_j = (C_j - C_{j-1}) / (E_j - E_{j-1})`,
    which increases along the frontier and is positive.

    Examples
    --------
    >>> t = compute_incremental_table([1000, 3000, 4000, 5000, 7000], [1.0, 1.5, 1.4, 1.6, 2.0], strategies="ABCDE")
    >>> t.status, [None if v != v else float(v) for v in t.icer]
    (('ND', 'ND', 'D', 'ED', 'ND'), [None, 4000.0, None, None, 8000.0])
    """
    cost = np.asarray(cost, dtype=float)
    effect = np.asarray(effect, dtype=float)
    ids = tuple(strategies)
    names = tuple(labels) if labels is not None else ids
    status, _ = compute_frontier(cost, effect, names=ids)
    order = sorted(range(len(ids)), key=lambda i: (cost[i], -effect[i]))
    codes = [_STATUS_CODES[status[i]] for i in order]
    frontier = [i for i in order if status[i] == FRONTIER]
    n = len(order)
    versus, between = [None] * n, [None] * n
    inc_cost, inc_effect, icer = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for row, i in enumerate(order):
        if status[i] == FRONTIER:
            pos = frontier.index(i)
            if pos > 0:
                prev = frontier[pos - 1]
                versus[row] = ids[prev]
                inc_cost[row], inc_effect[row] = cost[i] - cost[prev], effect[i] - effect[prev]
                icer[row] = inc_cost[row] / inc_effect[row]
        elif status[i] == DOMINATED:
            dominators = [j for j in order if j != i and cost[j] <= cost[i] and effect[j] >= effect[i]]
            best = [j for j in dominators if status[j] == FRONTIER] or dominators
            versus[row] = ids[best[0]]
        else:
            low = [j for j in frontier if (cost[j], -effect[j]) <= (cost[i], -effect[i])][-1]
            high = [j for j in frontier if (cost[j], -effect[j]) > (cost[i], -effect[i])][0]
            between[row] = (ids[low], ids[high])
    return IncrementalTable(
        tuple(ids[i] for i in order),
        tuple(names[i] for i in order),
        cost[order],
        effect[order],
        tuple(codes),
        tuple(versus),
        tuple(between),
        inc_cost,
        inc_effect,
        icer,
        currency=currency,
        effect_name=effect_name,
        effect_label=effect_label,
    )


def compute_result_incremental(result) -> IncrementalTable:
    """Sequential incremental table of a run result, on the means over its draws, labelled by strategy label.

    Parameters
    ----------
    result : costspine.simulate.cohort.CohortResult
        Or a microsimulation result; the effect is the scenario's ``[analysis] effect``.
    """
    scenario = result.scenario
    labels = [" ".join(str(scenario.strategy_labels.get(s, s)).split()) for s in result.strategies]
    return compute_incremental_table(
        result.total_cost.mean(axis=0),
        result.effect.mean(axis=0),
        strategies=result.strategies,
        labels=labels,
        currency=scenario.settings.currency,
        effect_name=scenario.analysis.effect,
        effect_label=effect_label_of(scenario, scenario.analysis.effect),
    )
