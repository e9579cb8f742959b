"""One exception tree for scrmbench, mapped to exit codes at the CLI boundary.

    ScrmbenchError                    exit 3 unless a subclass says otherwise
    ├── ConfigError                   exit 2  bad input: file, field, value and the fix
    │   ├── TargetRefused             exit 2  target not on the allowlist
    │   ├── ScenarioError             exit 2  unknown scenario or bad scenario parameter
    │   └── VendorUnreachable         exit 6  nothing listens at the profile's base_url (``vendors check``)
    ├── HarnessError                  exit 3  the harness itself failed (a server did not start, disk full…)
    │   └── FaultError                exit 3  a fault action failed (recorded, then raised)
    ├── AnalysisError                 exit 3  a results folder cannot be analysed
    └── SlaFailed                     exit 1  the run completed and the SLA was not met

    EXIT_PARTIAL       4  ``score``: the run is partial (did not complete); no verdict from it may pass a gate
    EXIT_INCONCLUSIVE  5  ``score``: the SLA could not be decided on this much data (run longer or repeat)
    EXIT_UNREACHABLE   6  ``vendors check``: nothing listens at the profile's address (start it, or ``--launch``)

Messages name the thing that is wrong, its bad value and the fix, in the manner of Starlette's config errors.
Third-party errors are wrapped once, near the call, with ``raise ... from exc``.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_SLA_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_HARNESS_ERROR = 3
EXIT_PARTIAL = 4
EXIT_INCONCLUSIVE = 5
EXIT_UNREACHABLE = 6
EXIT_INTERRUPTED = 130


class ScrmbenchError(Exception):
    """Base of every error scrmbench raises on purpose."""

    exit_code = EXIT_HARNESS_ERROR


class ConfigError(ScrmbenchError):
    """A user-given input (profile, SLA file, CLI option, scenario parameter) is invalid."""

    exit_code = EXIT_BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        field: str | None = None,
        value: object = None,
        fix: str | None = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.field = field
        self.value = value
        self.fix = fix
        self.line = line
        self.message = message  # unrendered, so a caller that knows more (the file, the entry) can say it again
        super().__init__(self._render(message))

    def _render(self, message: str) -> str:
        where = self.source or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [f"{where}: " if where else ""]
        if self.field:
            parts.append(f"field '{self.field}'")
            if self.value is not None:
                parts.append(f" has value {self.value!r}")
            parts.append(". ")
        parts.append(message.rstrip("."))
        parts.append(".")
        if self.fix:
            parts.append(f" Fix: {self.fix.rstrip('.')}.")
        return "".join(parts)


class TargetRefused(ConfigError):
    """The target host is not on the allowlist; the harness sends nothing to it."""


class ScenarioError(ConfigError):
    """An unknown scenario or an out-of-bounds scenario parameter."""


class VendorUnreachable(ConfigError):
    """Nothing listens at the profile's ``base_url``: the vendor is not running there (or not started by us)."""

    exit_code = EXIT_UNREACHABLE


class HarnessError(ScrmbenchError):
    """The harness itself could not do its job."""


class FaultError(HarnessError):
    """A fault could not be injected or cleared."""


class AnalysisError(ScrmbenchError):
    """A results folder could not be loaded or analysed."""


class SlaFailed(ScrmbenchError):
    """The run completed but did not meet its SLA."""

    exit_code = EXIT_SLA_FAILED
