#!/usr/bin/env bash
# Bootstrap the Dockerfiles' base image (python:3.11-slim-bookworm) into podman from Debian packages,
# for machines where no image registry is reachable. Reuses the image when it already exists.
#   bash scripts/podman-base.sh [IMAGE]       (root; needs podman and debootstrap)
set -euo pipefail
image="${1:-localhost/python:3.11-slim-bookworm}"
podman="${PODMAN:-podman --runtime runc --cgroup-manager=cgroupfs}"
if $podman image exists "$image"; then
  echo "$image already present"; exit 0
fi
# The Debian mirror apt already uses (deb822 or one-line sources), so no other host is needed.
mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
  | sed -nE 's#^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?(https?://[^ ]+/debian)/?([[:space:]].*)?$#\3#p' | head -n1 || true)"
mirror="${mirror:-http://deb.debian.org/debian}"
rootfs="$(mktemp -d /var/tmp/tts-base.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
echo "debootstrap bookworm from $mirror"
debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
  bookworm "$rootfs" "$mirror" >/dev/null
# Like the official slim images: apt keeps no downloaded .debs, dpkg installs no docs, man pages or
# translations (also for the images' own apt-get installs), and the base has no apt lists.
cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
APT::Keep-Downloaded-Packages "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
CONF
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CONF
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
tar -C "$rootfs" -c . | $podman import --change 'CMD ["python3"]' - "$image"
$podman image ls "$image"
