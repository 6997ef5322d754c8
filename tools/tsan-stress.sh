#!/usr/bin/env bash
# ThreadSanitizer check of the concurrent parts: builds a TSan build (once)
# into ${TSAN_BUILD_DIR:-build-tsan}, then runs, with tests/tsan/dpdk.supp
# (DPDK's uninstrumented generic-model rings only, see the file):
#   - the EAL tests (RX -> rings -> workers hand-off under load, pipelines,
#     run to completion, the shared DNS cache with 2 writer and 3 reader
#     threads: DnsCacheStress), 4 lcores on the machine's CPUs;
#   - the reassembly, TCP state and stream dump unit tests (the dump's SPSC
#     queue and writer thread);
#   - the sink unit tests (TCP transport against in-process collectors);
#   - the whole pipeline on a generated capture: RX, 3 workers with TCP
#     reassembly and app metadata (the shared DNS cache, the naming gate),
#     the JSON and an IPFIX exporter thread, and the --dump-streams writer.
# Any report fails the run (halt_on_error). Takes ~15 minutes on 2 CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${TSAN_BUILD_DIR:-build-tsan}
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" -Db_sanitize=thread -Db_lundef=false -Dwerror=true -Dbuildtype=debugoptimized
fi
ninja -C "$dir"
export TSAN_OPTIONS="halt_on_error=1 report_signal_unsafe=0 suppressions=$PWD/tests/tsan/dpdk.supp"
"$dir/tests/dpdk/dpdk_test" --gtest_brief=1
"$dir/tests/unit/tcp/unit_tcp_test" --gtest_brief=1
"$dir/tests/unit/tcp/unit_tcp_conn_test" --gtest_brief=1
"$dir/tests/unit/streamdump/unit_stream_dump_test" --gtest_brief=1
"$dir/tests/unit/sink/unit_sink_test" --gtest_brief=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 tools/sfgen.py mixed -o "$tmp/mixed.pcap" --truth "$tmp/mixed.truth.json" > /dev/null
mkdir "$tmp/streams"
"$dir/app/shardflow/shardflow" -r "$tmp/mixed.pcap" -w 3 --json "$tmp/records.json" \
  --dump-streams "$tmp/streams" --stats "$tmp/stats.json" --ipfix "file:$tmp/records.ipfix" --ipfix-mode biflow
echo "tsan-stress: no ThreadSanitizer report ($(wc -l < "$tmp/records.json") records, $(ls "$tmp/streams" | wc -l) stream files)"
