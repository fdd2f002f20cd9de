"""costspine: health-economic modelling of spine-pain care.

The public API is small and lazy: importing the package imports nothing heavy.

>>> import costspine
>>> scenario = costspine.load_scenario("scenarios/examples/hiv_chancellor.toml")
>>> result = costspine.run_cohort(scenario)
>>> print(result.summary())  # doctest: +ELLIPSIS
Expected costs and outcomes per patient, cohort (HIV: zidovudine monotherapy vs combination ...)
strategy                 direct_medical (GBP)  community_care (GBP)  drugs (GBP)  total (GBP)  life_years
-----------------------  --------------------  --------------------  -----------  -----------  ----------
Zidovudine monotherapy                 22,533                 8,843       13,288       44,663      7.9912
Zidovudine + lamivudine                22,872                 9,327       18,403       50,602      8.9374
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
