"""The demo behind ci/demo.sh: FRR in namespaces feeding fpm-sink.

Steps run in order inside one Run, which tears everything down on success,
failure, Ctrl-C or SIGTERM. The XDP traffic part plugs in as one more step
(send from peer2 through dut to peer1, then show the counters).
"""

import ipaddress
import signal
import sys

from . import Run
from .routes import diff_fib
from .topology import BASE_STATICS, Lab, bgp_networks


def banner(title):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)), flush=True)


def _fmt_nhs(key):
    _table, _prefix, rtype, nhs = key
    if rtype != "unicast":
        return rtype
    return ", ".join(f"{gw or 'direct'}%{ifi}" for gw, ifi in nhs)


def side_by_side(zebra, sink):
    """One line per prefix: what zebra installed next to what fpm-sink holds."""
    z = {k[1]: k for k in zebra}
    s = {k[1]: k for k in sink}
    rows = [("prefix", "zebra FIB", "fpm-sink", "")]
    def order(p):
        net = ipaddress.ip_network(p)
        return (net.version, net.network_address, net.prefixlen)
    for p in sorted(set(z) | set(s), key=order):
        zk, sk = z.get(p), s.get(p)
        rows.append((p, _fmt_nhs(zk) if zk else "-", _fmt_nhs(sk) if sk else "-",
                     "ok" if zk == sk else "DIFF"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")


def step_topology(ctx):
    banner("topology: dut (zebra+staticd+bgpd AS 65001, fpm-sink) -- peer1 (bgpd AS 65002), peer2")
    lab = ctx["lab"]
    lab.start_sink()
    lab.start_dut(BASE_STATICS, bgp=True)
    networks = bgp_networks(ctx["bgp_v4"], ctx["bgp_v6"])
    lab.start_bgp_peer(networks)
    lab.wait_bgp_up()
    lab.wait_zebra(lambda fib: set(networks) <= {k[1] for k in fib}, timeout=90,
                   what="BGP routes in zebra")
    print(f"namespaces: {', '.join(ns.name for ns in lab.run.namespaces.values())}")
    print(f"BGP: peer1 announces {len(networks)} prefixes; statics: single, ECMP, blackhole")


def step_converge(ctx):
    lab = ctx["lab"]
    fib = lab.wait_sink_matches(timeout=30)
    ctx["fib"] = fib


def step_show(ctx):
    lab = ctx["lab"]
    banner("zebra: show ip route")
    print(lab.dut.vtysh("show ip route", daemon="zebra"))
    banner("zebra: show ipv6 route")
    print(lab.dut.vtysh("show ipv6 route", daemon="zebra"))
    banner("fpm-sinkctl show routes")
    print(lab.sink.ctl("show", "routes", as_json=False))
    banner("fpm-sinkctl show fpm")
    print(lab.sink.ctl("show", "fpm", as_json=False))
    banner("zebra FIB next to fpm-sink (normalised)")
    zebra, sink = lab.zebra_fib(), lab.sink_fib()
    side_by_side(zebra, sink)
    print()
    print(diff_fib(zebra, sink).splitlines()[0])
    print("RESULT: fpm-sink holds exactly zebra's FIB" if zebra == sink else "RESULT: MISMATCH")
    ctx["ok"] = zebra == sink


STEPS = [step_topology, step_converge, step_show]


def _raise_interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run_demo(sink_bins, bgp_v4=10, bgp_v6=3, hold=False, steps=None):
    # Explicit, because a shell may start us with SIGINT ignored (background jobs).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)
    ctx = {"bgp_v4": bgp_v4, "bgp_v6": bgp_v6, "ok": False}
    try:
        with Run() as run:
            lab = ctx["lab"] = Lab(run, sink_bins=sink_bins)
            try:
                for step in steps or STEPS:
                    step(ctx)
            except Exception:
                if lab.sink:  # the run dir goes with the Run: show the log now
                    print("fpm-sink log tail:\n" + lab.sink.tail(), file=sys.stderr)
                raise
            if hold:
                banner("holding the lab up: Ctrl-C tears it down")
                print(f"vtysh --vty_socket {lab.dut.dir}")
                print(f"{sink_bins[1]} --socket {lab.sink.socket} show routes")
                print(f"ip netns exec {lab.dut_ns.name} bash")
                signal.pause()
            banner("teardown")
    except KeyboardInterrupt:
        print("\ninterrupted: torn down", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - report; the Run already tore down
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    print("namespaces and processes removed")
    return 0 if ctx["ok"] else 1

