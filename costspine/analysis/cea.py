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

    def describe_vs_comparator(self, k: int) -> str:
        """Plain words for strategy ``k`` against the comparator ('dominant', 'dominated', or the ICER)."""
        if self.strategies[k] == self.comparator:
            return "comparator"
        dc, de = self.incremental_cost[k], self.incremental_effect[k]
        if de > 0 and dc <= 0:
            return "dominant (less costly, more effective)"
        if de < 0 and dc >= 0:
            return "dominated (more costly, less effective)"
        if de == 0:
            return "equal effect"
        if de < 0:
            return f"{self.icer_vs_comparator[k]:,.0f} saved per unit of effect lost"
        return f"{self.icer_vs_comparator[k]:,.0f} per unit of effect"

    def summary(self) -> str:
        """Cost, effect, increments and ICER versus the comparator, and frontier status, per strategy."""
        from costspine._text import format_table

        rows = [[s, self.cost[k], self.effect[k], self.incremental_cost[k], self.incremental_effect[k],
                 self.describe_vs_comparator(k), self.status[k], self.frontier_icer[k]]
                for k, s in enumerate(self.strategies)]
        return format_table(["strategy", "cost", "effect", "Δcost", "Δeffect", f"vs {self.comparator}", "frontier",
                             "frontier ICER"], rows, title="Cost-effectiveness (deterministic)")

    def to_frame(self):
        """Long table keyed by ``strategy, wtp``: cost, effect, increments, ICER, frontier status and NMB."""
        import pandas as pd

        rows = [{"strategy": s, "wtp": float(w), "cost": float(self.cost[k]), "effect": float(self.effect[k]),
                 "incremental_cost": float(self.incremental_cost[k]),
                 "incremental_effect": float(self.incremental_effect[k]),
                 "icer": float(self.icer_vs_comparator[k]), "frontier_status": self.status[k],
                 "frontier_icer": float(self.frontier_icer[k]), "nmb": float(self.nmb[k, j])}
                for k, s in enumerate(self.strategies) for j, w in enumerate(self.wtp)]
        return pd.DataFrame(rows, columns=["strategy", "wtp", "cost", "effect", "incremental_cost", "incremental_effect",
                                           "icer", "frontier_status", "frontier_icer", "nmb"])

    def to_dict(self) -> dict:
        """Per strategy: cost, effect, increments, ICER, frontier status and ICER, NMB by threshold (JSON-ready)."""
        from costspine._files import _jsonable

        return _jsonable({
            "comparator": self.comparator, "wtp": [float(w) for w in self.wtp],
            "strategies": {s: {"cost": self.cost[k], "effect": self.effect[k],
                               "incremental_cost": self.incremental_cost[k],
                               "incremental_effect": self.incremental_effect[k], "icer": self.icer_vs_comparator[k],
                               "versus_comparator": self.describe_vs_comparator(k), "frontier_status": self.status[k],
                               "frontier_icer": self.frontier_icer[k], "nmb": list(self.nmb[k])}
                           for k, s in enumerate(self.strategies)},
        })


def compute_icer(incremental_cost, incremental_effect) -> np.ndarray:
    """ICER ``Δcost / Δeffect``; ``nan`` where ``Δeffect`` is 0."""
    dc = np.asarray(incremental_cost, dtype=float)
    de = np.asarray(incremental_effect, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(de != 0, dc / np.where(de != 0, de, 1.0), np.nan)


def compute_frontier(cost, effect) -> tuple[list[str], np.ndarray]:
    """Status of each strategy and its ICER along the efficiency frontier.

    Parameters
    ----------
    cost, effect : array-like, shape (strategy,)

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
    # identical strategies: keep the first
    for i in range(n):
        for j in range(i):
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
    for a, b in zip(order, order[1:]):
        frontier_icer[b] = (cost[b] - cost[a]) / (effect[b] - effect[a])
    return status, frontier_icer


def compute_cea(cost, effect, *, strategies, comparator: str, wtp) -> CEATable:
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
    status, frontier_icer = compute_frontier(cost, effect)
    lam = np.asarray(wtp, dtype=float)
    nmb = effect[:, None] * lam[None, :] - cost[:, None]
    return CEATable(strategies, cost, effect, comparator, inc_cost, inc_effect, icer, tuple(status), frontier_icer, tuple(wtp), nmb)


def compute_result_cea(result) -> CEATable:
    """Deterministic cost-effectiveness table of a run result, on the means over its draws.

    Parameters
    ----------
    result : costspine.simulate.cohort.CohortResult
        Or a microsimulation result; its scenario's ``[analysis]`` gives comparator and thresholds.
    """
    analysis = result.scenario.analysis
    return compute_cea(result.total_cost.mean(axis=0), result.effect.mean(axis=0), strategies=result.strategies,
                       comparator=analysis.comparator, wtp=analysis.wtp)
