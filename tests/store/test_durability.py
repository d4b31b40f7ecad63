"""A committed write survives SIGKILL: a child writes and prints each revision after commit;
the test kills it mid-stream and reopens the file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from minikubelet.clock import FakeClock
from minikubelet.store import Store

WRITER = """
import sys
from pathlib import Path
from minikubelet.clock import RealClock
from minikubelet.store import Store

store = Store.open(Path(sys.argv[1]), RealClock())
for i in range(1_000_000):
    meta = {"name": f"p{i}", "namespace": "default", "uid": f"u{i}"}
    created = store.create("Pod", {"metadata": meta, "spec": {}})
    if i % 2:
        created = store.update_status("Pod", "default", f"p{i}", {"phase": "Running"})
    print(f"p{i} {created['metadata']['resourceVersion']}", flush=True)
"""

ROOT = Path(__file__).resolve().parents[2]


def test_committed_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    printed: dict[str, str] = {}
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            name, rv = line.split()
            printed[name] = rv
            if len(printed) == 150:
                child.send_signal(signal.SIGKILL)  # mid-stream: it is still writing
                break
        child.wait()
        assert child.returncode == -signal.SIGKILL
    with Store.open(path, FakeClock()) as store:
        for name, rv in printed.items():
            stored = store.get("Pod", "default", name)
            assert stored["metadata"]["resourceVersion"] == rv  # each pod is written only then
        assert int(store.revision) >= int(printed["p149"])
        store.create("Pod", {"metadata": {"name": "after", "namespace": "default", "uid": "u"}})
