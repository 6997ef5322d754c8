"""The `mixed` scenario: many concurrent random flows of every kind the engine must handle, plus
frames that are not flows (non-IP, malformed, orphan fragments)."""

import socket

from . import conv, wire
from .conv import BASE_TS_US, Conv, Icmp, Sctp, Tcp, Udp
from .scenarios import expect
from .wire import ETH_QINQ, ETH_VLAN, TCP_ACK, TCP_PSH, TCP_RST, TCP_URG, Encap

S, MS = 1000000, 1000
SPAN_US = 30 * S  # flows start within the first 30 s; all of them stay within default timeouts

TCP_PORTS = (80, 443, 22, 25, 8080, 993, 3306, 5432)
UDP_PORTS = (53, 123, 443, 514, 5060, 1812, 161)
SCTP_PORTS = (2905, 3868, 38412)
GRE_INNER = (wire.pack_addr("192.168.0.1"), wire.pack_addr("192.168.0.2"))

# (kind, weight, rough packets per flow as (fixed, per round))
KINDS = (
    ("tcp_full", 34, (6, 4)), ("tcp_rst", 6, (4, 2)), ("tcp_refused", 2, (2, 0)),
    ("tcp_halfopen", 4, (2, 0)), ("tcp_synack_first", 2, (2, 4)), ("tcp_midstream", 3, (3, 4)),
    ("udp", 22, (0, 2)), ("udp_frag", 4, (0, 4)), ("udp_unreach", 3, (3, 0)),
    ("icmp_echo", 8, (0, 2)), ("icmp6_nd", 1, (1, 0)), ("sctp", 3, (9, 2)),
    ("gre", 2, (0, 2)), ("esp", 1, (0, 2)),
)


class _Hosts:
    def __init__(self, ctx):
        self.rng = ctx.rng

    def v4(self, server):
        r = self.rng
        if server:
            return f"172.{r.randrange(16, 32)}.{r.randrange(256)}.{r.randrange(1, 255)}"
        return f"10.{r.randrange(64)}.{r.randrange(256)}.{r.randrange(1, 255)}"

    def v6(self, server):
        head = bytes.fromhex("20010db8") + (b"\x00\x05" if server else b"\x00\x0c")
        tail = self.rng.randbytes(2) + (self.rng.getrandbits(62) | 1 << 62).to_bytes(8, "big")
        return socket.inet_ntop(socket.AF_INET6, head + tail)

    def pair(self, v6):
        f = self.v6 if v6 else self.v4
        while True:
            a, b = f(False), f(True)
            if a != b:
                return a, b


class Mixed:
    def __init__(self, ctx, n_flows, target_packets):
        self.ctx, self.rng = ctx, ctx.rng
        self.hosts = _Hosts(ctx)
        self.n_flows = n_flows
        weights = sum(w for _, w, _ in KINDS)
        fixed = sum(w * f for _, w, (f, _) in KINDS) / weights
        per_round = sum(w * p for _, w, (_, p) in KINDS) / weights
        # Mean rounds per flow so that the total lands near the target.
        self.mean_rounds = max(1.0, (target_packets / n_flows - fixed) / max(per_round, 1))
        self.cut_budget = n_flows // 20  # TCP data packets cut by a snap length

    # --- per-flow choices --------------------------------------------------------------------
    def rounds(self):
        return max(1, min(int(self.rng.expovariate(1 / self.mean_rounds)) + 1,
                          int(6 * self.mean_rounds) + 1, 120))

    def encap(self):
        if not self.ctx.ethernet:
            return wire.PLAIN
        r, vid = self.rng.random(), lambda: self.rng.randrange(1, 4095)
        if r < 0.70:
            return wire.PLAIN
        if r < 0.80:
            return Encap(vlans=[(ETH_VLAN, vid())])
        if r < 0.85:
            return Encap(vlans=[(self.rng.choice((ETH_QINQ, ETH_VLAN)), vid()), (ETH_VLAN, vid())])
        if r < 0.90:
            return Encap(mpls=[self.rng.randrange(16, 1 << 20) for _ in range(self.rng.randrange(1, 3))])
        if r < 0.95:
            return Encap(pppoe=self.rng.randrange(1, 65535))
        return Encap(vlans=[(ETH_VLAN, vid())], pppoe=self.rng.randrange(1, 65535))

    def l3_options(self, v6, allow_v4_options=True):
        if v6:
            if self.rng.random() < 0.25:
                return {"v6_ext": self.rng.choice(((0,), (60,), (43,), (0, 60), (0, 43, 60)))}
            return {}
        if allow_v4_options and self.rng.random() < 0.05:
            return {"v4_options": self.rng.choice(wire.IPV4_OPTIONS)}
        return {}

    def endpoint_pair(self, proto, v6, ports_fn, encap):
        """Client/server addresses and ports whose flow key is not used yet."""
        while True:
            a, b = self.hosts.pair(v6)
            pa, pb = ports_fn()
            if self.ctx.claim(proto, a, pa, b, pb, encap.vlan_ids()):
                return a, b, pa, pb

    def gaps(self):
        rtt = int(self.rng.uniform(0.2, 40) * MS)
        return rtt, lambda: int(self.rng.expovariate(1 / (50 * MS)))

    def size(self, lo=1, hi=1400):
        return self.rng.randrange(lo, hi)

    # --- flow kinds ----------------------------------------------------------------------------
    def tcp(self, kind, start, v6):
        rng, encap = self.rng, self.encap()
        a, b, pa, pb = self.endpoint_pair(6, v6, lambda: (rng.randrange(32768, 61000),
                                                          rng.choice(TCP_PORTS)), encap)
        c = Tcp(self.ctx, a, b, pa, pb, start, encap=encap, **self.l3_options(v6))
        rtt, think = self.gaps()
        if kind == "tcp_halfopen":
            c.syn(1)
            for k in range(rng.randrange(3)):
                c.syn((1 << k) * S, retransmit=True)
            return
        if kind == "tcp_refused":
            c.syn(1)
            c.send(rtt, False, TCP_RST | TCP_ACK)
            return
        if kind == "tcp_synack_first":
            c.synack(1)
            c.send(rtt // 2, True, TCP_ACK)
        elif kind != "tcp_midstream":
            c.handshake(rtt, ecn=rng.random() < 0.1)
        cut = self.cut_budget > 0 and rng.random() < 0.1
        urgent = rng.random() < 0.03
        rounds = self.rounds()
        for i in range(rounds):
            c.data(think(), True, self.size(1, 600))
            for _ in range(rng.randrange(1, 4)):
                snap = None
                if cut and self.cut_budget > 0:
                    self.cut_budget, snap = self.cut_budget - 1, 16
                c.data(rtt // 2, False, self.size(200, 1460), snap_payload=snap)
            if urgent and i == 0:
                c.send(rtt // 4, True, TCP_ACK | TCP_PSH | TCP_URG, b"!")
            c.send(rtt // 2, True, TCP_ACK)
            if kind == "tcp_rst" and i == rounds // 2:
                if rng.random() < 0.5:
                    c.reset(think(), rng.random() < 0.5)
                else:
                    c.send(think(), rng.random() < 0.5, TCP_RST)
                return
        if kind == "tcp_midstream" and rng.random() < 0.5:
            return  # still open at the end of the capture
        c.close(rtt, client_first=rng.random() < 0.7)

    def udp(self, kind, start, v6):
        rng, encap = self.rng, self.encap()
        a, b, pa, pb = self.endpoint_pair(17, v6, lambda: (rng.randrange(32768, 61000),
                                                           rng.choice(UDP_PORTS)), encap)
        opts = self.l3_options(v6, allow_v4_options=kind != "udp_frag")
        u = Udp(self.ctx, a, b, pa, pb, start, encap=encap, **opts)
        rtt, think = self.gaps()
        if kind == "udp_unreach":
            first = None
            for _ in range(rng.randrange(1, 4)):
                p = u.send(think(), True, self.size(20, 200))
                first = first or p
            # The ICMP error is a flow of its own: (server, type) <-> (client, code).
            Icmp(self.ctx, a, b, u.t, encap=encap, **opts).unreachable(rtt // 2, False, first.l3)
            return
        chunk = 1448 if v6 else 1480
        for _ in range(self.rounds()):
            if kind == "udp_frag" and rng.random() < 0.3:
                u.send_fragmented(think(), True, self.size(chunk + 8, 3 * chunk), chunk=chunk)
            else:
                u.send(think(), True, self.size(20, 400))
            if kind == "udp_frag" and rng.random() < 0.7:
                r = rng.random()
                u.send_fragmented(rtt // 2, False, self.size(chunk + 8, 4 * chunk), chunk=chunk,
                                  lose_first=r < 0.1, last_first=0.1 <= r < 0.2)
            else:
                u.send(rtt // 2, False, self.size(20, 1400))

    def icmp(self, kind, start, v6):
        rng, encap = self.rng, self.encap()
        if kind == "icmp6_nd":
            v6 = True
        proto = 58 if v6 else 1

        def ports():  # the key's ports: (type, code) for ND, the identifier twice for echo
            if kind == "icmp6_nd":
                return 135, 0
            ident = rng.randrange(65536)
            return ident, ident

        a, b, ident, _ = self.endpoint_pair(proto, v6, ports, encap)
        e = Icmp(self.ctx, a, b, start, encap=encap, **self.l3_options(v6))
        if kind == "icmp6_nd":
            target = wire.pack_addr(b)
            e.message(1, True, 135, 0, b"\0" * 4, target + b"\x01\x01" + e.mac[True])
            return
        rtt, _ = self.gaps()
        for n in range(self.rounds()):
            size = self.size(8, 1000)
            e.echo(rng.randrange(100, 300) * MS if n else 1, True, ident, n, size)
            if rng.random() < 0.95:  # a few requests go unanswered
                e.echo(rtt, False, ident, n, size)

    def sctp(self, start, v6):
        rng, encap = self.rng, self.encap()
        a, b, pa, pb = self.endpoint_pair(132, v6, lambda: (rng.randrange(32768, 61000),
                                                            rng.choice(SCTP_PORTS)), encap)
        s = Sctp(self.ctx, a, b, pa, pb, start, encap=encap, **self.l3_options(v6))
        rtt, _ = self.gaps()
        s.association(rtt, self.rounds(), lambda: self.size(16, 800))

    def tunnel(self, proto, start, v6):
        rng, encap = self.rng, self.encap()
        a, b, _, _ = self.endpoint_pair(proto, v6, lambda: (0, 0), encap)
        c = Conv(self.ctx, a, b, start, encap=encap, **self.l3_options(v6))
        rtt, think = self.gaps()
        spi = {True: rng.getrandbits(32), False: rng.getrandbits(32)}
        for n in range(self.rounds()):
            for side, gap in ((True, think()), (False, rtt // 2)):
                if proto == 47:  # inner protocol 253 (experimental): nothing below it to dissect
                    n_inner = self.size(8, 600)
                    payload = wire.gre_packet(wire.ipv4_header(GRE_INNER[0], GRE_INNER[1], 253, n_inner)
                                              + rng.randbytes(n_inner))
                else:
                    payload = spi[side].to_bytes(4, "big") + (n + 1).to_bytes(4, "big") + \
                        rng.randbytes(self.size(16, 600))
                c.ip(gap, side, proto, payload, 0, 0)

    def flow(self, kind, start):
        v6 = self.rng.random() < 0.3
        if kind.startswith("tcp"):
            self.tcp(kind, start, v6)
        elif kind.startswith("udp"):
            self.udp(kind, start, v6)
        elif kind.startswith("icmp"):
            self.icmp(kind, start, v6)
        elif kind == "sctp":
            self.sctp(start, v6)
        else:
            self.tunnel(47 if kind == "gre" else 50, start, v6)

    # --- frames outside flows ------------------------------------------------------------------
    def extras(self, t0):
        ctx, rng = self.ctx, self.rng
        when = lambda: t0 + rng.randrange(SPAN_US)  # noqa: E731
        if ctx.link != "raw":
            for _ in range(max(2, self.n_flows // 40)):
                a, b = self.hosts.v4(False), self.hosts.v4(True)
                ts = when()
                encap = self.encap() if rng.random() < 0.3 else wire.PLAIN
                encap = Encap(vlans=encap.vlans)  # ARP rides on VLANs, not on MPLS/PPPoE
                conv.arp(ctx, ts, a, b, encap=encap)
                conv.arp(ctx, ts + rng.randrange(50, 500), b, a, reply=True, encap=encap)
            for k in range(SPAN_US // (5 * S)):
                for sw in ("switch-a", "switch-b"):
                    conv.lldp(ctx, t0 + k * 5 * S + rng.randrange(S), sw)
            for _ in range(max(1, self.n_flows // 400)):
                conv.pppoe_padi(ctx, when(), self.hosts.v4(False))
        for i in range(max(len(conv.MALFORMED_KINDS), self.n_flows // 50)):
            kind = conv.MALFORMED_KINDS[i % len(conv.MALFORMED_KINDS)]
            conv.malformed(ctx, when(), kind, f"198.18.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                           f"198.19.{rng.randrange(256)}.{rng.randrange(1, 255)}")
        for _ in range(max(2, self.n_flows // 100)):
            v6 = rng.random() < 0.3
            a, b = self.hosts.pair(v6)
            conv.orphan_fragment(ctx, when(), a, b, self.size(8, 600))

    def build(self):
        t0 = BASE_TS_US + self.rng.randrange(1000)
        kinds = [k for k, _, _ in KINDS]
        weights = [w for _, w, _ in KINDS]
        for _ in range(self.n_flows):
            kind = self.rng.choices(kinds, weights)[0]
            self.flow(kind, t0 + self.rng.randrange(SPAN_US))
        self.extras(t0)


def mixed(ctx, opts):
    n_flows = opts.flows or 2000
    Mixed(ctx, n_flows, opts.packets or 25 * n_flows).build()

    def check(truth):
        recs, disp = truth["records"], truth["dispositions"]
        expect(disp["malformed"] > 0 and disp["fragments_unattributed"] > 0, f"dispositions {disp}")
        expect((disp["non_ip"] > 0) == (ctx.link != "raw"), "non-IP frames unless the link is raw")
        if n_flows >= 500:
            protos = {r["proto"] for r in recs}
            expect(protos >= {1, 6, 17, 47, 50, 58, 132}, f"protocols {sorted(protos)}")
            expect({4, 6} <= {r["ip_version"] for r in recs}, "IPv4 and IPv6")
            expect((ctx.link == "ethernet") == any("inner_vlan" in r for r in recs), "QinQ on ethernet")
            # Unanswered connection attempts may outlive the establish timeout;
            # everything else stays within the default timeouts.
            attempt = lambda r: r["proto"] == 6 and "S" in r["tcp_flags_src"] and not r["dst_packets"]
            expect(all(r["end_reason"] in ("eof", "tcp_close") or (r["end_reason"] == "idle" and attempt(r))
                       for r in recs), "mixed stays within the default timeouts")
    return {}, check

