"""Output for people: rich tables and a spinner on a terminal, plain text otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.table import Table


def terminal() -> bool:
    return sys.stdout.isatty()


@contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner on stderr while a slow step runs; one plain line when not a terminal."""
    if sys.stderr.isatty():
        with Console(stderr=True).status(message):
            yield
    else:
        print(f"{message} ...", file=sys.stderr, flush=True)
        yield


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]],
          right: Sequence[int] = ()) -> None:  # fmt: skip
    """Columns ``right`` are numbers (right-aligned)."""
    if terminal():
        grid = Table(title=title, title_justify="left")
        for index, header in enumerate(headers):
            grid.add_column(header, justify="right" if index in right else "left")
        for row in rows:
            grid.add_row(*row)
        Console().print(grid)
        return
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    print(title)
    for row in [headers, *rows]:
        cells = [
            str(cell).rjust(widths[i]) if i in right else str(cell).ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        print("  " + "  ".join(cells).rstrip())


def say(text: str = "", style: str | None = None) -> None:
    """One line; styled (bold, red ...) only on a terminal."""
    if terminal() and style:
        Console(highlight=False).print(text, style=style, markup=False)
    else:
        print(text)
