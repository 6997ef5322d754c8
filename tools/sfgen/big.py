"""The `big` scenario for benchmarks: millions of packets of simple TCP (handshake, data, FIN) and
UDP flows, `window` of them open at a time, written as they are made (no global sort).

Per direction the constant parts of the checksums are summed once; per packet only lengths,
sequence numbers and flags are added in, so a packet costs a few struct.pack calls. The truth
is each flow's counters, kept as its packets are written: no timeout is reached (1 us between
frames, flows short)."""

import socket
import struct

from .capture import Writer
from .community_id import community_id
from .conv import BASE_TS_US
from .model import config_for, fmt_ts
from .wire import (ETH_IPV4, ETH_IPV6, PLAIN, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, ethernet_frame,
                   flag_letters, ones_sum, sll_header)

_SYNACK = TCP_SYN | TCP_ACK
_TCP_HDR = struct.Struct("!HHIIBBHHH")
_UDP_HDR = struct.Struct("!HHHH")
_IP4_HDR = struct.Struct("!BBHHHBBH4s4s")
_IP6_HDR = struct.Struct("!IHBB16s16s")


def _word_sum(data):
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


class _Side:
    """One direction of a flow: what its packets share."""
    __slots__ = ("src", "dst", "sport", "dport", "prefix", "payload", "pay_sum", "l4_sum", "ip_sum",
                 "ident")

    def __init__(self, link, proto, v6, src, dst, sport, dport, payload, ident):
        fam = socket.AF_INET6 if v6 else socket.AF_INET
        self.src, self.dst = socket.inet_pton(fam, src), socket.inet_pton(fam, dst)
        self.sport, self.dport, self.ident = sport, dport, ident
        src_mac, dst_mac = b"\x02\x00" + self.src[-4:], b"\x02\x00" + self.dst[-4:]
        ethertype = ETH_IPV6 if v6 else ETH_IPV4
        if link == "ethernet":
            self.prefix = ethernet_frame(dst_mac, src_mac, PLAIN, ethertype, b"", pad=False)
        elif link == "sll":
            self.prefix = sll_header(src_mac, ethertype)
        else:
            self.prefix = b""
        self.payload = payload
        self.pay_sum = ones_sum(payload)
        # Pseudo-header addresses and protocol, and the ports: in every L4 checksum.
        self.l4_sum = _word_sum(self.src + self.dst) + proto + sport + dport
        # IPv4 header words but the total length and checksum.
        self.ip_sum = 0 if v6 else (0x4500 + ident + 0x4000 + (64 << 8 | proto)
                                    + _word_sum(self.src + self.dst))


def _fold(s):
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class _Flow:
    __slots__ = ("flow_id", "proto", "v6", "sides", "n", "i", "seq", "first", "last", "pk", "by",
                 "fl", "texts")


class Big:
    def __init__(self, rng, link, n_flows, n_packets, window=8192, community_id_seed=0):
        assert n_flows <= 1 << 24, "client addresses are unique per flow up to 2^24 flows"
        self.rng, self.link = rng, link
        self.community_id_seed = community_id_seed
        self.n_flows = n_flows
        self.per_flow = max(1, n_packets // n_flows)
        self.window = min(window, n_flows)
        self.block = rng.randbytes(1500)
        self.servers = [f"172.{16 + i // 256 % 16}.{i % 256}.{1 + i // 4096 % 250}" for i in range(997)]
        self.servers6 = [f"2001:db8:5::{i + 1:x}" for i in range(997)]
        self.records = []

    def _new_flow(self, index):
        rng = self.rng
        f = _Flow()
        f.i = 0
        f.proto = 6 if rng.random() < 0.7 else 17
        f.v6 = rng.random() < 0.2
        if f.v6:
            client = socket.inet_ntop(socket.AF_INET6, bytes.fromhex("20010db8000c") +
                                      index.to_bytes(8, "big") + b"\x00\x01")
            server = self.servers6[index % len(self.servers6)]
        else:
            client = f"10.{index >> 16 & 0xFF}.{index >> 8 & 0xFF}.{index & 0xFF}"
            server = self.servers[index % len(self.servers)]
        cport, sport = rng.randrange(32768, 61000), rng.choice((80, 443, 53, 8080, 5201))
        f.texts = (client, cport, server, sport)
        f.sides = (
            _Side(self.link, f.proto, f.v6, client, server, cport, sport,
                  self.block[:rng.randrange(64, 600)], rng.randrange(65536)),
            _Side(self.link, f.proto, f.v6, server, client, sport, cport,
                  self.block[:rng.randrange(200, 1460)], rng.randrange(65536)))
        spread = self.per_flow // 2
        n = self.per_flow + rng.randrange(-spread, spread + 1)
        f.n = max(7, n) if f.proto == 6 else max(1, n)
        f.seq = [rng.getrandbits(32), rng.getrandbits(32)]
        f.pk, f.by, f.fl = [0, 0], [0, 0], [0, 0]
        return f

    @staticmethod
    def _tcp_step(i, n):
        """Direction (0 client, 1 server) and flags of a TCP flow's packet i of n."""
        if i < 3:
            return (0, TCP_SYN) if i == 0 else (1, _SYNACK) if i == 1 else (0, TCP_ACK)
        if i >= n - 3:
            return (0, TCP_FIN | TCP_ACK) if i == n - 3 else (1, TCP_FIN | TCP_ACK) if i == n - 2 \
                else (0, TCP_ACK)
        return (i - 3) & 1, TCP_ACK | TCP_PSH

    def _emit(self, f, writer, ts, frame_no):
        if f.i == 0:
            f.flow_id, f.first = frame_no, ts
        if f.proto == 6:
            d, flags = self._tcp_step(f.i, f.n)
            side = f.sides[d]
            payload = side.payload if flags & TCP_PSH else b""
            l4_len = 20 + len(payload)
            seq = f.seq[d]
            ack = f.seq[1 - d] if flags & TCP_ACK else 0
            s = (side.l4_sum + l4_len + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16) + (ack & 0xFFFF)
                 + (0x5000 | flags) + 64240 + (side.pay_sum if payload else 0))
            l4 = _TCP_HDR.pack(side.sport, side.dport, seq, ack, 0x50, flags, 64240, _fold(s), 0)
            f.seq[d] = (seq + len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)) & 0xFFFFFFFF
            f.fl[d] |= flags
        else:
            d = f.i & 1
            side = f.sides[d]
            payload = side.payload
            l4_len = 8 + len(payload)
            c = _fold(side.l4_sum + 2 * l4_len + side.pay_sum)
            l4 = _UDP_HDR.pack(side.sport, side.dport, l4_len, c or 0xFFFF)
        if f.v6:
            ip_len = 40 + l4_len
            ip = _IP6_HDR.pack(0x60000000, l4_len, f.proto, 64, side.src, side.dst)
        else:
            ip_len = 20 + l4_len
            ip = _IP4_HDR.pack(0x45, 0, ip_len, side.ident, 0x4000, 64, f.proto,
                               _fold(side.ip_sum + ip_len), side.src, side.dst)
        frame = side.prefix + ip + l4 + payload
        if len(frame) < 60 and self.link == "ethernet":
            frame += bytes(60 - len(frame))
        writer.write(ts, frame, len(frame))
        f.pk[d] += 1
        f.by[d] += ip_len
        f.last = ts
        f.i += 1
        return f.i == f.n

    def _record(self, f):
        client, cport, server, sport = f.texts
        self.records.append({
            "flow_id": f.flow_id, "generation": 1, "proto": f.proto, "ip_version": 6 if f.v6 else 4,
            "src_ip": client, "src_port": cport, "dst_ip": server, "dst_port": sport,
            "community_id": community_id(f.proto, client, server, cport, sport, self.community_id_seed),
            "first_ts": fmt_ts(f.first), "last_ts": fmt_ts(f.last),
            "src_packets": f.pk[0], "src_bytes": f.by[0], "dst_packets": f.pk[1], "dst_bytes": f.by[1],
            "tcp_flags_src": flag_letters(f.fl[0]), "tcp_flags_dst": flag_letters(f.fl[1]),
            "end_reason": "tcp_close" if f.proto == 6 else "eof"})

    def run(self, path, fmt):
        writer = Writer(path, self.link, fmt)
        random, ts, frame_no, started = self.rng.random, BASE_TS_US, 0, 0
        active = []
        while started < self.window:
            frame_no, ts = frame_no + 1, ts + 1
            f = self._new_flow(started)
            started += 1
            if self._emit(f, writer, ts, frame_no):
                self._record(f)
            else:
                active.append(f)
        while active:
            frame_no, ts = frame_no + 1, ts + 1
            k = int(random() * len(active))
            f = active[k]
            if self._emit(f, writer, ts, frame_no):
                self._record(f)
                if started < self.n_flows:
                    active[k] = self._new_flow(started)
                    started += 1
                else:
                    active[k] = active[-1]
                    active.pop()
        writer.close()
        self.records.sort(key=lambda r: r["flow_id"])
        return {"records": self.records,
                "dispositions": {"non_ip": 0, "malformed": 0, "fragments_unattributed": 0},
                "malformed_reasons": {}, "packets": frame_no,
                "config": config_for(community_id_seed=self.community_id_seed)}
