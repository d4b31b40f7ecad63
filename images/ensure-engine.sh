#!/usr/bin/env bash
# Make sure this Debian 12 machine has a working Docker engine and the tools that
# images/build.sh needs, installing and starting only what is missing.
#
#   bash images/ensure-engine.sh
#
# - apt-get installs whatever of docker.io, debootstrap, iproute2, catatonit, podman (the
#   core e2e tests run on it too), docker-registry (the distribution registry the pull
#   tests run on loopback), apache2-utils (htpasswd, for the registry with basic auth) and
#   nftables (its libnftables writes the node's Service rules) is missing (apt is not
#   touched at all when everything is present);
# - when `docker info` fails, starts dockerd in the background (log under /tmp) and
#   waits for it with a deadline (MINIKUBELET_DOCKERD_TIMEOUT seconds, default 60);
#   that dockerd gets `--registry-mirror` to a loopback docker-registry started first
#   (images/mirror.sh), which build.sh fills with the offline nginx:latest. An engine
#   that already answers is never reconfigured; if it was started with that mirror and
#   the mirror is gone (a reboot, a killed process), the mirror is started again.
# Idempotent: on a machine that already has everything this takes well under a second.
set -euo pipefail

# shellcheck source=images/mirror.sh
. "$(dirname "${BASH_SOURCE[0]}")/mirror.sh"

log() { printf 'ensure-engine: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo -n)
    fi
fi

# command that proves the package is present -> Debian package providing it
declare -A WANT=(
    [dockerd]=docker.io
    [docker]=docker.io
    [debootstrap]=debootstrap
    [ip]=iproute2
    [catatonit]=catatonit
    [docker-registry]=docker-registry
    [podman]=podman
    [htpasswd]=apache2-utils
    [nft]=nftables
)

missing=()
for cmd in "${!WANT[@]}"; do
    if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1; then
        pkg=${WANT[$cmd]}
        case " ${missing[*]-} " in
            *" $pkg "*) ;;
            *) missing+=("$pkg") ;;
        esac
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
    log "installing with apt: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if docker info >/dev/null 2>&1; then
    if engine_uses_mirror && ! mirror_answers; then
        log "restarting the Docker Hub mirror the engine was started with ($(mirror_url))"
        start_mirror || log "warning: the mirror did not start (log: $MIRROR_LOG)"
    fi
    exit 0
fi

DOCKERD_LOG=${MINIKUBELET_DOCKERD_LOG:-/tmp/minikubelet-dockerd.log}
TIMEOUT=${MINIKUBELET_DOCKERD_TIMEOUT:-60}

# True when a process named dockerd runs (no procps on a minimal Debian: read /proc).
dockerd_running() {
    local comm
    for comm in /proc/[0-9]*/comm; do
        if [ "$(cat "$comm" 2>/dev/null)" = dockerd ]; then return 0; fi
    done
    return 1
}

if dockerd_running; then
    log "dockerd is running but not answering yet; waiting up to ${TIMEOUT}s"
else
    DOCKERD=$(PATH="$PATH:/usr/sbin:/sbin" command -v dockerd) || die "dockerd not found"
    args=()
    if mirror_answers || start_mirror; then
        args+=(--registry-mirror "$(mirror_url)")
        log "Docker Hub mirror on $(mirror_url) (storage: $MIRROR_DIR)"
    else
        log "warning: no Docker Hub mirror (log: $MIRROR_LOG): nginx:latest will not pull"
    fi
    log "starting dockerd in the background (log: $DOCKERD_LOG)"
    # setsid + nohup: the daemon outlives this script and the CI step that ran it.
    "${SUDO[@]}" setsid nohup "$DOCKERD" "${args[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
fi

deadline=$((SECONDS + TIMEOUT))
until docker info >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "the Docker engine did not answer within ${TIMEOUT}s; last lines of $DOCKERD_LOG:"
        tail -n 30 "$DOCKERD_LOG" >&2 2>/dev/null || true
        docker info >&2 || true
        die "no Docker engine"
    fi
    sleep 0.5
done
log "Docker engine is up ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
