"""costspine: health-economic modelling of spine-pain care.

The notebook API: one verb per analysis, each a thin function over the library call the CLI
command of the same name makes, with the CLI's defaults. Each accepts a scenario path or a
loaded :class:`~costspine.scenario.types.Scenario`, takes its options by keyword, writes no file
unless ``out_dir`` is given, and returns a typed result with ``summary()``, ``to_frame()``,
``to_dict()``, a one-line ``repr`` and an HTML table for notebooks.

==================  ==========================================================  ===============
verb                returns                                                     CLI command
==================  ==========================================================  ===============
``load_scenario``   :class:`~costspine.scenario.types.Scenario`                 ``validate``
``run``             :class:`~costspine.simulate.cohort.CohortResult` (or        ``run``
                    :class:`~costspine.simulate.microsim.MicrosimResult`)
``psa``             :class:`~costspine.analysis.psa_summary.PSASummary`         ``psa``
``dsa``             :class:`~costspine.analysis.dsa.DSAResult`                  ``dsa``
``voi``             :class:`~costspine.analysis.voi_summary.VOISummary`         ``voi``
``bia``             :class:`~costspine.analysis.bia_run.BiaAnalysis`            ``bia``
``fit``             :class:`~costspine.bayes.calibration.Calibration`           ``fit``
==================  ==========================================================  ===============

Importing the package is light: every heavy import happens inside the verbs.

>>> import costspine
>>> scenario = costspine.load_scenario("scenarios/examples/hiv_chancellor.toml")
>>> result = costspine.run(scenario)
>>> result
<CohortResult scenario='hiv_chancellor' method='cohort' strategies=[mono, comb] draws=1 cycles=20>
>>> print(result.summary())  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
Expected costs and outcomes per patient, cohort (HIV: zidovudine monotherapy vs combination with
lamivudine (Chancellor 1997))
                            Direct medical      Community care
strategy                             (GBP)               (GBP)  Drugs (GBP)  Total (GBP)  Life-years
-----------------------  -----------------  ------------------  -----------  -----------  ----------
Zidovudine monotherapy              22,533               8,843       13,288       44,663      7.9912
Zidovudine + lamivudine             22,872               9,327       18,403       50,602      8.9374
"""

from __future__ import annotations

from costspine._version import __version__

__all__ = ["__version__", "load_scenario", "run", "psa", "dsa", "voi", "bia", "fit", "run_cohort"]

DEFAULT_SEED = 20260101  # the CLI's --seed default


def __getattr__(name):
    # Lazy attributes keep `import costspine` (and the CLI's start-up) free of numpy-heavy work.
    if name == "run_cohort":
        from costspine.simulate.cohort import run_cohort

        return run_cohort
    raise AttributeError(f"module 'costspine' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


def _scenario(scenario):
    """A loaded Scenario as given, or the one a path names."""
    from costspine.scenario.types import Scenario

    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _record(verb: str) -> dict:
    """What the report writers record in ``manifest.json`` for a call from Python."""
    from datetime import UTC, datetime

    return {"argv": ["python", f"costspine.{verb}()"], "started": datetime.now(UTC)}


def load_scenario(path):
    """Read and check a scenario file (and its ``extends`` chain).

    Parameters
    ----------
    path : str or Path
        The scenario TOML file.

    Returns
    -------
    Scenario
        Validated and immutable.

    Raises
    ------
    ScenarioError
        Every problem of the file, each with its key path, together.

    Examples
    --------
    >>> load_scenario("scenarios/examples/hiv_chancellor.toml").strategies
    ('mono', 'comb')
    """
    from costspine.scenario.load import load_scenario as _load

    return _load(path)


def run(
    scenario,
    *,
    method: str = "cohort",
    individuals: int | None = None,
    seed: int = DEFAULT_SEED,
    out_dir=None,
    xlsx_path=None,
    figures: bool = False,
):
    """Base case of a scenario: ``costspine run``.

    Parameters
    ----------
    scenario : Scenario, str or Path
    method : {"cohort", "microsim"}
        The cohort (Markov) model, or the individual-level microsimulation.
    individuals : int, optional
        Microsimulation only: individuals per strategy (default: the scenario's).
    seed : int, default 20260101
        Microsimulation only: the run's seed.
    out_dir : str or Path, optional
        Write the CLI's output folder here (CSV, JSON, ``run.xlsx``); nothing is written
        without it.
    xlsx_path : str or Path, optional
        With ``out_dir``: the workbook's path instead of ``run.xlsx`` in ``out_dir``.
    figures : bool
        With ``out_dir``: also write the PNG figures (``--figures``).

    Returns
    -------
    CohortResult or MicrosimResult
        Costs ``(draw, strategy, category)``, outcomes ``(draw, strategy, outcome)``, the trace.

    Examples
    --------
    >>> result = run("scenarios/examples/hiv_chancellor.toml")
    >>> result.to_frame()[["strategy", "cost_total"]].round(0)  # doctest: +NORMALIZE_WHITESPACE
      strategy  cost_total
    0     mono     44663.0
    1     comb     50602.0
    """
    from costspine.simulate.run import run_scenario

    loaded = _scenario(scenario)
    result = run_scenario(loaded, method=method, individuals=individuals, seed=seed)
    if out_dir is not None:
        from pathlib import Path

        from costspine.analysis.subgroups import run_subgroups
        from costspine.reports.run_report import write_run_report

        with _writing(Path(out_dir), xlsx_path) as (folder, xlsx):
            write_run_report(
                [result],
                subgroups=[run_subgroups(loaded, result)],
                out_dir=folder,
                xlsx_path=xlsx,
                seed=seed if method == "microsim" else None,
                figures=figures,
                **_record("run"),
            )
    return result


def psa(
    scenario,
    *,
    draws: int = 1000,
    seed: int = DEFAULT_SEED,
    wtp=None,
    evppi=(),
    evppi_method: str = "gam",
    population=None,
    horizon_years=None,
    discount=None,
    method: str = "cohort",
    individuals: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    out_dir=None,
    xlsx_path=None,
    csv: bool = False,
    figures: bool = False,
):
    """Probabilistic sensitivity analysis: ``costspine psa``.

    Parameters
    ----------
    scenario : Scenario, str or Path
    draws : int, default 1000
        Parameter draws.
    seed : int, default 20260101
        Same seed, same draws (bit for bit), whatever ``workers``.
    wtp : sequence of float, optional
        Willingness-to-pay thresholds (default: the scenario's ``[analysis] wtp``).
    evppi : sequence of str
        EVPPI groups, e.g. ``["rr"]``, ``["each"]`` (none by default).
    evppi_method : {"gam", "gp"}
    population, horizon_years, discount : optional
        Population EVPI: people affected per year, years, annual discount rate.
    method : {"cohort", "microsim"}
    individuals : int, optional
        Microsimulation only: individuals per strategy and draw.
    workers : int, optional
        Run chunks on a local Dask cluster with this many processes.
    scheduler : str, optional
        Address of an existing Dask scheduler.
    out_dir : str or Path, optional
        Write the CLI's output folder (``draws/``, summary tables, ``psa.xlsx``, saved chunks)
        here; nothing is written without it.
    xlsx_path : str or Path, optional
        With ``out_dir``: the workbook's path instead of ``psa.xlsx`` in ``out_dir``.
    csv, figures : bool
        With ``out_dir``: also write the per-draw CSV tables (``--csv``) and the PNG figures
        (``--figures``).

    Returns
    -------
    PSASummary
        ``.draws`` is the :class:`~costspine.analysis.psa_result.PSAResult` (arrays per draw);
        ``to_frame()`` is keyed by ``strategy, wtp``.
    """
    from costspine.analysis.psa_summary import analyze_psa

    loaded = _scenario(scenario)
    options = dict(
        seed=seed,
        wtp=wtp,
        evppi=evppi,
        evppi_method=evppi_method,
        population=population,
        horizon_years=horizon_years,
        discount=discount,
        method=method,
        individuals=individuals,
        workers=workers,
        scheduler=scheduler,
    )
    if out_dir is None:
        analysis = analyze_psa(loaded, draws, **options)
    else:
        from costspine.reports.build import workbook_path
        from costspine.reports.psa_report import run_psa_into_folder

        # the output folder is locked for the whole run (its chunks are saved while the PSA runs)
        with _writing(_path(out_dir), xlsx_path) as (folder, xlsx):
            analysis, _, _ = run_psa_into_folder(
                loaded,
                draws,
                out_dir=folder,
                xlsx=workbook_path(xlsx, out_dir=folder, command="psa"),
                store_dir=_path(out_dir) / "chunks",
                csv=csv,
                figures=figures,
                **_record("psa"),
                **options,
            )
    if analysis.draws.store is not None:
        # the staging folder the draws were written into has moved into out_dir: from now on they are
        # read through their memory maps (still valid), never again by the staging folder's path
        import dataclasses

        from costspine.analysis.psa_summary import PlaneValues

        draws = dataclasses.replace(analysis.draws, store=None)
        plane = analysis.tables["ce_plane.csv"]
        analysis = dataclasses.replace(
            analysis, draws=draws, tables={**analysis.tables, "ce_plane.csv": (*plane[:2], PlaneValues(draws))}
        )
    return analysis


def dsa(scenario, *, range_kind: str = "minmax", wtp=None, out_dir=None, by: str = "nmb", xlsx_path=None):
    """One-way sensitivity analysis: ``costspine dsa``.

    Parameters
    ----------
    scenario : Scenario, str or Path
    range_kind : {"minmax", "95ci"}
        The low/high each parameter declares (else its 95% interval), or the distribution's 2.5%
        and 97.5% points.
    wtp : sequence of float, optional
        Thresholds (default: the scenario's).
    out_dir : str or Path, optional
        Write the CLI's output folder here; nothing is written without it.
    by : {"nmb", "icer"}
        With ``out_dir``: rank the written tornado by the swing in NMB or ICER (for the result
        itself, pass ``by`` to ``to_frame``/``summary``).
    xlsx_path : str or Path, optional
        With ``out_dir``: the workbook's path instead of ``dsa.xlsx`` in ``out_dir``.

    Returns
    -------
    DSAResult
        ``to_frame(by=...)`` is the tornado table; ``thresholds`` the threshold values.
    """
    from costspine.analysis.dsa import analyze_dsa

    result = analyze_dsa(_scenario(scenario), range_kind=range_kind, wtp=wtp)
    if out_dir is not None:
        from costspine.reports.build import workbook_path
        from costspine.reports.dsa_report import write_dsa_report

        with _writing(_path(out_dir), xlsx_path) as (folder, xlsx):
            write_dsa_report(
                result, by=by, out_dir=folder, xlsx=workbook_path(xlsx, out_dir=folder, command="dsa"), **_record("dsa")
            )
    return result


def voi(
    draws,
    *,
    evppi=(),
    method: str = "gam",
    wtp=None,
    population=None,
    horizon_years=None,
    discount=None,
    parameters=None,
    comparator=None,
    effect=None,
    currency=None,
    seed=None,
    out_dir=None,
    xlsx_path=None,
    figures: bool = False,
):
    """EVPI and EVPPI of PSA draws: ``costspine voi``.

    Parameters
    ----------
    draws : PSASummary, PSAResult, str or Path
        A :func:`psa` result, a folder ``costspine psa`` wrote, or CSV draws from any tool (see
        :func:`~costspine.analysis.voi_summary.analyze_voi`).
    evppi : sequence of str
        EVPPI groups (none by default: EVPI only).
    method : {"gam", "gp"}
        Regression for EVPPI.
    wtp : sequence of float, optional
        Thresholds (default: the PSA's; required for CSV draws).
    population, horizon_years, discount : optional
        Population EVPI.
    parameters, comparator, effect, currency, seed : optional
        CSV draws only, as for :func:`~costspine.analysis.external_draws.load_draws`.
    out_dir : str or Path, optional
        Write the CLI's output folder here; nothing is written without it.
    xlsx_path : str or Path, optional
        With ``out_dir``: the workbook's path instead of ``voi.xlsx`` in ``out_dir``.
    figures : bool
        With ``out_dir``: also write the PNG figures (``--figures``).

    Returns
    -------
    VOISummary
        ``evpi`` has shape ``(wtp,)``; ``to_frame()`` lists EVPI then EVPPI rows.
    """
    from costspine.analysis.psa_summary import PSASummary
    from costspine.analysis.voi_summary import analyze_voi

    source = draws.draws if isinstance(draws, PSASummary) else draws
    result = analyze_voi(
        source,
        evppi=evppi,
        method=method,
        wtp=wtp,
        population=population,
        horizon_years=horizon_years,
        discount=discount,
        parameters=parameters,
        comparator=comparator,
        effect=effect,
        currency=currency,
        seed=seed,
    )
    if out_dir is not None:
        from costspine.reports.build import workbook_path
        from costspine.reports.psa_report import write_voi_report

        with _writing(_path(out_dir), xlsx_path) as (folder, xlsx):
            write_voi_report(
                result,
                out_dir=folder,
                xlsx=workbook_path(xlsx, out_dir=folder, command="voi"),
                figures=figures,
                **_record("voi"),
            )
    return result


def bia(
    scenarios,
    *,
    members: float | None = None,
    years: int | None = None,
    draws: int = 0,
    seed: int = DEFAULT_SEED,
    out_dir=None,
    xlsx_path=None,
):
    """Budget impact for a plan population over years: ``costspine bia``.

    Parameters
    ----------
    scenarios : Scenario, str, Path or a list of them
        Scenarios with a ``[budget_impact]`` section (side by side when several).
    members : float, optional
        Average plan members in year 1 (replaces ``budget_impact.members``).
    years : int, optional
        Budget horizon, at most the file's ``budget_impact.years``.
    draws : int, default 0
        Parameter draws for 95% intervals; 0 is the deterministic base case.
    seed : int, default 20260101
    out_dir : str or Path, optional
        Write the CLI's output folder here; nothing is written without it.
    xlsx_path : str or Path, optional
        With ``out_dir``: the workbook's path instead of ``bia.xlsx`` in ``out_dir``.

    Returns
    -------
    BiaAnalysis
        ``runs`` holds one :class:`~costspine.analysis.bia_run.BiaRun` per scenario;
        ``to_frame()`` is keyed by ``scenario, measure, item, year``.
    """
    from costspine.analysis.bia_run import analyze_bia

    items = scenarios if isinstance(scenarios, (list, tuple)) else [scenarios]
    analysis = analyze_bia([_scenario(s) for s in items], members=members, years=years, draws=draws, seed=seed)
    if out_dir is not None:
        from costspine.reports.bia_report import write_bia_report
        from costspine.reports.build import workbook_path

        with _writing(_path(out_dir), xlsx_path) as (folder, xlsx):
            write_bia_report(analysis, out_dir=folder, xlsx=workbook_path(xlsx, out_dir=folder, command="bia"), **_record("bia"))
    return analysis


def fit(
    evidence=None,
    *,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    out_dir=None,
):
    """Bayesian calibration of a scenario to trial evidence: ``costspine fit``.

    Parameters
    ----------
    evidence : str or Path, optional
        An evidence TOML file (default: the bundled SPINE CARE evidence).
    draws, tune, chains, seed : int, optional
        Sampler settings; each defaults to the evidence file's ``[sampler]``.
    out_dir : str or Path, optional
        Write the CLI's output folder (draws CSV, NetCDF, diagnostics) here, and cache the
        posterior when it may be reused; nothing is written without it.

    Returns
    -------
    Calibration
        ``idata`` is the ArviZ ``InferenceData``; ``to_frame()`` the posterior draws;
        ``converged`` whether R-hat, ESS and divergence checks pass (the result is returned
        either way).
    """
    from costspine.bayes.calibration import calibrate

    calibration = calibrate(evidence, draws=draws, tune=tune, chains=chains, seed=seed)
    if out_dir is not None:
        from costspine.reports.fit_report import write_fit_report

        with _writing(_path(out_dir)) as (folder, _):
            write_fit_report(calibration, out_dir=folder, **_record("fit"))
    return calibration


def _writing(out_dir, xlsx_path=None):
    """``(folder, workbook path)`` to write into: all-or-nothing and locked (:func:`costspine._files.output_folder`)."""
    import contextlib

    from costspine._files import output_folder, staged_path

    @contextlib.contextmanager
    def block():
        with output_folder(out_dir) as staging:
            yield staging, None if xlsx_path is None else staged_path(xlsx_path, target=out_dir, staging=staging)

    return block()


def _path(value):
    from pathlib import Path

    return Path(value)
