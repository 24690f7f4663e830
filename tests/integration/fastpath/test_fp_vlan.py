"""802.1Q subinterfaces in the fast path (issue 12 part 3), with real VLAN devices.

    h2 (10.0.2.2, 10.99.0.1) --eth0/eth2-- dut --eth1 (eth1.10: VID 10)-- h1 (eth0.10: 10.0.10.2, 10.98.0.1)

fpm-sink serves eth1 and eth2; eth1.10 is routed through eth1's program (it is
never attached itself). A scripted FPM client (no FRR) gives it
10.99.0.0/24 via 10.0.2.2 (eth2, untagged) and 10.98.0.0/24 via 10.0.10.2
(eth1.10, tagged); the kernel gets the same routes. A ping from 10.99.0.1 to
10.98.0.1 then crosses the DUT both ways in XDP: requests enter untagged and
leave with tag 10 pushed, replies enter tagged on eth1.10 (counted there) and
leave untagged. Removing the subinterface stops routing it.

h1's eth0 sends with tx-vlan-offload off, so the tag is in the frame XDP sees
(see README, "VLAN subinterfaces", on NICs that strip tags). Needs the kernel's 8021q module: the test skips, saying so, where
`ip link add link eth1 name eth1.10 type vlan id 10` fails (as on the
development VM). The BPF and mirror levels are tested without it
(tests/bpf/xdp/vlan_test.cpp, tests/unit/kernel/vlan_link_test.cpp).
"""


import pytest

from fpmtest import FpmSink, wait_until
from fpmtest import fpmclient as nl
from fpmtest.fastpath import enable_napi, ns_python

PINGS = 50


def add_vlan(ns, parent, vid, addr=None):
    name = f"{parent}.{vid}"
    res = ns.exec(["ip", "link", "add", "link", parent, "name", name, "type", "vlan",
                   "id", str(vid)], check=False)
    if res.returncode != 0:
        pytest.skip(f"no VLAN devices on this kernel (8021q module missing?): "
                    f"{(res.stderr or '').strip()}")
    if addr:
        ns.exec(["ip", "addr", "add", addr, "dev", name])
    ns.exec(["ip", "link", "set", name, "up"])
    return name


def interface(sink, name):
    for i in sink.ctl("show", "interfaces")["interfaces"]["interfaces"]:
        if i["name"] == name:
            return i
    return None


def port_counters(sink, name):
    for p in sink.counters()["interfaces"]:
        if p["name"] == name:
            return p
    return {}


def test_vlan_subinterface_routed_both_ways(run, sink_bins):
    dut, h1, h2 = run.ns("dut"), run.ns("h1"), run.ns("h2")
    run.link("dut", "eth1", "h1", "eth0")
    run.link("dut", "eth2", "h2", "eth0", addrs_a=["10.0.2.1/24"], addrs_b=["10.0.2.2/24"])
    add_vlan(dut, "eth1", 10, "10.0.10.1/24")
    add_vlan(h1, "eth0", 10, "10.0.10.2/24")
    # veth hands a VLAN device's tag over as skb metadata (tx-vlan-offload), which
    # XDP does not see: the frame would look untagged. A NIC's wire always has it.
    ns_python(h1, "fpmtest.xdp", "txvlan", "eth0", "off")
    # The far ends accept what XDP redirects into their veth peers.
    enable_napi(h1, "eth0")
    enable_napi(h2, "eth0")
    h1.exec(["ip", "addr", "add", "10.98.0.1/32", "dev", "lo"])
    h1.exec(["ip", "route", "add", "default", "via", "10.0.10.1"])
    h2.exec(["ip", "addr", "add", "10.99.0.1/32", "dev", "lo"])
    h2.exec(["ip", "route", "add", "default", "via", "10.0.2.1"])
    dut.exec(["ip", "route", "add", "10.98.0.0/24", "via", "10.0.10.2"])
    dut.exec(["ip", "route", "add", "10.99.0.0/24", "via", "10.0.2.2"])

    sink = FpmSink(dut, *sink_bins, interfaces=["eth1", "eth2"]).start()
    sub = wait_until(lambda: (i := interface(sink, "eth1.10")) and i.get("vlan", {}).get("routed")
                     and i, 15, what="eth1.10 routed", describe=sink.tail)
    assert sub["vlan"] == {"parent_ifindex": dut.ifindex("eth1"), "parent_name": "eth1",
                           "id": 10, "protocol": "802.1Q", "routed": True}
    assert sub["attach"] == "none", "a VLAN device is never attached itself"

    fpm = nl.FpmClient(netns=dut.name)
    fpm.add(nl.nexthop_add(1, "10.0.2.2", dut.ifindex("eth2")))
    fpm.add(nl.nexthop_add(2, "10.0.10.2", dut.ifindex("eth1.10")))
    fpm.add(nl.route_add("10.99.0.0/24", nh_id=1))
    fpm.add(nl.route_add("10.98.0.0/24", nh_id=2))
    fpm.flush()
    run.on_close(fpm.close)

    def offloaded():
        routes = {r["prefix"]: r for r in sink.routes().get("routes", [])}
        return all(routes.get(p, {}).get("offload") == "installed"
                   for p in ("10.99.0.0/24", "10.98.0.0/24"))
    wait_until(offloaded, 15, what="routes offloaded", describe=sink.tail)

    # The first packets resolve the neighbours through the kernel; then XDP.
    h2.exec(["ping", "-q", "-c", "3", "-W", "2", "-I", "10.99.0.1", "10.98.0.1"], check=False)

    def resolved():
        valid = {n["gateway"] for n in sink.nexthops()["nexthops"]["nexthops"]
                 if n["state"] == "valid"}
        return {"10.0.2.2", "10.0.10.2"} <= valid
    wait_until(resolved, 15, what="both next hops valid", describe=sink.tail)
    before_sub = port_counters(sink, "eth1.10").get("redirect", 0)
    before_eth2 = port_counters(sink, "eth2").get("redirect", 0)
    res = h2.exec(["ping", "-q", "-c", str(PINGS), "-i", "0.01", "-W", "2", "-I", "10.99.0.1",
                   "10.98.0.1"], check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert " 0% packet loss" in res.stdout, res.stdout
    # Requests: untagged in on eth2, tag pushed; replies: tagged in on eth1.10, tag popped.
    assert port_counters(sink, "eth2").get("redirect", 0) - before_eth2 >= PINGS
    assert port_counters(sink, "eth1.10").get("redirect", 0) - before_sub >= PINGS

    # An unknown VID on the same port punts, counted on the port.
    add_vlan(h1, "eth0", 11, "10.0.11.2/24")
    # (ARP requests for an address nobody has, tagged 11.)
    h1.exec(["ping", "-q", "-c", "2", "-W", "1", "10.0.11.1"], check=False)
    wait_until(lambda: sink.counters()["reasons"].get("vlan_unknown", 0) >= 1, 10,
               what="vlan_unknown counted", describe=sink.tail)

    # The subinterface goes: not routed any more, the process stays up.
    dut.exec(["ip", "link", "del", "eth1.10"])
    wait_until(lambda: interface(sink, "eth1.10") is None, 15, what="eth1.10 forgotten",
               describe=sink.tail)
    assert sink.alive(), sink.tail()
    assert "eth1.10" not in {p["name"] for p in sink.counters()["interfaces"]}
