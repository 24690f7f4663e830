"""FRR daemons (Debian FRR 8.4) run inside one namespace with their own paths.

What works here (verified with FRR 8.4.4):
- Per-instance paths: ``-f <conf> -i <pidfile> -z <zserv socket>
  --vty_socket <dir>`` on every daemon (the clients take the same ``-z``), and
  ``vtysh --vty_socket <dir>`` to talk to exactly that instance. ``-N`` is not
  needed (and ``-z`` overrides it anyway).
- Run them as the default user ``frr``: ``-u root -g root`` fails with
  "user(root) is not part of vty group specified(frrvty)". So the instance
  directory is owned by frr.
- ``-P 0`` switches off the TCP vty listener; ``--log file:...`` keeps logs.
- zebra needs ``-M dplane_fpm_nl`` *and* ``fpm address A.B.C.D [port N]`` in
  its config: without the address the module never connects.
"""

import json
import os
import pwd
import shutil
import string

from .netns import sh, stop_process
from .poll import Abort, wait_until

FRR_BIN = "/usr/lib/frr"
TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
# Start order matters only for speed: clients retry zserv every few seconds.
DAEMONS = ("zebra", "staticd", "bgpd", "ospfd", "ospf6d")


def render(template, **values):
    with open(os.path.join(TEMPLATES, template), encoding="utf-8") as f:
        return string.Template(f.read()).substitute(values)


def static_lines(routes):
    """routes: iterable of (prefix, target) where target is a gateway,
    'gw ifname', 'blackhole' or 'reject'; one line per next hop (ECMP =
    several entries with the same prefix)."""
    out = []
    for prefix, target in routes:
        kw = "ipv6" if ":" in prefix else "ip"
        out.append(f"{kw} route {prefix} {target}")
    return "\n".join(out)


class FrrRouter:
    def __init__(self, ns, hostname=None, log_level="informational"):
        self.ns = ns
        self.hostname = hostname or ns.node
        self.dir = os.path.join(ns.dir, "frr")
        os.makedirs(self.dir, exist_ok=True)
        frr = pwd.getpwnam("frr")
        os.chown(self.dir, frr.pw_uid, frr.pw_gid)
        self.log_level = log_level
        self.procs = {}
        self.zserv = os.path.join(self.dir, "zserv.api")
        # Further zebra options, e.g. ["--asic-offload=notify_on_offload"].
        self.zebra_args = []
        ns.run.on_close(self.stop)

    @property
    def version(self):
        """Upstream FRR version, e.g. "8.4.4"."""
        from .frr_rootfs import frr_version, upstream_version
        return upstream_version(frr_version())

    def fpm_sink_args(self):
        """fpm-sink options this FRR needs: none for the host's FRR, whose
        zebra runs as the host's frr user (fpm-sink's default allow list)."""
        return []

    # ---- configuration -------------------------------------------------
    def _write(self, daemon, text):
        path = os.path.join(self.dir, f"{daemon}.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        shutil.chown(path, "frr", "frr")
        return path

    def configure_zebra(self, fpm_port=2620, use_nhg=True, fpm_address="127.0.0.1"):
        """fpm_port=None: no FPM client (e.g. a peer router)."""
        fpm = []
        if fpm_port:
            fpm.append(f"fpm address {fpm_address} port {fpm_port}")
            if not use_nhg:
                fpm.append("no fpm use-next-hop-groups")
        self._write("zebra", render(
            "zebra.conf.in", hostname=self.hostname, dir=self.dir, log_level=self.log_level,
            fpm_lines="\n".join(fpm)))

    def configure_staticd(self, routes):
        self._write("staticd", render(
            "staticd.conf.in", hostname=self.hostname, dir=self.dir, log_level=self.log_level,
            static_routes=static_lines(routes)))

    def configure_bgpd(self, asn, router_id, neighbors, networks=(), redistribute=(),
                       options=()):
        """neighbors: list of (address, remote_as); networks: prefixes to announce;
        redistribute: e.g. ('static', 'connected'), applied to both families;
        options: further ``router bgp`` lines, e.g. ('bgp suppress-fib-pending',)."""
        nb, af4, af6 = [], [], []
        for addr, remote_as in neighbors:
            nb.append(f" neighbor {addr} remote-as {remote_as}")
            nb.append(f" neighbor {addr} timers connect 1")
            (af6 if ":" in addr else af4).append(f"  neighbor {addr} activate")
        for p in networks:
            (af6 if ":" in p else af4).append(f"  network {p}")
        for proto in redistribute:
            af4.append(f"  redistribute {proto}")
            af6.append(f"  redistribute {proto}")
        self._write("bgpd", render(
            "bgpd.conf.in", hostname=self.hostname, dir=self.dir, log_level=self.log_level,
            asn=asn, router_id=router_id, options="\n".join(f" {o}" for o in options),
            neighbors="\n".join(nb),
            af_ipv4="\n".join(af4), af_ipv6="\n".join(af6)))

    def configure_ospfd(self, router_id, interfaces, passive=(), redistribute=(),
                        hello=1, dead=4, spf_delay_ms=(0, 50, 200)):
        """OSPFv2 in area 0. interfaces: {ifname: cost or None}, all made
        point-to-point (no DR election wait) with the given hello/dead
        intervals; passive: further interfaces announced but without
        adjacencies; redistribute: e.g. ('connected',)."""
        lines = []
        for ifname, cost in list(interfaces.items()) + [(p, None) for p in passive]:
            lines.append(f"interface {ifname}")
            lines.append(" ip ospf area 0")
            if ifname in interfaces:
                lines.append(" ip ospf network point-to-point")
                lines.append(f" ip ospf hello-interval {hello}")
                lines.append(f" ip ospf dead-interval {dead}")
            else:
                lines.append(" ip ospf passive")
            if cost is not None:
                lines.append(f" ip ospf cost {cost}")
            lines.append("exit")
        router = [f" ospf router-id {router_id}",
                  " timers throttle spf {} {} {}".format(*spf_delay_ms)]
        router += [f" redistribute {r}" for r in redistribute]
        self._write("ospfd", render(
            "ospfd.conf.in", hostname=self.hostname, dir=self.dir, log_level=self.log_level,
            interfaces="\n".join(lines), router="\n".join(router)))

    def ospf_full_neighbors(self):
        """Router ids of OSPFv2 neighbours in state Full."""
        data = self.show_json("show ip ospf neighbor json", daemon="ospfd")
        out = set()
        for rid, entries in data.get("neighbors", {}).items():
            for e in entries if isinstance(entries, list) else [entries]:
                state = e.get("state") or e.get("nbrState", "")
                if state.startswith("Full"):
                    out.add(rid)
        return out

    # ---- processes -----------------------------------------------------
    def start_integrated(self, conf_text, daemons):
        """Start ``daemons`` and configure them from one integrated frr.conf
        (a containerlab node's bound file, see clab.py) as FRR's init does:
        each daemon starts with only its log file, then ``vtysh -b`` reads
        the integrated file and hands every line to the daemon that owns it."""
        for d in daemons:
            self._write(d, f"hostname {self.hostname}\n"
                           f"log file {self.dir}/{d}.log {self.log_level}\n")
        path = os.path.join(self.dir, "frr.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(conf_text)
        shutil.chown(path, "frr", "frr")
        self.start(*daemons)
        res = self._vtysh_raw(["--config_dir", self.dir, "-b"])
        if res.returncode != 0:
            raise RuntimeError(f"vtysh -b ({path}) on {self.hostname}: rc {res.returncode}\n"
                               f"{res.stdout}{res.stderr}")
        return res.stdout

    def start(self, *daemons):
        for d in daemons or [d for d in DAEMONS
                             if os.path.exists(os.path.join(self.dir, f"{d}.conf"))]:
            self.start_daemon(d)

    def start_daemon(self, daemon, timeout=15):
        args = [os.path.join(FRR_BIN, daemon),
                "-f", os.path.join(self.dir, f"{daemon}.conf"),
                "-i", os.path.join(self.dir, f"{daemon}.pid"),
                "-z", self.zserv, "--vty_socket", self.dir, "-P", "0"]
        if daemon == "zebra":
            args += ["-M", "dplane_fpm_nl", *self.zebra_args]
        return self._launch(daemon, args, timeout)

    def _launch(self, daemon, command, timeout):
        """Runs ``command`` (the daemon) in the node and waits until it answers
        on its vty; raises at once if it exits instead."""
        if daemon in self.procs and self.procs[daemon].poll() is None:
            raise RuntimeError(f"{daemon} already running on {self.hostname}")
        vty = os.path.join(self.dir, f"{daemon}.vty")
        if os.path.exists(vty):
            os.unlink(vty)
        proc = self.ns.popen(command, os.path.join(self.dir, f"{daemon}.out"))
        self.procs[daemon] = proc

        def ready():
            if proc.poll() is not None:
                raise Abort(f"{daemon} exited with {proc.returncode}: "
                            f"{self.tail(daemon + '.out')}")
            return os.path.exists(vty) and self.vtysh("show version", daemon=daemon, check=False)
        wait_until(ready, timeout, what=f"{daemon} (FRR {self.version}) on {self.hostname} "
                                        "to answer on its vty")
        return proc

    def stop_daemon(self, daemon, sig=None):
        proc = self.procs.pop(daemon, None)
        if proc is None:
            return None
        return stop_process(proc, sig=sig) if sig else stop_process(proc)

    def stop(self):
        for d in reversed(list(self.procs)):
            self.stop_daemon(d)

    def running(self, daemon):
        p = self.procs.get(daemon)
        return p is not None and p.poll() is None

    def tail(self, name, lines=20):
        try:
            with open(os.path.join(self.dir, name), encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    # ---- vtysh ---------------------------------------------------------
    def _vtysh_args(self, args):
        return ["vtysh", "--vty_socket", self.dir, *args]

    def vtysh_command(self):
        """The command line that reaches this instance's vtysh (for people)."""
        return self._vtysh_args([])

    def _vtysh_raw(self, args, timeout=30):
        return sh(self._vtysh_args(args), check=False, timeout=timeout)

    def vtysh(self, *commands, daemon=None, check=True):
        args = []
        if daemon:
            args += ["-d", daemon]
        for c in commands:
            args += ["-c", c]
        res = self._vtysh_raw(args)
        # vtysh exits 0 on "% Unknown command" in some versions: check output too.
        bad = res.returncode != 0 or "% Unknown command" in res.stdout \
            or "% Command incomplete" in res.stdout
        if bad:
            if check:
                raise RuntimeError(f"vtysh {commands!r} on {self.hostname}: rc {res.returncode} "
                                   f"{res.stdout.strip()} {res.stderr.strip()}")
            return None
        return res.stdout

    def config(self, *lines, daemon=None):
        """Apply configuration lines in config mode (not saved to the files)."""
        return self.vtysh("configure terminal", *lines, daemon=daemon)

    def show_json(self, command, daemon=None):
        out = self.vtysh(command, daemon=daemon)
        return json.loads(out) if out.strip() else {}

    def routes_json(self):
        """zebra's RIB, both families: {prefix: [route entries]}."""
        table = dict(self.show_json("show ip route json", daemon="zebra"))
        table.update(self.show_json("show ipv6 route json", daemon="zebra"))
        return table

    def bgp_established(self, peer):
        summary = self.show_json("show bgp neighbors json", daemon="bgpd")
        return summary.get(peer, {}).get("bgpState") == "Established"


def frr_available():
    return os.access(os.path.join(FRR_BIN, "zebra"), os.X_OK) and shutil.which("vtysh") is not None


def make_router(ns, hostname=None):
    """The router of the FRR the run was made for (``Run(frr=...)``, an
    frr_versions.FrrChoice; the host's FRR 8.4 by default)."""
    choice = getattr(ns.run, "frr", None)
    if choice is None:
        return FrrRouter(ns, hostname)
    return choice.router(ns, hostname)
