"""Packaging: everything else is in setup.cfg.

The bundled scenarios and evidence live in the repository's ``scenarios/`` folder (the folder users
see in a checkout and the docs name); the wheel ships them as package data under
``costspine/scenarios/`` through ``package_dir``, so one copy serves both a checkout and an
installed wheel (``costspine._files.bundled_path`` finds either).
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["costspine", "costspine.*"]) + ["costspine.scenarios"],
    package_dir={"costspine.scenarios": "scenarios"},
)
