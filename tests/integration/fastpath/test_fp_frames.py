"""Issue 8 items 1 and 3: the fast path routes only frames the router's port owns.

Lab (fpmtest.fastpath.StaticLab): h1 - dut - r2 - h2, statics on the DUT.

- A promiscuous port (tcpdump, a bridge, a macvlan lower device) also receives
  unicast frames addressed to other hosts. The kernel drops those
  (PACKET_OTHERHOST); XDP must not route them: they punt with "other_host".
  h1 is made to address the DUT's gateway by a MAC that is not the DUT's.
- A port enslaved to a bridge (or a VRF, a bond) is not routed in the main
  table: every frame punts with "enslaved"; released, it is routed again.
"""

import pytest

from fpmtest.fastpath import StaticLab, nonzero
from fpmtest.poll import wait_until

V4 = StaticLab.H2_V4
V6 = StaticLab.H2_V6
COUNT = 100
OTHER_MAC = "02:00:5e:10:20:30"


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg):
    lab = StaticLab(module_run, sink_bins, use_nhg=use_nhg).start()
    lab.receiver("h2")
    return lab


def test_frames_for_another_mac_are_not_routed(lab):
    lab.wait_fast_path("h1", "h2", V4 + V6)
    dut, h1 = lab.run.ns("dut"), lab.run.ns("h1")
    dut.exec(["ip", "link", "set", "eth1", "promisc", "on"])
    for gw in ("10.0.1.1", "fd00:1::1"):
        h1.exec(["ip", "neigh", "replace", gw, "lladdr", OTHER_MAC, "dev", "eth0",
                 "nud", "permanent"])
    try:
        summary, got, delta = lab.send_and_count("h1", "h2", V4 + V6, count=COUNT,
                                                 pps=2000, timeout=2)
    finally:
        for gw in ("10.0.1.1", "fd00:1::1"):
            h1.exec(["ip", "neigh", "del", gw, "dev", "eth0"], check=False)
        dut.exec(["ip", "link", "set", "eth1", "promisc", "off"])
    assert summary["sent"] == summary["planned"], summary
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
    assert delta["reasons"].get("other_host", 0) >= summary["sent"], nonzero(delta)
    assert got["n"] == 0, f"{got['n']} frames for {OTHER_MAC} reached h2"
    # Addressed to the DUT again: routed by XDP again.
    lab.wait_fast_path("h1", "h2", V4 + V6)


def test_bridge_port_punts_everything(lab):
    lab.wait_fast_path("h1", "h2", V4 + V6)
    dut = lab.run.ns("dut")
    dut.exec(["ip", "link", "add", "br-fpm", "type", "bridge"])
    try:
        dut.exec(["ip", "link", "set", "br-fpm", "up"])
        dut.exec(["ip", "link", "set", "eth1", "master", "br-fpm"])

        def enslaved_punts():
            _s, _g, d = lab.send_and_count("h1", "h2", V4, count=3, timeout=0.5)
            return d["reasons"].get("enslaved", 0) >= 3
        wait_until(enslaved_punts, 15, interval=0.3, what="eth1 enslaved in fpm-sink",
                   describe=lab.describe)
        summary, got, delta = lab.send_and_count("h1", "h2", V4 + V6, count=COUNT,
                                                 pps=2000, timeout=2)
    finally:
        dut.exec(["ip", "link", "set", "eth1", "nomaster"], check=False)
        dut.exec(["ip", "link", "del", "br-fpm"], check=False)
    assert summary["sent"] == summary["planned"], summary
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
    assert delta["reasons"].get("enslaved", 0) >= summary["sent"], nonzero(delta)
    # Released from the bridge: routed by XDP again.
    lab.wait_fast_path("h1", "h2", V4 + V6)
