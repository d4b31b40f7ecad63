"""`minikubelet cp`'s pure parts: kubectl's file specs, the tar it writes, the untar it does."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

from minikubelet.cli import cp
from minikubelet.cli.cp import FORMAT, FileSpec, file_spec, make_tar, untar
from minikubelet.cli.main import main
from minikubelet.errors import ManifestError
from minikubelet.store import Store


@pytest.mark.parametrize(
    "arg, spec",
    [
        ("a.txt", FileSpec("a.txt")),
        ("web:/tmp/x", FileSpec("/tmp/x", "web")),
        ("ns/web:x", FileSpec("x", "web", "ns")),
        ("web:", FileSpec("", "web")),
    ],
)
def test_file_specs(arg: str, spec: FileSpec) -> None:
    assert file_spec(arg) == spec


@pytest.mark.parametrize("arg", [":x", "a/b/c:/x"])
def test_bad_file_specs(arg: str) -> None:
    with pytest.raises(ManifestError, match=r"filespec must match the canonical format"):
        file_spec(arg)
    assert FORMAT.endswith("[[namespace/]pod:]file/path")


def test_the_tar_names_entries_after_the_destination(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "empty").mkdir()
    (tree / "a").write_text("a")
    (tree / "sub" / "b").write_text("b")
    (tree / "link").symlink_to("a")
    out = io.BytesIO()
    make_tar(str(tree), "/tmp/dest", out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        found = {m.name: m.type for m in tar.getmembers()}
    assert found == {
        "dest/a": tarfile.REGTYPE,
        "dest/empty": tarfile.DIRTYPE,  # only an empty directory gets an entry
        "dest/link": tarfile.SYMTYPE,
        "dest/sub/b": tarfile.REGTYPE,
    }


def _archive(*members: tuple[str, bytes | str]) -> io.BytesIO:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, body in members:
            info = tarfile.TarInfo(name)
            if isinstance(body, str):
                info.type, info.linkname = tarfile.SYMTYPE, body
                tar.addfile(info)
            else:
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
    out.seek(0)
    return out


def test_untar_strips_the_source_prefix_and_skips_what_kubectl_skips(tmp_path: Path) -> None:
    stream = _archive(
        ("tmp/tree/a", b"a"),
        ("tmp/tree/sub/b", b"b"),
        ("tmp/tree/../../evil", b"x"),
        ("tmp/tree/l1", "a"),
        ("tmp/tree/l2", "a"),
    )
    warnings: list[str] = []
    untar(stream, "/tmp/tree", str(tmp_path / "out"), warnings.append, "(hint)")
    assert (tmp_path / "out" / "a").read_bytes() == b"a"
    assert (tmp_path / "out" / "sub" / "b").read_bytes() == b"b"
    assert not (tmp_path.parent / "evil").exists()
    assert warnings == [
        f'warning: file "{tmp_path.parent / "evil"}" is outside target destination, skipping',
        f'warning: skipping symlink: "{tmp_path / "out" / "l1"}" -> "a" (hint)',
        f'warning: skipping symlink: "{tmp_path / "out" / "l2"}" -> "a"',
    ]


def test_untar_refuses_entries_outside_the_prefix(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="tar contents corrupted"):
        untar(_archive(("etc/x", b"")), "/tmp/x", str(tmp_path), print, "")


# -- through main(), the exec sessions faked ----------------------------------------------------


@pytest.fixture
def sessions(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """Pods `sh` (in default and in ns1) and `multibad` (two containers, its default one
    missing); each session's (container, command). `tar cf` sends a tree with a symlink."""
    for namespace, name, containers, notes in [
        ("default", "sh", ["app"], {}),
        ("ns1", "sh", ["app"], {}),
        ("default", "multibad", ["a", "b"], {"kubectl.kubernetes.io/default-container": "zzz"}),
    ]:
        store.create(
            "Pod",
            {
                "metadata": {"name": name, "namespace": namespace, "uid": f"{namespace}-{name}",
                             "annotations": notes},
                "spec": {"containers": [{"name": c, "image": "i"} for c in containers],
                         "nodeName": "node1"},
                "status": {"phase": "Running"},
            },
        )  # fmt: skip
    seen: list[tuple[str, list[str]]] = []

    def execute(
        client: object, pod: object, container: str, command: list[str], *,
        feed: Callable[[IO[bytes]], None] | None, output: Callable[[int, bytes], None],
    ) -> dict[str, Any]:  # fmt: skip
        seen.append((container, command))
        if command[:2] == ["tar", "cf"]:
            output(1, _archive(("tmp/d/f", b"x"), ("tmp/d/l", "f")).getvalue())
        if feed is not None:
            feed(io.BytesIO())
        return {"status": "Success" if command[0] == "tar" else "Failure"}

    monkeypatch.setattr(cp, "_execute", execute)
    return seen


@pytest.mark.parametrize(
    "spec, named",
    [("sh:/tmp/d", ""), ("ns1/sh:/tmp/d", "ns1")],
    ids=['no namespace in the spec: -n ""', "the spec's namespace"],
)
def test_the_symlink_hint_names_the_specs_namespace(
    capsys: pytest.CaptureFixture[str],
    sessions: list[tuple[str, list[str]]],
    tmp_path: Path,
    spec: str,
    named: str,
) -> None:
    out = tmp_path / "outM"
    assert main(["cp", spec, str(out)]) == 0
    assert (out / "f").read_bytes() == b"x"
    assert capsys.readouterr() == (
        "",
        f'warning: skipping symlink: "{out / "l"}" -> "f" (consider using "minikubelet exec -n '
        f'"{named}" "sh" -- tar cf - "/tmp/d" | tar xf -")\n',
    )


def test_a_missing_default_container_is_not_mentioned(
    capsys: pytest.CaptureFixture[str], sessions: list[tuple[str, list[str]]], tmp_path: Path
) -> None:
    """Only podcmd's note: on stderr to a pod (its `test -d` says nothing), on stdout (kubectl's
    ErrOut of that exec) from one."""
    (tmp_path / "f").write_text("x")
    assert main(["cp", str(tmp_path / "f"), "multibad:/tmp/f"]) == 0
    assert capsys.readouterr() == ("", 'Defaulted container "a" out of: a, b\n')
    assert main(["cp", "multibad:/tmp/d", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out == 'Defaulted container "a" out of: a, b\n'
    assert [container for container, _ in sessions] == ["a", "a", "a"]
