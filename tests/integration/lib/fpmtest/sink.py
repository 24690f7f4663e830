"""fpm-sink and fpm-sinkctl, run inside the router's namespace.

zebra's dplane_fpm_nl connects to 127.0.0.1:<port> in its own namespace, so
fpm-sink listens on the loopback of that same namespace.
"""

import json
import os

from .netns import sh, stop_process
from .poll import Abort, wait_until

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
ENV_SINK = "FPM_SINK_BIN"
ENV_CTL = "FPM_SINKCTL_BIN"


def find_binaries():
    """(fpm-sink, fpm-sinkctl) from $FPM_SINK_BIN / $FPM_SINKCTL_BIN (set by
    CTest), else the first build dir that has both; (None, None) if none."""
    sink, ctl = os.environ.get(ENV_SINK), os.environ.get(ENV_CTL)
    if sink and ctl:
        return sink, ctl
    for build in (os.environ.get("BUILD_DIR"), "build", "build-h5", "build-demo"):
        if not build:
            continue
        base = build if os.path.isabs(build) else os.path.join(REPO, build)
        found = {}
        for root, _dirs, files in os.walk(base):
            for name in ("fpm-sink", "fpm-sinkctl"):
                path = os.path.join(root, name)
                if name in files and os.access(path, os.X_OK) and name not in found:
                    found[name] = path
            if len(found) == 2:
                return found["fpm-sink"], found["fpm-sinkctl"]
    return None, None


class FpmSink:
    def __init__(self, ns, binary, ctl_binary, port=2620, sweep_delay=3,
                 log_level="info", extra_args=(), interfaces=(), xdp_mode=None,
                 bpffs=None):
        """interfaces: ports for the XDP fast path (--interface, repeatable;
        "all" = every non-loopback one); none = RIB only."""
        self.ns = ns
        self.binary = binary
        self.ctl_binary = ctl_binary
        self.port = port
        self.sweep_delay = sweep_delay
        self.log_level = log_level
        self.extra_args = list(extra_args)
        for ifname in interfaces:
            self.extra_args += ["--interface", ifname]
        if xdp_mode:
            self.extra_args += ["--xdp-mode", xdp_mode]
        if bpffs:
            self.extra_args += ["--bpffs", bpffs]
        self.interfaces = list(interfaces)
        self.dir = os.path.join(ns.dir, "fpm-sink")
        os.makedirs(self.dir, exist_ok=True)
        self.socket = os.path.join(self.dir, "control.sock")
        self.log = os.path.join(self.dir, "fpm-sink.log")
        self.proc = None
        ns.run.on_close(self.stop)

    def start(self, timeout=15):
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        # Unless a test names its own file, --config /dev/null: a router's own
        # /etc/fpm-sink/fpm-sink.toml (its ports, its bpffs) must not reach
        # the lab's fpm-sink.
        config = [] if "--config" in self.extra_args else ["--config", "/dev/null"]
        self.proc = self.ns.popen(
            [self.binary, *config, "--fpm-listen", f"127.0.0.1:{self.port}",
             "--control-socket", self.socket, "--log-level", self.log_level,
             "--sweep-delay", str(self.sweep_delay), *self.extra_args], self.log)

        def ready():
            if self.proc.poll() is not None:
                raise Abort(f"fpm-sink exited with {self.proc.returncode}:\n{self.tail()}")
            return os.path.exists(self.socket) and self.fpm()
        wait_until(ready, timeout, what="fpm-sink control socket")
        return self

    def stop(self):
        if self.proc is not None:
            rc = stop_process(self.proc)
            self.proc = None
            return rc
        return None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines=30):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def ctl(self, *args, as_json=True):
        cmd = [self.ctl_binary, "--socket", self.socket, *args]
        if as_json:
            cmd.append("--json")
        # The control socket is a path, so no need to enter the namespace.
        # Exit 1 is "the query found nothing" (show routes PREFIX): still an answer.
        res = sh(cmd, timeout=30, check=False)
        if res.returncode not in (0, 1):
            raise RuntimeError(f"{' '.join(map(str, cmd))} -> rc {res.returncode}: "
                               f"{(res.stderr or '').strip()} {(res.stdout or '').strip()}")
        return json.loads(res.stdout) if as_json else res.stdout

    def routes(self, prefix=None, table=None):
        args = ["show", "routes"]
        if prefix:
            args.append(prefix)
        if table is not None:
            args += ["--table", str(table)]
        return self.ctl(*args)

    def nexthop_groups(self):
        return self.ctl("show", "nexthop-groups")

    def fpm(self):
        return self.ctl("show", "fpm")

    def counters(self):
        """Fast-path counters: {"verdicts": {...}, "reasons": {...}, "interfaces": [...]}
        (packets; reasons named after FPM_REASON_* in bpf/fpm_abi.h, lower case)."""
        return self.ctl("show", "counters")["counters"]

    def nexthops(self):
        """{"nexthops": {"fast_path", "nexthops": [{gateway, ifname, state, mac,
        neighbour, ...}], "neighbour_refresh": {period_seconds, sent, deferred, ...}}}"""
        return self.ctl("show", "nexthops")

    def connected(self):
        return self.fpm().get("fpm", {}).get("session", {}).get("state") == "connected"
