"""What FRR's zebra (dplane_fpm_nl) really sends: the facts the other tests
rely on, checked with a minimal Python listener instead of fpm-sink.

If FRR is upgraded and one of these fails, the comparison rule in
fpmtest/routes.py (and possibly fpm-sink) needs a look.
"""

import pytest

from fpmtest import wait_until
from fpmtest.fpmdump import FpmListener, replay_fib
from fpmtest.routes import diff_fib
from fpmtest.topology import BASE_STATICS, Lab

KERNEL_ROUTE = "172.31.0.0/16"


def start_lab_with_listener(run, use_nhg):
    lab = Lab(run, use_nhg=use_nhg)
    listener = FpmListener(netns=lab.dut_ns.name).start()
    run.on_close(listener.close)
    lab.dut_ns.exec(["ip", "route", "add", KERNEL_ROUTE, "via", "10.0.2.2"])
    lab.start_dut(BASE_STATICS)
    return lab, listener


def wait_stream_matches(lab, listener, timeout=20):
    state = {}

    def check():
        state["zebra"] = lab.zebra_fib()
        state["fpm"] = replay_fib(listener.messages())
        return state["zebra"] == state["fpm"] and len(state["zebra"]) >= 10

    wait_until(check, timeout, what="FPM stream == zebra FIB",
               describe=lambda: diff_fib(state.get("zebra", set()), state.get("fpm", set())))
    return state["zebra"]


@pytest.mark.parametrize("use_nhg", [True, False], ids=["nhg", "inline"])
def test_stream_is_selected_fib(run, use_nhg):
    lab, listener = start_lab_with_listener(run, use_nhg)
    fib = wait_stream_matches(lab, listener)
    by_prefix = {k[1]: k for k in fib}
    # Connected (incl. IPv6 link-local), kernel, static, ECMP and blackhole all travel.
    assert "10.0.1.0/24" in by_prefix and "fd00:2::/64" in by_prefix
    assert "fe80::/64" in by_prefix
    assert KERNEL_ROUTE in by_prefix
    assert len(by_prefix["198.51.100.0/24"][3]) == 2
    assert len(by_prefix["2001:db8:20::/48"][3]) == 2
    assert by_prefix["203.0.113.0/24"][2] == "blackhole"
    msgs = listener.messages()
    routes = [m for m in msgs if m["msg"] == "NEWROUTE"]
    assert {m["metric"] for m in routes} == {20}
    assert {m["protocol"] for m in routes if m["prefix"] in ("10.0.1.0/24", KERNEL_ROUTE)} == {2}
    assert {m["protocol"] for m in routes if m["prefix"] == "192.0.2.0/24"} == {196}
    blackhole = [m for m in routes if m["prefix"] == "203.0.113.0/24"][-1]
    assert blackhole["type"] == 6 and "nh_id" not in blackhole
    if use_nhg:
        assert all("nh_id" in m for m in routes if m["type"] == 1)
        assert any("group" in m for m in msgs if m["msg"] == "NEWNEXTHOP")
    else:
        assert not any(m["msg"] == "NEWNEXTHOP" for m in msgs)
        assert not any("nh_id" in m for m in routes)


def test_incremental_changes_and_no_deletes_on_stop(run):
    lab, listener = start_lab_with_listener(run, True)
    wait_stream_matches(lab, listener)
    # Incremental: a new connected route, a kernel route and a static removal.
    lab.dut_ns.exec(["ip", "addr", "add", "10.9.9.1/24", "dev", "eth2"])
    lab.dut_ns.exec(["ip", "route", "del", KERNEL_ROUTE])
    lab.dut.config("no ip route 192.0.2.0/24 10.0.1.2", daemon="staticd")
    fib = wait_stream_matches(lab, listener)
    prefixes = {k[1] for k in fib}
    assert "10.9.9.0/24" in prefixes
    assert KERNEL_ROUTE not in prefixes and "192.0.2.0/24" not in prefixes
    # zebra going away (SIGTERM) withdraws its kernel routes but sends nothing
    # over FPM: it only closes the connection.
    before = len(listener.messages())
    lab.dut.stop_daemon("zebra")
    wait_until(lambda: "CLOSE" in listener.frames, 10, what="FPM connection closed")
    assert not [m for m in listener.messages()[before:] if m["msg"].startswith("DEL")]
