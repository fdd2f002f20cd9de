"""The parameter draws of a run: one function for ``psa`` (cohort and microsimulation) and ``bia``.

Draw ``d`` of a run with seed ``S`` is the same in every command: random parameters, correlated
groups and posterior rows all come from the seed layout of :mod:`costspine._rng` (parameter
block ``d // DRAW_BLOCK``, keyed by name), never from the command, the chunk or the worker.
"""

from __future__ import annotations

import numpy as np

from costspine._rng import DRAW_BLOCK, PARAMETERS, POSTERIOR_ROWS, draw_blocks, stream
from costspine.errors import AnalysisError
from costspine.params import draw_parameter_range


def draw_run_parameters(scenario, *, seed: int, start: int, stop: int, posterior_pools=()) -> dict[str, np.ndarray]:
    """Draws ``start..stop-1`` of every non-derived parameter of a scenario.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        The run's seed (``--seed``).
    start, stop : int
        The draws wanted (a PSA chunk, or ``0, n`` for a whole run).
    posterior_pools : list of dict
        From :func:`costspine.bayes.posterior.load_posterior_pools`, when the scenario has
        ``posterior`` parameters; whole rows are resampled with the stream
        ``(PARAMETERS, block, POSTERIOR_ROWS)``: the first pool's :data:`~costspine._rng.DRAW_BLOCK`
        row indices, then the next pool's, and so on. A pool's columns replace the scenario's own
        draws: every parameter its calibration calibrated, and (as constant columns) every
        parameter the calibration held at its base value, so nothing a posterior was conditioned
        on is drawn independently of it.

    Returns
    -------
    dict of str to ndarray, shape (draw,)
        Random parameters, Dirichlet components and posterior parameters; fixed ones repeated.

    Raises
    ------
    AnalysisError
        The scenario has posterior parameters and no pool gives them.

    Examples
    --------
    >>> from costspine.scenario.load import load_scenario
    >>> s = load_scenario("scenarios/examples/hiv_chancellor.toml")  # doctest: +SKIP
    >>> whole = draw_run_parameters(s, seed=1, start=0, stop=3000)  # doctest: +SKIP
    >>> chunk = draw_run_parameters(s, seed=1, start=1500, stop=2500)  # doctest: +SKIP
    >>> bool((chunk["c_direct_A"] == whole["c_direct_A"][1500:2500]).all())  # doctest: +SKIP
    True
    """
    params = draw_parameter_range(scenario.parameters, seed=seed, start=start, stop=stop, correlations=scenario.correlations)
    if posterior_pools:
        from costspine.bayes.posterior import draw_from_posterior_pools

        parts = []
        for block, first, end in draw_blocks(start, stop) or ((0, 0, 0),):  # no draws: empty arrays
            # every pool takes a whole block from the one stream, so a pool's rows never depend on
            # how many draws the pool before it took (a chunk ending inside a block)
            rows = draw_from_posterior_pools(list(posterior_pools), DRAW_BLOCK, stream(seed, PARAMETERS, block, POSTERIOR_ROWS))
            parts.append({name: values[first:end] for name, values in rows.items()})
        params.update({name: np.concatenate([part[name] for part in parts]) for name in parts[0]})
    missing = [s.name for s in scenario.parameters if s.family == "posterior" and s.name not in params]
    if missing:
        raise AnalysisError(
            f"no posterior draws for {', '.join(missing)}: load them with prepare_posterior() "
            "and pass posterior_pools (the psa command does this)"
        )
    return params
