"""Wire-format builders: checksums, IPv4/IPv6/TCP/UDP/SCTP/ICMP/GRE headers and L2 framing.
All functions return bytes; addresses are packed (4 or 16 bytes)."""

import socket
import struct
import sys
from array import array

_LITTLE = sys.byteorder == "little"

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_ARP = 0x0806
ETH_VLAN = 0x8100
ETH_QINQ = 0x88A8
ETH_MPLS = 0x8847
ETH_PPPOE_DISC = 0x8863
ETH_PPPOE_SESS = 0x8864
ETH_LLDP = 0x88CC

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)
_FLAG_LETTERS = "CEUAPRSF"  # high bit first, as the SPEC orders them


def flag_letters(flags):
    return "".join(ch for i, ch in enumerate(_FLAG_LETTERS) if flags & (0x80 >> i))


def pack_addr(text):
    return socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)


def ones_sum(data):
    """16-bit ones' complement sum of big-endian words, folded (not inverted)."""
    if len(data) & 1:
        data = bytes(data) + b"\0"
    words = array("H", data)
    if _LITTLE:
        words.byteswap()
    s = sum(words)
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def pseudo_header(src, dst, proto, length):
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


def l4_checksum(src, dst, proto, segment):
    return ~ones_sum(pseudo_header(src, dst, proto, len(segment)) + segment) & 0xFFFF


# --- L3 -----------------------------------------------------------------------------------

def ipv4_header(src, dst, proto, payload_len, ident=0, ttl=64, df=True, mf=False, frag_off=0,
                options=b"", tos=0):
    assert len(options) % 4 == 0 and frag_off % 8 == 0
    ihl = 5 + len(options) // 4
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag_off >> 3)
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, ihl * 4 + payload_len, ident,
                                flags, ttl, proto, 0, src, dst) + options)
    struct.pack_into("!H", hdr, 10, ~ones_sum(hdr) & 0xFFFF)
    return bytes(hdr)


def ipv6_header(src, dst, next_header, payload_len, hop_limit=64, flow_label=0, tclass=0):
    return struct.pack("!IHBB16s16s", (6 << 28) | (tclass << 20) | flow_label, payload_len,
                       next_header, hop_limit, src, dst)


def ipv6_ext(kind, next_header, body=b""):
    """A generic extension header (hop-by-hop 0, routing 43, destination options 60): body is
    padded with PadN so the header is a multiple of 8 bytes."""
    if kind == 43:  # routing type 0 header with no segments left and no addresses
        body = bytes([0, 0]) + b"\0\0\0\0"
    total = 2 + len(body)
    pad = (-total) % 8
    if pad == 1:
        body += b"\0"  # Pad1
    elif pad:
        body += bytes([1, pad - 2]) + b"\0" * (pad - 2)
    total = 2 + len(body)
    return bytes([next_header, total // 8 - 1]) + body


def ipv6_frag_header(next_header, offset, more, ident):
    return struct.pack("!BBHI", next_header, 0, offset | (1 if more else 0), ident)


ROUTER_ALERT = b"\x94\x04\x00\x00"
IPV4_OPTIONS = (ROUTER_ALERT, b"\x01\x01\x01\x00",  # NOPs + end of list
                b"\x07\x07\x04" + b"\0" * 4 + b"\x00")  # record route (1 slot) + EOL


# --- L4 -----------------------------------------------------------------------------------

def tcp_segment(src, dst, sport, dport, seq, ack, flags, payload=b"", window=64240, options=b"",
                doff=None, urg=0):
    options += b"\0" * ((-len(options)) % 4)
    if doff is None:
        doff = 5 + len(options) // 4
    seg = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                                doff << 4, flags, window, 0, urg) + options + payload)
    struct.pack_into("!H", seg, 16, l4_checksum(src, dst, 6, seg))
    return bytes(seg)


SYN_OPTIONS = b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + b"\0" * 8 + b"\x01\x03\x03\x07"  # MSS SACK TS WS


def udp_datagram(src, dst, sport, dport, payload, length=None):
    seg = bytearray(struct.pack("!HHHH", sport, dport, 8 + len(payload) if length is None else length,
                                0) + payload)
    c = l4_checksum(src, dst, 17, seg)
    struct.pack_into("!H", seg, 6, c or 0xFFFF)
    return bytes(seg)


def icmp_message(src, dst, icmp_type, code, rest, payload, v6=False):
    msg = bytearray(struct.pack("!BBH", icmp_type, code, 0) + rest + payload)
    c = l4_checksum(src, dst, 58, msg) if v6 else ~ones_sum(msg) & 0xFFFF
    struct.pack_into("!H", msg, 2, c)
    return bytes(msg)


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def sctp_chunk(ctype, value, flags=0):
    chunk = struct.pack("!BBH", ctype, flags, 4 + len(value)) + value
    return chunk + b"\0" * ((-len(chunk)) % 4)


def sctp_packet(sport, dport, vtag, chunks):
    pkt = bytearray(struct.pack("!HHII", sport, dport, vtag, 0) + b"".join(chunks))
    struct.pack_into("<I", pkt, 8, crc32c(pkt))  # stored as Linux does (little-endian)
    return bytes(pkt)


def gre_packet(inner, proto=ETH_IPV4):
    return struct.pack("!HH", 0, proto) + inner


# --- L2 -----------------------------------------------------------------------------------

class Encap:
    """Link-layer encapsulation of a flow (Ethernet only): VLAN tags (tpid, vid) outermost first,
    an MPLS label stack, or a PPPoE session."""
    __slots__ = ("vlans", "mpls", "pppoe")

    def __init__(self, vlans=(), mpls=(), pppoe=None):
        self.vlans, self.mpls, self.pppoe = tuple(vlans), tuple(mpls), pppoe

    def vlan_ids(self):
        return tuple(vid for _, vid in self.vlans)


PLAIN = Encap()


def ethernet_frame(dst_mac, src_mac, encap, ethertype, body, pad=True):
    parts = [dst_mac, src_mac]
    for tpid, vid in encap.vlans:
        parts.append(struct.pack("!HH", tpid, vid & 0xFFF))
    if encap.mpls:
        parts.append(struct.pack("!H", ETH_MPLS))
        for i, label in enumerate(encap.mpls):
            bos = 1 if i == len(encap.mpls) - 1 else 0
            parts.append(struct.pack("!I", (label << 12) | (bos << 8) | 64))
    elif encap.pppoe is not None and ethertype in (ETH_IPV4, ETH_IPV6):
        ppp = 0x0021 if ethertype == ETH_IPV4 else 0x0057
        parts.append(struct.pack("!HBBHHH", ETH_PPPOE_SESS, 0x11, 0, encap.pppoe, len(body) + 2, ppp))
    else:
        parts.append(struct.pack("!H", ethertype))
    parts.append(body)
    frame = b"".join(parts)
    if pad and len(frame) < 60:
        frame += b"\0" * (60 - len(frame))
    return frame


def sll_header(src_mac, ethertype, outgoing=False):
    return struct.pack("!HHH8sH", 4 if outgoing else 0, 1, 6, src_mac, ethertype)


def mac_for(text):
    """A stable locally administered unicast MAC for an address string."""
    h = 0
    for ch in text.encode():
        h = (h * 131 + ch) & 0xFFFFFFFFFF
    return b"\x02" + h.to_bytes(5, "big")
