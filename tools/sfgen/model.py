"""What the generator knows about each frame it emits (Packet), and the reference flow
accounting that turns that knowledge into the expected records (SPEC.md semantics).

The accounting never looks at frame bytes: it works on the metadata the conversation builders
attach when they build each packet."""

from .community_id import community_id
from .wire import flag_letters, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN

DEFAULT_TIMEOUTS = {
    "tcp_idle_ms": 300000,
    "udp_idle_ms": 60000,
    "icmp_idle_ms": 60000,
    "other_idle_ms": 60000,
    "tcp_closed_ms": 5000,
    "tcp_establish_ms": 30000,
    "active_ms": 1800000,
}

# Frame kinds.
IP, NON_IP, MALFORMED = "ip", "non_ip", "malformed"


class Packet:
    """One frame. Link framing is applied by the writer (capture.py) from l3/ethertype/encap.
    snap: captured bytes of l3 (None = all; the rest is cut as a snap length would).
    For IP frames: proto, ipv, src/dst (inet_ntop text), sport/dport as the SPEC defines them for
    the key (None for non-first fragments), flags (TCP), seq (TCP), ip_bytes, frag = None or
    (frag_id, is_first_fragment); icmp = (type, code) of an ICMP/ICMPv6 message, else None."""
    __slots__ = ("ts", "l3", "ethertype", "encap", "src_mac", "dst_mac", "snap", "kind", "reason",
                 "proto", "ipv", "src", "dst", "sport", "dport", "flags", "seq", "ip_bytes", "frag",
                 "icmp", "order", "pad")

    def __init__(self, ts, l3, ethertype, encap, src_mac, dst_mac, kind=IP, reason=None):
        self.ts, self.l3, self.ethertype, self.encap = ts, l3, ethertype, encap
        self.src_mac, self.dst_mac, self.snap = src_mac, dst_mac, None
        self.kind, self.reason = kind, reason
        self.proto = self.ipv = self.src = self.dst = self.sport = self.dport = None
        self.flags = self.seq = self.ip_bytes = 0
        self.frag = self.icmp = None
        self.order = 0
        self.pad = True  # Ethernet: pad short frames to 60 bytes (False for deliberately short ones)


def idle_key(proto):
    return {6: "tcp_idle_ms", 17: "udp_idle_ms", 1: "icmp_idle_ms", 58: "icmp_idle_ms"}.get(
        proto, "other_idle_ms")


def fmt_ts(us):
    """Capture time in microseconds -> epoch seconds (float, exact to the microsecond)."""
    return us / 1e6


def first_packet_community_id(pkt, sport, dport, seed):
    """A record's community_id (SPEC): the Community ID of its first packet, as that packet was
    sent. sport/dport: the packet's key ports (its first fragment's for a later fragment)."""
    if pkt.icmp is not None:
        sport, dport = pkt.icmp
    return community_id(pkt.proto, pkt.src, pkt.dst, sport, dport, seed)


class _Flow:
    __slots__ = ("flow_id", "gen", "proto", "ipv", "src", "dst", "vlans", "first_ts", "last_ts",
                 "sp", "sb", "dp", "db", "fs", "fd", "fin_src", "fin_dst", "rst", "syn_isn",
                 "deadline", "grid0", "opening", "syn_from_src", "synack_from_dst", "established", "cid")

    def __init__(self, flow_id, gen, pkt, src, dst, vlans, active_us, cid):
        self.flow_id, self.gen, self.proto, self.ipv = flow_id, gen, pkt.proto, pkt.ipv
        self.src, self.dst, self.vlans, self.cid = src, dst, vlans, cid
        self.grid0 = self.first_ts = self.last_ts = pkt.ts
        self.sp = self.sb = self.dp = self.db = self.fs = self.fd = 0
        self.fin_src = self.fin_dst = self.rst = False
        self.syn_isn = None
        # A connection opened by a SYN or SYN-ACK is "establishing" until its
        # handshake completes: the responder's SYN-ACK, answering the
        # initiator's SYN or followed by the initiator's ACK.
        self.opening = pkt.proto == 6 and bool(pkt.flags & TCP_SYN)
        self.syn_from_src = self.synack_from_dst = self.established = False
        self.deadline = pkt.ts + active_us if active_us else None

    @property
    def closed(self):
        return self.rst or (self.fin_src and self.fin_dst)


class Accounting:
    """Feeds packets in capture order; collects records and dispositions."""

    def __init__(self, timeouts=None, vlan_in_key=True, community_id_seed=0):
        self.timeouts = dict(DEFAULT_TIMEOUTS, **(timeouts or {}))
        self.vlan_in_key = vlan_in_key
        self.community_id_seed = community_id_seed
        self.active_us = self.timeouts["active_ms"] * 1000
        self.flows = {}      # key -> _Flow (open flows, in creation order)
        self.frag_first = {}  # (src, dst, frag_id, proto) -> (sport, dport) of the first fragment
        self.records = []
        self.non_ip = self.unattributed = self.packets = 0
        self.malformed = {}
        self.last_ts = None

    def _timeout_us(self, f):
        if f.closed:
            return 1000 * self.timeouts["tcp_closed_ms"]
        if f.opening and not f.established:
            return 1000 * self.timeouts["tcp_establish_ms"]
        return 1000 * self.timeouts[idle_key(f.proto)]

    def _emit(self, f, reason):
        rec = {"flow_id": f.flow_id, "generation": f.gen, "proto": f.proto, "ip_version": f.ipv,
               "src_ip": f.src[0], "src_port": f.src[1], "dst_ip": f.dst[0], "dst_port": f.dst[1]}
        if f.vlans:
            rec["vlan"] = f.vlans[0]
            if len(f.vlans) > 1:
                rec["inner_vlan"] = f.vlans[1]
        rec["community_id"] = f.cid
        rec.update({"first_ts": fmt_ts(f.first_ts), "last_ts": fmt_ts(f.last_ts),
                    "src_packets": f.sp, "src_bytes": f.sb, "dst_packets": f.dp, "dst_bytes": f.db,
                    "tcp_flags_src": flag_letters(f.fs), "tcp_flags_dst": flag_letters(f.fd),
                    "end_reason": reason})
        self.records.append(rec)

    def _end(self, key, f, reason):
        self._emit(f, reason)
        del self.flows[key]

    def feed(self, pkt, frame_no):
        self.packets += 1
        self.last_ts = pkt.ts
        if pkt.kind == NON_IP:
            self.non_ip += 1
            return
        if pkt.kind == MALFORMED:
            self.malformed[pkt.reason] = self.malformed.get(pkt.reason, 0) + 1
            return
        sport, dport = pkt.sport, pkt.dport
        if pkt.frag is not None:
            dgram = (pkt.src, pkt.dst, pkt.frag[0], pkt.proto)
            if pkt.frag[1]:
                self.frag_first[dgram] = (sport, dport)
            elif dgram in self.frag_first:
                sport, dport = self.frag_first[dgram]
            else:
                self.unattributed += 1
                return
        a, b = (pkt.src, sport), (pkt.dst, dport)
        vlans = pkt.encap.vlan_ids()[:2] if self.vlan_in_key else ()
        key = (pkt.proto, vlans) + ((a, b) if a <= b else (b, a))
        is_syn = pkt.proto == 6 and pkt.flags & (TCP_SYN | TCP_ACK) == TCP_SYN
        f = self.flows.get(key)
        gen = 1
        if f is not None:
            if pkt.ts - f.last_ts > self._timeout_us(f):
                self._end(key, f, "tcp_close" if f.closed else "idle")
                f = None
            elif is_syn and f.closed and pkt.seq != f.syn_isn:
                self._end(key, f, "tcp_close")
                gen, f = f.gen + 1, None
            elif f.deadline is not None and pkt.ts >= f.deadline:
                self._emit(f, "active")
                f.first_ts = pkt.ts
                f.sp = f.sb = f.dp = f.db = f.fs = f.fd = 0
                k = (pkt.ts - f.grid0) // self.active_us + 1
                f.deadline = f.grid0 + k * self.active_us
        if f is None:
            synack = pkt.proto == 6 and pkt.flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK
            src, dst = (b, a) if synack else (a, b)
            cid = first_packet_community_id(pkt, sport, dport, self.community_id_seed)
            f = self.flows[key] = _Flow(frame_no, gen, pkt, src, dst, vlans, self.active_us, cid)
        f.last_ts = pkt.ts
        forward = a == f.src
        if forward:
            f.sp += 1
            f.sb += pkt.ip_bytes
            f.fs |= pkt.flags
        else:
            f.dp += 1
            f.db += pkt.ip_bytes
            f.fd |= pkt.flags
        if pkt.proto == 6:
            if pkt.flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK and f.closed:
                f.rst = f.fin_src = f.fin_dst = False  # set up again after the close: open
            if pkt.flags & TCP_RST:
                f.rst = True
            if pkt.flags & TCP_FIN:
                if forward:
                    f.fin_src = True
                else:
                    f.fin_dst = True
            if is_syn and f.syn_isn is None:
                f.syn_isn = pkt.seq
            synack = pkt.flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK
            if forward and is_syn:
                f.syn_from_src = True
            elif not forward and synack:
                f.synack_from_dst = True
            if f.synack_from_dst and (f.syn_from_src or (forward and pkt.flags & (TCP_ACK | TCP_SYN))):
                f.established = True

    def finish(self):
        """End of file: expire what the last timestamp has outlived, end the rest."""
        for key, f in list(self.flows.items()):
            if self.last_ts - f.last_ts > self._timeout_us(f):
                reason = "tcp_close" if f.closed else "idle"
            else:
                reason = "tcp_close" if f.closed else "eof"
            self._end(key, f, reason)

    def truth(self, config):
        records = sorted(self.records, key=lambda r: (r["flow_id"], r["first_ts"]))
        return {
            "records": records,
            "dispositions": {"non_ip": self.non_ip, "malformed": sum(self.malformed.values()),
                             "fragments_unattributed": self.unattributed},
            "malformed_reasons": dict(sorted(self.malformed.items())),
            "packets": self.packets,
            "config": config,
        }


def account(packets, timeouts=None, community_id_seed=0):
    """Sorts packets into capture order (time, then creation order), numbers the frames from 1
    and runs the accounting. Returns (sorted packets, Accounting)."""
    packets.sort(key=lambda p: (p.ts, p.order))
    acc = Accounting(timeouts, community_id_seed=community_id_seed)
    for n, p in enumerate(packets, 1):
        acc.feed(p, n)
    acc.finish()
    return packets, acc


def config_for(timeouts=None, community_id_seed=0):
    """The engine configuration the truth assumes, as nested YAML sections."""
    return {"timeouts": dict(DEFAULT_TIMEOUTS, **(timeouts or {})),
            "flow_table": {"vlan_in_key": True},
            "export": {"community_id_seed": community_id_seed}}
