"""Posterior draws as plain arrays: the cache and the hook PSA uses (no PyMC here).

A calibration is cached under ``$COSTSPINE_CACHE_DIR`` (default ``~/.cache/costspine``) in
``posteriors/<key>/``, where the key is a SHA-256 of the evidence file, every file of the
calibrated scenario's ``extends`` chain, the calibrated parameter names and the sampler settings.
Change any of them and the key changes, so a stale posterior is never used; keep them and a PSA
reuses the posterior instead of refitting.

A scenario takes a parameter from the posterior with::

    [parameters.hr_improve_ice_treatment]
    distribution = "posterior"
    file = "../evidence/spine_care_trial.toml"   # the evidence file, relative to the scenario
    variable = "hr_improve_ice_treatment"
    value = 1.8                                  # base case (deterministic run)
    source = "posterior of the SPINE CARE calibration (costspine fit)"

PSA resamples whole posterior rows (one draw index for every posterior parameter of the same
evidence file), so the correlations between calibrated effects are kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

from costspine._files import write_atomic, write_json
from costspine.errors import AnalysisError


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


def write_posterior_csv(path, draws: dict[str, np.ndarray]) -> Path:
    """Posterior draws as CSV: one column per parameter, one row per draw."""
    names = list(draws)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["draw", *names])
    for i in range(len(draws[names[0]])):
        writer.writerow([i, *(repr(float(draws[n][i])) for n in names)])
    return write_atomic(path, buffer.getvalue())


def read_posterior_csv(path) -> dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    data = np.array(body, dtype=float)
    return {name: data[:, j] for j, name in enumerate(header) if name != "draw"}


def save_to_cache(evidence, scenario, draws: dict[str, np.ndarray], diagnostics: dict) -> Path:
    folder = cache_dir(evidence, scenario)
    write_posterior_csv(folder / "posterior.csv", draws)
    write_json(folder / "diagnostics.json", diagnostics)
    return folder


def load_or_fit_posterior(evidence_path, *, progress=None) -> tuple[dict[str, np.ndarray], Path, bool]:
    """Posterior draws for an evidence file: from the cache, or by fitting with its sampler settings.

    Returns ``(draws, cache_folder, fitted_now)``. Raises AnalysisError if a fresh fit does not
    converge (the user should run ``costspine fit`` and read its diagnostics).
    """
    from costspine.scenario.evidence import load_evidence
    from costspine.scenario.load import load_scenario

    evidence = load_evidence(evidence_path)
    scenario = load_scenario(evidence.scenario_path)
    folder = cache_dir(evidence, scenario)
    if (folder / "posterior.csv").exists():
        return read_posterior_csv(folder / "posterior.csv"), folder, False
    if progress:
        progress(f"no cached posterior for {evidence.path}; fitting it now (costspine fit does the same)")
    from costspine.bayes.fit import fit_evidence

    s = evidence.sampler
    fit = fit_evidence(evidence, scenario, draws=s.draws, tune=s.tune, chains=s.chains, target_accept=s.target_accept, seed=s.seed)
    if not fit.converged:
        raise AnalysisError("the calibration did not converge: " + "; ".join(fit.failures)
                            + f"\nRun `costspine fit {evidence.path}` to see the diagnostics.")
    save_to_cache(evidence, scenario, fit.draws, {"rhat": fit.rhat, "ess_bulk": fit.ess_bulk, "divergences": fit.divergences})
    return fit.draws, folder, True


def load_posterior_pools(scenario, *, progress=None) -> tuple[list[dict], list[dict]]:
    """Posterior draws of every ``posterior`` parameter of a scenario, grouped by evidence file.

    Loads each evidence file's posterior once (from the cache, or by fitting it), so callers
    that sample many times (PSA chunks, possibly on other machines) can pass the plain arrays
    around instead of reading the cache again.

    Returns
    -------
    pools : list of dict
        One per evidence file, in a fixed (sorted) order: ``{"evidence": str, "parameters":
        {name: ndarray (posterior_draw,)}}``.
    provenance : list of dict
        One entry per evidence file: path, cache folder, number of posterior draws, parameters.
    """
    groups: dict[Path, list] = {}
    for spec in scenario.parameters:
        if spec.family == "posterior":
            evidence_path = scenario.declared_path(f"parameters.{spec.name}.file", spec.args["file"]).resolve()
            groups.setdefault(evidence_path, []).append(spec)
    pools, provenance = [], []
    for evidence_path, specs in sorted(groups.items()):
        posterior, folder, fitted = load_or_fit_posterior(evidence_path, progress=progress)
        missing = [s.args["variable"] for s in specs if s.args["variable"] not in posterior]
        if missing:
            raise AnalysisError(f"{evidence_path}: the posterior has no variable(s) {', '.join(missing)}; "
                                f"it has {', '.join(posterior)} (add them to evidence.calibrate)")
        n_posterior = len(next(iter(posterior.values())))
        pools.append({"evidence": str(evidence_path),
                      "parameters": {spec.name: np.asarray(posterior[spec.args["variable"]], dtype=float) for spec in specs}})
        provenance.append({"evidence": str(evidence_path), "cache": str(folder), "posterior_draws": n_posterior,
                           "parameters": [s.name for s in specs], "fitted_now": fitted})
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
