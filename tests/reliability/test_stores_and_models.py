"""Hostile stores and models (issue 23, classes 7 and 11), built in code in tmp_path.

Stores: a version whose manifest.json is damaged (a JSON list, a field of the wrong type, a field missing,
truncated, not UTF-8, gone) is named in a `warning:` line with a `fix:`, and the other versions are still
listed (exit 0); `check --version` reports it as a failed check (exit 1); reading it for use is a clean
ConfigError naming the manifest. Never exit 3.

Models: a pickled model's signature covers its whole generator.json (seed and config included) and is
checked before any file its checksum map names is read; a map naming a path outside the folder, or a
listed file that is a link out of it, is refused. Each refusal is exit 2 with one `error:` and a `fix:`.

`CASES` is the module's list of hostile cases (counted elsewhere); each builds its input in a copy of a
module-scoped store or model.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_support import Result, assert_clean_user_error, cli, cli_captured
from store_support import build_contract, build_frame

from synthwright.data_contracts.io import contract_fingerprint, contract_to_dict
from synthwright.errors import ConfigError
from synthwright.files import file_sha256
from synthwright.generators import record as record_module
from synthwright.pipelines.store import MANIFEST, Store
from synthwright.validators.gates import Metric, Scorecard

DATASET = "big"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A store with three intact versions of `big`, each passing `check --version`."""
    root = tmp_path_factory.mktemp("published") / "store"
    contract = build_contract()
    scorecard = Scorecard(
        metrics=[Metric(name="shape_error", value=5.0, threshold=20.0, unit=" %", ideal=0.0)]
    )
    caller = {
        "generator": {"name": "copula"},
        "contract": {"sha256": contract_fingerprint(contract), "definition": contract_to_dict(contract)},
        "scorecard": scorecard.to_dict(),
        "gate": {"passed": True},
    }
    for seed in range(3):
        Store(root).publish(DATASET, build_frame(10, seed), contract, caller)
    return root


@pytest.fixture(scope="module")
def copula(tmp_path_factory) -> Path:
    """A signed copula model fitted on 60 clean rows."""
    folder = tmp_path_factory.mktemp("copula")
    data = folder / "data.csv"
    data.write_text("k,a,b\n" + "".join(f"{i},{i % 7},{'xy'[i % 2]}\n" for i in range(60)))
    result = cli_captured("fit", data, "-g", "copula", "--out", folder / "model")
    assert result.code == 0, result
    return folder / "model"


@dataclass(frozen=True)
class Expect:
    """What a hostile case must give: its exit code and text in its `error:` (exit 2) or `warning:` line
    (exit 0), or in stdout (a failed check, exit 1)."""

    args: tuple
    code: int
    needles: tuple[str, ...] = ()
    out: tuple[str, ...] = ()
    hashes_nothing: bool = False
    """No file the model's checksum map names is read (the signature failed first)."""


Build = Callable[[Path], Expect]


# ---- class 7: damaged manifests ---------------------------------------------------------------------------


def version_dir(root: Path, number: int = 2) -> Path:
    return root / DATASET / f"v{number:06d}"


def rewrite(root: Path, change: Callable[[dict], object]) -> None:
    """Change v000002's manifest in place (what `change` returns is ignored)."""
    path = version_dir(root) / MANIFEST
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def listing(content: Callable[[Path], None], reason: str) -> Build:
    """`versions` with v000002's manifest damaged by `content`: a warning naming it, the rest listed."""

    def build(root: Path) -> Expect:
        content(root)
        path = version_dir(root) / MANIFEST
        return Expect(
            ("versions", DATASET, "--root", root),
            0,
            (f"warning: {DATASET} v000002: {path} is damaged: {reason}",),
            ("v000001", "v000002", "v000003", "damaged"),
        )

    return build


def write_bytes(data: bytes) -> Callable[[Path], None]:
    return lambda root: (version_dir(root) / MANIFEST).write_bytes(data)


def truncate(root: Path) -> None:
    path = version_dir(root) / MANIFEST
    path.write_text(path.read_text()[:60])


def checked(content: Callable[[Path], None], number: int, code: int, *out: str) -> Build:
    """`check --version big@vN` with v000002 damaged: a failed check (or, for a neighbour, a pass)."""

    def build(root: Path) -> Expect:
        content(root)
        return Expect(("check", "--version", f"{DATASET}@v{number}", "--root", root), code, (), out)

    return build


def rows_many(root: Path) -> None:
    rewrite(root, lambda m: m.update(rows="many"))


STORE_CASES = [
    pytest.param(
        listing(write_bytes(b"[1, 2, 3]\n"), "it holds a JSON list, not an object"),
        id="manifest-is-a-json-list",
    ),
    pytest.param(
        listing(rows_many, "rows: Input should be a valid integer (got 'many')"),
        id="manifest-rows-not-a-number",
    ),
    pytest.param(
        listing(lambda root: rewrite(root, lambda m: m.pop("files")), "files: Field required"),
        id="manifest-lacks-a-field",
    ),
    pytest.param(
        listing(
            lambda root: rewrite(root, lambda m: m.update(generator="copula")),
            "generator: Input should be a valid dictionary",
        ),
        id="manifest-generator-not-an-object",
    ),
    pytest.param(listing(truncate, "it is not valid JSON ("), id="manifest-truncated"),
    pytest.param(
        listing(write_bytes(b'{"rows": "\xff"}'), "it is not UTF-8 text (byte 0xff at offset 10)"),
        id="manifest-not-utf8",
    ),
    pytest.param(
        listing(lambda root: (version_dir(root) / MANIFEST).unlink(), "it is missing"), id="manifest-missing"
    ),
    pytest.param(
        checked(
            rows_many, 2, 1, "manifest.json is damaged: rows: Input should be a valid integer (got 'many')"
        ),
        id="check-damaged-version-fails-its-manifest-check",
    ),
    pytest.param(
        checked(truncate, 2, 1, "is not readable JSON", "nothing in the version can be verified"),
        id="check-truncated-manifest-fails",
    ),
    pytest.param(checked(rows_many, 3, 0, "✓ big@v000003"), id="check-neighbour-of-a-damaged-version"),
    pytest.param(checked(rows_many, 1, 0, "✓ big@v000001"), id="check-older-version-beside-a-damaged-one"),
]


# ---- class 11: tampered models --------------------------------------------------------------------------


def edit_record(model: Path, change: Callable[[dict], None]) -> None:
    path = model / "generator.json"
    fields = json.loads(path.read_text())
    change(fields)
    path.write_text(json.dumps(fields, indent=2))


def sample(model: Path, *needles: str, code: int = 2, hashes_nothing: bool = False, trust: bool = False):
    args = ("sample", model, "--rows", 5, "--out", model.parent / "out.csv")
    return Expect(args + (("--trust-model",) if trust else ()), code, needles, hashes_nothing=hashes_nothing)


def foreign_path(name: Callable[[Path], str]) -> Build:
    """The checksum map names a file outside the folder (`name(model)`), with that file's true sha256."""

    def build(model: Path) -> Expect:
        outside = model.parent / "outside.txt"
        outside.write_text("not the model's\n")
        listed = name(model)
        digest = file_sha256(outside)
        edit_record(model, lambda f: f["sha256"].update({listed: digest}))
        message = f"lists {listed!r} among the model's files, a path outside the model folder"
        return sample(model, str(model / "generator.json"), message, hashes_nothing=True)

    return build


def edited(change: Callable[[dict], None], *needles: str) -> Build:
    def build(model: Path) -> Expect:
        edit_record(model, change)
        return sample(model, str(model / "generator.json"), *needles, hashes_nothing=True)

    return build


def planted(model: Path) -> Expect:
    """An extra file put in the checksum map: the signature fails before it (or any file) is read."""
    (model / "extra.pkl").write_bytes(b"planted")
    edit_record(model, lambda f: f["sha256"].update({"extra.pkl": file_sha256(model / "extra.pkl")}))
    return sample(model, "does not match its signature", hashes_nothing=True)


def linked_out(name: str) -> Build:
    """A file of the folder replaced by a link to an identical copy outside it."""

    def build(model: Path) -> Expect:
        outside = model.parent / f"outside-{name}"
        shutil.copyfile(model / name, outside)
        (model / name).unlink()
        os.symlink(outside, model / name)
        return sample(model, str(model / name), "is a link that leads outside the model folder")

    return build


def trusted_edit(model: Path) -> Expect:
    """--trust-model vouches for the folder: an edited seed then loads (the files still match)."""
    edit_record(model, lambda f: f.update(seed=7))
    return sample(model, code=0, trust=True)


SIGNATURE = "does not match its signature"
MODEL_CASES = [
    pytest.param(foreign_path(lambda model: "../outside.txt"), id="checksum-map-names-a-parent-path"),
    pytest.param(
        foreign_path(lambda model: str(model.parent / "outside.txt")),
        id="checksum-map-names-an-absolute-path",
    ),
    pytest.param(
        edited(lambda f: f.update(seed=f["seed"] + 1), SIGNATURE, "pickled copula model"), id="seed-edited"
    ),
    pytest.param(
        edited(lambda f: f["config"].update(default_distribution="norm"), SIGNATURE), id="config-edited"
    ),
    pytest.param(edited(lambda f: f.update(signature=None), "is unsigned"), id="signature-removed"),
    pytest.param(planted, id="checksum-map-gains-a-planted-file"),
    pytest.param(linked_out("contract.json"), id="listed-file-links-outside"),
    pytest.param(linked_out("generator.json"), id="generator-json-links-outside"),
    pytest.param(trusted_edit, id="trusted-model-with-an-edited-seed-loads"),
]

CASES = [
    *(pytest.param("store", *p.values, id=p.id) for p in STORE_CASES),
    *(pytest.param("model", *p.values, id=p.id) for p in MODEL_CASES),
]


@pytest.mark.parametrize(("kind", "build"), CASES)
def test_a_hostile_store_or_model(capsys, monkeypatch, published, copula, tmp_path, kind, build):
    source = published if kind == "store" else copula
    folder = Path(shutil.copytree(source, tmp_path / kind, symlinks=True))
    hashed: list[Path] = []

    def spy(path: Path) -> str:
        hashed.append(Path(path))
        return file_sha256(path)

    monkeypatch.setattr(record_module, "file_sha256", spy)
    expect = build(folder)
    result = cli(capsys, *expect.args)
    assert_outcome(result, expect)
    if kind == "model":
        assert all(Path(os.path.realpath(p)).is_relative_to(os.path.realpath(folder)) for p in hashed), hashed
        assert not (expect.hashes_nothing and hashed), hashed


def assert_outcome(result: Result, expect: Expect) -> None:
    assert "Traceback" not in result.err + result.out and "internal error" not in result.err, result
    if expect.code == 2:
        assert_clean_user_error(result, *expect.needles)
        return
    assert result.code == expect.code, result
    for needle in expect.out:
        assert needle in result.out, (needle, result.out)
    if expect.needles:  # the warning names the damaged version, and a fix follows it
        lines = result.err.strip().splitlines()
        warnings = [i for i, line in enumerate(lines) if line.startswith("warning: ")]
        assert len(warnings) == 1, result.err
        for needle in expect.needles:
            assert needle in lines[warnings[0]], (needle, result.err)
        assert lines[warnings[0] + 1].strip().startswith("fix: restore "), result.err


# ---- the same, through the API --------------------------------------------------------------------------


def test_the_listing_keeps_every_version_and_json_says_which_is_damaged(capsys, published, tmp_path):
    root = Path(shutil.copytree(published, tmp_path / "store", symlinks=True))
    rows_many(root)
    versions = Store(root).versions(DATASET)
    assert [(v.name, v.damage is None) for v in versions] == [
        ("v000001", True), ("v000002", False), ("v000003", True)
    ]  # fmt: skip
    listed = json.loads(cli(capsys, "versions", DATASET, "--root", root, "--json").out)
    assert [row["gate"] for row in listed] == ["passed", "damaged", "passed"]
    assert listed[1]["damage"] == "rows: Input should be a valid integer (got 'many')"
    assert [row["rows"] for row in listed] == [10, None, 10]


def test_reading_a_damaged_version_for_use_names_its_manifest_and_the_fix(published, tmp_path):
    root = Path(shutil.copytree(published, tmp_path / "store", symlinks=True))
    (version_dir(root, 3) / MANIFEST).write_text("[]")
    newest = Store(root).version(DATASET)  # found (a check can report on it) …
    with pytest.raises(ConfigError, match="holds a JSON list") as info:
        _ = newest.manifest  # … but not used
    assert str(version_dir(root, 3) / MANIFEST) in info.value.message
    assert f"restore {version_dir(root, 3) / MANIFEST}" in info.value.hint
    assert Store(root).version(DATASET, 2).manifest["rows"] == 10


def test_the_signature_covers_every_field_of_the_record(copula):
    record = record_module.ModelRecord.read(copula)
    from synthwright import trust

    assert trust.verify(record.signed_fields, record.signature)
    for change in ({"seed": 1}, {"config": {**record.config, "max_fit_rows": 10}}, {"n_fitted_rows": 3}):
        assert not trust.verify(record.model_copy(update=change).signed_fields, record.signature)
