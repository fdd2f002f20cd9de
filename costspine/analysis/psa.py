"""Probabilistic sensitivity analysis (PSA) runs: chunked, resumable and reproducible.

A PSA of ``n_draws`` draws is cut into chunks (:data:`CHUNK_SIZE` by default, independent of
the number of workers). Every random number comes from the one seed layout of
:mod:`costspine._rng`: draw ``d`` of a parameter depends only on ``(seed, d, parameter name)``
(:func:`costspine.analysis.parameter_draws.draw_run_parameters`, shared with ``bia``), and the
microsimulation's individuals of draw ``d`` only on ``(seed, d)``. So any chunk can be recomputed
alone, chunks can run in any order, in this process or on a Dask cluster, and the assembled
result is bit-identical whatever the chunk size, ``--workers``, the scheduler or an interruption
and ``--resume``. Every strategy of a draw uses the same parameter values.

Chunks can be saved as they finish (:class:`ChunkStore`: ``chunk-000003.npz`` files plus a
``run.json`` describing the run), so an interrupted run resumes where it stopped; a store
refuses to mix chunks of a different scenario, seed, number of draws, chunk size or method.

The draws are a :class:`~costspine.analysis.psa_result.PSAResult`; the statistics of a finished PSA
(CEAC, CEAF, EVPI, convergence, EVPPI) are in :mod:`costspine.analysis.psa_summary` (and
:mod:`costspine.analysis.voi_summary` for ``voi``); this module only produces the draws.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from pathlib import Path

import numpy as np

from costspine._rng import PARAMETERS, POSTERIOR_ROWS, path_key, seed_sequence, stream
from costspine.analysis.parameter_draws import draw_run_parameters
from costspine.analysis.psa_result import PSAResult, result_columns  # noqa: F401 (re-exported)
from costspine.errors import AnalysisError, UsageError

CHUNK_SIZE = 1000
"""Draws per chunk by default (the same whatever the number of workers; results never depend on it)."""

CHUNK_STREAM_KEY = path_key(PARAMETERS)
"""First element of every parameter block's spawn key (kept for callers; see :mod:`costspine._rng`)."""

POSTERIOR_STREAM = POSTERIOR_ROWS
STORE_FORMAT = 1
METHODS = ("cohort", "microsim")
SCHEDULER_TIMEOUT = "10s"  # how long to try reaching a --scheduler before giving up


# --------------------------------------------------------------------------------------------
# Chunks and streams


def plan_chunks(n_draws: int, chunk_size: int = CHUNK_SIZE) -> tuple[tuple[int, int], ...]:
    """``(start, stop)`` of every chunk: ``[0, c), [c, 2c), ...``; the last one may be shorter.

    >>> plan_chunks(2500, 1000)
    ((0, 1000), (1000, 2000), (2000, 2500))
    """
    if n_draws < 1 or chunk_size < 1:
        raise UsageError(f"need at least one draw and a chunk size >= 1; got draws={n_draws}, chunk size={chunk_size}")
    return tuple((start, min(start + chunk_size, n_draws)) for start in range(0, n_draws, chunk_size))


def chunk_seed_sequence(seed: int, chunk: int) -> np.random.SeedSequence:
    """The root of parameter block ``chunk`` (draws ``chunk·1000 ..``): depends only on ``(seed, chunk)``."""
    return seed_sequence(int(seed), PARAMETERS, int(chunk))


def named_stream(seed_seq: np.random.SeedSequence, name: str) -> np.random.Generator:
    """A child stream of ``seed_seq`` keyed by ``name``: :func:`costspine._rng.stream` ``(seed_seq, name)``."""
    return stream(seed_seq, name)


def sampled_parameter_names(scenario) -> tuple[str, ...]:
    """Every parameter that can vary between draws, in scenario order.

    Univariate random parameters, Dirichlet components, posterior parameters and derived
    parameters (recomputed per draw). Fixed parameters are left out.
    """
    names = []
    for spec in scenario.parameters:
        if spec.family == "fixed":
            continue
        names.extend(spec.components if spec.family == "dirichlet" else (spec.name,))
    return tuple(names)


def prepare_posterior(scenario, *, progress=None) -> tuple[list[dict], list[dict]]:
    """Load the posterior draws a scenario's ``posterior`` parameters use, once per run.

    The hook where posterior draws join the PSA: the pools (plain arrays) are passed to every
    chunk, so workers never read the cache or fit. Returns ``([], [])`` when there are none.
    """
    if not any(spec.family == "posterior" for spec in scenario.parameters):
        return [], []
    from costspine.bayes.posterior import load_posterior_pools

    return load_posterior_pools(scenario, progress=progress)


def draw_chunk_parameters(scenario, *, seed: int, chunk: int, n_draws: int, posterior_pools=()) -> dict[str, np.ndarray]:
    """Parameter draws ``chunk·CHUNK_SIZE`` to ``chunk·CHUNK_SIZE + n_draws − 1`` (a default-size chunk).

    Non-derived parameters, each of shape (draw,); see
    :func:`costspine.analysis.parameter_draws.draw_run_parameters` for any range of draws.
    """
    start = int(chunk) * CHUNK_SIZE
    return draw_run_parameters(scenario, seed=seed, start=start, stop=start + int(n_draws), posterior_pools=posterior_pools)


def simulate_draws(scenario, params: dict[str, np.ndarray], *, method: str = "cohort", seed: int | None = None,
                   first_draw: int = 0, individuals: int | None = None):
    """Run the model on a batch of parameter draws: the one place a PSA chooses its engine.

    ``cohort``: :func:`costspine.simulate.cohort.run_cohort` (one cohort per population group when the
    scenario has a ``[population]``). ``microsim``: :func:`costspine.simulate.microsim.run_microsim` with
    ``individuals`` per strategy and draw; the individuals of the batch's draw ``i`` come from the
    run's stream for draw ``first_draw + i`` (so a chunk stays reproducible on its own and the
    chunk size changes nothing).
    """
    if method == "cohort":
        from costspine.simulate.cohort import run_cohort

        return run_cohort(scenario, params)
    if method == "microsim":
        from costspine.simulate.microsim import run_microsim

        if seed is None:
            raise UsageError("a PSA microsimulation needs the run's seed")
        return run_microsim(scenario, params, n_individuals=individuals, seed=seed, first_draw=first_draw)
    raise UsageError(f"unknown simulation method {method!r}; available: {', '.join(METHODS)}")


_DRAW_LABEL = re.compile(r"\bdraw=(\d+)")


def compute_chunk(scenario, *, seed: int, chunk: int, start: int, stop: int, posterior_pools=(), method: str = "cohort",
                  individuals: int | None = None) -> dict:
    """Draw and simulate one chunk. Pure: the same arguments give bit-identical arrays.

    Returns
    -------
    dict
        ``chunk``, ``start``, ``stop`` (ints); ``parameters`` (draw, parameter) in
        :func:`sampled_parameter_names` order; ``costs`` (draw, strategy, category);
        ``outcomes`` (draw, strategy, outcome).

    Raises
    ------
    AnalysisError
        A draw gives invalid probabilities; the message names the draw by its index in the
        whole PSA.
    """
    from costspine.model.inputs import evaluate_parameters

    n = stop - start
    params = draw_run_parameters(scenario, seed=seed, start=start, stop=stop, posterior_pools=posterior_pools)
    try:
        result = simulate_draws(scenario, params, method=method, seed=seed, first_draw=start, individuals=individuals)
    except AnalysisError as exc:
        message = _DRAW_LABEL.sub(lambda m: f"draw={int(m.group(1)) + start}", str(exc))
        raise AnalysisError(f"{message}\n(PSA chunk {chunk}: draws {start}..{stop - 1}, seed {seed})") from None
    values = evaluate_parameters(scenario, params)
    names = sampled_parameter_names(scenario)
    matrix = np.column_stack([values[name] for name in names]) if names else np.zeros((n, 0))
    return {"chunk": int(chunk), "start": int(start), "stop": int(stop), "parameters": matrix,
            "costs": np.ascontiguousarray(result.costs), "outcomes": np.ascontiguousarray(result.outcomes)}


# --------------------------------------------------------------------------------------------
# Saved chunks (resume)


def run_fingerprint(scenario, *, method: str, posterior_pools=()) -> str:
    """SHA-256 of everything that determines a chunk besides ``(seed, chunk)``.

    The resolved scenario (with inherited files and catalogue prices), its look-up tables, the
    posterior draws, the simulation method and the costspine version.
    """
    from costspine._version import __version__

    h = hashlib.sha256()
    h.update(json.dumps(scenario.resolved, sort_keys=True, default=str).encode())
    for name, table in sorted(scenario.tables.items()):
        h.update(f"table {name} {table.method}".encode())
        h.update(np.ascontiguousarray(table.x, dtype=float).tobytes())
        h.update(np.ascontiguousarray(table.y, dtype=float).tobytes())
    for pool in posterior_pools:
        h.update(f"posterior {pool['evidence']}".encode())
        for name, values in sorted(pool["parameters"].items()):
            h.update(name.encode())
            h.update(np.ascontiguousarray(values, dtype=float).tobytes())
    h.update(f"method {method} costspine {__version__}".encode())
    return h.hexdigest()


class ChunkStore:
    """Completed chunks of one PSA run, saved in ``folder`` as they finish.

    ``folder/run.json`` describes the run (format, scenario, fingerprint, seed, draws, chunk size,
    method); ``folder/chunk-000003.npz`` holds chunk 3's arrays (see :func:`compute_chunk`).
    Every file is written atomically.
    """

    META = "run.json"
    CHECKED = ("format", "fingerprint", "seed", "n_draws", "chunk_size", "method", "individuals")

    def __init__(self, folder, meta: dict):
        self.folder = Path(folder)
        self.meta = meta

    @property
    def meta_path(self) -> Path:
        return self.folder / self.META

    def chunk_path(self, chunk: int) -> Path:
        return self.folder / f"chunk-{chunk:06d}.npz"

    def open(self, *, resume: bool) -> list[int]:
        """Prepare the folder; return the chunks already completed (only when resuming).

        Raises
        ------
        UsageError
            Resuming over chunks of a different run.
        """
        saved = self._read_meta()
        if resume and saved is not None:
            different = [k for k in self.CHECKED if saved.get(k) != self.meta.get(k)]
            if different:
                raise UsageError(self._mismatch(saved, different))
        if not resume or saved is None:
            self.clear()
        from costspine._files import write_json

        write_json(self.meta_path, self.meta)
        layout = plan_chunks(self.meta["n_draws"], self.meta["chunk_size"])
        return [c for c in range(len(layout)) if self.chunk_path(c).exists()]

    def clear(self) -> None:
        """Remove saved chunks and the run description (nothing else in the folder)."""
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("chunk-*.npz"):
            path.unlink()
        if self.meta_path.exists():
            self.meta_path.unlink()

    def save(self, arrays: dict) -> Path:
        from costspine._files import write_atomic

        buffer = io.BytesIO()
        np.savez(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
        return write_atomic(self.chunk_path(int(arrays["chunk"])), buffer.getvalue())

    def load(self, chunk: int, *, start: int, stop: int, shapes: dict) -> dict:
        import zipfile

        from costspine._files import read_input_file
        from costspine.errors import InputFileError

        path = self.chunk_path(chunk)
        retry = "; delete it and rerun with --resume (only that chunk is recomputed)"
        try:
            raw = read_input_file(path)  # a regular file within the size limit, or InputFileError
            with np.load(io.BytesIO(raw), allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except InputFileError as exc:
            raise AnalysisError(f"{path}: {exc.reason}{retry}") from None
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise AnalysisError(f"{path}: cannot read this saved chunk (truncated or corrupt: {type(exc).__name__})"
                                + retry) from None
        n = stop - start
        expected = {"parameters": (n, shapes["parameters"]), "costs": (n, *shapes["costs"]), "outcomes": (n, *shapes["outcomes"])}
        ok = all(k in arrays for k in ("chunk", "start", "stop", *expected))
        ok = ok and (int(arrays["chunk"]), int(arrays["start"]), int(arrays["stop"])) == (chunk, start, stop)
        ok = ok and all(arrays[k].shape == shape for k, shape in expected.items())
        if not ok:
            raise AnalysisError(f"{path}: this saved chunk does not match the run described in {self.meta_path}; "
                                "delete the chunks folder and rerun")
        return {"chunk": chunk, "start": start, "stop": stop, **{k: arrays[k] for k in expected}}

    def _read_meta(self) -> dict | None:
        if not self.meta_path.exists():
            return None
        try:
            return json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{self.meta_path}: cannot read the saved run description ({exc}); "
                             "rerun without --resume to start over") from None

    def _mismatch(self, saved: dict, different: list[str]) -> str:
        parts = []
        for key in different:
            if key == "fingerprint":
                parts.append(f"the scenario (or a file, table, posterior or costspine version it depends on) changed "
                             f"since the chunks were saved (saved for {saved.get('scenario')!r})")
            else:
                parts.append(f"{key}: saved {saved.get(key)!r}, now {self.meta.get(key)!r}")
        return (f"{self.folder}: cannot resume: the saved chunks belong to a different run — " + "; ".join(parts)
                + ". Rerun with the same options, or without --resume to start over (or use another --out).")


# --------------------------------------------------------------------------------------------
# Running


def run_psa(scenario, n_draws: int, *, seed: int, chunk_size: int = CHUNK_SIZE, method: str = "cohort",
            individuals: int | None = None, workers: int | None = None, scheduler: str | None = None, store_dir=None,
            resume: bool = False, on_chunk=None, progress=None) -> PSAResult:
    """Probabilistic sensitivity analysis: sample every parameter and run the model per draw.

    Parameters
    ----------
    scenario : Scenario
    n_draws : int
        Number of draws (≥ 1).
    seed : int
        The run's seed; draw ``d`` uses the streams of :mod:`costspine._rng` for ``(seed, d)``.
    chunk_size : int, default :data:`CHUNK_SIZE`
        Draws per chunk (the unit of work, progress and saved files). Results do not depend on it.
    method : {"cohort", "microsim"}
        Engine for every draw (see :func:`simulate_draws`).
    individuals : int, optional
        Microsimulation only: individuals per strategy and draw (default: the scenario's).
    workers : int, optional
        Run chunks on a local Dask cluster (127.0.0.1) with this many worker processes.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``); costspine must be installed
        on its workers.
    store_dir : path, optional
        Save each chunk here as it finishes (see :class:`ChunkStore`).
    resume : bool
        Reuse the chunks already in ``store_dir`` (refused if they belong to another run).
    on_chunk : callable, optional
        Called with the number of draws of each chunk when it is done (e.g. a progress bar).
    progress : callable, optional
        Called with a line of text for slow preparatory steps (fitting a posterior).

    Returns
    -------
    PSAResult
        Identical, bit for bit, for the same scenario and seed whatever ``chunk_size``, ``workers``,
        ``scheduler`` or interruptions.

    Raises
    ------
    ScenarioError
        The base case is invalid.
    AnalysisError
        A draw gives invalid probabilities (named by its index in the whole PSA).
    UsageError
        Bad options, an unreachable scheduler, or resuming over another run's chunks.

    Examples
    --------
    >>> from costspine import load_scenario
    >>> psa = run_psa(load_scenario("scenarios/examples/hiv_chancellor.toml"), 2000, seed=1)
    >>> psa.total_cost.shape
    (2000, 2)
    """
    from costspine.simulate.cohort import run_cohort

    if method not in METHODS:
        raise UsageError(f"unknown simulation method {method!r}; available: {', '.join(METHODS)}")
    if individuals is not None and method != "microsim":
        raise UsageError("--individuals applies to --method microsim only")
    if workers is not None and scheduler is not None:
        raise UsageError("give --workers (a local Dask cluster) or --scheduler (an existing one), not both")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be >= 1; got {workers}")
    if resume and store_dir is None:
        raise UsageError("resuming needs a folder of saved chunks")
    layout = plan_chunks(n_draws, chunk_size)
    base = run_cohort(scenario)  # the base case must be valid before any draw is made
    pools, provenance = prepare_posterior(scenario, progress=progress)
    names = sampled_parameter_names(scenario)
    shapes = {"parameters": len(names), "costs": base.costs.shape[1:], "outcomes": base.outcomes.shape[1:]}

    done: set[int] = set()
    store = None
    # each chunk is copied into the whole run's arrays as it arrives and then dropped, so a run
    # holds its draws once (not once per chunk and once more assembled)
    whole: dict[str, np.ndarray] = {}

    def keep(arrays: dict) -> None:
        start, stop = int(arrays["start"]), int(arrays["stop"])
        for key in ("parameters", "costs", "outcomes"):
            values = np.asarray(arrays[key])
            if key not in whole:
                whole[key] = np.empty((n_draws, *values.shape[1:]), dtype=values.dtype)
            whole[key][start:stop] = values
        done.add(int(arrays["chunk"]))

    resumed = 0
    if store_dir is not None:
        meta = {"format": STORE_FORMAT, "scenario": scenario.name, "files": [list(f) for f in scenario.files],
                "fingerprint": run_fingerprint(scenario, method=method, posterior_pools=pools), "seed": int(seed),
                "n_draws": int(n_draws), "chunk_size": int(chunk_size), "method": method, "individuals": individuals,
                "parameter_names": list(names), "layout": [list(c) for c in layout]}
        store = ChunkStore(store_dir, meta)
        for c in store.open(resume=resume):
            start, stop = layout[c]
            keep(store.load(c, start=start, stop=stop, shapes=shapes))
            if on_chunk:
                on_chunk(stop - start)
        resumed = len(done)
        if resume and not done and progress:
            progress(f"--resume: no saved chunks of this run in {store.folder}; starting from the first chunk")

    def finish(arrays: dict) -> None:
        if store is not None:
            store.save(arrays)
        keep(arrays)
        if on_chunk:
            on_chunk(int(arrays["stop"]) - int(arrays["start"]))

    pending = [c for c in range(len(layout)) if c not in done]
    if pending and workers is None and scheduler is None:
        for c in pending:
            start, stop = layout[c]
            finish(compute_chunk(scenario, seed=seed, chunk=c, start=start, stop=stop, posterior_pools=pools, method=method,
                                 individuals=individuals))
    elif pending:
        _run_on_dask(scenario, seed=seed, layout=layout, pending=pending, posterior_pools=pools, method=method,
                     individuals=individuals, workers=workers, scheduler=scheduler, finish=finish)

    outcome_names = tuple(o.name for o in scenario.outcomes)
    effect = outcome_names.index(scenario.analysis.effect)
    base_costs, base_outcomes = base.costs[0], base.outcomes[0]
    extra = {"method": method, **({"individuals": individuals} if method == "microsim" else {}),
             "chunk_size": int(chunk_size), "chunks": [list(c) for c in layout], "posterior": provenance,
             "resumed_chunks": resumed,
             "base_case": {st: {"cost_total": float(base_costs[k].sum()), "effect": float(base_outcomes[k, effect])}
                           for k, st in enumerate(scenario.strategies)}}
    return PSAResult(
        scenario=scenario.name, title=scenario.title, currency=scenario.settings.currency,
        effect_name=scenario.analysis.effect, strategies=scenario.strategies,
        strategy_labels=dict(scenario.strategy_labels), comparator=scenario.analysis.comparator,
        wtp=tuple(float(w) for w in scenario.analysis.wtp), categories=scenario.categories, outcome_names=outcome_names,
        parameter_names=names,
        parameter_groups={spec.name: list(spec.components) for spec in scenario.parameters if spec.family == "dirichlet"},
        parameters=whole["parameters"], costs=whole["costs"], outcomes=whole["outcomes"],
        seed=int(seed), discount_outcomes=scenario.settings.discount_outcomes,
        inputs=[tuple(f) for f in scenario.files] + [(p["cache_file"], p["cache_sha256"]) for p in provenance if "cache_file" in p],
        extra=extra, base_costs=base_costs, base_outcomes=base_outcomes,
    )


@contextlib.contextmanager
def _children_ignore_interrupts():
    """Start worker processes with SIGINT ignored, so Ctrl-C reaches only this process.

    A terminal sends Ctrl-C to every process of the foreground group; workers that inherit an
    ignored SIGINT (kept across ``exec``, and Python leaves it ignored) do not die printing
    tracebacks: this process gets ``KeyboardInterrupt`` and closes the cluster, which stops them.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_on_dask(scenario, *, seed, layout, pending, posterior_pools, method, individuals, workers, scheduler, finish) -> None:
    """Submit pending chunks to a Dask cluster; hand each result to ``finish`` as it arrives."""
    import logging

    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a declared dependency
        raise UsageError(f"--workers/--scheduler need dask[distributed]: {exc}") from None

    cluster = None
    try:
        if scheduler is not None:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        else:
            # Everything on the loopback interface; no dashboard (its HTTP server on a free local port).
            with _children_ignore_interrupts():
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
                                       silence_logs=logging.ERROR)
            client = Client(cluster)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise UsageError(f"cannot connect to {where}: {exc}") from None
    try:
        # scatter([x]) sends x whole (a bare list would be scattered element by element)
        scenario_f = client.scatter([scenario], broadcast=True, hash=False)[0]
        pools_f = client.scatter([list(posterior_pools)], broadcast=True, hash=False)[0] if posterior_pools else ()
        futures = []
        for c in pending:
            start, stop = layout[c]
            futures.append(client.submit(compute_chunk, scenario_f, seed=seed, chunk=c, start=start, stop=stop,
                                         posterior_pools=pools_f, method=method, individuals=individuals, pure=False))
        try:
            for future in as_completed(futures):
                finish(future.result())
        finally:
            for future in futures:
                future.cancel()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
