"""Reading YAML files into pydantic models, with errors that name the file and the field.

Contracts, pipeline specs and generator configs are all written by people; a typo must come back as
"demo.yaml: split.holdout: Input should be less than 1 (got 1.5)", not as a pydantic dump.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from synthwright.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; `what` names it in errors ("contract", "spec")."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"{what} file not found: {path}", hint=f"check the path, or create the {what} first"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read {what} file {path}: {exc}", hint=f"a {what} is a UTF-8 YAML text file"
        ) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
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


def validate_model(model: type[Model], data: Any, source: str, hint: str | None = None) -> Model:
    """Validate `data` into `model`; turn pydantic's errors into one readable ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc, source), hint=hint) from exc


def validation_message(exc: ValidationError, source: str) -> str:
    """One line per problem: `source: a.b[2].c: message (got value)`."""
    lines = [f"{source}: {exc.error_count()} problem(s):"]
    for error in exc.errors():
        location = _location(error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (misspelt, or not supported here)"
        got = error.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
        lines.append(f"  - {location or '(top level)'}: {message}{shown}")
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
