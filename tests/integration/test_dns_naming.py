#!/usr/bin/env python3
"""A DNS answer read on one worker names the flows that live on other workers.

Builds a capture (with sfgen's packet builders) of many clients that each ask a
resolver for a name, get a CNAME chain ending in A/AAAA records, and then open
a TCP connection to the answered address. Runs shardflow with 4 workers and
checks, against what the generator built:
  - every such TCP record has server_name = the queried name, source "dns";
  - the pairs really crossed workers (the DNS record and the TCP record were
    ended by different workers for at least a quarter of the pairs);
  - a different client connecting to the same address is NOT named (the cache
    is keyed by client and server), nor is a connection that starts after the
    answer's (clamped) TTL ran out;
  - a connection with its own TLS SNI keeps the SNI (source tls_sni) over DNS;
  - the DNS records carry dns_query / dns_qtype / dns_rcode / dns_answers.

Usage: test_dns_naming.py --shardflow BIN --sfgen tools/sfgen.py
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile


def load_sfgen(path):
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    from sfgen import capture, conv, wire  # noqa: E402
    return capture, conv, wire


def dns_name(name, offsets, out_len):
    """Wire form of a name, compressed against earlier names (offsets: suffix -> offset)."""
    labels = name.split(".")
    out = b""
    for i in range(len(labels)):
        suffix = ".".join(labels[i:])
        if suffix in offsets:
            return out + struct.pack("!H", 0xC000 | offsets[suffix])
        offsets[suffix] = out_len + len(out)
        out += bytes([len(labels[i])]) + labels[i].encode()
    return out + b"\0"


def dns_message(qid, name, qtype, response=False, answers=(), rcode=0):
    """answers: (owner, type, ttl, rdata-name-or-address-bytes)."""
    flags = 0x8180 | rcode if response else 0x0100
    msg = bytearray(struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0))
    offsets = {}
    msg += dns_name(name, offsets, len(msg)) + struct.pack("!HH", qtype, 1)
    for owner, rtype, ttl, rdata in answers:
        msg += dns_name(owner, offsets, len(msg)) + struct.pack("!HHI", rtype, 1, ttl)
        if rtype == 5:
            body = dns_name(rdata, offsets, len(msg) + 2)
        else:
            body = rdata
        msg += struct.pack("!H", len(body)) + body
    return bytes(msg)


def tls_client_hello(sni):
    """A minimal TLS 1.2 ClientHello record carrying one server_name."""
    host = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(host) + 5, len(host) + 3, 0, len(host)) + host
    body = (struct.pack("!H", 0x0303) + b"\x11" * 32 + b"\x00" + struct.pack("!HH", 2, 0x002F) + b"\x01\x00" +
            struct.pack("!H", len(sni_ext)) + sni_ext)
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def build(sfgen_path, out):
    capture, conv, wire = load_sfgen(sfgen_path)
    ctx = conv.Ctx(7)
    t = conv.BASE_TS_US
    resolver4, resolver6 = "10.53.0.53", "fd00:53::53"
    expect = []  # (proto, client, cport, server, sport, expected server_name or None, source)
    dns_pairs = []  # (client, cport, tcp tuple)
    n = 64
    for i in range(n):
        v6 = i % 4 == 3
        client = f"fd00:1::{i + 1:x}" if v6 else f"10.1.{i // 200}.{i % 200 + 1}"
        server = f"fd00:2::{i + 1:x}" if v6 else f"192.0.2.{i + 1}"
        name = f"host{i}.example.org"
        alias = f"edge{i}.cdn.example.net"
        qtype = 28 if v6 else 1
        addr = wire.pack_addr(server)
        answers = [(name, 5, 300, alias), (alias, qtype, 30, addr)]
        # An unrelated address in the same answer must not name anything.
        answers.append(("other.example.com", qtype, 300, wire.pack_addr(f"fd00:9::{i + 1:x}" if v6 else f"198.51.100.{i + 1}")))
        cport = 40000 + i
        u = conv.Udp(ctx, client, resolver6 if v6 else resolver4, cport, 53, t)
        u.ip(1, True, 17, u.datagram(True, dns_message(0x1000 + i, name, qtype)), cport, 53)
        u.ip(2000, False, 17, u.datagram(False, dns_message(0x1000 + i, name, qtype, True, answers)), 53, cport)
        t = u.t + 1000
        tc = conv.Tcp(ctx, client, server, 50000 + i, 8443, t)
        tc.handshake(400)
        tc.data(100, True, 200)
        tc.data(200, False, 900)
        tc.close(300)
        expect.append((6, client, 50000 + i, server, 8443, name, "dns"))
        dns_pairs.append(((17, client, cport, resolver6 if v6 else resolver4, 53), (6, client, 50000 + i, server, 8443)))
        t = tc.t + 500
        if i % 8 == 0:
            # Another client, same server: not named.
            other = f"fd00:3::{i + 1:x}" if v6 else f"10.3.0.{i + 1}"
            tc2 = conv.Tcp(ctx, other, server, 51000 + i, 8443, t)
            tc2.handshake(400)
            tc2.close(300)
            expect.append((6, other, 51000 + i, server, 8443, None, None))
            t = tc2.t + 500
        if i % 8 == 1:
            # The same client to the same server, with its own SNI: the SNI wins.
            tc3 = conv.Tcp(ctx, client, server, 52000 + i, 443, t)
            tc3.handshake(400)
            tc3.send(100, True, wire.TCP_ACK | wire.TCP_PSH, tls_client_hello(f"sni{i}.example.com"))
            tc3.close(300)
            expect.append((6, client, 52000 + i, server, 443, f"sni{i}.example.com", "tls_sni"))
            t = tc3.t + 500
    # Long after every TTL (30 s, clamped to min_ttl_s 60): a late connection is not named.
    late_t = t + 200 * 1000000
    for i in range(0, n, 16):
        v6 = i % 4 == 3
        client = f"fd00:1::{i + 1:x}" if v6 else f"10.1.{i // 200}.{i % 200 + 1}"
        server = f"fd00:2::{i + 1:x}" if v6 else f"192.0.2.{i + 1}"
        tc4 = conv.Tcp(ctx, client, server, 53000 + i, 8443, late_t)
        tc4.handshake(400)
        tc4.close(300)
        expect.append((6, client, 53000 + i, server, 8443, None, None))
        late_t = tc4.t + 500
    ctx.packets.sort(key=lambda p: (p.ts, p.order))
    capture.write_packets(out, ctx.packets)
    return expect, dns_pairs


def tuple_of(r):
    return (r["proto"], r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardflow", required=True)
    ap.add_argument("--sfgen", required=True)
    args = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "dns_names.pcap")
        expect, dns_pairs = build(args.sfgen, pcap)
        conf = os.path.join(tmp, "c.yaml")
        with open(conf, "w") as f:
            f.write("app:\n  dns_cache:\n    min_ttl_s: 60\n    max_ttl_s: 3600\n")
        out = os.path.join(tmp, "records.json")
        stats = os.path.join(tmp, "stats.json")
        subprocess.run([args.shardflow, "-c", conf, "-r", pcap, "-w", "4", "--json", out, "--stats", stats],
                       check=True, stdout=subprocess.DEVNULL)
        records = [json.loads(line) for line in open(out)]
        st = json.load(open(stats))
    by_tuple = {}
    for r in records:
        by_tuple.setdefault(tuple_of(r), []).append(r)
    for proto, c, cp, s, sp, name, source in expect:
        rs = by_tuple.get((proto, c, cp, s, sp), [])
        if len(rs) != 1:
            failures.append(f"{c}:{cp} -> {s}:{sp}: {len(rs)} records, expected 1")
            continue
        got = (rs[0].get("server_name"), rs[0].get("server_name_source"))
        if got != (name, source):
            failures.append(f"{c}:{cp} -> {s}:{sp}: server_name {got}, expected {(name, source)}")
    crossed = 0
    for dns_t, tcp_t in dns_pairs:
        d, tcpr = by_tuple.get(dns_t, []), by_tuple.get(tcp_t, [])
        if len(d) != 1 or len(tcpr) != 1:
            failures.append(f"pair {dns_t}: records missing")
            continue
        dr = d[0]
        if dr.get("dns_rcode") != 0 or not dr.get("dns_query", "").startswith("host"):
            failures.append(f"DNS record {dns_t}: {dr.get('dns_query')!r} rcode {dr.get('dns_rcode')}")
        answers = dr.get("dns_answers", [])
        if len(answers) != 3 or answers[1] != tcp_t[3] or dr.get("dns_ttls", [])[:2] != [300, 30]:
            failures.append(f"DNS record {dns_t}: answers {answers} ttls {dr.get('dns_ttls')}")
        if dr["worker"] != tcpr[0]["worker"]:
            crossed += 1
    if crossed < len(dns_pairs) // 4:
        failures.append(f"only {crossed} of {len(dns_pairs)} pairs crossed workers: the test proves nothing")
    cache = (st.get("app") or {}).get("dns_cache") or {}
    print(f"{len(expect)} flows checked, {crossed}/{len(dns_pairs)} DNS->TCP pairs on different workers, "
          f"cache: {cache}")
    for f in failures[:30]:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
