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

from fpmtest import FpmSink, wait_until
from fpmtest.netns import sh


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


def test_a_port_dropped_from_the_configuration_is_detached_at_restart(run, sink_bins):
    """--keep-fast-path leaves every port attached; the next run, configured
    without one of them, must detach it and forget it in the maps instead of
    forwarding on (and redirecting to) a port nobody asked for."""
    bpffs = os.path.join(run.dir, "bpffs")  # pins must outlive the process
    os.makedirs(bpffs)
    sh(["mount", "-t", "bpf", "bpf", bpffs])
    run.on_close(lambda: sh(["umount", "-l", bpffs], check=False))
    dut = run.ns("dut")
    run.link("dut", "keep0", "peer", "p0")
    run.link("dut", "drop0", "peer", "p1")
    dut.exec(["ip", "addr", "add", "192.0.2.1/24", "dev", "drop0"])
    args = ["--keep-fast-path", "--bpffs", os.path.join(bpffs, "fpm-sink")]
    sink = FpmSink(dut, *sink_bins, interfaces=["keep0", "drop0"], extra_args=args).start()
    wait_until(lambda: set(ports(sink)) == {"keep0", "drop0"}, 15, what="both ports",
               describe=sink.tail)
    prog = xdp_prog_id(dut, "drop0")
    assert prog
    assert sink.stop() == 0
    # Kept: still attached with nobody running.
    assert xdp_prog_id(dut, "drop0") == prog
    # The address goes while fpm-sink is down: the next run must not keep
    # treating it as the router's own.
    dut.exec(["ip", "addr", "del", "192.0.2.1/24", "dev", "drop0"])

    offset = os.path.getsize(sink.log)
    sink = FpmSink(dut, *sink_bins, interfaces=["keep0"], extra_args=args).start()
    wait_until(lambda: "keep0" in ports(sink), 15, what="keep0 adopted", describe=sink.tail)
    assert xdp_prog_id(dut, "drop0") is None
    assert xdp_prog_id(dut, "keep0")
    assert set(ports(sink)) == {"keep0"}
    with open(sink.log, encoding="utf-8") as f:
        log = f.read()[offset:]
    assert f"dataplane.port.stale detached ifindex={dut.ifindex('drop0')}" in log, log
    assert "dataplane.stale_state removed ifaces=1 tx_ports=1 local4=1" in log, log
    sink.stop()


def test_reload_attaches_and_detaches_ports(run, sink_bins):
    """SIGHUP with a changed [fast-path] interface list: a newly named port is
    attached, a port no longer named is detached, without a restart."""
    import signal

    dut = run.ns("dut")
    run.link("dut", "cfg0", "peer", "q0")
    run.link("dut", "cfg1", "peer", "q1")
    config = os.path.join(run.dir, "fpm-sink.toml")
    with open(config, "w") as f:
        f.write('[fast-path]\ninterface = ["cfg0"]\n')
    sink = FpmSink(dut, *sink_bins, extra_args=["--config", config]).start()
    wait_until(lambda: "cfg0" in ports(sink), 15, what="cfg0 attached", describe=sink.tail)
    assert xdp_prog_id(dut, "cfg1") is None

    with open(config, "w") as f:
        f.write('[fast-path]\ninterface = ["cfg1"]\n')
    sink.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: set(ports(sink)) == {"cfg1"}, 15, what="cfg1 in, cfg0 out",
               describe=sink.tail)
    assert xdp_prog_id(dut, "cfg1") is not None
    assert xdp_prog_id(dut, "cfg0") is None
    assert "config.reload.applied key=fast-path.interface old=cfg0 new=cfg1" in sink.tail(60)
    assert sink.alive()
