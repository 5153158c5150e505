#!/usr/bin/env bash
# Installs the Debian packages the test cluster and the end-to-end tests need,
# only those that are missing. Needs root (the test cluster needs it anyway).
set -euo pipefail
declare -A want=(
  [containerd]=containerd [runc]=runc [/usr/lib/cni/bridge]=containernetworking-plugins
  [busybox]=busybox-static [iptables]=iptables [tmux]=tmux [ip]=iproute2
)
missing=()
for probe in "${!want[@]}"; do
  if [[ $probe == /* ]]; then [ -e "$probe" ] && continue; else command -v "$probe" >/dev/null && continue; fi
  missing+=("${want[$probe]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "missing packages: ${missing[*]}; this machine has no apt-get: install them with its package manager" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "missing packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "==> installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
