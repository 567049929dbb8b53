"""Hostile cases, second round: outputs that would destroy an input, writes that fail, limits that are
checked up front, work folders that hold real rows, and thread pools on a busy machine.

Every case builds its inputs in tmp_path. A refusal is exit 2 with one `error:` line naming the path or
option and a `fix:` line, and the inputs are byte-for-byte as they were.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from cli_support import Result, assert_clean_user_error, cli, cli_captured
from hostile_support import assert_clean_run_error, put, registrar

from synthwright.errors import ConfigError
from synthwright.limits import SEED_MAX, check_sample_memory, check_seed
from synthwright.pipelines import workspace
from synthwright.threads import THREADS_ENV, chosen_threads, free_cores, usable_cores

HEADER = "k,a,b\n"
CONTRACT = """version: 1
dataset: small
primary_key: k
columns:
- {name: k, kind: identifier, id_type: integer, unique: true}
- {name: a, kind: integer, min: 0, max: 6}
- {name: b, kind: categorical, values: [x, y]}
"""
ENOSPC = os.strerror(errno.ENOSPC)


def small_csv(tmp: Path, name: str = "data.csv", rows: int = 60) -> Path:
    return put(tmp / name, HEADER + "".join(f"{i},{i % 7},{'xy'[i % 2]}\n" for i in range(rows)))


def contract_file(tmp: Path) -> Path:
    return put(tmp / "contract.yaml", CONTRACT)


def snapshot(*paths: Path) -> dict[Path, bytes]:
    """Every file's bytes, to show afterwards that nothing was overwritten."""
    files = {}
    for path in paths:
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            files[file] = file.read_bytes()
    return files


def assert_unchanged(before: dict[Path, bytes]) -> None:
    for file, data in before.items():
        assert file.read_bytes() == data, f"{file} was changed"


@pytest.fixture(scope="module")
def copula_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    result = cli_captured("fit", small_csv(folder), "-g", "copula", "--out", folder / "model")
    assert result.code == 0, result.err
    return folder / "model"


def copied_model(model: Path, tmp: Path) -> Path:
    return Path(shutil.copytree(model, tmp / "model"))


CASES: list = []


case = registrar(CASES)


# ---- 1. never destroy an input -----------------------------------------------------------------------


def refuses_to_overwrite(capsys, inputs: list[Path], *args, needle: str = "destroy") -> Result:
    before = snapshot(*inputs)
    result = cli(capsys, *args)
    assert_clean_user_error(result)
    assert needle in result.err, result.err
    assert_unchanged(before)
    return result


@case("infer-out-is-the-data")
def _(capsys, tmp, model):
    data = small_csv(tmp)
    refuses_to_overwrite(capsys, [data], "contract", "infer", data, "--out", data)


@case("infer-out-is-a-symlink-to-the-data")
def _(capsys, tmp, model):
    data = small_csv(tmp)
    (tmp / "link.csv").symlink_to(data)
    refuses_to_overwrite(capsys, [data], "contract", "infer", data, "--out", tmp / "link.csv")


@case("infer-out-is-a-hard-link-to-the-data")
def _(capsys, tmp, model):
    data = small_csv(tmp)
    os.link(data, tmp / "hard.csv")
    refuses_to_overwrite(capsys, [data], "contract", "infer", data, "--out", tmp / "hard.csv")


@case("infer-out-is-the-data-by-another-spelling")
def _(capsys, tmp, model):
    data = small_csv(tmp)
    (tmp / "sub").mkdir()
    refuses_to_overwrite(capsys, [data], "contract", "infer", data, "--out", tmp / "sub" / ".." / "data.csv")


@case("contract-check-junit-is-the-contract")
def _(capsys, tmp, model):
    data, contract = small_csv(tmp), contract_file(tmp)
    refuses_to_overwrite(
        capsys, [data, contract], "contract", "check", data, "--contract", contract, "--junit", contract
    )


@case("contract-check-junit-is-the-data")
def _(capsys, tmp, model):
    data, contract = small_csv(tmp), contract_file(tmp)
    refuses_to_overwrite(
        capsys, [data, contract], "contract", "check", data, "--contract", contract, "--junit", data
    )


@case("check-out-is-the-data")
def _(capsys, tmp, model):
    data, contract = small_csv(tmp), contract_file(tmp)
    refuses_to_overwrite(capsys, [data, contract], "check", data, "--contract", contract, "--out", data)


@case("check-out-is-the-baseline")
def _(capsys, tmp, model):
    data, contract, baseline = small_csv(tmp), contract_file(tmp), small_csv(tmp, "base.csv")
    refuses_to_overwrite(
        capsys,
        [data, contract, baseline],
        "check",
        data,
        "--contract",
        contract,
        "--baseline",
        baseline,
        "--out",
        baseline,
    )


@case("evaluate-report-is-the-train-file")
def _(capsys, tmp, model):
    train, holdout, synthetic = (small_csv(tmp, f"{n}.csv") for n in ("train", "holdout", "synthetic"))
    args = ("evaluate", "--train", train, "--holdout", holdout, "--synthetic", synthetic)
    refuses_to_overwrite(capsys, [train, holdout, synthetic], *args, "--report", train)


@case("evaluate-report-is-the-synthetic-file")
def _(capsys, tmp, model):
    train, holdout, synthetic = (small_csv(tmp, f"{n}.csv") for n in ("train", "holdout", "synthetic"))
    args = ("evaluate", "--train", train, "--holdout", holdout, "--synthetic", synthetic)
    refuses_to_overwrite(capsys, [train, holdout, synthetic], *args, "--report", synthetic)


@case("sample-out-is-the-conditions-file")
def _(capsys, tmp, model):
    conditions = put(tmp / "conditions.csv", "b\nx\ny\n")
    refuses_to_overwrite(
        capsys, [conditions], "sample", model, "--conditions", conditions, "--out", conditions
    )


@case("sample-out-inside-the-model-folder")
def _(capsys, tmp, model):
    model = copied_model(model, tmp)
    refuses_to_overwrite(
        capsys, [model], "sample", model, "--rows", "5", "--out", model / "generator.json", needle="inside"
    )


@case("fit-out-is-the-folder-holding-the-data")
def _(capsys, tmp, model):
    folder = tmp / "data"
    folder.mkdir()
    data = small_csv(folder)
    refuses_to_overwrite(capsys, [data], "fit", data, "-g", "copula", "--out", folder, needle="holds")


@case("fit-out-is-a-model-folder-holding-the-data")
def _(capsys, tmp, model):
    model = copied_model(model, tmp)
    data = small_csv(model, "train.csv")  # the data was kept inside an old model folder
    refuses_to_overwrite(capsys, [model], "fit", data, "-g", "copula", "--out", model, needle="holds")


# ---- 6. limits up front: seeds and row counts ----------------------------------------------------------


@case("fit-seed-negative")
def _(capsys, tmp, model):
    data = small_csv(tmp)
    result = cli(capsys, "fit", data, "-g", "copula", "--seed", "-1", "--out", tmp / "m")
    assert_clean_user_error(result, "--seed")
    assert not (tmp / "m").exists()


@case("fit-seed-beyond-32-bits")
def _(capsys, tmp, model):
    result = cli(
        capsys, "fit", small_csv(tmp), "-g", "copula", "--seed", str(SEED_MAX + 1), "--out", tmp / "m"
    )
    assert_clean_user_error(result, "--seed")


@case("sample-seed-beyond-32-bits")
def _(capsys, tmp, model):
    result = cli(capsys, "sample", model, "--rows", "5", "--seed", str(2**64), "--out", tmp / "s.csv")
    assert_clean_user_error(result, "--seed")
    assert not (tmp / "s.csv").exists()


@case("sample-seed-true")
def _(capsys, tmp, model):
    assert_clean_user_error(cli(capsys, "sample", model, "-n", "5", "--seed", "true", "--out", tmp / "s.csv"))


@case("sample-rows-true")
def _(capsys, tmp, model):
    assert_clean_user_error(cli(capsys, "sample", model, "--rows", "true", "--out", tmp / "s.csv"), "--rows")


@case("evaluate-seed-negative")
def _(capsys, tmp, model):
    train = small_csv(tmp)
    args = ("evaluate", "--train", train, "--holdout", train, "--synthetic", train, "--seed", "-3")
    assert_clean_user_error(cli(capsys, *args, "--report", tmp / "r.html"), "--seed")


@case("sample-rows-beyond-memory")
def _(capsys, tmp, model):
    result = cli(capsys, "sample", model, "--rows", str(10**13), "--out", tmp / "s.csv")
    assert_clean_user_error(result, "GiB")
    assert not (tmp / "s.csv").exists()


@case("api-seed-true-and-out-of-range")
def _(capsys, tmp, model):
    from synthwright.generators.registry import create_generator

    for seed in (True, -1, SEED_MAX + 1, 1.5):
        with pytest.raises(ConfigError, match="not a seed"):
            create_generator("copula", seed=seed)
    assert check_seed(SEED_MAX, "seed") == SEED_MAX


@case("api-sample-seed-beyond-32-bits")
def _(capsys, tmp, model):
    from synthwright.generators.base import Generator

    loaded = Generator.load(model)
    with pytest.raises(ConfigError, match="not a seed"):
        loaded.sample(5, seed=2**40)
    with pytest.raises(Exception, match="whole number"):
        loaded.sample(True)


@case("memory-estimate-names-the-rows-and-the-fix")
def _(capsys, tmp, model):
    with pytest.raises(ConfigError) as raised:
        check_sample_memory(10**14, ["float", "categorical"], "spec.yaml: sample.rows")
    assert "spec.yaml: sample.rows" in raised.value.message and "GiB" in raised.value.message
    assert "at most about" in (raised.value.hint or "")
    check_sample_memory(1000, ["float"] * 10, "fine")  # a small sample passes


@pytest.mark.parametrize("check", CASES)
def test_hostile_case(check, capsys, tmp_path, copula_model):
    check(capsys, tmp_path, copula_model)


# ---- runs: limits, failing writes, work folders (the Prefect test server) ----------------------------


def spec_for(tmp: Path, data: Path, extra: str = "") -> Path:
    return put(
        tmp / "spec.yaml", f"dataset: small\nsource: {{path: {data}}}\ngenerator: {{name: copula}}\n{extra}"
    )


def run_args(tmp: Path, spec: Path, *sets: str) -> tuple:
    return ("run", spec, "--set", f"output.root={tmp / 'out'}", "--set", "sample.rows=50", *sets)


RUNS: list = []


run_case = registrar(RUNS)


@run_case("run-seed-true-refused-before-the-flow")
def _(capsys, tmp, cache):
    spec = spec_for(tmp, small_csv(tmp))
    result = cli(capsys, *run_args(tmp, spec, "--set", "seed=true"))
    assert_clean_user_error(result, spec.name)
    assert "seed: Input should be a valid integer (got True)" in result.err


@run_case("run-rows-true-refused-before-the-flow")
def _(capsys, tmp, cache):
    spec = spec_for(tmp, small_csv(tmp))
    result = cli(capsys, *run_args(tmp, spec, "--set", "sample.rows=true"))
    assert_clean_user_error(result, spec.name)
    assert "sample.rows: Input should be a valid integer (got True)" in result.err


@run_case("run-rows-beyond-memory-refused-before-any-fit")
def _(capsys, tmp, cache):
    spec = spec_for(tmp, small_csv(tmp))
    result = cli(capsys, *run_args(tmp, spec, "--set", f"sample.rows={10**13}"))
    assert_clean_run_error(result, "sample", "GiB")
    assert "step=fit" not in result.err


@run_case("run-output-root-not-writable-found-before-ingest")
def _(capsys, tmp, cache):
    locked = tmp / "locked"
    locked.mkdir()
    spec = spec_for(tmp, small_csv(tmp))
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if str(path).startswith(str(locked)) and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", refusing_open)  # root ignores mode bits: refuse as a kernel would
        result = cli(capsys, *run_args(tmp, spec, "--set", f"output.root={locked}"))
    assert_clean_user_error(result, str(locked))
    assert "step=ingest" not in result.err


@run_case("run-full-disk-while-recording-a-rejection")
def _(capsys, tmp, cache):
    spec = spec_for(tmp, small_csv(tmp, rows=120))
    real_copy = shutil.copyfile

    def copy_then_fill(source, target, *args, **kwargs):
        if Path(target).name == "evaluation.json":  # the report went in; then the disk filled
            Path(target).write_bytes(b"{")
            raise OSError(errno.ENOSPC, ENOSPC, str(target))
        return real_copy(source, target, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("synthwright.pipelines.gate.shutil.copyfile", copy_then_fill)
        result = cli(capsys, *run_args(tmp, spec, "--set", "gates.trend_error_max=0.001"))
    line = assert_clean_run_error(result, "rejection record", str(tmp / "out"))
    assert "No space" in line
    rejected = tmp / "out" / "small" / "rejected"
    assert list(rejected.iterdir()) == [], "a half-written rejection record was left behind"


@run_case("run-rejection-record-is-whole")
def _(capsys, tmp, cache):
    spec = spec_for(tmp, small_csv(tmp, rows=120))
    result = cli(capsys, *run_args(tmp, spec, "--set", "gates.trend_error_max=0.001"))
    assert result.code == 1, result
    (record,) = (tmp / "out" / "small" / "rejected").iterdir()
    assert sorted(p.name for p in record.iterdir()) == ["evaluation.json", "rejection.json", "report.html"]


@run_case("run-full-disk-in-the-work-folder")
def _(capsys, tmp, cache):
    spec = spec_for(tmp, small_csv(tmp))
    import synthwright.pipelines.steps as steps

    def full(frame, contract, path):
        raise OSError(errno.ENOSPC, ENOSPC, str(path))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(steps, "write_frame", full)
        result = cli(capsys, *run_args(tmp, spec, "--no-cache"))
    line = assert_clean_run_error(result, "No space", str(cache / workspace.WORK_FOLDER))
    assert "real.parquet" in line
    assert list((cache / workspace.WORK_FOLDER).iterdir()) == [], "the work folder was left behind"


@run_case("run-cache-folder-open-to-others-is-made-private")
def _(capsys, tmp, cache):
    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)
    result = cli(capsys, *run_args(tmp, spec_for(tmp, small_csv(tmp))))
    assert result.code in (0, 1), result  # published or gated: the run went through
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


@run_case("run-keeps-real-rows-out-of-the-system-temp-folder")
def _(capsys, tmp, cache):
    before = set(Path(tempfile.gettempdir()).glob("synthwright-*"))
    seen: list[Path] = []
    import synthwright.pipelines.steps as steps

    real_write = steps.write_frame

    def spying_write(frame, contract, path):
        seen.append(Path(path))
        return real_write(frame, contract, path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(steps, "write_frame", spying_write)
        result = cli(capsys, *run_args(tmp, spec_for(tmp, small_csv(tmp)), "--no-cache"))
    assert result.code in (0, 1), result
    assert seen and all((cache / workspace.WORK_FOLDER) in p.parents for p in seen), seen
    assert stat.S_IMODE((cache / workspace.WORK_FOLDER).stat().st_mode) == 0o700
    assert set(Path(tempfile.gettempdir()).glob("synthwright-*")) == before
    assert list((cache / workspace.WORK_FOLDER).iterdir()) == []


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SYNTHWRIGHT_CACHE_DIR", str(folder))
    return folder


@pytest.mark.parametrize("check", RUNS)
def test_run_case(check, prefect_api_url, capsys, tmp_path, cache):
    check(capsys, tmp_path, cache)


# ---- 10. work folders: stale ones go, live ones stay --------------------------------------------------


def test_stale_work_folders_are_removed_and_live_ones_kept(tmp_path):
    root = tmp_path / "cache"
    mine = workspace.open_work_folder(root, "synthesize")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = root / "work" / f"synthesize-{workspace._host()}-{dead.pid}-abc"
    stale.mkdir()
    (stale / "real.parquet").write_bytes(b"rows")
    foreign_old = root / "work" / "augment-otherhost-12-xyz"
    foreign_old.mkdir()
    os.utime(foreign_old, (0, 0))
    foreign_new = root / "work" / "augment-otherhost-13-xyz"
    foreign_new.mkdir()
    not_ours = root / "work" / "notes"
    not_ours.mkdir()
    second = workspace.open_work_folder(root, "synthesize")
    assert mine.is_dir() and second.is_dir()
    assert not stale.exists() and not foreign_old.exists()
    assert foreign_new.is_dir() and not_ours.is_dir()
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(mine.stat().st_mode) == 0o700


def test_a_cache_folder_that_cannot_be_made_private_is_refused(tmp_path, monkeypatch):
    root = tmp_path / "shared"
    root.mkdir(mode=0o777)
    root.chmod(0o777)

    def refuse(self, mode, **kwargs):
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(self))

    monkeypatch.setattr(Path, "chmod", refuse)
    with pytest.raises(ConfigError, match="open to other users"):
        workspace.private_folder(root, "the cache folder", "set cache.root")


KILL_TRIALS = 3


@pytest.mark.slow
def test_killed_runs_leave_no_real_rows_outside_the_cache(prefect_api_url, tmp_path):
    """SIGKILL a `synthwright run` during its fit, KILL_TRIALS times: nothing appears in the system temp
    folder, the work folder is under the cache root, and the next run's start removes it."""
    cache = tmp_path / "cache"
    data = small_csv(tmp_path, rows=400)
    spec = put(
        tmp_path / "spec.yaml",
        f"dataset: small\nsource: {{path: {data}}}\n"
        "generator: {name: tvae, config: {epochs: 100000, max_minutes: null}}\ncache: {enabled: false}\n",
    )
    temp_before = set(Path(tempfile.gettempdir()).glob("synthwright-*"))
    env = {**os.environ, "PREFECT_API_URL": prefect_api_url, "SYNTHWRIGHT_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "synthwright.pipelines.cli", *map(str, run_args(tmp_path, spec))]
    killed = 0
    for _trial in range(KILL_TRIALS):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            work = list((cache / "work").glob("*/fit")) if (cache / "work").is_dir() else []
            if work:
                time.sleep(1.0)  # inside the fit
                break
            time.sleep(0.2)
        assert process.poll() is None, "the run ended before its fit could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed += 1
        left = list((cache / "work").iterdir())
        # the killed run's folder is under the cache root; the one killed before it was swept at start
        assert len(left) == 1, left
        assert set(Path(tempfile.gettempdir()).glob("synthwright-*")) == temp_before
    assert killed == KILL_TRIALS
    assert len(workspace.remove_stale_work(cache / "work")) == 1
    assert list((cache / "work").iterdir()) == []


# ---- 12. thread pools sized to the free cores ---------------------------------------------------------


def test_threads_follow_the_setting(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "3")
    assert chosen_threads() == 3
    monkeypatch.setenv(THREADS_ENV, "all")
    assert chosen_threads() is None
    monkeypatch.setenv(THREADS_ENV, "lots")
    assert 1 <= chosen_threads() <= usable_cores()
    assert 1 <= free_cores() <= usable_cores()


def test_a_command_sizes_its_pools_before_the_libraries_load(tmp_path):
    """A fresh process: `SYNTHWRIGHT_THREADS=1 synthwright contract infer` runs every pool on one thread."""
    probe = (
        "import os, sys\n"
        "from synthwright.pipelines.cli.app import main\n"
        "try:\n"
        f"    main(['contract', 'infer', {str(small_csv(tmp_path))!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "from threadpoolctl import threadpool_info\n"
        "pools = sorted({p['num_threads'] for p in threadpool_info()})\n"
        "print('POOLS', pools, os.environ['OMP_NUM_THREADS'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    env[THREADS_ENV] = "1"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("POOLS"))
    assert line == "POOLS [1] 1", line


def test_the_hostile_corpus_is_large_enough():
    """Issue 23 asked tests/reliability/ to hold at least 130 hostile cases (88 before it)."""
    import importlib

    counted = {}
    for name in (
        "test_bad_inputs",
        "test_kinds_and_encodings",
        "test_degenerate_data",
        "test_stores_and_models",
        "test_wide_and_large",
        "test_writes_and_limits",
    ):
        module = importlib.import_module(name)
        counted[name] = sum(len(getattr(module, list_name, [])) for list_name in ("BAD", "CASES", "RUNS"))
    assert sum(counted.values()) >= 130, counted
