"""Read a table (CSV, Parquet, JSON Lines, or a built-in demo table) into the contract's dtypes.

File-level problems (missing, empty, undecodable, malformed, columns that do not match the contract)
raise SourceError naming the file. Values that cannot be parsed as their column's kind do not raise
here: they come back as `parse_failures`, so the contract check can report them with everything else.

Text files (CSV, JSON Lines; plain, .gz, .bz2 or .xz) are read in the encoding their byte-order mark
names, if they start with one (a BOM says the encoding by itself), else in the declared encoding.
Columns no contract kind holds (Parquet durations) are refused here, naming the column.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import json
import lzma
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from synthwright.data_contracts.dtypes import INT64_MAX, parse_frame
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
        contract = infer_contract(raw, dataset=_dataset_name(path), source=str(path))
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
    delimiter = options.delimiter or ("\t" if _plain_suffix(path) == ".tsv" else ",")
    encoding = options.encoding
    try:
        encoding = _text_encoding(path, options.encoding)
        _refuse_nul(path, encoding)
        csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # a long text cell is data, not an error
        with _open_text(path, encoding) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            first_row = next((row for row in reader if row), None)  # pandas skips blank lines too
            first_line = reader.line_num
        if not header:
            raise SourceError(f"{path} has no header line", hint="the first line must name the columns")
        _validate_names(header, path)
        if options.delimiter is None and len(header) == 1:
            _validate_delimiter(header[0], path)
        if first_row is not None and _is_separator(first_row):
            raise _separator_error(path, first_line, first_row, delimiter)
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
        _refuse_separator_lines(frame, path, encoding, delimiter)
    except UnicodeError as exc:  # UnicodeDecodeError, or a codec's own complaint (no UTF-16 BOM)
        raise _undecodable(path, encoding) from exc
    except LookupError as exc:
        raise SourceError(
            f"unknown text encoding {options.encoding!r} for {path}",
            hint="use a Python codec name, e.g. utf-8, latin-1, cp1252 or utf-16",
        ) from exc
    except (EOFError, OSError, lzma.LZMAError) as exc:
        raise _not_compressed(path, exc) from exc
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


_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SEPARATOR = re.compile(r"^\s*[-=_*~#+]{3,}\s*$")
"""A field of a decoration line (=====, -----, *****): drawn for people, not a value."""


def _plain_suffix(path: Path) -> str:
    """The suffix that says the format, under a compression suffix (data.csv.gz → .csv)."""
    return path.with_suffix("").suffix.lower() if path.suffix.lower() in _COMPRESSED else path.suffix.lower()


def _open_binary(path: Path) -> io.BufferedIOBase:
    """The file's bytes, decompressed when its name ends .gz, .bz2 or .xz."""
    opener = _COMPRESSED.get(path.suffix.lower())
    return opener(path, "rb") if opener else open(path, "rb")  # noqa: SIM115 (returned to a `with`)


def _open_text(path: Path, encoding: str) -> io.TextIOBase:
    return io.TextIOWrapper(_open_binary(path), encoding=encoding, newline="")


def _is_wide(codec: str) -> bool:
    """UTF-16/32: encodings in which a NUL byte is part of ordinary text."""
    return codecs.lookup(codec).name.startswith(("utf-16", "utf-32"))


def _text_encoding(path: Path, declared: str) -> str:
    """The codec to read `path` with. A byte-order mark names the encoding by itself, so it wins over
    the declared one; without a mark, UTF-16/32 cannot tell its byte order, so that is asked for."""
    name = codecs.lookup(declared).name  # LookupError for an unknown name
    with _open_binary(path) as handle:
        head = handle.read(4)
    marked = next((codec for bom, codec in _BOMS if head.startswith(bom)), None)
    if marked is not None:
        return marked
    if name in ("utf-16", "utf-32"):
        size = name[4:]
        raise SourceError(
            f"{path} does not start with a byte-order mark, so it cannot be read as {declared} text "
            "(the mark says the byte order)",
            hint=f"if it is UTF-{size} text, name the byte order: --encoding utf-{size}-le (Windows) or "
            f"utf-{size}-be; if it is not, leave --encoding out (UTF-8 is the default) or name the right one",
        )
    return "utf-8-sig" if name == "utf-8" else declared


def _refuse_nul(path: Path, encoding: str) -> None:
    """A NUL is never CSV text (the C parser would silently end the value there): a binary file, UTF-16
    text without a byte-order mark, or a stray byte. In UTF-16/32 NUL bytes are ordinary, so there the
    decoded text is searched; compressed files are searched after decompression."""
    wide = _is_wide(encoding)
    nul, newline = ("\x00", "\n") if wide else (b"\x00", b"\n")
    line, first = 1, None
    with _open_text(path, encoding) if wide else _open_binary(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), nul[:0]):
            first = block if first is None else first
            at = block.find(nul)
            if at >= 0:
                line += block[:at].count(newline)
                looks_utf16 = not wide and max(first[0::2].count(0), first[1::2].count(0)) * 4 >= len(first)
                raise SourceError(
                    f"{path} holds a NUL byte (line {line}): no value in a text table can hold one",
                    hint="it looks like UTF-16 text without a byte-order mark: pass --encoding utf-16-le "
                    "(or utf-16-be)"
                    if looks_utf16
                    else "remove the NUL bytes, or export the table again as text (UTF-8 CSV); a binary "
                    "file is not a table",
                )
            line += block.count(newline)


def _is_separator(fields: list[str]) -> bool:
    """A decoration line: some field is a rule (=====) and every other one is empty or a rule too."""
    present = [f for f in fields if isinstance(f, str) and f.strip()]
    return bool(present) and all(_SEPARATOR.match(f) for f in present)


def _refuse_separator_lines(frame: pd.DataFrame, path: Path, encoding: str, delimiter: str) -> None:
    """A line such as `=====,,,,` or `-----` between blocks of rows is decoration; read as a row, it
    would put '=====' in the data as a value."""
    first = frame.iloc[:, 0]
    candidates = first.str.match(_SEPARATOR, na=False)
    if not candidates.any():
        return
    rows = frame[candidates].itertuples(index=False, name=None)
    if not any(_is_separator(list(row)) for row in rows):
        return
    with _open_text(path, encoding) as handle:  # the line number, counting quoted newlines and blanks
        reader = csv.reader(handle, delimiter=delimiter)
        next(reader, None)
        for fields in reader:
            if _is_separator(fields):
                raise _separator_error(path, reader.line_num, fields, delimiter)


def _separator_error(path: Path, line: int, fields: list[str], delimiter: str) -> SourceError:
    shown = delimiter.join(fields)
    return SourceError(
        f"{path}: line {line} is a separator line ({shown[:40]!r}), not a data row",
        hint="delete the separator and decoration lines (such as ===== or -----): a CSV table holds one "
        "header line and then data rows only",
    )


def _not_compressed(path: Path, exc: BaseException) -> SourceError:
    """A damaged or mislabelled compressed file; any other OSError is not the data's fault: re-raised."""
    if path.suffix.lower() not in _COMPRESSED:
        raise exc
    kind = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}[path.suffix.lower()]
    return SourceError(
        f"{path} is not a readable {kind} file: {exc}",
        hint=f"re-compress it with {kind}, or remove the {path.suffix} from its name",
    )


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


def _undecodable(path: Path, encoding: str) -> SourceError:
    """Find the first byte that does not decode, by offset and line (the parser's offsets are per block;
    in a compressed file, offsets in the decompressed text)."""
    name = "utf-8" if encoding == "utf-8-sig" else encoding
    strict = codecs.getincrementaldecoder(encoding)()
    lenient = codecs.getincrementaldecoder(encoding)(errors="replace")  # counts lines up to the bad byte
    offset, line = 0, 1
    where = " of the decompressed text" if path.suffix.lower() in _COMPRESSED else ""
    hint = "re-save the file as UTF-8, or name its encoding (e.g. --encoding latin-1 or cp1252)"
    with _open_binary(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            pending = len(strict.getstate()[0])
            try:
                strict.decode(block)
            except UnicodeDecodeError as exc:
                line += lenient.decode(exc.object[: exc.start]).count("\n")
                position = offset - pending + exc.start
                byte = exc.object[exc.start : exc.start + 1]
                return SourceError(
                    f"{path} is not valid {name} text: byte {byte!r} at position {position}{where} "
                    f"(line {line})",
                    hint=hint,
                )
            line += lenient.decode(block).count("\n")
            offset += len(block)
        try:
            strict.decode(b"", final=True)
        except UnicodeDecodeError:
            return SourceError(
                f"{path} is not valid {name} text: it ends inside a character (line {line})", hint=hint
            )
    return SourceError(f"{path} is not valid {name} text", hint=hint)


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
    durations = [f.name for f in table.schema if pa.types.is_duration(f.type)]
    if durations:
        raise SourceError(
            f"{path}: column {durations[0]!r} holds durations (a Parquet duration), which no contract "
            "kind holds",
            hint="store it as a number (e.g. seconds, as a float or integer column), or as a start and "
            "an end timestamp",
        )
    frame = table.to_pandas()
    # whole numbers stay exact: nulls would make them float64, and so would a uint64 beyond int64
    for name, kind in zip(table.schema.names, table.schema.types, strict=True):
        if pa.types.is_integer(kind) and name in frame.columns:  # (not a stored pandas index)
            frame[name] = _exact_integers(table.column(name)).set_axis(frame.index)
    return frame


def _exact_integers(column: pa.ChunkedArray) -> pd.Series:
    """An Arrow integer column as pandas Int64, or as Python ints when it holds values beyond int64."""
    if pa.types.is_uint64(column.type) and (pc.max(column).as_py() or 0) > INT64_MAX:
        return pd.Series(column.to_pylist(), dtype=object)
    return pd.Series(column.cast(pa.int64()).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get))


class _RepeatedKey(Exception):
    """One JSON object names a key twice: which value is meant cannot be told."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) < len(pairs):
        raise _RepeatedKey(next(key for i, (key, _) in enumerate(pairs) if key in dict(pairs[:i])))
    return out


_JSON = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _read_jsonl(path: Path, options: ReadOptions) -> pd.DataFrame:
    """One JSON object per line, read with Python's json: whole numbers stay exact at any size, a key
    named twice in one object is an error, and an error names its line."""
    example = 'write one JSON object per line, e.g. {"age": 39, "sex": "Male"}'
    encoding = options.encoding
    rows: list[dict[str, object]] = []
    try:
        encoding = _text_encoding(path, options.encoding)
        with _open_text(path, encoding) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = _JSON.decode(line)
                except json.JSONDecodeError as exc:
                    if "\x00" in line:  # UTF-16 without a byte-order mark, or binary: say which
                        _refuse_nul(path, encoding)
                    raise SourceError(
                        f"{path} is not JSON Lines (one JSON object per line): line {number}: {exc.msg} "
                        f"(character {exc.colno})",
                        hint=example,
                    ) from exc
                except _RepeatedKey as exc:
                    raise SourceError(
                        f"{path}: line {number} names key {exc.args[0]!r} twice in one object",
                        hint="keep one value per key in each line (which of the two is meant cannot be told)",
                    ) from exc
                if not isinstance(row, dict):
                    raise SourceError(
                        f"{path}: line {number} is a JSON {type(row).__name__} value but not an object, so "
                        "it names no columns",
                        hint=example,
                    )
                rows.append(row)
    except UnicodeError as exc:
        raise _undecodable(path, encoding) from exc
    except LookupError as exc:
        raise SourceError(
            f"unknown text encoding {options.encoding!r} for {path}",
            hint="use a Python codec name, e.g. utf-8, latin-1, cp1252 or utf-16",
        ) from exc
    except (EOFError, OSError, lzma.LZMAError) as exc:
        raise _not_compressed(path, exc) from exc
    frame = pd.DataFrame(rows)
    for name in frame.columns:  # whole numbers pandas made inexact: past 2**53 as float, or uint64
        values = frame[name]
        floats = pd.api.types.is_float_dtype(values) and bool((values.abs() >= 2**53).any())
        unsigned = pd.api.types.is_unsigned_integer_dtype(values) and values.max() > INT64_MAX
        if floats or unsigned:
            frame[name] = _json_column([row.get(name) for row in rows])
    nested = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, dict | list)).any()]
    if nested:
        raise SourceError(
            f"{path}: column(s) {nested} hold nested objects or lists", hint="flatten them first"
        )
    return frame


def _json_column(values: list[object]) -> pd.Series:
    """A JSON column of whole numbers, exactly: Int64 (with nulls), or Python ints when one lies beyond
    int64 (the contract's parsing and inference then say so); other columns as pandas reads them."""
    present = [v for v in values if v is not None]
    if present and all(type(v) is int for v in present):
        exact = all(-INT64_MAX - 1 <= v <= INT64_MAX for v in present)
        return pd.Series(values, dtype="Int64" if exact else object)
    return pd.Series(values, dtype=object if not present else None)


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
