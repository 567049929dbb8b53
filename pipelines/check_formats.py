"""A `CheckOutcome` as text (a terminal, a CI log), JSON (scripts), JUnit XML (CI test reports) or
Markdown (a pull-request comment, `$GITHUB_STEP_SUMMARY`). Plain strings: no terminal markup, so a
message holding `[brackets]` prints as it is."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from xml.etree import ElementTree

from synthwright.errors import ConfigError
from synthwright.pipelines.check import CheckOutcome, counts_of
from synthwright.text import excerpt

MARKDOWN_FAILURES_SHOWN = 50
"""Failures listed in the Markdown report; the rest are counted (a PR comment must stay short)."""


def verdict(outcome: CheckOutcome) -> str:
    """The one-line summary: `✗ data.csv: 3 of 47 checks failed (contract 1 of 44, drift 2 of 3)`."""
    counts = outcome.counts
    if outcome.passed:
        sizes = ", ".join(f"{name} {len(results)}" for name, results in outcome.sections.items())
        return f"✓ {outcome.subject}: all {counts['checks']} checks pass ({sizes})"
    failed = ", ".join(
        f"{name} {counts_of(results)['failed']} of {len(results)}"
        for name, results in outcome.sections.items()
    )
    return f"✗ {outcome.subject}: {counts['failed']} of {counts['checks']} checks failed ({failed})"


def to_text(outcome: CheckOutcome) -> str:
    """The verdict, then one line per failed check (passes are only counted)."""
    lines = [verdict(outcome)]
    lines += [f"  ✗ {section}: {result.message}" for section, result in outcome.failures]
    return "\n".join(lines) + "\n"


def to_json(outcome: CheckOutcome) -> str:
    data = {
        "subject": outcome.subject,
        "passed": outcome.passed,
        "counts": outcome.counts,
        "sections": {name: counts_of(results) for name, results in outcome.sections.items()},
        "checks": [
            {"section": name, **asdict(result)}
            for name, results in outcome.sections.items()
            for result in results
        ],
    }
    return json.dumps(data, indent=2, default=str) + "\n"


def to_junit(outcome: CheckOutcome) -> str:
    """One <testsuite> per section, one <testcase> per check, a <failure> for each failed one."""
    counts = outcome.counts
    suites = ElementTree.Element(
        "testsuites",
        name=f"synthwright check {outcome.subject}",
        tests=str(counts["checks"]),
        failures=str(counts["failed"]),
        errors="0",
    )
    for name, results in outcome.sections.items():
        section_counts = counts_of(results)
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=name,
            tests=str(section_counts["checks"]),
            failures=str(section_counts["failed"]),
            errors="0",
        )
        for result in results:
            where = f"{name}.{result.column}" if result.column else name
            case = ElementTree.SubElement(suite, "testcase", classname=where, name=result.check)
            if not result.passed:
                failure = ElementTree.SubElement(case, "failure", message=result.message, type=result.check)
                failure.text = result.message
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def to_markdown(outcome: CheckOutcome) -> str:
    """A verdict heading, a table of counts per section, and a table of the failures (capped)."""
    counts = outcome.counts
    mark = "✅" if outcome.passed else "❌"
    summary = (
        "all checks pass" if outcome.passed else f"{counts['failed']} of {counts['checks']} checks failed"
    )
    lines = [f"### {mark} synthwright check: {_cell(outcome.subject)} — {summary}", ""]
    lines += ["| section | checks | passed | failed |", "| --- | ---: | ---: | ---: |"]
    for name, results in outcome.sections.items():
        c = counts_of(results)
        lines.append(f"| {name} | {c['checks']} | {c['passed']} | {c['failed']} |")
    failures = outcome.failures
    if failures:
        lines += [
            "",
            "#### Failed checks",
            "",
            "| section | check | where | message |",
            "| --- | --- | --- | --- |",
        ]
        for section, result in failures[:MARKDOWN_FAILURES_SHOWN]:
            cells = (section, result.check, result.column or "", result.message)
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        if len(failures) > MARKDOWN_FAILURES_SHOWN:
            lines += ["", f"… and {len(failures) - MARKDOWN_FAILURES_SHOWN} more failures."]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipes, no line breaks, no HTML."""
    return (
        str(text)
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("`", "'")
        .replace("\r", " ")
        .replace("\n", " ")
    )


FORMATS: dict[str, Callable[[CheckOutcome], str]] = {
    "text": to_text,
    "json": to_json,
    "junit": to_junit,
    "markdown": to_markdown,
}


def formatter(fmt: str) -> Callable[[CheckOutcome], str]:
    """The renderer for `--format FMT`; an unknown format is a usage error (asked before any check runs)."""
    if fmt not in FORMATS:
        raise ConfigError(
            f"--format must be one of {', '.join(FORMATS)}, not {excerpt(fmt)}", hint="e.g. --format junit"
        )
    return FORMATS[fmt]
