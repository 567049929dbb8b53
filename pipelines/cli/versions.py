"""`synthwright versions`: the published versions of a dataset in a store."""

from __future__ import annotations

from pathlib import Path

import typer

from synthwright.pipelines.cli.app import app, out, print_json, wrapping_table


@app.command()
def versions(
    dataset: str = typer.Argument(..., help="dataset name"),
    root: Path = typer.Option(Path("outputs"), "--root", help="output root of the store"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """List the published versions of a dataset."""
    from synthwright.pipelines.store import Store

    found = Store(root).versions(dataset)
    rows = [
        {
            "version": v.name,
            "created_at": v.manifest.get("created_at"),
            "rows": v.manifest.get("rows"),
            "generator": (v.manifest.get("generator") or {}).get("name"),
            "gate": _gate(v.manifest.get("gate") or {}),
            "path": str(v.path),
        }
        for v in found
    ]
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
            str(row["created_at"]),
            f"{row['rows']:,}" if row["rows"] is not None else "?",
            str(row["generator"]),
            row["gate"],
            row["path"],
        )
    out.print(listing)


def _gate(gate: dict) -> str:
    """`passed`, or `passed (relaxed: detection_auc off)` when gates were looser than the defaults."""
    if not gate.get("passed"):
        return "not passed"
    relaxed = gate.get("relaxed_gates") or []
    return f"passed (relaxed: {', '.join(relaxed)})" if relaxed else "passed"
