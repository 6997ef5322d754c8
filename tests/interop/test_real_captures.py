#!/usr/bin/env python3
"""Real-capture interop test: shardflow's per-tuple TCP/UDP totals against an
independent tshark count (tools/tshark_flows.py), and the conservation law on
every capture under ../shared/pcaps, malformed/ included.

  test_real_captures.py --shardflow PATH [--pcaps DIR] [--only SUBSTR] [--part all|compare|malformed]

Exit codes: 0 pass, 1 mismatch or violation, 77 skipped (no captures or no tshark).
"""

import argparse
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tools"))

import sfcommon  # noqa: E402
import tshark_flows as tf  # noqa: E402

WORKERS = 2
SHOW_TUPLES = 5  # mismatching tuples printed per capture
CAPTURE_EXTS = (".pcap", ".pcapng", ".cap")


def list_captures(folder):
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, n) for n in os.listdir(folder)
                  if n.endswith(CAPTURE_EXTS) and os.path.isfile(os.path.join(folder, n)))


def shardflow_tuples(records):
    """Sums records per unordered TCP/UDP tuple (over generations, interim records
    and VLANs) into [a->b packets, a->b bytes, b->a packets, b->a bytes]."""
    out = {}
    for r in records:
        if r["proto"] not in (tf.TCP, tf.UDP):
            continue
        src = (tf.normalize_ip(r["src_ip"]), r["src_port"])
        dst = (tf.normalize_ip(r["dst_ip"]), r["dst_port"])
        key, src_is_a = tf.tuple_key(r["proto"], src, dst)
        c = out.setdefault(key, [0, 0, 0, 0])
        fwd = (r["src_packets"], r["src_bytes"])
        rev = (r["dst_packets"], r["dst_bytes"])
        a, b = (fwd, rev) if src_is_a else (rev, fwd)
        c[0] += a[0]
        c[1] += a[1]
        c[2] += b[0]
        c[3] += b[1]
    return out


def fold_self_tuple(key, counts):
    """A tuple whose two endpoints are equal has no direction to compare: totals only."""
    if key[1] == key[2]:
        return [counts[0] + counts[2], counts[1] + counts[3], 0, 0]
    return counts


def compare(tshark, sf):
    """Returns (compared tuples, their tshark packets, excluded fragment tuples,
    mismatches); mismatches are (key, tshark counts or None, shardflow counts or
    None, TupleCount or None)."""
    compared = compared_packets = excluded = 0
    mismatches = []
    for key in sorted(set(tshark.tuples) | set(sf),
                      key=lambda k: (k[0], tf.endpoint_order(k[1]), tf.endpoint_order(k[2]))):
        t = tshark.tuples.get(key)
        # Exclusion (required by the issue): tuples that carry IP fragments. A later
        # fragment has no ports, and shardflow attributes it only when it saw the
        # first fragment, so both sides cannot be keyed the same way.
        if t is not None and t.fragment:
            excluded += 1
            continue
        compared += 1
        compared_packets += t.ab_packets + t.ba_packets if t else 0
        tc = fold_self_tuple(key, t.as_list()) if t else None
        sc = fold_self_tuple(key, sf[key]) if key in sf else None
        if tc != sc:
            mismatches.append((key, tc, sc, t))
    return compared, compared_packets, excluded, mismatches


def format_counts(c):
    return "absent" if c is None else f"a->b {c[0]} pkts/{c[1]} B, b->a {c[2]} pkts/{c[3]} B"


def describe_mismatch(key, tc, sc, t):
    fmt = format_counts
    lines = [f"    {tf.format_key(key)}", f"      tshark:    {fmt(tc)}", f"      shardflow: {fmt(sc)}"]
    if t is not None:
        extra = f"      (tshark first frame {t.first_frame}"
        if t.malformed_frames:
            extra += f"; frames tshark marks malformed: {t.malformed_frames}"
        lines.append(extra + ")")
    return "\n".join(lines)


def run_failure_text(exc):
    """sfcommon's error without DPDK's start-up chatter, on one line."""
    return " | ".join(line for line in str(exc).splitlines()
                      if line and not line.startswith(("EAL:", "TELEMETRY:")))


def check_compare(exe, capture):
    """Runs both counters on one capture. Returns (ok, report lines, figures)."""
    name = os.path.basename(capture)
    try:
        records, stats, _ = sfcommon.run_shardflow(exe, capture, workers=WORKERS)
    except Exception as e:  # noqa: BLE001 - reported per capture
        return False, [f"FAIL {name}: shardflow run failed: {run_failure_text(e)}"], (0, 0, 0, 1, 0, 0)
    lines = []
    ok = True
    cons = sfcommon.conservation_errors(records, stats)
    if cons:
        ok = False
        lines += [f"FAIL {name}: conservation: {e}" for e in cons]
    tshark = tf.count_capture(capture)
    if tshark.frames != stats["packets_in"]:
        ok = False
        lines.append(f"FAIL {name}: shardflow read {stats['packets_in']} packets, tshark "
                     f"{tshark.frames} (tshark rc {tshark.tshark_rc}: {tshark.tshark_stderr.strip()})")
    compared, compared_packets, excluded, mismatches = compare(tshark, shardflow_tuples(records))
    note = ""
    if stats.get("capture_error"):
        note += f" capture_error={stats['capture_error']!r}"
    if tshark.no_l4:
        note += f" tshark_no_l4={tshark.no_l4} (frames {tshark.no_l4_frames})"
    beyond = len(tshark.beyond_frame)
    if beyond:
        # Frames left out of tshark's count (see tshark_flows.count_capture): shardflow
        # must have counted each of them as malformed bad_ip_length, not in a flow.
        note += f" ip_length_beyond_frame_excluded={beyond} (frames {tshark.beyond_frame[:10]})"
        sf_bad = stats["dispositions"]["malformed"].get("bad_ip_length", 0)
        if sf_bad < beyond:
            ok = False
            lines.append(f"FAIL {name}: tshark sees {beyond} TCP/UDP frames whose IP length exceeds "
                         f"the frame, shardflow counts only {sf_bad} as bad_ip_length")
    status = "ok" if not mismatches and ok else "FAIL"
    lines.insert(0, f"{status:4} {name}: packets {stats['packets_in']} (tshark {tshark.frames}), "
                    f"flows {stats['dispositions']['flows']}, tuples compared {compared} "
                    f"({compared_packets} packets), "
                    f"fragment tuples excluded {excluded}, mismatches {len(mismatches)}{note}")
    for m in mismatches[:SHOW_TUPLES]:
        lines.append(describe_mismatch(*m))
    if len(mismatches) > SHOW_TUPLES:
        lines.append(f"    ... and {len(mismatches) - SHOW_TUPLES} more")
    return ok and not mismatches, lines, (stats["packets_in"], compared, excluded, len(mismatches), beyond,
                                         compared_packets)


def check_conservation_only(exe, capture):
    name = "malformed/" + os.path.basename(capture)
    try:
        records, stats, _ = sfcommon.run_shardflow(exe, capture, workers=WORKERS)
    except Exception as e:  # noqa: BLE001 - reported per capture
        return False, [f"FAIL {name}: shardflow run failed: {run_failure_text(e)}"], None
    errors = sfcommon.conservation_errors(records, stats)
    note = f" capture_error={stats['capture_error']!r}" if stats.get("capture_error") else ""
    status = "ok" if not errors else "FAIL"
    lines = [f"{status:4} {name}: packets {stats['packets_in']}, flows "
             f"{stats['dispositions']['flows']}, conservation {'holds' if not errors else 'VIOLATED'}{note}"]
    lines += [f"    {e}" for e in errors]
    return not errors, lines, stats["packets_in"]


def check_worker_independence(exe, capture):
    """The record set (order and worker ignored) must not depend on the worker count."""
    name = os.path.relpath(capture, os.path.dirname(os.path.dirname(capture)))
    sets = {}
    try:
        for w in (1, 2, 3):
            records, _, _ = sfcommon.run_shardflow(exe, capture, workers=w)
            sets[w] = sorted(sfcommon.record_identity(r) for r in records)
    except Exception as e:  # noqa: BLE001 - reported per capture
        return False, [f"FAIL {name}: shardflow run failed: {run_failure_text(e)}"], 0
    lines = []
    ok = True
    for w in (2, 3):
        if sets[w] != sets[1]:
            ok = False
            a, b = set(sets[1]), set(sets[w])
            lines.append(f"FAIL {name}: -w 1 vs -w {w}: {len(a - b)} records only with 1 worker, "
                         f"{len(b - a)} only with {w}")
            for rec in sorted(a - b)[:SHOW_TUPLES]:
                lines.append(f"    only -w 1: {dict(rec)}")
    if ok:
        lines.append(f"ok   {name}: {len(sets[1])} records identical with 1, 2 and 3 workers")
    return ok, lines, len(sets[1])


def run_all(fn, exe, captures, jobs):
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda c: fn(exe, c), captures))


def main():
    ap = argparse.ArgumentParser(description="shardflow vs tshark on real captures")
    ap.add_argument("--shardflow", required=True, help="path to the shardflow binary")
    ap.add_argument("--pcaps", default=os.path.join(REPO, "..", "shared", "pcaps"))
    ap.add_argument("--only", default="", help="only captures whose name contains this")
    ap.add_argument("--part", choices=("all", "compare", "malformed", "workers"), default="all")
    ap.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    args = ap.parse_args()

    pcaps = os.path.normpath(args.pcaps)
    exe = os.path.abspath(args.shardflow)
    top = [c for c in list_captures(pcaps) if args.only in os.path.basename(c)]
    bad = [c for c in list_captures(os.path.join(pcaps, "malformed")) if args.only in os.path.basename(c)]
    wanted = {"all": top + bad, "compare": top, "malformed": bad, "workers": top + bad}[args.part]
    if not os.path.isdir(pcaps) or not wanted:
        sfcommon.skip(f"../shared/pcaps not present ({pcaps})" if not os.path.isdir(pcaps)
                      else f"no captures to run under {pcaps} (--part {args.part}, --only {args.only!r})")
    if args.part in ("all", "compare") and shutil.which("tshark") is None:
        sfcommon.skip("tshark not installed: the per-tuple comparison needs it")

    failed = False
    if args.part in ("all", "compare"):
        results = run_all(check_compare, exe, top, args.jobs)
        totals = [0, 0, 0, 0, 0, 0]
        bad_caps = []
        for cap, (ok, lines, figs) in zip(top, results):
            print("\n".join(lines))
            totals = [x + y for x, y in zip(totals, figs)]
            if not ok:
                bad_caps.append(os.path.basename(cap))
        print(f"SUMMARY compare: {len(top)} captures, {totals[0]} packets, {totals[1]} tuples compared "
              f"({totals[5]} packets), "
              f"{totals[2]} fragment tuples excluded, {totals[4]} frames excluded as "
              f"ip_length_beyond_frame, {totals[3]} mismatching tuples, "
              f"{len(bad_caps)} failing captures{': ' + ', '.join(bad_caps) if bad_caps else ''}")
        failed = failed or bool(bad_caps)
    if args.part in ("all", "malformed"):
        results = run_all(check_conservation_only, exe, bad, args.jobs)
        bad_caps = []
        for cap, (ok, lines, _) in zip(bad, results):
            print("\n".join(lines))
            if not ok:
                bad_caps.append(os.path.basename(cap))
        print(f"SUMMARY malformed: {len(bad)} captures, conservation and exit 0 on "
              f"{len(bad) - len(bad_caps)}, failing {len(bad_caps)}"
              f"{': ' + ', '.join(bad_caps) if bad_caps else ''}")
        failed = failed or bool(bad_caps)
    if args.part in ("all", "workers"):
        caps = top + bad
        results = run_all(check_worker_independence, exe, caps, args.jobs)
        bad_caps = []
        for cap, (ok, lines, _) in zip(caps, results):
            print("\n".join(lines))
            if not ok:
                bad_caps.append(os.path.basename(cap))
        print(f"SUMMARY workers: {len(caps)} captures, {sum(r[2] for r in results)} records, identical for "
              f"1/2/3 workers on {len(caps) - len(bad_caps)}, differing on {len(bad_caps)}"
              f"{': ' + ', '.join(bad_caps) if bad_caps else ''}")
        failed = failed or bool(bad_caps)
    if failed:
        sfcommon.fail("real-capture interop: see FAIL lines above")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
