#!/usr/bin/env python3
"""Prints a run_matrix.py JSON file as the Markdown tables of docs/PERFORMANCE.md.

  python3 tools/bench/matrix_markdown.py docs/perf/matrix-full.json
"""

import json
import sys


def mode(c):
    return "run to completion" if c.get("mode") == "run_to_completion" else "rings"


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    pts = doc["points"]
    m = pts[0]["machine"]
    print(f"Machine: {m['cpu']}, {m['online_cpus']} CPUs, TSC {m['tsc_hz'] / 1e9:.1f} GHz; {doc['date']}; "
          f"load average before {' '.join(doc['load_before'])}, after {' '.join(doc['load_after'])}.\n")
    print("| mode | flows | new flows/s offered | size | workers | pipeline Mpps | worker Mpps (busy) | "
          "worker ns/pkt | RX ns/pkt | new flows/s | zero loss | peak RSS MiB | table B/flow slot |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in pts:
        c = r["config"]
        churn = "every packet" if c["all_new"] else f"{c['new_flows_per_sec_offered']:,}"
        flows = "—" if c["all_new"] else f"{c['flows']:,}"
        rx = "—" if c.get("mode") == "run_to_completion" else f"{r['rx_ns_per_packet']:.0f}"
        print(f"| {mode(c)} | {flows} | {churn} | {c['size']} | {c['workers']} | {r['mpps']:.2f} | "
              f"{' / '.join(f'{x:.1f}' for x in r['worker_mpps'])} | "
              f"{' / '.join(f'{x:.0f}' for x in r['worker_ns_per_packet'])} | {rx} | "
              f"{r['new_flows_per_sec']:,.0f} | {'yes' if r['zero_loss'] else 'no'} | "
              f"{r['memory']['peak_rss_mb']:.0f} | {r['memory']['table_bytes_per_flow_slot']:.0f} |")


if __name__ == "__main__":
    main()
