"""`minikubelet kubeconfig`: a kubeconfig for the agent's HTTPS listener, on stdout.

    minikubelet daemon start --listen 127.0.0.1:6443
    minikubelet kubeconfig > kc && KUBECONFIG=kc kubectl get pods

The agent hands it out over its UNIX socket (whose 0600 mode is the authentication): only the
agent knows whether it listens and where, and the CA and token never need a second copy. It is
printed as `kubectl config view --raw` prints one, so it can be merged into ~/.kube/config.
"""

from __future__ import annotations

import argparse
import sys

from minikubelet.cli.client import ApiClient
from minikubelet.errors import NotFound
from minikubelet.paths import StatePaths

__all__ = ["run"]

HINT = "start it with `minikubelet daemon start --listen 127.0.0.1:6443`"


def run(args: argparse.Namespace) -> int:
    """Print the kubeconfig; exit 1 with the reason when there is no listener to point at."""
    import yaml

    paths = StatePaths.from_env()
    with ApiClient(paths) as client:
        if not client.healthy():
            print(f"error: the node agent is not running; {HINT}", file=sys.stderr)
            return 1
        try:
            config = client.request("GET", "/minikubelet/v1/kubeconfig")
        except NotFound:
            print(
                "error: the node agent has no HTTPS listener; stop it "
                f"(`minikubelet daemon stop`) and {HINT}",
                file=sys.stderr,
            )
            return 1
    sys.stdout.write(yaml.safe_dump(config, default_flow_style=False, sort_keys=True))
    return 0
