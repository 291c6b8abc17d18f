#!/usr/bin/env bash
# Build docker/Dockerfile on a machine without a Docker engine and without access to an image
# registry (run as root; needs buildah and debootstrap from Debian):
#   1. a Debian bookworm minbase root file system with python3 (debootstrap), imported as the
#      local base image (cached in .cache/image/; FRESH_BASE=1 rebuilds it);
#   2. `buildah bud` of docker/Dockerfile with that base, the context from `make wheelhouse`;
#   3. the image saved as dist/<name>-<tag>.docker.tar (`docker load` / `podman load` read it).
# Every container store lives in build/image/storage and is deleted when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

image_name=${IMAGE_NAME:-localhost/litellm-buffered}
context=build/image/context
store=$root/build/image/storage
cache=$root/.cache/image
base_tar=$cache/bookworm-minbase-python3.tar
base_image=localhost/debian-bookworm-python3:local

for tool in buildah debootstrap; do
    command -v "$tool" > /dev/null || { echo "missing $tool (apt-get install buildah debootstrap)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "build-image.sh runs as root (debootstrap, buildah with chroot isolation)" >&2; exit 1; }
[ -f "$context/runtime.lock" ] || { echo "no build context in $context: run make wheelhouse" >&2; exit 1; }

read -r upstream_version fork_version < <(python3 -c '
import tomllib
pin = tomllib.load(open("upstream/pin.toml", "rb"))
print(pin["upstream"]["version"], pin["upstream"]["version"] + "+" + pin["fork"]["local_version"])')
tag=${fork_version//+/-}
revision=$(git rev-parse HEAD 2> /dev/null || echo unknown)
created=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
archive=$root/dist/$(basename "$image_name")-$tag.docker.tar

# A private store, removed on exit whatever happens.
cleanup() {
    buildah rm --all > /dev/null 2>&1 || true
    buildah rmi --all --force > /dev/null 2>&1 || true
    rm -rf "$store"
}
rm -rf "$store"
mkdir -p "$store" "$cache" "$root/dist"
# shellcheck source=docker/storage.sh
source "$root/docker/storage.sh"
use_private_storage "$store"
trap cleanup EXIT

# 1. The local base: Debian bookworm minbase + python3 (3.11), from the host's Debian mirror.
if [ ! -f "$base_tar" ] || [ -n "${FRESH_BASE:-}" ]; then
    host_mirror=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources \
        2> /dev/null || true)
    mirror=${DEBIAN_MIRROR:-$host_mirror}
    rootfs=$cache/rootfs
    rm -rf "$rootfs"
    echo "debootstrap bookworm minbase from ${mirror:-the default mirror}"
    # shellcheck disable=SC2086 # an empty mirror means debootstrap's default
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" \
        $mirror > "$cache/debootstrap.log"
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" --numeric-owner -cf "$base_tar.tmp" .
    mv "$base_tar.tmp" "$base_tar"
    rm -rf "$rootfs"
fi
ctr=$(buildah from scratch)
buildah add --quiet "$ctr" "$base_tar" / > /dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
    --cmd /bin/bash "$ctr"
buildah commit --quiet "$ctr" "$base_image" > /dev/null
buildah rm "$ctr" > /dev/null

# 2. The image, from the same Dockerfile that Docker builds elsewhere. Docker format keeps HEALTHCHECK.
buildah bud --isolation chroot --pull=never --format docker --layers=false \
    -f docker/Dockerfile \
    --build-arg BASE_IMAGE="$base_image" \
    --build-arg VERSION="$fork_version" \
    --build-arg UPSTREAM_VERSION="$upstream_version" \
    --build-arg REVISION="$revision" \
    --build-arg CREATED="$created" \
    -t "$image_name:$tag" "$context"

# 3. Save it (the store is deleted on exit).
rm -f "$archive"
buildah push --quiet "$image_name:$tag" "docker-archive:$archive:$image_name:$tag"
echo "$archive ($(du -h "$archive" | cut -f1)): $image_name:$tag, version $fork_version, revision $revision"
