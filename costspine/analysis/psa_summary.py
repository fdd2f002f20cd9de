"""The summary of PSA draws (:class:`~costspine.analysis.psa_result.PSAResult`, alias ``PSAResult``): CEAC,
CEAF, EVPI, incremental results and Monte Carlo convergence as a :class:`PSASummary`, and
:func:`analyze_psa`, the one library call of ``costspine psa``.

EVPPI rows are computed in :mod:`costspine.analysis.evppi_rows`, the summary's text in
:mod:`costspine.analysis.psa_text`, and the ``draws/`` store that ``costspine voi`` reads is
:mod:`costspine.analysis.psa_draws_file`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from costspine.analysis.draw_stats import DrawSummary
from costspine.analysis.evppi_rows import compute_evppi_rows, parse_evppi_groups
from costspine.analysis.psa_result import PSAResult
from costspine.analysis.psa_text import EVPPI_TOP, format_convergence_text, format_voi_text
from costspine.errors import UsageError

GRID_POINTS = 101


def build_wtp_grid(wtp) -> np.ndarray:
    """Thresholds for curves: 0 to twice the largest threshold in 101 steps, plus the thresholds."""
    top = 2.0 * max(wtp) if max(wtp) > 0 else 1.0
    return np.unique(np.concatenate([np.linspace(0.0, top, GRID_POINTS), np.asarray(wtp, dtype=float)]))


def _stack(parts: list, shape: tuple) -> DrawSummary:
    """One :class:`DrawSummary` of shape ``shape`` from summaries of single columns (None: NaN)."""
    n = next((p.n_draws for p in parts if p is not None), 0)
    return DrawSummary(
        *(
            np.array([np.nan if p is None else float(getattr(p, key)) for p in parts], dtype=float).reshape(shape)
            for key in ("mean", "sd", "lower", "upper")
        ),
        n,
    )


def _stats_at(stats: DrawSummary, index) -> dict:
    """``{"mean", "sd", "lower", "upper"}`` of one cell of a :class:`DrawSummary` (summary.json's form)."""
    return {key: float(getattr(stats, key)[index]) for key in ("mean", "sd", "lower", "upper")}


@dataclass(frozen=True)
class PSACurves:
    """CEAC, CEAF and EVPI over a grid of thresholds (0 to twice the largest, plus the thresholds).

    Attributes
    ----------
    wtp : ndarray, shape (grid,)
    prob_cost_effective : ndarray, shape (grid, strategy)
        CEAC: share of draws in which each strategy has the highest net benefit.
    expected_nmb : ndarray, shape (grid, strategy)
    optimal : ndarray of int, shape (grid,)
        Index of the strategy with the highest expected net benefit (the CEAF's strategy).
    frontier_prob : ndarray, shape (grid,)
        CEAF: probability that the optimal strategy is cost-effective.
    evpi_per_person : ndarray, shape (grid,)
    """

    wtp: np.ndarray
    prob_cost_effective: np.ndarray
    expected_nmb: np.ndarray
    optimal: np.ndarray
    frontier_prob: np.ndarray
    evpi_per_person: np.ndarray


@dataclass(frozen=True)
class PSAIncremental:
    """Each strategy against the comparator, over the draws (the comparator's rows are NaN).

    Attributes
    ----------
    comparator : int
        Index of the comparator strategy.
    cost, effect : DrawSummary
        Of the incremental cost and effect; fields of shape (strategy,).
    nmb : DrawSummary
        Of the incremental net monetary benefit; fields of shape (strategy, wtp).
    icer_of_means : ndarray, shape (strategy,)
        ICER of the mean costs and effects against the comparator.
    prob_cost_saving, prob_more_effect : ndarray, shape (strategy,)
    mc_mean, mcse : ndarray, shape (strategy, wtp)
        Monte Carlo convergence: the mean incremental NMB over all draws and its standard error.
    """

    comparator: int
    cost: DrawSummary
    effect: DrawSummary
    nmb: DrawSummary
    icer_of_means: np.ndarray
    prob_cost_saving: np.ndarray
    prob_more_effect: np.ndarray
    mc_mean: np.ndarray
    mcse: np.ndarray

    def mcse_relative(self, k: int, j: int) -> float | None:
        """MCSE over the absolute mean incremental NMB of strategy ``k`` at threshold ``j``; None at a zero mean."""
        mean = self.mc_mean[k, j]
        return float(self.mcse[k, j] / abs(mean)) if mean else None


class PlaneKeys(Sequence):
    """Key columns ``(draw, strategy, comparator)`` of ``ce_plane.csv``, made row by row when read:
    a million draws would otherwise hold a million tuples per strategy for a file written only
    with ``--csv``.

    >>> keys = PlaneKeys(2, ["b", "c"], "a")
    >>> len(keys), list(keys), keys[-1]
    (4, [(0, 'b', 'a'), (1, 'b', 'a'), (0, 'c', 'a'), (1, 'c', 'a')], (1, 'c', 'a'))
    """

    def __init__(self, n_draws: int, strategies, comparator: str):
        self.n_draws, self.strategies, self.comparator = int(n_draws), tuple(strategies), comparator

    def __len__(self) -> int:
        return self.n_draws * len(self.strategies)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return (index % self.n_draws, self.strategies[index // self.n_draws], self.comparator)


def summarize_psa(draws: PSAResult, *, wtp, population: dict | None = None, evppi=()) -> PSASummary:
    """Headline results and the curves of a PSA, as one :class:`PSASummary`.

    Parameters
    ----------
    draws : PSAResult
    wtp : sequence of float
        The thresholds summarised.
    population : dict, optional
        :func:`population_spec` record, for population EVPI.
    evppi : list of dict
        :func:`~costspine.analysis.evppi_rows.compute_evppi_rows` records, if any.

    Notes
    -----
    Streamed over the draws, so memory does not grow with their number beyond a few columns of
    one value per draw (8 MB each at 1,000,000 draws): the curves (CEAC, CEAF, EVPI), the means
    of the efficiency frontier and the Monte Carlo convergence a block of draws at a time
    (:func:`~costspine.analysis.draw_stats.stream_decision_curves`,
    :func:`~costspine.analysis.draw_stats.convergence_in_blocks`), and each mean, SD and 95%
    interval from one column at a time (cost, category, outcome, net benefit, increment), read
    with :class:`~costspine.analysis.psa_result.DrawColumns` (explicit reads for draws on disk).
    The numbers are those of the whole-array computation: bit for bit up to
    :data:`~costspine.analysis.draw_stats.DRAW_BLOCK` draws, and beyond it to rounding in the last
    digit of some means (sums continued block by block; see ``stream_decision_curves``).
    """
    from costspine.analysis.cea import compute_cea
    from costspine.analysis.decision import population_evpi
    from costspine.analysis.draw_stats import (
        DRAW_BLOCK,
        convergence_in_blocks,
        stream_decision_curves,
        summarize_column_of_table,
        summarize_draws,
    )
    from costspine.analysis.psa_result import DrawColumns

    lam = np.asarray(wtp, dtype=float)
    ref = draws.comparator_index
    strategies = draws.strategies
    n_s, n_w = len(strategies), len(lam)
    n_c, n_o = len(draws.categories), len(draws.outcome_names)
    # Curves over a grid that contains the thresholds: the values at the thresholds are read off it.
    grid = build_wtp_grid(lam)
    at = np.searchsorted(grid, lam)

    with DrawColumns(draws) as cols:
        n = cols.n_draws
        curves_grid = stream_decision_curves(cols, grid)

        def column(make, per_draw: int) -> np.ndarray:
            """A whole column of one value per draw, built a block of draws at a time."""
            out = np.empty(n)
            for first, last in cols.blocks(per_draw, most=DRAW_BLOCK):
                out[first:last] = make(first, last)
            return out

        def nmb(k, j, first, last):  # compute_net_benefit's cell (draw, k, j)
            return cols.effect(k, first, last) * lam[j] - cols.total_cost(k, first, last)

        cost_stats, category_stats, outcome_stats, nmb_stats = [], [], [], []
        for k in range(n_s):
            cost_stats.append(summarize_draws(cols.total_cost(k)))
            category_stats += [summarize_draws(cols.cost(k, i)) for i in range(n_c)]
            outcome_stats += [summarize_draws(cols.outcome(k, i)) for i in range(n_o)]
            nmb_stats += [summarize_draws(column(lambda a, b, k=k, j=j: nmb(k, j, a, b), 2 * (n_c + 1))) for j in range(n_w)]

        zero = DrawSummary(np.float64(0.0), np.float64(0.0), np.float64(0.0), np.float64(0.0), n)
        inc_cost, inc_effect = [zero] * n_s, [zero] * n_s  # the comparator against itself: zeros
        saving, more = np.zeros(n_s), np.zeros(n_s)
        inc_nmb_stats = [None] * (n_s * n_w)  # the comparator against itself: NaN
        mc_mean, mcse = np.full((n_s, n_w), np.nan), np.full((n_s, n_w), np.nan)
        conv_rows = []
        for k, s in enumerate(strategies):
            if k == ref:
                continue
            dc = column(lambda a, b, k=k: cols.total_cost(k, a, b) - cols.total_cost(ref, a, b), 2 * n_c)
            inc_cost[k], saving[k] = summarize_column_of_table(dc), np.count_nonzero(dc < 0) / n
            del dc
            de = column(lambda a, b, k=k: cols.effect(k, a, b) - cols.effect(ref, a, b), 2)
            inc_effect[k], more[k] = summarize_column_of_table(de), np.count_nonzero(de > 0) / n
            del de
            shift = np.empty(n_w)
            for j in range(n_w):
                inc = column(lambda a, b, k=k, j=j: nmb(k, j, a, b) - nmb(ref, j, a, b), 4 * (n_c + 1))
                inc_nmb_stats[k * n_w + j] = summarize_draws(inc)
                # the mean numpy takes of the (draw, wtp) table: draw after draw, pairwise for one column
                shift[j] = inc.mean() if n_w == 1 else np.cumsum(inc)[-1] / n
                del inc

            def inc_block(first, last, k=k):
                cost, effect = cols.cost_effect(first, last)
                table = effect[..., None] * lam.reshape(1, 1, -1) - cost[..., None]
                return table[:, k, :] - table[:, ref, :]

            conv = convergence_in_blocks(inc_block, n, shift, block=1 << 14)  # the block changes no number
            mc_mean[k] = conv.running_mean[-1]
            mcse[k] = conv.mcse
            for c, m in enumerate(conv.checkpoints):
                for j, w in enumerate(lam):
                    conv_rows.append(
                        [
                            s,
                            draws.comparator,
                            float(w),
                            int(m),
                            float(conv.checkpoint_mean[c, j]),
                            float(conv.checkpoint_mcse[c, j]),
                        ]
                    )

    cea = compute_cea(
        curves_grid.mean_cost, curves_grid.mean_effect, strategies=strategies, comparator=draws.comparator, wtp=tuple(lam)
    )
    incremental = PSAIncremental(
        comparator=ref,
        cost=_stack(inc_cost, (n_s,)),
        effect=_stack(inc_effect, (n_s,)),
        nmb=_stack(inc_nmb_stats, (n_s, n_w)),
        icer_of_means=np.asarray(cea.icer_vs_comparator, dtype=float),
        prob_cost_saving=saving,
        prob_more_effect=more,
        mc_mean=mc_mean,
        mcse=mcse,
    )
    optimal = curves_grid.optimal
    frontier = curves_grid.frontier_prob
    curves = PSACurves(
        wtp=grid,
        prob_cost_effective=curves_grid.ceac.T,
        expected_nmb=curves_grid.expected_nmb.T,
        optimal=optimal,
        frontier_prob=frontier,
        evpi_per_person=curves_grid.evpi,
    )
    pop = None
    evpi_rows = [[float(w), float(v)] for w, v in zip(grid, curves_grid.evpi)]
    evpi_headers = ["wtp", "evpi_per_person"]
    if population is not None:
        factor = float(
            population_evpi(
                1.0,
                population_per_year=population["per_year"],
                years=population["years"],
                discount_rate=population["discount_rate"],
            )
        )
        pop = {**population, "discounted_persons": factor}
        evpi_headers.append("evpi_population")
        evpi_rows = [row + [row[1] * factor] for row in evpi_rows]

    ceac_rows = []
    for j, w in enumerate(grid):
        for k, s in enumerate(strategies):
            ceac_rows.append(
                [float(w), s, float(curves_grid.ceac[k, j]), float(curves_grid.expected_nmb[k, j]), int(optimal[j] == k)]
            )
    plane_keys = PlaneKeys(draws.n_draws, [s for k, s in enumerate(strategies) if k != ref], draws.comparator)
    tables = {
        "ceac.csv": (["wtp", "strategy", "prob_cost_effective", "expected_nmb", "on_frontier"], ceac_rows),
        "ceaf.csv": (
            ["wtp", "optimal", "prob_cost_effective"],
            [[float(w), strategies[optimal[j]], float(frontier[j])] for j, w in enumerate(grid)],
        ),
        "evpi.csv": (evpi_headers, evpi_rows),
        # a row per draw: computed only when written (--csv)
        "ce_plane.csv": (
            ["draw", "strategy", "comparator", "incremental_cost", "incremental_effect"],
            plane_keys,
            PlaneValues(draws),
        ),
        "convergence.csv": (["strategy", "comparator", "wtp", "draws", "mean_incremental_nmb", "mcse"], conv_rows),
    }
    return PSASummary(
        draws=draws,
        wtp=tuple(wtp),
        prob_cost_effective=curves_grid.ceac[:, at].T.copy(),
        ceaf_optimal=tuple(strategies[optimal[g]] for g in at),
        ceaf_prob_cost_effective=frontier[at],
        evpi_per_person=curves_grid.evpi[at],
        population=pop,
        cost_total=_stack(cost_stats, (n_s,)),
        cost_by_category=_stack(category_stats, (n_s, n_c)),
        outcomes=_stack(outcome_stats, (n_s, n_o)),
        nmb=_stack(nmb_stats, (n_s, n_w)),
        frontier_status=tuple(cea.status),
        frontier_icer=np.asarray(cea.frontier_icer, dtype=float),
        incremental=incremental,
        curves=curves,
        tables=tables,
        evppi=list(evppi),
    )


class PlaneValues:
    """The value columns of ``ce_plane.csv`` (incremental cost and effect of each strategy against
    the comparator, strategy by strategy, draw by draw), computed only when called: a table with a
    row per draw is written only with ``--csv``.
    """

    def __init__(self, draws: PSAResult):
        self.draws = draws

    @property
    def shape(self) -> tuple[int, int]:
        return (self.draws.n_draws * (len(self.draws.strategies) - 1), 2)

    def __call__(self) -> np.ndarray:
        from costspine.analysis.psa_result import DrawColumns

        ref = self.draws.comparator_index
        parts = []
        with DrawColumns(self.draws) as cols:
            for k in range(len(self.draws.strategies)):
                if k != ref:
                    dc = cols.total_cost(k) - cols.total_cost(ref)
                    parts.append(np.column_stack([dc, cols.effect(k) - cols.effect(ref)]))
        return np.concatenate(parts) if parts else np.zeros((0, 2))


def wtp_key(value: float) -> str:
    """JSON key for a threshold: ``50000`` rather than ``50000.0``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# --------------------------------------------------------------------------------------------
# The PSA command's analysis: draws -> summary (+ EVPPI)


def population_spec(per_year, years, discount, default_discount: float) -> dict | None:
    """Population EVPI options as one record (None when neither ``per_year`` nor ``years`` is given).

    Raises
    ------
    UsageError
        Only one of ``per_year`` (``--population``) and ``years`` (``--horizon-years``) given.
    """
    if per_year is None and years is None:
        return None
    if per_year is None or years is None:
        raise UsageError("population EVPI needs both --population (people affected per year) and --horizon-years")
    rate = default_discount if discount is None else discount
    return {
        "per_year": float(per_year),
        "years": int(years),
        "discount_rate": float(rate),
        "discount_rate_source": "--discount" if discount is not None else "scenario settings.discount_outcomes",
    }


@dataclass(frozen=True)
class PSASummary:
    """A PSA's draws, headline results, curves and EVPPI, as typed fields.

    Arrays are indexed by threshold (``wtp``, W) and strategy (``draws.strategies``, S); the
    ``summary.json`` record (:attr:`data`) is derived from these fields.

    Attributes
    ----------
    draws : PSAResult
    wtp : tuple of float
        The thresholds summarised, shape (W,).
    prob_cost_effective : ndarray, shape (W, S)
        Probability that each strategy has the highest net benefit (CEAC at the thresholds).
    ceaf_optimal : tuple of str, shape (W,)
        Strategy with the highest expected net benefit at each threshold.
    ceaf_prob_cost_effective : ndarray, shape (W,)
        Probability that that strategy is cost-effective (CEAF).
    evpi_per_person : ndarray, shape (W,)
    population : dict or None
        :func:`population_spec` plus ``discounted_persons`` (population EVPI), or None.
    cost_total : DrawSummary
        Total cost; fields of shape (S,).
    cost_by_category : DrawSummary
        Fields of shape (S, category).
    outcomes : DrawSummary
        Fields of shape (S, outcome).
    nmb : DrawSummary
        Net monetary benefit; fields of shape (S, W).
    frontier_status : tuple of str, shape (S,)
        Efficiency-frontier status of the mean costs and effects.
    frontier_icer : ndarray, shape (S,)
        ICER on the frontier of means.
    incremental : PSAIncremental
        Each strategy against the comparator, with Monte Carlo convergence.
    curves : PSACurves
        CEAC, CEAF and EVPI over the grid of thresholds drawn in the curves.
    tables : dict
        CSV name -> ``(headers, rows)`` or ``(headers, keys, matrix)`` (see :func:`write_matrix_csv`).
    evppi : list of dict
        :func:`~costspine.analysis.evppi_rows.compute_evppi_rows` records (empty without ``--evppi``).
    """

    draws: PSAResult
    wtp: tuple
    prob_cost_effective: np.ndarray
    ceaf_optimal: tuple
    ceaf_prob_cost_effective: np.ndarray
    evpi_per_person: np.ndarray
    population: dict | None
    cost_total: DrawSummary
    cost_by_category: DrawSummary
    outcomes: DrawSummary
    nmb: DrawSummary
    frontier_status: tuple
    frontier_icer: np.ndarray
    incremental: PSAIncremental
    curves: PSACurves
    tables: dict
    evppi: list = field(default_factory=list)

    @property
    def strategies(self) -> tuple:
        return self.draws.strategies

    @property
    def labels(self) -> dict:
        """Strategy id -> label."""
        return {s: self.draws.strategy_labels.get(s, s) for s in self.strategies}

    @property
    def evpi_population(self) -> np.ndarray | None:
        """Population EVPI at each threshold, shape (W,); None without a population."""
        return None if self.population is None else self.evpi_per_person * self.population["discounted_persons"]

    def __repr__(self) -> str:
        from costspine._text import format_repr

        return format_repr(
            type(self).__name__,
            scenario=self.draws.scenario,
            strategies=self.strategies,
            draws=self.draws.n_draws,
            wtp=[f"{w:g}" for w in self.wtp],
            seed=self.draws.seed,
        )

    def _repr_html_(self) -> str:
        """Per strategy: mean cost and effect, and P(cost-effective) at each threshold (HTML, for notebooks)."""
        from costspine._text import format_html_table

        d = self.draws
        cost, effect = d.total_cost.mean(axis=0), d.effect.mean(axis=0)
        rows = [
            [d.strategy_labels.get(s, s), cost[k], effect[k], *self.prob_cost_effective[:, k]]
            for k, s in enumerate(self.strategies)
        ]
        headers = [
            "strategy",
            f"mean cost ({d.currency})",
            f"mean {d.effect_name}",
            *[f"P(CE) at {float(w):,.0f}" for w in self.wtp],
        ]
        return format_html_table(headers, rows, caption=f"PSA: {d.title}, {d.n_draws:,} draws")

    def summary(self, *, top: int | None = EVPPI_TOP) -> str:
        """The PSA table, increments and CEAF, Monte Carlo convergence, then EVPI (and EVPPI: the
        ``top`` parameter groups with the largest EVPPI; None: all)."""
        return "\n\n".join(
            [
                self.draws_text(),
                format_convergence_text(self),
                format_voi_text(
                    self.wtp,
                    self.evpi_per_person,
                    currency=self.draws.currency,
                    evpi_population=self.evpi_population,
                    evppi_rows=self.evppi,
                    top=top,
                ),
            ]
        )

    def draws_text(self) -> str:
        """:meth:`PSAResult.summary` at this summary's thresholds, from the statistics computed here
        (not from the draws again)."""
        from costspine.analysis.decision import CEAF
        from costspine.analysis.draw_stats import IncrementalPSA
        from costspine.analysis.psa_result import format_draws_text

        d, inc = self.draws, self.incremental
        labels = tuple(self.labels[s] for s in self.strategies)
        effect = d.outcome_names.index(d.effect_name)

        def one(stats: DrawSummary, index) -> DrawSummary:
            return DrawSummary(*(getattr(stats, key)[index] for key in ("mean", "sd", "lower", "upper")), stats.n_draws)

        at = np.searchsorted(self.curves.wtp, np.asarray(self.wtp, dtype=float))
        return format_draws_text(
            d,
            cost=[one(self.cost_total, k) for k in range(len(labels))],
            effect=[one(self.outcomes, (k, effect)) for k in range(len(labels))],
            incremental=IncrementalPSA(labels, inc.comparator, inc.cost, inc.effect, inc.prob_cost_saving, inc.prob_more_effect),
            ceaf=CEAF(
                labels,
                np.asarray(self.wtp, dtype=float),
                self.curves.optimal[at],
                self.ceaf_prob_cost_effective,
                self.curves.expected_nmb[at].T,
            ),
        )

    def to_frame(self):
        """Long table keyed by ``strategy, wtp``: P(cost-effective), mean NMB, CEAF optimum and EVPI."""
        import pandas as pd

        rows = []
        for j, w in enumerate(self.wtp):
            for k, s in enumerate(self.strategies):
                rows.append(
                    {
                        "strategy": s,
                        "wtp": float(w),
                        "prob_cost_effective": float(self.prob_cost_effective[j, k]),
                        "mean_nmb": float(self.nmb.mean[k, j]),
                        "optimal": self.ceaf_optimal[j] == s,
                        "evpi_per_person": float(self.evpi_per_person[j]),
                    }
                )
        return pd.DataFrame(rows, columns=["strategy", "wtp", "prob_cost_effective", "mean_nmb", "optimal", "evpi_per_person"])

    def to_dict(self) -> dict:
        """What ``summary.json`` holds, JSON-ready (NaN -> None)."""
        from costspine._files import _jsonable

        return _jsonable(self.data)

    @property
    def data(self) -> dict:
        """The ``summary.json`` record (thresholds keyed by :func:`wtp_key`), with the floats as computed."""
        from costspine.analysis.cea import classify_icer, reportable_icer

        d = self.draws
        keys = [wtp_key(w) for w in self.wtp]
        ref = self.incremental.comparator
        per_strategy = {}
        for k, s in enumerate(self.strategies):
            per_strategy[s] = {
                "label": self.labels[s],
                "cost_total": _stats_at(self.cost_total, k),
                "cost_by_category": {c: _stats_at(self.cost_by_category, (k, i)) for i, c in enumerate(d.categories)},
                "outcomes": {o: _stats_at(self.outcomes, (k, i)) for i, o in enumerate(d.outcome_names)},
                "nmb": {key: _stats_at(self.nmb, (k, j)) for j, key in enumerate(keys)},
                "frontier_status_of_means": self.frontier_status[k],
                "frontier_icer_of_means": float(self.frontier_icer[k]),
            }
            if "base_case" in d.extra:
                per_strategy[s]["base_case"] = d.extra["base_case"][s]
        inc = self.incremental
        incremental, convergence = {}, {}
        for k, s in enumerate(self.strategies):
            if k == ref:
                continue
            dc, de = inc.cost.mean[k], inc.effect.mean[k]
            incremental[s] = {
                "versus": d.comparator,
                "cost": _stats_at(inc.cost, k),
                "effect": _stats_at(inc.effect, k),
                # null unless a cost per unit gained (or saving per unit forgone): never a negative ratio
                "icer_of_means": float(inc.icer_of_means[k]) if math.isfinite(reportable_icer(dc, de)) else None,
                "icer_of_means_status": classify_icer(dc, de),
                "prob_cost_saving": float(inc.prob_cost_saving[k]),
                "prob_more_effect": float(inc.prob_more_effect[k]),
                "nmb": {key: _stats_at(inc.nmb, (k, j)) for j, key in enumerate(keys)},
            }
            convergence[s] = {
                key: {
                    "mean_incremental_nmb": float(inc.mc_mean[k, j]),
                    "mcse": float(inc.mcse[k, j]),
                    "mcse_relative": inc.mcse_relative(k, j),
                }
                for j, key in enumerate(keys)
            }
        out = {
            "scenario": d.scenario,
            "title": d.title,
            "currency": d.currency,
            "effect": d.effect_name,
            "comparator": d.comparator,
            "wtp": [float(w) for w in self.wtp],
            "draws": d.n_draws,
            "seed": d.seed,
            **{k: v for k, v in d.extra.items() if k != "base_case"},
            "strategies": per_strategy,
            "incremental": incremental,
            "prob_cost_effective": {
                key: {s: float(self.prob_cost_effective[j, k]) for k, s in enumerate(self.strategies)}
                for j, key in enumerate(keys)
            },
            "ceaf": {
                key: {"optimal": self.ceaf_optimal[j], "prob_cost_effective": float(self.ceaf_prob_cost_effective[j])}
                for j, key in enumerate(keys)
            },
            "evpi_per_person": {key: float(v) for key, v in zip(keys, self.evpi_per_person)},
            "convergence": convergence,
        }
        if self.population is not None:
            out["population"] = self.population
            out["evpi_population"] = {key: float(v) for key, v in zip(keys, self.evpi_population)}
        if self.evppi:
            out["evppi"] = self.evppi
        return out


def analyze_psa(
    scenario,
    n_draws: int,
    *,
    seed: int,
    wtp=None,
    evppi=(),
    evppi_method: str = "gam",
    population=None,
    horizon_years=None,
    discount=None,
    **run_options,
) -> PSASummary:
    """Run a PSA of ``scenario`` and summarise it: the one library call of ``costspine psa``.

    Parameters
    ----------
    scenario : Scenario
    n_draws : int
    seed : int
    wtp : sequence of float, optional
        Thresholds (default: the scenario's ``[analysis] wtp``).
    evppi : sequence of str
        ``--evppi`` groups (see :func:`~costspine.analysis.evppi_rows.parse_evppi_groups`); none by default.
    evppi_method : {"gam", "gp"}
    population, horizon_years, discount : optional
        Population EVPI: people affected per year, years, discount rate (see :func:`population_spec`).
    **run_options
        Passed to :func:`costspine.analysis.psa.run_psa` (``method``, ``individuals``, ``workers``,
        ``scheduler``, ``store_dir``, ``resume``, ``on_chunk``, ``on_partial``, ``progress``,
        ``draws_dir``: the draws go to that folder as the run goes, and the summary streams over them).

    Raises
    ------
    UsageError
        Half a population option, an unknown ``--evppi`` parameter, or a bad run option.
    """
    from costspine.analysis.psa import run_psa

    wtp = tuple(scenario.analysis.wtp) if wtp is None else tuple(wtp)
    pop = population_spec(population, horizon_years, discount, scenario.settings.discount_outcomes)
    result = run_psa(scenario, n_draws, seed=seed, **run_options)
    groups = parse_evppi_groups(evppi, result)
    rows = compute_evppi_rows(result, groups, wtp=wtp, method=evppi_method) if groups else []
    return summarize_psa(result, wtp=wtp, population=pop, evppi=rows)


def psa_companions(scenario, summary, *, method: str = "cohort") -> tuple:
    """``(calibration_check, subgroups)`` that ``psa`` reports beside ``summary``, from its draws.

    The check re-runs the cohort model on the PSA's parameter draws, so a microsimulation PSA has
    none; it is None for a scenario without an evidence file
    (:func:`costspine.analysis.calibration_check.check_calibration`). Subgroups are empty without
    categorical population attributes; the cohort model re-runs one cohort per group on the draws
    (:func:`costspine.analysis.subgroups.psa_subgroups`), the microsimulation kept them draw by draw
    (:func:`costspine.analysis.subgroups.microsim_subgroups`).
    """
    from costspine.analysis.subgroups import microsim_subgroups, psa_subgroups

    if method != "cohort":
        return None, microsim_subgroups(scenario, summary.draws.levels)
    from costspine.analysis.calibration_check import check_calibration

    return check_calibration(scenario, summary.draws), psa_subgroups(scenario, summary.draws)
