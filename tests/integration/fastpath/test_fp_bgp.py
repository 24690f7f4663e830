"""Cases 2, 5 (+6): eBGP r1 - dut - r3 with thousands of routes, and a withdrawal.

Lab (fpmtest.fastpath.BgpLab): r1 announces 2000 IPv4 /24s + 200 IPv6 /64s
(+ a covering 100.65.0.0/16); the DUT installs them in the kernel and,
through FPM, in fpm-sink; r3 learns them from the DUT. h1 behind r1 owns one
address in each sampled prefix; h3 behind r3 sends. All DUT routes here are
via gateways (IPv6 via r1's link-local address), so both directions of a ping
h3 <-> h1 are forwarded by XDP: the DUT kernel's own forwarding counters
(Ip: ForwDatagrams, Ip6OutForwDatagrams) must not move while they run.
"""

import pytest

from fpmtest.fastpath import (BgpLab, bgp_prefixes, kernel_forwarded, kernel_forwarded_delta,
                              nonzero, ping)
from fpmtest.poll import wait_until

V4_COUNT, V6_COUNT = 2000, 200
# Sample across the table; WITHDRAW_* are withdrawn by the last test.
WITHDRAW_V4 = "100.64.7.0/24"        # nothing covers it afterwards -> no route
WITHDRAW_COVERED = "100.65.7.0/24"   # 100.65.0.0/16 covers it afterwards
WITHDRAW_V6 = "2001:db8:100:7::/64"
_ALL = bgp_prefixes(V4_COUNT, V6_COUNT)
SAMPLE = sorted(set(_ALL[:V4_COUNT:131]) | set(_ALL[V4_COUNT::53])
                | {WITHDRAW_V4, WITHDRAW_COVERED, WITHDRAW_V6})


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg):
    lab = BgpLab(module_run, sink_bins, v4=V4_COUNT, v6=V6_COUNT, sample=SAMPLE,
                 use_nhg=use_nhg).start()
    lab.receiver("h1")
    return lab


def addrs(prefixes):
    return [BgpLab.host_addr(p) for p in prefixes]


def test_routes_offloaded(lab):
    routes = {r["prefix"]: r for r in lab.sink.routes().get("routes", [])}
    offload = {}
    for p in lab.networks:
        offload[routes.get(p, {}).get("offload")] = offload.get(
            routes.get(p, {}).get("offload"), 0) + 1
    assert offload == {"installed": len(lab.networks)}, offload
    v6 = routes[WITHDRAW_V6]
    assert v6["nexthops"][0]["gateway"].startswith("fe80:"), v6


def test_sample_forwarded_by_xdp(lab):
    dsts = addrs(SAMPLE)
    lab.wait_fast_path("h3", "h1", dsts)
    summary, got, delta = lab.send_and_count("h3", "h1", dsts, count=20, pps=4000, size=400)
    print(f"{len(dsts)} destinations: {nonzero(delta)}")
    assert got["n"] == summary["sent"] == 20 * len(dsts), (summary, got["n"])
    # h3 -> r3 -> dut -> r1 -> h1: three routers.
    assert got["ttl"] == {"61": summary["sent"]}, got["ttl"]
    assert lab.receiver("h1").stats()["bad"] == 0
    assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)
    assert delta["interfaces"].get("eth2", {}).get("redirect", 0) >= summary["sent"], \
        nonzero(delta)


def test_kernel_forwards_none_of_ping_and_udp(lab):
    dsts = addrs(SAMPLE)
    lab.wait_fast_path("h3", "h1", dsts)
    before = lab.counters()
    kernel_before = kernel_forwarded(lab.dut_ns)
    pings = {d: ping(lab.run.ns("h3"), d, count=2, interval=0.05) for d in dsts[:6]}
    summary, got, delta = lab.send_and_count("h3", "h1", dsts, count=10, pps=4000)
    after = lab.counters()
    kernel = kernel_forwarded_delta(kernel_before, kernel_forwarded(lab.dut_ns))
    bad = {d: r.stdout[-200:] for d, r in pings.items() if r.returncode != 0}
    assert not bad, f"pings failed: {bad}"
    assert got["n"] == summary["sent"], (summary, got["n"])
    redirects = after["verdicts"]["redirect"] - before["verdicts"]["redirect"]
    # 2 echo requests + 2 replies per ping target, all through XDP.
    assert redirects >= summary["sent"] + 4 * len(pings), nonzero(delta)
    assert kernel == {"v4": 0, "v6": 0}, \
        f"the DUT kernel forwarded {kernel} of the pings and datagrams: {nonzero(delta)}"


def test_withdraw_stops_fast_path(lab):
    """Case 5: r1 withdraws prefixes; they leave fpm-sink; traffic to them is
    punted (no_route) and the kernel answers with what zebra installed."""
    gone_v4, gone_v6 = addrs([WITHDRAW_V4])[0], addrs([WITHDRAW_V6])[0]
    covered = addrs([WITHDRAW_COVERED])[0]
    lab.wait_fast_path("h3", "h1", [gone_v4, gone_v6, covered])

    lab.router("r1").config(
        f"router bgp {lab.R1_AS}", "address-family ipv4 unicast",
        f"no network {WITHDRAW_V4}", f"no network {WITHDRAW_COVERED}", "exit-address-family",
        "address-family ipv6 unicast", f"no network {WITHDRAW_V6}", "exit-address-family",
        daemon="bgpd")
    withdrawn = (WITHDRAW_V4, WITHDRAW_COVERED, WITHDRAW_V6)
    wait_until(lambda: all(lab.sink_route(p) is None for p in withdrawn), 30,
               what="withdrawn prefixes to leave fpm-sink",
               describe=lambda: {p: lab.sink_route(p) for p in withdrawn})
    zebra = lab.dut.routes_json()
    assert not set(withdrawn) & set(zebra), "zebra still has withdrawn routes"

    # No route at all: the DUT's kernel has none either and answers with ICMP /
    # ICMPv6 destination unreachable from its address towards h3.
    for dst, src in ((gone_v4, "10.0.2.1"), (gone_v6, "fd00:2::1")):
        res = ping(lab.run.ns("h3"), dst, count=1)
        assert res.returncode != 0 and "nreachable" in res.stdout and src in res.stdout, \
            f"ping {dst}: expected 'unreachable' from {src}, got:\n{res.stdout}"
    # And the fast path punted it: no_route, nothing redirected.
    summary, got, delta = lab.send_and_count("h3", "h1", [gone_v4, gone_v6], count=20,
                                             pps=2000, timeout=1.0)
    print(f"after withdrawal: {nonzero(delta)}")
    assert got["n"] == 0, f"{got['n']} datagrams still delivered to withdrawn prefixes"
    assert delta["reasons"].get("no_route", 0) >= summary["sent"], nonzero(delta)
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)

    # Covered by 100.65.0.0/16 via r1: still delivered, still by XDP.
    summary, got, delta = lab.send_and_count("h3", "h1", [covered], count=50, pps=2000)
    assert got["n"] == summary["sent"], (summary, got["n"])
    assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)

    # Announce again: the fast path takes the prefixes back.
    lab.router("r1").config(
        f"router bgp {lab.R1_AS}", "address-family ipv4 unicast",
        f"network {WITHDRAW_V4}", f"network {WITHDRAW_COVERED}", "exit-address-family",
        "address-family ipv6 unicast", f"network {WITHDRAW_V6}", "exit-address-family",
        daemon="bgpd")
    lab.wait_offloaded(withdrawn, timeout=30)
    lab.wait_fast_path("h3", "h1", [gone_v4, gone_v6])
