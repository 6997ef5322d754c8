#!/usr/bin/env python3
"""End of file after an idle timeout elapsed (SPEC: "End of file: every flow
still open ends ... eof — after flows whose idle/closed timeout elapsed by the
capture's last timestamp have ended as idle/tcp_close"; expiry is "strictly
older"). Default timeouts: udp_idle_ms 60000, tick_ms 100.

    eof_idle_test.py SHARDFLOW_EXE"""

import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfcommon  # noqa: E402
from eal_prefix import EalPrefix  # noqa: E402

SEC = 10**9
MS = 10**6
T = 1700000000 * SEC


def udp_frame(src_last, sport):
    payload = b"shardflow"
    udp = struct.pack("!HHHH", sport, 53, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, src_last]), bytes([10, 0, 1, 1]))
    return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00" + ip + udp


def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))  # nanosecond pcap
        for ts, frame in packets:
            f.write(struct.pack("<IIII", ts // SEC, ts % SEC, len(frame), len(frame)))
            f.write(frame)


# (name, flow's only packet time, expected end_reason); the capture ends at END.
END = T + 60 * SEC + 250 * MS
CASES = [
    ("a", T, "idle"),                     # 60.25 s old at the end
    ("b", T + 220 * MS, "idle"),          # 60.03 s old: past the timeout, in the deadline's tick
    ("c", T + 250 * MS, "eof"),           # exactly 60 s old: not strictly older
    ("d", END, "eof"),                    # the last packet
]


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="sf-eofidle-") as tmp:
        cap = os.path.join(tmp, "eof_idle.pcap")
        write_pcap(cap, [(ts, udp_frame(i + 1, 1000 + i)) for i, (_, ts, _) in enumerate(CASES)])
        with EalPrefix("eofidle") as eal:
            records, stats, _ = sfcommon.run_shardflow(exe, cap, workers=1, extra_args=eal.args())
    errors = sfcommon.conservation_errors(records, stats)
    by_port = {r["src_port"]: r for r in records}
    for i, (name, ts, want) in enumerate(CASES):
        r = by_port.get(1000 + i)
        if r is None:
            errors.append(f"flow {name}: no record")
        elif r["end_reason"] != want:
            errors.append(f"flow {name}: last packet {(END - ts) / SEC:.3f} s before the end of the capture "
                          f"(udp_idle 60 s): end_reason {r['end_reason']}, want {want}")
    if errors:
        sfcommon.fail("\n  ".join(errors))
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
