#!/usr/bin/env python3
"""IPFIX to a real collector: nfdump's nfcapd receives shardflow's IPFIX for every
capture in ../shared/pcaps, and `nfdump -R` shows the same per-conversation packet
and byte totals as the JSON records of the same run.

  test_ipfix_nfdump.py --shardflow PATH [--pcaps DIR] [--only SUBSTR] [--mode uniflow|biflow]

The test starts nfcapd itself on a free loopback port (its own directory, an 8 MiB
socket buffer), runs shardflow with --json and --ipfix udp://127.0.0.1:PORT, stops
nfcapd (SIGTERM writes its last file) and reads every file back with nfdump -o csv.

Per capture:
  - nfcapd saw no IPFIX sequence failures (nfdump -I), so no message was lost;
  - uniflow: per conversation (protocol and the unordered pair of endpoints, VLANs
    ignored, both directions summed) packets and bytes equal the JSON records'
    totals; nfdump's flow count equals the JSON records' directions with packets;
    ICMP is compared per address pair (nfdump shows type/code its own way);
  - biflow: nfcapd 1.7 reads the forward half of RFC 5103 records and ignores the
    reverse elements (the reason uniflow is the default): its packets and bytes per
    conversation equal the JSON initiator-side totals, and it decodes every record.
  - shardflow's stats: the ipfix exporter delivered every record produced.
Exit 0 pass, 1 fail, 77 skip (no captures, no nfcapd/nfdump).
"""

import argparse
import collections
import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ICMP = (1, 58)
PROTO = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMP6": 58, "IPv6-ICMP": 58, "SCTP": 132, "GRE": 47, "ESP": 50}


def proto_number(name):
    """nfdump prints protocol names (TCP, ICMP6, IGMP, IPv6, ...) or numbers."""
    if name in PROTO:
        return PROTO[name]
    try:
        return int(name)
    except ValueError:
        pass
    try:
        return socket.getprotobyname(name.lower())
    except OSError:
        return None


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def conv_key(proto, a, pa, b, pb):
    if proto in ICMP:
        return (proto, frozenset([a, b]))
    return (proto, frozenset([(a, pa), (b, pb)]))


def json_totals(records, mode):
    tot = collections.Counter()
    directions = 0
    for r in records:
        k = conv_key(r["proto"], r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"])
        if mode == "uniflow":
            tot[(k, "packets")] += r["src_packets"] + r["dst_packets"]
            tot[(k, "bytes")] += r["src_bytes"] + r["dst_bytes"]
            directions += (r["src_packets"] > 0) + (r["dst_packets"] > 0)
        else:
            tot[(k, "packets")] += r["src_packets"]
            tot[(k, "bytes")] += r["src_bytes"]
            directions += 1
    return tot, directions


def nfdump_totals(nfdir):
    out = subprocess.run(["nfdump", "-R", nfdir, "-o", "csv", "-q"], capture_output=True, text=True)
    tot = collections.Counter()
    flows = 0
    if out.returncode != 0:
        return tot, -1, out.stderr
    for row in csv.reader(io.StringIO(out.stdout)):
        if len(row) < 15 or row[0] == "ts" or not row[7]:
            continue
        proto = proto_number(row[7].strip())
        if proto is None:
            print(f"    (nfdump protocol name {row[7]!r} unknown here)")
            continue
        sp = int(float(row[5])) if proto not in ICMP else 0
        dp = int(float(row[6])) if proto not in ICMP else 0
        k = conv_key(proto, row[3].strip(), sp, row[4].strip(), dp)
        tot[(k, "packets")] += int(row[11])
        tot[(k, "bytes")] += int(row[12])
        flows += 1
    return tot, flows, ""


def sequence_failures(nfdir):
    out = subprocess.run(["nfdump", "-R", nfdir, "-I"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("Sequence failures:"):
            return int(line.split(":")[1])
    return -1


def run_one(shardflow, pcap, mode, tmp):
    nfdir = os.path.join(tmp, "nf")
    os.makedirs(nfdir)
    port = free_udp_port()
    nfcapd = subprocess.Popen(["nfcapd", "-w", nfdir, "-p", str(port), "-b", "127.0.0.1", "-B", str(8 << 20),
                               "-t", "3600"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    out = os.path.join(tmp, "r.json")
    stats = os.path.join(tmp, "s.json")
    p = subprocess.run([shardflow, "-r", pcap, "-w", "2", "--json", out, "--stats", stats,
                        "--ipfix", f"udp://127.0.0.1:{port}", "--ipfix-mode", mode],
                       capture_output=True, text=True)
    time.sleep(0.5)  # the last datagrams reach nfcapd's socket
    nfcapd.send_signal(signal.SIGTERM)
    try:
        nfcapd.wait(timeout=30)
    except subprocess.TimeoutExpired:
        nfcapd.kill()
    errors = []
    if p.returncode != 0:
        return [f"shardflow exited {p.returncode}: {p.stderr[-500:]}"]
    records = [json.loads(line) for line in open(out)]
    st = json.load(open(stats))
    ipfix = [x for x in st["export"]["exporters"] if x["name"].startswith("ipfix")][0]["records"]
    if ipfix["delivered"] != st["export"]["records_produced"]:
        errors.append(f"ipfix exporter delivered {ipfix['delivered']} of {st['export']['records_produced']}: {ipfix}")
    want, directions = json_totals(records, mode)
    got, flows, err = nfdump_totals(nfdir)
    if flows < 0:
        return errors + [f"nfdump failed: {err}"]
    seqfail = sequence_failures(nfdir)
    if seqfail != 0:
        errors.append(f"nfcapd counted {seqfail} sequence failures")
    if flows != directions:
        errors.append(f"nfdump has {flows} flows, the JSON records {directions} {'directions' if mode == 'uniflow' else 'records'}")
    diffs = [k for k in set(want) | set(got) if want[k] != got[k]]
    for k in sorted(diffs, key=str)[:5]:
        errors.append(f"{k}: JSON {want[k]}, nfdump {got[k]}")
    if len(diffs) > 5:
        errors.append(f"... {len(diffs) - 5} more differences")
    return errors


def collector_down(shardflow, pcap):
    """UDP to a port nobody listens on: the kernel's port-unreachable errors make
    shardflow count send_error losses; every record is delivered or lost by reason."""
    with tempfile.TemporaryDirectory() as tmp:
        stats = os.path.join(tmp, "s.json")
        p = subprocess.run([shardflow, "-r", pcap, "-w", "2", "--stats", stats,
                            "--ipfix", f"udp://127.0.0.1:{free_udp_port()}"], capture_output=True, text=True)
        if p.returncode != 0:
            return [f"shardflow exited {p.returncode}: {p.stderr[-500:]}"]
        st = json.load(open(stats))
    rec = st["export"]["exporters"][0]["records"]
    errors = []
    lost = sum(rec["lost"].values())
    if rec["delivered"] + lost + rec["undelivered_at_deadline"] != rec["received"] or \
            rec["received"] + rec["dropped_queue_full"] != st["export"]["records_produced"]:
        errors.append(f"records do not add up: {rec}, produced {st['export']['records_produced']}")
    if rec["lost"].get("send_error", 0) == 0:
        errors.append(f"no send_error counted with nobody listening: {rec}")
    print(f"collector down: {rec}")
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardflow", required=True)
    ap.add_argument("--pcaps", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "pcaps"))
    ap.add_argument("--only", default="")
    ap.add_argument("--mode", choices=("uniflow", "biflow"), default="uniflow")
    args = ap.parse_args()
    if not os.path.isdir(args.pcaps):
        print(f"SKIP: no captures at {args.pcaps} (../shared/pcaps is not part of the project)")
        return 77
    for tool in ("nfcapd", "nfdump"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} not installed (Debian package nfdump)")
            return 77
    pcaps = sorted(f for f in os.listdir(args.pcaps) if f.endswith((".pcap", ".pcapng")) and args.only in f)
    failed = 0
    if not args.only:
        errors = collector_down(args.shardflow, os.path.join(args.pcaps, "ndpi__1kxun.pcap"))
        for e in errors:
            print("FAIL collector down:", e)
        failed += bool(errors)
    for name in pcaps:
        with tempfile.TemporaryDirectory() as tmp:
            errors = run_one(args.shardflow, os.path.join(args.pcaps, name), args.mode, tmp)
        if errors:
            failed += 1
            print(f"FAIL {name}:")
            for e in errors:
                print("   ", e)
        else:
            print(f"ok   {name}")
    print(f"SUMMARY {args.mode}: {len(pcaps) - failed} of {len(pcaps)} captures agree with nfdump")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
