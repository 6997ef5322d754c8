"""Conversation builders: each call builds one packet's bytes and records what it is (model.Packet
metadata) at the same time, so the ground truth comes from what was built, not from parsing."""

import random
import struct

from . import wire
from .model import MALFORMED, NON_IP, Packet
from .wire import (ETH_ARP, ETH_IPV4, ETH_IPV6, ETH_LLDP, ETH_PPPOE_DISC, PLAIN, TCP_ACK, TCP_FIN,
                   TCP_PSH, TCP_RST, TCP_SYN, mac_for, pack_addr)

BASE_TS_US = 1700000000 * 1000000
BROADCAST = b"\xff" * 6


class Ctx:
    """Per-run state: seeded RNG, link type, emitted packets, identifiers that must not repeat."""

    def __init__(self, seed, link="ethernet"):
        self.rng = random.Random(seed)
        self.link = link
        self.packets = []
        self.used_keys = set()
        self._order = 0
        self._frag_id = 0x1000

    @property
    def ethernet(self):
        return self.link == "ethernet"

    def add(self, pkt):
        pkt.order = self._order
        self._order += 1
        self.packets.append(pkt)
        return pkt

    def frag_id(self):
        """IP identifications of fragmented datagrams are unique in a run, so a fragment is
        attributed to its own datagram and to no other."""
        self._frag_id += 1
        return self._frag_id & 0xFFFF

    def claim(self, proto, a, pa, b, pb, vlans=()):
        """Reserves a flow key; False when it is already used (the caller picks another)."""
        pair = tuple(sorted([(a, pa), (b, pb)]))
        key = (proto, tuple(vlans), pair)
        if key in self.used_keys:
            return False
        self.used_keys.add(key)
        return True


class Conv:
    """An IP conversation between a client and a server with a time cursor (microseconds)."""

    def __init__(self, ctx, client, server, start_us, encap=PLAIN, v4_options=b"", v6_ext=()):
        self.ctx = ctx
        self.addr = {True: client, False: server}
        self.packed = {True: pack_addr(client), False: pack_addr(server)}
        self.mac = {True: mac_for(client), False: mac_for(server)}
        self.ipv = 6 if ":" in client else 4
        self.encap = encap if ctx.ethernet else PLAIN
        self.v4_options, self.v6_ext = v4_options, tuple(v6_ext)
        self.ident = {True: ctx.rng.randrange(65536), False: ctx.rng.randrange(65536)}
        self.t = start_us

    def advance(self, gap_us):
        self.t += max(1, int(gap_us))
        return self.t

    def _l3(self, from_client, proto, l4, df=True):
        src, dst = self.packed[from_client], self.packed[not from_client]
        if self.ipv == 4:
            self.ident[from_client] = (self.ident[from_client] + 1) & 0xFFFF
            return wire.ipv4_header(src, dst, proto, len(l4), ident=self.ident[from_client], df=df,
                                    options=self.v4_options) + l4
        ext, nh = b"", proto
        for kind in reversed(self.v6_ext):
            ext = wire.ipv6_ext(kind, nh) + ext
            nh = kind
        return wire.ipv6_header(src, dst, nh, len(ext) + len(l4)) + ext + l4

    def _packet(self, from_client, l3, proto, sport, dport, flags=0, seq=0, frag=None):
        p = Packet(self.t, l3, ETH_IPV4 if self.ipv == 4 else ETH_IPV6, self.encap,
                   self.mac[from_client], self.mac[not from_client])
        p.proto, p.ipv = proto, self.ipv
        p.src, p.dst = self.addr[from_client], self.addr[not from_client]
        p.sport, p.dport, p.flags, p.seq, p.frag = sport, dport, flags, seq, frag
        p.ip_bytes = len(l3)  # IPv4 total length; IPv6 payload length + 40
        return self.ctx.add(p)

    def ip(self, gap, from_client, proto, l4, sport, dport, flags=0, seq=0):
        self.advance(gap)
        return self._packet(from_client, self._l3(from_client, proto, l4), proto, sport, dport,
                            flags, seq)

    def fragmented(self, gap, from_client, proto, l4, sport, dport, chunk=1200, lose_first=False,
                   last_first=False):
        """Sends one datagram as fragments of `chunk` bytes of L4 data (a multiple of 8).
        lose_first: the first fragment is never sent; last_first: the last one overtakes it."""
        assert chunk % 8 == 0 and len(l4) > chunk
        fid = self.ctx.frag_id()
        src, dst = self.packed[from_client], self.packed[not from_client]
        pieces = []
        for off in range(0, len(l4), chunk):
            part, more = l4[off:off + chunk], off + chunk < len(l4)
            if self.ipv == 4:
                l3 = wire.ipv4_header(src, dst, proto, len(part), ident=fid, df=False, mf=more,
                                      frag_off=off, options=self.v4_options) + part
            else:
                hbh = 0 in self.v6_ext  # the hop-by-hop header stays unfragmentable, in front
                frag_hdr = wire.ipv6_frag_header(proto, off, more, fid)
                ext = (wire.ipv6_ext(0, 44) if hbh else b"") + frag_hdr
                l3 = wire.ipv6_header(src, dst, 0 if hbh else 44, len(ext) + len(part)) + ext + part
            pieces.append((off == 0, l3))
        if lose_first:
            pieces = pieces[1:]
        elif last_first:
            pieces = [pieces[-1]] + pieces[:-1]
        for first, l3 in pieces:
            self.advance(gap)
            gap = 20
            self._packet(from_client, l3, proto, sport if first else None,
                         dport if first else None, frag=(fid, first))


class Tcp(Conv):
    def __init__(self, ctx, client, server, cport, sport, start_us, **kw):
        super().__init__(ctx, client, server, start_us, **kw)
        self.port = {True: cport, False: sport}
        self.next_seq = {True: ctx.rng.getrandbits(32), False: ctx.rng.getrandbits(32)}
        self.isn = dict(self.next_seq)

    def new_isn(self):
        for side in (True, False):
            self.next_seq[side] = self.isn[side] = self.ctx.rng.getrandbits(32)

    def send(self, gap, from_client, flags, payload=b"", options=b"", seq=None, snap_payload=None):
        s = self.next_seq[from_client] if seq is None else seq
        ack = self.next_seq[not from_client] if flags & TCP_ACK else 0
        seg = wire.tcp_segment(self.packed[from_client], self.packed[not from_client],
                               self.port[from_client], self.port[not from_client], s, ack, flags,
                               payload, options=options)
        if seq is None:
            self.next_seq[from_client] = (s + len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)
                                          ) & 0xFFFFFFFF
        p = self.ip(gap, from_client, 6, seg, self.port[from_client], self.port[not from_client],
                    flags, s)
        if snap_payload is not None:
            p.snap = len(p.l3) - len(payload) + snap_payload
        return p

    # Common exchanges; rtt in microseconds.
    def syn(self, gap, flags=0, retransmit=False):
        seq = self.isn[True] if retransmit else None
        return self.send(gap, True, TCP_SYN | flags, options=wire.SYN_OPTIONS, seq=seq)

    def synack(self, gap, flags=0):
        return self.send(gap, False, TCP_SYN | TCP_ACK | flags, options=wire.SYN_OPTIONS)

    def handshake(self, rtt, ecn=False):
        self.syn(1, wire.TCP_ECE | wire.TCP_CWR if ecn else 0)
        self.synack(rtt // 2, wire.TCP_ECE if ecn else 0)
        self.send(rtt // 2, True, TCP_ACK)

    def data(self, gap, from_client, size, snap_payload=None):
        return self.send(gap, from_client, TCP_ACK | TCP_PSH, self.ctx.rng.randbytes(size),
                         snap_payload=snap_payload)

    def close(self, rtt, client_first=True):
        """FIN, FIN-ACK, final ACK."""
        self.send(rtt, client_first, TCP_FIN | TCP_ACK)
        self.send(rtt // 2, not client_first, TCP_FIN | TCP_ACK)
        self.send(rtt // 2, client_first, TCP_ACK)

    def reset(self, gap, from_client):
        return self.send(gap, from_client, TCP_RST | TCP_ACK)


class Udp(Conv):
    def __init__(self, ctx, client, server, cport, sport, start_us, **kw):
        super().__init__(ctx, client, server, start_us, **kw)
        self.port = {True: cport, False: sport}

    def datagram(self, from_client, payload):
        return wire.udp_datagram(self.packed[from_client], self.packed[not from_client],
                                 self.port[from_client], self.port[not from_client], payload)

    def send(self, gap, from_client, size):
        dgram = self.datagram(from_client, self.ctx.rng.randbytes(size))
        return self.ip(gap, from_client, 17, dgram, self.port[from_client],
                       self.port[not from_client])

    def send_fragmented(self, gap, from_client, size, **kw):
        dgram = self.datagram(from_client, self.ctx.rng.randbytes(size))
        self.fragmented(gap, from_client, 17, dgram, self.port[from_client],
                        self.port[not from_client], **kw)


class Icmp(Conv):
    """ICMP/ICMPv6 between two hosts. Key ports follow the SPEC: echo -> identifier on both sides,
    other types -> (type, code)."""

    def echo(self, gap, from_client, ident, seqno, size):
        v6 = self.ipv == 6
        itype = (128 if v6 else 8) if from_client else (129 if v6 else 0)
        return self.message(gap, from_client, itype, 0, struct.pack("!HH", ident, seqno),
                            self.ctx.rng.randbytes(size), ident, ident)

    def message(self, gap, from_client, itype, code, rest, payload, sport=None, dport=None):
        v6 = self.ipv == 6
        msg = wire.icmp_message(self.packed[from_client], self.packed[not from_client], itype, code,
                                rest, payload, v6)
        p = self.ip(gap, from_client, 58 if v6 else 1, msg,
                    itype if sport is None else sport, code if dport is None else dport)
        p.icmp = (itype, code)
        return p

    def unreachable(self, gap, from_client, original_l3):
        """Port unreachable quoting the offending packet (server -> client usually)."""
        if self.ipv == 4:
            quoted = (original_l3[0] & 0xF) * 4 + 8  # the IP header and 8 bytes of its payload
            return self.message(gap, from_client, 3, 3, b"\0" * 4, original_l3[:quoted])
        return self.message(gap, from_client, 1, 4, b"\0" * 4, original_l3[:1232])


class Sctp(Conv):
    def __init__(self, ctx, client, server, cport, sport, start_us, **kw):
        super().__init__(ctx, client, server, start_us, **kw)
        self.port = {True: cport, False: sport}
        self.vtag = {True: ctx.rng.getrandbits(32) | 1, False: ctx.rng.getrandbits(32) | 1}
        self.tsn = {True: ctx.rng.getrandbits(32), False: ctx.rng.getrandbits(32)}

    def send(self, gap, from_client, chunks, vtag=None):
        tag = self.vtag[not from_client] if vtag is None else vtag
        pkt = wire.sctp_packet(self.port[from_client], self.port[not from_client], tag, chunks)
        return self.ip(gap, from_client, 132, pkt, self.port[from_client], self.port[not from_client])

    def association(self, rtt, exchanges, size_fn):
        init = struct.pack("!IIHHI", self.vtag[True], 65536, 10, 10, self.tsn[True])
        self.send(1, True, [wire.sctp_chunk(1, init)], vtag=0)
        cookie = self.ctx.rng.randbytes(32)
        init_ack = struct.pack("!IIHHI", self.vtag[False], 65536, 10, 10, self.tsn[False])
        self.send(rtt // 2, False, [wire.sctp_chunk(2, init_ack + struct.pack("!HH", 7, 36) + cookie)])
        self.send(rtt // 2, True, [wire.sctp_chunk(10, cookie)])
        self.send(rtt // 2, False, [wire.sctp_chunk(11, b"")])
        for i in range(exchanges):
            side = i % 2 == 0
            data = struct.pack("!IHHI", self.tsn[side], 0, i & 0xFFFF, 0) + self.ctx.rng.randbytes(size_fn())
            self.send(rtt // 2, side, [wire.sctp_chunk(0, data, flags=3)])
            sack = struct.pack("!IIHH", self.tsn[side], 65536, 0, 0)
            self.send(rtt // 2, not side, [wire.sctp_chunk(3, sack)])
            self.tsn[side] = (self.tsn[side] + 1) & 0xFFFFFFFF
        self.send(rtt // 2, True, [wire.sctp_chunk(7, struct.pack("!I", self.tsn[False]))])
        self.send(rtt // 2, False, [wire.sctp_chunk(8, b"")])
        self.send(rtt // 2, True, [wire.sctp_chunk(14, b"")])


# --- frames that are not flows ------------------------------------------------------------

def _frame(ctx, ts, body, ethertype, src_mac, dst_mac, kind, reason=None, encap=PLAIN, pad=True):
    p = Packet(ts, body, ethertype, encap if ctx.ethernet else PLAIN, src_mac, dst_mac, kind, reason)
    p.pad = pad
    return ctx.add(p)


def arp(ctx, ts, sender, target, reply=False, encap=PLAIN):
    smac, tmac = mac_for(sender), mac_for(target)
    body = struct.pack("!HHBBH6s4s6s4s", 1, ETH_IPV4, 6, 4, 2 if reply else 1, smac,
                       pack_addr(sender), tmac if reply else b"\0" * 6, pack_addr(target))
    return _frame(ctx, ts, body, ETH_ARP, smac, tmac if reply else BROADCAST, NON_IP, encap=encap)


def lldp(ctx, ts, system):
    mac = mac_for(system)
    tlvs = (struct.pack("!HB6s", (1 << 9) | 7, 4, mac) + struct.pack("!HB", (2 << 9) | 5, 7) + b"eth0"
            + struct.pack("!HH", (3 << 9) | 2, 120) + struct.pack("!H", (5 << 9) | len(system))
            + system.encode() + b"\0\0")
    return _frame(ctx, ts, tlvs, ETH_LLDP, mac, b"\x01\x80\xc2\x00\x00\x0e", NON_IP)


def pppoe_padi(ctx, ts, host):
    body = struct.pack("!BBHH", 0x11, 0x09, 0, 4) + struct.pack("!HH", 0x0101, 0)  # service-name ""
    return _frame(ctx, ts, body, ETH_PPPOE_DISC, mac_for(host), BROADCAST, NON_IP)


def malformed(ctx, ts, kind, src, dst):
    """Frames the parser must reject, each built so that exactly one reason applies."""
    rng = ctx.rng
    s, d = pack_addr(src), pack_addr(dst)
    sp, dp = rng.randrange(32768, 61000), rng.choice((80, 443, 53))
    pad, ethertype = True, ETH_IPV4
    if kind == "truncated_ipv4":  # 12 bytes of an IPv4 header, frame not padded
        body, pad = wire.ipv4_header(s, d, 6, 20)[:12], False
    elif kind == "bad_ipv4_header":  # IHL 4
        hdr = bytearray(wire.ipv4_header(s, d, 17, 8))
        hdr[0] = 0x44
        body = bytes(hdr) + wire.udp_datagram(s, d, sp, dp, b"")
    elif kind == "bad_tcp_offset":  # data offset 3
        body = wire.ipv4_header(s, d, 6, 20) + wire.tcp_segment(s, d, sp, dp, 1, 0, TCP_SYN, doff=3)
    elif kind == "bad_udp_length":  # UDP length 4
        body = wire.ipv4_header(s, d, 17, 8) + wire.udp_datagram(s, d, sp, dp, b"", length=4)
    elif kind == "truncated_l4":  # IP carries 8 bytes of a TCP header; frame not padded
        body, pad = wire.ipv4_header(s, d, 6, 8) + wire.tcp_segment(s, d, sp, dp, 1, 0, TCP_SYN)[:8], False
    elif kind == "truncated_ipv6":  # 30 bytes of an IPv6 header, frame not padded
        s6, d6 = pack_addr("2001:db8:bad::1"), pack_addr("2001:db8:bad::2")
        body, pad, ethertype = wire.ipv6_header(s6, d6, 17, 8)[:30], False, ETH_IPV6
    else:
        raise ValueError(kind)
    return _frame(ctx, ts, body, ethertype, mac_for(src), mac_for(dst), MALFORMED, kind, pad=pad)


MALFORMED_KINDS = ("truncated_ipv4", "bad_ipv4_header", "bad_tcp_offset", "bad_udp_length",
                   "truncated_l4", "truncated_ipv6")


def orphan_fragment(ctx, ts, src, dst, size=64):
    """A non-first fragment of a datagram whose first fragment is never seen."""
    s, d = pack_addr(src), pack_addr(dst)
    fid, payload = ctx.frag_id(), ctx.rng.randbytes(size)
    if ":" in src:
        l3 = wire.ipv6_header(s, d, 44, 8 + size) + wire.ipv6_frag_header(17, 1448, False, fid) + payload
    else:
        l3 = wire.ipv4_header(s, d, 17, size, ident=fid, df=False, frag_off=1480) + payload
    p = Packet(ts, l3, ETH_IPV6 if ":" in src else ETH_IPV4, PLAIN, mac_for(src), mac_for(dst))
    p.proto, p.ipv, p.src, p.dst, p.ip_bytes = 17, 6 if ":" in src else 4, src, dst, len(l3)
    p.frag = (fid, False)
    return ctx.add(p)

