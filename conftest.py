"""Set-up for the docstring examples of costspine/ (collected by ``--doctest-modules``, see setup.cfg).

Every example runs from the repository root, so ``"scenarios/examples/hiv_chancellor.toml"`` in a
docstring names the bundled file wherever pytest was started, and finds ``tmp_path`` (a fresh folder)
in its namespace for anything it writes. Shared fixtures of the test suite live in tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem

ROOT = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _doctest_context(request, doctest_namespace, tmp_path_factory, monkeypatch):
    if isinstance(request.node, DoctestItem):
        monkeypatch.chdir(ROOT)
        doctest_namespace["tmp_path"] = tmp_path_factory.mktemp("doctest")
