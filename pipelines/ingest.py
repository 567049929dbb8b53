"""Read a table (CSV, Parquet, JSON Lines, or a built-in demo table) into the contract's dtypes.

File-level problems (missing, empty, undecodable, malformed, columns that do not match the contract)
raise SourceError naming the file. Values that cannot be parsed as their column's kind do not raise
here: they come back as `parse_failures`, so the contract check can report them with everything else.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from synthwright.data_contracts.dtypes import parse_frame
from synthwright.data_contracts.infer import infer_contract
from synthwright.data_contracts.model import Contract
from synthwright.errors import SourceError
from synthwright.files import file_sha256
from synthwright.validators.contract import MAX_EXAMPLES, ParseFailure

DEFAULT_NA_VALUES = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None")

Format = Literal["auto", "csv", "parquet", "jsonl"]
_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


class ReadOptions(BaseModel):
    """How to read a source file; every field has a default that suits clean CSV/Parquet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Format = "auto"
    na_values: list[str] = Field(
        default=list(DEFAULT_NA_VALUES),
        description="strings read as missing (after stripping); Adult needs '?' added",
    )
    strip: bool = Field(default=True, description="strip surrounding whitespace from strings and names")
    delimiter: str | None = Field(
        default=None, min_length=1, max_length=1, description="CSV only; None means ',' (tab for .tsv)"
    )
    encoding: str = "utf-8"


@dataclass(frozen=True)
class ParsedSource:
    """A table in the contract's dtypes, the contract (given or inferred) and what could not be read."""

    frame: pd.DataFrame
    contract: Contract
    source: str
    sha256: str
    contract_inferred: bool = False
    parse_failures: list[ParseFailure] = field(default_factory=list)


def builtin_tables() -> dict[str, Path]:
    """Demo tables that ship inside installed packages, so examples need no download."""
    from importlib.util import find_spec

    spec = find_spec("sdmetrics")  # located, not imported: importing sdmetrics costs seconds
    if spec is None or spec.origin is None:
        return {}
    demos = Path(spec.origin).parent / "demos" / "single_table"
    return {"student_placements": demos / "student_placements_real.csv"}


def builtin_path(name: str) -> Path:
    tables = builtin_tables()
    if name not in tables:
        raise SourceError(f"unknown built-in table {name!r}", hint=f"choose one of {sorted(tables)}")
    return tables[name]


def ingest(
    path: Path | str, options: ReadOptions | None = None, contract: Contract | None = None
) -> ParsedSource:
    """Read `path` and parse it to `contract` (inferred from the data when not given)."""
    options = options or ReadOptions()
    path = Path(path)
    raw = read_raw(path, options)
    inferred = contract is None
    if contract is None:
        if raw.empty:
            raise SourceError(
                f"{path} has a header but no rows: there is nothing to infer a contract from",
                hint="infer from a file that holds rows, or write the contract by hand",
            )
        contract = infer_contract(raw, dataset=_dataset_name(path))
    raw = _match_columns(raw, contract, path)
    frame, parsed = parse_frame(raw, contract)
    failures = [
        ParseFailure(
            column.name,
            column.kind.value,
            parsed[column.name].bad_count,
            [_plain(v) for v in raw[column.name][parsed[column.name].bad.values].unique()[:MAX_EXAMPLES]],
        )
        for column in contract.columns
        if parsed[column.name].bad_count
    ]
    return ParsedSource(frame, contract, str(path), file_sha256(path), inferred, failures)


def read_raw(path: Path, options: ReadOptions) -> pd.DataFrame:
    """The file as a DataFrame: CSV as strings, Parquet/JSON typed; NA tokens as NaN, strings stripped."""
    if not path.exists():
        raise SourceError(
            f"data file not found: {path}", hint="check the path (relative paths start at the current folder)"
        )
    if path.is_dir():
        raise SourceError(
            f"{path} is a folder, not a data file",
            hint="give one CSV, Parquet or JSON Lines file (a folder of parts is not read)",
        )
    if path.stat().st_size == 0:
        raise SourceError(f"data file is empty: {path}", hint="the file has no header and no rows")
    kind = _format_of(path, options.format)
    reader = {"csv": _read_csv, "parquet": _read_parquet, "jsonl": _read_jsonl}[kind]
    frame = reader(path, options)
    if len(frame.columns) == 0:
        raise SourceError(f"{path} holds no columns", hint="the file must hold a table with named columns")
    if options.strip:
        frame.columns = [str(c).strip() for c in frame.columns]
    _validate_names(list(frame.columns), path)
    return _clean_strings(frame, options)


def _format_of(path: Path, declared: Format) -> str:
    if declared != "auto":
        return declared
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".bz2", ".zip", ".xz", ".zst")]
    kind = _SUFFIX_FORMATS.get(suffixes[-1] if suffixes else "")
    if kind is None:
        raise SourceError(
            f"cannot tell the format of {path} from its name",
            hint="name it .csv, .parquet or .jsonl, or set source.format (csv, parquet, jsonl)",
        )
    return kind


def _read_csv(path: Path, options: ReadOptions) -> pd.DataFrame:
    delimiter = options.delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
    encoding = (
        "utf-8-sig" if options.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else options.encoding
    )
    try:
        _refuse_nul(path)
        csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # a long text cell is data, not an error
        with _open_text(path, encoding) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            first_row = next(reader, None)
        if not header:
            raise SourceError(f"{path} has no header line", hint="the first line must name the columns")
        _validate_names(header, path)
        if options.delimiter is None and len(header) == 1:
            _validate_delimiter(header[0], path)
        # pandas reads a first row with one field too many as an index column, shifting every value
        # silently; later ragged rows it reports itself (ParserError below).
        if first_row is not None and len(first_row) != len(header):
            raise SourceError(
                f"{path} is not a well-formed CSV table: the first data row has {len(first_row)} fields, "
                f"the header {len(header)}",
                hint="every row needs as many fields as the header; quote fields that contain the delimiter "
                "and remove trailing delimiters",
            )
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[], sep=delimiter, encoding=encoding, engine="c"
        )
    except UnicodeDecodeError as exc:
        raise _undecodable(path, encoding, options.encoding) from exc
    except LookupError as exc:
        raise SourceError(
            f"unknown text encoding {options.encoding!r} for {path}",
            hint="use a Python codec name, e.g. utf-8, latin-1, cp1252 or utf-16",
        ) from exc
    except (EOFError, gzip.BadGzipFile) as exc:
        raise SourceError(
            f"{path} is not a readable gzip file: {exc}", hint="re-compress it with gzip, or remove the .gz"
        ) from exc
    except pd.errors.ParserError as exc:
        reason = str(exc).strip().splitlines()[-1].removeprefix("Error tokenizing data. C error: ")
        raise SourceError(
            f"{path} is not a well-formed CSV table: {reason}",
            hint="every row needs as many fields as the header; quote fields that contain the delimiter",
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise SourceError(f"{path} holds no table", hint="the first line must name the columns") from exc
    _refuse_repeated_header(frame, path)
    return frame


def _refuse_nul(path: Path) -> None:
    """A NUL byte is never CSV text (the C parser would silently end the value there): a binary file,
    or text in UTF-16/32."""
    if path.suffix.lower() == ".gz":
        return
    line = 1
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            at = block.find(b"\x00")
            if at >= 0:
                line += block[:at].count(b"\n")
                raise SourceError(
                    f"{path} holds a NUL byte (line {line}): it is not utf-8 CSV text",
                    hint="export the table as UTF-8 CSV; for UTF-16 text, pass --encoding utf-16",
                )
            line += block.count(b"\n")


def _validate_delimiter(name: str, path: Path) -> None:
    """One column whose name holds another common delimiter: the file uses that one."""
    for candidate, shown in ((";", "';'"), ("\t", "$'\\t' (a tab)"), ("|", "'|'")):
        if candidate in name:
            raise SourceError(
                f"{path} reads as one column named {name[:60]!r}: its delimiter looks like {shown}, "
                "not a comma",
                hint=f"pass --delimiter {shown} (source.delimiter in a spec)",
            )


def _refuse_repeated_header(frame: pd.DataFrame, path: Path) -> None:
    """Two exports pasted together leave the header as a data row; reading it as data is always wrong."""
    repeated = (frame == pd.Series(list(frame.columns), index=frame.columns)).all(axis=1)
    if len(frame.columns) > 1 and repeated.any():
        line = int(repeated.to_numpy().argmax()) + 2
        raise SourceError(
            f"{path}: line {line} repeats the header inside the data ({int(repeated.sum())} time(s))",
            hint="remove the repeated header lines (two files concatenated?)",
        )


def _undecodable(path: Path, encoding: str, declared: str) -> SourceError:
    """Find the first byte that does not decode, by offset and line (the parser's offsets are per block)."""
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)()
    offset, line = 0, 1
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            pending = len(decoder.getstate()[0])
            try:
                line += decoder.decode(block).count("\n")
            except UnicodeDecodeError as exc:
                line += exc.object[: exc.start].count(b"\n")
                position = offset - pending + exc.start
                byte = exc.object[exc.start : exc.start + 1]
                return SourceError(
                    f"{path} is not valid {declared} text: "
                    f"byte {byte!r} at position {position} (line {line})",
                    hint="re-save the file as UTF-8, or set the encoding (e.g. --encoding latin-1)",
                )
            offset += len(block)
    return SourceError(f"{path} is not valid {declared} text", hint="re-save the file as UTF-8")


def _open_text(path: Path, encoding: str) -> io.TextIOBase:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")  # noqa: SIM115 (returned to a `with`)


def _read_parquet(path: Path, options: ReadOptions) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        _validate_names(pq.read_schema(path).names, path)
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(
            f"{path} is not a readable Parquet file: {exc}",
            hint="the file is cut short or damaged (a Parquet file ends with its footer): export it again",
        ) from exc
    nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
    if nested:
        raise SourceError(
            f"{path}: column(s) {nested} hold nested values (lists/structs), which a table column cannot",
            hint="flatten them into plain columns before synthesising",
        )
    return table.to_pandas()


def _read_jsonl(path: Path, options: ReadOptions) -> pd.DataFrame:
    try:
        frame = pd.read_json(path, lines=True, dtype=False, convert_dates=False, encoding=options.encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path} is not valid {options.encoding} text", hint="re-save it as UTF-8") from exc
    except ValueError as exc:
        raise SourceError(
            f"{path} is not JSON Lines (one JSON object per line): {exc}",
            hint='write one object per line, e.g. {"age": 39, "sex": "Male"}',
        ) from exc
    if any(not isinstance(name, str) for name in frame.columns):
        raise SourceError(
            f"{path}: its lines are JSON values but not objects, so they name no columns",
            hint='write one object per line, e.g. {"age": 39, "sex": "Male"}',
        )
    nested = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, dict | list)).any()]
    if nested:
        raise SourceError(
            f"{path}: column(s) {nested} hold nested objects or lists", hint="flatten them first"
        )
    return frame


def _validate_names(names: list[str], path: Path) -> None:
    blank = [i + 1 for i, n in enumerate(names) if not str(n).strip()]
    if blank:
        raise SourceError(
            f"{path}: column(s) at position {blank} have no name", hint="name every column in the header"
        )
    repeated = sorted(n for n, count in Counter(str(n).strip() for n in names).items() if count > 1)
    if repeated:
        raise SourceError(
            f"{path}: column name(s) {repeated} appear more than once", hint="give each column its own name"
        )


def _clean_strings(frame: pd.DataFrame, options: ReadOptions) -> pd.DataFrame:
    na = set(options.na_values)
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object and not pd.api.types.is_string_dtype(column):
            continue
        is_text = column.map(lambda v: isinstance(v, str))
        if not is_text.any():
            continue
        text = column[is_text].astype(str)
        if options.strip:
            text = text.str.strip()
        text = text.where(~text.isin(na), np.nan)
        frame[name] = column.astype(object).where(~is_text, text)
    return frame


def _match_columns(raw: pd.DataFrame, contract: Contract, path: Path) -> pd.DataFrame:
    missing = [n for n in contract.names if n not in raw.columns]
    extra = [n for n in raw.columns if n not in contract.names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {missing}")
        if extra:
            parts.append(f"column(s) not in the contract {extra}")
        raise SourceError(
            f"{path} does not match its contract: " + "; ".join(parts),
            hint="check that this is the right file, or update the contract (`synthwright contract infer`)",
        )
    return raw[contract.names]


def _dataset_name(path: Path) -> str:
    return path.name.split(".")[0]


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value
