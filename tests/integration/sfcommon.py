"""Shared helpers for the end-to-end tests: run the engine on a capture, read
its records and stats, and check the conservation law."""

import json
import os
import subprocess
import sys
import tempfile


def run_shardflow(exe, capture, workers=2, config_text=None, extra_args=(), timeout=300):
    """Runs `exe -r capture -w workers` with JSON and stats written to a temp
    dir. Returns (records, stats, completed_process)."""
    with tempfile.TemporaryDirectory(prefix="sf-test-") as tmp:
        json_path = os.path.join(tmp, "flows.json")
        stats_path = os.path.join(tmp, "stats.json")
        cmd = [exe, "-r", capture, "-w", str(workers), "--json", json_path, "--stats", stats_path]
        if config_text is not None:
            conf_path = os.path.join(tmp, "shardflow.yaml")
            with open(conf_path, "w") as f:
                f.write(config_text)
            cmd += ["-c", conf_path]
        cmd += list(extra_args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}\n"
                               f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        with open(json_path) as f:
            records = [json.loads(line) for line in f if line.strip()]
        with open(stats_path) as f:
            stats = json.load(f)
        return records, stats, proc


def numeric_leaves(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from numeric_leaves(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield obj


def conservation_errors(records, stats):
    """Returns a list of human-readable violations (empty when the law holds)."""
    errors = []
    disp = stats["dispositions"]
    total = sum(numeric_leaves(disp))
    if total != stats["packets_in"]:
        errors.append(f"dispositions sum {total} != packets_in {stats['packets_in']}: {disp}")
    in_records = sum(r["src_packets"] + r["dst_packets"] for r in records)
    if in_records != disp["flows"]:
        errors.append(f"packets in records {in_records} != dispositions.flows {disp['flows']}")
    # Export: every exporter accounts for every record the workers produced.
    export = stats.get("export", {})
    produced = export.get("records_produced")
    for x in export.get("exporters", []):
        rec = x["records"]
        if rec["dropped_queue_full"] + rec["received"] != produced:
            errors.append(f"exporter {x['name']}: dropped {rec['dropped_queue_full']} + received {rec['received']} "
                          f"!= produced {produced}")
        if rec["delivered"] + sum(rec["lost"].values()) + rec["undelivered_at_deadline"] != rec["received"]:
            errors.append(f"exporter {x['name']}: delivered + lost + undelivered != received: {rec}")
        if x["name"] == "json" and rec["delivered"] != len(records):
            errors.append(f"exporter json delivered {rec['delivered']} records, the file has {len(records)}")
    return errors


def export_losses(stats):
    """Records any exporter did not deliver, by exporter (empty: none lost)."""
    out = {}
    for x in stats.get("export", {}).get("exporters", []):
        rec = x["records"]
        lost = rec["dropped_queue_full"] + sum(rec["lost"].values()) + rec["undelivered_at_deadline"]
        if lost:
            out[x["name"]] = lost
    return out


IDENTITY_FIELDS_IGNORED = ("worker", "seq")


def record_identity(r):
    """A record without the fields that may differ between runs (which worker wrote it)."""
    return tuple(sorted((k, json.dumps(v)) for k, v in r.items() if k not in IDENTITY_FIELDS_IGNORED))


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def skip(msg):
    """meson treats exit code 77 as a skipped test; the message stays visible in the log."""
    print("SKIP:", msg)
    sys.exit(77)
