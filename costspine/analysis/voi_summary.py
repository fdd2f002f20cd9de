"""Value of information from saved PSA draws: the analysis behind ``costspine voi``.

:func:`analyze_voi` reads the ``draws/`` a PSA wrote or draws made by any tool as CSV (see
:mod:`costspine.analysis.external_draws`), computes EVPI at each threshold (per
person and, with a population, for the population) and the EVPPI of each ``--evppi`` group, and
returns a :class:`VOISummary`. Nothing is written here (see :mod:`costspine.reports.psa_report`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from costspine._text import wrap_text
from costspine.analysis.evppi_rows import compute_evppi_rows, parse_evppi_groups
from costspine.analysis.psa_draws_file import draws_location
from costspine.analysis.psa_result import PSAResult
from costspine.analysis.psa_summary import population_spec, wtp_key
from costspine.analysis.psa_text import EVPPI_TOP, format_voi_text
from costspine.errors import UsageError


@dataclass(frozen=True)
class VOISummary:
    """EVPI and EVPPI of a PSA's saved draws.

    Attributes
    ----------
    draws : PSAResult
        Read from ``results_dir`` (``draws/``, ``draws.npz`` or CSV files).
    results_dir : path or None
        As given (printed and recorded as given): a ``costspine psa`` folder or CSV draws; None
        for draws passed in memory.
    wtp : tuple of float
    evpi : ndarray, shape (wtp,)
        Per-person EVPI at each threshold.
    evppi : list of dict
        :func:`~costspine.analysis.evppi_rows.compute_evppi_rows` records (empty without groups).
    population : dict or None
        :func:`~costspine.analysis.psa_summary.population_spec` plus ``discounted_persons``.
    """

    draws: PSAResult
    results_dir: object
    wtp: tuple
    evpi: np.ndarray
    evppi: list = field(default_factory=list)
    population: dict | None = None

    @property
    def strategies(self) -> tuple:
        return self.draws.strategies

    @property
    def draws_path(self) -> Path | None:
        """The draws read (a ``draws/`` folder, or an older ``draws.npz``); None for CSV draws (their
        files are in ``draws.inputs``)."""
        if "draws_files" in self.draws.extra or self.results_dir is None:
            return None
        return draws_location(self.results_dir)

    @property
    def evpi_population(self) -> np.ndarray | None:
        """Population EVPI at each threshold, shape (wtp,); None without a population."""
        return None if self.population is None else self.evpi * self.population["discounted_persons"]

    def __repr__(self) -> str:
        from costspine._text import format_repr

        return format_repr(
            type(self).__name__,
            scenario=self.draws.scenario,
            strategies=self.strategies,
            draws=self.draws.n_draws,
            wtp=[f"{w:g}" for w in self.wtp],
            evppi_rows=len(self.evppi),
        )

    def _repr_html_(self) -> str:
        """EVPI per person (and population) at each threshold, as an HTML table (for notebooks)."""
        from costspine._text import format_html_table

        headers, rows = self.evpi_table()
        return format_html_table(headers, rows, caption=f"VOI: {self.draws.title}, {self.draws.n_draws:,} draws")

    def evpi_table(self) -> tuple[list[str], list[list]]:
        """``evpi.csv``: headers and rows (threshold, per-person EVPI and, with a population, population EVPI)."""
        headers = ["wtp", "evpi_per_person"]
        rows = [[float(w), float(v)] for w, v in zip(self.wtp, self.evpi)]
        if self.population is not None:
            headers.append("evpi_population")
            factor = self.population["discounted_persons"]
            rows = [r + [r[1] * factor] for r in rows]
        return headers, rows

    def summary(self, *, top: int | None = EVPPI_TOP) -> str:
        """What ``costspine voi`` prints: title, draws, EVPI (and EVPPI) tables.

        Parameters
        ----------
        top : int or None
            EVPPI rows (parameter groups, largest EVPPI first) to print; None: all.
        """
        d = self.draws
        text = format_voi_text(
            self.wtp, self.evpi, currency=d.currency, evpi_population=self.evpi_population, evppi_rows=self.evppi, top=top
        )
        if not self.evppi:
            text += "\n\n(no --evppi parameters given: EVPI only; e.g. --evppi rr or --evppi each)"
        source = "" if self.results_dir is None else f" from {self.results_dir}"
        return f"{wrap_text(d.title)}\n{wrap_text(f'{d.n_draws:,} PSA draws{source}')}\n\n{text}"

    def to_frame(self):
        """Long table keyed by ``wtp, parameters``: EVPI rows (``parameters`` empty) then EVPPI rows."""
        import pandas as pd

        rows = [
            {"wtp": float(w), "parameters": "", "value_per_person": float(v), "se": float("nan"), "kind": "evpi"}
            for w, v in zip(self.wtp, self.evpi)
        ]
        rows += [
            {
                "wtp": r["wtp"],
                "parameters": "+".join(r["parameters"]),
                "value_per_person": r["evppi_per_person"],
                "se": r["se"],
                "kind": "evppi",
            }
            for r in self.evppi
        ]
        return pd.DataFrame(rows, columns=["wtp", "parameters", "kind", "value_per_person", "se"])

    def to_dict(self) -> dict:
        """What the VOI ``summary.json`` holds, JSON-ready (NaN -> None)."""
        from costspine._files import _jsonable

        return _jsonable(self.data)

    @property
    def data(self) -> dict:
        """The VOI ``summary.json`` record, with the floats as computed."""
        d = self.draws
        out = {
            "scenario": d.scenario,
            "title": d.title,
            "currency": d.currency,
            "effect": d.effect_name,
            "comparator": d.comparator,
            "wtp": [float(w) for w in self.wtp],
            "draws": d.n_draws,
            "seed": d.seed,
            "results_dir": None if self.results_dir is None else str(self.results_dir),
            "evpi_per_person": {wtp_key(w): float(v) for w, v in zip(self.wtp, self.evpi)},
            "evppi": self.evppi,
        }
        if self.population is not None:
            out["population"] = self.population
            out["evpi_population"] = {
                wtp_key(w): float(v * self.population["discounted_persons"]) for w, v in zip(self.wtp, self.evpi)
            }
        return out


def analyze_voi(
    path,
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
) -> VOISummary:
    """EVPI and EVPPI of PSA draws: the library call of ``costspine voi``.

    Parameters
    ----------
    path : path or PSAResult
        A folder written by ``costspine psa`` (holds ``draws/``), CSV draws made by any tool
        (a folder with ``results.csv`` + ``parameters.csv``, a long results file, or one wide CSV;
        see :func:`~costspine.analysis.external_draws.load_draws`), or draws already loaded.
    evppi : sequence of str
        ``--evppi`` groups (see :func:`~costspine.analysis.evppi_rows.parse_evppi_groups`).
    method : {"gam", "gp"}
    wtp : sequence of float, optional
        Thresholds (default: those the PSA used; required for CSV draws).
    population, horizon_years, discount : optional
        Population EVPI (see :func:`~costspine.analysis.psa_summary.population_spec`); the
        discount rate defaults to the scenario's ``discount_outcomes`` (CSV draws: give it).
    parameters, comparator, effect, currency, seed : optional
        As for :func:`~costspine.analysis.external_draws.load_draws`.

    Raises
    ------
    DrawsError
        A bad CSV file of draws (every problem by file, row and column), or fewer draws than the
        analysis needs (2; 30 with EVPPI).
    UsageError
        No draws at ``path``, half a population option, an unknown ``--evppi`` parameter, or an
        option CSV draws need (``wtp``) missing.

    Examples
    --------
    EVPI of two strategies over two draws: mean of the best net benefit minus the best mean.

    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "draws.csv"
    >>> _ = f.write_text("cost_a,effect_a,cost_b,effect_b\\n0,0,10,1\\n0,0,30,1\\n")
    >>> analyze_voi(f, wtp=[20]).evpi.tolist()  # NB of b: 10, -10; mean of max 5, max of mean 0
    [5.0]
    """
    from costspine.analysis.decision import population_evpi
    from costspine.analysis.draw_stats import stream_decision_curves
    from costspine.analysis.external_draws import load_draws
    from costspine.analysis.psa_result import DrawColumns
    from costspine.analysis.voi import MIN_DRAWS

    if isinstance(path, PSAResult):
        draws = path
    else:
        draws = load_draws(
            path,
            parameters=parameters,
            wtp=wtp,
            comparator=comparator,
            effect=effect,
            currency=currency,
            seed=seed,
            min_draws=MIN_DRAWS if evppi else 2,
        )
    wtp = draws.wtp if wtp is None else tuple(wtp)
    lam = np.asarray(wtp, dtype=float)
    if discount is None and population is not None and np.isnan(draws.discount_outcomes):
        raise UsageError("population EVPI of CSV draws needs --discount (no scenario to take discount_outcomes from)")
    pop = population_spec(population, horizon_years, discount, draws.discount_outcomes)
    if evppi and not draws.parameter_names:
        raise UsageError(
            f"--evppi: the draws from {path} have no parameters; EVPPI needs the parameter draws "
            "(parameters.csv beside results.csv, --parameters FILE, or parameter columns in a wide file)"
        )
    groups = parse_evppi_groups(evppi, draws)
    with DrawColumns(draws) as cols:  # a block of draws at a time
        evpi = stream_decision_curves(cols, lam).evpi
    rows = compute_evppi_rows(draws, groups, wtp=wtp, method=method) if groups else []
    if pop is not None:
        factor = float(
            population_evpi(1.0, population_per_year=pop["per_year"], years=pop["years"], discount_rate=pop["discount_rate"])
        )
        pop = {**pop, "discounted_persons": factor}
    return VOISummary(
        draws=draws,
        results_dir=None if isinstance(path, PSAResult) else path,
        wtp=tuple(float(w) for w in lam),
        evpi=np.asarray(evpi, dtype=float),
        evppi=rows,
        population=pop,
    )
