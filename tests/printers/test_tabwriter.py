"""The Go `text/tabwriter` layout (liggitt's fork) as kubectl configures it: golden strings."""

from __future__ import annotations

import pytest

from minikubelet.printers.tabwriter import TabWriter


def kubectl_writer(*, remember: bool = False) -> TabWriter:
    """printers.GetNewTabWriter: minwidth 6, padding 3 (tabwidth 4 is unused with ' ' padding)."""
    return TabWriter(6, 3, remember_widths=remember)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "", id="empty input"),
        pytest.param("\n", "\n", id="one empty line"),
        pytest.param("no tabs here\n", "no tabs here\n", id="a line without cells is copied"),
        pytest.param(
            "a\tb\n",
            "a     b\n",
            id="minwidth 6 beats cell 1 + padding 3",
        ),
        pytest.param(
            "abcd\tb\n",
            "abcd   b\n",
            id="cell 4 + padding 3 = 7 beats minwidth",
        ),
        pytest.param(
            "NAME\tREADY\tSTATUS\nweb\t1/1\tRunning\n",
            "NAME   READY   STATUS\nweb    1/1     Running\n",
            id="header and row share one block per column",
        ),
        pytest.param(
            "a\tb\tc\nlonger-name\tx\ty\n",
            "a             b     c\nlonger-name   x     y\n",
            id="block width from the widest cell",
        ),
        pytest.param(
            "a\tb\nshort\nccccccccc\td\n",
            "a     b\nshort\nccccccccc   d\n",
            id="a line with fewer cells ends the block: two blocks sized apart",
        ),
        pytest.param(
            "a\tb\tc\nxx\tyy\nlongcell\tz\tw\n",
            "a          b     c\nxx         yy\nlongcell   z     w\n",
            id="column 1 block broken by a 2-cell line, column 0 block is not",
        ),
        pytest.param(
            "x\t\ty\n\t\tz\n",
            "x           y\n            z\n",
            id="empty tab-terminated cells are padded to the block width",
        ),
        pytest.param(
            "a\tlast cell is never padded\nbb\tc\n",
            "a     last cell is never padded\nbb    c\n",
            id="the last cell of a line is not part of a column",
        ),
        pytest.param(
            "a\tb\t\nlonger\tc\t\n",
            "a        b     \nlonger   c     \n",
            id="a trailing tab makes the empty last cell of a column padded",
        ),
        pytest.param(
            "héllo\tx\nab\ty\n",
            "héllo   x\nab      y\n",
            id="widths are counted in runes, not bytes",
        ),
        pytest.param("a\tb", "a     b", id="no trailing newline is kept as is"),
    ],
)
def test_go_tabwriter_layout(text: str, expected: str) -> None:
    assert kubectl_writer().format(text) == expected


def test_other_minwidth_and_padding() -> None:
    # describe uses its own numbers (minwidth 0, padding 2 with tabs as cells).
    assert TabWriter(0, 2).format("a\tb\nccc\td\n") == "a    b\nccc  d\n"
    assert TabWriter(10, 1).format("a\tb\n") == "a         b\n"


def test_remember_widths_never_shrink_across_flushes() -> None:
    writer = kubectl_writer(remember=True)
    first = writer.format("NAME\tSTATUS\tAGE\nweb-with-a-long-name\tRunning\t5s\n")
    assert first == ("NAME                   STATUS    AGE\nweb-with-a-long-name   Running   5s\n")
    # The next watch row is short, but the columns keep the widths already printed.
    assert writer.format("a\tPending\t0s\n") == "a                      Pending   0s\n"
    # A wider cell grows its column from now on.
    assert writer.format("b\tContainerCreating\t1s\n") == (
        "b                      ContainerCreating   1s\n"
    )
    assert writer.format("c\tx\t2s\n") == "c                      x                   2s\n"


def test_without_remember_widths_each_flush_is_sized_alone() -> None:
    writer = kubectl_writer()
    writer.format("web-with-a-long-name\tRunning\n")
    assert writer.format("a\tb\n") == "a     b\n"
