#!/usr/bin/env bash
# The default job: install what is missing, build, generate the default
# capture (tools/sfgen.py "mixed": TCP/UDP/ICMP/SCTP/GRE over IPv4/IPv6, VLAN,
# QinQ, MPLS, PPPoE, fragments, non-IP and malformed frames) and run shardflow
# on it with two workers. Flow records land in build/default.flows.json, the
# packet accounting in build/default.stats.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
python3 tools/sfgen.py mixed -o build/default.pcap --truth build/default.truth.json
./build/app/shardflow/shardflow -r build/default.pcap -w 2 \
  --json build/default.flows.json --stats build/default.stats.json "$@"
echo "records: build/default.flows.json ($(wc -l < build/default.flows.json) lines); accounting: build/default.stats.json"
