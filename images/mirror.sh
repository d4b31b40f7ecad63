# The loopback registry that stands in for Docker Hub where the project starts dockerd itself
# (sourced by ensure-engine.sh and build.sh). dockerd gets `--registry-mirror` pointing here
# only when ensure-engine.sh starts it; an engine someone else started is never reconfigured.
#
# Env: MINIKUBELET_MIRROR (host:port, default 127.0.0.1:5110), MINIKUBELET_MIRROR_DIR (its
# storage and config), MINIKUBELET_MIRROR_LOG.

MIRROR_HOST=${MINIKUBELET_MIRROR:-127.0.0.1:5110}
if [ "$(id -u)" -eq 0 ]; then
    MIRROR_DIR=${MINIKUBELET_MIRROR_DIR:-/var/lib/minikubelet/mirror}
else
    MIRROR_DIR=${MINIKUBELET_MIRROR_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/minikubelet/mirror}
fi
MIRROR_LOG=${MINIKUBELET_MIRROR_LOG:-/tmp/minikubelet-mirror.log}

mirror_url() { printf 'http://%s' "$MIRROR_HOST"; }

# True when a registry answers /v2/ at the mirror's address.
mirror_answers() {
    python3 - "$MIRROR_HOST" <<'PY' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(f"http://{sys.argv[1]}/v2/", timeout=2) as reply:
    sys.exit(0 if reply.status == 200 else 1)
PY
}

# True when the running engine was started with this mirror.
engine_uses_mirror() {
    docker info --format '{{json .RegistryConfig.Mirrors}}' 2>/dev/null | grep -qF "$MIRROR_HOST"
}

# Start docker-registry on the mirror's address in the background (it outlives the caller,
# as dockerd does) and wait for it; false when it cannot run or does not answer.
start_mirror() {
    local registry
    registry=$(command -v docker-registry) || return 1
    mkdir -p "$MIRROR_DIR/data" || return 1
    cat >"$MIRROR_DIR/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $MIRROR_DIR/data
http:
  addr: $MIRROR_HOST
YAML
    setsid nohup "$registry" serve "$MIRROR_DIR/config.yml" >>"$MIRROR_LOG" 2>&1 </dev/null &
    local i
    for i in $(seq 1 50); do
        if mirror_answers; then return 0; fi
        sleep 0.2
    done
    return 1
}
