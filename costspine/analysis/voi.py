"""Value of information: EVPI (re-exported) and regression-based EVPPI.

The expected value of partial perfect information of a parameter subset θ is estimated from the
PSA draws alone, without nested Monte Carlo, by regressing net benefit on θ (Strong, Oakley &
Brennan 2014). Two regressions are offered, both reduced to one penalised linear least-squares
problem solved in closed form with numpy / ``scipy.linalg``:

``gam``
    Penalised regression spline: natural cubic splines with knots at quantiles of each
    parameter (one parameter) or their tensor product (2–4 parameters), with one smoothing
    parameter per parameter chosen by generalised cross-validation (GCV).
``gp``
    Gaussian-process regression with a linear mean and a squared-exponential ARD kernel;
    lengthscales maximise the marginal likelihood on a subset of draws, the posterior mean at
    all draws uses a low-rank (Nyström / subset-of-regressors) basis, with signal and noise
    variances re-estimated on all draws.

References
----------
Strong M, Oakley JE, Brennan A. Estimating multiparameter partial expected value of perfect
information from a probabilistic sensitivity analysis sample: a nonparametric regression
approach. *Med Decis Making* 2014;34:311–326.
Wood SN. *Generalized Additive Models: An Introduction with R*, 2nd ed. CRC, 2017, ch. 5.
Rasmussen CE, Williams CKI. *Gaussian Processes for Machine Learning*. MIT Press, 2006,
ch. 2, 5 and 8.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from costspine.analysis.decision import compute_evpi, compute_evpi_from_net_benefit
from costspine.errors import AnalysisError, UsageError

__all__ = ["EVPPIResult", "compute_evpi", "compute_evpi_from_net_benefit", "compute_evppi"]

METHODS = ("gam", "gp")
MIN_DRAWS = 30
# Knots per parameter of the tensor-product spline by number of parameters (basis size K**k).
GAM_KNOTS = {1: 20, 2: 8, 3: 5, 4: 4}
# Draws used to fit GP lengthscales (evenly spaced), and how many of them span the low-rank basis.
GP_SUBSET = 1000
GP_INDUCING = 500
DEFAULT_N_BOOT = 500
_LOG_LAMBDA_GRID = np.linspace(-12.0, 12.0, 49)


@dataclass(frozen=True)
class EVPPIResult:
    """EVPPI of a parameter subset at one willingness-to-pay threshold.

    Attributes
    ----------
    evppi : float
        Per-person EVPPI, in the unit of the net benefit (usually currency).
    se : float
        Standard error of the estimate from the regression's posterior (``nan`` when no ``rng``
        was given).
    method : str
        ``"gam"`` or ``"gp"``.
    parameters : tuple of str
        The parameters the net benefit was regressed on.
    n_draws : int
    """

    evppi: float
    se: float
    method: str
    parameters: tuple
    n_draws: int

    def summary(self) -> str:
        """One line: parameters, EVPPI, SE, method and draws."""
        se = "SE not computed (pass rng)" if np.isnan(self.se) else f"SE {self.se:,.4g}"
        return f"EVPPI of {', '.join(self.parameters)}: {self.evppi:,.4g} ({se}; {self.method}, {self.n_draws} draws)"

    def to_dict(self) -> dict:
        """EVPPI, SE (None when not computed), method, parameters and draws (JSON-ready)."""
        return {
            "parameters": list(self.parameters),
            "evppi": float(self.evppi),
            "se": None if np.isnan(self.se) else float(self.se),
            "method": self.method,
            "draws": int(self.n_draws),
        }

    def to_frame(self):
        """One row keyed by ``parameters`` (joined with ``+``): EVPPI, SE, method and draws."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "parameters": "+".join(self.parameters),
                    "evppi": float(self.evppi),
                    "se": float(self.se),
                    "method": self.method,
                    "draws": int(self.n_draws),
                }
            ]
        )


# ----------------------------------------------------------------------------- input checks
def _as_params(params, n_draws: int) -> tuple[np.ndarray, tuple[str, ...]]:
    if isinstance(params, Mapping):
        names = tuple(str(k) for k in params)
        if not names:
            raise UsageError("params must hold at least one parameter; got an empty mapping")
        columns = []
        for name, values in params.items():
            v = np.asarray(values, dtype=float)
            if v.shape != (n_draws,):
                raise UsageError(f"params[{name!r}] must have shape (draw,) = ({n_draws},) like nb; got {v.shape}")
            columns.append(v)
        theta = np.column_stack(columns)
    else:
        theta = np.asarray(params, dtype=float)
        if theta.ndim == 1:
            theta = theta[:, None]
        if theta.ndim != 2 or theta.shape[0] != n_draws or theta.shape[1] < 1:
            raise UsageError(
                f"params must have shape (draw, k) with the {n_draws} draws of nb; got {theta.shape} — "
                "one row per draw, one column per parameter"
            )
        names = tuple(f"params[:, {j}]" for j in range(theta.shape[1]))
    for j, name in enumerate(names):
        bad = ~np.isfinite(theta[:, j])
        if bad.any():
            raise AnalysisError(f"{name} must be finite; got nan/inf at draw={int(np.argmax(bad))} ({int(bad.sum())} draws)")
        if np.ptp(theta[:, j]) == 0:
            raise UsageError(
                f"{name} takes one value ({theta[0, j]:g}) in every draw; a fixed parameter carries no "
                "decision uncertainty (its EVPPI is 0) — leave it out of params"
            )
    return theta, names


def _as_nb(nb) -> np.ndarray:
    arr = np.asarray(nb, dtype=float)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise UsageError(
            f"nb must have shape (draw, strategy) at one threshold; got {arr.shape} — "
            "take one threshold with compute_net_benefit(cost, effect, wtp)[:, :, j]"
        )
    if arr.shape[0] < MIN_DRAWS:
        raise UsageError(f"regression-based EVPPI needs at least {MIN_DRAWS} draws (thousands in practice); got {arr.shape[0]}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i, s = np.argwhere(bad)[0]
        raise AnalysisError(f"nb must be finite; got {arr[i, s]} at draw={i} strategy={s} ({int(bad.sum())} cells)")
    return arr


# ------------------------------------------------------------------- penalised regression
@dataclass(frozen=True)
class _Fit:
    """``y ≈ shift + scale · X β`` with posterior ``β ~ N(β̂, σ² A⁻¹)``, ``A = X'X + Σ λ_j S_j``."""

    X: np.ndarray
    beta: np.ndarray
    cov_root: np.ndarray  # C with C C' = A⁻¹
    sigma2: float
    shift: float
    scale: float

    def fitted(self) -> np.ndarray:
        return self.shift + self.scale * (self.X @ self.beta)

    def sample_fitted(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws of the fitted values from the coefficients' posterior, shape (draw, size)."""
        z = rng.standard_normal((self.beta.size, size))
        betas = self.beta[:, None] + np.sqrt(self.sigma2) * (self.cov_root @ z)
        return self.shift + self.scale * (self.X @ betas)


def _regularize(A: np.ndarray, XtX: np.ndarray) -> np.ndarray:
    """``A`` plus a ridge of 1e-10 of the mean diagonal of ``X'X``: keeps ``A`` positive definite
    without shrinking unpenalised terms noticeably."""
    p = A.shape[0]
    return A + np.eye(p) * (1e-10 * np.trace(XtX) / p)


def _gcv_single_penalty(X, XtX, Xty, y, S) -> float:
    """log λ minimising GCV for one penalty, in closed form over a grid (Wood 2017, §4.2.3).

    With ``X'X = R'R`` and ``R⁻ᵀ S R⁻¹ = U Λ U'``, ``c = U' R⁻ᵀ X'y``:
    ``RSS(λ) = RSS(0) + Σ_j (λΛ_j/(1+λΛ_j))² c_j²`` and ``tr H(λ) = Σ_j 1/(1+λΛ_j)``.
    """
    n = X.shape[0]
    L = np.linalg.cholesky(_regularize(XtX, XtX))
    L_inv = np.linalg.inv(L)  # R⁻ᵀ
    evals, evecs = np.linalg.eigh(L_inv @ S @ L_inv.T)
    evals = np.maximum(evals, 0.0)
    c = evecs.T @ (L_inv @ Xty)
    rss0 = float(np.sum((y - X @ (L_inv.T @ (L_inv @ Xty))) ** 2))

    def gcv(rho):
        lam_ev = np.exp(np.asarray(rho, dtype=float))[..., None] * evals
        rss = rss0 + np.sum((lam_ev / (1.0 + lam_ev)) ** 2 * c**2, axis=-1)
        edf = np.sum(1.0 / (1.0 + lam_ev), axis=-1)
        return n * rss / np.maximum(n - edf, 1.0) ** 2

    grid = np.linspace(_LOG_LAMBDA_GRID[0], _LOG_LAMBDA_GRID[-1], 481)
    best = grid[int(np.argmin(gcv(grid)))]
    fine = np.linspace(best - 0.05, best + 0.05, 101)
    return float(fine[int(np.argmin(gcv(fine)))])


def _fit_penalized(X: np.ndarray, y: np.ndarray, penalties: list[np.ndarray], *, log_lambda=None, rescale: bool = True) -> _Fit:
    """Penalised least squares; smoothing parameters by GCV unless ``log_lambda`` is given.

    ``β̂ = A⁻¹X'y`` with ``A = X'X + Σ_j λ_j S_j``; GCV(λ) = n · RSS(λ) / (n − tr H(λ))²,
    ``H = X A⁻¹ X'`` (Wood 2017, §4.2.3): minimised in closed form over a grid for one penalty,
    by Nelder–Mead on log λ (from the best common λ) for several. ``y`` is centred, and scaled to
    sd 1 if ``rescale`` (not when ``log_lambda`` is given on y's own scale).
    """
    n = X.shape[0]
    shift = float(y.mean())
    scale = (float(y.std()) or 1.0) if rescale else 1.0
    ys = (y - shift) / scale
    XtX = X.T @ X
    Xty = X.T @ ys

    def penalty(rho):
        out = np.zeros_like(XtX)
        for r, S in zip(rho, penalties):
            out += np.exp(r) * S
        return out

    def solve(rho):
        A = _regularize(XtX + penalty(rho), XtX)
        beta = np.linalg.solve(A, Xty)
        rss = float(np.sum((ys - X @ beta) ** 2))
        edf = float(np.trace(np.linalg.solve(A, XtX)))
        return A, beta, rss, edf

    def gcv(rho):
        _, _, rss, edf = solve(rho)
        return n * rss / max(n - edf, 1.0) ** 2

    if log_lambda is None and len(penalties) == 1:
        log_lambda = [_gcv_single_penalty(X, XtX, Xty, ys, penalties[0])]
    elif log_lambda is None and penalties:
        from scipy.optimize import minimize

        scores = [gcv([g] * len(penalties)) for g in _LOG_LAMBDA_GRID]
        start = np.full(len(penalties), _LOG_LAMBDA_GRID[int(np.argmin(scores))])
        bounds = [(_LOG_LAMBDA_GRID[0], _LOG_LAMBDA_GRID[-1])] * len(penalties)
        res = minimize(
            gcv,
            start,
            method="Nelder-Mead",
            bounds=bounds,
            options={"xatol": 0.05, "fatol": 1e-12, "maxiter": 100 * len(penalties)},
        )
        log_lambda = list(res.x) if res.fun <= min(scores) else list(start)
    A, beta, rss, edf = solve(log_lambda or [])
    cov_root = np.linalg.inv(np.linalg.cholesky(A)).T
    return _Fit(X, beta, cov_root, rss / max(n - edf, 1.0), shift, scale)


# ------------------------------------------------------------------------------------- GAM
def _build_spline_margin(x: np.ndarray, n_knots: int) -> tuple[np.ndarray, np.ndarray]:
    """Natural cubic spline basis (orthonormal on the draws) and its ∫f''² penalty.

    ``f(x) = a + b x + Σ_j δ_j |x − κ_j|³`` with ``Σ δ_j = Σ δ_j κ_j = 0`` is a natural cubic
    spline with knots κ (linear beyond the end knots); ``f''`` is piecewise linear between knots
    and zero outside, so ``∫ f''²`` is computed exactly from its values at the knots.
    """
    x = (x - x.min()) / np.ptp(x)
    knots = np.unique(np.quantile(x, np.linspace(0.0, 1.0, n_knots)))
    if knots.size <= 2:
        basis, pen = np.column_stack([np.ones_like(x), x]), np.zeros((2, 2))
    else:
        q, _ = np.linalg.qr(np.column_stack([np.ones_like(knots), knots]), mode="complete")
        Z = q[:, 2:]  # null space of the constraints
        basis = np.column_stack([np.ones_like(x), x, np.abs(x[:, None] - knots[None, :]) ** 3 @ Z])
        f2 = 6.0 * np.abs(knots[:, None] - knots[None, :]) @ Z  # f'' at the knots
        h = np.diff(knots)[:, None, None]
        u0, u1 = f2[:-1, :, None], f2[1:, :, None]
        v0, v1 = f2[:-1, None, :], f2[1:, None, :]
        s = np.sum(h / 6.0 * (2 * u0 * v0 + u0 * v1 + u1 * v0 + 2 * u1 * v1), axis=0)
        pen = np.zeros((basis.shape[1],) * 2)
        pen[2:, 2:] = (s + s.T) / 2.0
    q, r = np.linalg.qr(basis)
    r_inv = np.linalg.inv(r)
    return q, r_inv.T @ pen @ r_inv


def _build_gam_design(theta: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Tensor product of spline margins; one penalty per margin (S_j on its axis, I elsewhere)."""
    n, k = theta.shape
    n_knots = GAM_KNOTS[k]
    while n_knots > 3 and n_knots**k > n / 4:
        n_knots -= 1
    margins = [_build_spline_margin(theta[:, j], n_knots) for j in range(k)]
    X = np.ones((n, 1))
    for basis, _ in margins:
        X = (X[:, :, None] * basis[:, None, :]).reshape(n, -1)
    sizes = [b.shape[1] for b, _ in margins]
    penalties = []
    for j, (_, pen) in enumerate(margins):
        S = np.ones((1, 1))
        for i, size in enumerate(sizes):
            S = np.kron(S, pen if i == j else np.eye(size))
        penalties.append(S)
    scale = np.linalg.norm(X.T @ X)
    return X, [S * (scale / np.linalg.norm(S)) for S in penalties if np.linalg.norm(S) > 0]


def _fit_gam(theta: np.ndarray, Y: np.ndarray) -> list[_Fit]:
    k = theta.shape[1]
    if k not in GAM_KNOTS:
        raise UsageError(f"method='gam' handles 1 to {max(GAM_KNOTS)} parameters; got {k} — use method='gp' for more")
    X, penalties = _build_gam_design(theta)
    if X.shape[1] > theta.shape[0] / 2:
        raise UsageError(f"method='gam' with {k} parameters needs at least {2 * X.shape[1]} draws; got {theta.shape[0]}")
    return [_fit_penalized(X, Y[:, s], penalties) for s in range(Y.shape[1])]


# -------------------------------------------------------------------------------------- GP
def _gp_neg_log_marginal(log_hyper, sq_dist, r):
    """Negative log marginal likelihood of a zero-mean SE-ARD GP and its gradient.

    ``log_hyper = (log ℓ_1..ℓ_k, log σ_f², log σ_n²)``;
    ``∂/∂θ = −½ tr((αα' − K⁻¹) ∂K/∂θ)`` with ``α = K⁻¹r`` (Rasmussen & Williams 2006, eq. 5.9).
    """
    from scipy.linalg import lapack

    k = sq_dist.shape[0]
    m = r.size
    inv_ell2 = np.exp(-2.0 * log_hyper[:k])
    kf = np.exp(log_hyper[k] - 0.5 * np.tensordot(inv_ell2, sq_dist, axes=1))
    noise = np.exp(log_hyper[k + 1])
    K = kf + (noise + 1e-8) * np.eye(m)
    chol, info = lapack.dpotrf(K, lower=1, clean=1)
    if info != 0:
        return 1e25, np.zeros_like(log_hyper)  # not positive definite: the optimiser backs off
    alpha, _ = lapack.dpotrs(chol, r, lower=1)
    k_inv, _ = lapack.dpotri(chol, lower=1)
    k_inv = np.tril(k_inv) + np.tril(k_inv, -1).T
    nll = 0.5 * r @ alpha + np.sum(np.log(np.diag(chol))) + 0.5 * m * np.log(2 * np.pi)
    WK = (np.outer(alpha, alpha) - k_inv) * kf
    grad = np.empty_like(log_hyper)
    grad[:k] = -0.5 * inv_ell2 * np.tensordot(sq_dist, WK, axes=([1, 2], [0, 1]))
    grad[k] = -0.5 * WK.sum()
    grad[k + 1] = -0.5 * noise * (alpha @ alpha - np.trace(k_inv))
    return nll, grad


def _fit_gp_lengthscales(sq_dist: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Maximum marginal likelihood ``(log ℓ_1..ℓ_k, log σ_f², log σ_n²)`` on the subset.

    Two stages: every 4th subset point (1/64 of the cost per step) finds the basin, the whole
    subset refines it (L-BFGS-B with the analytic gradient, at most 80 and 25 evaluations).
    Inputs are standardised and ``target`` has sd 1, so the bounds are in those units. Only the
    lengthscales are kept: amplitude and noise are re-estimated on all draws, so a noise floor
    of 1e-4 (which keeps ``K`` well conditioned when the NB is a noiseless function) costs
    nothing in the final fit.
    """
    from scipy.optimize import minimize

    k = sq_dist.shape[0]
    bounds = [(np.log(0.05), np.log(100.0))] * k + [(np.log(1e-4), np.log(1e4)), (np.log(1e-4), np.log(10.0))]
    x0 = np.r_[np.zeros(k), 0.0, np.log(0.1)]
    if target.size >= 400:
        coarse = slice(None, None, 4)
        x0 = minimize(
            _gp_neg_log_marginal,
            x0,
            args=(sq_dist[:, coarse, coarse], target[coarse]),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxfun": 80},
        ).x
    return minimize(
        _gp_neg_log_marginal, x0, args=(sq_dist, target), jac=True, method="L-BFGS-B", bounds=bounds, options={"maxfun": 25}
    ).x


def _fit_gp_amplitude_noise(H: np.ndarray, phi: np.ndarray, y: np.ndarray, start: np.ndarray) -> float:
    """log(σ_n²/σ_f²) maximising the subset-of-regressors likelihood on **all** draws.

    With the linear mean projected out (``P`` onto span(H)⊥, ``n' = n − q`` dimensions) and
    ``PΦ = U D^{1/2} V'``, ``c = U'Py``, the restricted log likelihood of
    ``Py ~ N(0, a PΦΦ'P + s I)`` is, up to a constant,
    ``−½[(n' − r) log s + Σ_j log(a d_j + s) + (‖Py‖² − ‖c‖²)/s + Σ_j c_j²/(a d_j + s)]``:
    ``O(r)`` per evaluation after one eigendecomposition. The subset alone tends to accept
    noise-sized wiggles; all draws refute them.
    """
    from scipy.optimize import minimize

    q_h, _ = np.linalg.qr(H)
    phi_p = phi - q_h @ (q_h.T @ phi)
    y_p = y - q_h @ (q_h.T @ y)
    d, v = np.linalg.eigh(phi_p.T @ phi_p)
    keep = d > 1e-10 * d[-1]
    d, v = d[keep], v[:, keep]
    c2 = ((v.T @ (phi_p.T @ y_p)) ** 2) / d
    rest = max(float(y_p @ y_p) - float(c2.sum()), 0.0)
    dof = H.shape[0] - H.shape[1] - d.size

    def neg_log_lik(x):
        a, s = np.exp(x)
        t = a * d + s
        f = 0.5 * (dof * np.log(s) + np.sum(np.log(t)) + rest / s + np.sum(c2 / t))
        grad_a = 0.5 * a * (np.sum(d / t) - np.sum(c2 * d / t**2))
        grad_s = 0.5 * s * (dof / s + np.sum(1.0 / t) - rest / s**2 - np.sum(c2 / t**2))
        return f, np.array([grad_a, grad_s])

    bounds = [(np.log(1e-8), np.log(1e4)), (np.log(1e-10), np.log(10.0))]
    x0 = np.clip(start, [b[0] for b in bounds], [b[1] for b in bounds])
    log_a, log_s = minimize(neg_log_lik, x0, jac=True, method="L-BFGS-B", bounds=bounds).x
    return float(log_s - log_a)


def _fit_gp(theta: np.ndarray, Y: np.ndarray) -> list[_Fit]:
    from scipy.linalg import solve_triangular

    n, k = theta.shape
    z = (theta - theta.mean(axis=0)) / theta.std(axis=0)
    H = np.column_stack([np.ones(n), z])
    m = min(n, GP_SUBSET)
    subset = np.unique(np.linspace(0, n - 1, m).round().astype(int))
    zs = z[subset]
    sq_dist = (zs.T[:, :, None] - zs.T[:, None, :]) ** 2  # (k, m, m)
    fits = []
    for s in range(Y.shape[1]):
        y = Y[:, s]
        shift, scale = float(y.mean()), float(y.std()) or 1.0
        ys = (y - shift) / scale
        resid = ys - H @ np.linalg.lstsq(H, ys, rcond=None)[0]
        r_scale = float(resid[subset].std())
        if r_scale < 1e-9:  # net benefit linear in θ: the linear mean is the whole fit
            X, penalties, log_lambda = H, [], []
        else:
            hyper = _fit_gp_lengthscales(sq_dist, resid[subset] / r_scale)
            ell2 = np.exp(2.0 * hyper[:k])
            # Nyström basis Φ = K_nm L⁻ᵀ with K_mm = LL' (unit amplitude): ΦΦ' ≈ K_nn, f = Φw
            inducing = np.unique(np.linspace(0, subset.size - 1, min(subset.size, GP_INDUCING)).round().astype(int))
            kmm = np.exp(-0.5 * np.tensordot(1.0 / ell2, sq_dist[:, inducing][:, :, inducing], axes=1))
            chol = np.linalg.cholesky(kmm + 1e-6 * np.eye(inducing.size))
            zi = zs[inducing]
            d2 = (z**2 / ell2).sum(axis=1)[:, None] + (zi**2 / ell2).sum(axis=1)[None, :] - 2.0 * (z / ell2) @ zi.T
            phi = solve_triangular(chol, np.exp(-0.5 * np.maximum(d2, 0.0)).T, lower=True).T
            start = hyper[k:] + 2.0 * np.log(r_scale)  # (log σ_f², log σ_n²) on the scale of ys
            X = np.column_stack([H, phi])
            penalties = [np.diag(np.r_[np.zeros(k + 1), np.ones(phi.shape[1])])]
            log_lambda = [_fit_gp_amplitude_noise(H, phi, ys, start)]
        fit = _fit_penalized(X, ys, penalties, log_lambda=log_lambda, rescale=False)
        fits.append(_Fit(fit.X, fit.beta, fit.cov_root, fit.sigma2, shift + scale * fit.shift, scale * fit.scale))
    return fits


# ------------------------------------------------------------------------------------ EVPPI
def _evppi_from_fitted(g: np.ndarray) -> np.ndarray:
    """``mean_i max(0, max_s g_is) − max(0, max_s mean_i g_is)`` over axis 0 (draw) and 1 (strategy)."""
    gain = np.maximum(g.max(axis=1), 0.0).mean(axis=0)
    # ≥ 0 by Jensen's inequality; the clip only removes rounding (−2e-16) where it is exactly 0
    return np.maximum(gain - np.maximum(g.mean(axis=0).max(axis=0), 0.0), 0.0)


def compute_evppi(
    nb, params, *, method: str = "gam", rng: np.random.Generator | None = None, n_boot: int | None = None
) -> EVPPIResult:
    """Per-person EVPPI of a parameter subset by nonparametric regression.

    Parameters
    ----------
    nb : array-like, shape (draw, strategy)
        Net benefit of each PSA draw and strategy at one threshold (e.g.
        ``compute_net_benefit(cost, effect, wtp)[:, :, j]``), at least 30 draws.
    params : array-like, shape (draw, k) or (draw,); or mapping of str to array, shape (draw,)
        Sampled values of the parameters of interest in the same draws (e.g.
        ``{name: result.parameters[name]}``). Every column must vary.
    method : {"gam", "gp"}, default "gam"
        ``gam`` for 1–4 parameters (best for 1–2), ``gp`` for any number (best for ≥ 3).
    rng : numpy.random.Generator, optional
        Used only for the standard error; without it ``se`` is ``nan``. The estimate itself is
        deterministic.
    n_boot : int, optional
        Number of posterior samples of the regression for the SE (default 500); needs ``rng``.

    Returns
    -------
    EVPPIResult

    Raises
    ------
    UsageError
        Bad shapes, a parameter fixed in every draw, too few draws, an unknown method, more
        than 4 parameters with ``gam``, or ``n_boot`` without ``rng``.
    AnalysisError
        Non-finite net benefit or parameter values (the message names the draw).

    Notes
    -----
    With ``Δ_s = NB_s − NB_0`` (``S − 1`` regressions instead of ``S``) and ``ĝ_s(θ)`` the fitted
    regression of ``Δ_s`` on θ,

    ``EVPPI(θ) = (1/n) Σ_i max(0, max_s ĝ_s(θ_i)) − max(0, max_s (1/n) Σ_i ĝ_s(θ_i))``

    which equals Strong et al.'s ``E_θ[max_s g_s] − max_s E_θ[g_s]`` because the baseline
    cancels. It is ≥ 0 by construction. Like all regression estimators it is biased upwards by
    the fitting noise (small against the EVPI with thousands of draws) and is not guaranteed to
    stay below the EVPI of the same draws, although it does when the fit is good.

    *gam*: each parameter is rescaled to [0, 1] and given a natural cubic regression spline with
    ``K`` knots at quantiles (``K`` = 20, 8, 5, 4 for 1–4 parameters, fewer if draws are few), the
    basis orthonormalised on the draws; ``k`` parameters use the tensor product of the margins
    (``K**k`` coefficients) with penalty ``Σ_j λ_j S_j`` (``S_j`` = ∫f''² along parameter ``j``),
    as mgcv's ``te()``. The ``λ_j`` minimise GCV. Interactions between parameters are captured.

    *gp*: on standardised parameters, ``Δ_s = h(θ)'β + f(θ) + ε`` with ``h = (1, θ)``, flat prior
    on β, ``f ~ GP(0, σ_f² exp(−½ Σ_j (θ_j − θ'_j)²/ℓ_j²))`` and ``ε ~ N(0, σ_n²)`` (Strong et al.
    2014, §GP). The lengthscales maximise the exact marginal likelihood of the residuals of the
    linear fit on ``m = min(n, 1000)`` evenly spaced draws (L-BFGS-B with analytic gradient, from
    a quarter of those draws first). ``f`` is then represented on **all** ``n`` draws by a
    Nyström basis on 500 of the ``m`` draws (subset of regressors; Rasmussen & Williams 2006,
    §8.3.1), ``σ_f²`` and ``σ_n²`` are re-estimated by the same model's likelihood on all
    draws, and the posterior mean is one penalised least-squares solve: ``O(n · 500²)`` instead
    of an ``n³`` solve. The subsets are the documented approximation; the all-draws
    re-estimation stops a subset's noise-sized wiggles from reaching the EVPPI.

    *SE* (Strong et al. 2014, "the standard error"): coefficients are resampled from their
    posterior ``N(β̂, σ̂² A⁻¹)``, ``A = X'X + Σ λ_j S_j``, ``σ̂² = RSS/(n − edf)``, the EVPPI is
    recomputed from each set of fitted values, and ``se`` is the sd of those replicates. It
    reflects regression uncertainty with the draws held fixed.

    References
    ----------
    Strong M, Oakley JE, Brennan A. *Med Decis Making* 2014;34:311–326.
    Wood SN. *Generalized Additive Models*, 2nd ed., 2017.
    Rasmussen CE, Williams CKI. *Gaussian Processes for Machine Learning*, 2006.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> theta = rng.normal(size=2000)
    >>> nb = np.column_stack([np.zeros(2000), 100.0 * theta + rng.normal(size=2000)])
    >>> r = compute_evppi(nb, theta)  # E[max(0, 100 θ)] = 100 / √(2π) ≈ 39.9
    >>> 37 < r.evppi < 43
    True
    """
    if method not in METHODS:
        raise UsageError(f"method must be one of {METHODS}; got {method!r}")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise UsageError(f"rng must be a numpy.random.Generator (numpy.random.default_rng(seed)); got {type(rng).__name__}")
    if n_boot is not None:
        if rng is None:
            raise UsageError("n_boot needs rng: pass rng=numpy.random.default_rng(seed) for a standard error")
        if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
            raise UsageError(f"n_boot must be a whole number ≥ 2; got {n_boot!r}")
    nb = _as_nb(nb)
    theta, names = _as_params(params, nb.shape[0])
    n_draws, n_strategies = nb.shape
    if n_strategies == 1:
        return EVPPIResult(0.0, 0.0, method, names, n_draws)
    inc = nb[:, 1:] - nb[:, :1]
    fits = _fit_gam(theta, inc) if method == "gam" else _fit_gp(theta, inc)
    g = np.column_stack([f.fitted() for f in fits])
    evppi = float(_evppi_from_fitted(g))
    se = float("nan")
    if rng is not None:
        total = DEFAULT_N_BOOT if n_boot is None else int(n_boot)
        reps = []
        for done in range(0, total, 100):
            size = min(100, total - done)
            samples = np.stack([f.sample_fitted(rng, size) for f in fits], axis=1)  # (draw, strategy, size)
            reps.append(_evppi_from_fitted(samples))
        se = float(np.std(np.concatenate(reps), ddof=1))
    return EVPPIResult(evppi, se, method, names, n_draws)
