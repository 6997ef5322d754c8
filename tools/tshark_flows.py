#!/usr/bin/env python3
"""Independent per-tuple TCP/UDP counter built on tshark, for the interop tests.

Counts, per unordered 5-tuple {proto, {ip:port, ip:port}}, the packets and
IP-layer bytes (IPv4 total length; IPv6 payload length + 40) each endpoint
sent, keyed like shardflow keys flows: by the OUTERMOST IP header and the
transport header that directly follows it (tunnels count under their outer
UDP tuple; GRE, IP-in-IP, 6in4 and ICMP errors quoting a TCP/UDP header are
not TCP/UDP at the outer layer and are skipped). Tuples that carry IP
fragments are flagged so that callers can leave them out.

Usage: tshark_flows.py CAPTURE [--json]
"""

import argparse
import ipaddress
import json
import subprocess
import sys
from dataclasses import dataclass, field

TCP = 6
UDP = 17
L4_TOKEN = {"tcp": TCP, "udp": UDP}

# Field order of the tshark -T fields output. With occurrence=f every field
# is its first occurrence, i.e. the outermost layer that carries it; the code
# below only trusts a field when frame.protocols shows that layer is outermost.
FIELDS = (
    "frame.number", "frame.protocols", "_ws.malformed",
    "ip.src", "ip.dst", "ip.proto", "ip.len", "ip.flags.mf", "ip.frag_offset",
    "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.plen",
    "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "ipv6.fraghdr.nxt",
    "ipv6.hopopts.nxt", "ipv6.routing.nxt", "ipv6.dstopts.nxt",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
    # tshark's expert flags for an IP length larger than what encloses it;
    # candidates for the exact check in _beyond_frame.
    "ip.bogus_ip_length", "ipv6.plen_exceeds_framing",
)
_IX = {name: i for i, name in enumerate(FIELDS)}

# Per-frame IP defragmentation would move the reassembled datagram's L4
# header to the last fragment's frame; each frame must show its own headers.
TSHARK_PREFS = ("ip.defragment:FALSE", "ipv6.defragment:FALSE")

MAX_FRAMES_KEPT = 20  # frame numbers remembered per tuple / per category


@dataclass
class TupleCount:
    # a < b (see endpoint_order); "ab" = sent by a.
    ab_packets: int = 0
    ab_bytes: int = 0
    ba_packets: int = 0
    ba_bytes: int = 0
    fragment: bool = False     # some packet of the tuple is a (non-atomic) IP fragment
    first_frame: int = 0
    malformed_frames: list = field(default_factory=list)  # frames tshark marks malformed

    def as_list(self):
        return [self.ab_packets, self.ab_bytes, self.ba_packets, self.ba_bytes]


@dataclass
class CaptureCount:
    tuples: dict = field(default_factory=dict)  # (proto, a, b) -> TupleCount
    frames: int = 0
    non_ip: int = 0            # no IP layer in tshark's view
    other_proto: int = 0       # outer IP carries neither TCP nor UDP (ICMP, GRE, ESP, 41, ...)
    later_fragments: int = 0   # non-first TCP/UDP fragments: no ports
    # TCP/UDP frames whose outer IP length claims more bytes than the frame had
    # on the wire (not a snaplen cut): frame numbers. Not counted in tuples.
    beyond_frame: list = field(default_factory=list)
    # TCP/UDP by the outer IP header, but tshark decodes no transport header
    # right after it (e.g. header length out of range): frame numbers.
    no_l4_frames: list = field(default_factory=list)
    no_l4: int = 0
    tshark_stderr: str = ""
    tshark_rc: int = 0


def normalize_ip(text):
    return ipaddress.ip_address(text).compressed


def endpoint_order(ep):
    ip, port = ep
    addr = ipaddress.ip_address(ip)
    return (addr.version, addr.packed, port)


def tuple_key(proto, src, dst):
    """Returns (key, src_is_a) for the unordered tuple of a packet src -> dst."""
    if endpoint_order(src) <= endpoint_order(dst):
        return (proto, src, dst), True
    return (proto, dst, src), False


def format_endpoint(ep):
    ip, port = ep
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def format_key(key):
    proto, a, b = key
    name = {TCP: "tcp", UDP: "udp"}.get(proto, str(proto))
    return f"{name} {format_endpoint(a)} <-> {format_endpoint(b)}"


def _int(text, default=None):
    if text == "" or text is None:
        return default
    if text in ("True", "False"):
        return int(text == "True")
    return int(text, 0)


def _outer_ip(tokens):
    """Index of the outermost IP layer in frame.protocols, or None."""
    for i, tok in enumerate(tokens):
        if tok in ("ip", "ipv6"):
            return i
    return None


def _ipv6_final_nxt(row, ext_tokens):
    """Next header after the outer IPv6 extension header chain (as tshark shows it)."""
    if not ext_tokens:
        return _int(row[_IX["ipv6.nxt"]])
    # occurrence=f gives the first header of each kind: exact unless the outer
    # chain repeats a kind, in which case the transport token decides anyway.
    name = {"ipv6.hopopts": "ipv6.hopopts.nxt", "ipv6.routing": "ipv6.routing.nxt",
            "ipv6.fraghdr": "ipv6.fraghdr.nxt", "ipv6.dstopts": "ipv6.dstopts.nxt"}
    last = ext_tokens[-1]
    return _int(row[_IX[name[last]]]) if last in name else None


@dataclass
class Packet:
    """One TCP/UDP frame keyed by its outer headers."""
    frame: int
    key: tuple
    src_is_a: bool
    size: int
    fragment: bool
    malformed: bool
    outer: str       # "ip" or "ipv6"
    suspect: bool    # tshark flags the outer IP length: check it against the frame


def classify(row, result):
    """Returns the Packet of one tshark row, or None after counting why not."""
    frame = int(row[_IX["frame.number"]])
    result.frames += 1
    tokens = row[_IX["frame.protocols"]].split(":")
    at = _outer_ip(tokens)
    if at is None:
        result.non_ip += 1
        return None
    is_v4 = tokens[at] == "ip"
    nxt = at + 1
    if is_v4:
        src, dst = row[_IX["ip.src"]], row[_IX["ip.dst"]]
        proto = _int(row[_IX["ip.proto"]])
        size = _int(row[_IX["ip.len"]])
        frag_off = _int(row[_IX["ip.frag_offset"]], 0)
        more = _int(row[_IX["ip.flags.mf"]], 0)
        suspect = row[_IX["ip.bogus_ip_length"]] != ""
    else:
        ext = []
        while nxt < len(tokens) and tokens[nxt].startswith("ipv6."):
            ext.append(tokens[nxt])
            nxt += 1
        src, dst = row[_IX["ipv6.src"]], row[_IX["ipv6.dst"]]
        proto = _ipv6_final_nxt(row, ext)
        plen = _int(row[_IX["ipv6.plen"]])
        size = None if plen is None else plen + 40
        frag_off, more = 0, 0
        if "ipv6.fraghdr" in ext:
            frag_off = _int(row[_IX["ipv6.fraghdr.offset"]], 0)
            more = _int(row[_IX["ipv6.fraghdr.more"]], 0)
        suspect = row[_IX["ipv6.plen_exceeds_framing"]] != ""
    l4_token = tokens[nxt] if nxt < len(tokens) else None
    if l4_token in L4_TOKEN:
        proto = L4_TOKEN[l4_token]  # tshark decoded it as such: trust the layer
    if proto not in (TCP, UDP):
        result.other_proto += 1
        return None
    if frag_off != 0:
        result.later_fragments += 1
        return None
    name = "tcp" if proto == TCP else "udp"
    sport, dport = row[_IX[name + ".srcport"]], row[_IX[name + ".dstport"]]
    if l4_token not in L4_TOKEN or not src or not dst or size is None or not sport or not dport:
        result.no_l4 += 1
        if len(result.no_l4_frames) < MAX_FRAMES_KEPT:
            result.no_l4_frames.append(frame)
        return None
    key, src_is_a = tuple_key(proto, (normalize_ip(src), int(sport)), (normalize_ip(dst), int(dport)))
    return Packet(frame=frame, key=key, src_is_a=src_is_a, size=size,
                  fragment=frag_off != 0 or more != 0,  # offset 0 without MF/M is atomic
                  malformed=row[_IX["_ws.malformed"]] != "", outer=tokens[at], suspect=suspect)


def add_packet(pkt, result):
    t = result.tuples.get(pkt.key)
    if t is None:
        t = result.tuples[pkt.key] = TupleCount(first_frame=pkt.frame)
    if pkt.src_is_a:
        t.ab_packets += 1
        t.ab_bytes += pkt.size
    else:
        t.ba_packets += 1
        t.ba_bytes += pkt.size
    t.fragment = t.fragment or pkt.fragment
    if pkt.malformed and len(t.malformed_frames) < MAX_FRAMES_KEPT:
        t.malformed_frames.append(pkt.frame)


def _first(layer):
    return layer[0] if isinstance(layer, list) else layer


def _beyond_frame(capture, packets):
    """Frame numbers (of packets) whose outer IP length is impossible for the frame:
    IPv4 total length below its header length, or the IP length reaching past the
    frame's wire length. tshark's expert flags are looser (they also fire when an
    enclosing PPPoE length is short), so this decides from the IP header's offset,
    which only the raw-byte JSON output gives."""
    out = set()
    todo = sorted(packets, key=lambda p: p.frame)
    for i in range(0, len(todo), 200):
        chunk = {p.frame: p for p in todo[i:i + 200]}
        cmd = ["tshark", "-n", "-r", capture, "-T", "json", "-x", "--no-duplicate-keys",
               "-Y", "frame.number in {" + ",".join(map(str, chunk)) + "}"]
        for pref in TSHARK_PREFS:
            cmd += ["-o", pref]
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        for item in json.loads(proc.stdout or "[]"):
            layers = item["_source"]["layers"]
            frame = _first(layers["frame"])
            pkt = chunk[int(frame["frame.number"])]
            wire = int(frame["frame.len"])
            raw = layers[pkt.outer + "_raw"]  # [hex, offset, length, ...], or a list of those
            offset = int(raw[0][1] if isinstance(raw[0], list) else raw[1])
            ip = _first(layers[pkt.outer])
            if pkt.outer == "ip":
                hdr = int(ip["ip.hdr_len"])
                bad = pkt.size < hdr or pkt.size > wire - offset
            else:
                bad = pkt.size > wire - offset
            if bad:
                out.add(pkt.frame)
    return out


def tshark_command(capture, display_filter=None):
    cmd = ["tshark", "-n", "-r", capture, "-T", "fields", "-E", "occurrence=f",
           "-E", "separator=/t"]
    for pref in TSHARK_PREFS:
        cmd += ["-o", pref]
    for name in FIELDS:
        cmd += ["-e", name]
    if display_filter:
        cmd += ["-Y", display_filter]
    return cmd


def count_capture(capture, tshark_timeout=600):
    """Runs tshark on capture and returns a CaptureCount. tshark's exit status is
    kept, not raised: on a capture cut short it still prints the frames it read."""
    proc = subprocess.run(tshark_command(capture), capture_output=True, text=True,
                          errors="replace", timeout=tshark_timeout)
    result = CaptureCount(tshark_rc=proc.returncode)
    result.tshark_stderr = "\n".join(line for line in proc.stderr.splitlines()
                                     if "Running as user" not in line)
    packets = []
    for line in proc.stdout.splitlines():
        row = line.split("\t")
        if len(row) != len(FIELDS):
            raise RuntimeError(f"unexpected tshark row ({len(row)} fields): {line!r}")
        pkt = classify(row, result)
        if pkt is not None:
            packets.append(pkt)
    # Not counted: an IP length the frame cannot hold. tshark decodes such a
    # packet with an expert warning and its header's length; shardflow counts it
    # as malformed (bad_ip_length). Both are defensible, and the IP-layer byte
    # count compared here is not defined by the frame. Listed in beyond_frame.
    suspects = [p for p in packets if p.suspect]
    bad = _beyond_frame(capture, suspects) if suspects else set()
    for pkt in packets:
        if pkt.frame in bad:
            result.beyond_frame.append(pkt.frame)
        else:
            add_packet(pkt, result)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("capture")
    ap.add_argument("--json", action="store_true", help="one JSON object per tuple")
    args = ap.parse_args()
    res = count_capture(args.capture)
    for key in sorted(res.tuples, key=lambda k: (k[0], endpoint_order(k[1]), endpoint_order(k[2]))):
        t = res.tuples[key]
        if args.json:
            print(json.dumps({"proto": key[0], "a": format_endpoint(key[1]),
                              "b": format_endpoint(key[2]), "a_packets": t.ab_packets,
                              "a_bytes": t.ab_bytes, "b_packets": t.ba_packets,
                              "b_bytes": t.ba_bytes, "fragment": t.fragment,
                              "first_frame": t.first_frame,
                              "malformed_frames": t.malformed_frames}))
        else:
            flag = " fragments" if t.fragment else ""
            print(f"{format_key(key)}  a->b {t.ab_packets} pkts {t.ab_bytes} B  "
                  f"b->a {t.ba_packets} pkts {t.ba_bytes} B{flag}")
    print(f"# frames {res.frames} tuples {len(res.tuples)} non_ip {res.non_ip} "
          f"other_proto {res.other_proto} later_fragments {res.later_fragments} "
          f"no_l4 {res.no_l4} {res.no_l4_frames} ip_length_beyond_frame "
          f"{len(res.beyond_frame)} {res.beyond_frame[:MAX_FRAMES_KEPT]}", file=sys.stderr)
    if res.tshark_stderr:
        print(f"# tshark (rc {res.tshark_rc}): {res.tshark_stderr}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
