"""A port of Go's `text/tabwriter` (liggitt's fork, as kubectl uses it), the cell layout rules only.

Lines are split into cells at tabs; every cell but the last of a line is tab-terminated. A column
block is a maximal run of consecutive lines that have a tab-terminated cell in that column; each
block is sized on its own: `max(minwidth, widest cell + padding)`, widths counted in code points.
`RememberWidths` (kubectl's `get -w`) keeps widths from one flush to the next, never shrinking.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["TabWriter"]


class TabWriter:
    def __init__(self, minwidth: int, padding: int, *, remember_widths: bool = False) -> None:
        self.minwidth = minwidth
        self.padding = padding
        self.remember = remember_widths
        self._widths: dict[int, int] = {}

    def format(self, text: str) -> str:
        """Lay out `text` (lines with tab-separated cells); a trailing newline is kept."""
        if not text:
            return ""  # Go writes nothing for no input (split would invent one empty line)
        lines = text.split("\n")
        ends_with_newline = lines[-1] == ""
        if ends_with_newline:
            lines.pop()
        rows = [line.split("\t") for line in lines]
        widths = self._column_widths(rows)
        out = []
        for r, cells in enumerate(rows):
            parts = [cell.ljust(widths[(r, c)]) for c, cell in enumerate(cells[:-1])]
            out.append("".join(parts) + cells[-1])
        return "\n".join(out) + ("\n" if ends_with_newline else "")

    def _column_widths(self, rows: Sequence[list[str]]) -> dict[tuple[int, int], int]:
        widths: dict[tuple[int, int], int] = {}
        columns = max((len(cells) - 1 for cells in rows), default=0)
        for column in range(columns):
            start = None
            for r in range(len(rows) + 1):
                inside = r < len(rows) and len(rows[r]) - 1 > column
                if inside and start is None:
                    start = r
                if not inside and start is not None:
                    block = range(start, r)
                    widest = max(len(rows[i][column]) for i in block) + self.padding
                    width = max(self.minwidth, widest)
                    if self.remember:
                        width = max(width, self._widths.get(column, 0))
                        self._widths[column] = width
                    for i in block:
                        widths[(i, column)] = width
                    start = None
        return widths
