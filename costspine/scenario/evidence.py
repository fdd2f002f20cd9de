"""Evidence files: trial summary data that a model is calibrated to (the only reader of them).

An evidence file is TOML data naming the scenario it calibrates, which of its parameters are
calibrated (their priors are the scenario's distributions), the sampler settings, and a list of
targets — summary statistics with their uncertainty and source::

    [evidence]
    name = "spine_care_trial"
    title = "SPINE CARE trial arm-level summary data"
    source = "Choudhry NK et al. JAMA 2022;328(23):2334-2344, Table 2"
    scenario = "../spine/base_case.toml"
    calibrate = ["hr_improve_ice_treatment", "hr_improve_ipt_treatment"]

    [sampler]
    draws = 1000
    tune = 1000
    chains = 2
    target_accept = 0.9
    seed = 20260101

    [[targets]]
    name = "odi_3m_ice"
    kind = "indicator_mean"  # indicator_mean | indicator_difference | cost_mean | cost_ratio
    indicator = "odi"
    strategy = "ice"
    years = 0.23  # the trace point round(years / cycle_years)
    mean = 15.4
    sd = 13.0  # with n: standard error sd / sqrt(n); or give se, or ci = [lo, hi]
    n = 829
    source = "SPINE CARE Table 2"

``cost_mean`` is the undiscounted cost over the model horizon; ``indicator_change`` is the
strategy's indicator at ``years`` minus its value at the start; ``cost_ratio`` and
``indicator_difference`` compare ``strategy`` with ``comparator`` (a ratio's ``ci`` is taken on the
log scale). ``likelihood = false`` keeps a target for the posterior predictive check only (e.g.
when the same data already enter through another target).

An optional ``[likelihood]`` table makes the targets one multivariate normal observation whose
correlations follow from the trial's design (docs/calibration.md derives them)::

    [likelihood]
    arms = { usual_care = 992, ice = 829, ipt = 1150 }   # patients randomised per arm
    repeated_measures_correlation = 0.66   # same arm, same measure, two visits
    design_effect = 1.89                   # inflates the SE of targets marked clustered = true
    source = "..."

Without it the targets are independent (each its own normal), as before. A target marked
``clustered = true`` (a within-arm summary computed as SD / sqrt(n), which ignores that patients
of one clinic resemble each other) has its standard error multiplied by ``sqrt(design_effect)``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from costspine._files import bundled_path, resolve_path
from costspine.errors import Problem, ScenarioError
from costspine.problems import Collector
from costspine.scenario.files import read_toml_file

TARGET_KINDS = ("indicator_mean", "indicator_change", "indicator_difference", "cost_mean", "cost_ratio")
Z95 = 1.959963984540054
BUNDLED_EVIDENCE = bundled_path("scenarios/evidence/spine_care_trial.toml")


@dataclass(frozen=True)
class Target:
    """One calibration target.

    ``se`` is on the scale of the likelihood: natural for means and differences, log for ratios.
    ``low``/``high`` are the target's 95% interval on the natural scale.
    """

    name: str
    kind: str
    strategy: str
    comparator: str | None
    indicator: str | None
    years: float | None
    mean: float
    se: float
    low: float
    high: float
    likelihood: bool
    source: str
    clustered: bool = False


@dataclass(frozen=True)
class Likelihood:
    """How the targets' errors are correlated (the ``[likelihood]`` table; see the module docstring).

    Attributes
    ----------
    arms : dict of str to int
        Patients randomised per strategy (arm sizes share out a contrast's variance between its arms).
    repeated_measures_correlation : float
        Correlation of one arm's estimates of one measure at two different visits.
    design_effect : float
        Variance inflation for ``clustered`` targets (>= 1).
    source : str
    """

    arms: dict
    repeated_measures_correlation: float
    design_effect: float
    source: str


@dataclass(frozen=True)
class Sampler:
    draws: int
    tune: int
    chains: int
    target_accept: float
    seed: int


@dataclass(frozen=True)
class Evidence:
    """A validated evidence file."""

    name: str
    title: str
    source: str
    path: Path
    sha256: str
    scenario_path: Path
    calibrate: tuple
    sampler: Sampler
    targets: tuple
    likelihood: Likelihood | None = None


def load_evidence(path=None) -> Evidence:
    """Read and validate an evidence file (the bundled SPINE CARE evidence when ``path`` is None).

    Raises
    ------
    ScenarioError
        Every problem found, each as ``file: key.path: message``.
    """
    path = Path(path) if path is not None else BUNDLED_EVIDENCE
    where = str(path)
    if not path.exists() and not path.is_symlink():
        raise ScenarioError(Problem(where, "evidence file not found"))
    reading = Collector(default_file=where)
    raw, raw_bytes = read_toml_file(path, reading)
    reading.raise_if_any()
    c = Collector(default_file=where)
    add = c.add
    c.unknown_keys("", raw, ("evidence", "sampler", "targets", "likelihood"))
    head = c.table("evidence", raw.get("evidence", {}))
    c.unknown_keys("evidence", head, ("name", "title", "source", "scenario", "calibrate"))
    for key in ("name", "source", "scenario"):
        if not isinstance(head.get(key), str) or not head.get(key):
            add(f"evidence.{key}", "missing; expected text")
    calibrate = head.get("calibrate", [])
    if not isinstance(calibrate, list) or not calibrate or not all(isinstance(c, str) for c in calibrate):
        add("evidence.calibrate", "expected a non-empty array of parameter names")
        calibrate = []

    s = raw.get("sampler", {})
    sampler = None
    if not isinstance(s, dict):
        add("sampler", "expected a table")
    else:
        c.unknown_keys("sampler", s, ("draws", "tune", "chains", "target_accept", "seed"))
        try:
            sampler = Sampler(int(s["draws"]), int(s["tune"]), int(s["chains"]), float(s["target_accept"]), int(s["seed"]))
            if sampler.draws < 1 or sampler.tune < 0 or sampler.chains < 1 or not 0 < sampler.target_accept < 1:
                add("sampler", "draws and chains must be >= 1, tune >= 0, target_accept in (0, 1)")
        except KeyError as exc:
            add(f"sampler.{exc.args[0]}", "missing (every sampler setting is written in the file)")
        except (TypeError, ValueError) as exc:
            add("sampler", f"expected numbers: {exc}")

    likelihood = _read_likelihood(c, raw["likelihood"]) if "likelihood" in raw else None
    deff = likelihood.design_effect if likelihood is not None else 1.0

    targets = []
    entries = raw.get("targets", [])
    if not isinstance(entries, list) or not entries:
        add("targets", "expected at least one [[targets]] table")
        entries = []
    names = set()
    for i, t in enumerate(entries):
        key = f"targets[{i}]"
        if not isinstance(t, dict):
            add(key, "expected a table")
            continue
        target = _read_target(c, t, key, deff)
        if target is not None:
            if target.name in names:
                add(f"{key}.name", f"duplicate target name {target.name!r}")
            names.add(target.name)
            targets.append(target)
    c.raise_if_any()
    return Evidence(
        name=head["name"],
        title=head.get("title", head["name"]),
        source=head["source"],
        path=path,
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        scenario_path=resolve_path(head["scenario"], base_dir=path.parent),
        calibrate=tuple(calibrate),
        sampler=sampler,
        targets=tuple(targets),
        likelihood=likelihood,
    )


def _read_likelihood(c: Collector, table) -> Likelihood | None:
    """The ``[likelihood]`` table, checked (problems go to ``c``)."""
    if not isinstance(table, dict):
        c.add("likelihood", "expected a table")
        return None
    c.unknown_keys("likelihood", table, ("arms", "repeated_measures_correlation", "design_effect", "source"))
    arms = table.get("arms")
    ok = True
    if not isinstance(arms, dict) or not arms:
        c.add("likelihood.arms", "expected a table of patients per arm, e.g. { usual_care = 992, ice = 829 }")
        ok = False
    else:
        for arm, n in arms.items():
            if isinstance(n, bool) or not isinstance(n, (int, float)) or not n >= 1:
                c.add(f"likelihood.arms.{arm}", f"expected a number of patients >= 1; got {n!r}")
                ok = False
    rho = table.get("repeated_measures_correlation", 0.0)
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not -1 <= rho <= 1:
        c.add("likelihood.repeated_measures_correlation", f"expected a correlation in [-1, 1]; got {rho!r}")
        ok = False
    deff = table.get("design_effect", 1.0)
    if isinstance(deff, bool) or not isinstance(deff, (int, float)) or not 1 <= deff < 1e3:
        c.add("likelihood.design_effect", f"expected a variance inflation factor >= 1 (1 = no clustering); got {deff!r}")
        ok = False
    source = table.get("source")
    if not isinstance(source, str) or not source.strip():
        c.add("likelihood.source", "missing; say where the correlation and the design effect come from (or 'assumption')")
        ok = False
    if not ok:
        return None
    return Likelihood({str(k): float(v) for k, v in arms.items()}, float(rho), float(deff), source)


def _read_target(c: Collector, t: dict, key: str, design_effect: float = 1.0) -> Target | None:
    add = c.add
    allowed = {
        "name",
        "kind",
        "strategy",
        "comparator",
        "indicator",
        "years",
        "mean",
        "sd",
        "n",
        "se",
        "ci",
        "likelihood",
        "clustered",
        "source",
    }
    c.unknown_keys(key, t, allowed)
    kind = c.text(f"{key}.kind", t.get("kind"), choices=list(TARGET_KINDS))
    if kind is None:
        return None
    for k in ("name", "strategy", "source"):
        if not isinstance(t.get(k), str):
            add(f"{key}.{k}", "missing; expected text")
            return None
    if kind in ("cost_ratio", "indicator_difference") and not isinstance(t.get("comparator"), str):
        add(f"{key}.comparator", f"a {kind} target needs a comparator strategy")
        return None
    if kind.startswith("indicator") and (not isinstance(t.get("indicator"), str) or not isinstance(t.get("years"), (int, float))):
        add(key, f"a {kind} target needs indicator (name) and years (time since start)")
        return None
    mean = t.get("mean")
    if not isinstance(mean, (int, float)) or isinstance(mean, bool) or not math.isfinite(mean):
        add(f"{key}.mean", f"expected a number, got {mean!r}")
        return None
    ratio = kind == "cost_ratio"
    if ratio and mean <= 0:
        add(f"{key}.mean", "a ratio must be > 0")
        return None
    if "ci" in t:
        ci = t["ci"]
        if not (isinstance(ci, list) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci) and ci[0] < mean < ci[1]):
            add(f"{key}.ci", f"expected [low, high] around the mean {mean}; got {ci!r}")
            return None
        low, high = float(ci[0]), float(ci[1])
        se = (math.log(high) - math.log(low)) / (2 * Z95) if ratio else (high - low) / (2 * Z95)
    elif "se" in t:
        se = float(t["se"])
        low, high = (mean * math.exp(-Z95 * se), mean * math.exp(Z95 * se)) if ratio else (mean - Z95 * se, mean + Z95 * se)
    elif "sd" in t and "n" in t:
        if ratio:
            add(key, "give a ratio's uncertainty as ci = [low, high]")
            return None
        se = float(t["sd"]) / math.sqrt(float(t["n"]))
        low, high = mean - Z95 * se, mean + Z95 * se
    else:
        add(key, "give the uncertainty: ci = [low, high], or se, or sd and n")
        return None
    clustered = t.get("clustered", False)
    if not isinstance(clustered, bool):
        add(f"{key}.clustered", "expected true or false")
        return None
    if clustered and design_effect != 1.0:  # SD / sqrt(n) ignores clustering: widen by the design effect
        se *= math.sqrt(design_effect)
        low, high = (mean * math.exp(-Z95 * se), mean * math.exp(Z95 * se)) if ratio else (mean - Z95 * se, mean + Z95 * se)
    if not se > 0:
        add(key, f"the standard error must be > 0; got {se}")
        return None
    likelihood = t.get("likelihood", True)
    if not isinstance(likelihood, bool):
        add(f"{key}.likelihood", "expected true or false")
        return None
    return Target(
        t["name"],
        kind,
        t["strategy"],
        t.get("comparator"),
        t.get("indicator"),
        float(t["years"]) if "years" in t else None,
        float(mean),
        se,
        low,
        high,
        likelihood,
        t["source"],
        clustered,
    )
