"""Set-up for the docstring examples of costspine/ (collected by ``--doctest-modules``, see setup.cfg).

Every example runs from the repository root, so ``"scenarios/examples/hiv_chancellor.toml"`` in a
docstring names the bundled file wherever pytest was started, and finds ``tmp_path`` (a fresh folder)
in its namespace for anything it writes. Shared fixtures of the test suite live in tests/conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path

# One OpenBLAS thread for the test run (numpy and scipy read this when first imported, which is after
# this file: pytest loads it before any test module or docstring example). The suite's linear algebra is
# small — EVPPI regressions on a few thousand draws — so a second BLAS thread only adds hand-offs, and
# on a busy machine its spin-waiting doubled the CPU time of the EVPPI tests (the whole default run:
# 114 → 97 s of CPU, 203 → 161 s wall, measured back to back; benchmarks/README.md). Results do not
# depend on it: the tests pass with either. Set the variable yourself to run them otherwise. The numba
# kernel's own threads (NUMBA_NUM_THREADS) are untouched.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest
from _pytest.doctest import DoctestItem

ROOT = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _doctest_context(request, doctest_namespace, tmp_path_factory, monkeypatch):
    if isinstance(request.node, DoctestItem):
        monkeypatch.chdir(ROOT)
        doctest_namespace["tmp_path"] = tmp_path_factory.mktemp("doctest")
