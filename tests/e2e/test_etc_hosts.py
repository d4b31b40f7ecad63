"""The kubelet-managed /etc/hosts on the real engine, with manifests/examples/host-aliases.yaml."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Agent
from tests.e2e.test_examples import apply_example, log_text

pytestmark = pytest.mark.e2e


def test_hosts_file_hostname_and_aliases(agent: Agent) -> None:
    apply_example(agent, "host-aliases.yaml")
    text = agent.wait_for(
        lambda: (t := log_text(agent, "hosts", "app")).count("\n") >= 12 and t, 60, "the log"
    )
    ip = agent.pod("hosts")["status"]["podIP"]
    lines = str(text).splitlines()
    assert lines[0] == "# Kubernetes-managed hosts file."
    assert f"{ip}\tdb-0.db.default.svc.cluster.local\tdb-0" in lines
    assert (
        lines[lines.index("# Entries added by HostAliases.") + 1] == "1.2.3.4\tfoo.local\tbar.local"
    )
    assert "db-0" in lines  # `hostname`
    assert any(line.split() == ["1.2.3.4", "foo.local", "bar.local"] for line in lines)
