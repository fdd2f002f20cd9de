"""The one PSA result type: labelled draws of a PSA, from a run or read back from a ``draws/`` folder.

:func:`costspine.analysis.psa.run_psa` returns a :class:`PSAResult`;
:func:`costspine.analysis.psa_draws_file.load_psa_draws` reads the same type back from the folder a
PSA wrote, so ``costspine psa`` and ``costspine voi`` summarise one record. ``PSAResult`` is the
same class under its older name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class PSAResult:
    """Draws of a PSA: parameter values and every strategy's costs and outcomes per draw, with labels.

    Attributes
    ----------
    scenario : str
        The scenario's name (``[model] name``).
    title, currency, effect_name : str
    strategies : tuple of str
    strategy_labels : dict of str to str
    comparator : str
    wtp : tuple of float
        The scenario's willingness-to-pay thresholds.
    categories, outcome_names, parameter_names : tuple of str
    parameter_groups : dict of str to list of str
        Dirichlet row name -> its component names.
    parameters : ndarray, shape (draw, parameter)
    costs : ndarray, shape (draw, strategy, category)
        Discounted costs by category.
    outcomes : ndarray, shape (draw, strategy, outcome)
        Discounted outcomes.
    seed : int
    discount_outcomes : float
    inputs : list of (path, sha256)
        The scenario files.
    extra : dict
        Run provenance copied into ``summary.json``: ``method``, ``individuals`` (microsimulation),
        ``chunk_size``, ``chunks``, ``posterior``, ``resumed_chunks`` and ``base_case``.
    base_costs : ndarray, shape (strategy, category), optional
        Deterministic (base-case) costs of a run in this process (None when read from a file).
    base_outcomes : ndarray, shape (strategy, outcome), optional
    store : str, optional
        The ``draws/`` folder the arrays are read-only memory maps of (a PSA written to disk, see
        :mod:`costspine.analysis.psa_draws_file`); None for arrays in memory. Summaries read such
        draws a column or a block of draws at a time (:class:`DrawColumns`).
    levels : dict of str to ndarray, optional
        Microsimulation of a scenario with categorical or binary attributes: results by subgroup
        per draw (``MicrosimResult.levels``; :func:`costspine.analysis.subgroups.microsim_subgroups`).
        None otherwise and when read from a file.
    """

    scenario: str
    title: str
    currency: str
    effect_name: str
    strategies: tuple
    strategy_labels: dict
    comparator: str
    wtp: tuple
    categories: tuple
    outcome_names: tuple
    parameter_names: tuple
    parameter_groups: dict
    parameters: np.ndarray
    costs: np.ndarray
    outcomes: np.ndarray
    seed: int
    discount_outcomes: float
    inputs: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    base_costs: np.ndarray | None = field(default=None, repr=False)
    base_outcomes: np.ndarray | None = field(default=None, repr=False)
    store: str | None = field(default=None, repr=False)
    levels: dict | None = field(default=None, repr=False)

    # ---------------------------------------------------------------- shapes and views
    @property
    def n_draws(self) -> int:
        return self.costs.shape[0]

    @property
    def total_cost(self) -> np.ndarray:
        """Discounted total cost, shape (draw, strategy).

        Each draw's categories summed as numpy sums the last axis of a (draw, strategy, category)
        array, also for draws on disk (read a block at a time), so the totals do not depend on
        where the draws live.
        """
        if self.store is None and _categories_contiguous(self.costs):
            return self.costs.sum(axis=-1)
        with DrawColumns(self) as cols:
            return np.column_stack([cols.total_cost(k) for k in range(len(self.strategies))])

    @property
    def effect(self) -> np.ndarray:
        """The scenario's effect outcome, shape (draw, strategy)."""
        return self.outcomes[:, :, self.outcome_names.index(self.effect_name)]

    @property
    def comparator_index(self) -> int:
        return self.strategies.index(self.comparator)

    def parameter(self, name: str) -> np.ndarray:
        """Draws of one sampled parameter, shape (draw,)."""
        return self.parameters[:, self.parameter_names.index(name)]

    # ---------------------------------------------------------------- run provenance
    @property
    def method(self) -> str:
        return self.extra.get("method", "cohort")

    @property
    def individuals(self) -> int | None:
        return self.extra.get("individuals")

    @property
    def chunk_size(self) -> int | None:
        return self.extra.get("chunk_size")

    @property
    def chunks(self) -> tuple:
        """``(start, stop)`` of each chunk."""
        return tuple(tuple(c) for c in self.extra.get("chunks", ()))

    @property
    def effect_label(self) -> str:
        """The effect's label ('QALYs'), else its name."""
        return self.extra.get("effect_label") or self.effect_name

    @property
    def posterior(self) -> list:
        """Provenance of posterior draws (empty without posterior parameters)."""
        return self.extra.get("posterior", [])

    @property
    def resumed_chunks(self) -> int:
        """Chunks read back from a previous, interrupted run."""
        return self.extra.get("resumed_chunks", 0)

    # ---------------------------------------------------------------- protocol
    def __repr__(self) -> str:
        from costspine._text import format_repr

        return format_repr(
            type(self).__name__,
            scenario=self.scenario,
            method=self.method,
            strategies=self.strategies,
            draws=self.n_draws,
            parameters=len(self.parameter_names),
            seed=self.seed,
        )

    def _repr_html_(self) -> str:
        """Mean cost and effect per strategy over the draws, as an HTML table (for notebooks)."""
        from costspine._text import format_html_table

        cost, effect = self.total_cost.mean(axis=0), self.effect.mean(axis=0)
        rows = [[self.strategy_labels.get(s, s), cost[k], effect[k]] for k, s in enumerate(self.strategies)]
        return format_html_table(
            ["strategy", f"mean cost ({self.currency})", f"mean {self.effect_name}"],
            rows,
            caption=f"PSAResult: {self.title}, {self.n_draws:,} draws",
        )

    def summary(self, wtp=None) -> str:
        """Mean cost and effect per strategy, increments with 95% intervals, and the CEAF."""
        from costspine.analysis.decision import compute_ceaf
        from costspine.analysis.draw_stats import summarize_draws, summarize_incremental

        wtp = self.wtp if wtp is None else wtp
        cost, effect = self.total_cost, self.effect
        labels = tuple(self.strategy_labels.get(s, s) for s in self.strategies)
        return format_draws_text(
            self,
            cost=[summarize_draws(cost[:, k]) for k in range(len(self.strategies))],
            effect=[summarize_draws(effect[:, k]) for k in range(len(self.strategies))],
            incremental=summarize_incremental(cost, effect, comparator=self.comparator_index, strategies=labels),
            ceaf=compute_ceaf(cost, effect, wtp, strategies=labels),
        )

    def to_frame(self):
        """Long table keyed by ``draw, strategy``: cost by category, total cost and outcomes."""
        import pandas as pd

        return pd.DataFrame(result_columns(self))

    def to_dict(self) -> dict:
        """Labels, provenance and the means over draws by strategy (JSON-ready)."""

        def means(values, names):
            m = values.mean(axis=0)
            return {s: {n: float(m[k, i]) for i, n in enumerate(names)} for k, s in enumerate(self.strategies)}

        return {
            "scenario": self.scenario,
            "title": self.title,
            "currency": self.currency,
            "effect": self.effect_name,
            "strategies": list(self.strategies),
            "comparator": self.comparator,
            "wtp": [float(w) for w in self.wtp],
            "draws": self.n_draws,
            "seed": int(self.seed),
            "parameters": list(self.parameter_names),
            "method": self.method,
            "costs": means(self.costs, self.categories),
            "outcomes": means(self.outcomes, self.outcome_names),
        }


def result_columns(result) -> dict[str, np.ndarray]:
    """Columns of the draws × strategies table: ``draw, strategy, cost_<category>..., cost_total, <outcome>...``.

    ``result`` is a :class:`PSAResult` or anything with the same ``costs``, ``outcomes``,
    ``strategies``, ``categories`` and ``outcome_names``.
    """
    d, s = result.total_cost.shape
    columns = {"draw": np.repeat(np.arange(d), s), "strategy": np.tile(np.array(result.strategies, dtype=object), d)}
    for k, category in enumerate(result.categories):
        columns[f"cost_{category}"] = result.costs[:, :, k].ravel()
    columns["cost_total"] = result.total_cost.ravel()
    for o, name in enumerate(result.outcome_names):
        columns[name] = result.outcomes[:, :, o].ravel()
    return columns


def format_draws_text(draws: PSAResult, *, cost, effect, incremental, ceaf) -> str:
    """The text of :meth:`PSAResult.summary` from statistics already computed: ``cost`` and ``effect``
    (a :class:`~costspine.analysis.draw_stats.DrawSummary` of one strategy each), ``incremental``
    (:class:`~costspine.analysis.draw_stats.IncrementalPSA`) and ``ceaf``
    (:class:`~costspine.analysis.decision.CEAF`), so a summary streamed over the draws prints the same."""
    from costspine._text import column_format, format_table, wrap_text

    rows = [
        [
            draws.strategy_labels.get(s, s),
            float(cost[k].mean),
            float(cost[k].lower),
            float(cost[k].upper),
            float(effect[k].mean),
            float(effect[k].lower),
            float(effect[k].upper),
        ]
        for k, s in enumerate(draws.strategies)
    ]
    money, outcome = column_format([v for r in rows for v in r[1:4]]), column_format([v for r in rows for v in r[4:7]])
    table = format_table(
        ["strategy", f"cost ({draws.currency})", "2.5%", "97.5%", draws.effect_label, "2.5%", "97.5%"],
        rows,
        formats={1: money, 2: money, 3: money, 4: outcome, 5: outcome, 6: outcome},
        title=f"PSA: {draws.n_draws:,} draws, seed {draws.seed} (means and 95% intervals, discounted)",
    )
    parts = [
        wrap_text(draws.title)
        + (f"\n{wrap_text('Perspective: ' + draws.extra['perspective_text'])}" if "perspective_text" in draws.extra else "")
    ]
    for pool in draws.posterior or []:
        parts.append(
            wrap_text(
                f"Posterior draws: {', '.join(pool['parameters'])} sampled jointly (whole rows of "
                f"{pool['posterior_draws']:,} posterior draws) from the calibration to {pool['evidence']}"
                f" (cache {pool['cache']})"
            )
        )
        if pool.get("held_at_calibration_values"):
            parts[-1] += (
                f"; {len(pool['held_at_calibration_values'])} parameters that change its targets held at the values "
                "the calibration used (listed in summary.json)"
            )
    return "\n\n".join(
        [*parts, table, incremental.summary(currency=draws.currency, effect_label=draws.effect_label), ceaf.summary()]
    )


def _categories_contiguous(costs) -> bool:
    """True when each draw's categories are adjacent in memory, so numpy sums them pairwise, as it
    does for a (draw, strategy, category) array in C order (not so for the transposed view of
    column-major draws, which it would sum in another order)."""
    costs = np.asarray(costs)
    return costs.dtype == np.float64 and (costs.shape[-1] <= 1 or costs.strides[-1] == costs.itemsize)


BLOCK_VALUES = 1 << 20
"""Values (8 MB) a block of draws holds at most when :class:`DrawColumns` reads several columns at once."""


class DrawColumns:
    """Columns of a :class:`PSAResult` read one at a time, whole or a block of draws at a time.

    For draws in memory these are copies of slices; for draws on disk (``store``) explicit reads
    of the column-major files (``os.pread``), so nothing stays mapped into the process and memory
    holds only what the caller keeps. Either way the values are the same floats, so a summary
    computed from them does not depend on where the draws live. Use as a context manager (closes
    the files).

    >>> import numpy as np
    >>> d = PSAResult(
    ...     "s",
    ...     "t",
    ...     "GBP",
    ...     "e",
    ...     ("a", "b"),
    ...     {},
    ...     "a",
    ...     (1.0,),
    ...     ("c",),
    ...     ("e",),
    ...     ("p",),
    ...     {},
    ...     np.arange(3.0)[:, None],
    ...     np.arange(6.0).reshape(3, 2, 1),
    ...     np.ones((3, 2, 1)),
    ...     1,
    ...     0.0,
    ... )
    >>> with DrawColumns(d) as cols:
    ...     cols.total_cost(1).tolist(), cols.parameter(0, 1, 3).tolist()
    ([1.0, 3.0, 5.0], [1.0, 2.0])
    """

    def __init__(self, draws: PSAResult):
        self.draws = draws
        self.n_draws = draws.n_draws
        self.n_strategies = len(draws.strategies)
        self._effect = draws.outcome_names.index(draws.effect_name)
        self._files: dict[str, tuple[int, int]] = {}
        if draws.store is not None:
            import os
            from pathlib import Path

            for key in ("parameters", "costs", "outcomes"):
                path = Path(draws.store) / f"{key}.npy"
                with open(path, "rb") as handle:
                    major, _ = np.lib.format.read_magic(handle)
                    (np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0)(handle)
                    offset = handle.tell()
                self._files[key] = (os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0)), offset)

    def __enter__(self) -> DrawColumns:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        import os

        for fd, _ in self._files.values():
            os.close(fd)
        self._files = {}

    def _read(self, key: str, where: tuple, start: int, stop: int | None) -> np.ndarray:
        """Column ``where`` (indices after the draw axis) of array ``key``, draws ``start .. stop − 1``."""
        stop = self.n_draws if stop is None else stop
        if key not in self._files:
            return np.array(getattr(self.draws, key)[(slice(start, stop), *where)], dtype=float)
        import os

        fd, offset = self._files[key]
        inner = getattr(self.draws, key).shape[1:]
        index = int(np.ravel_multi_index(where, inner)) if inner else 0
        size = 8 * (stop - start)
        out = bytearray(size)
        view, position, done = memoryview(out), offset + 8 * (index * self.n_draws + start), 0
        while done < size:
            if hasattr(os, "preadv"):
                got = os.preadv(fd, [view[done:]], position + done)
            else:  # no positioned read (Windows): seek, then read into the buffer
                os.lseek(fd, position + done, os.SEEK_SET)
                chunk = os.read(fd, size - done)
                view[done : done + len(chunk)] = chunk
                got = len(chunk)
            if got <= 0:
                raise OSError(f"{self.draws.store}/{key}.npy: shorter than its header says")
            done += got
        return np.frombuffer(out, dtype="<f8").astype(float)

    def parameter(self, j: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Draws of parameter ``j`` (its index in ``parameter_names``)."""
        return self._read("parameters", (j,), start, stop)

    def cost(self, k: int, c: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Cost category ``c`` of strategy ``k``."""
        return self._read("costs", (k, c), start, stop)

    def outcome(self, k: int, o: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Outcome ``o`` of strategy ``k``."""
        return self._read("outcomes", (k, o), start, stop)

    def effect(self, k: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """The effect outcome of strategy ``k`` (``PSAResult.effect[:, k]``)."""
        return self.outcome(k, self._effect, start, stop)

    def total_cost(self, k: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Total cost of strategy ``k``: bit for bit ``PSAResult.total_cost[:, k]`` (each draw's
        categories summed as numpy sums the last axis of ``costs``), a block of draws at a time."""
        stop = self.n_draws if stop is None else stop
        if "costs" not in self._files and _categories_contiguous(self.draws.costs):
            return np.asarray(self.draws.costs[start:stop, k, :].sum(axis=-1), dtype=float)
        n_c = len(self.draws.categories)
        out = np.empty(stop - start)
        step = max(1, BLOCK_VALUES // max(1, n_c))
        for first in range(start, stop, step):
            last = min(stop, first + step)
            block = np.empty((last - first, n_c))
            for c in range(n_c):
                block[:, c] = self.cost(k, c, first, last)
            out[first - start : last - start] = block.sum(axis=-1)
        return out

    def cost_effect(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Total cost and effect of draws ``start .. stop − 1``, each of shape (draw, strategy)."""
        cost = np.column_stack([self.total_cost(k, start, stop) for k in range(self.n_strategies)])
        effect = np.column_stack([self.effect(k, start, stop) for k in range(self.n_strategies)])
        return cost, effect

    def blocks(self, values_per_draw: int = 1, *, most: int | None = None) -> list[tuple[int, int]]:
        """``(start, stop)`` of consecutive blocks of draws holding at most :data:`BLOCK_VALUES` values
        of ``values_per_draw`` each (and at most ``most`` draws)."""
        step = max(1, BLOCK_VALUES // max(1, int(values_per_draw)))
        step = min(step, most) if most else step
        return [(i, min(i + step, self.n_draws)) for i in range(0, self.n_draws, step)]
