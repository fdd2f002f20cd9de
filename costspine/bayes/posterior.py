"""Posterior draws as plain arrays: the cache and the hook PSA uses (no PyMC here).

A calibration is cached under ``$COSTSPINE_CACHE_DIR`` (default ``~/.cache/costspine``) in
``posteriors/<key>/``, where the key is a SHA-256 of the evidence file, every file the
calibrated scenario reads (its ``extends`` chain, tables and catalogues: ``Scenario.files``), the
calibrated parameter names and the sampler settings. Change any of them and the key changes, so a
stale posterior is never used; keep them and a PSA reuses the posterior instead of refitting.

The cache is validated before use (:func:`read_cached_posterior`): the content hash written
beside it (``posterior.csv.sha256``, written last), the parameter names, the number of rows, and
finite values inside each prior's support (:func:`prior_bounds`). A cache that fails is reported
in one line and refitted, never used.

A scenario takes a parameter from the posterior with::

    [parameters.hr_improve_ice_treatment]
    distribution = "posterior"
    file = "../evidence/spine_care_trial.toml"  # the evidence file, relative to the scenario
    variable = "hr_improve_ice_treatment"
    value = 1.8  # base case (deterministic run)
    source = "posterior of the SPINE CARE calibration (costspine fit)"

PSA resamples whole posterior rows (one draw index for every posterior parameter of the same
evidence file), so the correlations between calibrated effects are kept; every other calibrated
parameter of that evidence file comes with the row, and the parameters the calibration held at
their base values are held there (:func:`load_posterior_pools`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

from costspine._files import MAX_TABLE_BYTES, read_input_file, write_atomic, write_json
from costspine.errors import AnalysisError, InputFileError


def cache_root() -> Path:
    return Path(os.environ.get("COSTSPINE_CACHE_DIR", Path.home() / ".cache" / "costspine"))


def posterior_key(evidence, scenario) -> str:
    """Hash of everything that determines a calibration's posterior."""
    h = hashlib.sha256()
    h.update(evidence.sha256.encode())
    for _path, sha in scenario.files:
        h.update(sha.encode())
    h.update(json.dumps(list(evidence.calibrate)).encode())
    s = evidence.sampler
    h.update(json.dumps([s.draws, s.tune, s.chains, s.target_accept, s.seed]).encode())
    return h.hexdigest()[:24]


def cache_dir(evidence, scenario) -> Path:
    return cache_root() / "posteriors" / posterior_key(evidence, scenario)


POSTERIOR_FILE = "posterior.csv"
CHECKSUM_FILE = "posterior.csv.sha256"
MIN_POSTERIOR_ROWS = 10
"""Fewer posterior rows than this cannot describe a posterior (the sampler's least is 10 draws)."""
PRIOR_TAIL = 1e-12
"""A cached value beyond the prior's ``PRIOR_TAIL`` and ``1 - PRIOR_TAIL`` quantiles is not this calibration's."""


def write_posterior_csv(path, draws: dict[str, np.ndarray]) -> Path:
    """Posterior draws as CSV: one column per parameter, one row per draw."""
    return write_atomic(path, _posterior_csv_text(draws))


def _posterior_csv_text(draws: dict[str, np.ndarray]) -> str:
    names = list(draws)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["draw", *names])
    for i in range(len(draws[names[0]])):
        writer.writerow([i, *(repr(float(draws[n][i])) for n in names)])
    return buffer.getvalue()


def read_posterior_csv(path) -> dict[str, np.ndarray]:
    """Posterior draws from a CSV written by :func:`write_posterior_csv`.

    Raises
    ------
    PosteriorCacheError
        The file is not a readable regular file, or not a table of numbers (one line: file and problem).
    """
    columns, _ = _parse_posterior(path)
    return columns


class PosteriorCacheError(AnalysisError):
    """A cached posterior cannot be used; the message is one line naming the file and the problem."""


def _parse_posterior(path) -> tuple[dict[str, np.ndarray], str]:
    """``({name: ndarray (posterior_draw,)}, sha256 of the bytes)``; PosteriorCacheError if not a table of numbers."""
    path = Path(path)
    try:
        raw = read_input_file(path, max_bytes=MAX_TABLE_BYTES, confined=False)
    except InputFileError as exc:
        raise PosteriorCacheError(f"{exc.path}: {exc.reason}") from None
    sha = hashlib.sha256(raw).hexdigest()
    try:
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        raise PosteriorCacheError(f"{path}: not a readable CSV file (corrupt?)") from None
    if not rows or not rows[0] or rows[0][0] != "draw" or len(rows[0]) < 2:
        raise PosteriorCacheError(f"{path}: expected a header row 'draw,<parameter>,...'")
    header, body = rows[0], [r for r in rows[1:] if r]
    ragged = next((i + 2 for i, r in enumerate(body) if len(r) != len(header)), None)
    if ragged is not None:
        raise PosteriorCacheError(f"{path}: row {ragged} has a different number of fields than the header (truncated?)")
    try:
        data = np.array(body, dtype=float).reshape(len(body), len(header))
    except ValueError:
        raise PosteriorCacheError(f"{path}: expected numbers in every row after the header") from None
    if len(set(header)) != len(header):
        raise PosteriorCacheError(f"{path}: a column name appears twice in the header row")
    return {name: data[:, j] for j, name in enumerate(header) if name != "draw"}, sha


def prior_bounds(spec) -> tuple[float, float]:
    """Where a calibrated parameter's posterior values may lie, from its prior in the scenario.

    The support of the prior family, narrowed to its ``PRIOR_TAIL`` quantiles for unbounded
    families: lognormal and gamma positive, beta in [0, 1], uniform and triangular in
    [min, max], normal within about 7 standard deviations of its mean. A posterior cannot put
    mass where the prior has none (or virtually none), so a value outside is a corrupt or foreign cache.

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> prior_bounds(S(family="beta", args={"alpha": 2, "beta": 5}))
    (0.0, 1.0)
    >>> low, high = prior_bounds(S(family="lognormal", args={"meanlog": 0.0, "sdlog": 0.5}))
    >>> 0 < low < 0.1 and 10 < high < 100
    True
    """
    from scipy import stats

    a, family = spec.args, spec.family
    if family == "beta":
        return 0.0, 1.0
    if family in ("uniform", "triangular"):
        return float(a["min"]), float(a["max"])
    if family == "lognormal":
        dist = stats.lognorm(s=a["sdlog"], scale=np.exp(a["meanlog"]))
    elif family == "gamma":
        dist = stats.gamma(a["shape"], scale=a["scale"])
    elif family == "normal":
        dist = stats.norm(a["mean"], a["sd"])
    else:
        return -np.inf, np.inf
    return float(dist.ppf(PRIOR_TAIL)), float(dist.isf(PRIOR_TAIL))


def check_posterior(columns: dict[str, np.ndarray], *, evidence, scenario, where) -> None:
    """Raise PosteriorCacheError (one line) unless ``columns`` can be the posterior of this calibration.

    Checks: the parameter names are exactly ``evidence.calibrate``; there are ``draws x chains``
    rows of the evidence file's sampler (at least :data:`MIN_POSTERIOR_ROWS`); every value is
    finite and within :func:`prior_bounds` of the parameter's prior in ``scenario``.
    """
    names, expected = list(columns), list(evidence.calibrate)
    if sorted(names) != sorted(expected):
        raise PosteriorCacheError(f"{where}: has the parameters {', '.join(names) or 'none'}; expected {', '.join(expected)}")
    n_rows = len(columns[names[0]])
    s = evidence.sampler
    wanted = s.draws * s.chains
    if n_rows < MIN_POSTERIOR_ROWS or n_rows != wanted:
        raise PosteriorCacheError(
            f"{where}: has {n_rows} row(s); expected {wanted} "
            f"({s.draws} draws x {s.chains} chains, at least {MIN_POSTERIOR_ROWS})"
        )
    for name in expected:
        values = columns[name]
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise PosteriorCacheError(f"{where}: {name} is not a finite number in row {bad[0] + 2}")
        try:
            spec = scenario.parameter(name)
        except KeyError:
            raise PosteriorCacheError(f"{where}: {name} is not a parameter of {scenario.path}") from None
        low, high = prior_bounds(spec)
        outside = np.flatnonzero((values < low) | (values > high))
        if outside.size:
            raise PosteriorCacheError(
                f"{where}: {name} = {values[outside[0]]:.6g} in row {outside[0] + 2} is outside "
                f"[{low:.6g}, {high:.6g}], where its {spec.family} prior has (virtually) no mass"
            )


def read_cached_posterior(folder, *, evidence, scenario) -> dict[str, np.ndarray]:
    """The cached posterior in ``folder``, checked before use.

    The content hash recorded when the cache was written must match the file, and
    :func:`check_posterior` must pass.

    Raises
    ------
    PosteriorCacheError
        One line naming the file and the problem.
    """
    folder = Path(folder)
    path = folder / POSTERIOR_FILE
    columns, sha = _parse_posterior(path)
    try:
        recorded = read_input_file(folder / CHECKSUM_FILE, max_bytes=1024, confined=False).decode("ascii").split()
    except (InputFileError, UnicodeDecodeError):
        raise PosteriorCacheError(f"{path}: no readable content hash ({CHECKSUM_FILE}) beside it") from None
    if not recorded or recorded[0] != sha:
        raise PosteriorCacheError(f"{path}: content does not match the SHA-256 recorded when it was written (changed or corrupt)")
    check_posterior(columns, evidence=evidence, scenario=scenario, where=path)
    return columns


def save_to_cache(evidence, scenario, draws: dict[str, np.ndarray], diagnostics: dict) -> Path:
    """Write the posterior, its diagnostics and, last, the content hash that :func:`read_cached_posterior` checks."""
    folder = cache_dir(evidence, scenario)
    text = _posterior_csv_text(draws)
    write_atomic(folder / POSTERIOR_FILE, text)
    write_json(folder / "diagnostics.json", diagnostics)
    write_atomic(folder / CHECKSUM_FILE, hashlib.sha256(text.encode("utf-8")).hexdigest() + f"  {POSTERIOR_FILE}\n")
    return folder


def load_or_fit_posterior(evidence_path, *, progress=None) -> tuple[dict[str, np.ndarray], Path, bool]:
    """Posterior draws for an evidence file: from the cache, or by fitting with its sampler settings.

    A cached posterior is used only if it passes :func:`read_cached_posterior` (content hash,
    names, rows, finiteness, prior support); otherwise the problem is reported in one line
    through ``progress`` and the posterior is refitted (and the cache rewritten).

    Returns ``(draws, cache_folder, fitted_now)``. Raises AnalysisError if a fresh fit does not
    converge (the user should run ``costspine fit`` and read its diagnostics).
    """
    from costspine.scenario.evidence import load_evidence
    from costspine.scenario.load import load_scenario

    evidence = load_evidence(evidence_path)
    scenario = load_scenario(evidence.scenario_path)
    folder = cache_dir(evidence, scenario)
    if (folder / POSTERIOR_FILE).exists() or (folder / POSTERIOR_FILE).is_symlink():
        try:
            return read_cached_posterior(folder, evidence=evidence, scenario=scenario), folder, False
        except PosteriorCacheError as exc:
            if progress:
                progress(f"ignoring the cached posterior: {exc}; refitting")
    elif progress:
        progress(f"no cached posterior for {evidence.path}; fitting it now (costspine fit does the same)")
    from costspine.bayes.fit import fit_evidence

    s = evidence.sampler
    fit = fit_evidence(
        evidence, scenario, draws=s.draws, tune=s.tune, chains=s.chains, target_accept=s.target_accept, seed=s.seed
    )
    if not fit.converged:
        raise AnalysisError(
            "the calibration did not converge: "
            + "; ".join(fit.failures)
            + f"\nRun `costspine fit {evidence.path}` to see the diagnostics."
        )
    try:
        save_to_cache(evidence, scenario, fit.draws, {"rhat": fit.rhat, "ess_bulk": fit.ess_bulk, "divergences": fit.divergences})
    except OSError as exc:  # the fit is valid; only its reuse is lost
        if progress:
            progress(
                f"could not cache the posterior in {folder}: {exc.strerror or type(exc).__name__}; the next run will fit it again"
            )
    return fit.draws, folder, True


def find_calibration_held(evidence_path) -> dict[str, float]:
    """The parameters an evidence file's calibration held at their base values because they change
    a likelihood target, with those values (:func:`costspine.bayes.conditioning.find_held_parameters`)."""
    from costspine.bayes.conditioning import find_held_parameters
    from costspine.scenario.evidence import load_evidence
    from costspine.scenario.load import load_scenario

    evidence = load_evidence(evidence_path)
    return find_held_parameters(load_scenario(evidence.scenario_path), evidence)


def load_posterior_pools(scenario, *, progress=None) -> tuple[list[dict], list[dict]]:
    """Posterior draws for every evidence file a scenario's ``posterior`` parameters name.

    Loads each evidence file's posterior once (from the cache, or by fitting it), so callers
    that sample many times (PSA chunks, possibly on other machines) can pass the plain arrays
    around instead of reading the cache again. A pool is coherent with its calibration:

    - every parameter the evidence file calibrates joins the pool, also when the scenario does not
      declare it ``posterior`` (same name in the scenario), so no calibrated parameter is ever drawn
      from its prior beside posterior rows of the others;
    - every parameter the calibration held at its base value because it changes a target
      (:func:`costspine.bayes.conditioning.find_held_parameters`) and that the scenario would draw
      at random joins the pool as a constant column at the calibration's value. A parameter the
      scenario fixes keeps the scenario's value (a policy scenario's deliberate change).

    Returns
    -------
    pools : list of dict
        One per evidence file, in a fixed (sorted) order: ``{"evidence": str, "parameters":
        {name: ndarray (posterior_draw,)}, "held": [names]}``.
    provenance : list of dict
        One entry per evidence file: path, cache folder, number of posterior draws, parameters
        taken from the posterior (``summary``: name -> [median, 2.5%, 97.5%]), parameters held at
        the calibration's values (``held_values``: name -> value).
    """
    groups: dict[Path, list] = {}
    for spec in scenario.parameters:
        if spec.family == "posterior":
            evidence_path = scenario.declared_path(f"parameters.{spec.name}.file", spec.args["file"]).resolve()
            groups.setdefault(evidence_path, []).append(spec)
    random_names = {
        name
        for spec in scenario.parameters
        if spec.family not in ("fixed", "derived", "posterior")
        for name in (spec.components or (spec.name,))
    }
    all_names = {name for spec in scenario.parameters for name in (spec.components or (spec.name,))}
    pools, provenance = [], []
    for evidence_path, specs in sorted(groups.items()):
        posterior, folder, fitted = load_or_fit_posterior(evidence_path, progress=progress)
        missing = [s.args["variable"] for s in specs if s.args["variable"] not in posterior]
        if missing:
            raise AnalysisError(
                f"{evidence_path}: the posterior has no variable(s) {', '.join(missing)}; "
                f"it has {', '.join(posterior)} (add them to evidence.calibrate)"
            )
        n_posterior = len(next(iter(posterior.values())))
        columns = {spec.name: np.asarray(posterior[spec.args["variable"]], dtype=float) for spec in specs}
        declared = {spec.args["variable"] for spec in specs}
        for name, values in posterior.items():
            if name not in declared and name in all_names and name not in columns:
                columns[name] = np.asarray(values, dtype=float)
        held = {
            name: value
            for name, value in find_calibration_held(evidence_path).items()
            if name in random_names and name not in columns
        }
        columns.update({name: np.full(n_posterior, value) for name, value in held.items()})
        pools.append({"evidence": str(evidence_path), "parameters": columns, "held": sorted(held)})
        provenance.append(
            {
                "evidence": str(evidence_path),
                "cache": str(folder),
                "posterior_draws": n_posterior,
                "parameters": [name for name in columns if name not in held],
                "held_at_calibration_values": sorted(held),
                "held_values": {name: float(held[name]) for name in sorted(held)},
                # per sampled parameter: posterior median and 95% interval (the workbook's Inputs sheet)
                "summary": {
                    name: [float(q) for q in np.quantile(values, [0.5, 0.025, 0.975])]
                    for name, values in columns.items()
                    if name not in held
                },
                "fitted_now": fitted,
                # the cache file's content hash: its canonical text is what save_to_cache writes
                "cache_file": str(folder / POSTERIOR_FILE),
                "cache_sha256": hashlib.sha256(_posterior_csv_text(posterior).encode("utf-8")).hexdigest(),
            }
        )
    return pools, provenance


def draw_from_posterior_pools(pools: list[dict], n_draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Resample whole posterior rows: one row index per draw, shared by the parameters of a pool.

    ``pools`` comes from :func:`load_posterior_pools`; ``rng`` chooses the rows (with replacement),
    from its current state. The commands pass the stream ``(PARAMETERS, block, POSTERIOR_ROWS)``
    of :mod:`costspine._rng` (see :func:`costspine.analysis.parameter_draws.draw_run_parameters`).
    Returns ``{name: ndarray (draw,)}``.
    """
    out = {}
    for pool in pools:
        columns = pool["parameters"]
        n_posterior = len(next(iter(columns.values())))
        rows = rng.integers(0, n_posterior, size=n_draws)
        for name, values in columns.items():
            out[name] = values[rows]
    return out
