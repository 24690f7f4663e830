"""VRF tables with real VRF devices (no FRR: a scripted FPM client plays zebra).

A port enslaved to a VRF is routed in the VRF's table: fpm-sink mirrors the
VRF device (kind "vrf", IFLA_VRF_TABLE) and the port's IFLA_MASTER, gives the
table a fast-path slot with its first route, and the port's entry names that
slot; re-enslaving and the VRF's removal follow. `show interfaces` reads the
entries XDP uses. Kernels without the vrf module (this lab's among them) make
`ip link add ... type vrf` fail: the test is then skipped with the reason; the
same logic is covered by the unit tests (synthetic rtnetlink messages, fake
map writer) and the BPF_PROG_TEST_RUN tests (tests/bpf/xdp/vrf_test.cpp).
The second test (main and bridge ports) runs on any kernel.
"""


import pytest

from fpmtest import FpmSink, wait_until
from fpmtest.fpmclient import FpmClient, nexthop_add, route_add, route_del

TABLE = 1001


def require_vrf(ns):
    res = ns.exec(["ip", "link", "add", "vrf-probe", "type", "vrf", "table", str(TABLE)],
                  check=False)
    if res.returncode != 0:
        pytest.skip("no VRF devices on this kernel (`ip link add vrf-probe type vrf table "
                    f"{TABLE}`: {(res.stderr or '').strip()})")
    ns.exec(["ip", "link", "del", "vrf-probe"])


def port(sink, name):
    for i in sink.ctl("show", "interfaces")["interfaces"]["interfaces"]:
        if i["name"] == name:
            return i
    return None


def table_of(sink, name):
    p = port(sink, name)
    return (p.get("table"), p.get("table_slot")) if p and p.get("attach") != "none" else None


def test_vrf_port_routes_in_its_table(run, sink_bins):
    dut = run.ns("dut")
    require_vrf(dut)
    dut.exec(["ip", "link", "add", "vrf-red", "type", "vrf", "table", str(TABLE)])
    dut.exec(["ip", "link", "set", "vrf-red", "up"])
    run.link("dut", "red0", "peer", "r0", addrs_a=["10.77.1.1/24"], addrs_b=["10.77.1.2/24"])
    run.link("dut", "main0", "peer", "m0", addrs_a=["10.78.1.1/24"], addrs_b=["10.78.1.2/24"])
    dut.exec(["ip", "link", "set", "red0", "master", "vrf-red"])
    sink = FpmSink(dut, *sink_bins, interfaces=["red0", "main0"]).start()

    # The VRF has no route yet: its port has no slot and punts (no_table).
    wait_until(lambda: table_of(sink, "red0") == (TABLE, -1), 15, what="red0 in table 1001",
               describe=lambda: f"{port(sink, 'red0')}\n{sink.tail()}")
    assert table_of(sink, "main0") == (254, 0)
    assert port(sink, "vrf-red")["vrf_table"] == TABLE

    # zebra sends a route of the VRF's table: it gets a slot and its port uses it.
    client = FpmClient(netns=dut.name)
    client.add(nexthop_add(1, "10.77.1.2", dut.ifindex("red0")))
    client.add(route_add("10.99.0.0/16", nh_id=1, table=TABLE))
    client.flush()
    wait_until(lambda: (table_of(sink, "red0") or (0, -1))[1] > 0, 15, what="red0's slot",
               describe=lambda: f"{port(sink, 'red0')}\n{sink.tail()}")
    slot = table_of(sink, "red0")[1]
    routes = sink.routes(table=TABLE).get("routes", [])
    assert any(r["prefix"] == "10.99.0.0/16" and r.get("offload") == "installed"
               for r in routes), routes

    # Released from the VRF: main; enslaved again: the table's slot.
    dut.exec(["ip", "link", "set", "red0", "nomaster"])
    wait_until(lambda: table_of(sink, "red0") == (254, 0), 15, what="red0 back in main")
    dut.exec(["ip", "link", "set", "red0", "master", "vrf-red"])
    wait_until(lambda: table_of(sink, "red0") == (TABLE, slot), 15, what="red0 in red again")

    # The table's last route goes: no slot, the port punts again.
    client.add(route_del("10.99.0.0/16", table=TABLE))
    client.flush()
    wait_until(lambda: table_of(sink, "red0") == (TABLE, -1), 15, what="slot given back")

    # The VRF vanishes: its port is released into main.
    dut.exec(["ip", "link", "del", "vrf-red"])
    wait_until(lambda: table_of(sink, "red0") == (254, 0), 15, what="red0 in main")
    assert sink.alive(), sink.tail()
    client.close()


def test_ports_outside_vrfs_show_their_table(run, sink_bins):
    """Runs on any kernel: a plain port is in main (slot 0); a bridge's port
    punts everything (table 0, no slot) until it is released."""
    dut = run.ns("dut")
    run.link("dut", "main0", "peer", "m0", addrs_a=["10.78.1.1/24"], addrs_b=["10.78.1.2/24"])
    run.link("dut", "brp0", "peer", "b0")
    sink = FpmSink(dut, *sink_bins, interfaces=["main0", "brp0"]).start()
    wait_until(lambda: table_of(sink, "main0") == (254, 0), 15, what="main0 in main",
               describe=lambda: f"{port(sink, 'main0')}\n{sink.tail()}")
    wait_until(lambda: table_of(sink, "brp0") == (254, 0), 15, what="brp0 in main")
    res = dut.exec(["ip", "link", "add", "br0", "type", "bridge"], check=False)
    if res.returncode != 0:
        pytest.skip(f"no bridge devices on this kernel: {(res.stderr or '').strip()}")
    dut.exec(["ip", "link", "set", "br0", "up"])
    dut.exec(["ip", "link", "set", "brp0", "master", "br0"])
    wait_until(lambda: table_of(sink, "brp0") == (0, -1), 15, what="brp0 enslaved",
               describe=lambda: f"{port(sink, 'brp0')}\n{sink.tail()}")
    assert port(sink, "brp0")["master_kind"] == "bridge"
    text = sink.ctl("show", "interfaces", as_json=False)
    assert "Table: main (254), fast-path slot 0" in text, text
    dut.exec(["ip", "link", "set", "brp0", "nomaster"])
    wait_until(lambda: table_of(sink, "brp0") == (254, 0), 15, what="brp0 released")
    assert sink.alive(), sink.tail()
