#!/usr/bin/env python3
"""Runs the shardflow-bench matrix (issue 3) and writes every point as one JSON file.

  python3 tools/bench/run_matrix.py --short            # routine check, under two minutes
  python3 tools/bench/run_matrix.py --full             # {10K,1M,10M} x {0,100K,1M new/s} x {64 B, IMIX}
  python3 tools/bench/run_matrix.py --full --out docs/perf/matrix.json

Each point is its own process (a fresh EAL, peak RSS of that point alone). The
worker rates are packets / worker busy time (TSC), i.e. what one worker core
sustains whatever the RX core offers; `mpps` is the pipeline's throughput.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_BIN = os.path.join(ROOT, "build", "tools", "bench", "shardflow-bench")

# Per-worker targets of issue 3 (64 B packets, one worker core).
TARGETS = {10000: 30.0, 1000000: 20.0, 10000000: 14.0}
NEW_FLOW_TARGET = 2e6


def points(mode):
    """(label, args) of each run. Each flow/size/churn point runs in both modes:
    `rings` (RX lcore -> SPSC ring -> worker, software dispatch) and `rtc` (the
    worker polls its own input, as behind a NIC's symmetric RSS)."""
    out = []
    if mode == "full":
        for flows in (10000, 1000000, 10000000):
            for churn in (0, 100000, 1000000):
                for size in ("64", "imix"):
                    for rtc in (False, True):
                        label = f"{'rtc' if rtc else 'rings'}_f{flows}_n{churn}_{size}"
                        out.append((label, ["--flows", flows, "--new-flows-per-sec", churn, "--size", size,
                                            "--duration", 6] + (["--rtc"] if rtc else [])))
        for rtc in (False, True):
            out.append((f"{'rtc' if rtc else 'rings'}_all_new_64", ["--all-new", "--duration", 4] +
                        (["--rtc"] if rtc else [])))
        out.append(("rings_f1000000_n0_64_w2", ["--flows", 1000000, "--workers", 2, "--duration", 6]))
        out.append(("rtc_f1000000_n0_64_w2", ["--flows", 500000, "--workers", 2, "--rtc", "--duration", 6]))
    else:
        for flows in (10000, 1000000, 10000000):
            for rtc in (False, True):
                out.append((f"{'rtc' if rtc else 'rings'}_f{flows}_n0_64",
                            ["--flows", flows, "--duration", 3] + (["--rtc"] if rtc else [])))
        out.append(("rtc_f1000000_n1000000_64", ["--flows", 1000000, "--new-flows-per-sec", 1000000,
                                                  "--duration", 3, "--rtc"]))
        out.append(("rtc_f1000000_n0_imix", ["--flows", 1000000, "--size", "imix", "--duration", 3, "--rtc"]))
        out.append(("rtc_all_new_64", ["--all-new", "--duration", 3, "--rtc"]))
        out.append(("rings_all_new_64", ["--all-new", "--duration", 3]))
    return out


def run_point(binary, label, args, extra):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        path = tmp.name
    cmd = [binary, "--label", label, "--bench-json", path] + [str(a) for a in args] + extra
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        os.unlink(path)
        sys.stderr.write(proc.stderr[-2000:])
        raise SystemExit(f"run_matrix: {label} failed (exit {proc.returncode}): {' '.join(cmd)}")
    with open(path) as f:
        result = json.load(f)
    os.unlink(path)
    result["command"] = " ".join(cmd[:1] + cmd[5:])
    result["process_seconds"] = round(elapsed, 2)
    return result


def fmt_row(r):
    c = r["config"]
    churn = "all" if c["all_new"] else f"{c['new_flows_per_sec_offered']:,}"
    wm = "/".join(f"{x:.1f}" for x in r["worker_mpps"])
    wn = "/".join(f"{x:.0f}" for x in r["worker_ns_per_packet"])
    return (f"{r['label']:<26} {c['flows']:>10,} {churn:>9} {c['size']:>4} {c['workers']:>2} "
            f"{r['mpps']:>7.2f} {wm:>11} {wn:>8} {r['rx_ns_per_packet']:>6.1f} "
            f"{r['new_flows_per_sec']:>11,.0f} {'yes' if r['zero_loss'] else 'NO':>4} "
            f"{r['memory']['peak_rss_mb']:>8.0f} {r['memory']['table_bytes_per_flow_slot']:>6.0f}")


def check_targets(results):
    lines = []
    for r in results:
        c = r["config"]
        if c["size"] == "64" and c["new_flows_per_sec_offered"] == 0 and not c["all_new"] and c["workers"] == 1:
            target = TARGETS.get(c["flows"])
            if target:
                got = r["worker_mpps"][0]
                lines.append(f"  {c.get('mode', 'rings'):<17} {c['flows']:>10,} flows: {got:.1f} Mpps per worker, target "
                             f"{target:.0f}: {'MET' if got >= target else 'MISSED'}")
        if c["all_new"]:
            got = r["new_flows_per_sec"]
            ok = got >= NEW_FLOW_TARGET and r["zero_loss"]
            lines.append(f"  {c.get('mode', 'rings'):<17} new flows: {got:,.0f}/s with {'zero' if r['zero_loss'] else 'SOME'} loss, target "
                         f"{NEW_FLOW_TARGET:,.0f}/s: {'MET' if ok else 'MISSED'}")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--short", action="store_true", help="routine subset, under two minutes (default)")
    mode.add_argument("--full", action="store_true", help="the whole matrix")
    ap.add_argument("--bin", default=DEFAULT_BIN)
    ap.add_argument("--out", help="write all points as one JSON object")
    ap.add_argument("--only", help="run only points whose label contains this")
    ap.add_argument("extra", nargs="*", help="more shardflow-bench arguments for every point (after --)")
    opts = ap.parse_args()
    if not os.access(opts.bin, os.X_OK):
        raise SystemExit(f"run_matrix: {opts.bin} not found: build first (bash tools/build.sh)")
    selected = [p for p in points("full" if opts.full else "short") if not opts.only or opts.only in p[0]]

    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    header = (f"{'point':<26} {'flows':>10} {'new/s':>9} {'size':>4} {'w':>2} {'Mpps':>7} {'worker Mpps':>11} "
              f"{'ns/pkt':>8} {'RX ns':>6} {'new flows/s':>11} {'loss':>4} {'RSS MiB':>8} {'B/flow':>6}")
    print(header)
    results = []
    t0 = time.monotonic()
    for label, args in selected:
        r = run_point(opts.bin, label, args, opts.extra)
        results.append(r)
        print(fmt_row(r), flush=True)
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]
    print(f"{len(results)} points in {time.monotonic() - t0:.0f} s; load average before {' '.join(load_before)}, "
          f"after {' '.join(load_after)}")
    print("targets (issue 3):")
    for line in check_targets(results):
        print(line)
    if opts.out:
        doc = {"mode": "full" if opts.full else "short", "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "host": platform.node(), "kernel": platform.release(), "load_before": load_before,
               "load_after": load_after, "points": results}
        with open(opts.out, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"wrote {opts.out}")


if __name__ == "__main__":
    main()
