"""Issue 12 part 1: hosts on connected subnets are forwarded by XDP.

Lab (fpmtest.fastpath.StaticLab): h1 - dut - r2 - h2. h1 (10.0.1.2, fd00:1::2)
sits on the dut's connected eth1 subnet, r2 (10.0.2.2, fd00:2::2) on its
connected eth2 subnet. Traffic between them crosses the dut between two
connected subnets: without host entries every packet punts with reason
`connected`. Once the dut's kernel has resolved them, fpm-sink mirrors the
neighbours into fpm_hosts4 / fpm_hosts6 and XDP redirects: the kernel's
forwarding counters stay still and no packet punts as `connected`. A neighbour
the kernel deletes goes back to punting (and the kernel resolves it again).
"""

import pytest

from fpmtest.fastpath import (StaticLab, kernel_forwarded, kernel_forwarded_delta, nonzero,
                              tx_csum_off)
from fpmtest.poll import wait_until

# The kernel's side: FRR only installs the connected and static routes.
ONE_FRR = True

H1 = ["10.0.1.2", "fd00:1::2"]  # on the dut's eth1
R2 = ["10.0.2.2", "fd00:2::2"]  # on the dut's eth2
COUNT = 200


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg):
    lab = StaticLab(module_run, sink_bins, use_nhg=use_nhg).start()
    # r2 sends too: its datagrams must carry full checksums over veth (fastpath.py).
    tx_csum_off(lab.run.ns("r2"), "eth0")
    lab.receiver("h1")
    lab.receiver("r2")
    return lab


def hosts(lab):
    return lab.sink.nexthops()["nexthops"].get("hosts", {})


def assert_xdp_forwarded(lab, src, dst_node, dsts):
    dut = lab.run.ns("dut")
    before = kernel_forwarded(dut)
    summary, got, delta = lab.send_and_count(src, dst_node, dsts, count=COUNT, pps=2000)
    kernel = kernel_forwarded_delta(before, kernel_forwarded(dut))
    assert summary["sent"] == summary["planned"], summary
    assert got["n"] == summary["sent"], (summary, got["n"], nonzero(delta))
    assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)
    assert delta["reasons"].get("connected", 0) == 0, nonzero(delta)
    # Redirected frames never reach the dut's IP layer.
    assert kernel == {"v4": 0, "v6": 0}, kernel


def test_hosts_on_both_sides_are_forwarded_by_xdp(lab):
    # The first packets punt (`connected`), the kernel resolves the host, the
    # mirror adds its entry: then every probe is redirected.
    lab.wait_fast_path("h1", "r2", R2)
    lab.wait_fast_path("r2", "h1", H1)
    assert_xdp_forwarded(lab, "h1", "r2", R2)
    assert_xdp_forwarded(lab, "r2", "h1", H1)
    h = hosts(lab)
    assert h.get("v4", 0) >= 2 and h.get("v6", 0) >= 2, h
    assert h.get("refused", 0) == 0, h


def test_deleted_neighbour_punts_again(lab):
    lab.wait_fast_path("h1", "r2", R2)
    dut = lab.run.ns("dut")
    v4_before = hosts(lab)["v4"]
    dut.exec(["ip", "neigh", "del", R2[0], "dev", "eth2"])
    wait_until(lambda: hosts(lab)["v4"] == v4_before - 1, 10,
               what=f"{R2[0]}'s host entry removed", describe=lab.describe)
    # Nothing has resolved it yet: the next datagram goes to the kernel,
    # which resolves the neighbour and delivers it.
    summary, got, delta = lab.send_and_count("h1", "r2", R2[:1], count=1)
    assert got["n"] == summary["sent"] == 1, (summary, got)
    assert delta["reasons"].get("connected", 0) == 1, nonzero(delta)
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
    # Resolved again by the kernel: back in the fast path.
    lab.wait_fast_path("h1", "r2", R2)
    assert_xdp_forwarded(lab, "h1", "r2", R2)


def neigh_state(ns, addr):
    return ns.exec(["ip", "-6", "neigh", "show", addr]).stdout


def test_unresolvable_neighbour_punts(lab):
    lab.wait_fast_path("r2", "h1", H1)
    dut, h1 = lab.run.ns("dut"), lab.run.ns("h1")
    v6_before = hosts(lab)["v6"]
    # h1 gives up fd00:1::2, so nobody answers the dut's solicitations: the
    # re-resolution ends INCOMPLETE / FAILED, never usable, and keeps punting.
    h1.exec(["ip", "-6", "addr", "del", "fd00:1::2/64", "dev", "eth0"])
    try:
        dut.exec(["ip", "-6", "neigh", "del", H1[1], "dev", "eth1"])
        wait_until(lambda: hosts(lab)["v6"] == v6_before - 1, 10,
                   what=f"{H1[1]}'s host entry removed", describe=lab.describe)
        _s, _g, delta = lab.send_and_count("r2", "h1", H1[1:], count=3, timeout=1)
        assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
        assert delta["reasons"].get("connected", 0) >= 1, nonzero(delta)
        wait_until(lambda: any(s in neigh_state(dut, H1[1]) for s in ("FAILED", "INCOMPLETE")),
                   10, what=f"{H1[1]} unresolvable in the dut's kernel")
        _s, _g, delta = lab.send_and_count("r2", "h1", H1[1:], count=3, timeout=1)
        assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
        assert hosts(lab)["v6"] == v6_before - 1, (hosts(lab), neigh_state(dut, H1[1]))
    finally:
        h1.exec(["ip", "-6", "addr", "add", "fd00:1::2/64", "dev", "eth0", "nodad"],
                check=False)
        h1.exec(["ip", "-6", "route", "replace", "default", "via", "fd00:1::1"], check=False)
    lab.wait_fast_path("r2", "h1", H1)
