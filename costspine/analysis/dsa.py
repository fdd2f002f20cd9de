"""One-way deterministic sensitivity analysis (DSA): tornado data and threshold values.

Every parameter with a distribution (and every fixed parameter that declares ``low`` and ``high``)
is set, one at a time, to a low and a high value while all others keep their base-case values.
All these variants run in **one** vectorised model run: the ``draw`` axis of the engine holds the
variants (base, then low and high of each parameter).

Ranges (``range_kind``):

``"minmax"`` (default)
    the ``low``/``high`` a scenario declares for the parameter (``docs/scenario-format.md``);
    a side that is not declared uses the distribution's 2.5% or 97.5% point.
``"95ci"``
    the distribution's 2.5% and 97.5% points, ignoring declared bounds (a fixed parameter has
    no distribution and keeps its declared bounds).

Dirichlet components use their marginal Beta(α_k, α₀ − α_k) quantiles; when one component moves,
the others of its row are rescaled so that the row still sums to 1. Posterior parameters use the
2.5% and 97.5% points of their posterior draws. Correlations are ignored (one-way analysis).

Threshold values: for each threshold λ, each parameter is also evaluated on a grid over its range;
wherever the strategy with the highest net monetary benefit changes, the crossing is refined
(nested grids, then linear interpolation) to the value where the two strategies' NMB are equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from costspine.errors import AnalysisError, UsageError

RANGE_KINDS = ("minmax", "95ci")
GRID_POINTS = 41
REFINE_POINTS = 11
REFINE_ROUNDS = 4


@dataclass(frozen=True)
class ParameterRange:
    """Low and high values of one parameter in a one-way DSA.

    Attributes
    ----------
    name : str
        Parameter (or Dirichlet component) name.
    group : str
        The scenario parameter it belongs to (a Dirichlet row's name; else ``name``).
    family : str
    base, low, high : float
    source : str
        Where the bounds come from: ``declared``, ``95% interval``, ``posterior 95% interval``
        (or ``declared/95% interval`` when the sides differ).
    """

    name: str
    group: str
    family: str
    base: float
    low: float
    high: float
    source: str


def build_ranges(scenario, *, range_kind: str = "minmax", posterior_pools=()) -> tuple[ParameterRange, ...]:
    """The low/high values of every parameter that a one-way DSA varies.

    Parameters
    ----------
    scenario : Scenario
    range_kind : {"minmax", "95ci"}
        See the module docstring.
    posterior_pools : list of dict, optional
        From :func:`costspine.bayes.posterior.load_posterior_pools` (needed for posterior parameters).

    Returns
    -------
    tuple of ParameterRange
        In scenario order.
    """
    from costspine.params import quantile

    if range_kind not in RANGE_KINDS:
        raise UsageError(f"--range must be one of {', '.join(RANGE_KINDS)}; got {range_kind!r}")
    posterior = {name: values for pool in posterior_pools for name, values in pool["parameters"].items()}
    ranges = []
    for spec in scenario.parameters:
        if spec.family == "derived":
            continue
        if spec.family == "dirichlet":
            alpha = np.asarray(spec.args["alpha"], dtype=float)
            total = alpha.sum()
            from scipy import special

            for k, name in enumerate(spec.components):
                lo, hi = special.betaincinv(alpha[k], total - alpha[k], [0.025, 0.975])
                ranges.append(
                    ParameterRange(name, spec.name, "dirichlet", float(alpha[k] / total), float(lo), float(hi), "95% interval")
                )
            continue
        declared = (spec.low, spec.high)
        if spec.family == "fixed":
            if spec.low is None or spec.high is None:
                continue
            ranges.append(
                ParameterRange(spec.name, spec.name, "fixed", float(spec.value), float(spec.low), float(spec.high), "declared")
            )
            continue
        if spec.family == "posterior":
            if spec.name not in posterior:
                raise AnalysisError(f"no posterior draws for {spec.name!r}; load them with load_posterior_pools()")
            interval = np.quantile(posterior[spec.name], [0.025, 0.975])
            label = "posterior 95% interval"
        else:
            interval = quantile(spec, np.array([0.025, 0.975]))
            label = "95% interval"
        sides, sources = [], []
        for i in range(2):
            if range_kind == "minmax" and declared[i] is not None:
                sides.append(float(declared[i]))
                sources.append("declared")
            else:
                sides.append(float(interval[i]))
                sources.append(label)
        source = sources[0] if sources[0] == sources[1] else "/".join(sources)
        ranges.append(ParameterRange(spec.name, spec.name, spec.family, float(spec.value), sides[0], sides[1], source))
    return tuple(ranges)


def _variant_parameters(scenario, ranges, settings: list[tuple[int, float]], *, posterior_base=None) -> dict[str, np.ndarray]:
    """Parameter arrays for variants: base case except ``ranges[i]`` set to ``value`` (``i = -1``: base)."""
    from costspine.model.inputs import base_case_parameters

    n = len(settings)
    base = base_case_parameters(scenario)
    params = {name: np.repeat(np.asarray(v, dtype=float).reshape(-1)[:1], n) for name, v in base.items()}
    groups = {}
    for spec in scenario.parameters:
        if spec.family == "dirichlet":
            groups[spec.name] = spec.components
    for row, (i, value) in enumerate(settings):
        if i < 0:
            continue
        r = ranges[i]
        if r.family == "dirichlet":
            others = [c for c in groups[r.group] if c != r.name]
            scale = (1.0 - value) / (1.0 - r.base) if r.base < 1 else 0.0
            for c in others:
                params[c][row] = params[c][row] * scale
        params[r.name][row] = value
    return params


_DRAW_LABEL = re.compile(r"\bdraw=(\d+)")


def _run_variants(scenario, ranges, settings):
    """Run the model once over all variants; returns (cost, effect), each (variant, strategy)."""
    from costspine.analysis.psa import simulate_draws

    params = _variant_parameters(scenario, ranges, settings)

    def label(match):
        i, value = settings[int(match.group(1))]
        return "base case" if i < 0 else f"parameter={ranges[i].name} at {value:.6g}"

    try:
        result = simulate_draws(scenario, params)
    except AnalysisError as exc:
        message = _DRAW_LABEL.sub(label, str(exc)).replace("in PSA draws", "in sensitivity analysis")
        raise AnalysisError(message + "\nNarrow the range: declare low/high for these parameters, or use --range 95ci.") from None
    return result.total_cost, result.effect


@dataclass(frozen=True)
class Threshold:
    """A value of one parameter where the optimal strategy at a threshold λ changes."""

    parameter: str
    wtp: float
    value: float
    below: str
    above: str


@dataclass(frozen=True)
class DSAResult:
    """One-way sensitivity results.

    Attributes
    ----------
    scenario : Scenario
    ranges : tuple of ParameterRange
    range_kind : str
    wtp : ndarray, shape (wtp,)
    base_cost, base_effect : ndarray, shape (strategy,)
    low_cost, low_effect, high_cost, high_effect : ndarray, shape (parameter, strategy)
        Discounted total cost and effect with each parameter at its low and high value.
    thresholds : tuple of Threshold
    """

    scenario: object
    ranges: tuple
    range_kind: str
    wtp: np.ndarray
    base_cost: np.ndarray
    base_effect: np.ndarray
    low_cost: np.ndarray
    low_effect: np.ndarray
    high_cost: np.ndarray
    high_effect: np.ndarray
    thresholds: tuple

    @property
    def strategies(self) -> tuple:
        return self.scenario.strategies

    @property
    def comparator_index(self) -> int:
        return self.strategies.index(self.scenario.analysis.comparator)

    def __repr__(self) -> str:
        from costspine._text import format_repr

        return format_repr(
            type(self).__name__,
            scenario=self.scenario.name,
            strategies=self.strategies,
            parameters=len(self.ranges),
            range_kind=self.range_kind,
            thresholds=len(self.thresholds),
        )

    def _repr_html_(self) -> str:
        """The ten widest tornado bars (first strategy and threshold), as an HTML table (for notebooks)."""
        from costspine._text import format_html_table

        rows = self.tornado()
        first = [r for r in rows if r["strategy"] == rows[0]["strategy"] and r["wtp"] == rows[0]["wtp"]][:10] if rows else []
        currency = self.scenario.settings.currency
        caption = f"DSA: {self.scenario.title}" + (
            f" — {first[0]['strategy']} vs {first[0]['comparator']} at {first[0]['wtp']:,.0f}" if first else ""
        )
        return format_html_table(
            ["parameter", "low", "high", f"ΔNMB low ({currency})", f"ΔNMB high ({currency})", "swing"],
            [
                [r["parameter"], r["low_value"], r["high_value"], r["inc_nmb_low"], r["inc_nmb_high"], r["swing_nmb"]]
                for r in first
            ],
            caption=caption,
        )

    def tornado(self, *, by: str = "nmb") -> list[dict]:
        """Tornado rows for every non-comparator strategy and threshold, ranked by swing.

        Parameters
        ----------
        by : {"nmb", "icer"}
            Rank by ``|ΔNMB(high) − ΔNMB(low)|`` or by ``|ICER(high) − ICER(low)|`` (ICER
            rankings put undefined swings last).

        Returns
        -------
        list of dict
            Keys: strategy, comparator, wtp, rank, parameter, group, range_source, base_value,
            low_value, high_value, inc_cost_low/high, inc_effect_low/high, inc_nmb_base/low/high,
            swing_nmb, icer_base/low/high, icer_status_base/low/high, icer_signed_base/low/high,
            swing_icer. ``icer_*`` is NaN unless the ICER is a ratio to report (cost per unit gained,
            or saving per unit forgone): ``icer_status_*`` then says ``dominant``, ``dominated`` or
            ``equal effect`` (:func:`~costspine.analysis.cea.classify_icer`); ``icer_signed_*`` is
            the plain ``Δcost / Δeffect`` and ``swing_icer`` the distance between the signed ones.
        """
        from costspine.analysis.cea import classify_icer, compute_icer, reportable_icer

        if by not in ("nmb", "icer"):
            raise UsageError(f"rank the tornado by 'nmb' or 'icer'; got {by!r}")
        ref = self.comparator_index
        rows = []
        for k, strategy in enumerate(self.strategies):
            if k == ref:
                continue
            dc_base = self.base_cost[k] - self.base_cost[ref]
            de_base = self.base_effect[k] - self.base_effect[ref]
            dc_low = self.low_cost[:, k] - self.low_cost[:, ref]
            de_low = self.low_effect[:, k] - self.low_effect[:, ref]
            dc_high = self.high_cost[:, k] - self.high_cost[:, ref]
            de_high = self.high_effect[:, k] - self.high_effect[:, ref]
            icer_base = float(compute_icer(dc_base, de_base))
            icer_low, icer_high = compute_icer(dc_low, de_low), compute_icer(dc_high, de_high)
            swing_icer = np.abs(icer_high - icer_low)
            for lam in self.wtp:
                nmb_low = de_low * lam - dc_low
                nmb_high = de_high * lam - dc_high
                swing_nmb = np.abs(nmb_high - nmb_low)
                key = swing_nmb if by == "nmb" else np.where(np.isnan(swing_icer), -np.inf, swing_icer)
                order = sorted(range(len(self.ranges)), key=lambda i: (-key[i], i))
                for rank, i in enumerate(order, start=1):
                    r = self.ranges[i]
                    rows.append(
                        {
                            "strategy": strategy,
                            "comparator": self.strategies[ref],
                            "wtp": float(lam),
                            "rank": rank,
                            "parameter": r.name,
                            "group": r.group,
                            "range_source": r.source,
                            "base_value": r.base,
                            "low_value": r.low,
                            "high_value": r.high,
                            "inc_cost_low": float(dc_low[i]),
                            "inc_cost_high": float(dc_high[i]),
                            "inc_effect_low": float(de_low[i]),
                            "inc_effect_high": float(de_high[i]),
                            "inc_nmb_base": float(de_base * lam - dc_base),
                            "inc_nmb_low": float(nmb_low[i]),
                            "inc_nmb_high": float(nmb_high[i]),
                            "swing_nmb": float(swing_nmb[i]),
                            "icer_base": reportable_icer(dc_base, de_base),
                            "icer_low": reportable_icer(dc_low[i], de_low[i]),
                            "icer_high": reportable_icer(dc_high[i], de_high[i]),
                            "icer_status_base": classify_icer(dc_base, de_base),
                            "icer_status_low": classify_icer(dc_low[i], de_low[i]),
                            "icer_status_high": classify_icer(dc_high[i], de_high[i]),
                            "icer_signed_base": icer_base,
                            "icer_signed_low": float(icer_low[i]),
                            "icer_signed_high": float(icer_high[i]),
                            "swing_icer": float(swing_icer[i]),
                        }
                    )
        return rows

    def to_frame(self, *, by: str = "nmb"):
        """The tornado rows (:meth:`tornado`) as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.tornado(by=by))

    def to_dict(self, *, by: str = "nmb") -> dict:
        """What ``costspine dsa`` writes to ``summary.json`` (:func:`summarize_dsa`), JSON-ready (NaN -> None)."""
        from costspine._files import _jsonable

        return _jsonable(summarize_dsa(self, by=by))

    def summary(self, *, by: str = "nmb", top: int = 10) -> str:
        """Tornado table (first non-comparator strategy, first threshold) and threshold values."""
        from costspine._text import format_significant, format_table, wrap_text
        from costspine.analysis.cea import effect_label_of, effect_unit

        rows = self.tornado(by=by)
        if not rows:
            return f"{self.scenario.title}\nNo parameter has a distribution or declared low/high bounds: nothing to vary."
        first = [r for r in rows if r["strategy"] == rows[0]["strategy"] and r["wtp"] == rows[0]["wtp"]][:top]
        scenario = self.scenario
        currency = scenario.settings.currency
        labels = scenario.strategy_labels
        unit = effect_unit(effect_label_of(scenario, scenario.analysis.effect))
        ranked = "incremental net monetary benefit (NMB)" if by == "nmb" else "ICER"
        table = format_table(
            [
                "parameter",
                "low value",
                "high value",
                f"Δ NMB at low ({currency})",
                f"Δ NMB at high ({currency})",
                f"swing ({currency})",
                f"ICER at low ({currency} per {unit})",
                f"ICER at high ({currency} per {unit})",
            ],
            [
                [
                    r["parameter"],
                    r["low_value"],
                    r["high_value"],
                    r["inc_nmb_low"],
                    r["inc_nmb_high"],
                    r["swing_nmb"],
                    icer_cell(r, "low", unit),
                    icer_cell(r, "high", unit),
                ]
                for r in first
            ],
            formats={1: format_significant, 2: format_significant},
            title=(
                f"One-way sensitivity ({self.range_kind}): {labels.get(first[0]['strategy'], first[0]['strategy'])} vs "
                f"{labels.get(first[0]['comparator'], first[0]['comparator'])} at {first[0]['wtp']:,.0f} {currency} per "
                f"{unit}; base-case Δ NMB {first[0]['inc_nmb_base']:,.0f} {currency}; the {len(first)} parameters with "
                f"the largest swing in {ranked}"
            ),
        )
        parts = [wrap_text(scenario.title), wrap_text(f"Perspective: {self.scenario.analysis.perspective_text}"), table]
        if self.thresholds:
            parts.append(
                format_table(
                    [
                        "parameter",
                        f"willingness to pay ({currency} per {unit})",
                        "threshold value",
                        "optimal below",
                        "optimal above",
                    ],
                    [
                        [t.parameter, t.wtp, t.value, labels.get(t.below, t.below), labels.get(t.above, t.above)]
                        for t in self.thresholds
                    ],
                    formats={1: ",.0f", 2: format_significant},
                    title="Threshold values (the optimal strategy changes within the range)",
                )
            )
        else:
            parts.append("No parameter changes the optimal strategy within its range at any threshold.")
        return "\n\n".join(parts)


def icer_cell(row: dict, side: str, unit: str):
    """The ICER of a tornado row at ``side`` ('low', 'high' or 'base') as shown to a reader: the number
    where it is a cost per ``unit`` gained, else words ('dominant', 'dominated', 'equal effect',
    '1,234 saved per QALY forgone'). Never a negative number."""
    from costspine.analysis.cea import ICER_COST_PER_GAIN, ICER_SAVING_PER_LOSS

    status, value = row[f"icer_status_{side}"], row[f"icer_{side}"]
    if status == ICER_COST_PER_GAIN:
        return value
    if status == ICER_SAVING_PER_LOSS:
        return f"{value:,.0f} saved per {unit} forgone"
    return status


def summarize_dsa(result: DSAResult, *, by: str = "nmb") -> dict:
    """Machine-readable DSA results (``summary.json``), with the floats as computed.

    The tornado is keyed by ``"<strategy> vs <comparator>"`` then threshold, threshold values by
    threshold (keys as :func:`~costspine.analysis.psa_summary.wtp_key` writes them).
    """
    from costspine.analysis.psa_summary import wtp_key

    scenario = result.scenario
    ranked = {}
    for row in result.tornado(by=by):
        key = f"{row['strategy']} vs {row['comparator']}"
        ranked.setdefault(key, {}).setdefault(wtp_key(row["wtp"]), []).append(
            {
                k: row[k]
                for k in (
                    "parameter",
                    "low_value",
                    "high_value",
                    "inc_nmb_low",
                    "inc_nmb_high",
                    "swing_nmb",
                    "icer_low",
                    "icer_high",
                    "icer_status_low",
                    "icer_status_high",
                    "swing_icer",
                )
            }
        )
    thresholds = {}
    for t in result.thresholds:
        thresholds.setdefault(wtp_key(t.wtp), []).append(
            {"parameter": t.parameter, "value": t.value, "optimal_below": t.below, "optimal_above": t.above}
        )
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "currency": scenario.settings.currency,
        "effect": scenario.analysis.effect,
        "comparator": scenario.analysis.comparator,
        "wtp": [float(w) for w in result.wtp],
        **scenario.analysis.perspective_record(),
        "range": result.range_kind,
        "ranked_by": by,
        "base_case": {
            s: {"cost_total": float(result.base_cost[k]), "effect": float(result.base_effect[k])}
            for k, s in enumerate(result.strategies)
        },
        "parameters": [
            {
                "parameter": r.name,
                "group": r.group,
                "family": r.family,
                "base": r.base,
                "low": r.low,
                "high": r.high,
                "source": r.source,
            }
            for r in result.ranges
        ],
        "tornado": ranked,
        "thresholds": thresholds,
        "threshold_search": "within each parameter's [low, high] range",
    }


def run_dsa(scenario, *, range_kind: str = "minmax", wtp=None, posterior_pools=(), thresholds: bool = True) -> DSAResult:
    """One-way sensitivity analysis of every parameter with a distribution.

    Parameters
    ----------
    scenario : Scenario
    range_kind : {"minmax", "95ci"}
    wtp : sequence of float, optional
        Thresholds (default: the scenario's ``[analysis] wtp``).
    posterior_pools : list of dict, optional
        Needed when the scenario has posterior parameters.
    thresholds : bool, default True
        Also search each range for values where the optimal strategy changes.

    Returns
    -------
    DSAResult

    Raises
    ------
    AnalysisError
        A bound gives invalid probabilities (the message names the parameter and value).

    Notes
    -----
    Incremental NMB of strategy ``s`` versus the comparator ``r`` at λ:
    ``ΔNMB = λ (E_s − E_r) − (C_s − C_r)``; the swing of a parameter is
    ``|ΔNMB(high) − ΔNMB(low)|``. A threshold value ``x*`` solves ``NMB_a(x*) = NMB_b(x*)`` where
    ``a`` and ``b`` are the optimal strategies on either side.
    """
    from costspine.simulate.cohort import run_cohort

    lam = np.atleast_1d(np.asarray(scenario.analysis.wtp if wtp is None else wtp, dtype=float))
    run_cohort(scenario)  # base case must be valid (ScenarioError otherwise)
    ranges = build_ranges(scenario, range_kind=range_kind, posterior_pools=posterior_pools)
    settings = [(-1, np.nan)] + [(i, side) for i, r in enumerate(ranges) for side in (r.low, r.high)]
    cost, effect = _run_variants(scenario, ranges, settings)
    low, high = slice(1, None, 2), slice(2, None, 2)
    found = _find_thresholds(scenario, ranges, lam) if thresholds and ranges and len(scenario.strategies) > 1 else ()
    return DSAResult(
        scenario, ranges, range_kind, lam, cost[0], effect[0], cost[low], effect[low], cost[high], effect[high], tuple(found)
    )


def analyze_dsa(scenario, *, range_kind: str = "minmax", wtp=None, progress=None) -> DSAResult:
    """The one library call of ``costspine dsa``: load any posterior draws, then :func:`run_dsa`.

    ``progress`` is called with a line of text for slow preparatory steps (fitting a posterior).
    """
    from costspine.analysis.psa import prepare_posterior

    pools, _ = prepare_posterior(scenario, progress=progress)
    return run_dsa(scenario, range_kind=range_kind, wtp=wtp, posterior_pools=pools)


def _find_thresholds(scenario, ranges, lam) -> list[Threshold]:
    strategies = scenario.strategies
    grids = [np.linspace(min(r.low, r.high), max(r.low, r.high), GRID_POINTS) for r in ranges]
    settings = [(i, float(x)) for i, grid in enumerate(grids) for x in grid]
    cost, effect = _run_variants(scenario, ranges, settings)
    nmb = effect[:, :, None] * lam - cost[:, :, None]  # (variant, strategy, wtp)
    nmb = nmb.reshape(len(ranges), GRID_POINTS, len(strategies), len(lam))
    best = np.argmax(nmb, axis=2)  # (parameter, point, wtp)
    brackets = []  # [parameter, wtp index, optimal below, optimal above, x0, x1, diff(x0), diff(x1)]
    for i in range(len(ranges)):
        for w in range(len(lam)):
            for p in np.flatnonzero(best[i, 1:, w] != best[i, :-1, w]):
                a, c = int(best[i, p, w]), int(best[i, p + 1, w])
                d0 = nmb[i, p, c, w] - nmb[i, p, a, w]
                d1 = nmb[i, p + 1, c, w] - nmb[i, p + 1, a, w]
                brackets.append([i, w, a, c, grids[i][p], grids[i][p + 1], d0, d1])
    for _ in range(REFINE_ROUNDS):
        if not brackets:
            break
        points = [np.linspace(b[4], b[5], REFINE_POINTS) for b in brackets]
        cost, effect = _run_variants(scenario, ranges, [(b[0], float(x)) for b, xs in zip(brackets, points) for x in xs])
        cost = cost.reshape(len(brackets), REFINE_POINTS, -1)
        effect = effect.reshape(len(brackets), REFINE_POINTS, -1)
        for j, b in enumerate(brackets):
            i, w, a, c = b[:4]
            diff = (effect[j, :, c] - effect[j, :, a]) * lam[w] - (cost[j, :, c] - cost[j, :, a])  # NMB_c − NMB_a
            flips = np.flatnonzero((diff[1:] > 0) != (diff[:-1] > 0))
            if flips.size:
                p = flips[0]
                b[4:] = [points[j][p], points[j][p + 1], diff[p], diff[p + 1]]
    found = []
    for i, w, a, c, x0, x1, d0, d1 in brackets:
        x = x0 - d0 * (x1 - x0) / (d1 - d0) if d1 != d0 else 0.5 * (x0 + x1)
        found.append(Threshold(ranges[i].name, float(lam[w]), float(min(max(x, x0), x1)), strategies[a], strategies[c]))
    return found
