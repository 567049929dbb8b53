"""The versioned store: layout, manifest, schema, determinism, names, permissions, concurrency, crashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from store_support import assert_same_values, build_contract, build_frame, child_source
from support import REPO, make_mixed_frame

from synthwright.data_contracts.arrow import CONTRACT_METADATA_KEY, arrow_schema
from synthwright.errors import ConfigError, SourceError
from synthwright.files import file_sha256
from synthwright.pipelines.store import Store, read_version, validate_dataset_name

STORE_FIELDS = {"version", "dataset", "rows", "files", "attachments", "created_at"}


# ----------------------------------------------------------------------------------------------------------
# The child process: the store test table (store_support.child_source) and then this program.


CHILD_MAIN = """
import os, sys
from synthwright.pipelines.store import Store

mode, root, dataset, writer = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[6]
rows, seed = int(sys.argv[4]), int(sys.argv[5])
frame, contract = build_frame(rows, seed), build_contract()
print("ready", flush=True)
if mode == "once":
    sys.stdin.readline()  # wait for the parent's go, so every child starts publishing at the same moment
    Store(root).publish(dataset, frame, contract, {"writer": writer, "seed": seed, "pid": os.getpid()})
    print("done", flush=True)
else:  # "forker": on each `publish <tag>`, fork a publisher and print its pid; on `reap <pid>`, reap it
    for line in sys.stdin:
        command, arg = line.split()
        if command == "publish":
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    Store(root).publish(dataset, frame, contract, {"writer": arg, "pid": os.getpid()})
                    code = 0
                except BaseException:
                    import traceback
                    traceback.print_exc()
                finally:
                    sys.stderr.flush()
                    os._exit(code)
            print(pid, flush=True)
        else:
            print(os.waitpid(int(arg), 0)[1], flush=True)
"""

CHILD = child_source(CHILD_MAIN)


def spawn_publisher(root: Path, dataset: str, rows: int, seed: int, writer: str, log: Path, mode="once"):
    """A separate interpreter that builds its frame, says `ready`, and publishes when it reads a line."""
    with open(log, "w") as errors:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, mode, str(root), dataset, str(rows), str(seed), writer],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )


def wait_ready(proc: subprocess.Popen, log: Path) -> None:
    line = proc.stdout.readline()
    assert line.strip() == "ready", f"child {proc.pid} did not start: {log.read_text()[-2000:]}"


def go(proc: subprocess.Popen) -> None:
    proc.stdin.write("go\n")
    proc.stdin.flush()


def stop_all(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


# ----------------------------------------------------------------------------------------------------------
# Store invariants, checked independently of the store's own helpers.


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def staging_dirs(folder: Path) -> list[Path]:
    return sorted(folder.glob(".staging-*"))


def assert_store_consistent(store: Store, dataset: str) -> list:
    """Versions 1..n, all complete: the manifest lists the files on disk; sizes, rows, sha256 match."""
    versions = store.versions(dataset)
    folder = store.root / dataset
    assert [v.number for v in versions] == list(range(1, len(versions) + 1))
    for version in versions:
        assert version.path == folder / version.name
        manifest = json.loads((version.path / "manifest.json").read_text())
        assert manifest == version.manifest
        assert manifest["version"] == version.name
        assert manifest["dataset"] == dataset
        names = [f["name"] for f in manifest["files"]]
        assert sorted(p.name for p in version.path.iterdir()) == sorted([*names, "manifest.json"])
        for entry in manifest["files"]:
            part = version.path / entry["name"]
            assert part.stat().st_size == entry["bytes"]
            assert sha256(part) == entry["sha256"], (
                f"{version.name}/{entry['name']} does not match its sha256"
            )
            assert pq.read_metadata(part).num_rows == entry["rows"]
        assert sum(f["rows"] for f in manifest["files"]) == manifest["rows"]
    latest = folder / "latest"
    if versions:
        assert latest.is_symlink()
        assert os.readlink(latest) == versions[-1].name
    return versions


# ----------------------------------------------------------------------------------------------------------
# Layout and manifest


def test_layout_and_manifest(tmp_path, mixed_frame, mixed):
    store = Store(tmp_path / "out" / "nested")  # a root that does not exist yet is created
    caller = {"status": "published", "seed": 7, "gate": {"passed": True}, "source": {"rows": 120}}
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    version = store.publish("mixed", mixed_frame, mixed, caller)
    after = dt.datetime.now(dt.UTC)

    folder = tmp_path / "out" / "nested" / "mixed"
    assert version.number == 1
    assert version.name == "v000001"
    assert version.dataset == "mixed"
    assert version.path == folder / "v000001"
    assert sorted(p.name for p in folder.iterdir()) == ["latest", "v000001"]
    assert sorted(p.name for p in version.path.iterdir()) == ["manifest.json", "part-00000.parquet"]

    manifest = json.loads((version.path / "manifest.json").read_text())
    assert manifest == version.manifest
    assert set(manifest) == set(caller) | STORE_FIELDS
    for key, value in caller.items():
        assert manifest[key] == value
    assert manifest["version"] == "v000001"
    assert manifest["dataset"] == "mixed"
    assert manifest["rows"] == len(mixed_frame) == 120
    part = version.path / "part-00000.parquet"
    assert manifest["files"] == [
        {"name": "part-00000.parquet", "rows": 120, "bytes": part.stat().st_size, "sha256": sha256(part)}
    ]
    created = dt.datetime.fromisoformat(manifest["created_at"])
    assert created.tzinfo is not None and created.utcoffset() == dt.timedelta(0)
    assert before <= created <= after

    latest = folder / "latest"
    assert latest.is_symlink()
    assert os.readlink(latest) == "v000001"  # relative, so the store can be moved
    assert (latest / "manifest.json").read_text() == (version.path / "manifest.json").read_text()
    assert_store_consistent(store, "mixed")


def test_caller_cannot_supply_the_fields_the_store_writes(tmp_path, mixed_frame, mixed):
    """A caller's `version`/`dataset`/`rows` would make the manifest disagree with the folder."""
    store = Store(tmp_path)
    for key in ("version", "dataset", "rows", "files", "created_at"):
        with pytest.raises(ValueError, match=f"\\['{key}'\\] are written by the store"):
            store.publish("mixed", mixed_frame, mixed, {key: "x", "note": "kept"})
    assert store.versions("mixed") == []
    version = store.publish("mixed", mixed_frame, mixed, {"note": "kept"})
    manifest = json.loads((version.path / "manifest.json").read_text())
    assert manifest["note"] == "kept" and manifest["rows"] == 120 and len(manifest["files"]) == 1
    assert manifest["dataset"] == "mixed" and manifest["version"] == version.name == "v000001"


def test_versions_are_numbered_in_order_and_latest_follows(tmp_path, mixed, mixed_frame):
    store = Store(tmp_path)
    assert store.versions("mixed") == []
    with pytest.raises(SourceError):
        store.version("mixed")
    published = []
    for seed in range(3):
        frame = make_mixed_frame(rows=50 + seed, seed=seed)
        version = store.publish("mixed", frame, mixed, {"seed": seed})
        published.append(version)
        assert version.number == seed + 1
        assert os.readlink(tmp_path / "mixed" / "latest") == version.name
    versions = assert_store_consistent(store, "mixed")
    assert [v.name for v in versions] == ["v000001", "v000002", "v000003"]
    assert [v.manifest["seed"] for v in versions] == [0, 1, 2]
    assert [v.manifest["rows"] for v in versions] == [50, 51, 52]
    assert store.version("mixed").number == 3
    assert store.version("mixed", 2).manifest == published[1].manifest
    with pytest.raises(SourceError, match="v000004"):
        store.version("mixed", 4)
    # datasets are independent
    other = store.publish("other", mixed_frame, mixed, {})
    assert other.number == 1
    assert len(store.versions("mixed")) == 3


def test_staging_and_other_entries_are_never_listed(tmp_path, mixed_frame, mixed):
    store = Store(tmp_path)
    store.publish("mixed", mixed_frame, mixed, {})
    folder = tmp_path / "mixed"
    # a staging folder of a live process (this one), complete-looking, with a version-like name inside
    live = folder / f".staging-{os.getpid()}-abc123"
    live.mkdir()
    (live / "manifest.json").write_text(json.dumps({"version": "v000002"}))
    (live / "part-00000.parquet").write_bytes(b"partial")
    for junk in ("v1", "v0000002", "rejected", "x000003"):
        (folder / junk).mkdir()
    (folder / "v000009").write_text("a file, not a folder")

    assert [v.name for v in store.versions("mixed")] == ["v000001"]
    second = store.publish("mixed", mixed_frame, mixed, {})
    assert second.name == "v000002"
    assert live.is_dir(), "a live process's staging folder must not be removed"
    assert [v.name for v in store.versions("mixed")] == ["v000001", "v000002"]
    assert os.readlink(folder / "latest") == "v000002"


def test_abandoned_staging_of_a_dead_process_is_removed(tmp_path, mixed_frame, mixed):
    store = Store(tmp_path)
    store.publish("mixed", mixed_frame, mixed, {})
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    abandoned = tmp_path / "mixed" / f".staging-{pid}-zz9"
    abandoned.mkdir()
    (abandoned / "part-00000.parquet").write_bytes(b"half a file")
    assert store.publish("mixed", mixed_frame, mixed, {}).number == 2
    assert not abandoned.exists()
    assert staging_dirs(tmp_path / "mixed") == []


# ----------------------------------------------------------------------------------------------------------
# Parquet schema and values


def test_parquet_schema_is_the_contract_schema(tmp_path, mixed_frame, mixed):
    version = Store(tmp_path).publish("mixed", mixed_frame, mixed, {})
    schema = pq.read_schema(version.path / "part-00000.parquet")
    assert schema.equals(arrow_schema(mixed), check_metadata=True)
    assert schema.names == mixed.names
    assert schema.field("customer_id").type == pa.int64()
    assert schema.field("age").type == pa.int64()
    assert schema.field("income").type == pa.float64()
    assert schema.field("colour").type == pa.string()
    assert schema.field("colour").nullable
    assert not schema.field("age").nullable
    assert schema.field("member").type == pa.bool_()
    assert schema.field("email").type == pa.string()
    assert schema.field("start_date").type == pa.date32()
    assert schema.field("end_date").type == pa.date32()
    embedded = json.loads(schema.metadata[CONTRACT_METADATA_KEY])
    assert embedded["dataset"] == "mixed"
    assert [c["name"] for c in embedded["columns"]] == mixed.names


def test_timestamp_columns_keep_time_of_day(tmp_path):
    contract = build_contract(day_format=None)  # no date-only format: a microsecond timestamp
    frame = build_frame(40, seed=3)
    frame["day"] = frame["day"] + pd.to_timedelta(np.arange(40) * 3_601_000_001, unit="us")
    version = Store(tmp_path).publish("ts", frame, contract, {})
    assert pq.read_schema(version.path / "part-00000.parquet").field("day").type == pa.timestamp("us")
    assert_same_values(read_version(version), frame, contract)


def test_read_version_gives_back_the_published_values(tmp_path, mixed_frame, mixed):
    assert mixed_frame["colour"].isna().any()  # nulls are part of what must round-trip
    store = Store(tmp_path)
    version = store.publish("mixed", mixed_frame, mixed, {})
    back = read_version(version)
    assert_same_values(back, mixed_frame, mixed)
    assert [type(v) for v in back["start_date"].head(3)] == [dt.date] * 3  # date32 comes back as dates
    # via `latest` and via a later `version` lookup too
    assert_same_values(read_version(store.version("mixed")), mixed_frame, mixed)


def test_empty_frame_publishes_one_empty_part(tmp_path, mixed_frame, mixed):
    empty = mixed_frame.iloc[:0]
    version = Store(tmp_path).publish("mixed", empty, mixed, {})
    assert version.manifest["rows"] == 0
    assert [f["rows"] for f in version.manifest["files"]] == [0]
    assert pq.read_schema(version.path / "part-00000.parquet").equals(arrow_schema(mixed))
    back = read_version(version)
    assert len(back) == 0
    assert list(back.columns) == mixed.names


# ----------------------------------------------------------------------------------------------------------
# Determinism


def test_same_frame_and_contract_give_identical_bytes(tmp_path, mixed):
    store = Store(tmp_path)
    first = store.publish("mixed", make_mixed_frame(seed=5), mixed, {"run": "a"})
    second = store.publish("mixed", make_mixed_frame(seed=5), mixed, {"run": "a"})
    other = store.publish("mixed", make_mixed_frame(seed=6), mixed, {"run": "a"})
    part = "part-00000.parquet"
    assert (first.path / part).read_bytes() == (second.path / part).read_bytes()
    assert (first.path / part).read_bytes() != (other.path / part).read_bytes()  # the check can fail
    one = json.loads((first.path / "manifest.json").read_text())
    two = json.loads((second.path / "manifest.json").read_text())
    assert set(one) == set(two)
    differing = {key for key in one if one[key] != two[key]}
    assert "version" in differing
    assert differing <= {"version", "created_at"}
    assert one["files"] == two["files"]


# ----------------------------------------------------------------------------------------------------------
# Dataset names

BAD_NAMES = [
    "../x",
    "a/b",
    "",
    "latest",
    ".hidden",
    "..",
    "a..b",
    "/abs",
    "a\\b",
    "a b",
    "-x",
    "x" * 101,
    "name\n",
    "café",
]
GOOD_NAMES = ["a", "mixed", "student_placements", "adult-2024.v2", "0abc", "x" * 100, "Latest-data"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_dataset_names_are_rejected(tmp_path, name, mixed_frame, mixed):
    with pytest.raises(ConfigError, match="invalid dataset name"):
        validate_dataset_name(name)
    store = Store(tmp_path / "out")
    with pytest.raises(ConfigError):
        store.publish(name, mixed_frame, mixed, {})
    with pytest.raises(ConfigError):
        store.versions(name)
    assert list(tmp_path.iterdir()) == []  # nothing was created for a rejected name


@pytest.mark.parametrize("name", [None, 5])
def test_non_string_dataset_names_are_rejected(name):
    with pytest.raises(ConfigError):
        validate_dataset_name(name)


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_normal_dataset_names_are_accepted(tmp_path, name, mixed_frame, mixed):
    assert validate_dataset_name(name) == name
    version = Store(tmp_path).publish(name, mixed_frame, mixed, {})
    assert version.path == tmp_path / name / "v000001"
    assert [p.name for p in tmp_path.iterdir()] == [name]


# ----------------------------------------------------------------------------------------------------------
# An output root that cannot be written


def test_unwritable_root_raises_config_error_and_leaves_nothing(tmp_path, mixed_frame, mixed):
    parent = tmp_path / "parent"
    parent.mkdir()
    if os.geteuid() == 0:  # root ignores permission bits: make the root a regular file instead
        root = parent / "root"
        root.write_bytes(b"not a folder")
        roots = [root, root / "deeper"]
    else:
        root = parent / "root"
        root.mkdir()
        root.chmod(0o500)
        roots = [root, root / "deeper"]
    try:
        for candidate in roots:
            with pytest.raises(ConfigError, match="cannot create output folder") as info:
                Store(candidate).publish("mixed", mixed_frame, mixed, {"k": 1})
            assert info.value.hint
        if root.is_file():
            assert root.read_bytes() == b"not a folder"
        else:
            assert list(root.iterdir()) == []
        assert [p.name for p in parent.iterdir()] == ["root"]
    finally:
        if root.is_dir():
            root.chmod(0o700)


# ----------------------------------------------------------------------------------------------------------
# A failure inside publish


def test_failure_inside_publish_removes_staging_and_publishes_nothing(tmp_path, mixed_frame, mixed):
    store = Store(tmp_path)
    folder = tmp_path / "mixed"
    broken = mixed_frame.drop(columns=["income"])
    with pytest.raises(KeyError, match="income"):
        store.publish("mixed", broken, mixed, {})
    assert store.versions("mixed") == []
    assert sorted(folder.iterdir()) == []  # no staging folder, no version, no `latest`

    good = store.publish("mixed", mixed_frame, mixed, {})
    with pytest.raises(KeyError):
        store.publish("mixed", broken, mixed, {})
    wrong_type = mixed_frame.assign(age=["not a number"] * len(mixed_frame))
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        store.publish("mixed", wrong_type, mixed, {})
    assert sorted(p.name for p in folder.iterdir()) == ["latest", "v000001"]
    assert [v.name for v in assert_store_consistent(store, "mixed")] == [good.name]
    assert store.publish("mixed", mixed_frame, mixed, {}).name == "v000002"


# ----------------------------------------------------------------------------------------------------------
# Concurrency and crashes: separate interpreters


def test_eight_processes_publishing_at_once_get_eight_versions(tmp_path):
    root, writers = tmp_path / "out", 8
    procs, logs = [], []
    try:
        for writer in range(writers):
            logs.append(tmp_path / f"child-{writer}.log")
            # seeds repeat (writer % 4): equal frames from separate processes must give equal bytes
            seed = writer % 4
            procs.append(spawn_publisher(root, "shared", 500 + seed, seed, str(writer), logs[-1]))
        for proc, log in zip(procs, logs, strict=True):
            wait_ready(proc, log)
        for proc in procs:
            go(proc)
        for proc, log in zip(procs, logs, strict=True):
            out, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0, log.read_text()[-2000:]
            assert out.strip() == "done"
    finally:
        stop_all(procs)

    store = Store(root)
    versions = assert_store_consistent(store, "shared")
    assert [v.name for v in versions] == [f"v{n:06d}" for n in range(1, writers + 1)]
    assert sorted(v.manifest["writer"] for v in versions) == sorted(str(w) for w in range(writers))
    assert len({v.manifest["pid"] for v in versions}) == writers
    assert os.readlink(root / "shared" / "latest") == "v000008"
    folder = root / "shared"
    assert sorted(p.name for p in folder.iterdir()) == ["latest", *[v.name for v in versions]]

    by_seed: dict[int, set[str]] = {}
    contract = build_contract()
    for version in versions:
        seed = version.manifest["seed"]
        assert version.manifest["rows"] == 500 + seed
        by_seed.setdefault(seed, set()).add(version.manifest["files"][0]["sha256"])
        assert_same_values(read_version(version), build_frame(500 + seed, seed), contract)
    assert all(len(hashes) == 1 for hashes in by_seed.values()), by_seed
    assert len(set().union(*by_seed.values())) == 4


KILL_ROWS = 1_000_000  # a publish of this frame takes about 0.5 s here: the kills below land by 0.2 s
KILL_AFTER_MAX = 0.2
KILLS = 10


def test_sigkill_mid_publish_leaves_no_version_and_next_publish_cleans_up(tmp_path):
    """A publisher killed at random moments while writing: nothing partial is ever listed.

    One interpreter imports everything and builds a large frame once, then forks a fresh publisher per
    round (cheap); the test waits for that publisher's staging folder, sleeps a random moment and kills it.
    """
    root = tmp_path / "out"
    store = Store(root)
    folder = root / "big"
    contract = build_contract()
    store.publish("big", build_frame(200, seed=0), contract, {"by": "test"})
    rng = random.Random(20240601)
    log = tmp_path / "forker.log"
    forker = spawn_publisher(root, "big", KILL_ROWS, 1, "-", log, mode="forker")
    try:
        wait_ready(forker, log)
        for index in range(KILLS):
            published = [v.name for v in store.versions("big")]
            forker.stdin.write(f"publish victim-{index}\n")
            forker.stdin.flush()
            victim = int(forker.stdout.readline())
            deadline = time.monotonic() + 20
            while not list(folder.glob(f".staging-{victim}-*")):
                assert forker.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, "the publisher never started: " + log.read_text()[-2000:]
                time.sleep(0.001)
            time.sleep(0.0 if index == 0 else rng.uniform(0.0, KILL_AFTER_MAX))
            os.kill(victim, signal.SIGKILL)
            forker.stdin.write(f"reap {victim}\n")  # reaped, so the pid is really gone (not a zombie)
            forker.stdin.flush()
            status = int(forker.stdout.readline())
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            left = list(folder.glob(f".staging-{victim}-*"))
            assert left, "the kill landed after the commit: make the publisher's frame larger"

            # (a) no visible version from the dead publisher; everything listed is complete and valid
            assert [v.name for v in assert_store_consistent(store, "big")] == published
            assert all(v.manifest.get("writer") is None for v in store.versions("big"))

            # (b) the next publish succeeds and removes the dead publisher's staging folder
            frame = build_frame(100 + index, seed=index)
            version = store.publish("big", frame, contract, {"by": "test", "after_kill": index})
            assert version.number == len(published) + 1
            assert not any(path.exists() for path in left)
            assert staging_dirs(folder) == []
            assert [v.name for v in assert_store_consistent(store, "big")] == [*published, version.name]
            assert_same_values(read_version(store.version("big")), frame, contract)
    finally:
        stop_all([forker])
    assert len(store.versions("big")) == KILLS + 1


def test_attachments_are_committed_with_the_rows_and_checksummed(tmp_path, mixed_frame, mixed):
    report = tmp_path / "report.html"
    report.write_text("<html>report</html>")
    store = Store(tmp_path / "out")
    version = store.publish("mixed", mixed_frame, mixed, {}, attachments={"report.html": report})
    assert (version.path / "report.html").read_text() == "<html>report</html>"
    assert version.manifest["attachments"] == [
        {"name": "report.html", "bytes": 19, "sha256": file_sha256(report)}
    ]
    for bad in ("manifest.json", "part-00009.parquet", "../escape.html", ".hidden"):
        with pytest.raises(ValueError, match="invalid attachment name"):
            store.publish("mixed", mixed_frame, mixed, {}, attachments={bad: report})
    assert [v.name for v in store.versions("mixed")] == ["v000001"]
