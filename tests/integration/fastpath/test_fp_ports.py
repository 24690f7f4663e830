"""Ports that appear and vanish while fpm-sink runs (no FRR needed).

Interfaces named with --interface need not exist at start-up: hot-plugged
NICs, veths made by a container manager, links renamed into place. fpm-sink
must attach its XDP program when a configured port appears, forget it cleanly
when it goes (the process stays up, nothing else changes), attach again when
it comes back under a new ifindex, never touch an interface it was not asked
for, and detach everything on a normal stop.
"""

import json
import os

import pytest

from fpmtest import FpmSink, Run, wait_until


@pytest.fixture
def run(sink_bins):
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, XDP)")
    r = Run()
    try:
        yield r
    finally:
        r.close()


def xdp_prog_id(ns, ifname):
    """Id of the XDP program attached to ifname, None if none or no such link."""
    res = ns.exec(["ip", "-j", "-d", "link", "show", "dev", ifname], check=False)
    if res.returncode != 0:
        return None
    link = json.loads(res.stdout)[0]
    xdp = link.get("xdp") or {}
    prog = xdp.get("prog") or {}
    if prog.get("id"):
        return prog["id"]
    for attached in xdp.get("attached", []):
        if attached.get("prog", {}).get("id"):
            return attached["prog"]["id"]
    return None


def ports(sink):
    return {p["name"]: p["ifindex"] for p in sink.counters()["interfaces"]}


def test_ports_attach_on_appear_and_detach_on_vanish(run, sink_bins):
    dut = run.ns("dut")
    sink = FpmSink(dut, *sink_bins, interfaces=["late0", "late1"]).start()
    assert ports(sink) == {}, "no configured port exists yet"

    # A configured port appears: attached, and its counters are kept.
    run.link("dut", "late0", "peer", "p0")
    wait_until(lambda: xdp_prog_id(dut, "late0") and "late0" in ports(sink), 15,
               what="XDP on late0", describe=sink.tail)
    first_ifindex = ports(sink)["late0"]
    assert first_ifindex == dut.ifindex("late0")

    # One not asked for is left alone. It is created before late1, and the
    # kernel reports links in order, so once late1 is attached other0 has been
    # seen and passed over.
    run.link("dut", "other0", "peer", "p1")
    run.link("dut", "late1", "peer", "p2")
    wait_until(lambda: "late1" in ports(sink), 15, what="late1 attached", describe=sink.tail)
    assert xdp_prog_id(dut, "other0") is None
    assert "other0" not in ports(sink)
    prog = xdp_prog_id(dut, "late1")
    assert prog and prog == xdp_prog_id(dut, "late0"), "one program serves every port"

    # The port vanishes: forgotten, the process and the other port unaffected.
    dut.exec(["ip", "link", "del", "late0"])
    wait_until(lambda: "late0" not in ports(sink), 15, what="late0 forgotten",
               describe=sink.tail)
    assert sink.alive(), sink.tail()
    assert "late1" in ports(sink)
    assert xdp_prog_id(dut, "late1") == prog

    # It comes back (a new ifindex): attached again.
    run.link("dut", "late0", "peer", "p3")
    wait_until(lambda: xdp_prog_id(dut, "late0") and "late0" in ports(sink), 15,
               what="XDP on late0 again", describe=sink.tail)
    assert ports(sink)["late0"] == dut.ifindex("late0") != first_ifindex

    with open(sink.log, encoding="utf-8") as f:
        log = f.read()
    assert log.count("dataplane.port.attached late0") == 2, log
    assert "dataplane.port.removed" in log, log

    # A normal stop (no --keep-fast-path) detaches from every port.
    assert sink.stop() == 0
    assert xdp_prog_id(dut, "late0") is None
    assert xdp_prog_id(dut, "late1") is None
