"""Probabilistic sensitivity analysis (PSA) runs: chunked, resumable and reproducible.

A PSA of ``n_draws`` draws is cut into chunks (:data:`~costspine.analysis.chunk_store.CHUNK_SIZE` by
default, independent of the number of workers). Every random number comes from the one seed layout of
:mod:`costspine._rng`: draw ``d`` of a parameter depends only on ``(seed, d, parameter name)``
(:func:`costspine.analysis.parameter_draws.draw_run_parameters`, shared with ``bia``), and the
microsimulation's individuals of draw ``d`` only on ``(seed, d)``. So any chunk can be recomputed
alone, chunks can run in any order, in this process or on a Dask cluster, and the assembled
result is bit-identical whatever the chunk size, ``--workers``, the scheduler or an interruption
and ``--resume``. Every strategy of a draw uses the same parameter values.

Chunks can be saved as they finish (:class:`~costspine.analysis.chunk_store.ChunkStore`, in
:mod:`costspine.analysis.chunk_store`), so an interrupted run resumes where it stopped; chunks run
in this process or on a Dask cluster (:mod:`costspine.analysis.psa_dask`).

The draws are a :class:`~costspine.analysis.psa_result.PSAResult`; the statistics of a finished PSA
(CEAC, CEAF, EVPI, convergence, EVPPI) are in :mod:`costspine.analysis.psa_summary` (and
:mod:`costspine.analysis.voi_summary` for ``voi``); this module only produces the draws.
"""

from __future__ import annotations

import re
import time
from typing import NamedTuple

import numpy as np

from costspine._rng import PARAMETERS, path_key, seed_sequence
from costspine.analysis.chunk_store import CHUNK_SIZE, STORE_FORMAT, ChunkStore, plan_chunks, run_fingerprint
from costspine.analysis.parameter_draws import draw_run_parameters
from costspine.analysis.psa_dask import DASK_START_SECONDS, dask_pays_off, run_on_dask
from costspine.analysis.psa_result import PSAResult, result_columns  # noqa: F401 (re-exported)
from costspine.errors import AnalysisError, UsageError

CHUNK_STREAM_KEY = path_key(PARAMETERS)
"""First element of every parameter block's spawn key (kept for callers; see :mod:`costspine._rng`)."""

METHODS = ("cohort", "microsim")


# --------------------------------------------------------------------------------------------
# Chunks and streams


def chunk_seed_sequence(seed: int, chunk: int) -> np.random.SeedSequence:
    """The root of parameter block ``chunk`` (draws ``chunk·1000 ..``): depends only on ``(seed, chunk)``."""
    return seed_sequence(int(seed), PARAMETERS, int(chunk))


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


class DrawTotals(NamedTuple):
    """What a PSA keeps of a batch of draws (:func:`simulate_draws` with ``totals=True``)."""

    costs: np.ndarray
    """Discounted costs, shape (draw, strategy, category)."""
    outcomes: np.ndarray
    """Discounted outcomes, shape (draw, strategy, outcome)."""
    parameters: dict | None
    """Every parameter's values, derived ones computed, when the engine had them at hand; else None."""
    levels: dict | None = None
    """Microsimulation: results by subgroup level per draw (``MicrosimResult.levels``, keys
    ``"<attribute>.<field>"``, draw axis first); else None."""


def simulate_draws(
    scenario,
    params: dict[str, np.ndarray],
    *,
    method: str = "cohort",
    seed: int | None = None,
    first_draw: int = 0,
    individuals: int | None = None,
    progress=None,
    notice=None,
    totals: bool = False,
):
    """Run the model on a batch of parameter draws: the one place a PSA chooses its engine.

    ``cohort``: :func:`costspine.simulate.cohort.run_cohort` (one cohort per population group when the
    scenario has a ``[population]``). ``microsim``: :func:`costspine.simulate.microsim.run_microsim` with
    ``individuals`` per strategy and draw; the individuals of the batch's draw ``i`` come from the
    run's stream for draw ``first_draw + i`` (so a chunk stays reproducible on its own and the
    chunk size changes nothing). ``progress(done, total)`` and ``notice(text)``: as
    :func:`~costspine.simulate.microsim.run_microsim`'s (microsimulation only).

    ``totals=True`` returns only what a PSA keeps, a :class:`DrawTotals`; the cohort model then
    runs :func:`costspine.simulate.cohort.run_cohort_totals` (no per-cycle arrays).
    """
    if method == "cohort" and totals:
        from costspine.simulate.cohort import run_cohort_totals

        return DrawTotals(*run_cohort_totals(scenario, params))
    if method == "cohort":
        from costspine.simulate.cohort import run_cohort

        return run_cohort(scenario, params)
    if method == "microsim":
        from costspine.simulate.microsim import run_microsim

        if seed is None:
            raise UsageError("a PSA microsimulation needs the run's seed")
        result = run_microsim(
            scenario,
            params,
            n_individuals=individuals,
            seed=seed,
            first_draw=first_draw,
            progress=progress,
            notice=notice,
            by_level=True,
        )
        return DrawTotals(result.costs, result.outcomes, None, result.levels) if totals else result
    raise UsageError(f"unknown simulation method {method!r}; available: {', '.join(METHODS)}")


_DRAW_LABEL = re.compile(r"\bdraw=(\d+)")


def compute_chunk(
    scenario,
    *,
    seed: int,
    chunk: int,
    start: int,
    stop: int,
    posterior_pools=(),
    method: str = "cohort",
    individuals: int | None = None,
    on_partial=None,
    notice=None,
) -> dict:
    """Draw and simulate one chunk. Pure: the same arguments give bit-identical arrays.

    ``on_partial(draws)`` is told, during a microsimulation, how many of the chunk's draws are
    done so far (fractions included: per block of individuals); ``notice(text)`` before the
    microsimulation kernel is compiled. Neither changes a result.

    Returns
    -------
    dict
        ``chunk``, ``start``, ``stop`` (ints); ``parameters`` (draw, parameter) in
        :func:`sampled_parameter_names` order; ``costs`` (draw, strategy, category);
        ``outcomes`` (draw, strategy, outcome); for the microsimulation of a scenario with
        categorical or binary attributes, its results by subgroup per draw under ``level.*`` keys
        (:data:`LEVEL_PREFIX`).

    Raises
    ------
    AnalysisError
        A draw gives invalid probabilities; the message names the draw by its index in the
        whole PSA.
    """
    from costspine.model.inputs import evaluate_parameters

    n = stop - start
    params = draw_run_parameters(scenario, seed=seed, start=start, stop=stop, posterior_pools=posterior_pools)
    per_draw = None
    if on_partial is not None:

        def per_draw(done, total):
            on_partial(done * n / total)

    try:
        costs, outcomes, values, levels = simulate_draws(
            scenario,
            params,
            method=method,
            seed=seed,
            first_draw=start,
            individuals=individuals,
            progress=per_draw,
            notice=notice,
            totals=True,
        )
    except AnalysisError as exc:
        message = _DRAW_LABEL.sub(lambda m: f"draw={int(m.group(1)) + start}", str(exc))
        raise AnalysisError(f"{message}\n(PSA chunk {chunk}: draws {start}..{stop - 1}, seed {seed})") from None
    values = evaluate_parameters(scenario, params) if values is None else values
    names = sampled_parameter_names(scenario)
    matrix = np.column_stack([values[name] for name in names]) if names else np.zeros((n, 0))
    return {
        "chunk": int(chunk),
        "start": int(start),
        "stop": int(stop),
        "parameters": matrix,
        "costs": np.ascontiguousarray(costs),
        "outcomes": np.ascontiguousarray(outcomes),
        **{LEVEL_PREFIX + k: np.ascontiguousarray(v) for k, v in (levels or {}).items()},
    }


LEVEL_PREFIX = "level."
"""Chunk keys of the microsimulation's results by subgroup (``level.<attribute>.<field>``)."""


MICROSIM_CHUNK_WORK = 20_000_000
"""Individual-cycles (individuals × strategies × cycles) per microsimulation PSA chunk by default:
a second or two of the compiled kernel, so an interrupted run loses little, ``--resume`` and Dask
have chunks to share out, and the cohort's 1,000 draws per chunk do not make a 500-draw PSA one chunk."""


def microsim_chunk_size(scenario, individuals: int | None = None) -> int:
    """Draws per chunk of a microsimulation PSA: :data:`MICROSIM_CHUNK_WORK` individual-cycles,
    between 1 and :data:`~costspine.analysis.chunk_store.CHUNK_SIZE` draws.

    ``individuals`` defaults to the scenario's ``[microsimulation] individuals`` (1,000 if none).
    """
    population = getattr(scenario, "population", None)
    n = individuals if individuals is not None else getattr(population, "individuals", None) or 1000
    per_draw = int(n) * len(scenario.strategies) * scenario.settings.n_cycles
    return int(min(CHUNK_SIZE, max(1, MICROSIM_CHUNK_WORK // max(per_draw, 1))))


def compute_chunks(scenario, *, seed: int, chunks, **options) -> list[dict]:
    """:func:`compute_chunk` for each ``(chunk, start, stop)`` of ``chunks``, in order: one Dask task
    of several chunks (fewer, bigger tasks), with the same results as chunk by chunk."""
    return [compute_chunk(scenario, seed=seed, chunk=c, start=start, stop=stop, **options) for c, start, stop in chunks]


# --------------------------------------------------------------------------------------------
# Saved chunks (resume)

# --------------------------------------------------------------------------------------------
# Running


def run_psa(
    scenario,
    n_draws: int,
    *,
    seed: int,
    chunk_size: int | None = None,
    method: str = "cohort",
    individuals: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    store_dir=None,
    resume: bool = False,
    on_chunk=None,
    on_partial=None,
    progress=None,
    draws_dir=None,
) -> PSAResult:
    """Probabilistic sensitivity analysis: sample every parameter and run the model per draw.

    Parameters
    ----------
    scenario : Scenario
    n_draws : int
        Number of draws (≥ 1).
    seed : int
        The run's seed; draw ``d`` uses the streams of :mod:`costspine._rng` for ``(seed, d)``.
    chunk_size : int, optional
        Draws per chunk (the unit of work, of Dask tasks, of saved files). Results do not depend on
        it. Default: :data:`~costspine.analysis.chunk_store.CHUNK_SIZE` for the cohort model, and
        :func:`microsim_chunk_size` for the microsimulation (a few seconds of work per chunk).
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
        Save each chunk here as it finishes (see :class:`~costspine.analysis.chunk_store.ChunkStore`).
    resume : bool
        Reuse the chunks already in ``store_dir`` (refused if they belong to another run).
    on_chunk : callable, optional
        Called with the number of draws of each chunk when it is done (e.g. a progress bar).
    on_partial : callable, optional
        Called during a chunk run in this process with the draws of that chunk done so far
        (a float; the microsimulation reports per block of individuals), so a bar moves between
        chunks.
    progress : callable, optional
        Called with a line of text for slow preparatory steps (fitting a posterior, compiling the
        microsimulation kernel).
    draws_dir : path, optional
        Write the draws into this ``draws/`` folder as each chunk arrives
        (:class:`~costspine.analysis.psa_draws_file.DrawsWriter`: column-major ``.npy`` files) instead
        of holding them in memory, so memory does not grow with the number of draws; the result's
        arrays are then read-only memory maps of those files (``result.store`` names the folder).

    Returns
    -------
    PSAResult
        Identical, bit for bit, for the same scenario and seed whatever ``chunk_size``, ``workers``,
        ``scheduler``, interruptions or ``draws_dir``.

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
    from costspine.model.inputs import check_psa_memory
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
    if chunk_size is None:
        chunk_size = CHUNK_SIZE if method == "cohort" else microsim_chunk_size(scenario, individuals)
    check_psa_memory(
        scenario,
        n_draws,
        chunk_size=chunk_size,
        n_parameters=len(sampled_parameter_names(scenario)),
        method=method,
        draws_in_memory=draws_dir is None,
    )
    layout = plan_chunks(n_draws, chunk_size)
    base = run_cohort(scenario)  # the base case must be valid before any draw is made
    pools, provenance = prepare_posterior(scenario, progress=progress)
    names = sampled_parameter_names(scenario)
    shapes = {"parameters": len(names), "costs": base.costs.shape[1:], "outcomes": base.outcomes.shape[1:]}

    done: set[int] = set()
    store = None
    # each chunk is written to the draws folder (draws_dir) or copied into the whole run's arrays
    # as it arrives and then dropped, so a run holds its draws at most once (on disk: not at all)
    whole: dict[str, np.ndarray] = {}
    writer = None
    if draws_dir is not None:
        from costspine.analysis.psa_draws_file import DrawsWriter

        writer = DrawsWriter(draws_dir, n_draws=n_draws, shapes={**shapes, "parameters": (len(names),)})

    def keep(arrays: dict) -> None:
        start, stop = int(arrays["start"]), int(arrays["stop"])
        if writer is not None:
            writer.write(start, arrays)  # the draws go to disk; subgroup levels (microsimulation) stay here
        draws = () if writer is not None else ("parameters", "costs", "outcomes")
        for key in (*draws, *(k for k in arrays if k.startswith(LEVEL_PREFIX))):
            values = np.asarray(arrays[key])
            if key not in whole:
                whole[key] = np.empty((n_draws, *values.shape[1:]), dtype=values.dtype)
            whole[key][start:stop] = values
        done.add(int(arrays["chunk"]))

    try:
        resumed = 0
        if store_dir is not None:
            meta = {
                "format": STORE_FORMAT,
                "scenario": scenario.name,
                "files": [list(f) for f in scenario.files],
                "fingerprint": run_fingerprint(scenario, method=method, posterior_pools=pools),
                "seed": int(seed),
                "n_draws": int(n_draws),
                "chunk_size": int(chunk_size),
                "method": method,
                "individuals": individuals,
                "parameter_names": list(names),
                "layout": [list(c) for c in layout],
            }
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

        def run_here(chunks) -> None:
            for c in chunks:
                start, stop = layout[c]
                finish(
                    compute_chunk(
                        scenario,
                        seed=seed,
                        chunk=c,
                        start=start,
                        stop=stop,
                        posterior_pools=pools,
                        method=method,
                        individuals=individuals,
                        on_partial=on_partial,
                        notice=progress,
                    )
                )

        if pending and workers is not None and scheduler is None:
            # A local cluster costs seconds to start: time the first chunk here, and distribute the
            # rest only if splitting it over the workers saves more than that. CPU time, not wall
            # time: on a busy machine both the chunk and the cluster's start-up slow down alike.
            started = time.process_time()
            run_here(pending[:1])
            per_draw = (time.process_time() - started) / (layout[pending[0]][1] - layout[pending[0]][0])
            pending = pending[1:]
            estimate = per_draw * sum(layout[c][1] - layout[c][0] for c in pending)
            if pending and not dask_pays_off(estimate, workers):
                if progress:
                    progress(
                        f"--workers {workers}: the rest of this PSA takes about {estimate:.1f} s of CPU here, too little "
                        f"for a local Dask cluster to pay off (~{DASK_START_SECONDS:.0f} s to start); running it here"
                    )
                run_here(pending)
                pending = []
        if pending and workers is None and scheduler is None:
            run_here(pending)
        elif pending:
            run_on_dask(
                scenario,
                compute=compute_chunks,
                seed=seed,
                layout=layout,
                pending=pending,
                posterior_pools=pools,
                method=method,
                individuals=individuals,
                workers=workers,
                scheduler=scheduler,
                finish=finish,
            )

    except BaseException:
        if writer is not None:
            writer.close()
        raise
    outcome_names = tuple(o.name for o in scenario.outcomes)
    effect = outcome_names.index(scenario.analysis.effect)
    base_costs, base_outcomes = base.costs[0], base.outcomes[0]
    extra = {
        "effect_label": " ".join(str(scenario.outcomes[effect].label or scenario.analysis.effect).split()),
        "method": method,
        **({"individuals": individuals} if method == "microsim" else {}),
        "chunk_size": int(chunk_size),
        "chunks": [list(c) for c in layout],
        "posterior": provenance,
        "resumed_chunks": resumed,
        "fingerprint": run_fingerprint(scenario, method=method, posterior_pools=pools),
        **scenario.analysis.perspective_record(),
        "base_case": {
            st: {"cost_total": float(base_costs[k].sum()), "effect": float(base_outcomes[k, effect])}
            for k, st in enumerate(scenario.strategies)
        },
    }
    fields = dict(
        scenario=scenario.name,
        title=scenario.title,
        currency=scenario.settings.currency,
        effect_name=scenario.analysis.effect,
        strategies=scenario.strategies,
        strategy_labels=dict(scenario.strategy_labels),
        comparator=scenario.analysis.comparator,
        wtp=tuple(float(w) for w in scenario.analysis.wtp),
        categories=scenario.categories,
        outcome_names=outcome_names,
        parameter_names=names,
        parameter_groups={spec.name: list(spec.components) for spec in scenario.parameters if spec.family == "dirichlet"},
        seed=int(seed),
        discount_outcomes=scenario.settings.discount_outcomes,
        inputs=[tuple(f) for f in scenario.files]
        + [(p["cache_file"], p["cache_sha256"]) for p in provenance if "cache_file" in p],
        extra=extra,
        base_costs=base_costs,
        base_outcomes=base_outcomes,
        levels={k[len(LEVEL_PREFIX) :]: v for k, v in whole.items() if k.startswith(LEVEL_PREFIX)} or None,
    )
    if writer is not None:
        from costspine.analysis.psa_draws_file import describe_draws, open_draws_dir

        empty = {
            "parameters": np.zeros((0, len(names))),
            "costs": np.zeros((0, *shapes["costs"])),
            "outcomes": np.zeros((0, *shapes["outcomes"])),
        }
        writer.finish(describe_draws(PSAResult(**fields, **empty)))
        saved = open_draws_dir(draws_dir)
        whole = {key: getattr(saved, key) for key in ("parameters", "costs", "outcomes")}
        fields["store"] = saved.store
    return PSAResult(**fields, parameters=whole["parameters"], costs=whole["costs"], outcomes=whole["outcomes"])
