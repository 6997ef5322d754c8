#!/usr/bin/env python3
"""Community ID interop: every record's community_id against tshark's per-packet Community ID
(its `communityid` post-dissector, -o communityid.seed:N), for seed 0 and a non-zero seed.

  test_community_id.py --shardflow PATH [--pcaps DIR] [--only SUBSTR] [--seeds 0,4242] [--jobs N]
  test_community_id.py --shardflow PATH --generated SFGEN [--seeds ...]

The first form runs on the real captures in ../shared/pcaps (third-party test data, used in
place; skipped with a visible message when the folder is absent). The second runs on captures
tools/sfgen.py writes into a temporary folder (mixed traffic: ICMP/ICMPv6 echo both ways, port
unreachables, neighbour discovery, SCTP, GRE, ESP, fragments), which the real captures barely
have.

tshark keys nothing; each of its packets is keyed here the way shardflow keys flows (outer IP
header and the transport header right after it; ICMP echo by its identifier, other ICMP by type
and code; a later IP fragment by its first fragment, through the IP identification) and sorted
into one category, from tshark's own dissection, before any id is compared:

  clean           one IP layer (an ICMP error's quoted header does not count: tshark hashes the
                  error by its own header, as the spec does), first fragments included
  tunnel          a second IP layer (GRE, ERSPAN, VXLAN, Geneve, GTP-U, 6in4): tshark hashes
                  the inner packet, shardflow the outer one. Compared in a second tshark pass
                  with those dissectors off, where tshark too sees only the outer header.
  later_fragment  an IP fragment past offset 0: tshark hashes it without ports (checked against
                  the spec's port-less id), while its flow's record has the ports
  no_id           IP, but tshark gives no id: a transport header it cannot decode, or an IPv6
                  packet of a protocol without ports (ESP, GRE, later fragments): tshark 4.0
                  looks up the protocol number of IPv4 headers only
  non_ip          no IP layer

Checks, per capture and seed:
  1. first packet: a record's community_id is the id of its first packet (frame flow_id);
     where that frame is clean, tshark's id of it must be the record's.
  2. every packet: each clean (and, in the second pass, tunnelled) packet's id must be its
     record's. The exception is the spec's own: ICMP ids depend on direction (a one-way type is
     hashed as sent, a request/reply pair by who sent the request), so an ICMP packet whose
     orientation, read from its type and addresses, differs from that of its record's first
     packet shares the flow but not the id (echo requests both ways with one identifier, 3/3
     port unreachables both ways): counted as icmp_direction, not a failure.
  3. later fragments: tshark's id is the port-less spec id of their addresses and protocol.
  4. clean packets in no record: no more than shardflow left out of records.

Exit codes: 0 pass, 1 mismatch, 77 skipped (no captures or no tshark).
"""

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tools"))

import sfcommon  # noqa: E402
import tshark_flows as tf  # noqa: E402
from sfgen.community_id import community_id as spec_community_id  # noqa: E402

WORKERS = 2
DEFAULT_SEEDS = "0,4242"
SHOW = 5  # examples printed per capture and problem
CAPTURE_EXTS = (".pcap", ".pcapng", ".cap")
CATEGORIES = ("clean", "tunnel", "later_fragment", "no_id", "non_ip")
# Generated inputs (--generated): sfgen arguments.
GENERATED = (("mixed", ("--flows", "1500")),
             ("mixed", ("--link", "raw", "--seed", "5", "--flows", "800")))

# Second pass: tshark stops at the outer header of every tunnel the captures hold.
OUTER_ONLY_ARGS = ("--disable-protocol", "gre", "--disable-protocol", "vxlan",
                   "--disable-protocol", "geneve", "--disable-protocol", "gtp",
                   "-d", "ip.proto==41,data", "-d", "ip.proto==4,data")

ICMP, ICMP6 = 1, 58
L4_PORT_FIELDS = {6: "tcp", 17: "udp", 132: "sctp"}
# Request/reply pairs of the spec (pycommunityid icmp.py / icmp6.py); the rest is one-way.
PAIRS = {ICMP: ((8, 0), (13, 14), (15, 16), (10, 9), (17, 18)),
         ICMP6: ((128, 129), (130, 131), (133, 134), (135, 136), (139, 140), (144, 145))}
ECHO = {ICMP: (8, 0), ICMP6: (128, 129)}

FIELDS = (
    "frame.number", "frame.protocols", "communityid",
    "ip.src", "ip.dst", "ip.proto", "ip.id", "ip.flags.mf", "ip.frag_offset",
    "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.fraghdr.offset", "ipv6.fraghdr.more",
    "ipv6.fraghdr.ident", "ipv6.fraghdr.nxt", "ipv6.hopopts.nxt", "ipv6.routing.nxt",
    "ipv6.dstopts.nxt",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
    "icmp.type", "icmp.code", "icmp.ident", "icmpv6.type", "icmpv6.code", "icmpv6.echo.identifier",
)
EXT_NXT = {"ipv6.hopopts": "ipv6.hopopts.nxt", "ipv6.routing": "ipv6.routing.nxt",
           "ipv6.fraghdr": "ipv6.fraghdr.nxt", "ipv6.dstopts": "ipv6.dstopts.nxt"}


class Packet:
    __slots__ = ("frame", "category", "cid", "src", "dst", "proto", "key", "src_is_a",
                 "icmp_type", "icmp_error", "datagram", "first_fragment")

    def __init__(self, frame):
        self.frame, self.category, self.cid = frame, "non_ip", ""
        self.src = self.dst = self.proto = self.key = self.src_is_a = self.icmp_type = None
        self.icmp_error = self.first_fragment = False
        self.datagram = None  # (src, dst, proto, identification) of a fragment


def _int(text):
    return tf._int(text.split(",")[0] if text else text)  # noqa: SLF001 - one parsing rule


def _ports(row, proto):
    """The key's ports as shardflow's parser sets them, or None when tshark decoded no header."""
    if proto in L4_PORT_FIELDS:
        name = L4_PORT_FIELDS[proto]
        sport, dport = _int(row[name + ".srcport"]), _int(row[name + ".dstport"])
        return None if sport is None or dport is None else (sport, dport)
    if proto in (ICMP, ICMP6):
        v = "icmp" if proto == ICMP else "icmpv6"
        itype = _int(row[v + ".type"])
        if itype is None:
            return None
        if itype in ECHO[proto]:
            ident = _int(row["icmp.ident" if proto == ICMP else "icmpv6.echo.identifier"])
            return None if ident is None else (ident, ident)
        return itype, _int(row[v + ".code"]) or 0
    return 0, 0  # no ports


def classify(row):
    """One tshark row -> Packet with its category and, where it has one, its key."""
    pkt = Packet(int(row["frame.number"]))
    pkt.cid = row["communityid"]
    tokens = row["frame.protocols"].split(":")
    at = tf._outer_ip(tokens)  # noqa: SLF001
    if at is None:
        return pkt
    pkt.category = "no_id"
    nxt = at + 1
    if tokens[at] == "ip":
        src, dst, proto = row["ip.src"], row["ip.dst"], _int(row["ip.proto"])
        offset, more = _int(row["ip.frag_offset"]) or 0, _int(row["ip.flags.mf"]) == 1
        ident = _int(row["ip.id"])
    else:
        ext = []
        while nxt < len(tokens) and tokens[nxt].startswith("ipv6."):
            ext.append(tokens[nxt])
            nxt += 1
        src, dst = row["ipv6.src"], row["ipv6.dst"]
        proto = _int(row[EXT_NXT[ext[-1]]]) if ext and ext[-1] in EXT_NXT else _int(row["ipv6.nxt"])
        fragmented = "ipv6.fraghdr" in ext
        offset = (_int(row["ipv6.fraghdr.offset"]) or 0) if fragmented else 0
        more = fragmented and _int(row["ipv6.fraghdr.more"]) == 1
        ident = _int(row["ipv6.fraghdr.ident"])
    if not src or not dst or proto is None:
        return pkt
    pkt.src, pkt.dst, pkt.proto = tf.normalize_ip(src), tf.normalize_ip(dst), proto
    if offset != 0 or more:
        pkt.datagram = (pkt.src, pkt.dst, proto, ident)
        pkt.first_fragment = offset == 0
    if offset != 0:
        pkt.category = "later_fragment"  # keyed later, through its first fragment
        return pkt
    inner_ip = [i for i in range(nxt, len(tokens)) if tokens[i] in ("ip", "ipv6")]
    if inner_ip:
        pkt.icmp_error = any(t in ("icmp", "icmpv6") for t in tokens[nxt:inner_ip[0]])
        if not pkt.icmp_error:
            pkt.category = "tunnel"
    ports = _ports(row, proto)
    if ports is None:
        pkt.category = "no_id"
        return pkt
    if proto in (ICMP, ICMP6):
        pkt.icmp_type = _int(row[("icmp" if proto == ICMP else "icmpv6") + ".type"])
    pkt.key, pkt.src_is_a = tf.tuple_key(proto, (pkt.src, ports[0]), (pkt.dst, ports[1]))
    if pkt.category == "no_id" and pkt.cid:
        pkt.category = "clean"
    return pkt


def tshark_packets(capture, seed, outer_only=False):
    cmd = ["tshark", "-n", "-r", capture, "--enable-protocol", "communityid",
           "-o", f"communityid.seed:{seed}", "-T", "fields", "-E", "occurrence=f",
           "-E", "separator=/t"]
    for pref in tf.TSHARK_PREFS:  # each frame's own headers: no IP reassembly
        cmd += ["-o", pref]
    if outer_only:
        cmd += list(OUTER_ONLY_ARGS)
    for name in FIELDS:
        cmd += ["-e", name]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=600)
    packets, first_of = [], {}
    for line in proc.stdout.splitlines():
        values = line.split("\t")
        if len(values) != len(FIELDS):
            raise RuntimeError(f"unexpected tshark row ({len(values)} fields): {line!r}")
        pkt = classify(dict(zip(FIELDS, values)))
        # A later fragment belongs to its first fragment's flow, as shardflow attributes it.
        if pkt.first_fragment and pkt.key is not None:
            first_of[pkt.datagram] = (pkt.key, pkt.src_is_a)
        elif pkt.category == "later_fragment" and pkt.datagram in first_of:
            pkt.key, pkt.src_is_a = first_of[pkt.datagram]
        packets.append(pkt)
    return packets


def record_key(r):
    return tf.tuple_key(r["proto"], (tf.normalize_ip(r["src_ip"]), r["src_port"]),
                        (tf.normalize_ip(r["dst_ip"]), r["dst_port"]))[0]


def icmp_orientation(pkt):
    """What the spec's id of an ICMP packet depends on besides its key: for a request/reply
    type, which endpoint asked; for a one-way type, the sender and type. None otherwise."""
    if pkt.proto not in (ICMP, ICMP6) or pkt.icmp_type is None:
        return None
    for request, reply in PAIRS[pkt.proto]:
        if pkt.icmp_type in (request, reply):
            return ("pair", request, pkt.src_is_a == (pkt.icmp_type == request))
    return ("one-way", pkt.icmp_type, pkt.src_is_a)


class Result:
    def __init__(self, name, seed):
        self.name, self.seed = name, seed
        self.ok, self.lines = True, []
        self.by_category = collections.Counter()
        self.compared = collections.Counter()   # packets whose id equals their record's, by proto
        self.records = self.first_checked = self.icmp_errors = self.icmp_direction = 0
        self.tunnel_compared = self.tunnel_no_id = 0
        self.frag_in_records = self.frag_portless = self.no_record = 0

    def fail(self, text):
        self.ok = False
        if sum(1 for line in self.lines if not line.startswith("    ...")) < 3 * SHOW:
            self.lines.append("    " + text)

    def add(self, other):
        self.records += other.records
        self.first_checked += other.first_checked
        self.icmp_errors += other.icmp_errors
        self.icmp_direction += other.icmp_direction
        self.tunnel_compared += other.tunnel_compared
        self.tunnel_no_id += other.tunnel_no_id
        self.frag_in_records += other.frag_in_records
        self.frag_portless += other.frag_portless
        self.no_record += other.no_record
        self.by_category.update(other.by_category)
        self.compared.update(other.compared)


def compare_packet(res, pkt, by_key, by_frame, label):
    """Check 2 for one keyed packet; returns False when it belongs to no record."""
    recs = by_key.get(pkt.key)
    if not recs:
        return False
    ids = {r["community_id"] for r in recs}
    if pkt.cid in ids:
        res.compared[pkt.proto] += 1
        return True
    mine = icmp_orientation(pkt)
    firsts = [icmp_orientation(by_frame[r["flow_id"]]) if r["flow_id"] in by_frame else None
              for r in recs]
    if mine is not None and all(f is not None and f != mine for f in firsts):
        res.icmp_direction += 1
        return True
    res.fail(f"{label} frame {pkt.frame}: tshark {pkt.cid}, its record(s) {sorted(ids)} "
             f"{tf.format_key(pkt.key)}")
    return True


def check(exe, capture, seed, name=None):
    res = Result(name or os.path.basename(capture), seed)
    try:
        records, stats, _ = sfcommon.run_shardflow(
            exe, capture, workers=WORKERS, config_text=f"export:\n  community_id_seed: {seed}\n")
    except Exception as e:  # noqa: BLE001 - reported per capture
        res.fail(f"shardflow run failed: {str(e).splitlines()[0]}")
        return res
    res.records = len(records)
    packets = tshark_packets(capture, seed)
    by_frame = {p.frame: p for p in packets}
    by_key = collections.defaultdict(list)
    for r in records:
        cid = r.get("community_id", "")
        if not cid.startswith("1:") or len(cid) != 30:
            res.fail(f"record without a Community ID: {r}")
        by_key[record_key(r)].append(r)

    # 1. A record's id is its first packet's.
    for r in records:
        pkt = by_frame.get(r["flow_id"])
        if pkt is not None and pkt.category == "clean":
            res.first_checked += 1
            if pkt.cid != r["community_id"]:
                res.fail(f"first packet, frame {r['flow_id']}: tshark {pkt.cid}, record "
                         f"{r['community_id']} ({tf.format_key(record_key(r))})")

    no_record_frames = []
    tunnelled = set()
    for pkt in packets:
        res.by_category[pkt.category] += 1
        if pkt.category == "clean":
            res.icmp_errors += pkt.icmp_error
            if not compare_packet(res, pkt, by_key, by_frame, "clean"):
                no_record_frames.append(pkt.frame)
        elif pkt.category == "tunnel":
            tunnelled.add(pkt.frame)
        elif pkt.category == "later_fragment" and pkt.key in by_key and pkt.cid:
            # 3. tshark hashes a later fragment by its addresses and protocol alone.
            res.frag_in_records += 1
            if pkt.cid == spec_community_id(pkt.proto, pkt.src, pkt.dst, seed=seed):
                res.frag_portless += 1
            else:
                res.fail(f"later fragment, frame {pkt.frame}: tshark {pkt.cid}, not the port-less "
                         f"id of {pkt.src} -> {pkt.dst} proto {pkt.proto}")
    res.no_record = len(no_record_frames)
    outside = stats["packets_in"] - stats["dispositions"]["flows"]
    if res.no_record > outside:
        res.fail(f"{res.no_record} clean packets in no record (frames {no_record_frames[:10]}), "
                 f"more than the {outside} packets shardflow left out of records")

    # 2, for tunnels: tshark again, stopping at the outer header.
    if tunnelled:
        for pkt in tshark_packets(capture, seed, outer_only=True):
            if pkt.frame not in tunnelled:
                continue
            if pkt.category == "clean":
                res.tunnel_compared += compare_packet(res, pkt, by_key, by_frame, "tunnel (outer)")
            elif pkt.category == "no_id":
                res.tunnel_no_id += 1  # tshark 4.0 hashes no IPv6 packet of a port-less protocol
            elif pkt.category != "later_fragment":
                res.fail(f"tunnel frame {pkt.frame}: with tunnel dissectors off, tshark still "
                         f"sees it as {pkt.category}")
    return res


def list_captures(folder):
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, n) for n in os.listdir(folder)
                  if n.endswith(CAPTURE_EXTS) and os.path.isfile(os.path.join(folder, n)))


def generate(sfgen, folder):
    """Writes the GENERATED captures into folder; returns [(path, label)]."""
    out = []
    for i, (scenario, gen_args) in enumerate(GENERATED):
        cap = os.path.join(folder, f"{scenario}-{i}.pcap")
        cmd = [sys.executable, sfgen, scenario, "-o", cap, *gen_args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            sfcommon.fail(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
        out.append((cap, f"sfgen {scenario} {' '.join(gen_args)}"))
    return out


def summary_line(res, n_captures):
    cats = ", ".join(f"{k} {res.by_category[k]}" for k in CATEGORIES if res.by_category[k]) or "none"
    protos = ", ".join(f"{p}: {n}" for p, n in sorted(res.compared.items())) or "none"
    return (f"{res.records} records, first packets checked {res.first_checked}; packets {cats}; "
            f"equal to their record's id, by IP protocol {{{protos}}} (ICMP errors among them "
            f"{res.icmp_errors}, tunnelled packets by their outer header {res.tunnel_compared}, "
            f"tunnelled packets tshark gives no outer id {res.tunnel_no_id}); "
            f"ICMP packets whose direction gives them another id {res.icmp_direction}; later "
            f"fragments in records {res.frag_in_records}, hashed by tshark without ports "
            f"{res.frag_portless}; clean packets in no record {res.no_record}"
            + (f" ({n_captures} captures)" if n_captures else ""))


def main():
    ap = argparse.ArgumentParser(description="shardflow community_id vs tshark")
    ap.add_argument("--shardflow", required=True, help="path to the shardflow binary")
    ap.add_argument("--pcaps", default=os.path.join(REPO, "..", "shared", "pcaps"))
    ap.add_argument("--only", default="", help="only captures whose name contains this")
    ap.add_argument("--generated", metavar="SFGEN", help="run on captures tools/sfgen.py writes")
    ap.add_argument("--seeds", default=DEFAULT_SEEDS, help="comma-separated Community ID seeds")
    ap.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    args = ap.parse_args()

    if shutil.which("tshark") is None:
        sfcommon.skip("tshark not installed: the Community ID comparison needs it")
    exe = os.path.abspath(args.shardflow)
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory(prefix="sf-cid-") as tmp:
        if args.generated:
            inputs = generate(args.generated, tmp)
        else:
            pcaps = os.path.normpath(args.pcaps)
            if not os.path.isdir(pcaps):
                sfcommon.skip(f"../shared/pcaps not present ({pcaps}): the Community ID interop "
                              "test runs on the shared real captures")
            inputs = [(c, os.path.basename(c)) for c in list_captures(pcaps)
                      if args.only in os.path.basename(c)]
            if not inputs:
                sfcommon.skip(f"no captures to run under {pcaps} (--only {args.only!r})")
        jobs = [(cap, label, seed) for seed in seeds for cap, label in inputs]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda j: check(exe, j[0], j[2], j[1]), jobs))

    failing = []
    for seed in seeds:
        total = Result("all", seed)
        for res in (r for r in results if r.seed == seed):
            print(f"{'ok' if res.ok else 'FAIL':4} seed {seed} {res.name}: {summary_line(res, 0)}")
            for line in res.lines:
                print(line)
            if not res.ok:
                failing.append(f"{res.name} (seed {seed})")
            total.add(res)
        print(f"SUMMARY seed {seed}: {summary_line(total, len(inputs))}")
    if failing:
        sfcommon.fail("Community ID interop: " + ", ".join(failing))
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
