"""Value of individualised care (Basu & Meltzer 2007): per-group decisions against one size for all.

A scenario with a ``[population]`` is run one cohort per group (phenotype) with
:func:`costspine.simulate.cohort.run_cohort_groups`; the net benefit of every strategy in every
group and draw is then compared across allocation policies:

* **one size fits all**: every patient gets the same treatment; the best such treatment is the
  one with the highest expected population net benefit;
* **individualised (oracle)**: each group gets the treatment with the highest expected net
  benefit *in that group*, given the model's parameters;
* **declared policies**: every other strategy of the scenario (a phenotype-guided rule, random
  allocation ...), whose per-group allocation the scenario itself declares.

The expected value of individualised care is the population net benefit of the oracle minus that of
the best one-size-fits-all treatment; it is also the most a payer could spend on phenotyping per
patient and break even. No files, no printing: :mod:`costspine.reports.individualised_report`
writes the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costspine._text import format_number, format_table, wrap_text
from costspine.analysis.cea import effect_label_of, effect_unit
from costspine.errors import UsageError

INTERVAL = (2.5, 97.5)


@dataclass(frozen=True)
class IndividualisedResult:
    """Net benefit by group and strategy, and the policies built from it; computes nothing in ``__init__``.

    Attributes
    ----------
    scenario_name, title, currency : str
    wtp : float
        Willingness to pay per unit of effect.
    effect : str
        The effect outcome (``[analysis] effect``).
    strategies : tuple of str
        Every strategy, in scenario order.
    strategy_labels : dict of str to str
    treatments : tuple of str
        The candidate treatments (one size for all, and the oracle's choices).
    policies : tuple of str
        The other strategies (declared allocation policies).
    group_labels : tuple of str
    weights : ndarray, shape (draw, group)
    nb : ndarray, shape (draw, group, strategy)
        Net monetary benefit per patient, ``wtp * effect - cost``.
    best_by_group : tuple of str
        Each group's treatment with the highest expected net benefit.
    best_overall : str
        The treatment with the highest expected population net benefit (one size for all).
    nb_population : ndarray, shape (draw, strategy)
        Population net benefit per patient of each strategy.
    nb_oracle : ndarray, shape (draw,)
        Population net benefit of giving each group ``best_by_group``.
    nb_perfect : ndarray, shape (draw,)
        Population net benefit if each group got its best treatment *in that draw* (decisions
        remade with the draw's parameters known).
    plan_size : float or None
        Patients treated per year in a plan, for population totals.
    draws : int
    seed : int or None
    effect_label : str
        The effect's label ('QALYs'), for the text; default the effect's name.
    """

    scenario_name: str
    title: str
    currency: str
    wtp: float
    effect: str
    strategies: tuple
    strategy_labels: dict
    treatments: tuple
    policies: tuple
    group_labels: tuple
    weights: np.ndarray
    nb: np.ndarray
    best_by_group: tuple
    best_overall: str
    nb_population: np.ndarray
    nb_oracle: np.ndarray
    nb_perfect: np.ndarray
    plan_size: float | None = None
    draws: int = 0
    seed: int | None = None
    effect_label: str = ""
    method: str = "cohort"
    individuals: int | None = None
    draws_from: str | None = None

    def _index(self, name: str) -> int:
        return self.strategies.index(name)

    @property
    def nb_one_size(self) -> np.ndarray:
        """Population net benefit of the best one-size-fits-all treatment, shape (draw,)."""
        return self.nb_population[:, self._index(self.best_overall)]

    @property
    def evic(self) -> np.ndarray:
        """Expected value of individualised care per patient, per draw, shape (draw,).

        ``nb_oracle - nb_one_size``: both allocations fixed at their expected-value choices and
        evaluated in each draw, so the mean is the EVIC at current information and the spread its
        uncertainty. Never negative in expectation; a single draw may be negative.
        """
        return self.nb_oracle - self.nb_one_size

    @property
    def evic_given_parameters(self) -> np.ndarray:
        """EVIC if the draw's parameters were known, shape (draw,): ``nb_perfect - max_t nb_population[:, t]``."""
        treatments = [self._index(t) for t in self.treatments]
        return self.nb_perfect - self.nb_population[:, treatments].max(axis=1)

    def policy_value(self, policy: str) -> dict[str, np.ndarray]:
        """A declared policy against both references, per draw: ``vs_one_size`` and ``gap_to_oracle``."""
        nb = self.nb_population[:, self._index(policy)]
        return {"vs_one_size": nb - self.nb_one_size, "gap_to_oracle": self.nb_oracle - nb}

    def decision_table(self) -> list[dict]:
        """One row per group: share, best treatment, its probability of being best across draws and
        the expected net benefit per patient lost by giving the group the one-size-fits-all treatment."""
        treatments = [self._index(t) for t in self.treatments]
        winners = np.asarray(treatments)[self.nb[:, :, treatments].argmax(axis=2)]  # (draw, group)
        one_size = self._index(self.best_overall)
        rows = []
        for g, label in enumerate(self.group_labels):
            best = self._index(self.best_by_group[g])
            rows.append(
                {
                    "group": label,
                    "share": float(self.weights[:, g].mean()),
                    "best_treatment": self.best_by_group[g],
                    "prob_best": float((winners[:, g] == best).mean()),
                    "nb_best": float(self.nb[:, g, best].mean()),
                    "nb_lost_one_size": float((self.nb[:, g, best] - self.nb[:, g, one_size]).mean()),
                }
            )
        return rows

    def headline(self) -> list[dict]:
        """Rows ``measure, per_patient, low, high, plan_total``: EVIC, each policy against both references."""

        def row(measure, values):
            values = np.asarray(values, dtype=float)
            low, high = np.percentile(values, INTERVAL)
            mean = float(values.mean())
            return {
                "measure": measure,
                "per_patient": mean,
                "low": float(low),
                "high": float(high),
                "plan_total": None if self.plan_size is None else mean * self.plan_size,
            }

        rows = [
            row("EVIC: individualised (oracle) vs one size for all", self.evic),
            row("EVIC if parameters were known (decisions per draw)", self.evic_given_parameters),
        ]
        for p in self.policies:
            value = self.policy_value(p)
            name = self.strategy_labels.get(p, p)
            rows.append(row(f"{name} vs one size for all", value["vs_one_size"]))
            rows.append(row(f"oracle vs {name}", value["gap_to_oracle"]))
        return rows

    def breakeven(self) -> dict[str, float]:
        """Most a payer could spend on phenotyping per patient and break even, per allocation.

        The oracle's is the EVIC; a declared policy's is its value against one size for all (net of
        any phenotyping cost the scenario already charges in that strategy); never below 0.
        """
        out = {"oracle": max(0.0, float(self.evic.mean()))}
        for p in self.policies:
            out[p] = max(0.0, float(self.policy_value(p)["vs_one_size"].mean()))
        return out

    def summary(self) -> str:
        """The headline table, the break-even phenotyping costs and the decision table, as text."""
        c = self.currency
        kind = f"{self.draws} PSA draws, 95% intervals" if self.draws else "base case"
        if self.draws_from:
            kind += f" read from {self.draws_from}"
        if self.method == "microsim":
            kind += f"; microsimulation of {self.individuals:,} individuals"

        def money(v):
            return format_number(v, ",.0f")

        head = [
            [r["measure"], money(r["per_patient"]), money(r["low"]), money(r["high"])]
            + ([money(r["plan_total"])] if self.plan_size else [])
            for r in self.headline()
        ]
        headers = ["measure", f"NMB per patient ({c})", "2.5%", "97.5%"] + ([f"plan total ({c})"] if self.plan_size else [])
        parts = [
            format_table(
                headers,
                head,
                title=(
                    f"Value of individualised care at {self.wtp:,.0f} {c} per {effect_unit(self.effect_label or self.effect)} "
                    f"({self.title}; {kind})"
                ),
            )
        ]
        best = self.strategy_labels.get(self.best_overall, self.best_overall)
        parts.append(
            wrap_text(
                f"Best one size for all: {best}. Break-even phenotyping cost per patient: "
                + "; ".join(
                    f"{'oracle' if k == 'oracle' else self.strategy_labels.get(k, k)} {money(v)} {c}"
                    for k, v in self.breakeven().items()
                )
            )
        )
        table = [
            [
                r["group"],
                f"{r['share']:.3f}",
                self.strategy_labels.get(r["best_treatment"], r["best_treatment"]),
                f"{r['prob_best']:.2f}",
                money(r["nb_lost_one_size"]),
            ]
            for r in self.decision_table()
        ]
        parts.append(
            format_table(
                ["group", "share", "best treatment", "P(best)", f"NB lost by one size ({c})"],
                table,
                title="Decision table by phenotype",
            )
        )
        return "\n\n".join(parts)

    def to_dict(self) -> dict:
        """Plain data for ``summary.json``."""
        return {
            "scenario": self.scenario_name,
            "wtp": self.wtp,
            "effect": self.effect,
            "currency": self.currency,
            "draws": self.draws,
            "seed": self.seed,
            "method": self.method,
            "individuals": self.individuals,
            "draws_from": self.draws_from,
            "plan_size": self.plan_size,
            "treatments": list(self.treatments),
            "policies": list(self.policies),
            "best_one_size": self.best_overall,
            "nb_population": {s: float(self.nb_population[:, k].mean()) for k, s in enumerate(self.strategies)},
            "nb_oracle": float(self.nb_oracle.mean()),
            "value": self.headline(),
            "breakeven_phenotyping_cost": self.breakeven(),
            "decision_table": self.decision_table(),
        }

    def to_frame(self):
        """The decision table as a DataFrame, one row per group."""
        import pandas as pd

        return pd.DataFrame(self.decision_table())


def summarize_individualised(
    grouped,
    *,
    wtp: float,
    treatments=None,
    plan_size: float | None = None,
    draws: int = 0,
    seed: int | None = None,
    draws_from: str | None = None,
) -> IndividualisedResult:
    """Value of individualised care from per-group results.

    Parameters
    ----------
    grouped : GroupedCohortResult
        From :func:`costspine.simulate.cohort.run_cohort_groups` (base case or PSA draws).
    wtp : float
        Willingness to pay per unit of the scenario's effect.
    treatments : sequence of str, optional
        Candidate treatments (strategy names); default every strategy. The other strategies are
        reported as declared policies.
    plan_size : float, optional
        Patients per year in a plan, for population totals.
    draws, seed : int
        Recorded for the report.
    draws_from : str, optional
        The PSA folder the draws were read from, recorded for the report.

    Returns
    -------
    IndividualisedResult

    Raises
    ------
    UsageError
        An unknown treatment name, or fewer than two treatments.

    Notes
    -----
    With ``NB[d, g, t] = wtp * E[d, g, t] - C[d, g, t]`` and group shares ``w[d, g]``:
    ``t*_g = argmax_t mean_d NB[d, g, t]``, ``t* = argmax_t mean_d sum_g w NB[d, g, t]`` and
    ``EVIC[d] = sum_g w[d, g] (NB[d, g, t*_g] - NB[d, g, t*])`` (Basu & Meltzer 2007, with phenotype
    groups as the individuals).

    References
    ----------
    Basu A, Meltzer D. Value of information on preference heterogeneity and individualized care.
    Med Decis Making 2007;27(2):112-127.

    Examples
    --------
    Two groups (shares 0.75, 0.25) and two treatments; net benefit 800/600 in the first group and
    400/500 in the second: one size for all is ``a`` (700 vs 575), the oracle gives the second group
    ``b`` (725), so EVIC = 25.

    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> scenario = SimpleNamespace(
    ...     name="toy",
    ...     title="Toy",
    ...     settings=SimpleNamespace(currency="USD"),
    ...     analysis=SimpleNamespace(effect="qalys"),
    ...     strategy_labels={},
    ... )
    >>> grouped = SimpleNamespace(
    ...     scenario=scenario,
    ...     strategies=("a", "b"),
    ...     labels=("fit", "frail"),
    ...     weights=np.array([[0.75, 0.25]]),
    ...     total_cost=np.array([[[100.0, 300.0], [100.0, 300.0]]]),
    ...     effect=np.array([[[0.9, 0.9], [0.5, 0.8]]]),
    ... )
    >>> result = summarize_individualised(grouped, wtp=1000)
    >>> result.best_overall, result.best_by_group, round(float(result.evic.mean()), 6)
    ('a', ('a', 'b'), 25.0)
    """
    strategies = tuple(grouped.strategies)
    treatments = tuple(strategies if treatments is None else treatments)
    unknown = [t for t in treatments if t not in strategies]
    if unknown:
        raise UsageError(
            f"--treatments: unknown strategy {', '.join(map(repr, unknown))}; "
            f"the scenario's strategies are {', '.join(strategies)}"
        )
    if len(set(treatments)) < 2:
        raise UsageError(
            f"--treatments: need at least two different treatments to compare; got {', '.join(treatments) or 'none'}"
        )
    nb = wtp * np.asarray(grouped.effect, dtype=float) - np.asarray(grouped.total_cost, dtype=float)  # (D, G, S)
    weights = np.asarray(grouped.weights, dtype=float)
    t_idx = np.array([strategies.index(t) for t in treatments])
    nb_t = nb[:, :, t_idx]  # (D, G, T)
    best_g = t_idx[nb_t.mean(axis=0).argmax(axis=1)]  # (G,)
    nb_population = np.einsum("dg,dgs->ds", weights, nb)
    best_overall = int(t_idx[nb_population[:, t_idx].mean(axis=0).argmax()])
    nb_oracle = np.einsum("dg,dg->d", weights, nb[:, np.arange(nb.shape[1]), best_g])
    nb_perfect = np.einsum("dg,dg->d", weights, nb_t.max(axis=2))
    scenario = grouped.scenario
    return IndividualisedResult(
        scenario_name=scenario.name,
        title=scenario.title,
        currency=scenario.settings.currency,
        wtp=float(wtp),
        effect=scenario.analysis.effect,
        effect_label=effect_label_of(scenario, scenario.analysis.effect) if hasattr(scenario, "outcomes") else "",
        strategies=strategies,
        strategy_labels=dict(scenario.strategy_labels),
        treatments=treatments,
        policies=tuple(s for s in strategies if s not in treatments),
        group_labels=tuple(grouped.labels),
        weights=weights,
        nb=nb,
        best_by_group=tuple(strategies[i] for i in best_g),
        best_overall=strategies[best_overall],
        nb_population=nb_population,
        nb_oracle=nb_oracle,
        nb_perfect=nb_perfect,
        plan_size=plan_size,
        draws=int(draws),
        seed=seed,
        method="microsim" if hasattr(grouped, "individuals") else "cohort",
        individuals=getattr(grouped, "n_individuals", None),
        draws_from=draws_from,
    )


def saved_psa_parameters(scenario, results_dir) -> tuple[dict[str, np.ndarray], int]:
    """The parameter draws of a saved PSA of ``scenario`` (``draws/``, or an older ``draws.npz``, in ``results_dir``) and its seed.

    Parameters
    ----------
    scenario : Scenario
        Must be the scenario the PSA ran: its fingerprint (the resolved scenario, tables,
        posterior draws and costspine version, :func:`costspine.analysis.chunk_store.run_fingerprint`)
        must equal the one ``costspine psa`` recorded.
    results_dir : path
        A folder written by ``costspine psa``.

    Returns
    -------
    params : dict of str to ndarray, shape (draw,)
        The non-derived parameters (derived ones are recomputed from them).
    seed : int

    Raises
    ------
    UsageError
        No readable draws, a file without a fingerprint (older costspine), or a PSA of
        another scenario or of the scenario as it was before an edit.
    """
    from costspine.analysis.chunk_store import run_fingerprint
    from costspine.analysis.parameter_draws import draw_run_parameters
    from costspine.analysis.psa import prepare_posterior
    from costspine.analysis.psa_draws_file import draws_location, load_psa_draws

    saved = load_psa_draws(results_dir)
    where = str(draws_location(results_dir))
    recorded = saved.extra.get("fingerprint")
    if recorded is None:
        raise UsageError(
            f"{where}: has no scenario fingerprint (written by an older costspine); rerun `costspine psa` on {scenario.path}"
        )
    if saved.scenario != scenario.name:
        raise UsageError(
            f"{where}: holds a PSA of scenario {saved.scenario!r}, not of {scenario.name!r} ({scenario.path}); "
            f"run `costspine psa {scenario.path}` and pass its folder, or drop --draws-from"
        )
    pools, _ = prepare_posterior(scenario)
    if run_fingerprint(scenario, method=saved.method, posterior_pools=pools) != recorded:
        raise UsageError(
            f"{where}: a PSA of {scenario.name!r} as it was before a change (this file, a parent file, a price, a table "
            f"or the posterior draws differ, or another costspine version); rerun `costspine psa {scenario.path}` "
            "or drop --draws-from"
        )
    fixed = {spec.name for spec in scenario.parameters if spec.family == "fixed"}
    probe = draw_run_parameters(scenario, seed=saved.seed, start=0, stop=1, posterior_pools=pools)
    n_draws = saved.parameters.shape[0]
    params = {}
    for name, value in probe.items():
        if name in saved.parameter_names:
            params[name] = np.asarray(saved.parameters[:, saved.parameter_names.index(name)], dtype=float)
        elif name in fixed:
            params[name] = np.full(n_draws, float(np.asarray(value).ravel()[0]))
        else:
            raise UsageError(f"{where}: no draws of parameter {name!r}; rerun `costspine psa {scenario.path}`")
    return params, int(saved.seed)


def analyze_individualised(
    scenario,
    *,
    draws: int = 0,
    seed: int = 1,
    wtp: float | None = None,
    treatments=None,
    plan_size: float | None = None,
    method: str = "cohort",
    individuals: int | None = None,
    draws_from=None,
    on_draw=None,
) -> IndividualisedResult:
    """Run a scenario by group (base case, or ``draws`` PSA draws) and value individualised care.

    Parameters
    ----------
    scenario : Scenario
        With a ``[population]`` that declares at least one attribute.
    draws : int
        PSA draws (the same draws as ``costspine psa --seed``); 0 for the base case only.
    seed : int
    wtp : float, optional
        Default: the middle of the scenario's ``[analysis] wtp`` list.
    treatments, plan_size
        As :func:`summarize_individualised`.
    method : {"cohort", "microsim"}
        One cohort per group, or a microsimulation of ``individuals`` individuals whose groups
        are sampled from their shares (:func:`costspine.simulate.microsim.run_microsim_groups`).
    individuals : int, optional
        Microsimulation only; default ``[microsimulation] individuals``.
    draws_from : path, optional
        A ``costspine psa`` folder of the same scenario: its saved parameter draws are used
        (:func:`saved_psa_parameters`) instead of drawing ``draws`` anew; ``draws`` and ``seed``
        are then those of the saved PSA.
    on_draw : callable(), optional
        Microsimulation only: called after each draw.

    Returns
    -------
    IndividualisedResult
    """
    from costspine.analysis.parameter_draws import draw_run_parameters
    from costspine.simulate.cohort import run_cohort_groups
    from costspine.simulate.microsim import run_microsim_groups

    if method not in ("cohort", "microsim"):
        raise UsageError(f"--method: expected 'cohort' or 'microsim'; got {method!r}")
    if wtp is None:
        listed = list(scenario.analysis.wtp)
        wtp = listed[len(listed) // 2]
    if draws_from is not None:
        params, seed = saved_psa_parameters(scenario, draws_from)
        draws = len(next(iter(params.values()))) if params else 0
    else:
        params = draw_run_parameters(scenario, seed=seed, start=0, stop=draws) if draws else None
    if method == "microsim":
        grouped = run_microsim_groups(scenario, params, n_individuals=individuals, seed=seed, on_draw=on_draw)
    else:
        grouped = run_cohort_groups(scenario, params)
    return summarize_individualised(
        grouped,
        wtp=wtp,
        treatments=treatments,
        plan_size=plan_size,
        draws=draws,
        seed=seed if draws or method == "microsim" else None,
        draws_from=None if draws_from is None else str(draws_from),
    )
