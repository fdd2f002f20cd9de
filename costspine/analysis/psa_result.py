"""The one PSA result type: labelled draws of a PSA, from a run or read back from ``draws.npz``.

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
    levels: dict | None = field(default=None, repr=False)

    # ---------------------------------------------------------------- shapes and views
    @property
    def n_draws(self) -> int:
        return self.costs.shape[0]

    @property
    def total_cost(self) -> np.ndarray:
        """Discounted total cost, shape (draw, strategy)."""
        return self.costs.sum(axis=-1)

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
        from costspine._text import column_format, format_table, wrap_text
        from costspine.analysis.decision import compute_ceaf
        from costspine.analysis.draw_stats import summarize_incremental

        wtp = self.wtp if wtp is None else wtp
        cost, effect = self.total_cost, self.effect
        rows = [
            [
                self.strategy_labels.get(s, s),
                cost[:, k].mean(),
                *np.quantile(cost[:, k], [0.025, 0.975]),
                effect[:, k].mean(),
                *np.quantile(effect[:, k], [0.025, 0.975]),
            ]
            for k, s in enumerate(self.strategies)
        ]
        money, outcome = column_format([v for r in rows for v in r[1:4]]), column_format([v for r in rows for v in r[4:7]])
        table = format_table(
            ["strategy", f"cost ({self.currency})", "2.5%", "97.5%", self.effect_label, "2.5%", "97.5%"],
            rows,
            formats={1: money, 2: money, 3: money, 4: outcome, 5: outcome, 6: outcome},
            title=f"PSA: {self.n_draws:,} draws, seed {self.seed} (means and 95% intervals, discounted)",
        )
        labels = tuple(self.strategy_labels.get(s, s) for s in self.strategies)
        inc = summarize_incremental(cost, effect, comparator=self.comparator_index, strategies=labels)
        ceaf = compute_ceaf(cost, effect, wtp, strategies=labels)
        parts = [
            wrap_text(self.title)
            + (f"\n{wrap_text('Perspective: ' + self.extra['perspective_text'])}" if "perspective_text" in self.extra else "")
        ]
        for pool in self.posterior or []:
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
            [
                *parts,
                table,
                inc.summary(currency=self.currency, effect_label=self.effect_label),
                ceaf.summary(),
            ]
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
