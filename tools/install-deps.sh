#!/usr/bin/env bash
# Installs the Debian 12 packages shardflow needs to build, run and test,
# skipping what is already there (so it is fast on a prepared machine).
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config python3
  dpdk-dev libdpdk-dev libtbb-dev libyaml-cpp-dev prometheus-cpp-dev
  libgtest-dev libbenchmark-dev libpcap-dev
  tshark   # independent packet counts, Community IDs and TCP streams for the real-capture tests
  tcpflow  # independent TCP stream reassembly, compared with --dump-streams
  zlib1g-dev  # gzip for rotated JSON files
  nfdump   # nfcapd: a real IPFIX collector for the export tests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter here.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
