"""The small, hand-scripted scenarios. Each builds its packets into ctx, returns the timeouts it
assumes and a self-check that the accounting produced what the scenario was designed to show
(so a change in the model that breaks a scenario's intent fails loudly at generation time)."""

from .conv import BASE_TS_US, Conv, Icmp, Tcp, Udp
from .wire import TCP_ACK, TCP_FIN

S = 1000000  # microseconds per second
MS = 1000


class ScenarioError(AssertionError):
    pass


def expect(cond, msg):
    if not cond:
        raise ScenarioError(msg)


def tuple_records(truth, proto, ip, port):
    """Records of the flows with an endpoint (ip, port) and the given protocol, by flow_id."""
    return [r for r in truth["records"] if r["proto"] == proto and
            ((r["src_ip"], r["src_port"]) == (ip, port) or (r["dst_ip"], r["dst_port"]) == (ip, port))]


def expect_reasons(truth, proto, ip, port, reasons, what):
    got = [r["end_reason"] for r in tuple_records(truth, proto, ip, port)]
    expect(got == list(reasons), f"{what}: end reasons {got}, designed {list(reasons)}")


def _exchange(c, rtt, rounds, rng):
    for _ in range(rounds):
        c.data(rtt, True, rng.randrange(100, 600))
        c.data(rtt // 2, False, rng.randrange(600, 1400))
        c.send(rtt // 2, True, TCP_ACK)


def six_syns(ctx, opts):
    client, server = "192.168.10.5", "192.168.10.80"
    convs = [Tcp(ctx, client, server, 40000 + 7 * i, 80, BASE_TS_US + 10 * i) for i in range(6)]
    for c in convs:
        c.syn(1)
    for i, c in enumerate(convs):
        c.synack(2 * MS)
        c.send(2 * MS, True, TCP_ACK)
        _exchange(c, 4 * MS, 2 + i % 3, ctx.rng)
        c.close(4 * MS, client_first=i % 2 == 0)

    def check(truth):
        recs = truth["records"]
        expect(len(recs) == 6, f"six flows, got {len(recs)}")
        expect(all(r["end_reason"] == "tcp_close" and r["generation"] == 1 and r["src_ip"] == client
                   and r["tcp_flags_src"] == "APSF" and r["tcp_flags_dst"] == "APSF" for r in recs),
               "all six closed, client-initiated, APSF both ways")
    return {}, check


def syn_retransmit(ctx, opts):
    client, server = "10.1.1.1", "10.2.2.2"
    c = Tcp(ctx, client, server, 51515, 443, BASE_TS_US)
    c.syn(1)
    c.syn(S, retransmit=True)  # same ISN, one second later
    c.synack(3 * MS)
    c.send(3 * MS, True, TCP_ACK)
    _exchange(c, 6 * MS, 3, ctx.rng)
    c.close(6 * MS)

    def check(truth):
        recs = truth["records"]
        expect(len(recs) == 1 and recs[0]["flow_id"] == 1 and recs[0]["end_reason"] == "tcp_close",
               f"one closed flow starting at frame 1: {recs}")
    return {}, check


def tcp_reuse(ctx, opts):
    """Port 45000: a new SYN 1 s after close (within tcp_closed_ms) -> generation 2.
    Port 45001: a new SYN 6 s after close (past tcp_closed_ms) -> closed flow expires, new
    generation-1 flow."""
    client, server = "172.16.0.10", "172.16.0.20"
    syn_frames = {}
    for port, pause in ((45000, 1 * S), (45001, 6 * S)):
        c = Tcp(ctx, client, server, port, 443, BASE_TS_US + (port - 45000) * 100 * MS)
        for conn in range(2):
            if conn:
                c.new_isn()
                c.advance(pause)
                syn_frames[port] = c.syn(1)
            else:
                c.syn(1)
            c.synack(2 * MS)
            c.send(2 * MS, True, TCP_ACK)
            _exchange(c, 5 * MS, 2, ctx.rng)
            c.close(5 * MS)

    def check(truth):
        frame_of = {id(p): n for n, p in enumerate(ctx.packets, 1)}
        for port, gen2 in ((45000, 2), (45001, 1)):
            recs = tuple_records(truth, 6, client, port)
            expect([r["generation"] for r in recs] == [1, gen2], f"port {port}: generations {recs}")
            expect(all(r["end_reason"] == "tcp_close" for r in recs), f"port {port}: both tcp_close")
            expect(recs[1]["flow_id"] == frame_of[id(syn_frames[port])],
                   f"port {port}: second flow_id is the new SYN's frame")
    return {}, check


def synack_first(ctx, opts):
    """The capture starts after the SYN: the SYN-ACK's receiver (client) is the initiator."""
    flows = (("10.9.0.1", "10.9.0.2", 50123, 8080), ("2001:db8:9::1", "2001:db8:9::2", 50124, 443))
    for i, (client, server, cport, sport) in enumerate(flows):
        c = Tcp(ctx, client, server, cport, sport, BASE_TS_US + i * 50 * MS)
        c.synack(1)
        c.send(MS, True, TCP_ACK)
        _exchange(c, 3 * MS, 3, ctx.rng)
        if i:
            c.close(3 * MS, client_first=False)

    def check(truth):
        recs = truth["records"]
        expect(len(recs) == 2 and all(r["src_ip"] == f[0] and r["src_port"] == f[2]
                                      for r, f in zip(recs, flows)), f"client is src: {recs}")
        expect([r["end_reason"] for r in recs] == ["eof", "tcp_close"], "eof, then tcp_close")
    return {}, check


def idle_split(ctx, opts):
    timeouts = {"udp_idle_ms": 10000, "icmp_idle_ms": 10000, "other_idle_ms": 10000,
                "tcp_idle_ms": 20000}
    rng, t0 = ctx.rng, BASE_TS_US
    # UDP split by a 15 s gap: idle, then eof. Its last packet is the capture's last (t0+30 s).
    u = Udp(ctx, "10.0.0.1", "10.0.0.2", 40001, 5353, t0)
    for part, start in enumerate((0, 26 * S)):
        u.t = t0 + start
        for _ in range(7):
            u.send(500 * MS, True, rng.randrange(40, 200))
            u.send(20 * MS, False, rng.randrange(40, 200))
    u.send(30 * S - (u.t - t0), True, 64)
    # TCP reset: tcp_close.
    r = Tcp(ctx, "10.0.1.1", "10.0.1.2", 40002, 80, t0 + 100 * MS)
    r.handshake(2 * MS)
    r.data(2 * MS, True, 300)
    r.reset(2 * MS, False)
    # TCP idle for 22 s > tcp_idle: idle; then the server speaks first: a new flow, server is src.
    ti = Tcp(ctx, "10.0.2.1", "10.0.2.2", 40003, 22, t0 + 200 * MS)
    ti.handshake(4 * MS)
    _exchange(ti, 5 * MS, 3, rng)
    ti.advance(22 * S)
    _exchange_server_first(ti, rng)
    # ICMP echo v4 and v6 with a 20 s gap.
    for i, (a, b) in enumerate((("10.0.3.1", "10.0.3.2"), ("2001:db8:3::1", "2001:db8:3::2"))):
        e = Icmp(ctx, a, b, t0 + (1000 + 500 * i) * MS)
        for k, start in enumerate((0, 24 * S)):
            e.t = t0 + (1000 + 500 * i) * MS + start
            for n in range(3):
                e.echo(S, True, 0x4242 + i, 3 * k + n, 56)
                e.echo(5 * MS, False, 0x4242 + i, 3 * k + n, 56)
    # TCP closed, then a retransmitted FIN-ACK 6.5 s later (> tcp_closed_ms): a new flow with
    # the server as src, which then outlives tcp_idle before the end of the capture: idle.
    fc = Tcp(ctx, "10.0.4.1", "10.0.4.2", 40005, 443, t0 + 300 * MS)
    fc.handshake(3 * MS)
    _exchange(fc, 3 * MS, 2, rng)
    fc.close(3 * MS, client_first=False)
    fc.send(6500 * MS, False, TCP_FIN | TCP_ACK, seq=fc.next_seq[False] - 1)
    # GRE (other protocol) with a 14 s gap.
    g = Conv(ctx, "10.0.5.1", "10.0.5.2", t0 + 2 * S)
    for start in (0, 18 * S):
        g.t = t0 + 2 * S + start
        for _ in range(4):
            g.ip(500 * MS, True, 47, _gre_payload(rng), 0, 0)
            g.ip(10 * MS, False, 47, _gre_payload(rng), 0, 0)
    # UDP that stops at 4 s: idle at the end of the capture (30 s).
    q = Udp(ctx, "10.0.6.1", "10.0.6.2", 40007, 123, t0 + 500 * MS)
    for _ in range(4):
        q.send(800 * MS, True, 48)
        q.send(10 * MS, False, 48)
    # TCP closed by FIN at 3 s: tcp_close at the end, however long ago.
    fin = Tcp(ctx, "10.0.7.1", "10.0.7.2", 40008, 25, t0 + 2 * S)
    fin.handshake(4 * MS)
    _exchange(fin, 4 * MS, 2, rng)
    fin.close(4 * MS)

    def check(truth):
        expect_reasons(truth, 17, "10.0.0.1", 40001, ("idle", "eof"), "udp gap")
        expect_reasons(truth, 6, "10.0.1.1", 40002, ("tcp_close",), "tcp rst")
        expect_reasons(truth, 6, "10.0.2.1", 40003, ("idle", "eof"), "tcp idle")
        expect(tuple_records(truth, 6, "10.0.2.1", 40003)[1]["src_ip"] == "10.0.2.2",
               "after tcp idle the server is src")
        expect_reasons(truth, 1, "10.0.3.1", 0x4242, ("idle", "eof"), "icmp gap")
        expect_reasons(truth, 58, "2001:db8:3::1", 0x4243, ("idle", "eof"), "icmpv6 gap")
        expect_reasons(truth, 6, "10.0.4.1", 40005, ("tcp_close", "idle"), "late FIN")
        expect_reasons(truth, 47, "10.0.5.1", 0, ("idle", "eof"), "gre gap")
        expect_reasons(truth, 17, "10.0.6.1", 40007, ("idle",), "udp idle at eof")
        expect_reasons(truth, 6, "10.0.7.1", 40008, ("tcp_close",), "fin at eof")
        expect(all(r["generation"] == 1 for r in truth["records"]), "no generation 2 here")
    return timeouts, check


def _exchange_server_first(c, rng):
    for _ in range(3):
        c.data(5 * MS, False, rng.randrange(100, 500))
        c.data(5 * MS, True, rng.randrange(20, 100))


def _gre_payload(rng):
    from .wire import gre_packet, ipv4_header, pack_addr, udp_datagram
    s, d = pack_addr("192.168.100.1"), pack_addr("192.168.100.2")
    inner = udp_datagram(s, d, 7000, 7001, rng.randbytes(rng.randrange(20, 200)))
    return gre_packet(ipv4_header(s, d, 17, len(inner)) + inner)


def active_timeout(ctx, opts):
    """active_ms 30 s: UDP every second for 95 s (packets exactly on the deadlines), TCP for
    70 s, ICMP every 10 s: interim records on each flow's own grid, then the final one."""
    timeouts = {"active_ms": 30000}
    rng, t0 = ctx.rng, BASE_TS_US
    u = Udp(ctx, "10.20.0.1", "10.20.0.2", 41000, 9000, t0 - 1)
    for k in range(95):
        u.t = t0 + k * S - 1
        u.send(1, True, rng.randrange(50, 900))
        u.send(20 * MS, False, rng.randrange(50, 900))
    t = Tcp(ctx, "10.20.1.1", "10.20.1.2", 41001, 443, t0 + 5 * S)
    t.handshake(4 * MS)
    for k in range(35):
        t.t = t0 + 5 * S + 10 * MS + k * 2 * S
        t.data(1, True, rng.randrange(50, 400))
        t.data(3 * MS, False, rng.randrange(400, 1400))
        t.send(3 * MS, True, TCP_ACK)
    t.close(10 * MS)
    # Sparse UDP: gaps shorter than udp_idle but longer than active_ms. One interim record per
    # late packet, however many grid points it passed; the next deadline is the next grid point.
    sp = Udp(ctx, "10.20.3.1", "10.20.3.2", 41003, 9001, t0)
    for at in (0, 25, 80, 95):
        sp.t = t0 + at * S
        sp.send(1, True, 100)
        sp.send(10 * MS, False, 100)
    e = Icmp(ctx, "10.20.2.1", "10.20.2.2", t0 + 500 * MS - 1)
    for k in range(10):
        e.t = t0 + 500 * MS + k * 10 * S - 1
        e.echo(1, True, 77, k, 32)
        e.echo(2 * MS, False, 77, k, 32)

    def check(truth):
        recs = tuple_records(truth, 17, "10.20.0.1", 41000)
        expect([r["end_reason"] for r in recs] == ["active"] * 3 + ["eof"], f"udp: {recs}")
        expect([r["src_packets"] for r in recs] == [30, 30, 30, 5], "udp interval sizes")
        expect(len({r["flow_id"] for r in recs}) == 1, "interim records share flow_id")
        recs = tuple_records(truth, 6, "10.20.1.1", 41001)
        expect([r["end_reason"] for r in recs] == ["active", "active", "tcp_close"], f"tcp: {recs}")
        recs = tuple_records(truth, 17, "10.20.3.1", 41003)
        expect([(r["end_reason"], r["src_packets"]) for r in recs] ==
               [("active", 2), ("active", 1), ("eof", 1)], f"sparse udp: {recs}")
        recs = tuple_records(truth, 1, "10.20.2.1", 77)
        expect([r["end_reason"] for r in recs] == ["active"] * 3 + ["eof"], f"icmp: {recs}")
    return timeouts, check


SCENARIOS = {
    "six_syns": (six_syns, "six simultaneous handshakes from one client, FIN teardown: six flows"),
    "syn_retransmit": (syn_retransmit, "SYN retransmitted with the same ISN: one flow"),
    "tcp_reuse": (tcp_reuse, "new SYN on a closed tuple: generation 2 (and expiry past tcp_closed_ms)"),
    "synack_first": (synack_first, "capture starts at the SYN-ACK: its receiver is the initiator"),
    "idle_split": (idle_split, "idle gaps split flows (UDP/TCP/ICMP/GRE), idle at EOF, RST, late FIN"),
    "active_timeout": (active_timeout, "active_ms 30 s: interim records on the flow's grid, deltas"),
}

__all__ = ["SCENARIOS", "ScenarioError", "expect"]
