"""A private EAL file prefix for one shardflow run (passed after `--`, where
user EAL arguments win), and removal of its runtime directory afterwards:
EAL leaves it behind, and a test suite should not pile them up."""

import itertools
import os
import shutil

_counter = itertools.count()


class EalPrefix:
    def __init__(self, tag):
        self.name = f"sftpy-{tag}-{os.getpid()}-{next(_counter)}"

    def args(self):
        return ["--", f"--file-prefix={self.name}"]

    def cleanup(self):
        bases = ["/var/run/dpdk", "/tmp/dpdk"]
        if os.environ.get("XDG_RUNTIME_DIR"):
            bases.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "dpdk"))
        for base in bases:
            shutil.rmtree(os.path.join(base, self.name), ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
