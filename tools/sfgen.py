#!/usr/bin/env python3
"""sfgen: writes a capture from a named scenario, and the ground truth the engine must reproduce.

    sfgen.py SCENARIO -o out.pcap --truth out.truth.json [--seed N] [--flows N] [--packets N]
             [--format pcap|pcapng] [--link ethernet|sll|raw] [--community-id-seed N]
    sfgen.py --list

The truth is computed from what the generator built (its own metadata per packet), run through a
reference implementation of the SPEC's flow semantics; the capture is never parsed back.
Format: tests/integration/README.md. Python 3 standard library only."""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sfgen.big import Big  # noqa: E402
from sfgen.capture import LINKTYPES, write_packets  # noqa: E402
from sfgen.conv import Ctx  # noqa: E402
from sfgen.mixed import mixed  # noqa: E402
from sfgen.model import account, config_for  # noqa: E402
from sfgen.scenarios import SCENARIOS, ScenarioError  # noqa: E402

ALL = dict(SCENARIOS)
ALL["mixed"] = (mixed, "~2000 concurrent flows of every kind, non-IP/malformed frames, fragments "
                       "(--flows, --packets)")
ALL["big"] = (None, "benchmark input: simple TCP/UDP flows, millions of packets quickly "
                    "(--flows default 100000, --packets default 1000000)")


def write_truth(path, truth):
    """One record per line so that diffs and greps stay readable."""
    with open(path, "w") as f:
        f.write("{\n")
        for k, v in truth.items():
            if k != "records":
                f.write(f" {json.dumps(k)}: {json.dumps(v)},\n")
        f.write(' "records": [\n')
        f.write(",\n".join("  " + json.dumps(r) for r in truth["records"]))
        f.write("\n ]\n}\n")


def generate(args):
    if args.scenario == "big":
        truth = Big(Ctx(args.seed).rng, args.link, args.flows or 100000, args.packets or 1000000,
                    community_id_seed=args.community_id_seed).run(args.output, args.format)
    else:
        ctx = Ctx(args.seed, args.link)
        fn = ALL[args.scenario][0]
        timeouts, check = fn(ctx, args)
        packets, acc = account(ctx.packets, timeouts, args.community_id_seed)
        truth = acc.truth(config_for(timeouts, args.community_id_seed))
        check(truth)
        write_packets(args.output, packets, args.link, args.format)
    if args.truth:
        write_truth(args.truth, truth)
    return truth


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", nargs="?", help="scenario name (see --list)")
    ap.add_argument("-o", "--output", help="capture to write")
    ap.add_argument("--truth", help="ground truth JSON to write")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--flows", type=int, help="flows (mixed, big)")
    ap.add_argument("--packets", type=int, help="approximate packets (mixed, big)")
    ap.add_argument("--format", choices=("pcap", "pcapng"), default="pcap")
    ap.add_argument("--link", choices=sorted(LINKTYPES), default="ethernet")
    ap.add_argument("--community-id-seed", type=int, default=0, choices=range(65536),
                    metavar="0..65535", help="export.community_id_seed the truth assumes")
    ap.add_argument("--list", action="store_true", help="list the scenarios")
    args = ap.parse_args(argv)
    if args.list:
        for name, (_, doc) in ALL.items():
            print(f"{name:16} {doc}")
        return 0
    if args.scenario not in ALL or not args.output:
        ap.error(f"need a scenario ({', '.join(ALL)}) and -o")
    try:
        truth = generate(args)
    except ScenarioError as e:
        print(f"sfgen: scenario {args.scenario} self-check failed: {e}", file=sys.stderr)
        return 70
    print(f"sfgen: {args.scenario}: {truth['packets']} frames, {len(truth['records'])} records "
          f"-> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
