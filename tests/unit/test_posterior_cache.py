"""The posterior cache is checked before use: a bad or corrupt cache is reported in one line and refitted."""

from types import SimpleNamespace

import numpy as np
import pytest

from costspine.bayes import posterior as post
from costspine.scenario.evidence import load_evidence
from costspine.scenario.load import load_scenario


@pytest.fixture
def calibration(tmp_path, monkeypatch):
    """The bundled evidence with a cache in tmp_path and a fake (instant) fit that records its calls."""
    monkeypatch.setenv("COSTSPINE_CACHE_DIR", str(tmp_path / "cache"))
    evidence = load_evidence()
    scenario = load_scenario(evidence.scenario_path)
    n = evidence.sampler.draws * evidence.sampler.chains
    good = {name: np.full(n, 1.0 + i / 10) for i, name in enumerate(evidence.calibrate)}
    fits = []

    def fake_fit(evidence, scenario, **settings):
        fits.append(settings)
        return SimpleNamespace(converged=True, draws=good, rhat={}, ess_bulk={}, divergences=0, failures=())

    monkeypatch.setattr("costspine.bayes.fit.fit_evidence", fake_fit)
    return SimpleNamespace(evidence=evidence, scenario=scenario, n=n, good=good, fits=fits)


def _load(cal):
    said = []
    draws, folder, fitted = post.load_or_fit_posterior(cal.evidence.path, progress=said.append)
    return draws, folder, fitted, said


def test_a_valid_cache_is_used_without_refitting(calibration):
    cal = calibration
    post.save_to_cache(cal.evidence, cal.scenario, cal.good, {})
    draws, _, fitted, said = _load(cal)
    assert not fitted and not cal.fits and said == []
    assert sorted(draws) == sorted(cal.good)
    np.testing.assert_array_equal(draws[cal.evidence.calibrate[0]], cal.good[cal.evidence.calibrate[0]])


def _rewrite(cal, columns, *, rehash=True):
    """Write ``columns`` as the cached posterior; ``rehash``: with a matching content hash (so only the content checks can catch it)."""
    post.save_to_cache(cal.evidence, cal.scenario, columns, {})
    folder = post.cache_dir(cal.evidence, cal.scenario)
    if not rehash:
        post.write_posterior_csv(folder / post.POSTERIOR_FILE, cal.good | {"extra": np.ones(cal.n)})
    return folder


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda g, n: {k: -v for k, v in g.items()}, "outside [0"),  # lognormal priors: positive
        (lambda g, n: {k: np.full(n, 1e6) for k in g}, "outside [0"),  # far beyond the prior's tail
        (lambda g, n: {k: v[:1] for k, v in g.items()}, "has 1 row(s); expected 2000"),
        (lambda g, n: {k: np.where(np.arange(n) == 3, np.nan, v) for k, v in g.items()}, "not a finite number in row 5"),
        (lambda g, n: dict(list(g.items())[1:]), "has the parameters"),
    ],
)
def test_a_bad_cache_is_reported_in_one_line_and_refitted(calibration, change, problem):
    cal = calibration
    folder = _rewrite(cal, change(cal.good, cal.n))
    draws, _, fitted, said = _load(cal)
    assert fitted and len(cal.fits) == 1
    (line,) = said
    assert "\n" not in line and str(folder / post.POSTERIOR_FILE) in line and problem in line, line
    assert draws is cal.good
    # the refit rewrote a valid cache: the next load uses it
    _, _, fitted_again, _ = _load(cal)
    assert not fitted_again and len(cal.fits) == 1


def test_a_changed_file_fails_its_content_hash(calibration):
    cal = calibration
    _rewrite(cal, cal.good, rehash=False)
    _, _, fitted, (line,) = _load(cal)
    assert fitted and "does not match the SHA-256" in line


@pytest.mark.parametrize("damage", ["truncate", "binary", "empty", "folder", "no hash"])
def test_a_corrupt_or_truncated_cache_is_refitted_without_a_traceback(calibration, damage):
    cal = calibration
    folder = _rewrite(cal, cal.good)
    path = folder / post.POSTERIOR_FILE
    if damage == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2 + 3])
    elif damage == "binary":
        path.write_bytes(bytes(range(256)) * 10)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "folder":
        path.unlink()
        path.mkdir()
    else:
        (folder / post.CHECKSUM_FILE).unlink()
    _, _, fitted, said = _load(cal)
    assert fitted and str(path) in said[0] and "\n" not in said[0]
    # a folder in the way cannot be replaced: the fit is still used, and the lost cache is said
    assert len(said) == (2 if damage == "folder" else 1) and (damage != "folder" or "could not cache" in said[1])


def test_prior_bounds_follow_the_prior_family():
    def spec(family, **args):
        return SimpleNamespace(family=family, args=args)

    assert post.prior_bounds(spec("beta", alpha=1, beta=1)) == (0.0, 1.0)
    assert post.prior_bounds(spec("uniform", min=2, max=3)) == (2.0, 3.0)
    low, high = post.prior_bounds(spec("gamma", shape=2, scale=1))
    assert 0 <= low < 1e-5 and 20 < high < 100
    low, high = post.prior_bounds(spec("normal", mean=10, sd=1))
    assert 2 < low < 4 and 16 < high < 18
