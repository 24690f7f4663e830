"""(a) One router: connected, kernel, static v4/v6, ECMP and blackhole routes
reach fpm-sink exactly as zebra selected them for the FIB, with and without
`fpm use-next-hop-groups`."""

import pytest

from fpmtest.topology import BASE_STATICS, Lab

KERNEL_ROUTE = "172.31.0.0/16"


@pytest.mark.parametrize("use_nhg", [True, False], ids=["nhg", "inline"])
def test_static_and_connected_routes(frr, run, sink_bins, use_nhg):
    lab = Lab(run, sink_bins=sink_bins, use_nhg=use_nhg)
    lab.start_sink()
    lab.dut_ns.exec(["ip", "route", "add", KERNEL_ROUTE, "via", "10.0.2.2"])
    lab.start_dut(BASE_STATICS)
    lab.wait_zebra(lambda fib: {"2001:db8:20::/48", "203.0.113.0/24"} <= {k[1] for k in fib})

    fib = lab.wait_sink_matches()

    routes = {r["prefix"]: r for r in lab.sink.routes()["routes"]}
    eth1, eth2 = lab.dut_ns.ifindex("eth1"), lab.dut_ns.ifindex("eth2")
    ecmp = routes["198.51.100.0/24"]
    assert sorted((n["gateway"], n["ifindex"]) for n in ecmp["nexthops"]) == \
        [("10.0.1.2", eth1), ("10.0.2.2", eth2)]
    assert ecmp["protocol_id"] == 196 and ecmp["family"] == "ipv4"
    assert len(routes["2001:db8:20::/48"]["nexthops"]) == 2
    assert routes["2001:db8:20::/48"]["family"] == "ipv6"
    assert routes["203.0.113.0/24"]["type"] == "blackhole"
    assert routes["2001:db8:dead::/48"]["type"] == "blackhole"
    assert routes["10.0.1.0/24"]["nexthops"][0].get("gateway") is None
    assert KERNEL_ROUTE in routes and "fe80::/64" in routes
    if use_nhg:
        assert routes["198.51.100.0/24"]["nhg_id"] != 0
    else:
        assert all(r["nhg_id"] == 0 for r in routes.values())
    assert all(not r["stale"] for r in routes.values())
    assert len(fib) == len(routes)
