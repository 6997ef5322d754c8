#!/usr/bin/env python3
"""End-to-end tests on generated captures (tools/sfgen.py and its ground truth).

    test_scenarios.py --shardflow EXE --sfgen SFGEN SCENARIO [--gen-args "ARGS"] [--workers 1,2,3]
        Generates SCENARIO, runs the engine with each worker count and checks that the records are
        the same for every worker count, equal the ground truth (as multisets), and that the stats
        conserve packets and match the truth's dispositions.
    test_scenarios.py --sfgen SFGEN --vs-tshark
        Checks the generator itself against tshark: frame counts of every scenario, and for each,
        per TCP/UDP 5-tuple (outside fragmented address pairs) packets, bytes, first/last time and
        VLAN ids; non-IP frame count.

Ground truth format: README.md in this folder."""

import argparse
import collections
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfcommon  # noqa: E402

TS_FIELDS = ("first_ts", "last_ts", "duration")
ENGINE_ONLY = ("worker", "duration", "seq")
# The TCP analysis part of a record (Zeek's conn_state/history, quality
# counters, RTT, reassembly counts): the generator's truth does not model it.
# It is checked against scripted exchanges in tests/unit/tcp and tests/dpdk,
# and against tshark's analysis in tests/interop.
TCP_ANALYSIS = ("conn_state", "direction_reason", "history", "history_truncated", "src_retrans_packets",
                "src_retrans_bytes", "dst_retrans_packets", "dst_retrans_bytes", "src_ooo_segments",
                "dst_ooo_segments", "src_zero_windows", "dst_zero_windows", "src_missed_bytes",
                "dst_missed_bytes", "missed_bytes", "overlap_conflict_bytes", "rtt_synack_us", "rtt_ack_us",
                "rtt_us")
# Application metadata (DNS/TLS/HTTP fields, server_name): the generator's
# payloads are random bytes, and a random datagram to port 53 may parse as a
# DNS question. Checked against tshark in tests/interop/test_appmeta.py and on
# built messages in tests/unit/appmeta and tests/integration/test_dns_naming.py.
APP_PREFIXES = ("dns_", "tls_", "http_", "server_name")
SHOWN_DIFFS = 15


def generate(sfgen, scenario, tmp, gen_args=()):
    ext = "pcapng" if "pcapng" in gen_args else "pcap"
    cap, truth_path = os.path.join(tmp, f"{scenario}.{ext}"), os.path.join(tmp, f"{scenario}.truth.json")
    cmd = [sys.executable, sfgen, scenario, "-o", cap, "--truth", truth_path, *gen_args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        sfcommon.fail(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
    with open(truth_path) as f:
        return cap, json.load(f)


def to_yaml(config, indent=0):
    """Nested dict of scalars -> YAML (enough for the truth's config)."""
    lines = []
    for k, v in config.items():
        if isinstance(v, dict):
            lines.append(" " * indent + f"{k}:")
            lines.append(to_yaml(v, indent + 2))
        else:
            lines.append(" " * indent + f"{k}: {json.dumps(v)}")
    return "\n".join(lines)


def us(seconds):
    return round(seconds * 1000000)


def normalized(rec):
    """A record as a hashable tuple without the engine-only fields; times in microseconds."""
    return tuple(sorted((k, us(v) if k in TS_FIELDS else v) for k, v in rec.items()
                        if k not in ENGINE_ONLY and k not in TCP_ANALYSIS and not k.startswith(APP_PREFIXES)))


FIELD_ORDER = ("flow_id", "generation", "proto", "ip_version", "src_ip", "src_port", "dst_ip",
               "dst_port", "vlan", "inner_vlan", "community_id", "first_ts", "last_ts", "src_packets", "src_bytes",
               "dst_packets", "dst_bytes", "tcp_flags_src", "tcp_flags_dst", "end_reason")


def show(rec_tuple):
    d = dict(rec_tuple)
    for k in TS_FIELDS:
        if k in d:
            d[k] = f"{d[k] / 1e6:.6f}"
    rank = {k: i for i, k in enumerate(FIELD_ORDER)}
    return json.dumps(dict(sorted(d.items(), key=lambda kv: rank.get(kv[0], len(rank)))))


def record_diff(expected, got):
    """Lines describing the multiset difference; missing/unexpected records of the same flow
    (flow_id) are paired and their differing fields named."""
    exp, act = collections.Counter(map(normalized, expected)), collections.Counter(map(normalized, got))
    missing, unexpected = list((exp - act).elements()), list((act - exp).elements())
    if not missing and not unexpected:
        return []
    lines = [f"{len(missing)} expected record(s) missing, {len(unexpected)} unexpected "
             f"(of {len(expected)} expected, {len(got)} produced)"]
    by_id = collections.defaultdict(list)
    for r in unexpected:
        by_id[dict(r).get("flow_id")].append(r)
    for r in missing[:SHOWN_DIFFS]:
        d = dict(r)
        peers = by_id.get(d.get("flow_id"))
        if peers:
            p = dict(peers.pop(0))
            fields = sorted(set(d) | set(p))
            diffs = ", ".join(f"{k}: expected {d.get(k, '<absent>')!r} got {p.get(k, '<absent>')!r}"
                              for k in fields if d.get(k, "<absent>") != p.get(k, "<absent>"))
            lines.append(f"  flow_id {d.get('flow_id')} differs: {diffs}\n    expected {show(r)}")
        else:
            lines.append(f"  missing    {show(r)}")
    rest = [r for rs in by_id.values() for r in rs]
    for r in rest[:SHOWN_DIFFS]:
        lines.append(f"  unexpected {show(r)}")
    if len(missing) > SHOWN_DIFFS or len(rest) > SHOWN_DIFFS:
        lines.append("  ...")
    return lines


def stats_errors(stats, truth):
    errors = []
    disp = stats.get("dispositions", {})
    if stats.get("packets_in") != truth["packets"]:
        errors.append(f"packets_in {stats.get('packets_in')} != frames {truth['packets']}")
    malformed = disp.get("malformed", {})
    got = {"non_ip": disp.get("non_ip"), "malformed": sum(malformed.values()),
           "fragments_unattributed": disp.get("fragments_unattributed")}
    for k, v in truth["dispositions"].items():
        if got[k] != v:
            errors.append(f"dispositions.{k} = {got[k]}, truth {v}")
    nonzero = {k: v for k, v in malformed.items() if v}
    if nonzero != truth.get("malformed_reasons", nonzero):
        errors.append(f"malformed reasons {nonzero}, truth {truth['malformed_reasons']}")
    for k in ("ring_full", "table_full"):
        if disp.get(k, 0):
            errors.append(f"dispositions.{k} = {disp[k]} (no packet may be lost here)")
    if sfcommon.export_losses(stats):
        errors.append(f"records lost in export: {sfcommon.export_losses(stats)} (no record may be lost here)")
    return errors


def brief_stats(stats):
    disp = dict(stats.get("dispositions", {}))
    disp["malformed"] = {k: v for k, v in disp.get("malformed", {}).items() if v}
    return f"packets_in {stats.get('packets_in')}, dispositions {json.dumps(disp)}"


def duration_errors(records):
    bad = [r for r in records if "duration" in r and
           us(r["duration"]) != us(r["last_ts"]) - us(r["first_ts"])]
    if not bad:
        return []
    return [f"{len(bad)} record(s) with duration != last_ts - first_ts, e.g. {json.dumps(bad[0])}"]


def run_scenario(args):
    gen_args = shlex.split(args.gen_args)
    workers = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="sf-scen-") as tmp:
        cap, truth = generate(args.sfgen, args.scenario, tmp, gen_args)
        config = to_yaml(truth["config"]) + "\n"
        print(f"{args.scenario} {' '.join(gen_args)}: {truth['packets']} frames, "
              f"{len(truth['records'])} expected records; config:\n{config}")
        errors, first_identity = [], None
        for w in workers:
            label = f"--workers {w}"
            try:
                records, stats, _ = sfcommon.run_shardflow(args.shardflow, cap, workers=w,
                                                           config_text=config)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                errors.append(f"{label}: {e}")
                continue
            errs = sfcommon.conservation_errors(records, stats) + stats_errors(stats, truth)
            errs += duration_errors(records) + record_diff(truth["records"], records)
            identity = collections.Counter(map(sfcommon.record_identity, records))
            if first_identity is None:
                first_identity = (w, identity)
            elif identity != first_identity[1]:
                errs.append(f"records differ from --workers {first_identity[0]}: "
                            f"{sum((identity - first_identity[1]).values())} only here, "
                            f"{sum((first_identity[1] - identity).values())} only there")
            print(f"{label}: {len(records)} records, {brief_stats(stats)} -> {'ok' if not errs else 'FAILED'}")
            errors += [f"{label}: {e}" for e in errs]
    if errors:
        sfcommon.fail("\n".join(errors))
    print("ok")


# --- the generator against tshark ------------------------------------------------------------

TSHARK_FIELDS = ("frame.number", "frame.time_epoch", "frame.protocols", "ip.src", "ip.dst",
                 "ipv6.src", "ipv6.dst", "ip.len", "ipv6.plen", "tcp.srcport", "tcp.dstport",
                 "udp.srcport", "udp.dstport", "ip.flags.mf", "ip.frag_offset", "ipv6.fraghdr.offset",
                 "ieee8021ad.id", "vlan.id")
NON_IP_PROTOCOLS = ("arp", "lldp", "pppoed")


def tshark_frames(tshark, cap):
    cmd = [tshark, "-n", "-r", cap, "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        sfcommon.fail(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
    for line in proc.stdout.splitlines():
        yield dict(zip(TSHARK_FIELDS, line.split("\t")))


def epoch_us(text):
    sec, _, frac = text.partition(".")
    return int(sec) * 1000000 + int((frac + "000000")[:6])


class Tuple:
    __slots__ = ("packets", "bytes", "first", "last", "vlans")

    def __init__(self):
        self.packets = self.bytes = 0
        self.first, self.last, self.vlans = None, None, set()

    def add(self, packets, nbytes, first, last, vlans):
        self.packets += packets
        self.bytes += nbytes
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)
        self.vlans.add(vlans)

    def __repr__(self):
        return (f"packets={self.packets} bytes={self.bytes} first={self.first} last={self.last} "
                f"vlans={sorted(self.vlans)}")


def tshark_view(tshark, cap):
    """(frames, non-IP frames, per-tuple aggregates, fragmented address pairs) as tshark sees them."""
    tuples, frag_pairs = collections.defaultdict(Tuple), set()
    frames = non_ip = 0
    for fr in tshark_frames(tshark, cap):
        frames += 1
        protos = fr["frame.protocols"].split(":")
        if any(p in protos for p in NON_IP_PROTOCOLS):
            non_ip += 1
            continue
        first = {k: v.split(",")[0] for k, v in fr.items()}
        src, dst = first["ip.src"] or first["ipv6.src"], first["ip.dst"] or first["ipv6.dst"]
        if not src:
            continue
        if first["ip.flags.mf"] == "1" or first["ip.frag_offset"] not in ("", "0") or \
                first["ipv6.fraghdr.offset"] != "":
            frag_pairs.add(frozenset((src, dst)))
            continue
        if any(p in protos for p in ("icmp", "icmpv6", "gre")):
            continue  # ICMP errors quote headers, GRE carries packets: not this tuple's
        if first["tcp.srcport"]:
            proto, sp, dp = 6, first["tcp.srcport"], first["tcp.dstport"]
        elif first["udp.srcport"]:
            proto, sp, dp = 17, first["udp.srcport"], first["udp.dstport"]
        else:
            continue
        nbytes = int(first["ip.len"]) if first["ip.len"] else int(first["ipv6.plen"]) + 40
        ts = epoch_us(fr["frame.time_epoch"])
        # An 802.1ad (0x88a8) outer tag is tshark's ieee8021ad.id; 802.1Q tags are vlan.id.
        tags = fr["ieee8021ad.id"].split(",") + fr["vlan.id"].split(",")
        vlans = tuple(int(v) for v in tags if v)[:2]
        tuples[(proto, frozenset(((src, int(sp)), (dst, int(dp)))))].add(1, nbytes, ts, ts, vlans)
    return frames, non_ip, tuples, frag_pairs


def truth_view(truth, frag_pairs):
    tuples = collections.defaultdict(Tuple)
    for r in truth["records"]:
        if r["proto"] not in (6, 17) or frozenset((r["src_ip"], r["dst_ip"])) in frag_pairs:
            continue
        key = (r["proto"], frozenset(((r["src_ip"], r["src_port"]), (r["dst_ip"], r["dst_port"]))))
        vlans = tuple(r[k] for k in ("vlan", "inner_vlan") if k in r)
        tuples[key].add(r["src_packets"] + r["dst_packets"], r["src_bytes"] + r["dst_bytes"],
                        us(r["first_ts"]), us(r["last_ts"]), vlans)
    return tuples


def check_vs_tshark(tshark, cap, truth, label):
    frames, non_ip, seen, frag_pairs = tshark_view(tshark, cap)
    errors = []
    if frames != truth["packets"]:
        errors.append(f"tshark reads {frames} frames, truth says {truth['packets']}")
    if non_ip != truth["dispositions"]["non_ip"]:
        errors.append(f"tshark sees {non_ip} ARP/LLDP/PPPoE-discovery frames, truth non_ip "
                      f"{truth['dispositions']['non_ip']}")
    expected = truth_view(truth, frag_pairs)
    for key, exp in expected.items():
        got = seen.pop(key, None)
        if got is None or (got.packets, got.bytes, got.first, got.last, got.vlans) != \
                (exp.packets, exp.bytes, exp.first, exp.last, exp.vlans):
            errors.append(f"{sorted(key[1])} proto {key[0]}: truth {exp}, tshark {got}")
    for key in [k for k in seen if frozenset(a for a, _ in k[1]) in frag_pairs]:
        del seen[key]
    extra = sum(t.packets for t in seen.values())
    if extra > truth["dispositions"]["malformed"]:
        errors.append(f"tshark sees {extra} TCP/UDP packets of tuples the truth lacks (more than the "
                      f"{truth['dispositions']['malformed']} malformed): {list(seen.items())[:5]}")
    print(f"{label}: {frames} frames, {len(expected)} TCP/UDP tuples compared, "
          f"{len(frag_pairs)} fragmented pairs skipped -> {'ok' if not errors else 'FAILED'}")
    return [f"{label}: {e}" for e in errors[:SHOWN_DIFFS]]


VS_TSHARK_RUNS = (
    ("six_syns", ()), ("syn_retransmit", ()), ("tcp_reuse", ()), ("synack_first", ()),
    ("idle_split", ()), ("active_timeout", ()),
    ("mixed", ()), ("mixed", ("--format", "pcapng", "--link", "sll", "--seed", "2", "--flows", "500")),
    ("mixed", ("--link", "raw", "--seed", "3", "--flows", "500")),
    ("big", ("--flows", "3000", "--packets", "40000")),
    ("big", ("--flows", "500", "--packets", "5000", "--format", "pcapng", "--link", "sll")),
)


def run_vs_tshark(args):
    tshark = args.tshark or shutil.which("tshark")
    if not tshark:
        sfcommon.skip("tshark not installed")
    errors = []
    with tempfile.TemporaryDirectory(prefix="sf-gen-") as tmp:
        for scenario, gen_args in VS_TSHARK_RUNS:
            cap, truth = generate(args.sfgen, scenario, tmp, gen_args)
            errors += check_vs_tshark(tshark, cap, truth, f"{scenario} {' '.join(gen_args)}".strip())
    if errors:
        sfcommon.fail("\n".join(errors))
    print("ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", nargs="?")
    ap.add_argument("--shardflow", help="engine binary")
    ap.add_argument("--sfgen", required=True, help="tools/sfgen.py")
    ap.add_argument("--gen-args", default="", help="extra generator arguments (one string)")
    ap.add_argument("--workers", default="1,2,3", help="worker counts to run, comma-separated")
    ap.add_argument("--vs-tshark", action="store_true", help="check the generator against tshark")
    ap.add_argument("--tshark", help="tshark binary (default: from PATH)")
    args = ap.parse_args()
    if args.vs_tshark:
        run_vs_tshark(args)
    elif args.scenario and args.shardflow:
        run_scenario(args)
    else:
        ap.error("need SCENARIO and --shardflow, or --vs-tshark")


if __name__ == "__main__":
    main()
