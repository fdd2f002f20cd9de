"""Calibrate the spine model (``scenarios/spine/base_case.toml``) to SPINE CARE Table 2.

Usage::

    python tools/calibrate_spine.py            # calibrate, compare with the file, print the fit
    python tools/calibrate_spine.py --write    # ... and write the calibrated numbers into the file

Without ``--write`` the script exits with status 1 when the file's numbers differ from a fresh
calibration (so it doubles as a check that the file is up to date). It is deterministic: closed
forms and one-dimensional root finding (``scipy.optimize.brentq``) on the model run through the
public API (``load_scenario``, ``run_cohort``); nothing is random and nothing runs at import.

What is calibrated, in order (each step uses the results of the steps before it)
-------------------------------------------------------------------------------
1. ``odi_<band>``: each ODI band's representative ODI = its conditional mean under the trial's ODI
   distributions. Every arm x time cell of Table 2 (mean, SD at 0, 3, 12 months) is taken as a
   gamma distribution (an assumption: ODI is bounded below and right-skewed); the nine cells are
   pooled with weights n per arm. ODI takes even integer values, so the continuous band edges are
   21, 41 and 61 (midway between 20 and 22, ...). The PSA range (uniform) is the range of the
   nine cells' own conditional means.
2. ``initial_distribution``: the band shares of a gamma distribution with the pooled baseline SD
   whose mean makes the *banded* mean ODI (shares x representative ODI) equal to 30.0, the
   common baseline of all arms. Dirichlet counts = shares x 2971 randomised patients.
3. ``rate_improve_treatment`` / ``rate_improve_followup``: usual care's hazards of improving one
   band in cycles 1-3 and from cycle 4, so that usual care's mean ODI changes from the common
   baseline by the usual-care arm's within-arm change (-9.4 at 3 months, -9.2 at 12 months).
4. ``hr_improve_<arm>_treatment`` / ``_followup``: hazard ratios so that the model's ODI
   difference vs usual care equals the trial's adjusted difference at 3 and at 12 months (the
   follow-up ratio given the treatment-phase ratio).
5. ``use_injections``: usual care's injection volume, so that usual care receives 0.10 epidural
   steroid injections per patient over the year (evidence T3.20), i.e. ``0.10 / ESI share`` spine
   injection procedures of any kind.
6. ``use_*`` (all other volumes): the prior profile ``PRIOR_USE`` (an assumption) times one common
   level factor so that usual care's 12-month spending equals ``SPENDING_LEVEL_UC`` (below).
7. ``rr_use_<arm>``: utilisation rate ratios so that arm / usual-care spending equals the trial's
   adjusted spending ratio (0.93 ICE, 1.40 IPT).

Spending targets. The trial's unadjusted means (UC 1587, ICE 1448, IPT 2528) and its adjusted
ratios (ICE/UC 0.93, IPT/UC 1.40) are not consistent at face value (2528 / 1587 = 1.59). The model
reproduces the adjusted ratios exactly and sets usual care's level by least squares on the log of
the three means: ``UC = exp(mean(log 1587, log(1448 / 0.93), log(2528 / 1.40)))``.

Uncertainty. Each calibrated hazard, hazard ratio and rate ratio gets a lognormal distribution
whose median is the calibrated value and whose ``sdlog`` comes from re-calibrating at the
target's 95% CI limits: ``sdlog = (log(x_hi) - log(x_lo)) / (2 * 1.96)``. For the usual-care
changes the CI is the mean change +/- 1.96 SD / sqrt(n) (clustering ignored). The follow-up ratios'
limits are computed with the treatment-phase ratio at its point value (their correlation is left to
the Bayesian layer, ``costspine fit``).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # calibrate with this checkout's costspine
DEFAULT_SCENARIO = ROOT / "scenarios" / "spine" / "base_case.toml"
Z95 = 1.959963984540054

# --- SPINE CARE (Choudhry et al. JAMA 2022;328:2334-44), Table 2; evidence ids in comments ------
N_ARM = {"usual_care": 992, "ice": 829, "ipt": 1150}  # T1.03-T1.05
N_TOTAL = 2971  # T1.02
ODI_TABLE2 = {  # arm: [(mean, sd) at baseline, 3 months, 12 months]        # T1.11-T1.16, T1.19-T1.21
    "usual_care": [(28.9, 17.4), (19.5, 16.2), (19.7, 17.8)],
    "ice": [(31.2, 16.9), (15.4, 13.0), (13.6, 13.0)],
    "ipt": [(29.3, 16.1), (15.4, 13.7), (13.0, 13.8)],
}
UC_CHANGE = {3: (-9.4, 18.3), 12: (-9.2, 18.9)}  # T1.16, T1.21 (mean, SD)
ODI_DIFFERENCE = {  # adjusted difference vs usual care: (estimate, low, high)  T1.17, T1.18, T1.22, T1.23
    ("ice", 3): (-5.8, -7.7, -3.9),
    ("ice", 12): (-7.5, -9.4, -5.7),
    ("ipt", 3): (-4.3, -5.9, -2.6),
    ("ipt", 12): (-6.7, -8.4, -5.0),
}
SPENDING_MEAN = {"usual_care": 1587.0, "ice": 1448.0, "ipt": 2528.0}  # T1.24-T1.26
SPENDING_RATIO = {"ice": (0.93, 0.87, 0.997), "ipt": (1.40, 1.35, 1.45)}  # T1.27, T1.28
# One price basis: the trial's spending is nominal 2017-2021 dollars (enrolment June 2017 - March
# 2020, 12 months' follow-up each, T1.01). It is expressed in the scenario's price year with the
# CPI-U medical care index (costspine/data/cpi_medical.csv, T10.CPI2018-T10.CPI2025) before
# calibration: the spending years are taken as 2018-2020 (most of the follow-up), averaged.
TRIAL_SPENDING_YEARS = (2018, 2019, 2020)
SPENDING_LEVEL_UC_NOMINAL = math.exp(
    np.mean(
        [
            math.log(SPENDING_MEAN["usual_care"]),
            math.log(SPENDING_MEAN["ice"] / SPENDING_RATIO["ice"][0]),
            math.log(SPENDING_MEAN["ipt"] / SPENDING_RATIO["ipt"][0]),
        ]
    )
)

# Care-seeking (episodes of care), calibrated in closed form to two US claims cohorts of people
# with a new episode of back pain: the share with back-pain care after the first month is 27% by
# 12 months (Kardouni 2016, T5.21: treated for chronic/recurrent LBP within a year of the incident
# encounter) and 33% by 24 months (Ritzwoller 2006, T5.20: 67% had one 30-day window of care).
CARE_AFTER_FIRST_MONTH = {1.0: 0.27, 2.0: 0.33}  # years since presentation: share
FIRST_MONTH = 1.0 / 12.0
CARE_SDLOG = 0.3  # assumption: claims definitions of an episode differ from the model's

BASELINE_ODI = 30.0  # common baseline: midpoint of the arm baselines 28.9-31.2 (pooled mean 29.7)
BAND_EDGES = (0.0, 21.0, 41.0, 61.0, 100.0)
BANDS = ("minimal", "moderate", "severe", "crippled")
ESI_SHARE_TARGET = 0.10  # ESIs per patient-year in usual care (T3.20: 10% per year)
ESI_COMPONENTS = ("mix_esi_tf_lumbar", "mix_esi_il_lumbar", "mix_esi_il_cervical")

# Prior profile of usual care's utilisation (assumption; trial utilisation not retrieved, T1.41):
# per patient per 4-week cycle, moderate band, follow-up phase. Only the ratios between these
# numbers matter: step 6 multiplies them all by one level factor.
PRIOR_USE = {
    "use_pc_visits": 0.22,  # ~3 primary-care visits a year in the moderate band
    "use_mri": 0.008,  # with the treatment-phase factor 3: ~12% of patients imaged early
    "use_xray": 0.010,
    "use_specialist_visits": 0.06,
    "use_pt_visits": 0.30,
    "use_opioid_fills": 0.08,
    "use_surgery_severe": 0.004,  # ~5% a year while in the severe band
    "use_surgery_crippled": 0.010,  # ~12% a year while in the crippled band
}
GAMMA_SD_FRACTION = 0.5  # the volumes' gamma SD as a fraction of the mean (assumption)

TREATMENT_POINT, FOLLOWUP_POINT = 3, 13  # trace points of the 3- and 12-month visits (weeks 12, 52)


# --------------------------------------------------------------------------------------------
# Closed-form steps


def gamma_band_moments(mean: float, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Band probabilities and partial first moments of a gamma(mean, sd) truncated to [0, 100]."""
    from scipy import stats

    shape, scale = (mean / sd) ** 2, sd * sd / mean
    edges = np.asarray(BAND_EDGES)
    total = stats.gamma(shape, scale=scale).cdf(100.0)
    prob = np.diff(stats.gamma(shape, scale=scale).cdf(edges)) / total
    moment = shape * scale * np.diff(stats.gamma(shape + 1, scale=scale).cdf(edges)) / total
    return prob, moment


def calibrate_band_odi() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 1: representative ODI per band (pooled conditional means) and the range of the
    per-cell conditional means (the PSA range: one fixed value per band cannot follow the
    within-band distribution as it shifts between baseline and 12 months)."""
    mass, moment, cell_means = np.zeros(4), np.zeros(4), []
    for arm, cells in ODI_TABLE2.items():
        for mean, sd in cells:
            p, m = gamma_band_moments(mean, sd)
            mass += N_ARM[arm] * p
            moment += N_ARM[arm] * m
            cell_means.append(m / p)
    cell_means = np.array(cell_means)
    return moment / mass, cell_means.min(axis=0), cell_means.max(axis=0)


def pooled_baseline_sd() -> float:
    return math.sqrt(sum(N_ARM[a] * ODI_TABLE2[a][0][1] ** 2 for a in N_ARM) / sum(N_ARM.values()))


def calibrate_initial(band_odi: np.ndarray) -> np.ndarray:
    """Step 2: starting band shares whose banded mean ODI is BASELINE_ODI."""
    from scipy.optimize import brentq

    sd = pooled_baseline_sd()
    mu = brentq(lambda m: gamma_band_moments(m, sd)[0] @ band_odi - BASELINE_ODI, 15.0, 60.0, xtol=1e-10)
    return gamma_band_moments(mu, sd)[0]


def cpi_factor(price_year: int) -> float:
    """Trial spending (nominal, TRIAL_SPENDING_YEARS) -> ``price_year`` dollars, CPI-U medical care."""
    from costspine.catalogue.tables import load_cpi

    cpi = load_cpi()
    base = np.mean([cpi.row(year).index for year in TRIAL_SPENDING_YEARS])
    return cpi.row(price_year).index / base


def care_share(resolution: float, recurrence: float, years: float) -> float:
    """Share of a cohort that starts in active care who are in active care at ``years``."""
    exit_rate = resolution + recurrence
    long_run = recurrence / exit_rate
    return long_run + (1.0 - long_run) * math.exp(-exit_rate * years)


def care_after_first_month(resolution: float, recurrence: float, years: float) -> float:
    """Share with any care after the first month up to ``years`` (two-state care process)."""
    not_active = 1.0 - care_share(resolution, recurrence, FIRST_MONTH)
    return 1.0 - not_active * math.exp(-recurrence * (years - FIRST_MONTH))


def calibrate_care() -> dict:
    """Care-seeking hazards (closed form): the ratio of the 24- and 12-month shares without care
    gives the recurrence hazard; the 12-month share then fixes the share still in care at one
    month, hence the resolution hazard."""
    (t1, p1), (t2, p2) = sorted(CARE_AFTER_FIRST_MONTH.items())
    recurrence = math.log((1 - p1) / (1 - p2)) / (t2 - t1)
    still_active = 1 - (1 - p1) / math.exp(-recurrence * (t1 - FIRST_MONTH))
    resolution = _solve(lambda k: care_share(k, recurrence, FIRST_MONTH) - still_active, 1e-3, 1e3)
    return {"care_resolution_rate": (resolution, CARE_SDLOG), "care_recurrence_rate": (recurrence, CARE_SDLOG)}


# --------------------------------------------------------------------------------------------
# Model runs


@dataclass
class Model:
    """The scenario and a mutable set of base-case parameter values."""

    scenario: object
    params: dict

    @classmethod
    def load(cls, path: Path) -> Model:
        from costspine.model.inputs import base_case_parameters
        from costspine.scenario.load import load_scenario

        scenario = load_scenario(path)
        return cls(scenario, dict(base_case_parameters(scenario)))

    def set(self, **values) -> None:
        for name, value in values.items():
            if name not in self.params:
                raise KeyError(f"{name!r} is not a non-derived parameter of {self.scenario.path}")
            self.params[name] = np.array([float(value)])

    def run(self, **overrides):
        from costspine.simulate.cohort import run_cohort

        params = dict(self.params)
        params.update({k: np.array([float(v)]) for k, v in overrides.items()})
        return run_cohort(self.scenario, params)

    def odi(self, result, strategy: str, point: int) -> float:
        k = self.scenario.strategies.index(strategy)
        return float(result.indicators[0, k, point, result.indicator_names.index("odi")])

    def cost(self, result, strategy: str) -> float:
        return float(result.costs_undiscounted[0, self.scenario.strategies.index(strategy)].sum())

    def category_cost(self, result, strategy: str, category: str) -> float:
        return float(result.costs_undiscounted[0, self.scenario.strategies.index(strategy), result.categories.index(category)])

    def value(self, name: str) -> float:
        return float(self.params[name][0])

    def derived(self, name: str) -> float:
        """Value of a derived parameter (evaluated in the scenario's dependency order)."""
        space = {k: np.asarray(v, dtype=float) for k, v in self.params.items()}
        for spec in self.scenario.parameters:
            if spec.family == "derived":
                space[spec.name] = np.asarray(spec.expression.evaluate(space, tables=self.scenario.tables), dtype=float)
        return float(np.ravel(space[name])[0])


def _solve(fn, lo: float, hi: float) -> float:
    from scipy.optimize import brentq

    return brentq(fn, lo, hi, xtol=1e-12, rtol=1e-12)


def calibrate_uc_rates(model: Model, baseline: float) -> dict:
    """Step 3: usual care's improvement hazards (and their CI-based sdlog)."""
    out = {}
    n = N_ARM["usual_care"]
    for name, point, months in (("rate_improve_treatment", TREATMENT_POINT, 3), ("rate_improve_followup", FOLLOWUP_POINT, 12)):
        change, sd = UC_CHANGE[months]
        half = Z95 * sd / math.sqrt(n)

        def solve(target_change, name=name, point=point):
            return _solve(
                lambda r: model.odi(model.run(**{name: r}), "usual_care", point) - (baseline + target_change), 1e-3, 100.0
            )

        value = solve(change)
        lo, hi = solve(change - half), solve(change + half)  # a bigger fall needs a faster hazard
        model.set(**{name: value})
        out[name] = (value, (math.log(lo) - math.log(hi)) / (2 * Z95))
    return out


def calibrate_arm_hazard_ratios(model: Model) -> dict:
    """Step 4: improvement hazard ratios of ICE and IPT by phase."""
    out = {}
    for arm in ("ice", "ipt"):
        for phase, point, months in (("treatment", TREATMENT_POINT, 3), ("followup", FOLLOWUP_POINT, 12)):
            name = f"hr_improve_{arm}_{phase}"
            estimate, low, high = ODI_DIFFERENCE[arm, months]

            def difference(hr, name=name, point=point, arm=arm):
                result = model.run(**{name: hr})
                return model.odi(result, arm, point) - model.odi(result, "usual_care", point)

            def solve(target):
                return _solve(lambda hr: difference(hr) - target, 0.05, 50.0)

            value = solve(estimate)
            hr_low, hr_high = solve(high), solve(low)  # a larger fall in ODI needs a larger ratio
            model.set(**{name: value})
            out[name] = (value, (math.log(hr_high) - math.log(hr_low)) / (2 * Z95))
    return out


def calibrate_costs(model: Model, spending_level: float) -> dict:
    """Steps 5-7: injection volume, utilisation level, utilisation rate ratios (the arms' spending
    ratios include ICE/IPT delivery: the base case's reading of the trial, docs/spine-model.md).

    ``spending_level`` is usual care's 12-month spending target in the scenario's price year."""
    out = {}
    # 5. injections: cost is linear in use_injections; volume = cost / price at current fees.
    result = model.run()
    price = model.derived("price_injection")
    esi_share = sum(model.value(c) for c in ESI_COMPONENTS)
    target_volume = ESI_SHARE_TARGET / esi_share
    volume = model.category_cost(result, "usual_care", "injections") / price
    use_injections = model.value("use_injections") * target_volume / volume
    model.set(use_injections=use_injections)
    out["use_injections"] = (use_injections, None)

    # 6. one level factor on the prior profile: usual care's cost is linear in it.
    model.set(**PRIOR_USE)
    at_prior = model.cost(model.run(), "usual_care")
    zero = model.cost(model.run(**{k: 0.0 for k in PRIOR_USE}), "usual_care")
    level = (spending_level - zero) / (at_prior - zero)
    for name, prior in PRIOR_USE.items():
        model.set(**{name: prior * level})
        out[name] = (prior * level, None)
    out["_level"] = (level, None)

    # 7. utilisation rate ratios of the arms.
    out.update(_calibrate_use_ratios(model, lambda result, arm: model.cost(result, arm)))
    return out


def _calibrate_use_ratios(model, spending) -> dict:
    """Each arm's ``rr_use_<arm>`` solved so that ``spending(result, arm)`` / usual care's cost is the
    trial's spending ratio, and set in ``model``; ``{name: (value, sdlog)}``, the sdlog from the
    values solved at the ratio's 95% CI bounds."""
    out = {}
    for arm in ("ice", "ipt"):
        name = f"rr_use_{arm}"
        estimate, low, high = SPENDING_RATIO[arm]

        def solve(target, name=name, arm=arm):
            def gap(rr):
                result = model.run(**{name: rr})
                return spending(result, arm) / model.cost(result, "usual_care") - target

            return _solve(gap, 1e-3, 10.0)

        value = solve(estimate)
        rr_low, rr_high = solve(low), solve(high)
        model.set(**{name: value})
        out[name] = (value, (math.log(rr_high) - math.log(rr_low)) / (2 * Z95))
    return out


def calibrate(path: Path) -> tuple[dict, dict]:
    """Run every step; return ``{parameter: fields to write}`` and diagnostics."""
    band_odi, band_low, band_high = calibrate_band_odi()
    shares = calibrate_initial(band_odi)
    model = Model.load(path)
    model.set(**{f"odi_{b}": v for b, v in zip(BANDS, band_odi)})
    model.set(**{f"init_{b}": s for b, s in zip(BANDS, shares)})
    baseline = float(shares @ band_odi)
    # Deterministic = centre: each band's uniform is symmetric about the pooled value, wide enough
    # to cover every cell's own conditional mean (and inside the band).
    fields: dict[str, dict] = {}
    for b, v, lo, hi, (edge_lo, edge_hi) in zip(BANDS, band_odi, band_low, band_high, zip(BAND_EDGES[:-1], BAND_EDGES[1:])):
        half = min(max(v - lo, hi - v), v - edge_lo, edge_hi - v)
        fields[f"odi_{b}"] = {"value": _num(v), "min": _num(v - half), "max": _num(v + half)}
    fields["initial_distribution"] = {
        "alpha": "{ " + ", ".join(f"init_{b} = {_num(s * N_TOTAL)}" for b, s in zip(BANDS, shares)) + " }"
    }
    # The Dirichlet's base case is the normalised counts; run with the rounded counts from here on.
    counts = np.array([float(_num(s * N_TOTAL)) for s in shares])
    model.set(**{f"init_{b}": c / counts.sum() for b, c in zip(BANDS, counts)})

    care = calibrate_care()
    model.set(**{name: float(_num(value)) for name, (value, _) in care.items()})
    for name, (value, sdlog) in {**care, **calibrate_uc_rates(model, baseline), **calibrate_arm_hazard_ratios(model)}.items():
        fields[name] = _lognormal(value, sdlog)
    factor = cpi_factor(model.scenario.settings.price_year)
    costs = calibrate_costs(model, SPENDING_LEVEL_UC_NOMINAL * factor)
    level = costs.pop("_level")[0]
    for name, (value, sdlog) in costs.items():
        if sdlog is None:
            fields[name] = {"value": _num(value), "mean": _num(value), "sd": _num(value * GAMMA_SD_FRACTION)}
        else:
            fields[name] = _lognormal(value, sdlog)
    info = {
        "level_factor": level,
        "baseline_odi": baseline,
        "pooled_baseline_sd": pooled_baseline_sd(),
        "cpi_factor": factor,
        "spending_level": SPENDING_LEVEL_UC_NOMINAL * factor,
    }
    return fields, info


def calibrate_delivery_excluded(base: Path, variant: Path) -> dict:
    """The other reading of the trial's spending (ICE/IPT delivery not in it): with every other
    number the base case's, the arms' utilisation rate ratios make *downstream* spending (all
    categories but delivery) match the trial's ratios; delivery is then paid on top."""
    model = Model.load(variant)
    level = cpi_factor(model.scenario.settings.price_year) * SPENDING_LEVEL_UC_NOMINAL
    ratios = _calibrate_use_ratios(
        model, lambda result, arm: model.cost(result, arm) - model.category_cost(result, arm, "intervention")
    )
    out = {name: _lognormal(value, sdlog) for name, (value, sdlog) in ratios.items()}
    assert abs(model.cost(model.run(), "usual_care") / level - 1) < 1e-6, "the variant must share the base case's volumes"
    return out


def _num(x: float) -> str:
    return f"{x:.6g}"


def _lognormal(value: float, sdlog: float) -> dict:
    v = _num(value)
    return {"value": v, "meanlog": f'"log({v})"', "sdlog": _num(sdlog)}


# --------------------------------------------------------------------------------------------
# Reading and writing the scenario file


def _block(text: str, name: str) -> tuple[int, int]:
    header = re.search(rf"^\[parameters\.{re.escape(name)}\]\s*$", text, flags=re.M)
    if header is None:
        raise KeyError(f"no [parameters.{name}] table in the scenario")
    nxt = re.search(r"^\[", text[header.end() :], flags=re.M)
    return header.end(), header.end() + (nxt.start() if nxt else len(text) - header.end())


def read_fields(text: str, name: str, keys) -> dict:
    start, end = _block(text, name)
    out = {}
    for key in keys:
        m = re.search(rf"^{key} = (.*)$", text[start:end], flags=re.M)
        out[key] = m.group(1).strip() if m else None
    return out


def write_fields(text: str, name: str, fields: dict) -> str:
    start, end = _block(text, name)
    block = text[start:end]
    for key, value in fields.items():
        block, count = re.subn(rf"^{key} = .*$", f"{key} = {value}", block, count=1, flags=re.M)
        if count != 1:
            raise KeyError(f"[parameters.{name}] has no '{key} = ...' line to update")
    return text[:start] + block + text[end:]


def _same(a: str | None, b: str) -> bool:
    if a is None:
        return False
    nums_a, nums_b = re.findall(r"-?[\d.]+(?:e-?\d+)?", a), re.findall(r"-?[\d.]+(?:e-?\d+)?", b)
    if len(nums_a) != len(nums_b):
        return False
    return all(math.isclose(float(x), float(y), rel_tol=2e-5, abs_tol=1e-9) for x, y in zip(nums_a, nums_b))


# --------------------------------------------------------------------------------------------
# Fit report


def fit_rows(path: Path) -> list[tuple]:
    """(target, trial value, tolerance text, model value, ok) for every calibration target.

    Spending targets are the trial's means in the scenario's price year (CPI-U medical care)."""
    model = Model.load(path)
    factor = cpi_factor(model.scenario.settings.price_year)
    downstream = "delivery_excluded" in model.scenario.name
    result = model.run()
    rows = []
    for arm, cells in ODI_TABLE2.items():
        for (mean, _), point, label in zip(cells, (0, TREATMENT_POINT, FOLLOWUP_POINT), ("baseline", "3 mo", "12 mo")):
            got = model.odi(result, arm, point)
            rows.append((f"ODI {label} {arm}", mean, "+/- 1.5", got, abs(got - mean) <= 1.5))
    for (arm, months), (est, low, high) in ODI_DIFFERENCE.items():
        point = TREATMENT_POINT if months == 3 else FOLLOWUP_POINT
        got = model.odi(result, arm, point) - model.odi(result, "usual_care", point)
        rows.append((f"ODI difference {months} mo {arm} - usual_care", est, f"95% CI {low} to {high}", got, low <= got <= high))
    year = model.scenario.settings.price_year
    for arm, mean in SPENDING_MEAN.items():
        got = model.cost(result, arm)
        if downstream and arm != "usual_care":
            got -= model.category_cost(result, arm, "intervention")
        rows.append(
            (f"12-month spending {arm} (USD {year})", mean * factor, "+/- 10%", got, abs(got / (mean * factor) - 1) <= 0.10)
        )
    for arm, (est, low, high) in SPENDING_RATIO.items():
        got = model.cost(result, arm)
        if downstream:
            got -= model.category_cost(result, arm, "intervention")
        got /= model.cost(result, "usual_care")
        rows.append((f"spending ratio {arm} / usual_care", est, f"95% CI {low}-{high}", got, low <= got <= high))
    return rows


def format_fit(rows) -> str:
    lines = ["| target | SPINE CARE | tolerance | model | ok |", "|---|---:|---|---:|---|"]
    for name, trial, tol, got, ok in rows:
        lines.append(f"| {name} | {trial:g} | {tol} | {got:.2f} | {'yes' if ok else 'NO'} |")
    return "\n".join(lines)


DELIVERY_EXCLUDED = ROOT / "scenarios" / "spine" / "delivery_excluded.toml"


def _stale(text: str, fields: dict) -> list[str]:
    out = []
    for name, values in fields.items():
        current = read_fields(text, name, values)
        out += [f"{name}.{k}: file {current[k]} -> calibrated {v}" for k, v in values.items() if not _same(current[k], v)]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--write", action="store_true", help="write the calibrated numbers into the scenario file(s)")
    args = parser.parse_args(argv)

    fields, info = calibrate(args.scenario)
    text = args.scenario.read_text(encoding="utf-8")
    stale = _stale(text, fields)
    print(
        f"utilisation level factor on PRIOR_USE: {info['level_factor']:.4f}; banded baseline ODI {info['baseline_odi']:.3f}; "
        f"pooled baseline SD {info['pooled_baseline_sd']:.3f}; CPI factor trial -> price year {info['cpi_factor']:.4f}; "
        f"usual-care spending level {info['spending_level']:.2f} USD"
    )
    if args.write:
        for name, values in fields.items():
            text = write_fields(text, name, values)
        args.scenario.write_text(text, encoding="utf-8")
        print(f"wrote {len(fields)} parameters into {args.scenario}")
    elif stale:
        print("the scenario file differs from a fresh calibration (run with --write):")
        print("\n".join(f"  {s}" for s in stale))
    rows = fit_rows(args.scenario)
    print(format_fit(rows))
    ok = all(r[-1] for r in rows)

    # The structural scenario with the other reading of the trial's spending (default file only).
    if args.scenario.resolve() == DEFAULT_SCENARIO.resolve() and DELIVERY_EXCLUDED.is_file():
        variant = calibrate_delivery_excluded(args.scenario, DELIVERY_EXCLUDED)
        vtext = DELIVERY_EXCLUDED.read_text(encoding="utf-8")
        vstale = _stale(vtext, variant)
        if args.write:
            for name, values in variant.items():
                vtext = write_fields(vtext, name, values)
            DELIVERY_EXCLUDED.write_text(vtext, encoding="utf-8")
            print(f"wrote {len(variant)} parameters into {DELIVERY_EXCLUDED}")
        elif vstale:
            print(f"{DELIVERY_EXCLUDED.name} differs from a fresh calibration (run with --write):")
            print("\n".join(f"  {s}" for s in vstale))
        stale += vstale
        vrows = fit_rows(DELIVERY_EXCLUDED)
        print(f"\n{DELIVERY_EXCLUDED.name} (spending excluding ICE/IPT delivery):")
        print(format_fit([r for r in vrows if "spending" in r[0]]))
        ok = ok and all(r[-1] for r in vrows)
    if not args.write and stale:
        return 1
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
