"""The eBGP edge as a user deploys it: frr-config/clab/ebgp-edge.clab.yml
(fpmtest.fastpath.EdgeLab). Hosts h1 and h2 sit on the DUT's connected
subnets; the server sits behind the eBGP upstream. Traffic hosts -> server
is routed by the DUT via a BGP gateway and must be forwarded by XDP from
whichever port the host is on. The way back goes to a connected
destination and is not asserted here.

The file's FRR config is what is tested, not FRR versions: one FRR, both
next-hop modes (ONE_FRR).
"""

import pytest

from fpmtest.fastpath import EdgeLab, nonzero

ONE_FRR = True


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg):
    lab = EdgeLab(module_run, sink_bins, use_nhg=use_nhg).start()
    lab.receiver("server")
    return lab


def test_upstream_routes_offloaded(lab):
    for prefix in EdgeLab.SERVER_PREFIXES:
        route = lab.sink_route(prefix)
        assert route is not None and route.get("offload") == "installed", route
        gws = {n.get("gateway") for n in route["nexthops"]}
        if ":" in prefix:  # BGP over IPv6: the upstream's link-local address
            assert len(gws) == 1 and gws.pop().startswith("fe80:"), route
        else:
            assert gws == {EdgeLab.UPSTREAM[0]}, route


def test_upstream_learns_host_subnets(lab):
    """dut's 'redistribute connected' reaches the upstream: the way back."""
    upstream = lab.router("upstream")
    routes = upstream.routes_json()
    for subnet in EdgeLab.HOST_SUBNETS:
        protos = {e.get("protocol") for e in routes.get(subnet, []) if e.get("selected")}
        assert protos == {"bgp"}, (subnet, routes.get(subnet))


@pytest.mark.parametrize("host", sorted(EdgeLab.HOSTS))
def test_host_to_server_forwarded_by_xdp(lab, host):
    port = EdgeLab.HOSTS[host]
    dsts = list(EdgeLab.SERVER)
    lab.wait_fast_path(host, "server", dsts)
    summary, got, delta = lab.send_and_count(host, "server", dsts, flows=4, count=20, pps=4000)
    print(f"{host} -> server: {nonzero(delta)}")
    assert got["n"] == summary["sent"] == 2 * 4 * 20, (summary, got["n"])
    # host -> dut -> upstream -> server: two routers.
    assert got["ttl"] == {"62": summary["sent"]}, got["ttl"]
    assert lab.receiver("server").stats()["bad"] == 0
    assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)
    assert delta["interfaces"].get(port, {}).get("redirect", 0) >= summary["sent"], \
        nonzero(delta)
