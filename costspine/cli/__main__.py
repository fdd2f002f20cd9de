"""``python -m costspine.cli``: the same as the ``costspine`` command."""

from costspine.cli.app import main

main()
