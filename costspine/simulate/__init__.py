"""Runs: the cohort engine (also by population group) and the microsimulation on a scenario,
with labelled results (:class:`~costspine.simulate.cohort.CohortResult`,
:class:`~costspine.simulate.microsim.MicrosimResult`).
"""
