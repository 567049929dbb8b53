"""`synthwright versions`: the published versions of a dataset in a store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from synthwright.pipelines.cli.app import app, err, out, print_json, wrapping_table


@app.command()
def versions(
    dataset: str = typer.Argument(..., help="dataset name"),
    root: Path = typer.Option(Path("outputs"), "--root", help="output root of the store"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """List the published versions of a dataset."""
    from synthwright.pipelines.store import Store, damaged_manifest

    found = Store(root).versions(dataset)
    rows = [_row(v.name, v.path, v.recorded, v.damage) for v in found]
    for v in found:  # one damaged version is named, and the others are still listed
        if v.damage is not None:
            error = damaged_manifest(v.path, v.damage)
            err.print(f"warning: {dataset} {v.name}: {error.message}\n  fix: {error.hint}", markup=False)
    if as_json:
        print_json(rows)
        return
    if not rows:
        out.print(f"no published versions of {dataset!r} under {root}")
        return
    listing = wrapping_table("version", "created (UTC)", "rows", "generator", "gate", "path")
    for row in rows:
        listing.add_row(
            row["version"],
            str(row["created_at"] or "?"),
            f"{row['rows']:,}" if row["rows"] is not None else "?",
            "?" if row["damage"] else str(row["generator"]),
            row["gate"],
            row["path"],
        )
    out.print(listing)


def _row(name: str, path: Path, manifest: dict[str, Any], damage: str | None) -> dict[str, Any]:
    """One listed version; a damaged one (its manifest unreadable: see Store.versions) shows `damaged`."""
    if damage is not None:
        unknown = {"created_at": None, "rows": None, "generator": None, "gate": "damaged"}
        return {"version": name, **unknown, "path": str(path), "damage": damage}
    return {
        "version": name,
        "created_at": manifest.get("created_at"),
        "rows": manifest.get("rows"),
        "generator": (manifest.get("generator") or {}).get("name"),
        "gate": _gate(manifest.get("gate") or {}),
        "path": str(path),
        "damage": None,
    }


def _gate(gate: dict) -> str:
    """`passed`, or `passed (relaxed: detection_auc off)` when gates were looser than the defaults."""
    if not gate.get("passed"):
        return "not passed"
    relaxed = gate.get("relaxed_gates") or []
    return f"passed (relaxed: {', '.join(relaxed)})" if relaxed else "passed"
