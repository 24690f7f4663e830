"""(b) eBGP: peer1 (AS 65002) announces v4 and v6 prefixes to dut (AS 65001);
they reach fpm-sink as zebra installs them. (c) withdrawing BGP networks and
static routes: fpm-sink follows."""

from fpmtest.topology import BASE_STATICS, PEER_AS, Lab, bgp_networks

V4_COUNT, V6_COUNT = 150, 30


def bgp_prefixes(fib):
    return {k[1] for k in fib if k[1].startswith(("100.", "2001:db8:100:"))}


def start(run, sink_bins, v4=V4_COUNT, v6=V6_COUNT):
    lab = Lab(run, sink_bins=sink_bins)
    lab.start_sink()
    lab.start_dut(BASE_STATICS, bgp=True)
    networks = bgp_networks(v4, v6)
    lab.start_bgp_peer(networks)
    lab.wait_bgp_up()
    lab.wait_zebra(lambda fib: bgp_prefixes(fib) == set(networks), timeout=90,
                   what=f"{len(networks)} BGP routes in zebra's FIB")
    return lab, networks


def test_bgp_routes_arrive(frr, run, sink_bins):
    lab, networks = start(run, sink_bins)
    fib = lab.wait_sink_matches()
    assert bgp_prefixes(fib) == set(networks)
    routes = {r["prefix"]: r for r in lab.sink.routes()["routes"]}
    r = routes[networks[0]]
    assert r["protocol_id"] == 186 and r["protocol"] == "bgp"
    assert [n.get("gateway") for n in r["nexthops"]] == ["10.0.1.2"]
    # IPv6 BGP routes use the peer's link-local address as next hop.
    v6 = routes[networks[-1]]
    assert v6["nexthops"][0]["gateway"].startswith("fe80:")
    assert v6["nexthops"][0]["ifindex"] == lab.dut_ns.ifindex("eth1")


def test_withdraw_follows(frr, run, sink_bins):
    lab, networks = start(run, sink_bins, v4=100, v6=20)
    lab.wait_sink_matches()

    withdrawn = networks[:40] + networks[-10:]
    v4_lines = [f"no network {p}" for p in withdrawn if ":" not in p]
    v6_lines = [f"no network {p}" for p in withdrawn if ":" in p]
    lab.peer1.config(f"router bgp {PEER_AS}", "address-family ipv4 unicast", *v4_lines,
                     "exit-address-family", "address-family ipv6 unicast", *v6_lines,
                     daemon="bgpd")
    # Statics: drop one ECMP member, a blackhole and a v6 route.
    lab.dut.config("no ip route 198.51.100.0/24 10.0.2.2",
                   "no ip route 203.0.113.0/24 blackhole",
                   "no ipv6 route 2001:db8:10::/48 fd00:1::2", daemon="staticd")

    gone = set(withdrawn) | {"203.0.113.0/24", "2001:db8:10::/48"}
    lab.wait_zebra(lambda fib: not gone & {k[1] for k in fib}, timeout=60,
                   what="zebra to drop the withdrawn routes")
    fib = lab.wait_sink_matches()
    assert not gone & {k[1] for k in fib}
    assert bgp_prefixes(fib) == set(networks) - set(withdrawn)
    ecmp = lab.sink.routes("198.51.100.0/24")["routes"]
    assert [n.get("gateway") for n in ecmp[0]["nexthops"]] == ["10.0.1.2"]
