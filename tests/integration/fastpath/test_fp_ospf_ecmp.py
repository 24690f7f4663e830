"""Cases 3, 4 (+6): OSPF ECMP over two equal-cost paths, and a link failure under load.

Lab (fpmtest.fastpath.OspfLab): h1 - dut =(eth2, eth3)= r3 - h3, OSPF point-to-point
with hello 1 s / dead 4 s. Traffic is one way h1 -> h3 (h1 sits on a connected
subnet of the DUT, so the way back is punted by design and not tested here).

Which path a datagram took is read on r3: rx_packets of its eth2 / eth3 (veth
counts frames that arrive by XDP redirect). OSPF hellos add ~1/s per link, so
the thresholds leave a margin for them.

Link failure: r3's end of path eth3 goes down while 16 flows run at a fixed
rate. veth propagates carrier loss, so the DUT's eth3 goes NO-CARRIER at once:
the kernel, zebra (route update over FPM) and fpm-sink's link watcher all see
it. Datagrams lost are those the fast path still sent into the dead link (or
punted and the kernel dropped) until the group lost that member. The bound
asserted is the number sent during one OSPF dead interval (what a failure
without carrier loss could cost); the number itself is printed and written to
$FPMTEST_LOG_DIR/fastpath/link_failure-<mode>.json. Then the link comes
back (ECMP restored in zebra and fpm-sink, both paths used again) and the
DUT's own port eth2 is set down under the same load
(link_failure_dut_port-<mode>.json).
"""

import time

import pytest

from fpmtest.fastpath import (UDP_PORT, OspfLab, counter_delta, nonzero, rx_packets, udp_send,
                              write_result)
from fpmtest.poll import wait_until

FLOWS = 32
H3 = OspfLab.H3


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg):
    lab = OspfLab(module_run, sink_bins, use_nhg=use_nhg).start()
    lab.receiver("h3", keep_seqs=True)
    return lab


def path_rx(lab):
    r3 = lab.run.ns("r3")
    return {ifname: rx_packets(r3, ifname) for ifname in lab.PATHS}


def test_ecmp_route_offloaded(lab):
    route = lab.sink_route(lab.PREFIX)
    assert route is not None and route.get("offload") == "installed", route
    gws = {n.get("gateway") for n in route["nexthops"]}
    assert gws == {g for _m, g in lab.PATHS.values()}, route


def test_flows_use_both_paths(lab):
    lab.wait_fast_path("h1", "h3", [H3])
    count = 20
    rx_before = path_rx(lab)
    summary, got, delta = lab.send_and_count("h1", "h3", [H3], flows=FLOWS, count=count,
                                             pps=4000)
    rx_after = path_rx(lab)
    per_path = {i: rx_after[i] - rx_before[i] for i in rx_after}
    print(f"datagrams per path (r3 rx): {per_path}; counters {nonzero(delta)}")

    assert got["n"] == summary["sent"] == FLOWS * count, (summary, got["n"])
    assert got["ttl"] == {"62": summary["sent"]}, got["ttl"]
    assert lab.receiver("h3").stats()["bad"] == 0
    assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)
    assert sum(per_path.values()) >= summary["sent"], per_path
    # 32 flows hashed over 2 members: each path carries several whole flows
    # (P(a path gets < 4 of 32 flows) ~ 1e-5 with a fair hash).
    for ifname, n in per_path.items():
        assert n >= 4 * count, f"path {ifname} carried only {n} datagrams: {per_path}"
    # Each flow's datagrams all arrive (per-flow integrity, no reordering loss).
    assert all(f["n"] == count for f in got["flows"].values()), got["flows"]


def test_sinkctl_names_the_path_of_each_flow(lab):
    """`fpm-sinkctl show routes H3 from H1 proto udp sport S dport D` names the
    member XDP sends that flow to: one flow at a time, the path whose r3 rx
    counter carried it must be the one named. `show interfaces` counts them on
    the ingress port, from `clear counters` on."""
    lab.wait_fast_path("h1", "h3", [H3])
    ports = lambda: {i["name"]: i for i in lab.sink.ctl("show", "interfaces")["interfaces"]["interfaces"]}
    assert ports()["eth1"]["packets"]["redirect"] > 0  # the warm-up probes
    lab.sink.ctl("clear", "counters")
    gateway_port = {gw: ifname for ifname, (_mine, gw) in lab.PATHS.items()}
    count, sent, seen = 20, 0, set()
    for f in range(8):
        sport = 41000 + f
        reply = lab.sink.ctl("show", "routes", H3, "from", "10.0.1.2", "proto", "udp",
                             "sport", str(sport), "dport", str(UDP_PORT))
        path = next(r["flow_path"] for r in reply["routes"] if r["table"] == 254)
        assert path["forwarded"] and path["state"] == "valid", path
        named = gateway_port[path["gateway"]]
        assert path["ifname"] == named, path
        before = path_rx(lab)
        summary, got, _ = lab.send_and_count("h1", "h3", [H3], flows=1, count=count,
                                             sport_base=sport)
        after = path_rx(lab)
        moved = {i: after[i] - before[i] for i in after}
        assert got["n"] == count, got
        # The named path carried the flow; the other one saw OSPF hellos at most.
        assert moved[named] >= count, (sport, path, moved)
        assert all(n < count for i, n in moved.items() if i != named), (sport, path, moved)
        sent += summary["sent"]
        seen.add(named)
    print(f"flows per path named by fpm-sinkctl: {sorted(seen)}")
    for words in (["show", "routes", H3, "from", "10.0.1.2", "proto", "udp", "sport", "41000",
                   "dport", str(UDP_PORT)], ["show", "interfaces"], ["show", "neighbors"],
                  ["show", "nexthops"]):
        print(f"$ fpm-sinkctl {' '.join(words)}\n" + lab.sink.ctl(*words, as_json=False))
    eth1 = ports()["eth1"]
    assert eth1["attach"] in ("native", "generic"), eth1
    assert eth1["ifindex"] > 0 and eth1["forwarding_v4"] == "on", eth1
    # Counted from the clear: exactly what h1 sent since (ARP / ND are not redirected).
    assert sent <= eth1["packets"]["redirect"] <= sent + 4, (sent, eth1)
    assert eth1["bytes"]["redirect"] >= sent * 200, eth1


def fail_link_under_load(lab, mode, node, ifname, survivor, name):
    """Take ``node``'s ``ifname`` down while 16 flows run at 1000 pps; return
    the measurement (also written to $FPMTEST_LOG_DIR/fastpath/<name>-<mode>.json)."""
    lab.wait_fast_path("h1", "h3", [H3])
    pps, seconds, flows = 1000, 5.0, 16
    count = int(pps * seconds / flows)
    rx = lab.receiver("h3")
    before = lab.counters()
    sender = udp_send(lab.run.ns("h1"), [H3], flows=flows, count=count, pps=pps,
                      sport_base=41000, background=True)
    # Fail once a quarter of the traffic has arrived (never sleep-and-hope).
    wait_until(lambda: rx.run_stats(sender.run_id)["n"] >= count * flows // 4, 15,
               interval=0.02, what="traffic to flow before the failure")
    t_fail = time.monotonic_ns()
    lab.run.ns(node).exec(["ip", "link", "set", ifname, "down"])
    summary = sender()
    got = rx.wait_run(summary["run"], summary["sent"], timeout=3)
    delta = {"counters": nonzero(counter_delta(before, lab.counters()))}

    received = set(got.get("seqs", []))
    lost_seqs = [s for s in range(summary["sent"]) if s not in received]
    lost = summary["sent"] - got["n"]
    # Global sequence numbers are paced at pps from the sender's start.
    t_of = lambda s: summary["start_ns"] + s * 1e9 / pps  # noqa: E731
    window_ms = ((t_of(lost_seqs[-1]) - t_of(lost_seqs[0])) / 1e6 + 1000 / pps) if lost_seqs else 0
    result = {
        "frr": lab.run.frr.id, "mode": mode, "failed": f"{node} {ifname} admin down", "pps": pps, "flows": flows,
        "sent": summary["sent"], "received": got["n"], "lost": lost,
        "loss_window_ms": round(window_ms, 1),
        "first_loss_after_failure_ms": round((t_of(lost_seqs[0]) - t_fail) / 1e6, 1)
        if lost_seqs else None,
        "dead_interval_s": lab.DEAD, "bound": pps * lab.DEAD,
        "flows_with_loss": sorted({(s % flows) for s in lost_seqs}),
        **delta,
    }
    path = write_result(f"{name}-{lab.run.frr.id}-{mode}", result)
    print(f"\nLINK FAILURE ({lab.run.frr.id} {mode}, {node} {ifname} down): sent {summary['sent']}, received "
          f"{got['n']}, LOST {lost} (~{window_ms:.1f} ms of traffic); written to {path}")

    assert got["n"] + lost == summary["sent"]
    assert lost < pps * lab.DEAD, result
    # After the failure everything goes over the survivor: the last second is loss-free.
    tail = [s for s in lost_seqs if s >= summary["sent"] - pps]
    assert not tail, f"still losing at the end: {tail[:10]}"
    gw = lab.PATHS[survivor][1]
    dead = next(g for i, (_m, g) in lab.PATHS.items() if i != survivor)

    def converged():
        held = lab.ecmp_gateways("sink")
        if held == {gw}:
            return True
        # FRR 10 in next-hop-group mode never sends the shrunken group (it
        # leaves that to the kernel's own nexthop objects): fpm-sink keeps both
        # members as zebra sent them, and its link tracking has failed the dead one.
        return held == {gw, dead} and (lab.sink_nexthop(dead) or {}).get("state") == "failed"

    wait_until(converged, 30,
               what=f"fpm-sink down to the surviving path via {gw} (route or failed next hop)",
               describe=lambda: (lab.sink_route(lab.PREFIX), lab.sink_nexthop(dead)))
    # And it is still the fast path that forwards.
    summary2, got2, d2 = lab.send_and_count("h1", "h3", [H3], flows=flows, count=10,
                                            sport_base=42000)
    assert got2["n"] == summary2["sent"], (summary2, got2["n"])
    assert d2["verdicts"].get("redirect", 0) >= summary2["sent"], nonzero(d2)
    return result


def test_link_failure_far_side(lab, mode):
    """Case 4a: r3's end of path eth3 goes down (the DUT sees carrier loss)."""
    fail_link_under_load(lab, mode, "r3", "eth3", survivor="eth2", name="link_failure")


def test_link_restore_then_dut_port_down(lab, mode):
    """Case 4b: eth3 comes back (ECMP again, both paths used), then the DUT's own
    port eth2 is set down under load."""
    lab.run.ns("r3").exec(["ip", "link", "set", "eth3", "up"])
    both = {g for _m, g in lab.PATHS.values()}
    wait_until(lambda: lab.ecmp_gateways() == both, 60, what="ECMP back in zebra")
    wait_until(lambda: lab.ecmp_gateways("sink") == both, 30, what="ECMP back in fpm-sink",
               describe=lambda: lab.sink_route(lab.PREFIX))
    lab.wait_offloaded([lab.PREFIX])
    test_flows_use_both_paths(lab)
    fail_link_under_load(lab, mode, "dut", "eth2", survivor="eth3", name="link_failure_dut_port")
