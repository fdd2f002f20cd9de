"""Sphinx configuration of the API reference (docs/api/), built from the docstrings.

Build: ``python -m sphinx -W -b html docs/api /tmp/costspine-api`` (``pip install -e '.[docs]'``);
``.ci/run`` builds it with warnings as errors.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # document this checkout's costspine

import costspine  # noqa: E402

project = "costspine"
author = "costspine contributors"
release = costspine.__version__
version = release

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True  # "Attributes" as fields: dataclass fields are not described twice
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc Parameters sections say the types
autodoc_default_options = {"members": True, "undoc-members": False}
exclude_patterns = ["_build"]
# numpydoc type fields ("path", "wtp", "category") name many attributes of the same name; an
# ambiguous automatic link there is no error in the docs, so only that warning is silenced.
suppress_warnings = ["ref.python"]
html_theme = "alabaster"
html_title = f"costspine {release} API reference"
