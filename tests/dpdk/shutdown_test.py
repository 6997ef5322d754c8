#!/usr/bin/env python3
"""SIGTERM in the middle of a large capture: shardflow stops reading, drains
its rings, ends the open flows with end_reason shutdown, writes its stats and
exits 0, and the packet accounting still balances.

    shutdown_test.py SHARDFLOW_EXE SFGEN_PY CACHE_DIR

The capture (sfgen scenario `big`) takes a while to generate, so it is kept in
CACHE_DIR under a name that changes whenever sfgen's sources do."""

import glob
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfcommon  # noqa: E402
from eal_prefix import EalPrefix  # noqa: E402

PACKETS = 1500000
WORKERS = 3  # more lcores than CPUs on small machines: slower, and exercises idle_yield


def big_capture(sfgen, cache_dir):
    """(capture path, frames in it), generating them on first use."""
    h = hashlib.sha256()
    sources = [sfgen] + sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(sfgen)), "sfgen", "*.py")))
    for path in sources:
        with open(path, "rb") as f:
            h.update(f.read())
    base = os.path.join(cache_dir, f"sigterm-big-{PACKETS}-{h.hexdigest()[:12]}")
    pcap, truth = base + ".pcap", base + ".truth.json"
    if not (os.path.exists(pcap) and os.path.exists(truth)):
        os.makedirs(cache_dir, exist_ok=True)
        tmp_pcap, tmp_truth = f"{pcap}.{os.getpid()}.tmp", f"{truth}.{os.getpid()}.tmp"
        t0 = time.monotonic()
        subprocess.run([sys.executable, sfgen, "big", "-o", tmp_pcap, "--truth", tmp_truth,
                        "--packets", str(PACKETS)], check=True, timeout=600)
        os.replace(tmp_pcap, pcap)
        os.replace(tmp_truth, truth)
        print(f"generated {pcap} in {time.monotonic() - t0:.1f} s")
    with open(truth) as f:
        return pcap, json.load(f)


def sigterm_handled(pid):
    """True once the process has installed its SIGTERM handler (SigCgt)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)) != 0
    except OSError:
        pass
    return False


def bytes_read(pid, path):
    """How much of the capture the process has read: read() bytes (rchar, for
    libpcap's stdio) plus the resident part of its memory map of the capture
    (the mmap reader makes no read() calls)."""
    total = 0
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("rchar:"):
                    total += int(line.split()[1])
        real = os.path.realpath(path)
        with open(f"/proc/{pid}/smaps") as f:
            in_capture = False
            for line in f:
                fields = line.split()
                if "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
                    in_capture = fields[-1] == real
                elif in_capture and fields[0] == "Rss:":
                    total += int(fields[1]) * 1024
    except OSError:
        pass
    return total


def run_until_sigterm(exe, pcap, frames, tmp, fraction):
    with EalPrefix("sigterm") as eal:
        return _run_until_sigterm(exe, pcap, frames, tmp, fraction, eal.args())


def _run_until_sigterm(exe, pcap, frames, tmp, fraction, eal_args):
    """Starts shardflow and sends SIGTERM once its handler is installed and it
    has read `fraction` of the capture. Returns (stats, records), or None when
    it finished the whole capture first."""
    json_path = os.path.join(tmp, "flows.json")
    stats_path = os.path.join(tmp, "stats.json")
    for path in (json_path, stats_path):
        if os.path.exists(path):
            os.remove(path)
    cmd = [exe, "-r", pcap, "-w", str(WORKERS), "--json", json_path, "--stats", stats_path, *eal_args]
    size = os.path.getsize(pcap)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Before the handler is installed a SIGTERM would simply kill the process.
    while not (sigterm_handled(proc.pid) and bytes_read(proc.pid, pcap) >= fraction * size):
        if proc.poll() is not None:
            out, err = proc.communicate()
            if proc.returncode != 0:
                sfcommon.fail(f"shardflow exited {proc.returncode} before SIGTERM; stderr:\n{err}")
            print(f"finished all {frames} frames in {time.monotonic() - t0:.2f} s, before SIGTERM")
            return None
        if time.monotonic() - t0 > 120:
            proc.kill()
            sfcommon.fail("shardflow did not get going within 120 s")
        time.sleep(0.005)
    read = bytes_read(proc.pid, pcap)
    proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        sfcommon.fail("shardflow did not exit within 120 s of SIGTERM")
    print(f"SIGTERM after {signalled - t0:.2f} s, {100 * read / size:.0f}% of the capture read; "
          f"exit {time.monotonic() - signalled:.2f} s later")
    if proc.returncode != 0:
        sfcommon.fail(f"exit code {proc.returncode} after SIGTERM (want 0)\nstdout:\n{out}\nstderr:\n{err}")
    with open(stats_path) as f:
        stats = json.load(f)
    with open(json_path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return stats, records


def truth_errors(records, truth, packets_in):
    """RX read frames 1..packets_in: each flow that started among them has one
    record, with the generator's identity fields, and no more than the
    generator's counters (exactly them when it saw every packet)."""
    errors = []
    want = {t["flow_id"]: t for t in truth["records"] if t["flow_id"] <= packets_in}
    got = {r["flow_id"]: r for r in records}
    if set(got) != set(want):
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        errors.append(f"flows without a record: {missing[:10]} ({len(missing)}); "
                      f"records of unread flows: {extra[:10]} ({len(extra)})")
    for fid, r in got.items():
        t = want.get(fid)
        if t is None:
            continue
        same = ("proto", "ip_version", "src_ip", "src_port", "dst_ip", "dst_port", "first_ts")
        if any(r[k] != t[k] for k in same):
            errors.append(f"flow {fid}: {r} does not match the generator's {t}")
        elif any(r[k] > t[k] for k in ("src_packets", "src_bytes", "dst_packets", "dst_bytes")):
            errors.append(f"flow {fid}: more than the generator sent: {r} vs {t}")
        elif r["src_packets"] + r["dst_packets"] == t["src_packets"] + t["dst_packets"]:
            full = ("src_bytes", "dst_bytes", "tcp_flags_src", "tcp_flags_dst", "last_ts")
            if any(r[k] != t[k] for k in full):
                errors.append(f"flow {fid}: complete but differs: {r} vs {t}")
        if len(errors) > 10:
            break
    return errors


def main():
    exe, sfgen, cache_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    pcap, truth = big_capture(sfgen, cache_dir)
    frames = truth["packets"]
    result = None
    with tempfile.TemporaryDirectory(prefix="sf-sigterm-") as tmp:
        for fraction in (0.3, 0.1, 0.02):  # a very fast machine: signal sooner
            result = run_until_sigterm(exe, pcap, frames, tmp, fraction)
            if result is not None:
                break
    if result is None:
        sfcommon.fail(f"shardflow always finished the capture before SIGTERM: raise PACKETS ({PACKETS})")
    stats, records = result

    errors = []
    if stats.get("stopped_by_signal") is not True:
        errors.append(f"stopped_by_signal is {stats.get('stopped_by_signal')!r}")
    if not 0 < stats["packets_in"] < frames:
        errors.append(f"packets_in {stats['packets_in']} should be between 0 and {frames} (stopped early)")
    reasons = {}
    for r in records:
        reasons[r["end_reason"]] = reasons.get(r["end_reason"], 0) + 1
    if reasons.get("shutdown", 0) == 0:
        errors.append(f"no record ended as shutdown: {reasons}")
    if reasons.get("eof", 0) != 0:
        errors.append(f"{reasons['eof']} records ended as eof although the run was stopped")
    if stats["records"].get("shutdown") != reasons.get("shutdown", 0):
        errors.append(f"stats records.shutdown {stats['records'].get('shutdown')} != {reasons.get('shutdown', 0)}")
    if len(records) != stats.get("records_total", len(records)):
        errors.append(f"{len(records)} records written, stats records_total {stats.get('records_total')}")
    ids = [(r["flow_id"], r["generation"]) for r in records]
    if len(set(ids)) != len(ids):
        errors.append("a flow has more than one record (big has no interim records)")
    if stats["dispositions"]["ring_full"] != 0 or sfcommon.export_losses(stats):
        errors.append(f"a capture file must not drop: {stats['dispositions']} {stats['export']}")
    errors += sfcommon.conservation_errors(records, stats)
    errors += truth_errors(records, truth, stats["packets_in"])
    print(f"packets_in {stats['packets_in']} of {frames}; records {len(records)}: {reasons}")
    if errors:
        sfcommon.fail("\n  ".join(errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
