#!/usr/bin/env python3
"""Stream dump interop: `shardflow --dump-streams DIR` against tcpflow on real
captures from ../shared/pcaps.

  test_stream_dump.py --shardflow PATH [--pcaps DIR] [--all] [--only SUBSTR]
                      [--strict] [--keep DIR] [--jobs N]

For each capture (a dozen with TCP by default, --all for every one), runs
`tcpflow -r CAPTURE -o T1` and `shardflow -r CAPTURE --dump-streams T2`, pairs
the files per direction (src = sender of the bytes) and compares them byte
for byte.

tcpflow's names differ from ours and are mapped: it zero-pads IPv4 octets and
ports (192.168.001.002.00080-...), writes IPv6 like inet_ntop (as we do),
appends --{vlan} for a VLAN tag (we do too; it does not key flows on VLAN, so
tuples are paired without it), and calls later files of the same direction
`...c1`, `...c2`: it starts a new file whenever its flow object is replaced
(after a FIN with all bytes seen, after a RST, or on a sequence jump larger
than its max_seek) and picks the first unused name. Ours mark a later TCP
connection on the tuple with -g{generation} and a reappearance after a
timeout with -n{K}. Files are therefore paired by content first (any of the
direction's files on either side), and what is left is explained.

Both write byte k of a file at stream offset k and leave skipped ranges as
holes (zeros), so streams without gaps must be equal. Verdicts per stream:
  equal            identical bytes
  gap              shardflow's reassembly skipped bytes (index: gaps > 0)
  tcpflow-split    tcpflow's files for the direction are pieces of ours
  shardflow-split  ours are pieces of tcpflow's file
  tcpflow-violation  tcpflow counted protocol violations for its file (it
                   drops bytes before the ISN once it saw a SYN)
  overlap-diff     the capture retransmits bytes with different content
                   (MANIFEST tag overlap_diff): tcpflow keeps the last copy
  fragments        the tuple carries IP fragments (tcpflow drops non-first ones)
  vlan-merged      the tuple exists on several VLANs: tcpflow merges them
  prefix           one file is a prefix of the other (one side kept bytes
                   after the other ended the stream)
  tshark-agrees    ours disagrees with tcpflow but equals tshark's follow,tcp,raw
                   of the tuple (tcpflow writes short frames' Ethernet padding as data)
  only-shardflow / only-tcpflow / unpaired   no counterpart
  differs          gap-free on our side, paired 1:1, conflicting bytes: FAIL
Also FAIL: dump_lost_bytes or write_errors in our index (capture files wait
for the writer, so nothing may be lost), index and files out of step, or no
stream equal at all. --strict also fails on prefix/only-*/unpaired.

Skips (exit 77) while `shardflow --help` does not list --dump-streams, when
../shared/pcaps is absent, or without tcpflow. Exit 0 pass, 1 fail.
"""

import argparse
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tools"))

import sfcommon  # noqa: E402
import tshark_flows as tf  # noqa: E402

WORKERS = 2
INDEX = "streams.jsonl"
SHOW_ITEMS = 12  # non-equal verdicts printed per capture

# TCP captures picked for variety: IPv6 (compressed names), a dropped
# response (a gap), retransmissions, RSTs and tuple reuse (tcpflow's cN
# files), VLAN + MPLS, Linux SLL, overlapping segments, many short flows.
DEFAULT_CAPTURES = (
    "ndpi__http_ipv6.pcap",
    "zeek__1000-requests-one-dropped-response.pcap",
    "ndpi__ftp.pcap",
    "ndpi__ssh.pcap",
    "zeek__ssh-dups.pcap",
    "ndpi__fix2.pcap",
    "ndpi__whatsappfiles.pcap",
    "zeek__mixed-vlan-mpls.pcap",
    "ndpi__rtsp.pcap",
    "zeek__tls-fragmented-handshake.pcap",
    "zeek__bro.org.pcap",
    "ndpi__tor.pcap",
    "ndpi__ethereum.pcap",
    "zeek__reassembly.pcap",
)
CAPTURE_EXTS = (".pcap", ".pcapng", ".cap")

TCPFLOW_NAME = re.compile(r"^(?P<src>[0-9a-f:.]+)\.(?P<sport>\d{5})-(?P<dst>[0-9a-f:.]+)\.(?P<dport>\d{5})"
                          r"(?:--(?P<vlan>\d+))?(?:c(?P<conn>\d+))?$")
OUR_NAME = re.compile(r"^(?P<src>[0-9a-f:.]+)\.(?P<sport>\d+)-(?P<dst>[0-9a-f:.]+)\.(?P<dport>\d+)"
                      r"(?:--(?P<vlan>\d+(?:\.\d+)?))?(?:-g(?P<gen>\d+))?(?:-n(?P<rep>\d+))?$")

FAILING = {"differs", "lost", "inconsistent"}
STRICT_FAILING = FAILING | {"prefix", "only-shardflow", "only-tcpflow", "unpaired"}


def norm_ip(text):
    """One spelling per address: no zero padding (tcpflow's 010.000.000.001), compressed IPv6."""
    if ":" in text:
        return ipaddress.IPv6Address(text).compressed
    return ".".join(str(int(part)) for part in text.split("."))


@dataclass
class Stream:
    side: str            # "tcpflow" or "shardflow"
    name: str
    path: str
    key: tuple           # (src_ip, src_port, dst_ip, dst_port), sender first
    vlan: str = ""
    order: tuple = ()    # tcpflow: (conn,); shardflow: (flow_id, generation)
    info: dict = field(default_factory=dict)  # report.xml attributes / our index entry
    _data: bytes = None

    def data(self):
        if self._data is None:
            with open(self.path, "rb") as f:
                self._data = f.read()
        return self._data

    def label(self):
        return f"{self.side}:{self.name}"


def key_text(key):
    return f"{key[0]}:{key[1]} -> {key[2]}:{key[3]}"


def list_captures(folder, names, every, only):
    if not os.path.isdir(folder):
        return []
    if every:
        found = sorted(n for n in os.listdir(folder)
                       if n.endswith(CAPTURE_EXTS) and os.path.isfile(os.path.join(folder, n)))
    else:
        found = [n for n in names if os.path.isfile(os.path.join(folder, n))]
    return [os.path.join(folder, n) for n in found if only in n]


def manifest_tags(folder):
    """file name -> description, from the captures' MANIFEST.tsv (absent: empty)."""
    out = {}
    path = os.path.join(folder, "MANIFEST.tsv")
    if not os.path.isfile(path):
        return out
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        try:
            name_col, desc_col = header.index("file"), header.index("description")
        except ValueError:
            return out
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > max(name_col, desc_col):
                out[cols[name_col]] = cols[desc_col]
    return out


def help_lists_dump_streams(exe):
    try:
        proc = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    except OSError as e:
        return False, f"cannot run {exe}: {e}"
    return "--dump-streams" in proc.stdout + proc.stderr, ""


def read_tcpflow(folder):
    """tcpflow's files and their report.xml attributes."""
    attrs = {}
    report = os.path.join(folder, "report.xml")
    if os.path.isfile(report):
        for fo in ET.parse(report).getroot().iter("fileobject"):
            fname = fo.findtext("filename")
            flow = fo.find("tcpflow")
            if fname and flow is not None:
                attrs[os.path.basename(fname)] = dict(flow.attrib)
    streams = []
    for name in sorted(os.listdir(folder)):
        m = TCPFLOW_NAME.match(name)
        if not m:
            continue
        key = (norm_ip(m["src"]), int(m["sport"]), norm_ip(m["dst"]), int(m["dport"]))
        streams.append(Stream("tcpflow", name, os.path.join(folder, name), key, m["vlan"] or "",
                              (int(m["conn"] or 0),), attrs.get(name, {})))
    return streams


def read_shardflow(folder):
    """Our files and index entries. Returns (streams, problems)."""
    problems = []
    index = {}
    index_path = os.path.join(folder, INDEX)
    if os.path.isfile(index_path):
        with open(index_path) as f:
            for n, line in enumerate(f, 1):
                try:
                    entry = json.loads(line)
                    index[entry["file"]] = entry
                except (ValueError, KeyError) as e:
                    problems.append(f"{INDEX} line {n}: {e}")
    else:
        problems.append(f"no {INDEX} in the dump directory")
    streams = []
    on_disk = set()
    for name in sorted(os.listdir(folder)):
        if name == INDEX:
            continue
        on_disk.add(name)
        m = OUR_NAME.match(name)
        if not m:
            problems.append(f"unexpected file name {name!r}")
            continue
        path = os.path.join(folder, name)
        entry = index.get(name)
        if entry is None:
            problems.append(f"{name}: on disk but not in {INDEX}")
            entry = {}
        elif entry.get("write_errors", 0) == 0 and entry.get("size") != os.path.getsize(path):
            problems.append(f"{name}: index size {entry.get('size')} but {os.path.getsize(path)} bytes on disk")
        key = (norm_ip(m["src"]), int(m["sport"]), norm_ip(m["dst"]), int(m["dport"]))
        order = (entry.get("flow_id", 0), int(m["gen"] or 1), int(m["rep"] or 1))
        streams.append(Stream("shardflow", name, path, key, m["vlan"] or "", order, entry))
    for name in sorted(set(index) - on_disk):
        problems.append(f"{name}: in {INDEX} but not on disk")
    return streams, problems


def fragment_keys(capture):
    """Directional TCP tuples that carry IP fragments, per tshark (empty without tshark)."""
    if shutil.which("tshark") is None:
        return set()
    out = set()
    for key, count in tf.count_capture(capture).tuples.items():
        if key[0] != tf.TCP or not count.fragment:
            continue
        (a_ip, a_port), (b_ip, b_port) = key[1], key[2]
        out.add((norm_ip(a_ip), a_port, norm_ip(b_ip), b_port))
        out.add((norm_ip(b_ip), b_port, norm_ip(a_ip), a_port))
    return out


def first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def pieces_of(whole, parts):
    """True when every part occurs in `whole`, in order and without overlapping."""
    pos = 0
    for p in parts:
        if not p:
            continue
        at = whole.find(p, pos)
        if at < 0:
            return False
        pos = at + len(p)
    return True


def describe_pair(ours, theirs):
    a, b = ours.data(), theirs.data()
    i = first_difference(a, b)
    diff = sum(1 for x, y in zip(a, b) if x != y)
    return (f"shardflow {len(a)} B, tcpflow {len(b)} B, first difference at byte {i}, "
            f"{diff} differing bytes in the common length")


def tcpflow_hint(t):
    extra = [f"{k}={t.info[k]}" for k in ("out_of_order_count", "violations") if k in t.info]
    return f" (tcpflow {', '.join(extra)})" if extra else ""


def tshark_endpoint(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def tshark_follow(capture, info):
    """The bytes tshark's `follow,tcp,raw` shows sent by info's src, for the first TCP stream
    of the tuple; None when tshark does not answer."""
    src = tshark_endpoint(info["src_ip"], info["src_port"])
    dst = tshark_endpoint(info["dst_ip"], info["dst_port"])
    try:
        out = subprocess.run(["tshark", "-r", capture, "-q", "-z", f"follow,tcp,raw,{src},{dst}"],
                             capture_output=True, text=True, timeout=300).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    node0, data, started = None, {0: bytearray(), 1: bytearray()}, False
    for line in out.splitlines():
        if line.startswith("Node 0: "):
            node0 = line[len("Node 0: "):].strip()
            continue
        if line.startswith("Node 1: "):
            started = True
            continue
        if not started or line.startswith("===="):
            continue
        side = 1 if line.startswith("\t") else 0
        try:
            data[side] += bytes.fromhex(line.strip())
        except ValueError:
            return None
    if node0 is None:
        return None
    return bytes(data[0] if node0 == src else data[1])


def tshark_agrees(capture, s):
    """A third opinion for a stream tcpflow disagrees with: tshark's follow of the same tuple.
    Only for a gap-free, first-generation stream that is the tuple's only one."""
    if capture is None or s.info.get("gaps", 0) or s.info.get("generation", 1) != 1 or "-n" in s.name:
        return False
    theirs = tshark_follow(capture, s.info)
    return theirs is not None and len(theirs) > 0 and theirs == s.data()


def verdicts_for_tuple(key, ours, theirs, fragments, overlap_diff, capture=None):
    """Pairs one direction's streams. Returns a list of (verdict, text)."""
    out = []
    ours = sorted(ours, key=lambda s: s.order)
    theirs = sorted(theirs, key=lambda s: s.order)
    left_ours, left_theirs = [], list(theirs)
    for s in ours:
        match = next((t for t in left_theirs if t.data() == s.data()), None)
        if match is not None:
            left_theirs.remove(match)
            out.append(("equal", f"{s.name} == {match.name} ({len(s.data())} B)"))
        else:
            left_ours.append(s)
    if not left_ours and not left_theirs:
        return out
    names = ", ".join([s.label() for s in left_ours] + [t.label() for t in left_theirs])
    if key in fragments:
        return out + [("fragments", f"{key_text(key)}: {names}: the tuple carries IP fragments")]
    vlans = {s.vlan for s in ours}
    if len(vlans) > 1:
        return out + [("vlan-merged", f"{key_text(key)}: on VLANs {sorted(vlans)}: {names}")]
    # Gaps first: a stream with holes is not expected to match. When every
    # leftover of ours has gaps, tcpflow's leftovers are their counterparts.
    gapped = [s for s in left_ours if s.info.get("gaps", 0) > 0]
    for s in gapped:
        counterpart = f"; tcpflow has {', '.join(t.name for t in left_theirs)}" if left_theirs else ""
        out.append(("gap", f"{s.name}: {s.info['gaps']} gaps, {s.info.get('missed_bytes', 0)} bytes skipped"
                           f"{counterpart}"))
    left_ours = [s for s in left_ours if all(s is not g for g in gapped)]
    if gapped and not left_ours:
        return out
    # tcpflow writes the Ethernet padding of short frames as stream bytes (and
    # a 6-byte "c1" file for a padded FIN), so many of its files run 6 bytes
    # long or split. Where a single stream of ours disagrees with tcpflow,
    # tshark's follow of the tuple decides.
    if len(ours) == 1 and len(left_ours) == 1 and tshark_agrees(capture, left_ours[0]):
        s = left_ours[0]
        others = ", ".join(t.label() for t in left_theirs) or "none"
        return out + [("tshark-agrees", f"{s.name} ({len(s.data())} B) equals tshark's follow,tcp,raw; "
                                        f"tcpflow has {others}")]
    if len(left_ours) == 1 and len(left_theirs) > 1 and pieces_of(left_ours[0].data(),
                                                                  [t.data() for t in left_theirs]):
        return out + [("tcpflow-split", f"{left_ours[0].name} = "
                                        f"{' + '.join(t.name for t in left_theirs)}")]
    if len(left_ours) > 1 and len(left_theirs) == 1 and pieces_of(left_theirs[0].data(),
                                                                  [s.data() for s in left_ours]):
        return out + [("shardflow-split", f"{left_theirs[0].name} = "
                                          f"{' + '.join(s.name for s in left_ours)}")]
    if len(left_ours) == 1 and len(left_theirs) == 1:
        s, t = left_ours[0], left_theirs[0]
        a, b = s.data(), t.data()
        text = f"{s.name} vs {t.name}: {describe_pair(s, t)}{tcpflow_hint(t)}"
        if int(t.info.get("violations", 0)) > 0:
            return out + [("tcpflow-violation", text)]
        if a.startswith(b) or b.startswith(a):
            return out + [("prefix", text)]
        if overlap_diff:
            return out + [("overlap-diff", text)]
        return out + [("differs", text)]
    for s in left_ours:
        verdict = "unpaired" if left_theirs else "only-shardflow"
        out.append((verdict, f"{s.name} ({len(s.data())} B, end {s.info.get('end', '?')})"))
    for t in left_theirs:
        verdict = "unpaired" if left_ours else "only-tcpflow"
        out.append((verdict, f"{t.name} ({len(t.data())} B){tcpflow_hint(t)}"))
    return out


def compare_capture(exe, capture, tags, keep):
    name = os.path.basename(capture)
    overlap_diff = "overlap_diff=" in tags.get(name, "")
    with tempfile.TemporaryDirectory(prefix="sf-dump-interop-") as tmp:
        tf_dir, sf_dir = os.path.join(tmp, "tcpflow"), os.path.join(tmp, "shardflow")
        os.mkdir(tf_dir)
        os.mkdir(sf_dir)
        proc = subprocess.run(["tcpflow", "-r", capture, "-o", tf_dir], capture_output=True, text=True,
                              timeout=600)
        if proc.returncode != 0:
            return None, [f"skip {name}: tcpflow exited {proc.returncode}: {proc.stderr.strip()[:200]}"], {}
        try:
            sfcommon.run_shardflow(exe, capture, workers=WORKERS, extra_args=["--dump-streams", sf_dir])
        except Exception as e:  # noqa: BLE001 - reported per capture
            first = " | ".join(line for line in str(e).splitlines()
                               if line and not line.startswith(("EAL:", "TELEMETRY:")))
            return False, [f"FAIL {name}: shardflow run failed: {first}"], {}
        theirs = read_tcpflow(tf_dir)
        ours, problems = read_shardflow(sf_dir)
        fragments = fragment_keys(capture)
        verdicts = [("inconsistent", p) for p in problems]
        for s in ours:
            lost, errors = s.info.get("dump_lost_bytes", 0), s.info.get("write_errors", 0)
            if lost or errors:
                verdicts.append(("lost", f"{s.name}: dump_lost_bytes {lost}, write_errors {errors}"))
        keys = sorted({s.key for s in ours} | {t.key for t in theirs})
        for key in keys:
            verdicts += verdicts_for_tuple(key, [s for s in ours if s.key == key],
                                           [t for t in theirs if t.key == key], fragments, overlap_diff,
                                           capture)
        if keep:
            dest = os.path.join(keep, os.path.splitext(name)[0])
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(tmp, dest)
    counts = {}
    for v, _ in verdicts:
        counts[v] = counts.get(v, 0) + 1
    return True, (name, len(theirs), len(ours), verdicts, overlap_diff), counts


def main():
    ap = argparse.ArgumentParser(description="shardflow --dump-streams vs tcpflow on real captures")
    ap.add_argument("--shardflow", required=True, help="path to the shardflow binary")
    ap.add_argument("--pcaps", default=os.path.join(REPO, "..", "shared", "pcaps"))
    ap.add_argument("--all", action="store_true", help="every capture, not the default dozen")
    ap.add_argument("--only", default="", help="only captures whose name contains this")
    ap.add_argument("--strict", action="store_true", help="also fail on prefix / only-* / unpaired streams")
    ap.add_argument("--keep", default="", help="copy both sides' output here, one folder per capture")
    ap.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    args = ap.parse_args()

    exe = os.path.abspath(args.shardflow)
    pcaps = os.path.normpath(args.pcaps)
    listed, why = help_lists_dump_streams(exe)
    missing = []
    if not listed:
        missing.append(why or "`shardflow --help` does not list --dump-streams (the flag is not wired yet)")
    if not os.path.isdir(pcaps):
        missing.append(f"../shared/pcaps not present ({pcaps})")
    if shutil.which("tcpflow") is None:
        missing.append("tcpflow not installed (Debian package tcpflow)")
    if missing:
        sfcommon.skip("; ".join(missing))
    captures = list_captures(pcaps, DEFAULT_CAPTURES, args.all, args.only)
    if not captures:
        sfcommon.skip(f"no captures to run under {pcaps} (--only {args.only!r})")
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    tags = manifest_tags(pcaps)
    failing = STRICT_FAILING if args.strict else FAILING

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda c: compare_capture(exe, c, tags, args.keep), captures))

    totals = {}
    bad = []
    for ok, payload, counts in results:
        if ok is None:  # tcpflow could not read it
            print(payload[0])
            continue
        if ok is False:
            print(payload[0])
            bad.append(payload[0].split()[1].rstrip(":"))
            continue
        name, n_theirs, n_ours, verdicts, overlap_diff = payload
        for v, n in counts.items():
            totals[v] = totals.get(v, 0) + n
        failed = [x for x in verdicts if x[0] in failing]
        status = "FAIL" if failed else "ok"
        summary = ", ".join(f"{v} {n}" for v, n in sorted(counts.items()))
        print(f"{status:4} {name}: tcpflow {n_theirs} files, shardflow {n_ours} streams: {summary or 'nothing'}"
              f"{' (capture has overlap_diff)' if overlap_diff else ''}")
        shown = [x for x in verdicts if x[0] != "equal"]
        shown.sort(key=lambda x: x[0] not in failing)  # failures first
        for v, text in shown[:SHOW_ITEMS]:
            print(f"    {v:17} {text}")
        if len(shown) > SHOW_ITEMS:
            print(f"    ... and {len(shown) - SHOW_ITEMS} more")
        if failed:
            bad.append(name)
    print("SUMMARY stream dump: " + f"{len(captures)} captures, "
          + ", ".join(f"{v} {n}" for v, n in sorted(totals.items()))
          + f"; failing {len(bad)}{': ' + ', '.join(bad) if bad else ''}")
    if totals.get("equal", 0) == 0:
        sfcommon.fail("no stream was equal on both sides: is --dump-streams writing anything?")
    if bad:
        sfcommon.fail("stream dump interop: see FAIL lines above")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
