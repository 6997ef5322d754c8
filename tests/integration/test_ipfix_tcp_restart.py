#!/usr/bin/env python3
"""No IPFIX record is lost over TCP while the collector is down, SIGKILLed and restarted.

shardflow exports a generated capture (many MB of IPFIX) to tcp://127.0.0.1:PORT with a 256 MiB
buffer. The collector (ipfix_tcp_collector.py, a separate process) is not running when shardflow
starts; it is started ~1 s later, SIGKILLed once it has logged some messages, and restarted on the
same port 1 s after that. Then, over the messages both collector runs logged:
  - per RFC 7011 3.1 each message's sequence number is the count of data records before it, so
    the distinct data messages sorted by sequence must chain (seq == previous seq + previous
    count) from 0 up to the number of data records expected: one per direction with packets of
    each JSON record (uniflow);
  - a sequence number never names two different messages; whole-message duplicates are allowed
    (a restarted connection resends what was not known to be read) and reported;
  - every connection carried the templates before any data set (the collector keeps templates
    across connections and restarts, as a collector may, and counts the messages that needed it:
    none may);
  - stats: the IPFIX exporter delivered every record produced, nothing lost.

Usage: test_ipfix_tcp_restart.py --shardflow BIN --sfgen tools/sfgen.py [--flows N --packets M]
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "dpdk"))
from eal_prefix import EalPrefix  # noqa: E402
from sfcommon import conservation_errors, fail, skip  # noqa: E402

COLLECTOR = os.path.join(HERE, "ipfix_tcp_collector.py")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def count_lines(path):
    try:
        with open(path) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def start_collector(port, log, templates, err):
    p = subprocess.Popen([sys.executable, COLLECTOR, "--port", str(port), "--out", log, "--templates", templates],
                         stderr=err)
    # Listening is what matters to shardflow's reconnects; wait for the port to answer.
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            # That probe was a connection too (no message): the collector logs nothing for it.
            return p
        except OSError:
            if p.poll() is not None:
                fail(f"collector exited {p.returncode} at start")
            time.sleep(0.02)
    fail("collector did not listen")


def read_log(path):
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 5:
                continue  # the line being written when the collector was killed
            out.append(tuple(int(x) for x in parts))
    return out


def check_chain(messages, expected):
    """messages: (seq, count, crc, conn, stale). Returns (errors, info)."""
    errors = []
    by_seq = {}
    duplicates = 0
    seen = set()
    for seq, count, crc, _conn, _stale in messages:
        if count < 0:
            errors.append(f"undecodable message at sequence {seq}")
            continue
        if count == 0:
            continue  # templates only: takes no sequence numbers
        if (seq, crc) in seen:
            duplicates += 1
            continue
        seen.add((seq, crc))
        if seq in by_seq:
            errors.append(f"sequence {seq}: two different messages ({by_seq[seq]} and {count} records)")
            continue
        by_seq[seq] = count
    nxt = 0
    for seq in sorted(by_seq):
        if seq != nxt:
            errors.append(f"gap: expected sequence {nxt}, next message has {seq} ({seq - nxt} records missing)")
            if len(errors) > 10:
                break
        nxt = seq + by_seq[seq]
    if nxt != expected:
        errors.append(f"last message ends at record {nxt}, {expected} data records expected")
    return errors, {"data_messages": len(by_seq), "duplicates": duplicates}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shardflow", required=True)
    ap.add_argument("--sfgen", required=True)
    ap.add_argument("--flows", type=int, default=200000)
    ap.add_argument("--packets", type=int, default=1000000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kill-after-lines", type=int, default=20)
    ap.add_argument("--capture", help="use this capture of `sfgen.py big` instead of generating one")
    args = ap.parse_args()
    if not os.access(args.shardflow, os.X_OK):
        skip(f"no shardflow binary at {args.shardflow}")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sf-ipfix-tcp-") as tmp, EalPrefix("ipfixtcp") as eal:
        cap = args.capture or os.path.join(tmp, "big.pcap")
        if not args.capture:
            subprocess.run([sys.executable, args.sfgen, "big", "-o", cap, "--truth", os.path.join(tmp, "truth.json"),
                            "--flows", str(args.flows), "--packets", str(args.packets)], check=True,
                           stdout=subprocess.DEVNULL)
        t_gen = time.monotonic() - t0
        port = free_port()
        conf = os.path.join(tmp, "shardflow.yaml")
        with open(conf, "w") as f:
            f.write("export:\n"
                    f"  ipfix: [{{target: 'tcp://127.0.0.1:{port}', buffer_mb: 256}}]\n"
                    "  drain_timeout_ms: 60000\n")
        json_path, stats_path = os.path.join(tmp, "flows.json"), os.path.join(tmp, "stats.json")
        log = os.path.join(tmp, "collector.log")
        templates = os.path.join(tmp, "templates.json")
        col_err = open(os.path.join(tmp, "collector.err"), "w")
        cmd = [args.shardflow, "-c", conf, "-r", cap, "-w", str(args.workers), "--json", json_path,
               "--stats", stats_path] + eal.args()
        t1 = time.monotonic()
        sf = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        collector = None
        try:
            time.sleep(1.0)  # shardflow runs with its collector down
            collector = start_collector(port, log, templates, col_err)
            deadline = time.monotonic() + 120
            while count_lines(log) <= args.kill_after_lines:
                if time.monotonic() > deadline:
                    fail(f"collector logged only {count_lines(log)} messages in 120 s")
                if sf.poll() is not None:
                    fail("shardflow finished before the collector could be killed mid-stream "
                         f"({count_lines(log)} messages logged): make the capture bigger")
                time.sleep(0.005)
            collector.send_signal(signal.SIGKILL)
            collector.wait()
            killed_at = count_lines(log)
            time.sleep(1.0)
            if sf.poll() is not None:
                fail("shardflow exited while the collector was down")
            collector = start_collector(port, log, templates, col_err)
            try:
                out, _ = sf.communicate(timeout=240)
            except subprocess.TimeoutExpired:
                sf.kill()
                out, _ = sf.communicate()
                fail(f"shardflow did not finish in time:\n{out[-3000:]}")
            t_run = time.monotonic() - t1
            if sf.returncode != 0:
                fail(f"shardflow exited {sf.returncode}:\n{out[-3000:]}")
            # Let the collector read what the kernel already holds for it.
            last, stable = -1, 0
            while stable < 10:
                n = count_lines(log)
                stable = stable + 1 if n == last else 0
                last = n
                time.sleep(0.05)
        finally:
            if collector is not None and collector.poll() is None:
                collector.kill()
                collector.wait()
            if sf.poll() is None:
                sf.kill()
                sf.wait()
        col_err.close()
        with open(os.path.join(tmp, "collector.err")) as f:
            col_errors = f.read().strip()
        with open(json_path) as f:
            records = [json.loads(line) for line in f if line.strip()]
        with open(stats_path) as f:
            stats = json.load(f)
        messages = read_log(log)

    errors = conservation_errors(records, stats)
    expected = sum((r["src_packets"] > 0) + (r["dst_packets"] > 0) for r in records)
    chain_errors, info = check_chain(messages, expected)
    errors += chain_errors
    if col_errors:
        errors.append(f"collector: {col_errors[:2000]}")
    # Every connection starts with the templates (the transport's stream preamble), so no message
    # needed the collector to keep templates from an earlier connection (RFC 7011 8.1 lets it not).
    stale = sum(m[4] for m in messages)
    if stale:
        errors.append(f"{stale} messages came on a connection before its templates")
    produced = stats["export"]["records_produced"]
    x = [e for e in stats["export"]["exporters"] if e["name"] == "ipfix0"]
    if len(x) != 1:
        errors.append(f"no ipfix0 exporter in the stats: {stats['export']}")
    else:
        rec = x[0]["records"]
        if rec["delivered"] != produced:
            errors.append(f"ipfix0 delivered {rec['delivered']} of {produced} records: {rec}")
        if any(rec["lost"].values()) or rec["dropped_queue_full"] or rec["undelivered_at_deadline"]:
            errors.append(f"ipfix0 lost records: {rec}")
    if produced != len(records):
        errors.append(f"records produced {produced}, JSON lines {len(records)}")
    print(f"flows {len(records)}, data records expected {expected}; {len(messages)} messages logged "
          f"({killed_at} before the kill), {info['data_messages']} distinct data messages, "
          f"{info['duplicates']} duplicates, "
          f"{stale} messages decoded with templates from an earlier connection; "
          f"generate {t_gen:.1f} s, shardflow {t_run:.1f} s")
    if errors:
        for e in errors:
            print("  ", e, file=sys.stderr)
        fail(f"{len(errors)} problem(s)")
    print("PASS")


if __name__ == "__main__":
    main()
