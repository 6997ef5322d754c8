#!/usr/bin/env python3
"""The shardflow binary's exit codes and messages for the paths that stop
before (or right after) EAL start-up: 0 ok, 64 usage, 66 input unreadable,
78 config error with `key.path (line N): reason` on stderr.

    cli_test.py SHARDFLOW_EXE SHIPPED_CONF"""

import os
import re
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eal_prefix import EalPrefix  # noqa: E402

FAILURES = []


def run(exe, *args, timeout=120):
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=timeout)


def check(name, cond, proc=None, detail=""):
    if cond:
        print(f"ok   {name}")
        return
    msg = f"FAIL {name} {detail}"
    if proc is not None:
        msg += f"\n  exit {proc.returncode}\n  stdout: {proc.stdout!r}\n  stderr: {proc.stderr!r}"
    print(msg)
    FAILURES.append(name)


def main():
    exe, shipped_conf = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="sf-cli-") as tmp:
        def conf(name, text):
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write(text)
            return path

        # ---- config errors: 78 and `key.path (line N): reason` ----
        bad_value = conf("bad_value.yaml", "flow_table:\n  on_full: evict\ntimeouts:\n  udp_idle_ms: -5\n")
        p = run(exe, "-c", bad_value, "-r", os.path.join(tmp, "absent.pcap"))
        check("bad value exits 78", p.returncode == 78, p)
        check("bad value names key and line",
              re.search(r"^timeouts\.udp_idle_ms \(line 4\): \S", p.stderr, re.M) is not None, p)

        unknown = conf("unknown.yaml", "timeouts:\n  udp_idel_ms: 5\n")
        p = run(exe, "-c", unknown, "--check-config")
        check("unknown key exits 78 even with --check-config", p.returncode == 78, p)
        check("unknown key names key and line",
              re.search(r"^timeouts\.udp_idel_ms \(line 2\): .*unknown", p.stderr, re.M) is not None, p)

        wrong_type = conf("wrong_type.yaml", "lcores:\n  workers: 2\n  idle_yield: maybe\n")
        p = run(exe, "-c", wrong_type, "--check-config")
        check("wrong type exits 78", p.returncode == 78, p)
        check("wrong type names key and line",
              re.search(r"^lcores\.idle_yield \(line 3\): \S", p.stderr, re.M) is not None, p)

        syntax = conf("syntax.yaml", "timeouts:\n  tcp_idle_ms: [1, 2\n")
        p = run(exe, "-c", syntax, "--check-config")
        check("YAML syntax error exits 78", p.returncode == 78, p)
        check("YAML syntax error gives a line", re.search(r"\(line \d+\): \S", p.stderr) is not None, p)

        # ---- --check-config, --version, --help ----
        p = run(exe, "-c", shipped_conf, "--check-config")
        check("shipped config checks OK", p.returncode == 0 and "configuration OK" in p.stdout, p)
        good = conf("good.yaml", "timeouts:\n  udp_idle_ms: 1000\nflow_table:\n  on_full: drop\n")
        p = run(exe, "-c", good, "--check-config")
        check("small valid config checks OK", p.returncode == 0 and "configuration OK" in p.stdout, p)
        p = run(exe, "--check-config")
        check("defaults check OK", p.returncode == 0, p)
        p = run(exe, "--version")
        check("--version", p.returncode == 0 and re.fullmatch(r"shardflow \d+\.\d+\.\d+\S*\n", p.stdout) is not None, p)
        p = run(exe, "--help")
        check("--help", p.returncode == 0 and "usage: shardflow" in p.stdout, p)

        # ---- usage errors: 64 ----
        for args, what in ((["--bogus"], "unknown option"), (["-w", "0", "-r", "x"], "zero workers"),
                           (["-w", "abc"], "non-numeric workers"), (["-w", "129"], "too many workers"),
                           (["-r"], "missing value"), (["stray"], "stray argument"), ([], "no input")):
            p = run(exe, *args)
            check(f"{what} exits 64", p.returncode == 64, p)
            check(f"{what} prints usage", "usage: shardflow" in p.stderr, p)

        # ---- input unreadable: 66 ----
        p = run(exe, "-r", os.path.join(tmp, "absent.pcap"))
        check("missing capture exits 66", p.returncode == 66, p)
        check("missing capture is named", "absent.pcap" in p.stderr, p)
        garbage = conf("garbage.pcap", "this is not a capture file\n" * 10)
        with EalPrefix("cli") as eal:
            p = run(exe, "-r", garbage, "-w", "1", *eal.args())
        check("non-pcap capture exits 66", p.returncode == 66, p)

        # ---- a JSON reader that goes away: counted write error, exit 74, no SIGPIPE death ----
        one_udp = os.path.join(tmp, "one_udp.pcap")
        with open(one_udp, "wb") as f:
            udp = struct.pack("!HHHH", 1234, 53, 8, 0)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                             bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
            frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + udp
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            f.write(struct.pack("<IIII", 1700000000, 0, len(frame), len(frame)) + frame)
        with EalPrefix("cli") as eal:
            proc = subprocess.Popen([exe, "-r", one_udp, "-w", "1", "--json", "-", *eal.args()],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            proc.stdout.close()  # the reader is gone before the first record
            err = proc.stderr.read()
            rc = proc.wait(timeout=120)
        p = subprocess.CompletedProcess(proc.args, rc, "", err)
        check("closed JSON reader exits 74 (not killed by SIGPIPE)", rc == 74, p)
        check("closed JSON reader is reported", "JSON export" in err and "Broken pipe" in err, p)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed: {', '.join(FAILURES)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
