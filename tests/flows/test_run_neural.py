"""`synthwright run` with a neural generator: the real flow fits TVAE (2 epochs) on the demo table.

The demo's gates are tuned for the copula; a 2-epoch TVAE may fail them. Either way the run must end
as a run (published, exit 0; or rejected at a gate, exit 1), never as bad input (2) or a crash (3),
and what it records must name the generator it used.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from support import REPO

from synthwright.pipelines.cli import main
from synthwright.pipelines.store import Store

DEMO = str(REPO / "pipelines" / "examples" / "demo.yaml")


def test_run_demo_with_tvae(prefect_api_url, tmp_path, capsys):
    args = [
        "run", DEMO, "--json",
        "--set", "generator.name=tvae",
        "--set", "generator.config.epochs=2",
        "--set", f"output.root={tmp_path}",
        "--set", "sample.rows=200",
    ]  # fmt: skip
    progress = _Collect()
    logger = logging.getLogger("synthwright.progress")
    logger.addHandler(progress)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(args)
    finally:
        logger.removeHandler(progress)
    captured = capsys.readouterr()
    code = exit_info.value.code or 0
    assert code in (0, 1), captured.err[-3000:]
    assert "Traceback" not in captured.err and "internal error" not in captured.err

    result = json.loads(captured.out)
    assert result["status"] in ("published", "rejected"), result
    if result["status"] == "published":
        assert code == 0
        manifest = json.loads((Path(result["version_dir"]) / "manifest.json").read_text())
        assert manifest["generator"]["name"] == "tvae"
        assert manifest["generator"]["config"]["epochs"] == 2
        assert [v.name for v in Store(tmp_path).versions("student_placements")] == ["v000001"]
    else:
        assert code == 1
        assert result["stage"] == "gates" and result["version_dir"] is None
        record = json.loads((Path(result["report_dir"]) / "rejection.json").read_text())
        assert record["spec"]["generator"] == {
            "name": "tvae",
            "config": {"epochs": 2},
            "device": "auto",
            "label": None,
        }
        assert Store(tmp_path).versions("student_placements") == []

    # The fit step logged its progress through ProgressLog: the start and both epochs, one line each.
    training = [line for line in progress.lines if line.startswith("training TVAE")]
    assert [m.split("[", 1)[1].split("]")[0] for m in training] == ["0/2", "1/2", "2/2"], training


class _Collect(logging.Handler):
    """Keeps the messages of one logger (Prefect's logging set-up hides them from caplog)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.mark.parametrize(
    "name, epochs, knobs",
    [
        ("diffusion", 40, {"hidden", "depth", "sampling_steps", "batch_size"}),
        ("llm", 15, {"width", "depth", "heads", "batch_size", "max_bins"}),
    ],
)
def test_run_demo_with_a_preset_generator_publishes_and_records_the_concrete_config(
    name, epochs, knobs, prefect_api_url, tmp_path, capsys
):
    """Our diffusion model and our transformer, even at the fast preset, pass the demo's gates: the run
    publishes, and the manifest holds every knob the preset filled in, so the run can be repeated under
    a later preset."""
    args = [
        "run", DEMO, "--json",
        "--set", f"generator.name={name}",
        "--set", "generator.config.preset=fast",
        "--set", f"generator.config.epochs={epochs}",
        "--set", f"output.root={tmp_path}",
    ]  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    assert (exit_info.value.code or 0) == 0, captured.err[-3000:]
    result = json.loads(captured.out)
    assert result["status"] == "published", result
    manifest = json.loads((Path(result["version_dir"]) / "manifest.json").read_text())
    config = manifest["generator"]["config"]
    assert manifest["generator"]["name"] == name
    assert config["preset"] == "fast" and config["epochs"] == epochs
    assert knobs <= set(config)
