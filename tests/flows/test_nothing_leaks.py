"""Nothing leaks: no training value of a personal-data column is published (synthetic or augmented),
a `pii_action: drop` column is not published at all, and a whole run opens no connection beyond
this machine (Prefect's and Great Expectations' analytics are off)."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cli_support import cli
from support import make_mixed_frame, mixed_contract

from synthwright.data_contracts.io import save_contract
from synthwright.data_contracts.model import Column, ColumnKind

ROWS = 200


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> tuple[Path, Path, set[str]]:
    """The mixed table plus a `full_name` column to drop; returns data, contract and every real PII value."""
    folder = tmp_path_factory.mktemp("pii")
    frame = make_mixed_frame(ROWS, seed=3)
    frame["full_name"] = [f"Realname{i} Realsurname{i}" for i in range(ROWS)]
    data, contract = folder / "people.csv", folder / "people.yaml"
    frame.to_csv(data, index=False)
    base = mixed_contract()
    name = Column(name="full_name", kind=ColumnKind.TEXT, pii="name", pii_action="drop")
    save_contract(base.model_copy(update={"dataset": "people", "columns": [*base.columns, name]}), contract)
    return data, contract, set(frame["email"]) | set(frame["full_name"])


def _open_gates() -> list[str]:
    """This test is about what is published, not about quality: every gate open."""
    keys = ["shape_error_max", "trend_error_max", "detection_auc_max", "dcr_share_max", "mia_auc_max"]
    keys += ["utility_gap_max", "utility_f1_gap_max"]
    return [arg for key in keys for arg in ("--set", f"gates.{key}=null")]


@pytest.fixture
def offline(monkeypatch) -> list[str]:
    """Refuse (and record) every connection and name lookup that is not this machine."""
    attempts: list[str] = []
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def local(host) -> bool:
        if host in (None, "localhost", "") or isinstance(host, bytes):
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False

    def guarded_connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not local(address[0]):
            attempts.append(f"connect {address}")
            raise OSError("network access refused by the test")
        return connect(self, address)

    def guarded_lookup(host, *args, **kwargs):
        if not local(host if not isinstance(host, bytes) else host.decode()):
            attempts.append(f"lookup {host}")
            raise socket.gaierror("name lookup refused by the test")
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    return attempts


def _published_text(version_dir: Path) -> str:
    """Every published byte as text: each Parquet part's values, the manifest and the report."""
    parts = []
    for path in sorted(version_dir.iterdir()):
        if path.suffix == ".parquet":
            parts.append(pq.read_table(path).to_pandas().astype(str).to_csv())
        else:
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def test_a_synthetic_version_holds_no_real_personal_data_and_no_dropped_column(
    capsys, prefect_api_url, table, tmp_path, offline
):
    data, contract, real_values = table
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"dataset: people\nsource: {{path: {data}}}\ncontract: {contract}\ngenerator: {{name: copula}}\n"
        f"sample: {{rows: {ROWS}}}\noutput: {{root: {tmp_path / 'out'}}}\n"
    )
    result = cli(capsys, "run", spec, "--json", *_open_gates())
    assert result.code == 0, result.err[-3000:]
    version = Path(json.loads(result.out)["version_dir"])
    published = _published_text(version)
    assert not [value for value in real_values if value in published]
    schema = pq.read_schema(next(version.glob("part-*.parquet")))
    assert "full_name" not in schema.names and "email" in schema.names
    manifest = json.loads((version / "manifest.json").read_text())
    assert "full_name" not in [c["name"] for c in manifest["contract"]["definition"]["columns"]]
    assert offline == []  # the run, with its Prefect API calls, stayed on this machine
    assert cli(capsys, "check", "--version", "people@v1", "--root", tmp_path / "out").code == 0


def test_an_augmented_version_refakes_the_real_rows_personal_data(
    capsys, prefect_api_url, table, tmp_path, offline
):
    data, contract, real_values = table
    result = cli(
        capsys, "augment", "--source", data, "--dataset", "people-more", "--rows", "30",
        "--set", f"contract={contract}", "--set", f"output.root={tmp_path / 'out'}", "--json", *_open_gates(),
    )  # fmt: skip
    assert result.code == 0, result.err[-3000:]
    summary = json.loads(result.out)
    version = Path(summary["version_dir"])
    assert summary["real_rows"] == ROWS and summary["synthetic_rows"] == 30
    published = _published_text(version)
    assert not [value for value in real_values if value in published]
    parts = sorted(version.glob("part-*.parquet"))
    emails = [email for part in parts for email in pq.read_table(part)["email"].to_pylist()]
    assert len(emails) == ROWS + 30 and len(set(emails)) == len(emails)  # fakes, distinct like the real ones
    assert offline == []


def test_analytics_are_off_by_default():
    """In a process whose environment says nothing about it (the test session sets it too)."""
    env = {k: v for k, v in os.environ.items() if "ANALYTICS" not in k}
    code = (
        "import synthwright.flows\n"
        "from prefect.settings import PREFECT_SERVER_ANALYTICS_ENABLED as s\nprint(s.value())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr[-2000:]
