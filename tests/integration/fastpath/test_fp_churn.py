"""Churn soak: ~10k prefixes flapped by a scripted FPM client while traffic
flows to stable prefixes through the XDP fast path (no FRR needed).

    h1 --eth1-- dut --eth2-- r2      (r2 and r3 both hold the stable
                    --eth3-- r3       destinations on lo: ECMP may pick either)

fpmtest.churn.ChurnPlan plays zebra: stable routes (through an ECMP next-hop
object, an inline next hop, inline multipath; IPv4 and IPv6), then the churn
set (more-specifics nested under the stable prefixes, bulk prefixes, groups),
then random add / delete / replace / group-membership changes for
$FPM_SOAK_SECONDS (default 60; `FPM_SOAK_SECONDS=600 ctest -R churn` for the
long soak) at $FPM_SOAK_RATE updates/s, then puts the churn set back in its
initial state, then withdraws it.

Checked:
* No loss on the stable prefixes: every datagram sent during the churn is
  received (r2 + r3) AND was redirected by XDP on the ingress port (its
  redirect counter moved by exactly the datagrams sent: none punted).
* Table usage (IPv4 tbl8 groups, IPv6 trie nodes, group and next-hop slots,
  `fpm-sinkctl show counters`) returns to the pre-churn figures once the
  quarantine has drained, both with the churn set restored and withdrawn.
* RSS with the same route set back is within RSS_TOLERANCE of before: see
  there for why it need not be byte-identical.
Figures go to $FPMTEST_LOG_DIR/fastpath/churn_soak.json.
"""

import os

import pytest

from fpmtest import FpmSink, wait_until
from fpmtest.churn import ChurnPlan
from fpmtest.fastpath import (UdpReceiver, counter_delta, enable_napi, nonzero, ping, tx_csum_off,
                              udp_send, write_result)

SECONDS = float(os.environ.get("FPM_SOAK_SECONDS", "60"))
RATE = float(os.environ.get("FPM_SOAK_RATE", "3000"))  # churn updates per second
PREFIXES = int(os.environ.get("FPM_SOAK_PREFIXES", "10000"))
PPS = 800  # stable-prefix datagrams per second, all destinations together
FLOWS = 4  # per destination, so ECMP spreads them over r2 and r3
POOLS = ("v4_tbl8_groups", "v6_nodes", "groups", "nexthops")
# RSS after the churn with the same route set back may exceed the pre-churn
# figure by this much. Not a leak allowance, but what glibc malloc keeps: the
# churn frees and reallocates ~10k route records, hash nodes and group vectors
# in a different order, so freed chunks stay scattered through the heap and
# pages that hold any live chunk stay resident (malloc returns only whole free
# pages at the heap top, M_TRIM_THRESHOLD 128 KiB); hash tables keep the
# bucket arrays of their peak size. A leak grows with the churn's length
# (~1M updates in a 10-minute soak), far above this.
RSS_TOLERANCE = 4 * 1024 * 1024


def rss_bytes(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def usage(sink):
    tables = sink.ctl("show", "counters")["counters"]["tables"]
    return {p: tables[p] for p in POOLS}


def settled_usage(sink, what):
    """Table usage once no freed slot waits in quarantine any more."""
    return wait_until(lambda: (lambda u: u if all(u[p]["quarantined"] == 0 for p in POOLS)
                               else None)(usage(sink)), 30, what=f"quarantine drained ({what})",
                      describe=lambda: usage(sink))


def wait_ingested(sink, plan):
    """Every message the client sent has been decoded and applied."""
    def done():
        fpm = sink.fpm()["fpm"]
        assert fpm["stream"]["decode_errors"] == 0, fpm["stream"]
        assert fpm["stream"]["apply_errors"] == 0, fpm["stream"]
        return fpm["messages"]["messages"] >= plan.client.messages
    wait_until(done, 60, what=f"{plan.client.messages} FPM messages ingested",
               describe=sink.tail)


def build_lab(run):
    for peer in ("r2", "r3"):
        net = peer[1]
        run.link("dut", f"eth{net}", peer, "eth0", [f"10.0.{net}.1/24", f"fd00:{net}::1/64"],
                 [f"10.0.{net}.2/24", f"fd00:{net}::2/64"])
        ns = run.ns(peer)
        enable_napi(ns, "eth0")  # accepts frames XDP redirects into its veth peer
        ns.exec(["ip", "route", "add", "default", "via", f"10.0.{net}.1"])
        ns.exec(["ip", "-6", "route", "add", "default", "via", f"fd00:{net}::1"])
        for dst in ChurnPlan.DESTINATIONS:
            ns.exec(["ip", "addr", "add", dst, "dev", "lo"])
    run.link("h1", "eth0", "dut", "eth1", ["10.0.1.2/24", "fd00:1::2/64"],
             ["10.0.1.1/24", "fd00:1::1/64"])
    h1 = run.ns("h1")
    tx_csum_off(h1, "eth0")
    h1.exec(["ip", "route", "add", "default", "via", "10.0.1.1"])
    h1.exec(["ip", "-6", "route", "add", "default", "via", "fd00:1::1"])
    # What zebra would put in the kernel, so that anything punted is still
    # delivered (the test tells punted from redirected by the counters).
    dut = run.ns("dut")
    dut.exec(["ip", "route", "add", "198.51.100.0/24", "nexthop", "via", "10.0.2.2",
              "nexthop", "via", "10.0.3.2"])
    dut.exec(["ip", "route", "add", "203.0.113.0/24", "via", "10.0.2.2"])
    dut.exec(["ip", "-6", "route", "add", "2001:db8:100::/48", "nexthop", "via", "fd00:2::2",
              "nexthop", "via", "fd00:3::2"])
    dut.exec(["ip", "-6", "route", "add", "2001:db8:200::/48", "nexthop", "via", "fd00:2::2",
              "nexthop", "via", "fd00:3::2"])
    return dut


def send_and_count(run, sink, receivers, count, pps, background=False):
    """Datagrams from h1 to every stable destination; with background=True a
    callable that waits and returns (summary, received, counter delta)."""
    before = sink.counters()
    wait = udp_send(run.ns("h1"), ChurnPlan.DESTINATIONS, flows=FLOWS, count=count, pps=pps,
                    size=300, background=True,
                    timeout=max(60, 3 * count * FLOWS * 4 / pps) if pps else 60)

    def finish():
        summary = wait()

        def received():
            return sum(rx.run_stats(summary["run"])["n"] for rx in receivers)
        try:  # each receiver knows only its share of the ECMP flows: wait on the sum
            wait_until(lambda: received() >= summary["sent"], 10, interval=0.05,
                       what="datagrams at r2 + r3")
        except AssertionError:
            pass  # the caller reports what did arrive
        return summary, received(), counter_delta(before, sink.counters())
    return finish if background else finish()


def check_fast_path(summary, got, delta, what):
    assert summary["sent"] == summary["planned"], f"{what}: send errors {summary['errors']}"
    assert got == summary["sent"], f"{what}: sent {summary['sent']}, received {got}"
    redirected = delta["interfaces"].get("eth1", {}).get("redirect", 0)
    assert redirected == summary["sent"], \
        f"{what}: XDP redirected {redirected} of {summary['sent']} on eth1: {nonzero(delta)}"


def test_churn_soak(run, sink_bins):
    dut = build_lab(run)
    sink = FpmSink(dut, *sink_bins, interfaces=["eth1", "eth2", "eth3"]).start()
    receivers = [UdpReceiver(run.ns("r2")), UdpReceiver(run.ns("r3"))]
    plan = ChurnPlan(dut.ifindex("eth2"), dut.ifindex("eth3"), prefixes=PREFIXES)
    plan.connect(sink.port, dut.name)
    plan.announce_stable()
    wait_ingested(sink, plan)

    # The kernel's ECMP sends a punted flow one way only, so resolve every
    # stable next hop's neighbour directly; then wait until a batch goes all XDP.
    for gw in ("10.0.2.2", "10.0.3.2", "fd00:2::2", "fd00:3::2"):
        ping(dut, gw, count=1)
    state = {}

    def warm():
        state["probe"] = send_and_count(run, sink, receivers, count=3, pps=0)
        summary, got, delta = state["probe"]
        return got == summary["sent"] and \
            delta["interfaces"].get("eth1", {}).get("redirect", 0) == summary["sent"]
    wait_until(warm, 30, interval=0.3, what="stable destinations forwarded by XDP",
               describe=lambda: f"{state.get('probe')}\n{sink.tail()}")

    figures = {"prefixes": len(plan.churn_prefixes), "seconds": SECONDS, "rate_target": RATE}
    figures["stable_only"] = settled_usage(sink, "stable routes")
    plan.announce_churn_set()
    wait_ingested(sink, plan)
    figures["before"] = settled_usage(sink, "churn set announced")
    figures["rss_before"] = rss_bytes(sink.proc.pid)
    routes_before = sink.fpm()["fpm"]["rib"]
    assert routes_before["routes_v4"] + routes_before["routes_v6"] == len(plan.churn_prefixes) + 4

    count = max(1, int(SECONDS * PPS / (FLOWS * len(ChurnPlan.DESTINATIONS))))
    traffic = send_and_count(run, sink, receivers, count=count, pps=PPS, background=True)
    churn = plan.flap(SECONDS, RATE, alive=sink.alive)
    figures["churn"] = churn
    plan.restore()
    summary, got, delta = traffic()
    assert sink.alive(), sink.tail()
    figures["traffic"] = {"sent": summary["sent"], "received": got,
                          "lost": summary["sent"] - got,
                          "redirected_eth1": delta["interfaces"].get("eth1", {}).get("redirect"),
                          "punt_reasons": {k: v for k, v in delta["reasons"].items() if v}}
    print(f"\nchurn: {churn}; traffic: {figures['traffic']}")
    check_fast_path(summary, got, delta, "stable prefixes during churn")
    assert churn["seconds"] >= SECONDS * 0.95
    assert churn["updates"] >= SECONDS * RATE * 0.5, f"churn too slow: {churn}"

    # The same route set is back: the same tables, once quarantine drains.
    wait_ingested(sink, plan)
    figures["after"] = settled_usage(sink, "churn set restored")
    figures["rss_after"] = rss_bytes(sink.proc.pid)
    rss_growth = figures["rss_after"] - figures["rss_before"]
    figures["rss_growth"] = rss_growth
    plan.withdraw_churn_set()
    wait_ingested(sink, plan)
    figures["withdrawn"] = settled_usage(sink, "churn set withdrawn")
    figures["rss_withdrawn"] = rss_bytes(sink.proc.pid)
    path = write_result("churn_soak", figures)
    print(f"figures in {path}")
    for key in ("stable_only", "before", "after", "withdrawn"):
        print(f"{key:12} " + "  ".join(f"{p} {figures[key][p]['used']}/"
                                       f"{figures[key][p]['capacity']}" for p in POOLS))
    print(f"RSS before {figures['rss_before'] >> 10} KiB, after {figures['rss_after'] >> 10} KiB"
          f", withdrawn {figures['rss_withdrawn'] >> 10} KiB")

    assert figures["after"] == figures["before"], "table usage differs with the same route set"
    assert figures["withdrawn"] == figures["stable_only"], \
        "table usage with the churn set withdrawn differs from the stable routes alone"
    assert rss_growth <= RSS_TOLERANCE, \
        f"RSS grew by {rss_growth >> 10} KiB with the same route set back"

    # Still forwarding by XDP after all that.
    summary, got, delta = send_and_count(run, sink, receivers, count=20, pps=2000)
    check_fast_path(summary, got, delta, "stable prefixes after the churn")
