"""Contract YAML: load with readable errors, dump in a form people enjoy editing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from synthwright.config_io import load_model, validate_model
from synthwright.data_contracts.model import Column, Contract

_HEADER = "# synthwright data contract: see README.md, 'The contract format'\n"


def load_contract(path: Path | str) -> Contract:
    """Read a contract file; a bad file raises ConfigError naming the file and the field."""
    return load_model(Contract, Path(path), "contract")


def contract_from_dict(data: dict[str, Any], source: str = "contract") -> Contract:
    return validate_model(Contract, data, source)


def contract_to_dict(contract: Contract) -> dict[str, Any]:
    """A plain, JSON-safe dict with defaults left out (so the YAML shows only what was decided)."""
    out: dict[str, Any] = {"version": contract.version}
    for key in ("dataset", "description", "primary_key"):
        value = getattr(contract, key)
        if value is not None:
            out[key] = value
    rows = contract.rows.model_dump(exclude_none=True)
    if rows:
        out["rows"] = rows
    out["columns"] = [_column_to_dict(c) for c in contract.columns]
    if contract.rules:
        out["rules"] = [str(rule) for rule in contract.rules]
    if contract.drift is not None:  # only when written: older contracts keep their dict and fingerprint
        out["drift"] = contract.drift.model_dump(exclude_defaults=True)
    return out


def _column_to_dict(column: Column) -> dict[str, Any]:
    data = {"name": column.name, **column.model_dump(exclude_defaults=True, mode="json")}
    for key in ("min", "max"):
        bound = getattr(column, key)
        if isinstance(bound, dt.datetime):
            data[key] = _format_date(bound, column.format)
    if column.values is not None:
        data["values"] = _FlowList(column.values)
    return data


def _format_date(value: dt.datetime, fmt: str | None) -> str:
    if fmt:
        return format_datetime(value, fmt)
    return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()


def format_datetime(value: dt.datetime, fmt: str) -> str:
    """`value.strftime(fmt)` with %Y always four digits: glibc writes year 500 as "500", which no
    format (nor ISO 8601) reads back. Years from 1000 on are written exactly as strftime does."""
    if value.year >= 1000:
        return value.strftime(fmt)
    year = f"{value.year:04d}"
    padded = _YEAR_DIRECTIVE.sub(lambda m: {"%Y": year, "%F": f"{year}-%m-%d"}.get(m.group(), m.group()), fmt)
    return value.strftime(padded)


_YEAR_DIRECTIVE = re.compile(r"%%|%Y|%F")
"""A literal %% is matched too, so that the Y in "%%Y" is never taken for a directive."""


def dump_contract(contract: Contract) -> str:
    """The contract as YAML text."""
    return _HEADER + yaml.dump(
        contract_to_dict(contract), Dumper=_ContractDumper, sort_keys=False, allow_unicode=True, width=100
    )


def save_contract(contract: Contract, path: Path | str) -> None:
    Path(path).write_text(dump_contract(contract), encoding="utf-8")


def contract_fingerprint(contract: Contract) -> str:
    """sha256 of the contract's canonical JSON: equal contracts, equal fingerprints."""
    canonical = json.dumps(contract_to_dict(contract), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _FlowList(list):
    """A list written on one line: `values: [F, M]`."""


class _ContractDumper(yaml.SafeDumper):
    pass


_ContractDumper.add_representer(
    _FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)
