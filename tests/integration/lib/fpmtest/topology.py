"""The standard lab used by the integration tests and ci/demo.sh.

        peer1 (AS 65002, bgpd)                  peer2
          eth0 10.0.1.2/24 fd00:1::2/64           eth0 10.0.2.2/24 fd00:2::2/64
            |                                       |
          eth1 10.0.1.1/24 fd00:1::1/64           eth2 10.0.2.1/24 fd00:2::1/64
        +-----------------------------------------------------+
        | dut: zebra -M dplane_fpm_nl + staticd [+ bgpd 65001] |
        |      fpm-sink on 127.0.0.1:2620 (same namespace)     |
        +-----------------------------------------------------+

All addresses live only inside the run's namespaces.

The demo deploys the same lab from frr-config/clab/demo.clab.yml (Lab with
clab_file; see clab.py): there peer1 and peer2 face dut on their eth1
(eth0 is containerlab's management port), and FRR is configured from the
file's frr.conf per router, statics and BGP included.
"""

import ipaddress

from . import clab
from .frr import make_router
from .poll import wait_until
from .routes import diff_fib, sink_fib, zebra_fib
from .sink import FpmSink

LINKS = [
    # dut ifname, peer, peer ifname, dut addrs, peer addrs
    ("eth1", "peer1", "eth0", ["10.0.1.1/24", "fd00:1::1/64"], ["10.0.1.2/24", "fd00:1::2/64"]),
    ("eth2", "peer2", "eth0", ["10.0.2.1/24", "fd00:2::1/64"], ["10.0.2.2/24", "fd00:2::2/64"]),
]
DUT_AS, PEER_AS = 65001, 65002

# Single next hop (v4 + v6), ECMP over both peers (v4 + v6), blackholes.
BASE_STATICS = [
    ("192.0.2.0/24", "10.0.1.2"),
    ("2001:db8:10::/48", "fd00:1::2"),
    ("198.51.100.0/24", "10.0.1.2"),
    ("198.51.100.0/24", "10.0.2.2"),
    ("2001:db8:20::/48", "fd00:1::2"),
    ("2001:db8:20::/48", "fd00:2::2"),
    ("203.0.113.0/24", "blackhole"),
    ("2001:db8:dead::/48", "blackhole"),
]


def numbered_statics(count, gateway="10.0.2.2"):
    """``count`` /24 statics 100.127.<i>.0/24 via peer2 (count <= 256)."""
    return [(f"100.127.{i}.0/24", gateway) for i in range(count)]


def bgp_networks(v4_count, v6_count=0):
    """Prefixes peer1 announces: 100.<64+i/256>.<i%256>.0/24 and 2001:db8:100:<i>::/64."""
    v4 = [f"100.{64 + i // 256}.{i % 256}.0/24" for i in range(v4_count)]
    v6 = [str(ipaddress.ip_network(f"2001:db8:100:{i:x}::/64")) for i in range(v6_count)]
    return v4 + v6


DEMO_CLAB = clab.path("demo")


class Lab:
    """dut + peers + optional fpm-sink; everything is torn down by run.close()."""

    def __init__(self, run, sink_bins=None, use_nhg=True, sweep_delay=3, fpm_port=2620,
                 clab_file=None):
        """clab_file: deploy that containerlab topology (e.g. DEMO_CLAB) instead
        of building the lab here; then start() brings it up as the file says."""
        self.run = run
        self.use_nhg = use_nhg
        self.fpm_port = fpm_port
        self.deployment = None
        if clab_file:
            self._deploy(clab_file, sink_bins, sweep_delay)
            return
        for dut_if, peer, peer_if, dut_addrs, peer_addrs in LINKS:
            run.link("dut", dut_if, peer, peer_if, dut_addrs, peer_addrs)
        self.dut_ns = run.ns("dut")
        self.dut = make_router(self.dut_ns, "dut")
        self.peer1 = None
        self.sink = None
        if sink_bins and sink_bins[0]:
            self.sink = FpmSink(self.dut_ns, sink_bins[0], sink_bins[1],
                                port=fpm_port, sweep_delay=sweep_delay,
                                extra_args=self.dut.fpm_sink_args())

    def _deploy(self, clab_file, sink_bins, sweep_delay):
        prepend = {} if self.use_nhg else {"dut": ["no fpm use-next-hop-groups"]}
        dep = self.deployment = clab.deploy(self.run, clab_file, sink_bins, sweep_delay,
                                            frr_prepend=prepend)
        self.dut_ns = self.run.ns("dut")
        self.dut = dep.routers["dut"]
        self.peer1 = dep.routers.get("peer1")
        self.sink = dep.sinks.get("dut")
        self.fpm_port = dep.topo.nodes["dut"].fpm_port()

    # ---- bring-up --------------------------------------------------------
    def start(self):
        """A deployed lab: fpm-sink, then every router's FRR from its files."""
        self.deployment.start()

    def announce(self, networks):
        """Make peer1 of a deployed lab announce exactly ``networks`` (it starts
        with its frr.conf's), as an operator would: through vtysh."""
        current = clab.bgp_networks_of(self.deployment.topo.nodes["peer1"].frr_conf())
        lines = [f"router bgp {PEER_AS}"]
        for family, v6 in (("ipv4", False), ("ipv6", True)):
            changes = [f"network {n}" for n in networks
                       if (":" in n) == v6 and n not in current]
            changes += [f"no network {n}" for n in current
                        if (":" in n) == v6 and n not in networks]
            if changes:
                lines += [f"address-family {family} unicast", *changes, "exit-address-family"]
        if len(lines) > 1:
            self.peer1.config(*lines)

    def start_sink(self):
        if self.sink:
            self.sink.start()

    def start_dut(self, statics=BASE_STATICS, bgp=False):
        self.dut.configure_zebra(fpm_port=self.fpm_port, use_nhg=self.use_nhg)
        self.dut.configure_staticd(statics)
        daemons = ["zebra", "staticd"]
        if bgp:
            self.dut.configure_bgpd(DUT_AS, "10.0.1.1",
                                    neighbors=[("10.0.1.2", PEER_AS), ("fd00:1::2", PEER_AS)])
            daemons.append("bgpd")
        self.dut.start(*daemons)

    def start_bgp_peer(self, networks):
        """peer1 runs zebra (no FPM) + bgpd announcing ``networks``."""
        self.peer1 = make_router(self.run.ns("peer1"), "peer1")
        self.peer1.configure_zebra(fpm_port=None)
        self.peer1.configure_bgpd(PEER_AS, "10.0.1.2",
                                  neighbors=[("10.0.1.1", DUT_AS), ("fd00:1::1", DUT_AS)],
                                  networks=networks)
        self.peer1.start("zebra", "bgpd")

    # ---- observation -----------------------------------------------------
    def zebra_fib(self):
        return zebra_fib(self.dut.routes_json())

    def sink_fib(self):
        return sink_fib(self.sink.routes())

    def wait_zebra(self, predicate, timeout=60, what="zebra to converge"):
        """Wait until predicate(zebra_fib) holds; returns that FIB."""
        def check():
            fib = self.zebra_fib()
            return fib if predicate(fib) else None
        def describe():
            fib = sorted(self.zebra_fib())
            return f"zebra FIB has {len(fib)} routes: " + ", ".join(k[1] for k in fib[:40])
        return wait_until(check, timeout, what=what, describe=describe)

    def wait_sink_matches(self, timeout=30):
        """Wait until fpm-sink's routes equal zebra's selected FIB; return it."""
        state = {}

        def check():
            state["zebra"] = self.zebra_fib()
            state["sink"] = self.sink_fib()
            return state["zebra"] == state["sink"] and state["zebra"]

        def describe():
            return diff_fib(state.get("zebra", set()), state.get("sink", set())) + \
                "\nfpm-sink log tail:\n" + self.sink.tail()
        wait_until(check, timeout, what="fpm-sink routes == zebra FIB", describe=describe)
        return state["zebra"]

    def wait_bgp_up(self, timeout=60):
        wait_until(lambda: self.dut.bgp_established("10.0.1.2"), timeout,
                   what="BGP session dut <-> peer1 (IPv4)")
