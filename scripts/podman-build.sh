#!/usr/bin/env bash
# Build docker/Dockerfile* with a rootful podman where no Docker engine and no image registry exist
# (the measured recipe in docs/deployment.md): base bootstrapped from Debian, runc + cgroupfs, host network.
#   bash scripts/podman-build.sh TAG [podman build args...]
#   bash scripts/podman-build.sh tts-predictor:0.1.0-onnx --build-arg EXTRAS= --build-arg BUILD_PACKAGES=
# Env: DOCKERFILE (default docker/Dockerfile), PIP_CACHE_DIR (host pip cache mounted into the build), PODMAN.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:?usage: podman-build.sh TAG [podman build args...]}"; shift
podman="${PODMAN:-podman --runtime runc --cgroup-manager=cgroupfs}"
base="localhost/python:3.11-slim-bookworm"
bash scripts/podman-base.sh "$base"
# pip inside the build reaches the package index through the host's CA bundle (proxies that re-sign TLS).
ca=/etc/ssl/certs/ca-certificates.crt
cache="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
mkdir -p "$cache"
version="$(sed -nE 's/^version = "(.+)"/\1/p' pyproject.toml | head -n1)"
start=$(date +%s)
# --format docker keeps HEALTHCHECK (the OCI image format has no such field).
$podman build --format docker --network=host --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
  -v "$ca:$ca:ro" -v "$cache:/root/.cache/pip" --build-arg PIP_NO_CACHE_DIR= \
  --build-arg PYTHON_IMAGE="$base" --build-arg VERSION="$version" \
  --build-arg REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --build-arg CREATED="$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -f "${DOCKERFILE:-docker/Dockerfile}" -t "$tag" "$@" .
size=$($podman image inspect --format '{{.Size}}' "$tag")
echo "built $tag in $(( $(date +%s) - start )) s, $(( size / 1000000 )) MB"
