"""Crash safety of the versioned store (pipelines/store.py): SIGKILL at random moments, a full disk, and
eight publishers of one dataset at once.

After every crash or failure the store must list only complete versions (each file matching the sha256
and row count in its manifest, checked with `synthwright check --version`'s own file checks), `latest`
must point to one of them, and the next publish must succeed with the next number and remove what the
dead publisher left behind.

Publishers run in a separate interpreter that imports the store and builds its frames once, then forks
one publisher per request (cheap), as in tests/pipelines/test_store.py; both build their frames with
tests/store_support.py.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from store_support import assert_same_values, build_contract, build_frame, child_source
from support import REPO

import synthwright.pipelines.store
from synthwright.errors import SynthwrightError, UserInputError
from synthwright.pipelines.store import MANIFEST, Store, Version, read_version, version_name
from synthwright.pipelines.version_checks import file_checks

# ----------------------------------------------------------------------------------------------------------
# The forker: the store test table (store_support.child_source) and then this program.


FORKER_MAIN = """
import os, sys, time, traceback

import synthwright.pipelines.store
from synthwright.pipelines.store import Store

root = sys.argv[1]
# several parts: a publish lasts long enough to be hit
synthwright.pipelines.store.ROWS_PER_PART = int(sys.argv[2])
contract = build_contract()
frames = {}
gates = {}  # pid of a held publisher -> the pipe end that releases it


def frame(seed, rows):
    if (seed, rows) not in frames:
        frames[seed, rows] = build_frame(rows, seed)
    return frames[seed, rows]


def publish(dataset, tag, seed, rows):
    fields = {"writer": tag, "seed": seed, "pid": os.getpid()}
    Store(root).publish(dataset, frame(seed, rows), contract, fields)


def in_child(work):
    # runs in a forked publisher: never returns, never flushes the buffers it shares with the forker
    code = 1
    try:
        work()
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


for wanted in sys.argv[3:]:
    seed, rows = map(int, wanted.split(":"))
    frame(seed, rows)
print("ready", flush=True)
for line in sys.stdin:
    command, *args = line.split()
    if command == "publish":  # publish DATASET TAG SEED ROWS LINGER: fork a publisher, print its pid
        dataset, tag, seed, rows, linger = args[0], args[1], int(args[2]), int(args[3]), args[4] == "1"
        frame(seed, rows)
        gate_out, gate_in = os.pipe()
        pid = os.fork()
        if pid == 0:
            def work():
                os.close(gate_in)
                if not os.read(gate_out, 1):  # held until `release PID` (the forker gone: give up)
                    return
                publish(dataset, tag, seed, rows)
                if linger:  # stay alive after the commit, so a late SIGKILL still lands (after it)
                    time.sleep(300)
            in_child(work)
        os.close(gate_out)
        gates[pid] = gate_in
        print(pid, flush=True)
    elif command == "release":  # release PID: let the held publisher start
        gate_in = gates.pop(int(args[0]))
        os.write(gate_in, b"x")
        os.close(gate_in)
        print("released", flush=True)
    elif command == "reap":  # reap PID: wait for it (so its pid is really gone), print the wait status
        if int(args[0]) in gates:
            os.close(gates.pop(int(args[0])))
        print(os.waitpid(int(args[0]), 0)[1], flush=True)
    elif command == "race":  # race DATASET COUNT ROWS STEP: COUNT publishers, released at once by one pipe
        dataset, count, rows, step = args[0], int(args[1]), int(args[2]), int(args[3])
        jobs = [(str(writer), writer, rows + writer * step) for writer in range(count)]
        for _, seed, size in jobs:
            frame(seed, size)
        gate_out, gate_in = os.pipe()
        pids = []
        for tag, seed, size in jobs:
            pid = os.fork()
            if pid == 0:
                os.close(gate_in)
                def work():
                    os.read(gate_out, 1)  # wait at the gate
                    start = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process
                    publish(dataset, tag, seed, size)
                    os.write(1, f"timing {tag} {start!r} {time.monotonic()!r}\\n".encode())
                in_child(work)
            pids.append(pid)
        os.close(gate_out)
        os.write(gate_in, b"x" * count)  # open the gate for all of them at once
        os.close(gate_in)
        print("raced", *[os.waitpid(pid, 0)[1] for pid in pids], flush=True)
"""

FORKER = child_source(FORKER_MAIN)


class Forker:
    """The publishing interpreter, driven line by line; kills and reaps what it forked when closed."""

    def __init__(self, root: Path, log: Path, rows_per_part: int, prebuilt: tuple[str, ...] = ()) -> None:
        self.log = log
        self.unreaped: set[int] = set()
        with open(log, "w") as errors:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-c", FORKER, str(root), str(rows_per_part), *prebuilt],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        ready = self.proc.stdout.readline()
        assert ready.strip() == "ready", f"the forker did not start: {self.errors()}"

    def errors(self) -> str:
        return self.log.read_text()[-3000:]

    def ask(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.read()

    def read(self) -> str:
        reply = self.proc.stdout.readline()
        assert reply, f"the forker died: {self.errors()}"
        return reply.strip()

    def publish(self, dataset: str, tag: str, seed: int, rows: int, linger: bool) -> int:
        """Fork a publisher, held (forked, frame in hand, store untouched) until `release`."""
        pid = int(self.ask(f"publish {dataset} {tag} {seed} {rows} {int(linger)}"))
        self.unreaped.add(pid)
        return pid

    def release(self, pid: int) -> None:
        assert self.ask(f"release {pid}") == "released"

    def reap(self, pid: int) -> int:
        status = int(self.ask(f"reap {pid}"))
        self.unreaped.discard(pid)
        return status

    def race(self, dataset: str, count: int, rows: int, step: int):
        """Statuses of the publishers, and each writer's (start, end) of its publish."""
        timings: dict[str, tuple[float, float]] = {}
        line = self.ask(f"race {dataset} {count} {rows} {step}")
        while line.startswith("timing "):
            _, tag, start, end = line.split()
            timings[tag] = (float(start), float(end))
            line = self.read()
        word, *statuses = line.split()
        assert word == "raced", line
        return [int(status) for status in statuses], timings

    def __enter__(self) -> Forker:
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            for pid in sorted(self.unreaped):  # only what this forker forked for the test
                os.kill(pid, signal.SIGKILL)
                self.reap(pid)
        finally:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()


# ----------------------------------------------------------------------------------------------------------
# Store invariants


def entries(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def assert_complete(version: Version, writer: str, rows: int) -> None:
    """`synthwright check --version`'s file checks (manifest names its folder; every file there with its
    sha256; nothing unlisted; Parquet row counts add up), and the manifest is the one its writer wrote."""
    failed = [f"{r.check}: {r.message}" for r in file_checks(version, version.manifest) if not r.passed]
    assert not failed, f"{version.path} is listed but broken: {failed}"
    manifest = json.loads((version.path / MANIFEST).read_text())
    assert manifest == version.manifest and manifest["version"] == version.name
    assert (manifest["writer"], manifest["rows"]) == (writer, rows), f"{version.name}: {manifest}"
    for entry in manifest["files"]:
        assert (version.path / entry["name"]).stat().st_size == entry["bytes"]


def assert_only_complete_versions(
    store: Store, dataset: str, expected: dict[str, tuple[str, int]], latest_may_be: set[str], victim: int
) -> list[str]:
    """The listed versions are exactly `expected` (name → writer, rows), numbered 1..n, each complete;
    `latest` points to one of `latest_may_be`; beside them lie at most the dead victim's leftovers."""
    folder = store.root / dataset
    names = [v.name for v in store.versions(dataset)]
    assert names == [version_name(number) for number in range(1, len(names) + 1)]
    assert names == sorted(expected), f"listed {names}, expected {sorted(expected)}"
    for version in store.versions(dataset):
        assert_complete(version, *expected[version.name])
    leftovers = {p.name for p in folder.glob(f".staging-{victim}-*")} | {
        p.name for p in folder.glob(f".latest-{victim}-*")
    }
    assert set(entries(folder)) - leftovers == {"latest", *names}
    latest = folder / "latest"
    assert latest.is_symlink(), "`latest` is gone"
    assert os.readlink(latest) in latest_may_be, (
        f"latest -> {os.readlink(latest)}, not one of {latest_may_be}"
    )
    assert latest.resolve() == (folder / os.readlink(latest)).resolve() and latest.resolve().is_dir()
    return names


# ----------------------------------------------------------------------------------------------------------
# 1. SIGKILL at random moments

KILL_TRIALS = 80
KILL_ROWS = 250_000
KILL_ROWS_PER_PART = 12_500  # twenty parts: a publish takes a few tenths of a second
BEFORE = "before the publish began (no staging folder yet)"
DURING = "mid-publish (its staging folder was left behind)"
COMMITTED = "after the commit, before `latest` moved to it"
AFTER = "after the commit and the `latest` swap"


def wait_for_new_version(folder: Path, known: list[str], forker: Forker) -> None:
    """Spin (no sleep) until a version folder that is not in `known` appears: the victim's rename."""
    known_set, deadline = set(known), time.monotonic() + 30
    while not any(name.startswith("v") and name not in known_set for name in os.listdir(folder)):
        assert time.monotonic() < deadline, f"the victim never committed: {forker.errors()}"


def publish_duration(forker: Forker, root: Path, dataset: str) -> float:
    """Seconds from the release of a publisher to its `latest` swap (its exit, which can be slow, aside)."""
    latest = root / dataset / "latest"
    pid = forker.publish(dataset, dataset, 1, KILL_ROWS, linger=True)
    started = time.monotonic()
    forker.release(pid)
    while not latest.is_symlink():
        assert time.monotonic() < started + 30, f"the publisher never finished: {forker.errors()}"
        time.sleep(0.0005)
    took = time.monotonic() - started
    os.kill(pid, signal.SIGKILL)
    forker.reap(pid)
    return took


def test_sigkill_at_random_moments_never_leaves_a_broken_version_and_the_next_publish_recovers(tmp_path):
    """KILL_TRIALS publishers, each SIGKILLed at a random moment (seeded): while still held before its
    publish, the moment its version folder appears (or a few ms later, around the `latest` swap), or
    after a random delay from its start to past its end (the publisher stays alive after its commit, so
    late kills land after the commit). Where each kill landed is read from what it left behind."""
    root = tmp_path / "out"
    store, folder, contract = Store(root), root / "big", build_contract()
    first = store.publish("big", build_frame(200, seed=0), contract, {"writer": "parent-start"})
    expected = {first.name: ("parent-start", 200)}
    rng = random.Random(20250611)
    tally: Counter[str] = Counter()
    with Forker(root, tmp_path / "forker.log", KILL_ROWS_PER_PART, (f"1:{KILL_ROWS}",)) as forker:
        # how long a whole publish (release to `latest` swap) takes here, now: the kill delays spread over it
        span = min(publish_duration(forker, root, f"calibration-{index}") for index in range(3))

        for trial in range(KILL_TRIALS):
            tag, names = f"victim-{trial}", [v.name for v in store.versions("big")]
            latest_before = os.readlink(folder / "latest")
            draw = rng.random()
            victim = forker.publish("big", tag, 1, KILL_ROWS, linger=True)
            if draw < 0.10:
                pass  # killed while still held: forked and ready, but not yet publishing
            elif draw < 0.25:
                forker.release(victim)
                wait_for_new_version(folder, names, forker)
                if rng.random() < 0.5:  # else at once: right after the rename, before what follows it
                    time.sleep(rng.uniform(0.0, 0.003))  # around the `latest` swap that follows the rename
            else:
                forker.release(victim)
                time.sleep(rng.uniform(0.0, 1.2 * span))  # zero to past the end of a whole publish
            os.kill(victim, signal.SIGKILL)
            status = forker.reap(victim)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, forker.errors()

            # where the kill landed, from what it left
            new = [v for v in store.versions("big") if v.name not in names]
            staging = sorted(folder.glob(f".staging-{victim}-*"))
            links = sorted(folder.glob(f".latest-{victim}-*"))
            if new:
                assert [v.name for v in new] == [version_name(len(names) + 1)]
                assert not staging, "a committed publisher left its staging folder"
                expected[new[0].name] = (tag, KILL_ROWS)
                point = AFTER if os.readlink(folder / "latest") == new[0].name else COMMITTED
            else:
                assert len(staging) <= 1 and not links
                point = DURING if staging else BEFORE
            tally[point] += 1

            # (a) only complete versions are listed; `latest` never moves backwards nor dangles
            latest_may_be = {latest_before, *(v.name for v in new)}
            listed = assert_only_complete_versions(store, "big", expected, latest_may_be, victim)

            # (b) the next publish gets the next number and removes whatever the victim left
            frame = build_frame(50 + trial, seed=1000 + trial)
            version = store.publish("big", frame, contract, {"writer": f"parent-{trial}"})
            assert version.name == version_name(len(listed) + 1)
            expected[version.name] = (f"parent-{trial}", len(frame))
            assert not any(path.exists() or path.is_symlink() for path in [*staging, *links])
            assert entries(folder) == ["latest", *listed, version.name]
            assert os.readlink(folder / "latest") == version.name
            assert_complete(store.version("big"), f"parent-{trial}", len(frame))
            assert_same_values(read_version(store.version("big")), frame, contract)

    after = tally[COMMITTED] + tally[AFTER]
    summary = ", ".join(f"{tally[p]} {p}" for p in (BEFORE, DURING, COMMITTED, AFTER))
    print(f"\n{KILL_TRIALS} SIGKILLs (a whole publish took {span:.2f}s): {summary}")
    assert sum(tally.values()) == KILL_TRIALS
    assert len(store.versions("big")) == 1 + KILL_TRIALS + after
    assert tally[BEFORE] >= 1 and after >= 1, summary
    assert tally[DURING] >= KILL_TRIALS // 4, summary


# ----------------------------------------------------------------------------------------------------------
# 2. A full disk during publish

ENOSPC_TEXT = os.strerror(errno.ENOSPC)


def fail_in_parquet_write(patch: pytest.MonkeyPatch) -> list[str]:
    """The third part's write runs out of space half-way (pyarrow's own OSError: errno set, no file)."""
    real, calls, hit = pq.write_table, [], []

    def write_table(table, where, **kwargs):
        calls.append(where)
        if len(calls) < 3:
            return real(table, where, **kwargs)
        Path(where).write_bytes(b"PAR1" + bytes(4096))  # what reached the disk before it filled
        hit.append(str(where))
        raise OSError(errno.ENOSPC, f"Error writing bytes to file. Detail: [errno 28] {ENOSPC_TEXT}")

    patch.setattr(synthwright.pipelines.store.pq, "write_table", write_table)
    return hit


def fail_in_manifest_write(patch: pytest.MonkeyPatch) -> list[str]:
    """The staged manifest.json is half written when the disk fills (the parts are all there)."""
    real, hit = Path.write_text, []

    def write_text(self, data, *args, **kwargs):
        if self.name == MANIFEST and self.parent.name.startswith(".staging-"):
            real(self, data[: len(data) // 2], *args, **kwargs)
            hit.append(str(self))
            raise OSError(errno.ENOSPC, ENOSPC_TEXT)
        return real(self, data, *args, **kwargs)

    patch.setattr(Path, "write_text", write_text)
    return hit


def fail_in_fsync(patch: pytest.MonkeyPatch) -> list[str]:
    """fsync reports ENOSPC (delayed allocation, thin pools, NFS): the writes themselves had succeeded."""
    hit = []

    def fsync_tree(folder):
        hit.append(str(folder))
        raise OSError(errno.ENOSPC, ENOSPC_TEXT)

    patch.setattr(synthwright.pipelines.store, "fsync_tree", fsync_tree)
    return hit


SIMULATED = {
    "parquet_part": fail_in_parquet_write,
    "manifest": fail_in_manifest_write,
    "fsync": fail_in_fsync,
}


def assert_untouched(store: Store, first: Version) -> None:
    """No new version, no staging folder, nothing else: `latest` still points to the first version."""
    folder = store.root / first.dataset
    assert entries(folder) == ["latest", first.name]
    assert os.readlink(folder / "latest") == first.name
    assert [v.name for v in store.versions(first.dataset)] == [first.name]
    assert_complete(store.version(first.dataset), "first", first.manifest["rows"])


def assert_clear_disk_full_error(error: BaseException, root: Path) -> None:
    """A user-facing error (exit 2) that says the disk is full and where."""
    shown = f"{type(error).__name__}: {error}"
    assert isinstance(error, UserInputError), shown
    assert error.exit_code == 2
    assert any(word in str(error).lower() for word in ("no space", "disk is full", "disk full", "enospc")), (
        shown
    )
    assert str(root) in str(error), f"the message does not name the output folder: {shown}"


@pytest.fixture
def published_once(tmp_path, monkeypatch):
    monkeypatch.setattr(
        synthwright.pipelines.store, "ROWS_PER_PART", 2_000
    )  # the failing frame has five parts
    store = Store(tmp_path / "out")
    first = store.publish("big", build_frame(500, seed=0), build_contract(), {"writer": "first"})
    return store, first


@pytest.mark.parametrize("point", sorted(SIMULATED))
def test_simulated_full_disk_publishes_nothing_and_the_next_publish_succeeds(
    published_once, monkeypatch, point
):
    store, first = published_once
    frame, contract = build_frame(10_000, seed=1), build_contract()
    with monkeypatch.context() as patch:
        hit = SIMULATED[point](patch)
        with pytest.raises((OSError, SynthwrightError)):
            store.publish("big", frame, contract, {"writer": "full"})
    assert hit, "the simulated full disk was never reached"
    assert_untouched(store, first)

    version = store.publish("big", frame, contract, {"writer": "freed"})  # space is back
    assert version.name == "v000002" and os.readlink(store.root / "big" / "latest") == "v000002"
    assert entries(store.root / "big") == ["latest", "v000001", "v000002"]
    assert_complete(version, "freed", len(frame))
    assert_same_values(read_version(version), frame, contract)


@pytest.mark.parametrize("point", sorted(SIMULATED))
def test_simulated_full_disk_error_says_the_disk_is_full_and_names_the_path(
    published_once, monkeypatch, point
):
    store, _ = published_once
    with monkeypatch.context() as patch:
        SIMULATED[point](patch)
        with pytest.raises((OSError, SynthwrightError)) as info:
            store.publish("big", build_frame(10_000, seed=1), build_contract(), {"writer": "full"})
    assert_clear_disk_full_error(info.value, store.root)


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def mount_tmpfs(folder: Path, size: str) -> str | None:
    """Mount a small tmpfs on `folder`; None when it worked, else why not."""
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "no mount/umount command"
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    if done.returncode != 0:
        return (done.stderr or done.stdout).strip() or f"mount exited {done.returncode}"
    total = os.statvfs(folder).f_blocks * os.statvfs(folder).f_frsize
    if not 1 << 20 <= total <= 4 << 20:
        unmount(folder)
        return f"mounted, but {total} bytes large"
    return None


def unmount(folder: Path) -> None:
    if subprocess.run(["umount", str(folder)], capture_output=True, timeout=30).returncode != 0:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MiB filesystem (tmpfs), when this machine lets the test mount one."""
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    why_not = mount_tmpfs(mountpoint, "2m")
    if why_not is not None:
        pytest.skip(f"cannot mount a small tmpfs here ({why_not}); the simulated full-disk tests still run")
    try:
        yield mountpoint
    finally:
        unmount(mountpoint)


def test_real_full_disk_publishes_nothing_and_publishes_once_space_is_freed(
    small_disk, tmp_path, monkeypatch
):
    monkeypatch.setattr(
        synthwright.pipelines.store, "ROWS_PER_PART", 10_000
    )  # the disk fills part-way, between parts
    contract = build_contract()
    fits = build_frame(50_000, seed=2)
    reference = Store(tmp_path / "reference").publish("big", fits, contract, {"writer": "reference"})
    fits_bytes = sum(entry["bytes"] for entry in reference.manifest["files"])

    store = Store(small_disk / "out")
    first = store.publish("big", build_frame(500, seed=0), contract, {"writer": "first"})
    free = free_bytes(small_disk)
    assert fits_bytes + 100_000 < free, "the frame meant to fit the empty disk does not"

    # a frame larger than the whole disk
    with pytest.raises((OSError, SynthwrightError)):
        store.publish("big", build_frame(150_000, seed=1), contract, {"writer": "too-big"})
    assert_untouched(store, first)
    assert free_bytes(small_disk) == free, "the failed publish did not give its space back"

    # a frame that fits the empty disk, but not beside a ballast file that leaves half its size free
    ballast = small_disk / "ballast"
    ballast.write_bytes(os.urandom(free - fits_bytes // 2))
    with pytest.raises((OSError, SynthwrightError)):
        store.publish("big", fits, contract, {"writer": "full"})
    assert_untouched(store, first)
    ballast.unlink()  # free the space

    version = store.publish("big", fits, contract, {"writer": "freed"})
    assert version.name == "v000002" and os.readlink(store.root / "big" / "latest") == "v000002"
    assert entries(store.root / "big") == ["latest", "v000001", "v000002"]
    assert_complete(version, "freed", len(fits))
    assert version.manifest["files"] == reference.manifest["files"]  # the very bytes of a normal publish


def test_real_full_disk_error_says_the_disk_is_full_and_names_the_path(small_disk):
    store = Store(small_disk / "out")
    with pytest.raises((OSError, SynthwrightError)) as info:
        store.publish("big", build_frame(150_000, seed=1), build_contract(), {"writer": "too-big"})
    assert_clear_disk_full_error(info.value, store.root)


# ----------------------------------------------------------------------------------------------------------
# 3. Eight publishers at once

RACERS = 8
RACE_ROWS, RACE_STEP, RACE_ROWS_PER_PART = 20_000, 1_000, 5_000


def test_eight_publishers_at_once_get_eight_versions_each_holding_one_publishers_bytes(tmp_path, monkeypatch):
    """Stronger than test_store's eight-process test: eight different frames of four or more parts each
    (so a part of one publisher inside another's version would show), released together through one
    pipe so that their publishes provably overlap, and every version's files compared byte for byte
    (sha256 in the manifest, checked against the files) with a solo publish of its writer's frame."""
    root = tmp_path / "out"
    with Forker(root, tmp_path / "forker.log", RACE_ROWS_PER_PART) as forker:
        statuses, timings = forker.race("shared", RACERS, RACE_ROWS, RACE_STEP)
        assert statuses == [0] * RACERS, forker.errors()
    assert sorted(timings) == sorted(str(writer) for writer in range(RACERS))
    in_flight = max(
        sum(start <= moment < end for start, end in timings.values()) for moment, _ in timings.values()
    )
    assert in_flight >= RACERS // 2, f"at most {in_flight} publishes overlapped: {timings}"

    monkeypatch.setattr(synthwright.pipelines.store, "ROWS_PER_PART", RACE_ROWS_PER_PART)
    solo, contract = Store(tmp_path / "solo"), build_contract()
    solo_files = {
        str(writer): solo.publish(
            f"w{writer}", build_frame(RACE_ROWS + writer * RACE_STEP, writer), contract, {}
        ).manifest["files"]
        for writer in range(RACERS)
    }
    assert len({json.dumps(files) for files in solo_files.values()}) == RACERS  # eight different frames

    store, folder = Store(root), root / "shared"
    versions = store.versions("shared")
    names = [version_name(number) for number in range(1, RACERS + 1)]
    assert [v.name for v in versions] == names
    assert entries(folder) == ["latest", *names]
    assert os.readlink(folder / "latest") == names[-1]
    for version in versions:
        writer = version.manifest["writer"]
        assert_complete(version, writer, RACE_ROWS + int(writer) * RACE_STEP)
        assert len(version.manifest["files"]) >= 4
        assert version.manifest["files"] == solo_files[writer], (
            f"{version.name} is not writer {writer}'s frame"
        )
    assert sorted(v.manifest["writer"] for v in versions) == sorted(solo_files)
    assert len({v.manifest["pid"] for v in versions}) == RACERS
    print(f"\n{RACERS} publishers at once: up to {in_flight} publishes in flight together")
