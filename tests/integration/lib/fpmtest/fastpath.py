"""Labs and traffic checks for the XDP fast path (tests/integration/fastpath).

Each lab is a chain of namespaces joined by veth pairs, built by the test and
removed by ``Run.close()``. The device under test ("dut") runs zebra with
dplane_fpm_nl, the protocol daemons and fpm-sink with ``--interface`` on its
routed ports. Conventions every lab follows:

* veth + XDP_REDIRECT: a redirected frame is accepted only if the receiving
  veth (the PEER of the DUT's egress port) runs NAPI: native XDP attached or
  GRO on. Verified on kernel 6.18 (xdp.py): neither -> silently dropped; GRO on
  or an XDP_PASS program -> delivered. Every far end of a DUT link gets GRO
  (``napi="gro"``, default) or an XDP_PASS program (``napi="xdp"``).
* veth + checksum offload: UDP/TCP sent by a local socket over veth leave as
  CHECKSUM_PARTIAL and are still partial when a router forwards them; the XDP
  redirect loses that state and the receiver drops them (UdpInCsumErrors).
  Hosts therefore switch tx checksum offload off (a real NIC would fill the
  checksum in on the wire). Router-originated traffic (BGP, OSPF) is for the
  DUT itself and takes XDP_PASS, which keeps the skb.
* Destinations on a DUT's connected subnet are forwarded by XDP only once the
  DUT's kernel has resolved them (host entries); until then they punt (reason
  "connected") and the kernel resolves them.
"""

import ipaddress
import json
import os
import subprocess
import sys
import time

from . import clab
from .frr import make_router
from .poll import wait_until
from .sink import FpmSink

LIB_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PYTHON = sys.executable or "/usr/bin/python3"
UDP_PORT = 9000


def _py(module, *args):
    return ["env", f"PYTHONPATH={LIB_DIR}", "PYTHONDONTWRITEBYTECODE=1", PYTHON, "-m", module,
            *map(str, args)]


def ns_python(ns, module, *args, check=True, timeout=120):
    return ns.exec(_py(module, *args), check=check, timeout=timeout)


def write_result(name, data):
    """Store a measurement as $FPMTEST_LOG_DIR/fastpath/<name>.json; return the path."""
    d = os.path.join(os.environ.get("FPMTEST_LOG_DIR", "/tmp/fpmtest-logs"), "fastpath")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"{name}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
    return path


# ------------------------------------------------------------ interfaces

def enable_napi(ns, ifname, how="gro"):
    """Make ``ifname`` accept frames XDP-redirected into its veth peer."""
    if how == "gro":
        ns_python(ns, "fpmtest.xdp", "gro", ifname, "on")
    elif how == "xdp":
        ns_python(ns, "fpmtest.xdp", "pass", ifname)
    else:
        raise ValueError(how)


def tx_csum_off(ns, ifname):
    ns_python(ns, "fpmtest.xdp", "txcsum", ifname, "off")


def rx_packets(ns, ifname):
    return int(ns.exec(["cat", f"/sys/class/net/{ifname}/statistics/rx_packets"]).stdout)


def kernel_forwarded(ns):
    """The kernel's own count of datagrams it forwarded in ``ns``: IPv4
    ``Ip: ForwDatagrams`` (/proc/net/snmp) and IPv6 ``Ip6OutForwDatagrams``
    (/proc/net/snmp6), as {"v4": n, "v6": n}. XDP-redirected packets never
    reach the kernel's IP layer, so they do not move it; punted ones the
    kernel routes do. That tells who forwarded without switching forwarding
    off (which the fast path honours: it would punt too)."""
    out = {}
    ip_lines = [line.split() for line in ns.exec(["cat", "/proc/net/snmp"]).stdout.splitlines()
                if line.startswith("Ip:")]
    names, values = ip_lines[0], ip_lines[1]
    out["v4"] = int(values[names.index("ForwDatagrams")])
    for line in ns.exec(["cat", "/proc/net/snmp6"]).stdout.splitlines():
        fields = line.split()
        if fields and fields[0] == "Ip6OutForwDatagrams":
            out["v6"] = int(fields[1])
    return out


def kernel_forwarded_delta(before, after):
    return {k: after[k] - before[k] for k in before}


def neighbour_state(ns, addr, ifname=None):
    args = ["ip", "-6" if ":" in addr else "-4", "neigh", "show", addr]
    if ifname:
        args += ["dev", ifname]
    return ns.exec(args).stdout.strip()


# --------------------------------------------------------------- counters

def counter_delta(before, after):
    """Difference of two ``FpmSink.counters()`` results:
    {"verdicts": {...}, "reasons": {...}, "interfaces": {name: {verdict: n}}}."""
    out = {"verdicts": {}, "reasons": {}, "interfaces": {}}
    for part in ("verdicts", "reasons"):
        keys = set(before.get(part, {})) | set(after.get(part, {}))
        out[part] = {k: after.get(part, {}).get(k, 0) - before.get(part, {}).get(k, 0)
                     for k in keys}
    b_if = {p.get("name") or str(p.get("ifindex")): p for p in before.get("interfaces", [])}
    for p in after.get("interfaces", []):
        name = p.get("name") or str(p.get("ifindex"))
        prev = b_if.get(name, {})
        out["interfaces"][name] = {k: v - prev.get(k, 0) for k, v in p.items()
                                   if isinstance(v, int) and k != "ifindex"}
    return out


def nonzero(delta):
    """Compact view of a counter delta for messages."""
    return {
        "verdicts": {k: v for k, v in delta["verdicts"].items() if v},
        "reasons": {k: v for k, v in delta["reasons"].items() if v},
        "interfaces": {n: {k: v for k, v in c.items() if v}
                       for n, c in delta["interfaces"].items() if any(c.values())},
    }


# ---------------------------------------------------------------- traffic

class UdpReceiver:
    """fpmtest.traffic recv in a namespace: v4 + v6 on one port, stats as JSON."""

    def __init__(self, ns, port=UDP_PORT, keep_seqs=False):
        self.ns = ns
        self.port = port
        self.out = os.path.join(ns.dir, f"udp-recv-{port}.json")
        if os.path.exists(self.out):
            os.unlink(self.out)
        args = ["recv", "--port", port, "--out", self.out]
        if keep_seqs:
            args.append("--keep-seqs")
        self.proc = ns.popen(_py("fpmtest.traffic", *args),
                             os.path.join(ns.dir, f"udp-recv-{port}.log"))
        wait_until(lambda: self.stats().get("ready"), 15, what=f"UDP receiver in {ns.node}")

    def stats(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"UDP receiver in {self.ns.node} exited ({self.proc.returncode})")
        try:
            with open(self.out, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def run_stats(self, run_id):
        return self.stats().get("runs", {}).get(str(run_id), {"n": 0, "flows": {}, "ttl": {}})

    def wait_run(self, run_id, expected, timeout=10.0, settle=0.3):
        """Wait until ``expected`` datagrams of ``run_id`` arrived, or until
        nothing more arrives for ``settle`` s after ``timeout``; return the
        run's stats (the caller asserts on them)."""
        try:
            return wait_until(lambda: (lambda r: r if r["n"] >= expected else None)(
                self.run_stats(run_id)), timeout, interval=0.05,
                what=f"{expected} datagrams of run {run_id} in {self.ns.node}")
        except AssertionError:
            time.sleep(settle)
            return self.run_stats(run_id)


def udp_send(ns, dsts, port=UDP_PORT, flows=1, count=100, pps=0, size=200,
             sport_base=40000, run_id=None, background=False, timeout=120):
    """Send ``count`` datagrams per (dst, flow) from namespace ``ns``.
    Returns the sender's summary (dict), or with background=True a callable
    that waits for the sender and returns it."""
    run_id = run_id if run_id is not None else int.from_bytes(os.urandom(4), "big") >> 1
    args = ["send", "--port", port, "--flows", flows, "--count", count, "--pps", pps,
            "--size", size, "--sport-base", sport_base, "--run-id", run_id]
    for d in dsts:
        args += ["--dst", d]
    if not background:
        res = ns_python(ns, "fpmtest.traffic", *args, timeout=timeout)
        return json.loads(res.stdout)
    proc = subprocess.Popen(ns.cmd(_py("fpmtest.traffic", *args)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    ns.procs.append(proc)

    def wait():
        out, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"sender in {ns.node} failed: {err}")
        return json.loads(out)
    wait.run_id = run_id
    return wait


def ping(ns, dst, count=3, interval=0.2, timeout=1, check=False):
    args = ["ping", "-n", "-c", count, "-i", interval, "-W", timeout, dst]
    return ns.exec(args, check=check, timeout=count * (interval + timeout) + 10)


# --------------------------------------------------------------- the labs

class FastPathLab:
    """Common parts: links, hosts, far ends, the DUT's FRR + fpm-sink."""

    DUT_PORTS = ()

    def __init__(self, run, sink_bins, use_nhg=True, napi="gro", fpm_port=2620,
                 sink_args=()):
        self.run = run
        self.use_nhg = use_nhg
        self.napi = napi
        self.fpm_port = fpm_port
        self.routers = {}
        self.receivers = {}
        self.build()
        self.dut_ns = run.ns("dut")
        self.dut = self.router("dut")
        self.sink = FpmSink(self.dut_ns, sink_bins[0], sink_bins[1], port=fpm_port,
                            interfaces=self.DUT_PORTS,
                            extra_args=list(sink_args) + self.dut.fpm_sink_args())

    # ---- building blocks
    def link(self, a, if_a, b, if_b, addrs_a, addrs_b):
        self.run.link(a, if_a, b, if_b, addrs_a, addrs_b)
        # The DUT's peers must accept XDP-redirected frames.
        if a == "dut":
            enable_napi(self.run.ns(b), if_b, self.napi)
        elif b == "dut":
            enable_napi(self.run.ns(a), if_a, self.napi)

    def host(self, node, ifname, gw4, gw6, loopbacks=()):
        ns = self.run.ns(node)
        tx_csum_off(ns, ifname)
        ns.exec(["ip", "route", "add", "default", "via", gw4])
        ns.exec(["ip", "-6", "route", "add", "default", "via", gw6])
        for addr in loopbacks:
            ns.exec(["ip", "addr", "add", addr, "dev", "lo"])
        return ns

    def deploy(self, name):
        """Build the lab from frr-config/clab/<name>.clab.yml (clab.py) and
        apply this harness's veth conventions (module doc) to it: NAPI on the
        far ends of the DUT's links, no tx checksum offload on hosts. The
        DUT's fpm-sink is this lab's (self.sink, with its ports); start()
        starts FRR on every router from the file."""
        prepend = {} if self.use_nhg else {"dut": ["no fpm use-next-hop-groups"]}
        dep = self.deployment = clab.deploy(self.run, clab.path(name), frr_prepend=prepend)
        self.routers.update(dep.routers)
        for a, if_a, b, if_b in dep.topo.links:
            for me, other, other_if in ((a, b, if_b), (b, a, if_a)):
                if me == "dut":
                    enable_napi(self.run.ns(other), other_if, self.napi)
                if not dep.topo.nodes[me].is_router:
                    tx_csum_off(self.run.ns(me), if_a if me == a else if_b)
        return dep

    def router(self, node):
        if node not in self.routers:
            self.routers[node] = make_router(self.run.ns(node), node)
        return self.routers[node]

    def receiver(self, node, port=UDP_PORT, keep_seqs=False):
        key = (node, port)
        if key not in self.receivers:
            self.receivers[key] = UdpReceiver(self.run.ns(node), port, keep_seqs)
        return self.receivers[key]

    def build(self):
        raise NotImplementedError

    def start_sink(self):
        self.sink.start()
        return self.sink

    def configure_dut_zebra(self):
        self.dut.configure_zebra(fpm_port=self.fpm_port, use_nhg=self.use_nhg)

    def wait_fpm_connected(self, timeout=30):
        wait_until(self.sink.connected, timeout, what="zebra's FPM session to fpm-sink",
                   describe=self.sink.tail)

    # ---- observation
    def counters(self):
        return self.sink.counters()

    def sink_route(self, prefix):
        """fpm-sink's route for exactly ``prefix`` (or None)."""
        for r in self.sink.routes(prefix).get("routes", []):
            if r.get("prefix") == prefix:
                return r
        return None

    def wait_offloaded(self, prefixes, timeout=60):
        """Wait until every prefix is in fpm-sink with offload "installed"."""
        prefixes = list(prefixes)
        state = {}

        def check():
            routes = {r["prefix"]: r for r in self.sink.routes().get("routes", [])}
            state["missing"] = [p for p in prefixes
                                if routes.get(p, {}).get("offload") != "installed"]
            state["sample"] = {p: {k: routes.get(p, {}).get(k) for k in
                                   ("state", "offload", "offload_reason")}
                               for p in state["missing"][:5]}
            return not state["missing"]
        wait_until(check, timeout, what=f"{len(prefixes)} routes offloaded by fpm-sink",
                   describe=lambda: f"{len(state.get('missing', []))} not offloaded, e.g. "
                                    f"{state.get('sample')}\n{self.sink.tail()}")

    # ---- traffic through the fast path
    def send_and_count(self, src, dst_node, dsts, flows=1, count=100, pps=0, size=200,
                       sport_base=40000, timeout=15):
        """Send, wait for the receiver, return (summary, received run stats,
        counter delta)."""
        rx = self.receiver(dst_node)
        before = self.counters()
        summary = udp_send(self.run.ns(src), dsts, flows=flows, count=count, pps=pps,
                           size=size, sport_base=sport_base)
        got = rx.wait_run(summary["run"], summary["sent"], timeout=timeout)
        # Counters are read after the last datagram arrived: nothing in flight.
        delta = counter_delta(before, self.counters())
        return summary, got, delta

    def wait_fast_path(self, src, dst_node, dsts, timeout=30):
        """Warm-up: the first packets to an unresolved neighbour are punted and
        the kernel resolves it. Probe until a batch is delivered completely AND
        every probe was redirected by XDP."""
        state = {}

        def probe():
            summary, got, delta = self.send_and_count(src, dst_node, dsts, count=3, timeout=3)
            state.update(summary=summary, got=got["n"], delta=nonzero(delta))
            return (got["n"] == summary["sent"] == summary["planned"]
                    and delta["verdicts"].get("redirect", 0) >= summary["sent"])
        wait_until(probe, timeout, interval=0.3,
                   what=f"fast path {src} -> {dst_node} {dsts}",
                   describe=lambda: f"last probe: sent {state.get('summary', {}).get('sent')}, "
                                    f"received {state.get('got')}, counters "
                                    f"{state.get('delta')}\nfpm-sink log:\n{self.sink.tail()}")
        return state

    def describe(self):
        out = [f"fpm-sink log tail:\n{self.sink.tail(40)}"]
        try:
            out.append("counters: " + json.dumps(self.counters()))
        except Exception as exc:  # noqa: BLE001
            out.append(f"counters: {exc!r}")
        return "\n".join(out)


class StaticLab(FastPathLab):
    """Case 1: static + connected routes.

        h1 eth0 10.0.1.2 fd00:1::2 --- eth1 [dut] eth2 10.0.2.1 fd00:2::1 --- eth0 r2 eth1 --- eth0 h2
             default via dut      10.0.1.1 fd00:1::1             10.0.2.2 fd00:2::2  10.0.3.1   10.0.3.2
                                                                                     fd00:3::1  fd00:3::2
    dut statics: 10.0.3.0/24 via 10.0.2.2, fd00:3::/64 via fd00:2::2 (global gateways),
                 198.51.100.0/24 via 10.0.2.2, 2001:db8:3::/48 via fd00:2::2 (h2 owns
                 198.51.100.1 and 2001:db8:3::1 on lo). r2: plain kernel router
                 (default via dut, h2's loopback prefixes via h2).
    """

    DUT_PORTS = ("eth1", "eth2")
    STATICS = [("10.0.3.0/24", "10.0.2.2"), ("fd00:3::/64", "fd00:2::2"),
               ("198.51.100.0/24", "10.0.2.2"), ("2001:db8:3::/48", "fd00:2::2")]
    H2_V4 = ["10.0.3.2", "198.51.100.1"]
    H2_V6 = ["fd00:3::2", "2001:db8:3::1"]

    def build(self):
        self.link("h1", "eth0", "dut", "eth1", ["10.0.1.2/24", "fd00:1::2/64"],
                  ["10.0.1.1/24", "fd00:1::1/64"])
        self.link("dut", "eth2", "r2", "eth0", ["10.0.2.1/24", "fd00:2::1/64"],
                  ["10.0.2.2/24", "fd00:2::2/64"])
        self.run.link("r2", "eth1", "h2", "eth0", ["10.0.3.1/24", "fd00:3::1/64"],
                      ["10.0.3.2/24", "fd00:3::2/64"])
        self.host("h1", "eth0", "10.0.1.1", "fd00:1::1")
        self.host("h2", "eth0", "10.0.3.1", "fd00:3::1",
                  loopbacks=["198.51.100.1/32", "2001:db8:3::1/128"])
        r2 = self.run.ns("r2")
        r2.exec(["ip", "route", "add", "default", "via", "10.0.2.1"])
        r2.exec(["ip", "-6", "route", "add", "default", "via", "fd00:2::1"])
        r2.exec(["ip", "route", "add", "198.51.100.0/24", "via", "10.0.3.2"])
        r2.exec(["ip", "-6", "route", "add", "2001:db8:3::/48", "via", "fd00:3::2"])

    def start(self):
        self.start_sink()
        self.configure_dut_zebra()
        self.dut.configure_staticd(self.STATICS)
        self.dut.start("zebra", "staticd")
        self.wait_fpm_connected()
        self.wait_offloaded([p for p, _gw in self.STATICS])
        return self


class TwoPathLab(FastPathLab):
    """h1 - dut, two parallel links dut = r3, r3 - h3:

        h1 eth0 10.0.1.2 --- eth1 [dut] eth2 10.0.21.1 ====== eth2 10.0.21.2 [r3] eth1 10.0.3.1 --- eth0 h3
                                        eth3 10.0.22.1 ====== eth3 10.0.22.2              10.0.3.2
    """

    DUT_PORTS = ("eth1", "eth2", "eth3")
    PATHS = {"eth2": ("10.0.21.1", "10.0.21.2"), "eth3": ("10.0.22.1", "10.0.22.2")}
    H3 = "10.0.3.2"
    PREFIX = "10.0.3.0/24"

    def build(self):
        self.link("h1", "eth0", "dut", "eth1", ["10.0.1.2/24", "fd00:1::2/64"],
                  ["10.0.1.1/24", "fd00:1::1/64"])
        for ifname, (mine, theirs) in self.PATHS.items():
            self.link("dut", ifname, "r3", ifname, [mine + "/24"], [theirs + "/24"])
        self.run.link("r3", "eth1", "h3", "eth0", ["10.0.3.1/24", "fd00:3::1/64"],
                      ["10.0.3.2/24", "fd00:3::2/64"])
        self.host("h1", "eth0", "10.0.1.1", "fd00:1::1")
        self.host("h3", "eth0", "10.0.3.1", "fd00:3::1")

    def ecmp_gateways(self, where="zebra"):
        """Gateways of PREFIX: zebra's selected, installed FIB next hops, or
        what fpm-sink's RIB holds (where="sink")."""
        if where == "zebra":
            data = self.dut.show_json(f"show ip route {self.PREFIX} json", daemon="zebra")
            return {n.get("ip") for e in data.get(self.PREFIX, [])
                    if e.get("selected") and e.get("installed")
                    for n in e.get("nexthops", []) if n.get("fib")}
        r = self.sink_route(self.PREFIX)
        return {n.get("gateway") for n in (r or {}).get("nexthops", [])}

    def sink_nexthop(self, gateway):
        """fpm-sink's next-hop entry for ``gateway`` (show nexthops), or None."""
        for n in self.sink.nexthops()["nexthops"]["nexthops"]:
            if n["gateway"] == gateway:
                return n
        return None


class OspfLab(TwoPathLab):
    """Cases 3/4: two equal-cost OSPF paths (parallel links) dut <-> r3,
    deployed from frr-config/clab/ospf-ecmp.clab.yml:

        h1 eth1 10.0.1.2 --- eth1 [dut] eth2 10.0.21.1 ====== eth2 10.0.21.2 [r3] eth1 10.0.3.1 --- eth1 h3
                                        eth3 10.0.22.1 ====== eth3 10.0.22.2              10.0.3.2
    OSPF area 0, point-to-point, hello 1 s, dead 4 s, equal costs; h1's and
    h3's subnets are passive OSPF interfaces of dut and r3 (all in the
    routers' frr.conf there).
    """

    HELLO, DEAD = 1, 4  # as ospf-ecmp/*/frr.conf say
    CLAB = "ospf-ecmp"

    def build(self):
        self.deploy(self.CLAB)

    def start(self):
        self.start_sink()
        self.deployment.start()
        r3 = self.router("r3")
        self.wait_fpm_connected()
        wait_until(lambda: self.ecmp_gateways() == {g for _m, g in self.PATHS.values()}, 60,
                   what=f"OSPF ECMP route {self.PREFIX} via both paths in zebra",
                   describe=lambda: self.dut.vtysh("show ip route", "show ip ospf neighbor"))
        wait_until(lambda: "10.0.1.0/24" in r3.vtysh("show ip route 10.0.1.0/24"), 30,
                   what="r3 to learn h1's subnet (return path)")
        self.wait_offloaded([self.PREFIX])
        return self


def bgp_prefixes(v4, v6):
    """r1's announcements (canonical text, as zebra and fpm-sink print them)."""
    return [f"100.{64 + i // 256}.{i % 256}.0/24" for i in range(v4)] + \
        [str(ipaddress.ip_network(f"2001:db8:100:{i:x}::/64")) for i in range(v6)]


class BgpLab(FastPathLab):
    """Cases 2/5: eBGP r1 (AS 65011) - dut (AS 65001) - r3 (AS 65003).

        h1 eth0 --- eth1 r1 eth0 --- eth1 [dut] eth2 --- eth0 r3 eth1 --- eth0 h3
        10.0.10.2   10.0.10.1 10.0.1.2   10.0.1.1  10.0.2.1   10.0.2.2 10.0.3.1   10.0.3.2
        fd00:10::2  fd00:10::1 fd00:1::2 fd00:1::1 fd00:2::1  fd00:2::2 fd00:3::1 fd00:3::2
    r1 announces ``v4`` /24s 100.64.0.0-... and ``v6`` /64s 2001:db8:100:<i>::/64
    (bgpd ``network`` statements, no import check) plus the covering
    100.65.0.0/16, and forwards all of 100.64.0.0/10 and 2001:db8:100::/48 to
    h1, which owns <prefix>.1 of the sampled prefixes on lo. r3 announces h3's
    subnet and has kernel default routes to the DUT. IPv6 BGP next hops at the
    DUT are link-local.
    """

    DUT_PORTS = ("eth1", "eth2")
    DUT_AS, R1_AS, R3_AS = 65001, 65011, 65003
    COVERING = "100.65.0.0/16"

    def __init__(self, run, sink_bins, v4=2000, v6=200, sample=(), extra_networks=(),
                 dut_bgp_options=(), zebra_args=(), **kw):
        """extra_networks: r1 announces them too, but start() does not wait for
        them to be offloaded; dut_bgp_options: further ``router bgp`` lines on
        the DUT; zebra_args: further options of the DUT's zebra."""
        self.v4, self.v6 = v4, v6
        self.networks = bgp_prefixes(v4, v6)
        self.extra_networks = list(extra_networks)
        self.dut_bgp_options = list(dut_bgp_options)
        self.sample = list(sample)
        super().__init__(run, sink_bins, **kw)
        self.dut.zebra_args = list(zebra_args)

    @staticmethod
    def host_addr(prefix):
        """The address h1 owns inside a sampled prefix."""
        base = prefix.split("/")[0]
        return base[:-1] + "1" if ":" not in base else base + "1"

    def build(self):
        self.run.link("h1", "eth0", "r1", "eth1", ["10.0.10.2/24", "fd00:10::2/64"],
                      ["10.0.10.1/24", "fd00:10::1/64"])
        self.link("r1", "eth0", "dut", "eth1", ["10.0.1.2/24", "fd00:1::2/64"],
                  ["10.0.1.1/24", "fd00:1::1/64"])
        self.link("dut", "eth2", "r3", "eth0", ["10.0.2.1/24", "fd00:2::1/64"],
                  ["10.0.2.2/24", "fd00:2::2/64"])
        self.run.link("r3", "eth1", "h3", "eth0", ["10.0.3.1/24", "fd00:3::1/64"],
                      ["10.0.3.2/24", "fd00:3::2/64"])
        loops = [self.host_addr(p) + ("/128" if ":" in p else "/32") for p in self.sample]
        self.host("h1", "eth0", "10.0.10.1", "fd00:10::1", loopbacks=loops)
        self.host("h3", "eth0", "10.0.3.1", "fd00:3::1")
        r1 = self.run.ns("r1")
        r1.exec(["ip", "route", "add", "100.64.0.0/10", "via", "10.0.10.2"])
        r1.exec(["ip", "-6", "route", "add", "2001:db8:100::/48", "via", "fd00:10::2"])
        # r3 sends everything else to the DUT, so that traffic to a withdrawn
        # prefix still reaches the DUT (which then has no route for it).
        r3 = self.run.ns("r3")
        r3.exec(["ip", "route", "add", "default", "via", "10.0.2.1"])
        r3.exec(["ip", "-6", "route", "add", "default", "via", "fd00:2::1"])
        # ICMP errors from the DUT are checked: no rate limit in this lab.
        dut = self.run.ns("dut")
        dut.exec(["sysctl", "-qw", "net.ipv4.icmp_ratelimit=0"])
        dut.exec(["sysctl", "-qw", "net.ipv6.icmp.ratelimit=0"])

    def start(self, timeout=180):
        self.start_sink()
        self.configure_dut_zebra()
        self.dut.configure_bgpd(self.DUT_AS, "10.255.0.1", neighbors=[
            ("10.0.1.2", self.R1_AS), ("fd00:1::2", self.R1_AS),
            ("10.0.2.2", self.R3_AS), ("fd00:2::2", self.R3_AS)],
            options=self.dut_bgp_options)
        r1, r3 = self.router("r1"), self.router("r3")
        r1.configure_zebra(fpm_port=None)
        r1.configure_bgpd(self.R1_AS, "10.255.0.11",
                          neighbors=[("10.0.1.1", self.DUT_AS), ("fd00:1::1", self.DUT_AS)],
                          networks=self.networks + [self.COVERING] + self.extra_networks)
        r3.configure_zebra(fpm_port=None)
        r3.configure_bgpd(self.R3_AS, "10.255.0.3",
                          neighbors=[("10.0.2.1", self.DUT_AS), ("fd00:2::1", self.DUT_AS)],
                          networks=["10.0.3.0/24", "fd00:3::/64"])
        self.dut.start("zebra", "bgpd")
        r1.start("zebra", "bgpd")
        r3.start("zebra", "bgpd")
        self.wait_fpm_connected()
        for peer in ("10.0.1.2", "fd00:1::2", "10.0.2.2", "fd00:2::2"):
            wait_until(lambda p=peer: self.dut.bgp_established(p), 60,
                       what=f"BGP session dut <-> {peer}")
        expected = set(self.networks) | {self.COVERING, "10.0.3.0/24", "fd00:3::/64"}
        self.wait_offloaded(sorted(expected), timeout=timeout)
        return self


class NeighbourLab(TwoPathLab):
    """Neighbours behind XDP-forwarded ECMP: two static next hops on two links.

        h1 eth0 10.0.1.2 --- eth1 [dut] eth2 10.0.21.1 ====== eth2 10.0.21.2 [r3] eth1 10.0.3.1 --- eth0 h3
                                        eth3 10.0.22.1 ====== eth3 10.0.22.2              10.0.3.2
    dut statics: 10.0.3.0/24 via 10.0.21.2 and via 10.0.22.2 (ECMP); r3 is a plain
    kernel router without a way back (traffic is one way h1 -> h3). The DUT's
    ports to r3 get short neighbour timers (TIMERS), so what the kernel does with
    entries it sees no traffic for shows within seconds. IPv4 only: ARP.
    """

    # Reachable 1.5-4.5 s, 1 s in DELAY, probes 200 ms apart, STALE entries collectable
    # after 2 s. Reachable must outlast DELAY: the kernel raises an entry's `used` to
    # its `confirmed` time (neigh_periodic_work), so with reachable shorter than
    # delay_first_probe_time a confirmed entry expires into DELAY, not STALE, and
    # keeps re-probing itself without anybody using it (seen here with 1000 ms).
    TIMERS = {"base_reachable_time_ms": 3000, "delay_first_probe_time": 1,
              "retrans_time_ms": 200, "gc_stale_time": 2}

    def build(self):
        super().build()
        dut, r3 = self.run.ns("dut"), self.run.ns("r3")
        for ifname in self.PATHS:
            for key, val in self.TIMERS.items():
                dut.exec(["sysctl", "-qw", f"net.ipv4.neigh.{ifname}.{key}={val}"])
        # r3 forwards what arrives on either path, whatever its addresses there.
        for ifname in ("all", "default", *self.PATHS):
            r3.exec(["sysctl", "-qw", f"net.ipv4.conf.{ifname}.rp_filter=0"])

    def start(self):
        self.start_sink()
        self.configure_dut_zebra()
        self.dut.configure_staticd([(self.PREFIX, gw) for _m, gw in self.PATHS.values()])
        self.dut.start("zebra", "staticd")
        self.wait_fpm_connected()
        self.wait_offloaded([self.PREFIX])
        self.resolve_next_hops()
        return self

    def restart_sink(self, extra_args):
        """A new fpm-sink with other options; zebra reconnects and replays."""
        self.sink.stop()
        self.sink = FpmSink(self.dut_ns, self.sink.binary, self.sink.ctl_binary,
                            port=self.fpm_port, interfaces=self.DUT_PORTS,
                            extra_args=list(extra_args) + self.dut.fpm_sink_args())
        self.sink.start()
        self.wait_fpm_connected()
        self.wait_offloaded([self.PREFIX])
        self.resolve_next_hops()

    def resolve_next_hops(self, timeout=15):
        """The kernel resolves both gateways (a ping from the DUT), and fpm-sink
        programs both next hops valid."""
        for _mine, gw in self.PATHS.values():
            ping(self.dut_ns, gw, count=1, timeout=1)
        wait_until(lambda: all(n and n["state"] == "valid" for n in
                               (self.sink_nexthop(gw) for _m, gw in self.PATHS.values())),
                   timeout, what="both next hops valid in fpm-sink",
                   describe=lambda: self.sink.ctl("show", "nexthops", as_json=False))

    def kernel_neighbour(self, gateway, ifname):
        """The DUT's neighbour entry (ip -j -s neigh: state list, used/confirmed/
        updated ages in s, probes, lladdr), or None."""
        out = self.dut_ns.exec(["ip", "-j", "-s", "neigh", "show", gateway, "dev", ifname]).stdout
        entries = json.loads(out or "[]")
        return entries[0] if entries else None

    def path_rx(self):
        r3 = self.run.ns("r3")
        return {ifname: rx_packets(r3, ifname) for ifname in self.PATHS}


class EdgeLab(FastPathLab):
    """An eBGP edge router, deployed from frr-config/clab/ebgp-edge.clab.yml:

        h1 eth1 10.1.1.2 --- eth2 [dut] eth1 10.0.1.1 --- eth1 upstream eth2 --- eth1 server
        h2 eth1 10.1.2.2 --- eth3 (AS 65001)  10.0.1.2 (AS 65002) 100.64.0.254   100.64.0.1
    dut announces its connected subnets (the hosts') to upstream, upstream
    announces the server's subnet (v4 and v6) to dut.
    """

    DUT_PORTS = ("eth1", "eth2", "eth3")
    CLAB = "ebgp-edge"
    UPSTREAM = ("10.0.1.2", "fd00:1::2")
    SERVER = ("100.64.0.1", "2001:db8:100::1")
    SERVER_PREFIXES = ("100.64.0.0/24", "2001:db8:100::/64")
    HOSTS = {"h1": "eth2", "h2": "eth3"}  # host -> the DUT port it sits on
    HOST_SUBNETS = ("10.1.1.0/24", "10.1.2.0/24", "fd00:11::/64", "fd00:12::/64")

    def build(self):
        self.deploy(self.CLAB)

    def start(self):
        self.start_sink()
        self.deployment.start()
        self.wait_fpm_connected()
        for peer in self.UPSTREAM:
            wait_until(lambda p=peer: self.dut.bgp_established(p), 60,
                       what=f"BGP session dut <-> upstream {peer}")
        self.wait_offloaded(self.SERVER_PREFIXES)
        return self
