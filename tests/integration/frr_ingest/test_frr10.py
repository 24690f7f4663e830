"""What FRR 10 sends that 8.4 does not (DESIGN.md "What FRR 10 changes"),
first on the wire (a Python listener in fpm-sink's place), then through
fpm-sink with its fast path attached:

- route replace (``fpm use-route-replace``, default since 9.1): an update is
  one RTM_NEWROUTE with NLM_F_REPLACE; ``no fpm use-route-replace`` brings
  back RTM_DELROUTE + RTM_NEWROUTE;
- local host routes (``L``, /32 and /128, rtm_protocol 2) since 10.0, which
  the fast path must leave to the kernel;
- RTA_MULTIPATH with NLA_F_NESTED (0x8009 on the wire), all next hops.

Skipped on FRR 8.4, which has none of it.
"""

import pytest

from fpmtest import wait_until
from fpmtest.fpmdump import FpmListener
from fpmtest.topology import BASE_STATICS, Lab

NLM_F_REPLACE = 0x100
RTA_MULTIPATH_NESTED = 0x8000 | 9
LOCAL = ["10.0.1.1/32", "10.0.2.1/32", "fd00:1::1/128", "fd00:2::1/128"]
ECMP = "198.51.100.0/24"
# (prefix, gateway before, gateway after): the gateway change behind each update.
MOVED = [("192.0.2.0/24", "10.0.1.2", "10.0.2.2"),
         ("2001:db8:10::/48", "fd00:1::2", "fd00:2::2")]


def skip_before_10(frr):
    major = int((frr.version or "0").split(".")[0])
    if major < 10:
        pytest.skip(f"FRR {frr.version} sends DELROUTE+NEWROUTE, no local routes and no "
                    "NLA_F_NESTED (route replace since 9.1, the rest since 10.0)")


def route_line(prefix, gateway, remove=False):
    kw = "ipv6" if ":" in prefix else "ip"
    return f"{'no ' if remove else ''}{kw} route {prefix} {gateway}"


def move_gateways(lab, back=False):
    """Change the gateway of every MOVED static (back=True: undo)."""
    lines = []
    for prefix, before, after in MOVED:
        old, new = (after, before) if back else (before, after)
        lines += [route_line(prefix, new), route_line(prefix, old, remove=True)]
    lab.dut.config(*lines)
    want = {p: (b if back else a) for p, b, a in MOVED}
    lab.wait_zebra(lambda fib: all(any(k[1] == p and [n[0] for n in k[3]] == [gw] for k in fib)
                                   for p, gw in want.items()),
                   what=f"zebra to move {sorted(want)} to {sorted(want.values())}")
    return want


def set_route_replace(lab, on):
    lab.dut.config(("" if on else "no ") + "fpm use-route-replace")

    def ok():
        st = lab.dut.show_json("show fpm status json", daemon="zebra")
        return st.get("useRouteReplace") is on and st.get("connected") and st
    return wait_until(ok, 30, what=f"zebra's FPM session up with useRouteReplace={on}")


# ------------------------------------------------------------------ on the wire

def test_what_frr10_sends(frr, run):
    skip_before_10(frr)
    lab = Lab(run, use_nhg=False)  # RTA_MULTIPATH needs inline next hops
    listener = FpmListener(netns=lab.dut_ns.name).start()
    run.on_close(listener.close)
    lab.start_dut(BASE_STATICS)

    def newest(prefix, msgs=None):
        found = [m for m in (listener.messages() if msgs is None else msgs)
                 if m.get("prefix") == prefix]
        return found[-1] if found else None

    wait_until(lambda: all(newest(p) for p in LOCAL + [ECMP]), 30,
               what=f"local routes and {ECMP} on the wire",
               describe=lambda: sorted({m.get("prefix") for m in listener.messages()}))
    for p in LOCAL:
        m = newest(p)
        assert m["msg"] == "NEWROUTE" and m["protocol"] == 2, m
        assert [ifi for _gw, ifi in m["nexthops"]] and all(gw is None for gw, _i in m["nexthops"]), m
    ecmp = newest(ECMP)
    assert ecmp["multipath_type"] == RTA_MULTIPATH_NESTED, hex(ecmp["multipath_type"])
    assert sorted(gw for gw, _i in ecmp["nexthops"]) == ["10.0.1.2", "10.0.2.2"]

    # Default (9.1+): an update is one NEWROUTE with NLM_F_REPLACE, no DELROUTE.
    assert lab.dut.show_json("show fpm status json", daemon="zebra")["useRouteReplace"] is True
    mark = len(listener.messages())
    want = move_gateways(lab)

    def updated(since):
        msgs = listener.messages()[since:]
        return all((m := newest(p, msgs)) and m["msg"] == "NEWROUTE" and
                   [gw for gw, _i in m["nexthops"]] == [gw] for p, gw in want.items()) and msgs
    msgs = wait_until(lambda: updated(mark), 15, what="the moved routes on the wire")
    # (The new gateway is configured before the old one goes: zebra may send
    # the ECMP step in between, one more NEWROUTE.)
    for prefix in want:
        mine = [m for m in msgs if m.get("prefix") == prefix]
        assert {m["msg"] for m in mine} == {"NEWROUTE"}, mine
        assert all(m["nl_flags"] & NLM_F_REPLACE for m in mine), mine

    # Switched off: zebra resets the session, replays, and updates are DEL + NEW again.
    set_route_replace(lab, False)
    mark = len(listener.messages())
    want = move_gateways(lab, back=True)
    msgs = wait_until(lambda: updated(mark), 15, what="the moved-back routes on the wire")
    for prefix in want:
        mine = [m for m in msgs if m.get("prefix") == prefix]
        # The NEWROUTE still carries NLM_F_REPLACE (0x501 on 10.3 and 10.7.1):
        # only the DELROUTE before it tells the two settings apart.
        assert [m["msg"] for m in mine][-2:] == ["DELROUTE", "NEWROUTE"], mine
        assert not mine[-2]["nl_flags"] & NLM_F_REPLACE, mine


# ------------------------------------------------------------------ through fpm-sink

@pytest.mark.parametrize("replace", [True, False], ids=["replace", "del-new"])
@pytest.mark.parametrize("use_nhg", [True, False], ids=["nhg", "inline"])
def test_sink_follows_frr10(frr, run, sink_bins, use_nhg, replace):
    skip_before_10(frr)
    lab = Lab(run, sink_bins=sink_bins, use_nhg=use_nhg)
    # The fast path attached, so that the offload decision for local routes shows.
    lab.sink.extra_args += ["--interface", "eth1", "--interface", "eth2"]
    lab.start_sink()
    lab.start_dut(BASE_STATICS)
    status = set_route_replace(lab, replace)
    assert status["useNHG"] is use_nhg, status
    wait_until(lab.sink.connected, 15, what="fpm-sink to see zebra's session")
    lab.wait_zebra(lambda fib: set(LOCAL) <= {k[1] for k in fib},
                   what="zebra's local routes")
    lab.wait_sink_matches()

    # Local host routes: there, as kernel/connected (protocol 2), punted to the kernel.
    routes = {r["prefix"]: r for r in lab.sink.routes()["routes"]}
    for p in LOCAL:
        r = routes.get(p)
        assert r is not None, f"{p} missing from fpm-sink"
        assert r["protocol_id"] == 2 and r["type"] == "unicast", r
        assert all("gateway" not in n for n in r["nexthops"]), r
        assert r["offload"] != "installed", f"local route {p} forwarded by XDP: {r}"
    zebra_local = lab.dut.show_json(f"show ip route {LOCAL[0]} json", daemon="zebra")[LOCAL[0]]
    assert zebra_local[0]["protocol"] == "local", zebra_local

    # ECMP with every next hop (RTA_MULTIPATH with NLA_F_NESTED when inline).
    ecmp = routes[ECMP]
    assert sorted(n["gateway"] for n in ecmp["nexthops"]) == ["10.0.1.2", "10.0.2.2"], ecmp
    assert (ecmp["nhg_id"] != 0) is use_nhg, ecmp
    assert ecmp["offload"] == "installed", ecmp

    # A static route's gateway moves: fpm-sink follows, with or without DELROUTE.
    before = lab.sink.fpm()["fpm"]["messages"]
    want = move_gateways(lab)
    lab.wait_sink_matches()
    for prefix, gw in want.items():
        r = lab.sink.routes(prefix)["routes"][0]
        assert [n["gateway"] for n in r["nexthops"]] == [gw], r
        assert r["offload"] == "installed", r
    after = lab.sink.fpm()["fpm"]
    deleted = after["messages"]["del_route"] - before["del_route"]
    assert (deleted == 0) if replace else (deleted >= len(MOVED)), (replace, after["messages"])
    assert after["stream"]["decode_errors"] == 0 and after["messages"]["errors"] == 0, after
    assert after["session"]["state"] == "connected"
    assert lab.dut.show_json("show fpm status json", daemon="zebra")["connected"] is True
