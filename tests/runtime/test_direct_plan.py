"""What `_direct` plans from a container's OCI spec, and `_nsexec`'s runc texts, without an engine.

The specs are written down from what dockerd 20.10 hands runc (`config.json` in the bundle);
the runc texts from its own output (`docker exec c nope` on this machine: `OCI runtime exec
failed: exec failed: unable to start container process: exec: "nope": executable file not
found in $PATH: unknown`, exit code 126).
"""

from __future__ import annotations

import os
import resource
import signal
from pathlib import Path
from typing import Any

import pytest

from minikubelet.runtime._direct import (
    Unsupported,
    cgroup_dirs,
    plan_from_spec,
    with_command,
)
from minikubelet.runtime._nsexec import (
    StartFailure,
    exit_code,
    home_of,
    look_path,
    runc_message,
)

DEFAULT_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]  # fmt: skip


def spec(**process: Any) -> dict[str, Any]:
    """A pod container's spec as dockerd writes it, with `seccomp=unconfined`."""
    return {
        "process": {
            "user": {"uid": 0, "gid": 0, "additionalGids": [0]},
            "args": ["sleep", "3600"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOSTNAME=web",
                "LANG=C.UTF-8",
            ],  # fmt: skip
            "cwd": "/",
            "capabilities": {kind: DEFAULT_CAPS for kind in ("bounding", "effective", "permitted")},
            "oomScoreAdj": 1000,
            **process,
        },
        "linux": {
            "namespaces": [
                {"type": "mount"},
                {"type": "network", "path": "/proc/42/ns/net"},
                {"type": "uts"},
                {"type": "pid"},
                {"type": "ipc", "path": "/proc/42/ns/ipc"},
            ],  # fmt: skip
            "cgroupsPath": "/kubepods/besteffort/pod1/c1",
        },
    }


def plan(document: dict[str, Any]) -> dict[str, Any]:
    return plan_from_spec(
        document,
        pid=4242,
        cgroups=["/sys/fs/cgroup/memory/c1"],
        inherited_rlimits={resource.RLIMIT_NOFILE: (1048576, 1048576)},
        inherited_umask=0o022,
    )


def test_a_pod_containers_spec_is_what_runc_would_apply() -> None:
    planned = plan(spec())
    assert planned["namespaces"] == ["mnt", "net", "uts", "pid", "ipc"]
    assert (planned["uid"], planned["gid"], planned["groups"]) == (0, 0, [0])
    assert planned["caps"]["bounding"] == planned["caps"]["effective"] == 0xA80425FB
    assert planned["caps"]["inheritable"] == planned["caps"]["ambient"] == 0
    assert planned["rlimits"] == [[resource.RLIMIT_NOFILE, 1048576, 1048576]]
    assert (planned["oom_score_adj"], planned["umask"], planned["no_new_privs"]) == (
        1000,
        18,
        False,
    )
    assert planned["pid"] == 4242 and planned["cgroups"] == ["/sys/fs/cgroup/memory/c1"]


def test_the_specs_own_user_limits_and_umask_win() -> None:
    planned = plan(
        spec(
            user={"uid": 1000, "gid": 3000, "additionalGids": [3000, 44], "umask": 0o077},
            rlimits=[{"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000}],
            noNewPrivileges=True,
            capabilities={"bounding": ["CAP_NET_BIND_SERVICE"], "ambient": ["CAP_NET_RAW"]},
        )
    )
    assert (planned["uid"], planned["gid"], planned["groups"]) == (1000, 3000, [3000, 44])
    assert planned["rlimits"] == [[resource.RLIMIT_NOFILE, 1000, 2000]]
    assert planned["umask"] == 0o077 and planned["no_new_privs"] is True
    assert planned["caps"]["bounding"] == 1 << 10 and planned["caps"]["ambient"] == 1 << 13
    assert planned["caps"]["effective"] == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}}}, "seccomp"),
        ({"process": {"apparmorProfile": "docker-default"}}, "apparmorProfile"),
        ({"process": {"selinuxLabel": "system_u:system_r:container_t:s0"}}, "selinuxLabel"),
        ({"process": {"terminal": True}}, "terminal"),
        ({"linux": {"namespaces": [{"type": "user"}]}}, "user namespace"),
        ({"process": {"capabilities": {"bounding": ["CAP_TIME_TRAVEL"]}}}, "CAP_TIME_TRAVEL"),
        ({"process": {"rlimits": [{"type": "RLIMIT_NOPE", "soft": 1, "hard": 1}]}}, "NOPE"),
    ],
)
def test_what_runc_would_do_and_we_cannot_is_left_to_the_engine(
    change: dict[str, Any], reason: str
) -> None:
    document = spec()
    for part, values in change.items():
        document[part] = {**document[part], **values}
    with pytest.raises(Unsupported, match=reason):
        plan(document)


def test_an_exec_with_a_terminal_gets_term_after_hostname_as_dockerd_gives_it() -> None:
    planned = plan(spec())
    with_tty = with_command(planned, ["sh"], tty=True)
    assert with_tty["env"][1:3] == ["HOSTNAME=web", "TERM=xterm"]
    assert with_tty["argv"] == ["sh"] and with_tty["tty"] is True
    assert "TERM=xterm" not in with_command(planned, ["sh"], tty=False)["env"]
    own = plan(spec(env=["TERM=vt100", "HOSTNAME=web"]))
    assert with_command(own, ["sh"], tty=True)["env"] == ["TERM=vt100", "HOSTNAME=web"]


def test_cgroups_are_found_where_the_host_mounts_them(tmp_path: Path) -> None:
    (tmp_path / "self").mkdir()
    (tmp_path / "7").mkdir()
    (tmp_path / "self" / "mountinfo").write_text(
        "25 1 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
        "26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
        "27 25 0:24 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "29 25 0:26 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    )
    (tmp_path / "7" / "cgroup").write_text(
        "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/docker/abc\n"
    )
    assert cgroup_dirs(7, tmp_path) == [
        "/sys/fs/cgroup/memory/docker/abc",
        "/sys/fs/cgroup/cpu,cpuacct/docker/abc",
        "/sys/fs/cgroup/systemd/docker/abc",
        "/sys/fs/cgroup/unified/docker/abc",
    ]
    (tmp_path / "7" / "cgroup").write_text("9:pids:/docker/abc\n")
    with pytest.raises(Unsupported, match="not mounted"):
        cgroup_dirs(7, tmp_path)


def test_the_command_is_found_as_gos_lookpath_finds_it(tmp_path: Path) -> None:
    tool = tmp_path / "bin" / "tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    (tmp_path / "bin" / "plain").write_text("")
    env = [f"PATH=/nonexistent:{tool.parent}"]
    assert look_path("tool", env) == str(tool)
    assert look_path(str(tool), []) == str(tool)
    cases = {
        "plain": 'exec: "plain": executable file not found in $PATH',
        str(tmp_path): f'exec: "{tmp_path}": permission denied',
        str(tmp_path / "missing"): (
            f'exec: "{tmp_path}/missing": stat {tmp_path}/missing: no such file or directory'
        ),
    }
    for name, text in cases.items():
        with pytest.raises(StartFailure) as caught:
            look_path(name, env)
        assert str(caught.value) == text
    with pytest.raises(StartFailure, match="not found in"):
        look_path("tool", [])  # no PATH: nothing is found


def test_runc_words_exit_codes_and_home() -> None:
    assert runc_message('exec: "nope": executable file not found in $PATH') == (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        'exec: "nope": executable file not found in $PATH: unknown\r\n'
    )
    assert exit_code(3 << 8) == 3
    assert exit_code(signal.SIGKILL) == 137
    passwd = Path(os.devnull)
    assert home_of(0, str(passwd)) == "/"


def test_home_is_the_users_passwd_entry_or_slash(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/x\n")
    assert home_of(0, str(passwd)) == "/root"
    assert home_of(65534, str(passwd)) == "/nonexistent"
    assert home_of(1000, str(passwd)) == "/"
    assert home_of(0, str(tmp_path / "none")) == "/"
