"""The ``costspine`` command line: one click group (:mod:`costspine.cli.app`), the shared options
(:mod:`costspine.cli.options`) and one module per command's work, holding its click command
(parse options → one library call → write outputs).

Nothing in the library imports this package.
"""

from costspine.cli.app import cli, main

__all__ = ["cli", "main"]
