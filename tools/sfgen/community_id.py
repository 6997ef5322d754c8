"""Community ID v1 (github.com/corelight/community-id-spec) of one packet, written from the
spec's pseudo-code and pycommunityid's ICMP tables, for the ground truth. Standard library only.

community_id(proto, src, dst, sport, dport, seed=0): addresses as text (IPv4 or IPv6); for
ICMP/ICMPv6 sport is the type and dport the code; other protocols than TCP/UDP/SCTP/ICMP/ICMPv6
hash without ports (sport/dport ignored)."""

import base64
import hashlib
import ipaddress
import struct

PORT_PROTOS = (6, 17, 132)
# Request/reply types: each maps to its counterpart (pycommunityid icmp.py / icmp6.py).
_ICMP4 = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17}
_ICMP6 = {128: 129, 129: 128, 130: 131, 131: 130, 133: 134, 134: 133, 135: 136, 136: 135,
          139: 140, 140: 139, 144: 145, 145: 144}


def community_id(proto, src, dst, sport=None, dport=None, seed=0):
    saddr = ipaddress.ip_address(src).packed
    daddr = ipaddress.ip_address(dst).packed
    one_way = False
    if proto in (1, 58):
        table = _ICMP4 if proto == 1 else _ICMP6
        if sport in table:
            dport = table[sport]
        else:
            one_way = True
    elif proto not in PORT_PROTOS:
        sport = dport = None
    ports = sport is not None
    if not (one_way or saddr < daddr or (saddr == daddr and ports and sport < dport)):
        saddr, daddr, sport, dport = daddr, saddr, dport, sport
    data = struct.pack("!H", seed) + saddr + daddr + struct.pack("!BB", proto, 0)
    if ports:
        data += struct.pack("!HH", sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode("ascii")
