"""Capture writers (classic pcap and pcapng, microsecond timestamps) and link framing."""

import struct

from .model import NON_IP
from .wire import ETH_IPV4, ETH_IPV6, ethernet_frame, sll_header

LINKTYPES = {"ethernet": 1, "raw": 101, "sll": 113}
SNAPLEN = 262144
_CHUNK = 1 << 22  # flush to the file every 4 MiB


def frame_for(pkt, link):
    """Returns (captured bytes, wire length) of a packet on the given link type."""
    l3 = pkt.l3
    if link == "ethernet":
        full = ethernet_frame(pkt.dst_mac, pkt.src_mac, pkt.encap, pkt.ethertype, l3, pkt.pad)
        cut = len(full) - len(l3) + pkt.snap if pkt.snap is not None else len(full)
    else:
        if link == "sll":
            hdr = sll_header(pkt.src_mac, pkt.ethertype)
        else:
            assert pkt.kind != NON_IP and pkt.ethertype in (ETH_IPV4, ETH_IPV6), "raw link: IP only"
            hdr = b""
        assert not pkt.encap.vlans and not pkt.encap.mpls and pkt.encap.pppoe is None, \
            "encapsulation needs the ethernet link"
        full = hdr + l3
        cut = len(hdr) + pkt.snap if pkt.snap is not None else len(full)
    return full[:cut], len(full)


class Writer:
    """Buffered writer; records are (ts_us, captured bytes, wire length)."""

    def __init__(self, path, link="ethernet", fmt="pcap"):
        self.f = open(path, "wb")
        self.fmt = fmt
        self.buf = bytearray()
        lt = LINKTYPES[link]
        if fmt == "pcap":
            self.buf += struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, lt)
        elif fmt == "pcapng":
            shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
            self._block(0x0A0D0D0A, shb_body)
            # if_tsresol defaults to microseconds; say so anyway for readers that ask.
            opts = struct.pack("<HHB3x", 9, 1, 6) + struct.pack("<HH", 0, 0)
            self._block(1, struct.pack("<HHI", lt, 0, SNAPLEN) + opts)
        else:
            raise ValueError(f"unknown format {fmt}")

    def _block(self, btype, body):
        body += b"\0" * ((-len(body)) % 4)
        n = 12 + len(body)
        self.buf += struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    def write(self, ts_us, data, wire_len):
        sec, usec = divmod(ts_us, 1000000)
        if self.fmt == "pcap":
            self.buf += struct.pack("<IIII", sec, usec, len(data), wire_len)
            self.buf += data
        else:
            body = struct.pack("<IIIII", 0, ts_us >> 32, ts_us & 0xFFFFFFFF, len(data), wire_len)
            self._block(6, body + data)
        if len(self.buf) >= _CHUNK:
            self.f.write(self.buf)
            self.buf = bytearray()

    def close(self):
        self.f.write(self.buf)
        self.f.close()


def write_packets(path, packets, link="ethernet", fmt="pcap"):
    w = Writer(path, link, fmt)
    for p in packets:
        data, wire = frame_for(p, link)
        w.write(p.ts, data, wire)
    w.close()
