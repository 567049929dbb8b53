"""The `synthwright` command line: the app, what every command shares, and the error→exit mapping.

Exit codes: 0 success · 1 a check or gate failed (a report was written) · 2 bad input or usage ·
3 internal error. Failures print one clear message (with a `fix:` line) and no traceback, unless
`--debug` is given. The commands live one group per module beside this one (synthwright.pipelines.cli
imports them all); only the orchestration group (`orchestrate`) imports synthwright.flows.
"""

from __future__ import annotations

import errno
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table
from typer._click import exceptions as click_errors  # typer's own click (pinned in constraints)

from synthwright import __version__
from synthwright.errors import (
    CheckFailedError,
    ConfigError,
    SynthwrightError,
)
from synthwright.threads import size_thread_pools

if TYPE_CHECKING:
    from synthwright.validators.gates import Scorecard  # imports the validators: only where used

app = typer.Typer(
    name="synthwright",
    help="Trustworthy synthetic tables: contracts, generators, validation gates, versioned Parquet.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
contract_app = typer.Typer(help="Infer and check data contracts.", no_args_is_help=True)
app.add_typer(contract_app, name="contract")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

NaOption = typer.Option([], "--na", help="extra string read as missing (repeatable), e.g. --na '?'")
StripOption = typer.Option(True, "--strip/--no-strip", help="strip surrounding whitespace from strings")
FormatOption = typer.Option("auto", "--format", help="auto, csv, parquet or jsonl")
DelimiterOption = typer.Option(None, "--delimiter", help="CSV field delimiter (default ',')")
EncodingOption = typer.Option("utf-8", "--encoding", help="text encoding of CSV/JSON files")


def _version(value: bool) -> None:
    if value:
        out.print(f"synthwright {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="show tracebacks (accepted anywhere on the line)"),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version"
    ),
) -> None:
    """synthwright: turn a real table into a trustworthy synthetic one."""


def read_options(na: list[str], strip: bool, fmt: str, delimiter: str | None, encoding: str) -> Any:
    from synthwright.config_io import validate_model
    from synthwright.errors import ConfigError
    from synthwright.pipelines.ingest import DEFAULT_NA_VALUES, ReadOptions

    if delimiter is not None and len(delimiter) != 1:
        raise ConfigError(
            f"--delimiter {delimiter!r} must be exactly one character", hint="e.g. --delimiter ';' or $'\\t'"
        )

    return validate_model(
        ReadOptions,
        {
            "na_values": [*DEFAULT_NA_VALUES, *na],
            "strip": strip,
            "format": fmt,
            "delimiter": delimiter,
            "encoding": encoding,
        },
        "the read options (--format, --delimiter, --encoding, --na)",
        hint="--format is auto, csv, parquet or jsonl; --delimiter is one character, e.g. ';' or a tab",
    )


def require_folder_can_exist(folder: Path, option: str) -> None:
    """Before long work: a folder under an existing file can never be made (say so now, not after)."""
    for parent in [folder, *folder.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(
                    f"{option} {folder}: {parent} is a file, so the folder cannot be made there",
                    hint=f"choose another {option} folder",
                )
            return


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def wrapping_table(*headers: str) -> Table:
    """A table that wraps long cells (piped output is 80 columns wide) instead of cutting them off."""
    table = Table(*headers)
    for column in table.columns:
        column.overflow = "fold"
    return table


def log_to_stderr(level: int = logging.INFO) -> None:
    """Progress lines of the steps, for commands that run outside Prefect."""
    logger = logging.getLogger("synthwright")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
    logger.setLevel(level)


def print_scorecard(scorecard: Scorecard) -> None:
    """The scorecard, one indented line per metric (as the run log says it)."""
    for line in scorecard.lines():
        out.print(f"  {line}")


# ---- entry point ---------------------------------------------------------------------------------


HEAVY_COMMANDS = {"fit", "sample", "evaluate", "run", "augment", "check", "contract"}
"""Commands that compute: their thread pools are sized to the free cores when they start."""


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and turn every failure into a message and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]  # accepted anywhere on the line, not only first
    if not debug:
        _quiet_tracebacks()
    if args and args[0] in HEAVY_COMMANDS:
        size_thread_pools()  # before numpy, scikit-learn or torch load (synthwright.threads)
    try:
        # Not click's standalone mode: `typer.Exit(n)` returns n, and usage errors come here to be
        # printed like every other error (an `error:` line and a `fix:` line).
        code = app(args=args, prog_name="synthwright", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as error:  # `synthwright` or a group alone: its help
        error.show()
        code = error.exit_code
    except click_errors.UsageError as error:
        command = error.ctx.command_path if error.ctx is not None else "synthwright"
        err.print(f"[red]error:[/] {error.format_message()}", markup=True, highlight=False)
        err.print(f"  fix: see `{command} --help`", highlight=False)
        code = 2
    except typer.Abort:
        err.print("[red]aborted[/]", markup=True)
        code = 130
    except SynthwrightError as error:
        if debug:
            err.print_exception()
        _print_error(error)
        code = error.exit_code
    except Exception as error:  # noqa: BLE001 — the last line of defence: no traceback unless --debug
        if debug:
            err.print_exception()
        if isinstance(error, OSError) and error.errno in _DISK_ERRORS:
            _print_error(_disk_error(error))
            code = 2
        else:
            err.print(f"[red]internal error:[/] {type(error).__name__}: {error}", markup=True)
            err.print("  this is a bug in synthwright; rerun with --debug for the traceback and report it")
            code = 3
    sys.exit(code if isinstance(code, int) else 0)


_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def _disk_error(error: OSError) -> ConfigError:
    """A full disk or a refused read/write anywhere (the cache, a report, staging, the work folder) is
    the user's to fix, not a bug: say which path and what to do."""
    where = f" ({error.filename})" if error.filename else ""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free space on that disk (or raise the quota), or point the output/cache folder elsewhere"
    elif error.errno == errno.EROFS:
        hint = "choose a folder on a writable disk"
    else:
        hint = "choose a folder you may read and write, or fix its permissions"
    return ConfigError(f"{error.strerror or error}{where}", hint=hint)


def _print_error(error: SynthwrightError) -> None:
    label = "failed" if isinstance(error, CheckFailedError) else "error"
    err.print(f"[red]{label}:[/] {error.message}", markup=True)
    if error.hint:
        err.print(f"  fix: {error.hint}")
    if isinstance(error, CheckFailedError) and error.report_dir:
        err.print(f"  details: {error.report_dir}")


class _NoTracebacks(logging.Filter):
    """Prefect logs a task's exception with its traceback; we print our own clear message instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def _quiet_tracebacks() -> None:
    logging.getLogger().addFilter(_NoTracebacks())
    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).addFilter(_NoTracebacks())
