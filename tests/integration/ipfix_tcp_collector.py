#!/usr/bin/env python3
"""A minimal IPFIX-over-TCP collector for the end-to-end tests (RFC 7011), run as its own process
so that a test can SIGKILL it mid-stream.

    ipfix_tcp_collector.py --port P --out LOG [--templates STATE]

Listens on 127.0.0.1:P (SO_REUSEADDR, so a restart can take the port back at once), accepts one
connection after another, and appends one line per IPFIX message to LOG, flushed at once (and
only then takes the message out of the socket):

    <sequence> <data records> <crc32 of the message> <connection #> <stale>

Data records are counted by walking each Data Set with its template's field lengths (variable
length per RFC 7011 7). `stale` is 1 when a Data Set of the message used a template that did not
arrive on this connection (it is known from an earlier one): RFC 7011 8.1 lets a collector drop
templates with the connection, so such a message is only decodable by a collector that keeps
them per exporter, as this one does (in STATE too, across its own restarts, when given).

A message whose Data Set uses a template never seen at all, or whose sets do not add up, is
logged with a count of -1 and the reason on stderr: the test fails on it."""

import argparse
import json
import os
import socket
import struct
import sys
import time
import zlib


class Templates:
    """Template id -> list of field lengths, per observation domain; optionally persisted."""

    def __init__(self, path):
        self.path = path
        self.by_domain = {}
        if path and os.path.exists(path):
            with open(path) as f:
                for k, v in json.load(f).items():
                    d, t = k.split(":")
                    self.by_domain[(int(d), int(t))] = v

    def put(self, domain, tid, lengths):
        if self.by_domain.get((domain, tid)) == lengths:
            return
        self.by_domain[(domain, tid)] = lengths
        if self.path:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump({f"{d}:{t}": v for (d, t), v in self.by_domain.items()}, f)
            os.replace(tmp, self.path)

    def get(self, domain, tid):
        return self.by_domain.get((domain, tid))


def parse_template_set(body, domain, templates, seen_here):
    off = 0
    while len(body) - off >= 4:
        tid, n_fields = struct.unpack_from("!HH", body, off)
        off += 4
        if n_fields == 0:  # withdrawal
            continue
        lengths = []
        for _ in range(n_fields):
            if off + 4 > len(body):
                raise ValueError("template record cut short")
            ie, length = struct.unpack_from("!HH", body, off)
            off += 4
            if ie & 0x8000:
                off += 4  # enterprise number
            lengths.append(length)
        templates.put(domain, tid, lengths)
        seen_here.add((domain, tid))


def count_data_records(body, lengths):
    fixed_min = sum(1 if n == 65535 else n for n in lengths)
    off, count = 0, 0
    # What is left below the shortest possible record is padding (RFC 7011 3.3.1).
    while len(body) - off >= max(fixed_min, 1):
        for n in lengths:
            if n == 65535:
                if off + 1 > len(body):
                    raise ValueError("variable-length field cut short")
                n = body[off]
                off += 1
                if n == 255:
                    if off + 2 > len(body):
                        raise ValueError("variable-length field cut short")
                    n = struct.unpack_from("!H", body, off)[0]
                    off += 2
            off += n
            if off > len(body):
                raise ValueError("data record runs past its set")
        count += 1
    return count


def parse_message(msg, templates, seen_here):
    """Returns (sequence, data records, stale)."""
    version, length, _export_time, seq, domain = struct.unpack_from("!HHIII", msg, 0)
    if version != 10 or length != len(msg):
        raise ValueError(f"bad header: version {version} length {length}")
    off, count, stale = 16, 0, False
    while off < len(msg):
        if off + 4 > len(msg):
            raise ValueError("set header cut short")
        set_id, set_len = struct.unpack_from("!HH", msg, off)
        if set_len < 4 or off + set_len > len(msg):
            raise ValueError(f"set {set_id} length {set_len} out of bounds")
        body = msg[off + 4:off + set_len]
        if set_id == 2:
            parse_template_set(body, domain, templates, seen_here)
        elif set_id >= 256:
            lengths = templates.get(domain, set_id)
            if lengths is None:
                raise ValueError(f"data set {set_id} of domain {domain} without a template")
            if (domain, set_id) not in seen_here:
                stale = True
            count += count_data_records(body, lengths)
        off += set_len
    return seq, count, stale


TCP_CLOSE_WAIT, TCP_CLOSE = 8, 7


def peer_closed(conn):
    """The peer sent its FIN (or the connection is gone): no more bytes will come."""
    state = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
    return state in (TCP_CLOSE_WAIT, TCP_CLOSE)


def consume(conn, n):
    while n > 0:
        n -= len(conn.recv(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--templates", help="file keeping the templates across restarts")
    args = ap.parse_args()
    templates = Templates(args.templates)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Room for whole messages while they wait to be logged: a peeked byte is not consumed, so
    # neither the window nor autotuning grows for it (accepted sockets inherit this).
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    ls.bind(("127.0.0.1", args.port))
    ls.listen(4)
    out = open(args.out, "a", buffering=1)
    conn_no = 0
    while True:
        conn, _ = ls.accept()
        conn_no += 1
        seen_here = set()
        with conn:
            # A message leaves the socket only once its line is written: killed in between,
            # it is still in the kernel's queue, which makes the close a reset (see
            # tcp_transport.hpp). A collector that takes bytes into its own memory and dies
            # loses them, and no IPFIX-over-TCP exporter can tell.
            while True:
                try:
                    data = conn.recv(4 << 20, socket.MSG_PEEK)
                except OSError:
                    break  # reset
                if not data:
                    break  # EOF
                off = 0
                while len(data) - off >= 16:
                    length = struct.unpack_from("!H", data, off + 2)[0]
                    if length < 16:
                        print(f"collector: message length {length}", file=sys.stderr)
                        out.write(f"{struct.unpack_from('!I', data, off + 8)[0]} -1 0 {conn_no} 0\n")
                        off = -1
                        break
                    if len(data) - off < length:
                        break
                    msg = data[off:off + length]
                    try:
                        seq, count, stale = parse_message(msg, templates, seen_here)
                    except (ValueError, struct.error) as e:
                        print(f"collector: {e}", file=sys.stderr)
                        seq, count, stale = struct.unpack_from("!I", msg, 8)[0], -1, False
                    out.write(f"{seq} {count} {zlib.crc32(msg)} {conn_no} {int(stale)}\n")
                    off += length
                if off < 0:
                    break  # framing lost: drop the connection
                if off > 0:
                    consume(conn, off)
                    continue
                if peer_closed(conn):
                    break  # a message cut by the close: not a message
                time.sleep(0.001)  # only part of a message is here yet

if __name__ == "__main__":
    main()
