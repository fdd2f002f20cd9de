"""Parameter distributions: specifications, base-case values, seeded draws and quantiles.

Every parameter of a scenario is one :class:`ParameterSpec` record (never parallel lists).
Distributions are stored in one canonical parameterisation per family, whichever one the file used:

=============  ==========================  ==========================================
family         canonical arguments         accepted in scenario files
=============  ==========================  ==========================================
fixed          —                           ``value``
normal         mean, sd                    ``mean``, ``sd``
lognormal      meanlog, sdlog              ``meanlog``/``sdlog`` or ``mean``/``sd``
gamma          shape, scale                ``shape``/``scale`` or ``mean``/``sd``
beta           alpha, beta                 ``alpha``/``beta`` or ``mean``/``sd``
uniform        min, max                    ``min``, ``max``
triangular     min, mode, max              ``min``, ``mode``, ``max``
dirichlet      alpha (vector)              ``alpha = {name = count, ...}``
=============  ==========================  ==========================================

Draws are reproducible per parameter: each parameter gets its own random stream keyed by its name
under the run's seed (:mod:`costspine._rng`, the one seed layout), so adding a parameter or
changing the number of individuals in a microsimulation never shifts another parameter's draws.
:func:`draw_parameter_range` gives draws ``start..stop-1`` of a run's layout, the same values
whatever the PSA chunk size and in every command (``psa``, ``bia``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from costspine._rng import CORRELATION, PARAMETERS, draw_blocks, seed_sequence

FAMILIES = ("fixed", "normal", "lognormal", "gamma", "beta", "uniform", "triangular", "dirichlet", "posterior")


@dataclass(frozen=True)
class ParameterSpec:
    """One scenario parameter.

    Attributes
    ----------
    name : str
        Name used in expressions (for a Dirichlet, the group name; components are in ``components``).
    family : str
        One of :data:`FAMILIES`, or ``"derived"`` for an expression over other parameters.
    args : dict
        Canonical distribution arguments (see module docstring).
    value : float or None
        Base-case value (None for derived parameters and Dirichlet groups).
    expression : Expression or None
        For derived parameters: the expression, evaluated per draw.
    components : tuple of str
        Dirichlet component names (empty otherwise).
    source : str
        Where the number comes from.
    low, high : float or None
        Deterministic-sensitivity bounds declared in the file.
    """

    name: str
    family: str
    source: str
    args: dict = field(default_factory=dict)
    value: float | None = None
    expression: object | None = None
    components: tuple = ()
    low: float | None = None
    high: float | None = None

    @property
    def is_random(self) -> bool:
        return self.family not in ("fixed", "derived")

    def base_values(self) -> dict[str, float]:
        """Base-case value(s) keyed by parameter name (Dirichlet: one per component)."""
        if self.family == "dirichlet":
            alpha = np.asarray(self.args["alpha"], dtype=float)
            return dict(zip(self.components, alpha / alpha.sum()))
        if self.family == "derived":
            return {}
        return {self.name: float(self.value)}


def canonical_args(family: str, given: dict[str, float]) -> tuple[dict, float, str | None]:
    """Turn the keys a file gave into canonical arguments.

    Returns ``(args, mean, problem)`` where ``problem`` is a message or None. ``given`` holds
    numbers only (expressions were already evaluated by the loader). Arguments so extreme that
    the canonical ones or the mean are not finite floats are a problem, never a crash.
    """
    shown = ", ".join(f"{k}={v:g}" for k, v in given.items())
    try:
        args, mean, problem = _canonical_args(family, given)
    except (OverflowError, ZeroDivisionError):
        return {}, math.nan, f"{family} arguments are too extreme to compute with; got {shown}"
    if problem is None and not all(math.isfinite(v) for v in (*args.values(), mean)):
        converted = ", ".join(f"{k}={v:g}" for k, v in args.items())
        return (
            {},
            math.nan,
            (f"expected {family} arguments with finite canonical values and mean; got {shown} (→ {converted}, mean={mean:g})"),
        )
    return args, mean, problem


def _canonical_args(family: str, given: dict[str, float]) -> tuple[dict, float, str | None]:
    keys = set(given)

    def need(*names):
        missing = [n for n in names if n not in keys]
        return f"a {family} distribution needs {', '.join(names)}; missing {', '.join(missing)}" if missing else None

    if family == "normal":
        if msg := need("mean", "sd"):
            return {}, math.nan, msg
        if given["sd"] < 0:
            return {}, math.nan, f"normal sd must be >= 0; got {given['sd']}"
        return {"mean": given["mean"], "sd": given["sd"]}, given["mean"], None
    if family == "lognormal":
        if {"meanlog", "sdlog"} <= keys:
            mu, s = given["meanlog"], given["sdlog"]
        elif {"mean", "sd"} <= keys:
            m, sd = given["mean"], given["sd"]
            if m <= 0 or sd < 0:
                return {}, math.nan, f"lognormal mean must be > 0 and sd >= 0; got mean={m}, sd={sd}"
            s = math.sqrt(math.log1p((sd / m) ** 2))
            mu = math.log(m) - s * s / 2
        else:
            return {}, math.nan, "a lognormal distribution needs meanlog and sdlog, or mean and sd"
        if s < 0:
            return {}, math.nan, f"lognormal sdlog must be >= 0; got {s}"
        return {"meanlog": mu, "sdlog": s}, math.exp(mu + s * s / 2), None
    if family == "gamma":
        if {"shape", "scale"} <= keys:
            k, theta = given["shape"], given["scale"]
        elif {"mean", "sd"} <= keys:
            m, sd = given["mean"], given["sd"]
            if m <= 0 or sd <= 0:
                return {}, math.nan, f"gamma mean and sd must be > 0; got mean={m}, sd={sd}"
            k, theta = (m / sd) ** 2, sd * sd / m
        else:
            return {}, math.nan, "a gamma distribution needs mean and sd, or shape and scale"
        if k <= 0 or theta <= 0:
            return {}, math.nan, f"gamma shape and scale must be > 0; got shape={k}, scale={theta}"
        return {"shape": k, "scale": theta}, k * theta, None
    if family == "beta":
        if {"alpha", "beta"} <= keys:
            a, b = given["alpha"], given["beta"]
        elif {"mean", "sd"} <= keys:
            m, sd = given["mean"], given["sd"]
            if not 0 < m < 1 or sd <= 0 or sd * sd >= m * (1 - m):
                return {}, math.nan, (f"beta needs 0 < mean < 1 and 0 < sd² < mean·(1 − mean); got mean={m}, sd={sd}")
            common = m * (1 - m) / (sd * sd) - 1
            a, b = m * common, (1 - m) * common
        else:
            return {}, math.nan, "a beta distribution needs alpha and beta, or mean and sd"
        if a <= 0 or b <= 0:
            return {}, math.nan, f"beta alpha and beta must be > 0; got alpha={a}, beta={b}"
        return {"alpha": a, "beta": b}, a / (a + b), None
    if family == "uniform":
        if msg := need("min", "max"):
            return {}, math.nan, msg
        if not given["min"] < given["max"]:
            return {}, math.nan, f"uniform needs min < max; got min={given['min']}, max={given['max']}"
        return {"min": given["min"], "max": given["max"]}, (given["min"] + given["max"]) / 2, None
    if family == "triangular":
        if msg := need("min", "mode", "max"):
            return {}, math.nan, msg
        lo, mo, hi = given["min"], given["mode"], given["max"]
        if not (lo <= mo <= hi and lo < hi):
            return {}, math.nan, f"triangular needs min <= mode <= max and min < max; got {lo}, {mo}, {hi}"
        return {"min": lo, "mode": mo, "max": hi}, (lo + mo + hi) / 3, None
    return {}, math.nan, f"unknown distribution {family!r}"


ARGUMENT_KEYS = {
    "fixed": set(),
    "normal": {"mean", "sd"},
    "lognormal": {"meanlog", "sdlog", "mean", "sd"},
    "gamma": {"mean", "sd", "shape", "scale"},
    "beta": {"alpha", "beta", "mean", "sd"},
    "uniform": {"min", "max"},
    "triangular": {"min", "mode", "max"},
    "dirichlet": {"alpha"},
    "posterior": {"file", "variable"},
}


def sample_spec(spec: ParameterSpec, n_draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw ``n_draws`` values of one independent parameter (Dirichlet: every component)."""
    a = spec.args
    family = spec.family
    if family == "fixed":
        out = np.full(n_draws, spec.value, dtype=float)
    elif family == "normal":
        out = rng.normal(a["mean"], a["sd"], n_draws)
    elif family == "lognormal":
        out = rng.lognormal(a["meanlog"], a["sdlog"], n_draws)
    elif family == "gamma":
        out = rng.gamma(a["shape"], a["scale"], n_draws)
    elif family == "beta":
        out = rng.beta(a["alpha"], a["beta"], n_draws)
    elif family == "uniform":
        out = rng.uniform(a["min"], a["max"], n_draws)
    elif family == "triangular":
        out = rng.triangular(a["min"], a["mode"], a["max"], n_draws)
    elif family == "dirichlet":
        draws = rng.dirichlet(np.asarray(a["alpha"], dtype=float), n_draws)
        return {name: draws[:, i] for i, name in enumerate(spec.components)}
    else:
        raise ValueError(f"cannot sample family {family!r} independently")
    return {spec.name: out}


def quantile(spec: ParameterSpec, q):
    """Inverse CDF of a univariate parameter at probabilities ``q`` (array-like in (0, 1)).

    Used for deterministic sensitivity bounds and for the Gaussian copula. Fixed parameters
    return their value.
    """
    from scipy import (
        special,  # light compared to scipy.stats; only needed for DSA and copulas
    )

    q = np.asarray(q, dtype=float)
    a = spec.args
    if spec.family == "fixed":
        return np.full_like(q, spec.value)
    if spec.family == "normal":
        return a["mean"] + a["sd"] * special.ndtri(q)
    if spec.family == "lognormal":
        return np.exp(a["meanlog"] + a["sdlog"] * special.ndtri(q))
    if spec.family == "gamma":
        return a["scale"] * special.gammaincinv(a["shape"], q)
    if spec.family == "beta":
        return special.betaincinv(a["alpha"], a["beta"], q)
    if spec.family == "uniform":
        return a["min"] + (a["max"] - a["min"]) * q
    if spec.family == "triangular":
        lo, mo, hi = a["min"], a["mode"], a["max"]
        cut = (mo - lo) / (hi - lo)
        left = lo + np.sqrt(q * (hi - lo) * (mo - lo))
        right = hi - np.sqrt((1 - q) * (hi - lo) * (hi - mo))
        return np.where(q < cut, left, right)
    raise ValueError(f"no quantile function for {spec.family!r} parameter {spec.name!r}")


def draw_parameters(
    specs: tuple[ParameterSpec, ...],
    n_draws: int,
    rng: np.random.Generator | np.random.SeedSequence,
    *,
    correlations: tuple = (),
) -> dict[str, np.ndarray]:
    """Draw every random parameter ``n_draws`` times; fixed ones are repeated.

    Parameters
    ----------
    specs : tuple of ParameterSpec
        The scenario's parameters (derived parameters are skipped: the model computes them).
    n_draws : int
        Number of PSA draws.
    rng : numpy.random.Generator or numpy.random.SeedSequence
        Where the draws come from. A seed sequence is the root of the draws: parameter ``name``
        draws from its child keyed by ``name`` (:func:`costspine._rng.seed_sequence`), a
        correlated group from the child ``"correlation:a,b"``; this is how the commands use it
        (:func:`draw_parameter_range`). A generator is used from its current state: 256 bits
        taken from it make the root, so the same state gives the same draws, the generator
        advances, and each parameter still has its own stream keyed by its name.
    correlations : tuple of Correlation
        Groups of parameters drawn jointly through a Gaussian copula.

    Returns
    -------
    dict of str to ndarray, shape (draw,)
        Posterior parameters are not included: :func:`costspine.bayes.posterior.draw_from_posterior_pools`
        draws them jointly.

    Raises
    ------
    TypeError
        ``rng`` is neither a Generator nor a SeedSequence.

    Examples
    --------
    >>> p = ParameterSpec("p", "beta", "test", {"alpha": 2.0, "beta": 8.0}, 0.2)
    >>> rng = np.random.default_rng(1)
    >>> first, second = draw_parameters((p,), 3, rng)["p"], draw_parameters((p,), 3, rng)["p"]
    >>> bool((first == second).any())  # the generator moved on
    False
    """
    if isinstance(rng, np.random.Generator):
        root = np.random.SeedSequence(rng.integers(0, 2**64, size=4, dtype=np.uint64))
    elif isinstance(rng, np.random.SeedSequence):
        root = rng
    else:
        raise TypeError(f"rng must be a numpy.random.Generator or SeedSequence; got {type(rng).__name__}")
    draws: dict[str, np.ndarray] = {}
    correlated = {name for group in correlations for name in group.names}
    by_name = {spec.name: spec for spec in specs}
    for spec in specs:
        if spec.family in ("derived", "posterior") or spec.name in correlated:
            continue  # derived: computed by the model; posterior: joined by costspine.bayes.posterior
        draws.update(sample_spec(spec, n_draws, np.random.default_rng(seed_sequence(root, spec.name))))
    for group in correlations:
        from scipy import (
            special,  # only for copulas: keeps uncorrelated PSA start-up fast
        )

        stream = np.random.default_rng(seed_sequence(root, CORRELATION + ",".join(group.names)))
        normals = stream.multivariate_normal(
            np.zeros(len(group.names)), rank_to_normal_correlation(group.matrix), n_draws, method="cholesky"
        )
        uniforms = special.ndtr(normals)
        for i, name in enumerate(group.names):
            draws[name] = quantile(by_name[name], uniforms[:, i])
    return draws


def draw_parameter_range(
    specs: tuple[ParameterSpec, ...], *, seed: int, start: int, stop: int, correlations: tuple = ()
) -> dict[str, np.ndarray]:
    """Draws ``start..stop-1`` of every random parameter of a run with seed ``seed``.

    The run's layout (:mod:`costspine._rng`): draw ``d`` of parameter ``name`` is value
    ``d % DRAW_BLOCK`` of stream ``(PARAMETERS, d // DRAW_BLOCK, name)``. So draw ``d`` is the
    same whatever ``start`` and ``stop`` (PSA chunks), and in every command using this function.

    Parameters
    ----------
    specs : tuple of ParameterSpec
    seed : int
        The run's seed.
    start, stop : int
        The draws wanted, ``0 <= start <= stop``.
    correlations : tuple of Correlation

    Returns
    -------
    dict of str to ndarray, shape (draw,)
        ``stop - start`` draws of each parameter :func:`draw_parameters` draws.

    Examples
    --------
    >>> p = ParameterSpec("p", "normal", "test", {"mean": 0.0, "sd": 1.0}, 0.0)
    >>> whole = draw_parameter_range((p,), seed=3, start=0, stop=1500)["p"]
    >>> part = draw_parameter_range((p,), seed=3, start=990, stop=1010)["p"]
    >>> bool((part == whole[990:1010]).all())
    True
    """
    parts = []
    for block, first, end in draw_blocks(start, stop) or ((0, 0, 0),):  # no draws: empty arrays
        drawn = draw_parameters(specs, end, seed_sequence(seed, PARAMETERS, block), correlations=correlations)
        parts.append({name: values[first:end] for name, values in drawn.items()})
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def rank_to_normal_correlation(matrix) -> np.ndarray:
    """Correlation of the copula's normals that gives the requested rank (Spearman) correlations.

    For a bivariate normal, Spearman's ρ = (6/π)·arcsin(r/2), so ``r = 2·sin(π·ρ/6)``.
    """
    normal = 2.0 * np.sin(np.pi * np.asarray(matrix, dtype=float) / 6.0)
    np.fill_diagonal(normal, 1.0)
    return normal


@dataclass(frozen=True)
class Correlation:
    """Parameters drawn jointly through a Gaussian copula; ``matrix`` holds the rank (Spearman)
    correlations, in ``names`` order."""

    names: tuple
    matrix: tuple
