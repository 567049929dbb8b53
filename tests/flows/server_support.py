"""A real Prefect server and the processes around it, for integration tests (importable as
`server_support` from tests/flows): start, poll with bounded waits, and kill whole process trees.

Every process is started in its own session (its own process group) with its output in files (pipes
can fill and block). Stopping one freezes its whole tree first (SIGSTOP, so nothing spawns while we
look), then SIGKILLs every process group and process in it: Prefect's process worker starts each flow
run in a new session, which a plain group kill would leave behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
SYNTHWRIGHT = str(BIN / "synthwright")

# Server settings that make schedules and pauses show up in seconds instead of minutes.
SERVER_SETTINGS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1",
    "PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS": "1",
    # A few future runs per schedule are enough (the default is up to 100 per deployment).
    "PREFECT_SERVER_SERVICES_SCHEDULER_MIN_RUNS": "1",
    "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_RUNS": "3",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_LOOP_SECONDS": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def clean_environ() -> dict[str, str]:
    """os.environ without any PREFECT_* variable (nothing leaks from the test process's own Prefect)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- processes -----------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, session id) of a process, from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "(comm)": state ppid pgrp session ...
    return int(fields[1]), int(fields[3])


def descendants(root: int, root_alive: bool = True) -> list[int]:
    """Every living descendant of `root`, and every process left in its session (`root` started one;
    orphans whose parent died stay in it), from /proc."""
    children: dict[int, list[int]] = {}
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != root:
            stat = _stat(int(entry.name))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry.name))
                if stat[1] == root:
                    found.append(int(entry.name))
    queue = [root, *found] if root_alive else list(found)
    while queue:
        for child in children.get(queue.pop(0), []):
            if child not in found:
                found.append(child)
                queue.append(child)
    return found


def kill_tree(root: int, root_alive: bool = True) -> None:
    """Freeze then SIGKILL `root`, its descendants and their process groups (never our own group).
    `root_alive=False`: root was reaped (its pid may be reused), only what is left of its tree."""
    ours = os.getpgrp()
    seen: set[int] = set()
    groups: set[int] = set()

    def freeze(pid: int) -> None:
        seen.add(pid)
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            return
        if group != ours and group not in groups:
            groups.add(group)
            with _gone_ok():
                os.killpg(group, signal.SIGSTOP)
        with _gone_ok():
            os.kill(pid, signal.SIGSTOP)

    if root_alive:
        freeze(root)
    else:
        seen.add(root)
    for _ in range(20):  # until no new descendant shows up
        new = [pid for pid in descendants(root, root_alive) if pid not in seen]
        if not new:
            break
        for pid in new:
            freeze(pid)
    for group in groups:
        with _gone_ok():
            os.killpg(group, signal.SIGKILL)
    for pid in seen - ({root} if not root_alive else set()):
        with _gone_ok():
            os.kill(pid, signal.SIGKILL)


@contextmanager
def _gone_ok() -> Iterator[None]:
    with suppress(ProcessLookupError, PermissionError):
        yield


class Proc:
    """A subprocess in its own session, stdout and stderr in files under `folder`."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], folder: Path, cwd: Path):
        self.name = name
        self.args = [str(a) for a in args]
        folder.mkdir(parents=True, exist_ok=True)
        self.out_path = folder / f"{name}.stdout"
        self.err_path = folder / f"{name}.stderr"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(
                self.args,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    @property
    def out(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def err(self) -> str:
        return self.err_path.read_text(errors="replace")

    def tail(self, lines: int = 25) -> str:
        parts = [f"--- {self.name}: {' '.join(self.args)} (exit {self.poll()})"]
        for label, text in (("stderr", self.err), ("stdout", self.out)):
            last = text.strip().splitlines()[-lines:]
            parts.append(f"--- {self.name} {label} (last {len(last)} lines):\n" + "\n".join(last))
        return "\n".join(parts)

    def wait(self, timeout: float) -> int:
        """The exit code, or an assertion error with the output's tail after `timeout` seconds."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still running after {timeout:.0f} s\n{self.tail()}") from None

    def stop(self) -> None:
        kill_tree(self.pid, root_alive=self.popen.poll() is None)
        with suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)


@dataclass
class Result:
    code: int
    out: str
    err: str
    proc: Proc

    def describe(self) -> str:
        return self.proc.tail(40)


def wait_until(check: Callable[[], T | None], timeout: float, what: str, context: Callable[[], str]) -> T:
    """Poll `check` every second until it returns something truthy; else fail naming `what`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = check()
            last_error = None
        except _Abort:
            raise
        except Exception as error:  # noqa: BLE001 — an API hiccup is retried until the deadline
            value, last_error = None, error
        if value:
            return value
        if time.monotonic() > deadline:
            note = f"\nlast error while polling: {last_error!r}" if last_error else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{note}\n{context()}")
        time.sleep(1)


class _Abort(AssertionError):
    """Raised inside a `wait_until` check to stop waiting at once (a process died, a run failed)."""


def abort(message: str) -> None:
    raise _Abort(message)


# ---- the server ----------------------------------------------------------------------------------


class PrefectServer:
    """`prefect server start` on a free port with its own PREFECT_HOME (SQLite), in its own session."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        env = {**clean_environ(), **SERVER_SETTINGS, "PREFECT_HOME": str(folder / "home")}
        self.proc = Proc(
            "prefect-server",
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env,
            folder,
            folder,
        )

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return response.status == 200 and json.loads(response.read()) is True
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def wait_healthy(self, timeout: float) -> None:
        def check() -> bool:
            if self.proc.poll() is not None:
                abort(f"the Prefect server exited with {self.proc.poll()}\n{self.proc.tail()}")
            return self.healthy()

        wait_until(check, timeout, f"{self.url}/health", self.proc.tail)

    def client_env(self, folder: Path, **extra: str) -> dict[str, str]:
        """What every client process gets: this server's API URL, its own PREFECT_HOME and cache."""
        home = folder / f"prefect-home-{uuid.uuid4().hex[:8]}"
        home.mkdir(parents=True)
        return {
            **clean_environ(),
            "PREFECT_API_URL": self.url,
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "SYNTHWRIGHT_CACHE_DIR": str(folder / "synthwright-cache"),
            **extra,
        }

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A synchronous Prefect client on this server, from the test process."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.url}), get_client(sync_client=True) as client:
            yield client

    def stop(self) -> None:
        self.proc.stop()


def offline_env(folder: Path) -> dict[str, str]:
    """A client environment with no PREFECT_API_URL (embedded mode), its own PREFECT_HOME and cache."""
    home = folder / f"prefect-home-{uuid.uuid4().hex[:8]}"
    home.mkdir(parents=True)
    return {
        **clean_environ(),
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "SYNTHWRIGHT_CACHE_DIR": str(folder / "synthwright-cache"),
    }
