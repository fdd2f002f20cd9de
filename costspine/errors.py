"""Errors and exit codes: the one place that says how costspine fails.

Every user-facing error derives from :class:`CostspineError`. The command line turns one into
``Error: ...`` on stderr and the exit code of its class; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """Process exit codes of the ``costspine`` command."""

    OK = 0
    ANALYSIS_ERROR = 1
    USAGE_ERROR = 2
    INVALID_SCENARIO = 3


class CostspineError(Exception):
    """Root of every error costspine raises on purpose."""

    exit_code = ExitCode.ANALYSIS_ERROR


class UsageError(CostspineError, ValueError):
    """A command was called with arguments that cannot work (bad option value, missing file)."""

    exit_code = ExitCode.USAGE_ERROR


class AnalysisError(CostspineError, RuntimeError):
    """A valid scenario produced a result that cannot be used (e.g. probabilities out of range)."""

    exit_code = ExitCode.ANALYSIS_ERROR


class OutputFolderError(CostspineError):
    """An output folder cannot be used: another run holds its lock, or its saved chunks belong to
    another run (``--resume``). Exit code 3 (files): the folder is the problem, not the options."""

    exit_code = ExitCode.INVALID_SCENARIO


class ResourceError(CostspineError):
    """A run would need more memory than its budget (``--max-memory``) or exceeds a documented
    size limit; the message names the sizes. Exit code 2: the options (or the budget) must change."""

    exit_code = ExitCode.USAGE_ERROR


@dataclass(frozen=True)
class Problem:
    """One problem found in a scenario file.

    Attributes
    ----------
    where : str
        ``file: key.path`` of the offending entry.
    message : str
        What was expected and what was found, with a hint where one helps.
    """

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ScenarioError(CostspineError, ValueError):
    """A scenario (or evidence) file is invalid; carries every problem found, not just the first."""

    exit_code = ExitCode.INVALID_SCENARIO

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems = [p if isinstance(p, Problem) else Problem("scenario", p) for p in problems]
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in scenario"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class InputFileError(ScenarioError):
    """An input file cannot be read safely: missing, a folder, not a regular file, too large, unreadable.

    Exit code 3 (files). ``path`` and ``reason`` are kept apart so a reader with a problem
    collector can file the problem under the file's name; the message never quotes the file's content.
    """

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(Problem(self.path, reason))
        self.args = (f"{self.path}: {reason}",)


class DrawsError(ScenarioError):
    """A file of PSA draws (CSV) is invalid; carries every problem found (file, row, column).

    Exit code 3, as for an invalid scenario: the input file is wrong, not the command line.
    """

    def __init__(self, problems: list[Problem] | Problem | str):
        super().__init__(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the PSA draws"
        self.args = (head + ":\n" + "\n".join(f"  - {p}" for p in self.problems),)


def describe_value(value) -> str:
    """How an error message names a value found in a file: 'a table', 'an array', 'str 'x''..."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    return f"{type(value).__name__} {value!r}"


class ConvergenceWarning(UserWarning):
    """MCMC diagnostics (R-hat, effective sample size, divergences) failed for named variables."""
