#!/usr/bin/env bash
# Build the desktop workspace image without a container registry: a Debian rootfs made with
# debootstrap, imported with `docker import`.
#
# usage: build.sh IMAGE_TAG [--change INSTRUCTION]...
# env: DEBIAN_SUITE (bookworm), DEBIAN_MIRROR (http://deb.debian.org/debian), DOCKER_HOST, WORK_DIR
set -euo pipefail

tag=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
rootfs=$(mktemp -d "${WORK_DIR:-/var/tmp}/kasm-desktop-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT

packages=$(grep -v '^#' "$here/packages.txt" | tr -s '\n' ',' | sed 's/,$//')
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
    || { tail -n 20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"

install -m 0755 "$here/entrypoint.sh" "$rootfs/usr/local/bin/kasm-entrypoint"
install -m 0755 "$here/vnc-password-set" "$rootfs/usr/local/bin/vnc-password-set"
chroot "$rootfs" useradd --create-home --uid 1000 --shell /bin/bash kasm-user
install -d -m 1777 "$rootfs/tmp/.X11-unix"
# Package caches and lists only make the image bigger.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'USER 1000' \
    --change 'WORKDIR /home/kasm-user' \
    --change 'ENV HOME=/home/kasm-user' \
    --change 'EXPOSE 6901' \
    --change 'ENTRYPOINT ["/usr/local/bin/kasm-entrypoint"]' \
    "$@" - "$tag"
