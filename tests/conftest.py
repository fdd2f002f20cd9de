"""Fixtures shared by the test suite: a CLI runner, the bundled example models, shared toy scenarios.

Plain helpers (paths, TOML blocks, ``write``, ``edit``, ``invoke``, ``read_csv``) are in tests/helpers.py.
Layout: unit/ (one file per module), property/ (hypothesis), golden/ (published models), cli/ (end to
end through ``costspine ...``), bayes/ (PyMC), statistical/ (slow, marked ``slow``).
"""

from __future__ import annotations

import pytest

from helpers import CHANCELLOR, SICK_SICKER


@pytest.fixture(scope="session")
def runner():
    """click's CliRunner, for tests that need more than :func:`helpers.invoke` (exceptions, isolated folders)."""
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture(scope="session")
def chancellor():
    """The loaded HIV model of Chancellor et al. (scenarios/examples/hiv_chancellor.toml); treat as read-only."""
    from costspine.scenario.load import load_scenario

    return load_scenario(CHANCELLOR)


@pytest.fixture(scope="session")
def sick_sicker():
    """The loaded Sick-Sicker microsimulation example; treat as read-only."""
    from costspine.scenario.load import load_scenario

    return load_scenario(SICK_SICKER)
