"""The error tree. Every user-facing failure is one of these, and the CLI maps each to an exit code.

    SynthwrightError                 something went wrong inside synthwright            exit 3
    ├── UserInputError               bad input or usage: the user can fix it           exit 2
    │   ├── SourceError              a data file cannot be read as a table
    │   ├── ConfigError              a spec, contract, model folder or generator config is invalid
    │   ├── MissingDependencyError   an optional extra is not installed
    │   └── NotFittedError           `sample`/`save` called before `fit`
    ├── CheckFailedError             a check or gate said no; a report exists           exit 1
    │   ├── ContractViolationError   data breaks its contract (carries the violations)
    │   ├── GateFailedError          synthetic data failed a quality/privacy gate
    │   └── ApprovalRejectedError    a reviewer rejected the dataset before publish
    └── GeneratorError               a generator misbehaved (a bug, not the user's fault) exit 3

Each message says what is wrong and where (file, column, counts, examples); `hint` says how to fix it.
"""

from __future__ import annotations

from typing import Any


class SynthwrightError(Exception):
    """Base of every error synthwright raises on purpose."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  fix: {self.hint}"

    def __reduce__(self):  # keep the hint when the error crosses a process (Prefect, multiprocessing)
        return (_rebuild, (type(self), self.message, self.hint, self.__dict__))


def _rebuild(cls: type[SynthwrightError], message: str, hint: str | None, state: dict[str, Any]):
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class UserInputError(SynthwrightError):
    """Bad input or usage."""

    exit_code = 2


class SourceError(UserInputError):
    """A data file is missing, empty, unreadable or does not have the expected columns."""


class ConfigError(UserInputError):
    """A pipeline spec, contract, model folder or generator config is invalid."""


class MissingDependencyError(UserInputError):
    """An optional dependency is not installed; the message names the extra to install."""


class NotFittedError(UserInputError):
    """A generator was used before `fit`."""


class CheckFailedError(SynthwrightError):
    """A check or gate failed; the data was read fine but did not pass. `report_dir`: where it is recorded."""

    exit_code = 1
    report_dir: Any = None


class ContractViolationError(CheckFailedError):
    """Data breaks its contract. `report` is a `synthwright.validators.contract.ContractReport`."""

    def __init__(self, message: str, report: Any, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report


class GateFailedError(CheckFailedError):
    """Synthetic data failed at least one gate. `scorecard` is a `synthwright.validators.gates.Scorecard`."""

    def __init__(
        self,
        message: str,
        scorecard: Any,
        *,
        report_dir: Any = None,
        hint: str | None = None,
        tournament: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.scorecard = scorecard
        self.report_dir = report_dir
        self.tournament = tournament


class ApprovalRejectedError(CheckFailedError):
    """A reviewer rejected the dataset at the approval pause; nothing was published."""

    def __init__(
        self, message: str, *, reviewer: str, reason: str, report_dir: Any = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.reviewer = reviewer
        self.reason = reason
        self.report_dir = report_dir


class GeneratorError(SynthwrightError):
    """A generator returned output that breaks the generator contract: a bug to report."""
