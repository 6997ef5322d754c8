#!/usr/bin/env python3
"""Application metadata against tshark on the real captures in ../shared/pcaps.

  test_appmeta.py --shardflow PATH [--pcaps DIR] [--only SUBSTR] [--jobs N] [--min-agree 0.99] [-v]

For every capture, shardflow writes JSON records (2 workers) and tshark dissects
the same file. tshark's per-packet values are gathered per flow (unordered
5-tuple of the outermost IP and transport headers, which is how shardflow keys
flows) and compared with the records of that tuple:

  dns_query   <-> dns.qry.name (first question)                UDP and TCP
  tls_sni     <-> tls.handshake.extensions_server_name          TCP
  tls_alpn    <-> tls.handshake.extensions_alpn_str (ClientHello packets)  TCP
  http_host   <-> http.host (first request)                     TCP
  http_method <-> http.request.method (first request)           TCP

A flow agrees when shardflow's value is one of tshark's values for that flow
(shardflow keeps the first message of a flow; tshark has one value per packet).
Only flows where tshark has a value count. Left out, and counted by name:
  tunnel  the value is inside a tunnel (a second IP layer): shardflow keys and
          parses the outer packet only
  quic    TLS fields tshark decrypted from QUIC Initial packets (UDP): shardflow
          parses TLS over TCP only
Each field must agree on at least --min-agree of its flows; every disagreement
is listed. Third-party captures are used in place; exit 77 (skip) with a
message when the folder or tshark is absent.
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

FIELDS = ("frame.number", "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "dns.qry.name", "tls.handshake.type", "tls.handshake.extensions_server_name",
          "tls.handshake.extensions_alpn_str", "http.host", "http.request.method")
IX = {f: i for i, f in enumerate(FIELDS)}
AGG = "\x1f"
COMPARED = ("dns_query", "tls_sni", "tls_alpn", "http_host", "http_method")
PREFS = ("ip.defragment:FALSE", "ipv6.defragment:FALSE")


def first(v):
    return v.split(AGG)[0] if v else ""


def tshark_values(pcap):
    """{flow key: {field: set of values}}, plus counts of values left out by category."""
    cmd = ["tshark", "-n", "-r", pcap, "-Y", "dns || tls.handshake.type == 1 || http.request", "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=" + AGG]
    for p in PREFS:
        cmd += ["-o", p]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="surrogateescape").stdout
    flows = collections.defaultdict(lambda: collections.defaultdict(set))
    left_out = collections.Counter()
    for line in out.splitlines():
        c = line.split("\t")
        if len(c) < len(FIELDS):
            continue
        layers = c[IX["frame.protocols"]].split(":")
        values = {}
        q = first(c[IX["dns.qry.name"]])
        if c[IX["dns.qry.name"]]:
            values["dns_query"] = "" if q == "<Root>" else q
        if c[IX["tls.handshake.extensions_server_name"]]:
            values["tls_sni"] = first(c[IX["tls.handshake.extensions_server_name"]])
        if "1" in c[IX["tls.handshake.type"]].split(AGG) and c[IX["tls.handshake.extensions_alpn_str"]]:
            values["tls_alpn"] = ",".join(c[IX["tls.handshake.extensions_alpn_str"]].split(AGG))
        if c[IX["http.request.method"]]:
            values["http_method"] = first(c[IX["http.request.method"]])
            if c[IX["http.host"]]:
                values["http_host"] = first(c[IX["http.host"]])
        if not values:
            continue
        if sum(1 for layer in layers if layer in ("ip", "ipv6")) > 1:
            for k in values:
                left_out[(k, "tunnel")] += 1
            continue
        src = first(c[IX["ip.src"]]) or first(c[IX["ipv6.src"]])
        dst = first(c[IX["ip.dst"]]) or first(c[IX["ipv6.dst"]])
        if c[IX["tcp.srcport"]]:
            proto, sp, dp = 6, first(c[IX["tcp.srcport"]]), first(c[IX["tcp.dstport"]])
        elif c[IX["udp.srcport"]]:
            proto, sp, dp = 17, first(c[IX["udp.srcport"]]), first(c[IX["udp.dstport"]])
        else:
            continue
        key = (proto, frozenset([(src, int(sp)), (dst, int(dp))]))
        for k, v in values.items():
            if k.startswith("tls_") and proto != 6:
                left_out[(k, "quic")] += 1
                continue
            flows[key][k].add(v)
    return flows, left_out


def ours(records):
    flows = collections.defaultdict(lambda: collections.defaultdict(set))
    for r in records:
        key = (r["proto"], frozenset([(r["src_ip"], r["src_port"]), (r["dst_ip"], r["dst_port"])]))
        for k in ("dns_query", "tls_sni", "http_host", "http_method"):
            if k in r:
                flows[key][k].add(r[k])
        if "tls_alpn" in r:
            flows[key]["tls_alpn"].add(",".join(r["tls_alpn"]))
    return flows


def run_one(shardflow, pcap):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        p = subprocess.run([shardflow, "-r", pcap, "-w", "2", "--json", out], capture_output=True, text=True)
        if p.returncode != 0:
            return pcap, None, None, None, p.stderr[-2000:]
        with open(out, encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
    mine = ours(records)
    theirs, left_out = tshark_values(pcap)
    return pcap, mine, theirs, left_out, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardflow", required=True)
    ap.add_argument("--pcaps", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "pcaps"))
    ap.add_argument("--only", default="")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min-agree", type=float, default=0.99)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if not os.path.isdir(args.pcaps):
        print(f"SKIP: no captures at {args.pcaps} (../shared/pcaps is not part of the project)")
        return 77
    if shutil.which("tshark") is None:
        print("SKIP: tshark not installed")
        return 77
    pcaps = sorted(os.path.join(args.pcaps, f) for f in os.listdir(args.pcaps)
                   if f.endswith((".pcap", ".pcapng")) and args.only in f)
    total = collections.Counter()
    agree = collections.Counter()
    left = collections.Counter()
    disagreements = []
    errors = []
    with ThreadPoolExecutor(args.jobs) as ex:
        for pcap, mine, theirs, left_out, err in ex.map(lambda p: run_one(args.shardflow, p), pcaps):
            name = os.path.basename(pcap)
            if err is not None:
                errors.append(f"{name}: shardflow failed: {err}")
                continue
            left.update(left_out)
            for key, fields in theirs.items():
                for field, values in fields.items():
                    total[field] += 1
                    got = mine.get(key, {}).get(field, set())
                    if got & values:
                        agree[field] += 1
                    else:
                        ends = [key[0]] + sorted(f"{a}:{p}" for a, p in key[1])
                        disagreements.append((field, name, ends, sorted(got), sorted(values)))
    ok = not errors
    for field in COMPARED:
        n, a = total[field], agree[field]
        share = a / n if n else 1.0
        extra = ", ".join(f"{cat} {cnt}" for (f, cat), cnt in sorted(left.items()) if f == field)
        print(f"{field:12s} {a}/{n} flows agree ({share:.2%})" + (f"; left out (packets): {extra}" if extra else ""))
        if share < args.min_agree:
            ok = False
    for field, name, ends, got, values in disagreements[: (None if args.verbose else 60)]:
        print(f"  DIFF {field} {name} {ends}: shardflow {got} tshark {values}")
    for e in errors:
        print("ERROR", e)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
