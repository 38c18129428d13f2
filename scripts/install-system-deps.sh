#!/usr/bin/env bash
# Install the Debian packages tts-predictor needs: espeak-ng (phonemes) and ffmpeg (audio codecs) to run;
# with --test also redis-server (shared-cache tests), chromium (web page test in a real browser), prometheus
# (promtool evaluates the alert rules), nats-server (job events) and
# podman + runc + debootstrap (image tests: build and run the images without Docker or a registry).
set -euo pipefail
wanted=(espeak-ng:espeak-ng ffmpeg:ffmpeg)
if [ "${1:-}" = "--test" ]; then
  wanted+=(redis-server:redis-server chromium:chromium promtool:prometheus nats-server:nats-server podman:podman runc:runc debootstrap:debootstrap)
fi
missing=()
for pair in "${wanted[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif [ "${1:-}" = "--test" ]; then
  echo "Optional test packages missing (their tests will be skipped): ${missing[*]}" >&2
else
  echo "tts-predictor needs these system packages: ${missing[*]}" >&2
  echo "Install them first, e.g.: sudo apt-get install ${missing[*]}  (macOS: brew install ${missing[*]})" >&2
  exit 1
fi
