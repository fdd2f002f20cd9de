"""costspine: health-economic modelling of spine-pain care.

The public API is small and lazy: importing the package imports nothing heavy.

>>> import costspine
>>> scenario = costspine.load_scenario("scenarios/examples/hiv_chancellor.toml")  # doctest: +SKIP
>>> result = costspine.run_cohort(scenario)                                       # doctest: +SKIP
>>> print(result.summary())                                                        # doctest: +SKIP
"""

from costspine._version import __version__

__all__ = ["__version__", "load_scenario", "run_cohort"]


def __getattr__(name):
    # Lazy attributes keep `import costspine` (and the CLI's start-up) free of numpy-heavy work.
    if name == "load_scenario":
        from costspine.scenario.load import load_scenario

        return load_scenario
    if name == "run_cohort":
        from costspine.simulate.cohort import run_cohort

        return run_cohort
    raise AttributeError(f"module 'costspine' has no attribute {name!r}")
