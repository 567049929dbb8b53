"""Reading YAML files into pydantic models, with errors that name the file and the field.

Contracts, pipeline specs and generator configs are all written by people; a typo must come back as
"demo.yaml: split.holdout: Input should be less than 1 (got 1.5)", not as a pydantic dump. A file over
`MAX_CONFIG_BYTES` is refused before it is read, and every value an error echoes is cut to an excerpt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from synthwright.errors import ConfigError
from synthwright.text import excerpt, shorten

Model = TypeVar("Model", bound=BaseModel)

MAX_CONFIG_BYTES = 10 * 1024 * 1024
"""10 MiB: the largest spec, contract or request file read. `contract infer` writes 53 kB for a
1,000-column table (about 50 bytes a column, more with long category lists), so 10 MiB holds some
100,000 columns, or 1,000 columns with 1,000 categories each. A bigger file is a data file or a generated
mistake: PyYAML reads about 170 kB/s and holds about 120 bytes per byte of YAML, so 10 MiB already costs
a minute and over 1 GB before any check runs."""

PROBLEMS_SHOWN = 20
"""Validation problems listed one a line; the rest are counted (a 1,000-column file can have 1,000)."""


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; `what` names it in errors ("contract", "spec")."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"{what} file not found: {path}", hint=f"check the path, or create the {what} first"
        )
    text = _read_capped(path, what)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = shorten(getattr(exc, "problem", None) or str(exc), 160)
        if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in problem:
            raise ConfigError(
                f"{path}{where}: {problem}: tags that build Python objects are not read (no code runs "
                "from a file)",
                hint="write plain values: strings, numbers, lists and mappings",
            ) from exc
        raise ConfigError(
            f"{path}{where}: not valid YAML: {problem}",
            hint="fix the syntax at that line (quote values holding ': ', '#' or a leading '*', '&', '!')",
        ) from exc
    if not isinstance(data, dict):
        got = "an empty file" if data is None else type(data).__name__
        raise ConfigError(
            f"{path}: a {what} must be a YAML mapping (key: value lines), got {got}",
            hint=f"see README.md for the {what} format",
        )
    return data


def _read_capped(path: Path, what: str) -> str:
    """The file's text, refused unread when over MAX_CONFIG_BYTES (read at most one byte more, so a
    file growing while it is read is caught too)."""
    try:
        size = path.stat().st_size
        if size <= MAX_CONFIG_BYTES:
            with path.open("rb") as handle:
                raw = handle.read(MAX_CONFIG_BYTES + 1)
            size = max(size, len(raw))
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path}: the {what} file is {_mib(size)}, over the {_mib(MAX_CONFIG_BYTES)} limit for "
                f"a {what}; it was not read",
                hint=f"point to the {what} you meant (not a data file); specs and contracts are YAML "
                "far below the limit (a 1,000-column contract is about 50 kB)",
            )
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read {what} file {path}: {shorten(str(exc))}", hint=f"a {what} is a UTF-8 YAML text file"
        ) from exc


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB ({size:,} bytes)"


def validate_model(model: type[Model], data: Any, source: str, hint: str | None = None) -> Model:
    """Validate `data` into `model`; turn pydantic's errors into one readable ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, source), hint=hint) from exc


def validation_message(exc: ValidationError, source: str) -> str:
    """One line per problem: `source: a.b[2].c: message (got value)`; the first PROBLEMS_SHOWN of them."""
    lines = [f"{source}: {exc.error_count()} problem(s):"]
    errors = exc.errors()
    for error in errors[:PROBLEMS_SHOWN]:
        location = _location(error["loc"])
        message = shorten(error["msg"])
        if error["type"] == "extra_forbidden":
            message = "unknown key (misspelt, or not supported here)"
        got = error.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {excerpt(got)})"
        lines.append(f"  - {shorten(location or '(top level)', 120)}: {message}{shown}")
    if len(errors) > PROBLEMS_SHOWN:
        lines.append(f"  - … and {len(errors) - PROBLEMS_SHOWN:,} more")
    return "\n".join(lines)


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def load_model(model: type[Model], path: Path, what: str) -> Model:
    """Read and validate a YAML file in one step; the hint points at the README's section on `what`."""
    hint = f"see README.md, 'The {what} format', for every key and its meaning"
    return validate_model(model, read_yaml_mapping(path, what), str(path), hint=hint)
