"""Numbers quoted in a chapter's prose, the same in the book and in a live notebook.

A chapter computes its results in code cells and quotes them in Markdown with MyST's inline
``{eval}`` role::

    prose = Quotes()
    prose.add(accuracy=0.7342, n=300)

    The accuracy is {eval}`prose["accuracy:.3f"]` on {eval}`prose["n"]` pairs.

The book build (MyST-NB, ``nb_execution_mode: inline``) and JupyterLab (``jupyterlab-myst``)
both evaluate the expression in the running kernel and show its plain-text form, so a student
who runs the chapter sees the numbers the book shows. The key is ``"name"`` or
``"name:format"``, with a format spec of :func:`format` (``.3f``, ``.0%``, ``,``).

A name is set once: quoting a number that a later cell overwrote would make a sentence true in
one place and false in another.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["EVAL_ROLE", "Quoted", "Quotes"]

EVAL_ROLE = re.compile(r"\{eval\}`(?P<expr>[^`]*)`")
"""An inline ``{eval}`expression``` role of the Markdown; group ``expr`` is the expression."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Quoted(str):
    """Text shown as it is: its ``repr`` has no quotes, so notebooks display the bare number."""

    def __repr__(self) -> str:
        return str(self)


def _plain(name: str, value: Any) -> Any:
    """NumPy scalars as Python numbers (so format specs behave as for floats and ints)."""
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (numbers.Number, str)):
        raise ValueError(
            f"Quotes.add: {name!r} must be a number or a string, got {type(value).__name__}"
        )
    if isinstance(value, numbers.Real) and value != value:
        raise ValueError(f"Quotes.add: {name!r} is NaN; a sentence cannot quote it")
    return value


class Quotes(Mapping):
    """The named numbers a chapter quotes; ``prose["name:.3f"]`` is the formatted text."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def add(self, values: Mapping[str, Any] | None = None, /, **named: Any) -> None:
        """Record values under their names (identifiers), each name once."""
        items = {**(values or {}), **named}
        for name, value in items.items():
            if not isinstance(name, str) or not _NAME.match(name):
                raise ValueError(f"Quotes.add: names must be identifiers, got {name!r}")
            if name in self._values:
                raise ValueError(f"Quotes.add: {name!r} was already added; names are set once")
            self._values[name] = _plain(name, value)

    def value(self, name: str) -> Any:
        """The recorded value itself (for code that reuses a quoted number)."""
        if name not in self._values:
            raise KeyError(f"no quoted value {name!r}; add it in a code cell above its first use")
        return self._values[name]

    def __getitem__(self, key: str) -> Quoted:
        name, _, spec = key.partition(":")
        return Quoted(format(self.value(name), spec))

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Quotes({len(self)} values)"
