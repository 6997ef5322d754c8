#!/usr/bin/env python3
"""Side-by-side capture-file comparison (issue 3): shardflow vs softflowd, nfpcapd, tshark and a
bare libpcap read (the I/O floor) on one large capture, run round-robin in one session.

    python3 tools/bench/compare_capture.py --capture /tmp/shardflow-compare/big.pcap \
        --rounds 3 --out /tmp/shardflow-compare/result.json

Exit 0 whatever the figures say (a benchmark, not a test); 1 when a tool failed or did not
process the whole file."""

import argparse
import datetime
import json
import os
import platform
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ALL_TOOLS = ["floor", "shardflow-json", "shardflow", "softflowd", "nfpcapd", "tshark"]
PEERS = ["softflowd", "nfpcapd", "tshark"]


class UdpSink:
    """A throwaway collector for softflowd: a port nobody listens on would answer with ICMP
    unreachable, turning exports into send errors that change what softflowd does."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)  # fewer drops
        self.sock.bind(("127.0.0.1", 0))
        self.port, self.datagrams, self.stop = self.sock.getsockname()[1], 0, False
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        while not self.stop:
            if select.select([self.sock], [], [], 0.1)[0]:
                self.sock.recv(65535)
                self.datagrams += 1

    def close(self):
        time.sleep(0.2)  # the last datagrams are in flight when softflowd exits
        self.stop = True
        self.thread.join()
        self.sock.close()
        return self.datagrams


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_child(argv, stdout, rss_file, timeout):
    """Wall time, CPU time and peak RSS of one child, and its exit code. CPU comes from wait4 on
    the child (not RUSAGE_CHILDREN deltas, whose maxrss is a max over all children so far). The
    RSS does not: a child forked from this Python starts its high-water mark at our own RSS and
    keeps it across exec, so it is taken from GNU time, a small parent that forks the tool."""
    if os.path.exists(rss_file):
        os.unlink(rss_file)
    full = [GNU_TIME, "-f", "%M", "-o", rss_file] + argv if GNU_TIME else argv
    with open(stdout, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        killer = threading.Timer(timeout, os.killpg, (proc.pid, 9))
        killer.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss_kb, rss_from = ru.ru_maxrss, "wait4 (floored at this driver's RSS)"
    try:
        rss_kb, rss_from = int(open(rss_file).read().split()[-1]), "GNU time"
    except (OSError, ValueError, IndexError):  # no GNU time, or the tool was killed
        pass
    return {"wall_s": wall, "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
            "cpu_s": ru.ru_utime + ru.ru_stime, "maxrss_mb": rss_kb / 1024, "maxrss_from": rss_from,
            "rc": proc.returncode}


def grab(pattern, text):
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def run_tool(tool, args, info, work):
    """One timed run; returns the measurements plus 'checks' (what proves the whole file was
    read) and 'ok'."""
    cap, log = args.capture, os.path.join(work, f"{tool}.log")
    checks, extra = {}, {}
    if tool == "floor":
        argv = [args.floor, cap]
    elif tool.startswith("shardflow"):
        stats = os.path.join(work, "stats.json")
        argv = [args.shardflow, "-r", cap, "-w", str(args.workers), "--stats", stats]
        argv += ["-c", args.shardflow_config] if args.shardflow_config else []
        if tool == "shardflow-json":
            argv += ["--json", os.path.join(work, "flows.json")]
    elif tool == "softflowd":
        sink = UdpSink()
        # -v 9 so IPv6 flows are tracked too (v5 is IPv4 only); -m above the flow count so the
        # table never force-expires (in -r mode softflowd expires only when full). No -c: after
        # -r it re-enables the control socket, and softflowd 1.1.0 then blocks in accept().
        argv = ["softflowd", "-r", cap, "-n", f"127.0.0.1:{sink.port}", "-v", "9",
                "-m", str(max(8192, 2 * (info.get("flows") or 2000000)))]
    elif tool == "nfpcapd":
        outdir = tempfile.mkdtemp(dir=work)
        argv = ["nfpcapd", "-r", cap, "-w", outdir]
    else:
        argv = ["tshark", "-q", "-n", "-r", cap, "-z", "conv,tcp", "-z", "conv,udp"]
        log = os.devnull
    res = run_child(argv, log, os.path.join(work, "rss"), args.timeout)
    res["load1"] = os.getloadavg()[0]
    text = "" if log == os.devnull else open(log, errors="replace").read()
    pk = info.get("packets")

    if tool == "floor":
        try:
            extra = json.loads(text.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pass
        checks["packets"] = extra.get("packets")
        ok = checks["packets"] == pk
    elif tool.startswith("shardflow"):
        try:
            st = json.load(open(stats))
        except (OSError, ValueError):
            st = {}
        checks = {"packets_in": st.get("packets_in"),
                  "in_flows": st.get("dispositions", {}).get("flows"),
                  "flows_created": st.get("flows_created"),
                  "evicted": st.get("records", {}).get("evicted"),
                  "records_total": st.get("records_total"),
                  "records_written": st.get("export", {}).get("json", {}).get("records_written")}
        res["engine_wall_s"] = st.get("wall_seconds")  # the rest of wall_s is EAL start and exit
        ok = checks["packets_in"] == pk and checks["in_flows"] == pk
        ok = ok and checks["flows_created"] == info.get("flows", checks["flows_created"])
        if tool == "shardflow-json":
            ok = ok and checks["records_written"] == checks["records_total"]
    elif tool == "softflowd":
        res["datagrams_received"] = sink.close()
        done = grab(r"Packets processed: (\d+)", text)
        ignored = grab(r"Ignored packets: (\d+)", text)
        checks = {"packets": None if done is None else done + (ignored or 0),
                  "flows_exported": grab(r"Flows exported: (\d+)", text),
                  "export_failures": grab(r"packets \((\d+) failures\)", text)}
        ok = checks["packets"] == pk and checks["export_failures"] == 0
    elif tool == "nfpcapd":
        checks = {"processed": grab(r"Total: Processed: (\d+)", text),
                  "packets_in_flows": grab(r"Flows: \d+, Packets: (\d+)", text),
                  "flows": grab(r"Flows: (\d+),", text),
                  "output_bytes": sum(os.path.getsize(os.path.join(d, f))
                                      for d, _, fs in os.walk(outdir) for f in fs)}
        shutil.rmtree(outdir)
        ok = checks["processed"] == pk and checks["packets_in_flows"] == pk
    else:
        ok = True  # tshark: its exit code is all there is (output goes to /dev/null)
    ok = ok and res["rc"] == 0
    if not ok and log != os.devnull:
        res["log_tail"] = text[-2000:]
    res.update(tool=tool, argv=argv, checks=checks, ok=ok, **({"floor": extra} if extra else {}))
    return res


def sh(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.SubprocessError) as e:
        return f"unavailable: {e}"


def loadavg():
    return open("/proc/loadavg").read().strip()


def machine_info():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), "unknown")
    mem = next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return {"nproc": len(os.sched_getaffinity(0)), "cpu_count": os.cpu_count(), "cpu_model": model,
            "mem_total_gb": round(int(mem) / 2**20, 1), "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "git_head": sh(["git", "-C", ROOT, "rev-parse", "HEAD"]),
            "git_dirty": bool(sh(["git", "-C", ROOT, "status", "--porcelain", "-uno"]))}


def versions(args):
    soft = re.search(r"version (\S+?)\.? ", sh(["softflowd", "-h"]))
    return {"shardflow": sh([args.shardflow, "--version"]).splitlines()[0],
            "softflowd": soft.group(1) if soft else "unknown",
            "nfpcapd": sh(["nfpcapd", "-V"]), "tshark": sh(["tshark", "-v"]).splitlines()[0]}


def capture_info(args):
    """Packet and flow counts from the generator's truth file, parsed in a child so that the
    large JSON's memory is given back before the measurements."""
    truth = args.capture + ".truth.json"
    if not os.path.exists(truth):
        return {}
    code = ("import json,sys; t=json.load(open(sys.argv[1])); "
            "print(json.dumps({'packets': t['packets'], 'flows': len(t['records'])}))")
    out = subprocess.run([sys.executable, "-c", code, truth], capture_output=True, text=True,
                         check=True).stdout
    return dict(json.loads(out), truth=truth)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--capture", default="/tmp/shardflow-compare/big.pcap",
                    help="capture to read; generated with sfgen 'big' when absent")
    ap.add_argument("--packets", type=int, default=4000000, help="when generating")
    ap.add_argument("--flows", type=int, default=400000, help="when generating")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=None, help="JSON result (default: CAPTURE.compare.json)")
    ap.add_argument("--shardflow", default=os.path.join(ROOT, "build/app/shardflow/shardflow"))
    ap.add_argument("--floor", default=os.path.join(ROOT, "build/tools/bench/pcap_read_floor"))
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--shardflow-config", default=None, help="YAML passed to shardflow as -c")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS), help=f"subset of {','.join(ALL_TOOLS)}")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    args = ap.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    if unknown := set(tools) - set(ALL_TOOLS):
        ap.error(f"unknown tools: {','.join(sorted(unknown))}")
    args.out = args.out or args.capture + ".compare.json"

    if not os.path.exists(args.capture):
        os.makedirs(os.path.dirname(os.path.abspath(args.capture)), exist_ok=True)
        print(f"generating {args.capture} ({args.packets} packets, {args.flows} flows)", flush=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "tools/sfgen.py"), "big",
                        "-o", args.capture, "--truth", args.capture + ".truth.json",
                        "--packets", str(args.packets), "--flows", str(args.flows)], check=True)
    info = capture_info(args)
    info.update(path=args.capture, size_bytes=os.path.getsize(args.capture))
    work = tempfile.mkdtemp(prefix="compare_capture.")
    # An untimed read first: every timed run then starts from the page cache, not the disk.
    warm = run_tool("floor", args, {}, work)
    info.setdefault("packets", warm["checks"]["packets"])
    result = {"capture": info, "machine": machine_info(), "versions": versions(args),
              "workers": args.workers, "shardflow_config": args.shardflow_config,
              "rounds": args.rounds, "loadavg_before": loadavg(), "runs": []}
    print(f"capture: {info['packets']} packets, {info.get('flows', '?')} flows, "
          f"{info['size_bytes'] / 1e6:.0f} MB; load {result['loadavg_before']}", flush=True)

    for r in range(args.rounds):
        # Rotate the starting tool so that none always follows the same neighbour (tshark
        # leaves gigabytes of freed memory and cold caches behind it).
        order = tools[r % len(tools):] + tools[:r % len(tools)]
        for tool in order:
            res = run_tool(tool, args, info, work)
            res["round"] = r
            result["runs"].append(res)
            print(f"round {r} {tool:15s} {res['wall_s']:8.3f} s  cpu {res['cpu_s']:7.2f} s  "
                  f"rss {res['maxrss_mb']:7.0f} MB  {'ok' if res['ok'] else 'FAILED'}", flush=True)
    result["loadavg_after"] = loadavg()
    shutil.rmtree(work)

    result["summary"], result["targets"] = summarize(result["runs"], tools)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print_report(result, args.out)
    failed = sorted({x["tool"] for x in result["runs"] if not x["ok"]})
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def summarize(runs, tools):
    """Medians per tool, ratios to the floor and to shardflow (the --json run: the one that
    does what the peers do, export every flow) and the two targets of issue 3."""
    summary = {}
    for tool in tools:
        mine = [x for x in runs if x["tool"] == tool]
        walls = [x["wall_s"] for x in mine]
        summary[tool] = {"median_wall_s": statistics.median(walls), "min_wall_s": min(walls),
                         "max_wall_s": max(walls),
                         "median_cpu_s": statistics.median(x["cpu_s"] for x in mine),
                         "peak_rss_mb": max(x["maxrss_mb"] for x in mine),
                         "all_ok": all(x["ok"] for x in mine)}
    floor = summary.get("floor", {}).get("median_wall_s")
    sf = summary.get("shardflow-json", {}).get("median_wall_s")
    for s in summary.values():
        s["ratio_to_floor"] = s["median_wall_s"] / floor if floor else None
        s["ratio_to_shardflow"] = s["median_wall_s"] / sf if sf else None
    targets = {}
    if sf and floor:
        targets["shardflow_over_floor"] = {"value": sf / floor, "target": "<= 1.3",
                                           "pass": sf / floor <= 1.3}
    peers = [t for t in PEERS if t in summary]
    if sf and peers:
        fastest = min(peers, key=lambda t: summary[t]["median_wall_s"])
        value = summary[fastest]["median_wall_s"] / sf
        targets["fastest_peer_over_shardflow"] = {"value": value, "peer": fastest,
                                                  "target": ">= 2", "pass": value >= 2}
    return summary, targets


def print_report(result, out):
    fmt = "{:15s} {:>9s} {:>9s} {:>9s} {:>8s} {:>8s} {:>8s} {:>8s}"
    print("\n" + fmt.format("tool", "median s", "min s", "max s", "CPU s", "RSS MB", "x floor",
                            "x sf"))
    opt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    for tool, s in result["summary"].items():
        print(fmt.format(tool + ("" if s["all_ok"] else " !"), f"{s['median_wall_s']:.3f}",
                         f"{s['min_wall_s']:.3f}", f"{s['max_wall_s']:.3f}",
                         f"{s['median_cpu_s']:.2f}", f"{s['peak_rss_mb']:.0f}",
                         opt(s["ratio_to_floor"]), opt(s["ratio_to_shardflow"])))
    print(f"\nload before {result['loadavg_before']}, after {result['loadavg_after']}")
    for name, t in result["targets"].items():
        peer = f" ({t['peer']})" if "peer" in t else ""
        print(f"{'PASS' if t['pass'] else 'MISS'} {name}{peer} = {t['value']:.2f} "
              f"(target {t['target']})")
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
