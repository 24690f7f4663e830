"""Restarting fpm-sink under traffic with --keep-fast-path.

UDP flows h1 -> h2 run while fpm-sink is stopped and started again. Who
forwarded them is told by the DUT kernel's own forwarding counters (Ip:
ForwDatagrams, Ip6OutForwDatagrams; see test_fp_static): a punted packet is
routed by the kernel and moves them, an XDP-redirected one does not.

- warm restart (the default): the XDP program and its pinned tables keep
  forwarding while fpm-sink is down; the new process adopts them, stages its
  own tables behind them from zebra's replay and publishes those once the
  replay has caught up. Nothing may be lost, and the kernel forwards none.
- cold restart (--warm-restart-timeout 0): the tables are emptied at start, so
  what arrives before zebra's replay is punted and the kernel forwards it. Its
  counters moving shows that the test sees a gap when there is one.

The pins must outlive the process: `ip netns exec` gives every process its
own mount namespace, so a bpffs mounted there by fpm-sink would vanish with
it. The test mounts one in its run directory, which every process sees.
"""

import json
import os

import pytest

from fpmtest import wait_until
from fpmtest.fastpath import (StaticLab, kernel_forwarded, kernel_forwarded_delta, nonzero,
                              udp_send)
from fpmtest.netns import sh

DSTS = StaticLab.H2_V4 + StaticLab.H2_V6
PPS = 1000
ROUNDS = 2500  # per destination: 10 s at PPS, longer than a restart


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg):
    bpffs = os.path.join(module_run.dir, "bpffs")
    os.makedirs(bpffs)
    sh(["mount", "-t", "bpf", "bpf", bpffs])
    # Runs after the namespaces' processes are stopped (closers run in reverse).
    module_run.on_close(lambda: sh(["umount", "-l", bpffs], check=False))
    args = ["--keep-fast-path", "--bpffs", os.path.join(bpffs, "fpm-sink")]
    lab = StaticLab(module_run, sink_bins, use_nhg=use_nhg, sink_args=args).start()
    lab.receiver("h2")
    lab.wait_fast_path("h1", "h2", DSTS)
    return lab


def log_text(sink):
    with open(sink.log, encoding="utf-8", errors="replace") as f:
        return f.read()


def restart_under_traffic(lab, extra_args, ready):
    """Restart fpm-sink while h1 sends; return (summary, received, log of the
    new process, what the DUT kernel forwarded meanwhile). ready(log) says when
    the new process is done restarting."""
    rx = lab.receiver("h2")
    sink = lab.sink
    kernel_before = kernel_forwarded(lab.dut_ns)
    sender = udp_send(lab.run.ns("h1"), DSTS, count=ROUNDS, pps=PPS, background=True,
                      timeout=120)
    # Restart in the middle of the stream, once it is seen flowing.
    wait_until(lambda: rx.run_stats(sender.run_id)["n"] >= PPS // 2, 10,
               what="traffic before the restart")
    assert sink.stop() == 0, sink.tail()
    offset = os.path.getsize(sink.log)
    sink.extra_args = [a for a in sink.extra_args if a not in extra_args] + list(extra_args)
    sink.start()
    wait_until(lambda: ready(log_text(sink)[offset:]), 60, what="fpm-sink restarted",
               describe=sink.tail)
    summary = sender()
    got = rx.wait_run(summary["run"], summary["sent"], timeout=10)
    kernel = kernel_forwarded_delta(kernel_before, kernel_forwarded(lab.dut_ns))
    return summary, got, log_text(sink)[offset:], kernel


def test_warm_restart_loses_nothing(lab):
    summary, got, log, kernel = restart_under_traffic(
        lab, [], lambda text: "dataplane.warm_restart.committed" in text)
    assert summary["sent"] == summary["planned"], summary["errors"]
    print(f"warm restart: sent {summary['sent']} in {summary['seconds']} s, "
          f"received {got['n']}, kernel forwarded {kernel}")
    for line in log.splitlines():
        if "dataplane.warm_restart" in line:
            print(line)
    assert "dataplane.warm_restart.staging" in log, log
    assert 'reason="replay caught up"' in log, log
    assert got["n"] == summary["sent"], \
        f"lost {summary['sent'] - got['n']} of {summary['sent']} across a warm restart\n{log}"
    assert kernel == {"v4": 0, "v6": 0}, \
        f"the kernel forwarded {kernel} of {summary['sent']} across a warm restart\n{log}"
    # The previous run's host entries (r2, a neighbour on the connected eth2
    # subnet) are cleared at start, whatever their key, and come back from
    # this run's own view of the neighbours.
    assert "dataplane.hosts.purged map=fpm_hosts4" in log, log
    wait_until(lambda: lab.sink.nexthops()["nexthops"].get("hosts", {}).get("v4", 0) >= 1, 10,
               what="host entries back after the restart", describe=lab.describe)
    # The restarted process serves the routes from its own tables now.
    lab.wait_offloaded([p for p, _gw in StaticLab.STATICS])
    summary, got, delta = lab.send_and_count("h1", "h2", DSTS, count=50, pps=2000)
    assert got["n"] == summary["sent"]
    assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)


def test_cold_restart_punts_until_the_replay(lab):
    summary, got, log, kernel = restart_under_traffic(
        lab, ["--warm-restart-timeout", "0"],
        lambda text: "fpm.session.accepted" in text)
    print(f"cold restart: sent {summary['sent']}, received {got['n']}, "
          f"kernel forwarded {kernel}")
    assert "dataplane.warm_restart.staging" not in log, log
    assert kernel["v4"] > 0 and kernel["v6"] > 0, \
        f"a cold restart punts until the replay, the kernel must have forwarded: {kernel}"


def nexthops_on(pin_dir, ifindex):
    """fpm_nexthops entries (from the pinned map) whose egress is ifindex."""
    res = sh(["bpftool", "-j", "map", "dump", "pinned", os.path.join(pin_dir, "fpm_nexthops")])
    out = []
    for entry in json.loads(res.stdout):
        value = entry.get("formatted", entry).get("value", {})
        if isinstance(value, dict) and value.get("ifindex") == ifindex:
            out.append(value)
    return out


def test_a_link_lost_while_down_fails_the_adopted_next_hops(lab):
    """While fpm-sink was down a port died; until the new tables are published
    the adopted ones must not keep sending into it. zebra is kept away so the
    staging lasts; the adopted next hops on the dead port must be failed."""
    sink, dut = lab.sink, lab.dut
    pin_dir = sink.extra_args[sink.extra_args.index("--bpffs") + 1]
    eth2 = lab.dut_ns.ifindex("eth2")
    assert any(nh["state"] == 1 for nh in nexthops_on(pin_dir, eth2)), "no usable next hop on eth2"
    assert sink.stop() == 0
    if "--warm-restart-timeout" in sink.extra_args:  # left by the cold restart
        i = sink.extra_args.index("--warm-restart-timeout")
        del sink.extra_args[i:i + 2]
    dut.stop_daemon("staticd")
    dut.stop_daemon("zebra")
    lab.dut_ns.exec(["ip", "link", "set", "eth2", "down"])
    try:
        offset = os.path.getsize(sink.log)
        sink.start()
        wait_until(lambda: "dataplane.started" in log_text(sink)[offset:], 15,
                   what="fpm-sink started", describe=sink.tail)
        log = log_text(sink)[offset:]
        assert "dataplane.warm_restart.staging" in log, log
        assert "dataplane.warm_restart.nexthops_failed" in log, log
        states = [nh["state"] for nh in nexthops_on(pin_dir, eth2)]
        assert states and all(s == 2 for s in states), states
    finally:
        lab.dut_ns.exec(["ip", "link", "set", "eth2", "up"])
        # Down flushed eth2's IPv6 addresses (keep_addr_on_down is 0).
        lab.dut_ns.exec(["ip", "addr", "replace", "fd00:2::1/64", "dev", "eth2"])
        dut.start("zebra", "staticd")
    lab.wait_fpm_connected()
    wait_until(lambda: "dataplane.warm_restart.committed" in log_text(sink)[offset:], 30,
               what="the staged tables published", describe=sink.tail)
    lab.wait_offloaded([p for p, _gw in StaticLab.STATICS])
    lab.wait_fast_path("h1", "h2", DSTS)


def port_redirects(counters, ifname):
    return next(p.get("redirect", 0) for p in counters["interfaces"] if p["name"] == ifname)


def restart(lab, logged):
    """Stop and start fpm-sink (its maps stay pinned: --keep-fast-path); wait
    until the new process has logged `logged`, return its log."""
    sink = lab.sink
    assert sink.stop() == 0, sink.tail()
    offset = os.path.getsize(sink.log)
    sink.start()
    wait_until(lambda: logged in log_text(sink)[offset:], 15, what=logged, describe=sink.tail)
    return log_text(sink)[offset:]


def test_a_clear_survives_a_restart_that_keeps_the_counter_maps(lab):
    """`clear counters`, then a restart: the new process shows the counts since
    the clear (not the maps' totals, which the warm-up probes already raised)
    and the same cleared-at time, and goes on counting from there."""
    sink = lab.sink
    raw = sink.counters()
    assert raw["verdicts"]["redirect"] > 0, raw["verdicts"]
    sink.ctl("clear", "counters")
    baseline_file = os.path.join(sink.dir, "control.counter-baseline")
    assert os.path.exists(baseline_file)
    summary, got, _ = lab.send_and_count("h1", "h2", DSTS, count=5)
    assert got["n"] == summary["sent"]
    before = sink.counters()
    assert before["cleared_at"] > 0
    assert before["verdicts"]["redirect"] >= summary["sent"], before["verdicts"]

    log = restart(lab, "dataplane.started")
    assert "app.counter_baseline.restored" in log, log
    after = sink.counters()
    assert after["cleared_at"] == before["cleared_at"], after
    assert after["verdicts"]["redirect"] == before["verdicts"]["redirect"], after["verdicts"]
    assert port_redirects(after, "eth1") == port_redirects(before, "eth1"), after["interfaces"]

    summary, got, _ = lab.send_and_count("h1", "h2", DSTS, count=5)
    assert got["n"] == summary["sent"]
    later = sink.counters()
    assert later["verdicts"]["redirect"] == after["verdicts"]["redirect"] + summary["sent"], later
    assert port_redirects(later, "eth1") == port_redirects(after, "eth1") + summary["sent"]


def test_a_restart_that_recreates_the_counter_maps_drops_the_clear(lab):
    """The counter maps' pins are gone when fpm-sink starts again (as after a
    stop without --keep-fast-path): new maps, new ids, and a clear of the old
    ones would subtract the wrong counts. It is dropped, and said so once."""
    sink = lab.sink
    pin_dir = sink.extra_args[sink.extra_args.index("--bpffs") + 1]
    sink.ctl("clear", "counters")
    assert sink.counters()["cleared_at"] > 0
    assert sink.stop() == 0, sink.tail()
    for name in ("fpm_stats", "fpm_iface_stats", "fpm_iface_reasons"):
        os.unlink(os.path.join(pin_dir, name))
    offset = os.path.getsize(sink.log)
    sink.start()
    wait_until(lambda: "dataplane.started" in log_text(sink)[offset:], 15,
               what="fpm-sink started", describe=sink.tail)
    log = log_text(sink)[offset:]
    discarded = [line for line in log.splitlines() if "app.counter_baseline.discarded" in line]
    assert len(discarded) == 1 and "they were recreated" in discarded[0], log
    assert sink.counters()["cleared_at"] == 0
    assert not os.path.exists(os.path.join(sink.dir, "control.counter-baseline"))


def port_verdicts(counters):
    return {p["name"]: p for p in counters["interfaces"]}


def test_a_port_keeps_its_counter_slot_and_a_gone_port_frees_its_own(lab):
    """The new process gives each port the counter slot it had, whatever the
    order ports are attached in: eth2 alone (eth1 dropped from the
    configuration) keeps its own counts, not eth1's. eth1's slot is freed, and
    when eth1 comes back it is a new owner: it starts from zero."""
    sink = lab.sink
    summary, got, _ = lab.send_and_count("h1", "h2", DSTS, count=5)
    assert got["n"] == summary["sent"]
    before = port_verdicts(sink.counters())
    assert before["eth1"]["redirect"] >= summary["sent"], before
    args = list(sink.extra_args)
    eth1 = args.index("eth1")
    sink.extra_args = args[:eth1 - 1] + args[eth1 + 1:]
    try:
        log = restart(lab, "dataplane.started")
    finally:
        sink.extra_args = args
    assert "dataplane.port.slots_freed 1 counter slots" in log, log
    alone = port_verdicts(sink.counters())
    assert set(alone) == {"eth2"}, alone
    assert alone["eth2"]["redirect"] == before["eth2"]["redirect"], (before, alone)
    assert alone["eth2"]["pass"] >= before["eth2"]["pass"], (before, alone)

    log = restart(lab, "dataplane.started")
    assert "dataplane.port.slots_freed" not in log, log
    back = port_verdicts(sink.counters())
    assert back["eth2"]["redirect"] == before["eth2"]["redirect"], (before, back)
    assert back["eth1"]["redirect"] == 0, back
    lab.wait_fast_path("h1", "h2", DSTS)
