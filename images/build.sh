#!/usr/bin/env bash
# Build minikubelet's offline images; nothing is pulled from any registry.
#
#   bash images/build.sh [base|infra|webapl|nginx|all]      (default: all)
#
#   minikubelet/debian-base:bookworm  debootstrap --variant=minbase bookworm (+ python3) from
#                                     the mirror this machine's apt uses, then docker import
#   minikubelet/pause:3.10            pod sandbox: the host's static catatonit run as -P,
#                                     or a tiny static C program when catatonit is missing
#   webapl:0.1                        Dockerfile.webapl on top of the base image
#   minikubelet/nginx:bookworm        Debian's nginx package on the base image (images/nginx),
#                                     pushed as library/nginx:latest to the loopback Docker Hub
#                                     mirror when the engine was started with it (mirror.sh)
#
# Cached by tag: an image that exists is not rebuilt unless FORCE=1 (webapl and nginx are also
# rebuilt when their sources changed since they were built).
# Env: FORCE=1, MINIKUBELET_DEBIAN_MIRROR=URI (overrides the mirror read from apt sources),
# MINIKUBELET_CATATONIT=PATH (the static catatonit to use; "none" forces the C fallback).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE_TAG=minikubelet/debian-base:bookworm
PAUSE_TAG=minikubelet/pause:3.10
WEBAPL_TAG=webapl:0.1
NGINX_TAG=minikubelet/nginx:bookworm
SUITE=bookworm
FORCE=${FORCE:-0}
# The legacy builder is all a Debian docker.io 20.10 engine offers without buildx;
# it is also what plain Dockerfiles like these need.
export DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0}

# shellcheck source=images/mirror.sh
. "$ROOT/images/mirror.sh"

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

WORK=""
cleanup() { if [ -n "$WORK" ] && [ -d "$WORK" ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

workdir() {
    if [ -z "$WORK" ]; then WORK=$(mktemp -d /tmp/minikubelet-images.XXXXXX); fi
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# After a rebuild, drop the image the tag pointed to before (if nothing else uses it).
drop_old() {
    local old=$1 tag=$2
    if [ -n "$old" ] && [ "$old" != "$(image_id "$tag")" ]; then
        docker image rm "$old" >/dev/null 2>&1 || true
    fi
}

# docker build, quiet unless it fails (the legacy builder's deprecation notice is noise here).
quiet_build() {
    local out
    if ! out=$(docker build -q "$@" 2>&1); then
        printf '%s\n' "$out" >&2
        die "docker build $* failed"
    fi
}

# Print the Debian mirror URI apt uses for $SUITE (never hard-coded in the repository):
# deb822 stanzas in /etc/apt/sources.list.d/*.sources first, then classic one-line sources.
debian_mirror() {
    if [ -n "${MINIKUBELET_DEBIAN_MIRROR:-}" ]; then
        printf '%s\n' "$MINIKUBELET_DEBIAN_MIRROR"
        return 0
    fi
    local uri="" f
    shopt -s nullglob
    for f in /etc/apt/sources.list.d/*.sources; do
        uri=$(awk -v suite="$SUITE" '
            function flush() {
                if (deb && on && has_suite && first_uri != "") { print first_uri; found = 1; exit }
                deb = 0; on = 1; has_suite = 0; first_uri = ""
            }
            BEGIN { deb = 0; on = 1; has_suite = 0; first_uri = "" }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            {
                key = tolower($1)
                if (key == "types:")   { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
                if (key == "enabled:") { if (tolower($2) == "no") on = 0 }
                if (key == "suites:")  { for (i = 2; i <= NF; i++) if ($i == suite) has_suite = 1 }
                if (key == "uris:")    { if (first_uri == "" && NF >= 2) first_uri = $2 }
            }
            END { if (!found) flush() }
        ' "$f")
        if [ -n "$uri" ]; then break; fi
    done
    if [ -z "$uri" ]; then
        local lists=()
        [ -f /etc/apt/sources.list ] && lists+=(/etc/apt/sources.list)
        lists+=(/etc/apt/sources.list.d/*.list)
        if [ "${#lists[@]}" -gt 0 ]; then
            uri=$(awk -v suite="$SUITE" '
                $1 == "deb" {
                    i = 2
                    if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == suite) { print $i; exit }
                }' "${lists[@]}")
        fi
    fi
    shopt -u nullglob
    [ -n "$uri" ] || die "no Debian '$SUITE' mirror found in the apt sources; set MINIKUBELET_DEBIAN_MIRROR"
    printf '%s\n' "${uri%/}"
}

build_base() {
    if [ "$FORCE" != 1 ] && have_image "$BASE_TAG"; then
        log "$BASE_TAG: cached"
        return 0
    fi
    command -v debootstrap >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin"
    command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing (run images/ensure-engine.sh)"
    local mirror rootfs old
    old=$(image_id "$BASE_TAG")
    mirror=$(debian_mirror)
    workdir
    rootfs="$WORK/rootfs"
    log "$BASE_TAG: debootstrap --variant=minbase $SUITE (+python3) from apt's mirror"
    debootstrap --variant=minbase --include=python3 "$SUITE" "$rootfs" "$mirror" \
        >"$WORK/debootstrap.log" 2>&1 || {
        tail -n 40 "$WORK/debootstrap.log" >&2
        die "debootstrap failed"
    }
    # Keep it small: no package caches, indexes, docs, man pages or translations.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
        "$rootfs"/usr/share/locale/*
    find "$rootfs"/usr/lib/python3* -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null || true
    tar --numeric-owner -C "$rootfs" -c . |
        docker import \
            -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            -c 'ENV LANG=C.UTF-8' \
            -c 'CMD ["/bin/bash"]' \
            -m "debootstrap --variant=minbase --include=python3 $SUITE" \
            - "$BASE_TAG" >/dev/null
    rm -rf "$rootfs"
    drop_old "$old" "$BASE_TAG"
    log "$BASE_TAG: built"
}

build_infra() {
    if [ "$FORCE" != 1 ] && have_image "$PAUSE_TAG"; then
        log "$PAUSE_TAG: cached"
        return 0
    fi
    workdir
    local ctx="$WORK/pause" dockerfile catatonit old
    mkdir -p "$ctx"
    catatonit=${MINIKUBELET_CATATONIT:-$(command -v catatonit || true)}
    if [ -z "$catatonit" ] && [ -x /usr/libexec/podman/catatonit ]; then
        catatonit=/usr/libexec/podman/catatonit
    fi
    if [ "$catatonit" = none ]; then catatonit=""; fi
    if [ -n "$catatonit" ] && file_is_static "$catatonit"; then
        log "$PAUSE_TAG: from the host's static catatonit ($catatonit)"
        cp "$catatonit" "$ctx/pause-bin"
        dockerfile="$ROOT/images/pause/Dockerfile"
    else
        command -v gcc >/dev/null 2>&1 || die "neither a static catatonit nor gcc to build the pause image"
        log "$PAUSE_TAG: catatonit not available; compiling images/pause/pause.c with gcc -static"
        gcc -static -Os -s -o "$ctx/pause-bin" "$ROOT/images/pause/pause.c" ||
            die "gcc -static failed (is libc6-dev installed?)"
        dockerfile="$ROOT/images/pause/Dockerfile.fallback"
    fi
    cp "$dockerfile" "$ctx/Dockerfile"
    old=$(image_id "$PAUSE_TAG")
    quiet_build -t "$PAUSE_TAG" "$ctx"
    drop_old "$old" "$PAUSE_TAG"
    log "$PAUSE_TAG: built"
}

# True when the ELF binary has no program interpreter (statically linked).
file_is_static() {
    if command -v file >/dev/null 2>&1; then
        file -L "$1" | grep -q 'statically linked'
    else
        # No `file`: a dynamic ELF names its interpreter (ld-linux) in its first bytes.
        if head -c 4096 "$1" | grep -aq 'ld-linux'; then return 1; fi
    fi
}

webapl_hash() {
    cat "$ROOT/Dockerfile.webapl" "$ROOT/webapl/app.py" | sha256sum | cut -c1-16
}

build_webapl() {
    local hash current old
    hash=$(webapl_hash)
    if [ "$FORCE" != 1 ] && have_image "$WEBAPL_TAG"; then
        current=$(docker image inspect -f '{{ index .Config.Labels "minikubelet.source-hash" }}' "$WEBAPL_TAG" 2>/dev/null || true)
        if [ "$current" = "$hash" ]; then
            log "$WEBAPL_TAG: cached"
            return 0
        fi
        log "$WEBAPL_TAG: sources changed since it was built; rebuilding"
    fi
    have_image "$BASE_TAG" || build_base
    log "$WEBAPL_TAG: docker build -f Dockerfile.webapl --build-arg BASE=$BASE_TAG"
    old=$(image_id "$WEBAPL_TAG")
    quiet_build -f "$ROOT/Dockerfile.webapl" --build-arg "BASE=$BASE_TAG" \
        --label "minikubelet.source-hash=$hash" -t "$WEBAPL_TAG" "$ROOT/webapl"
    drop_old "$old" "$WEBAPL_TAG"
    log "$WEBAPL_TAG: built"
}

build_nginx() {
    local hash current old
    hash=$(sha256sum "$ROOT/images/nginx/Dockerfile" | cut -c1-16)
    current=$(docker image inspect -f '{{ index .Config.Labels "minikubelet.source-hash" }}' "$NGINX_TAG" 2>/dev/null || true)
    if [ "$FORCE" != 1 ] && [ "$current" = "$hash" ]; then
        log "$NGINX_TAG: cached"
    else
        have_image "$BASE_TAG" || build_base
        log "$NGINX_TAG: Debian's nginx package on $BASE_TAG (apt in the build, host network)"
        old=$(image_id "$NGINX_TAG")
        # The host's network: apt reaches the mirror the base was debootstrapped from, whether
        # or not the engine has a default bridge.
        quiet_build --network host --build-arg "BASE=$BASE_TAG" \
            --label "minikubelet.source-hash=$hash" -t "$NGINX_TAG" "$ROOT/images/nginx"
        drop_old "$old" "$NGINX_TAG"
        log "$NGINX_TAG: built"
    fi
    publish_nginx
}

# nginx:latest through the mirror: only where the engine was started with it (ensure-engine.sh).
publish_nginx() {
    if ! engine_uses_mirror; then
        log "$NGINX_TAG: the engine has no minikubelet mirror; nginx:latest will not pull here"
        return 0
    fi
    if ! mirror_answers && ! start_mirror; then
        log "warning: the Docker Hub mirror $(mirror_url) does not answer (log: $MIRROR_LOG)"
        return 0
    fi
    local target="$MIRROR_HOST/library/nginx:latest" out
    docker tag "$NGINX_TAG" "$target"
    if ! out=$(docker push "$target" 2>&1); then
        printf '%s\n' "$out" >&2
        docker image rm "$target" >/dev/null 2>&1 || true
        die "docker push $target failed"
    fi
    docker image rm "$target" >/dev/null
    log "nginx:latest: served by the mirror $(mirror_url)"
}

main() {
    local what=${1:-all}
    command -v docker >/dev/null 2>&1 || die "docker is missing (run images/ensure-engine.sh)"
    docker info >/dev/null 2>&1 || die "the Docker engine does not answer (run images/ensure-engine.sh)"
    # One build at a time on this machine: tests running in parallel may all call us.
    exec 9>"/tmp/minikubelet-images.lock"
    flock 9
    case "$what" in
        base) build_base ;;
        infra | pause) build_infra ;;
        webapl) build_webapl ;;
        nginx) build_nginx ;;
        all) build_base; build_infra; build_webapl; build_nginx ;;
        *) die "usage: $0 [base|infra|webapl|nginx|all]" ;;
    esac
}

main "$@"
