"""The Python in the docs runs as written: every ```python block of a page, in order, from the
repository root (docs/getting-started.md, docs/budget-impact.md), in a fresh interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from helpers import ROOT

# getting-started.md runs every command of the tutorial (~12 s): a slow check (`pytest -m slow`, CI's second step)
PAGES = [pytest.param("getting-started.md", marks=pytest.mark.slow), "budget-impact.md"]


def python_blocks(page: str) -> list[str]:
    """The fenced ```python blocks of ``docs/page``, in order."""
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)


def test_blocks_are_found():
    assert len(python_blocks("getting-started.md")) >= 4
    assert "compute_budget(" in python_blocks("budget-impact.md")[0]


@pytest.mark.parametrize("page", PAGES)
def test_page_code_runs_as_written(page, tmp_path):
    code = "\n".join(python_blocks(page))
    script = tmp_path / "page.py"
    script.write_text(code, encoding="utf-8")
    before = sorted(p.name for p in ROOT.iterdir())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's costspine, as `python -m` would import it
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in ROOT.iterdir()) == before  # the page writes no file


def test_api_reference_documents_every_module():
    """Each module of the package has its ``automodule`` on a page of docs/api/ (the page of its package)."""
    package = ROOT / "costspine"
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in package.rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py", "_version.py") and not p.name.startswith("_microsim")
    }
    pages = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "api").glob("*.rst"))
    documented = set(re.findall(r"^\.\. automodule:: (\S+)$", pages, flags=re.MULTILINE))
    missing = sorted(modules - documented)
    assert not missing, f"add an automodule for each of {missing} to its package's page in docs/api/"
