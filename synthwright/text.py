"""Short excerpts of user values for error lines and reports.

A cell, a column name or a YAML string can be megabytes long; an error line that echoes it whole buries
the message and floods logs and CI annotations. Every message that shows a user value shows it through
`excerpt` (a repr, cut) or `shorten` (plain text, cut in the middle), so a line stays a few hundred
characters whatever the input.
"""

from __future__ import annotations

from collections.abc import Iterable

EXCERPT_CHARS = 80
"""Characters of a value shown before it is cut: enough to recognise a name or a cell."""

LINE_CHARS = 300
"""Characters of a whole message part (a third-party message, a validation error) before it is cut."""

LIST_ITEMS = 8
"""Items of a list of names or values shown before the rest are counted."""


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """`repr(value)`, or its start and full length when longer than `limit`: `'abc…' (1,000,000 chars)`."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}… ({len(value):,} chars)"
    shown = repr(value)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}… ({len(shown):,} chars)"


def shorten(text: str, limit: int = LINE_CHARS) -> str:
    """Plain text cut in the middle when longer than `limit`: the start says what, the end often where."""
    text = str(text)
    if len(text) <= limit:
        return text
    head, tail = limit * 2 // 3, limit // 3
    return f"{text[:head]} … ({len(text):,} chars) … {text[-tail:]}"


def excerpt_list(values: Iterable[object], items: int = LIST_ITEMS, limit: int = EXCERPT_CHARS) -> str:
    """`['a', 'b', … (998 more)]`: the first `items` values, each an excerpt, and how many were left out."""
    values = list(values)
    shown = [excerpt(v, limit) for v in values[:items]]
    if len(values) > items:
        shown.append(f"… ({len(values) - items:,} more)")
    return "[" + ", ".join(shown) + "]"
