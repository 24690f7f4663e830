"""Issue 8 item 6: the neighbours behind next hops whose traffic only XDP forwards.

Lab (fpmtest.fastpath.NeighbourLab): h1 - dut =(eth2, eth3)= r3 - h3, two static
next hops (ECMP), short neighbour timers on the DUT's ports to r3 (reachable
1.5-4.5 s, DELAY 1 s, probes 200 ms apart). The kernel sees none of the
forwarded traffic, so:

1. Without refresh (--neighbour-refresh 0) a next hop's entry goes STALE and is
   never probed again: nothing confirms the neighbour, and a dead one would be
   found out by nobody.
2. With refresh (NTF_USE every 0.5 s, capped at one per tick so the cap shows in
   the counters) the entries keep being re-confirmed while XDP forwards.
3. A neighbour that stops answering ARP (r3 drops its address on eth3, the
   link stays up, zebra's static route keeps both next hops) goes FAILED in the
   kernel, fpm-sink fails that next hop, and XDP sends everything to the other.
   It comes back when the neighbour answers again.
4. A neighbour's MAC change (gratuitous ARP from r3, arp_notify) reaches the
   XDP next-hop entry: frames arrive at the new MAC.

Figures (neighbour ages, times to fail / recover / learn the MAC, refresh
counters) are printed and written to $FPMTEST_LOG_DIR/fastpath/neighbours-<mode>.json.
"""

import time

import pytest

from fpmtest.fastpath import NeighbourLab, nonzero, udp_send, write_result
from fpmtest.poll import wait_until

# The kernel's side (see conftest.py): FRR only installs the static routes.
ONE_FRR = True

H3 = NeighbourLab.H3
LIVE_GW = NeighbourLab.PATHS["eth2"][1]
DEAD_GW = NeighbourLab.PATHS["eth3"][1]
# Several times the timers (reachable <= 4.5 s, DELAY 1 s, probes).
WINDOW = 12.0
REFRESH = ["--neighbour-refresh", "0.5", "--neighbour-refresh-max", "1"]
NEW_MAC = "02:00:00:00:33:33"
FLOWS, COUNT = 32, 20
FIGURES = {}


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg, mode):
    lab = NeighbourLab(module_run, sink_bins, use_nhg=use_nhg,
                       sink_args=["--neighbour-refresh", "0"]).start()
    lab.receiver("h3")
    FIGURES[mode] = {}
    yield lab
    path = write_result(f"neighbours-{module_run.frr.id}-{mode}", FIGURES[mode])
    print(f"\nNEIGHBOURS ({module_run.frr.id} {mode}): {FIGURES[mode]}\nwritten to {path}")


def observe(lab, seconds, interval=0.5):
    """Samples of both next hops' kernel entries over ``seconds``:
    {ifname: [(t, state or None, confirmed age, used age, probes)]}."""
    samples = {ifname: [] for ifname in lab.PATHS}
    start = time.monotonic()
    while (t := time.monotonic() - start) < seconds:
        for ifname, (_mine, gw) in lab.PATHS.items():
            n = lab.kernel_neighbour(gw, ifname)
            samples[ifname].append((round(t, 2), n["state"][0] if n else None,
                                    n and n.get("confirmed"), n and n.get("used"),
                                    n and n.get("probes")))
        time.sleep(interval)  # the sampling period of an observation window
    return samples


def xdp_only(lab, flows=FLOWS, count=COUNT, sport_base=40000):
    """Send h1 -> h3; everything must arrive and be redirected by XDP.
    Returns (sent, r3 rx per path)."""
    rx_before = lab.path_rx()
    summary, got, delta = lab.send_and_count("h1", "h3", [H3], flows=flows, count=count,
                                             pps=2000, sport_base=sport_base)
    rx_after = lab.path_rx()
    per_path = {i: rx_after[i] - rx_before[i] for i in rx_after}
    assert summary["sent"] == summary["planned"] == flows * count, summary
    assert got["n"] == summary["sent"], (summary["sent"], got["n"], nonzero(delta))
    assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)
    return summary["sent"], per_path


def test_without_refresh_entries_go_stale_and_are_never_reprobed(lab, mode):
    xdp_only(lab)
    samples = observe(lab, WINDOW)
    fig = FIGURES[mode]["without_refresh"] = {}
    for ifname, rows in samples.items():
        states = [r[1] for r in rows]
        last = rows[-1]
        fig[ifname] = {"states": sorted({str(s) for s in states}), "last": last}
        print(f"without refresh, {ifname}: states {fig[ifname]['states']}, last sample "
              f"(t, state, confirmed, used, probes) {last}")
        # Once STALE, nothing moves it: no DELAY/PROBE, no REACHABLE again. The
        # entry stays STALE (or is garbage-collected when the host's neighbour
        # tables are full enough, never re-confirmed either way).
        assert "STALE" in states, rows
        first_stale = states.index("STALE")
        assert set(states[first_stale:]) <= {"STALE", None}, rows
        if last[1] == "STALE":
            assert last[2] >= WINDOW - 2, f"confirmed {last[2]} s ago: re-confirmed? {rows}"
            assert last[3] >= WINDOW - 2, f"used {last[3]} s ago: who used it? {rows}"
    # XDP still forwards to the STALE entries: they are usable until proven dead.
    if all(rows[-1][1] == "STALE" for rows in samples.values()):
        xdp_only(lab, sport_base=41000)


def test_refresh_keeps_entries_confirmed_under_xdp_traffic(lab, mode):
    lab.restart_sink(REFRESH)
    # Confirmed since the restart (the ping that resolved them left them STALE
    # with the age of the refresh-less phase): the window starts from there.
    wait_until(lambda: all((lab.kernel_neighbour(gw, i) or {}).get("confirmed", 99) <= 1
                           for i, (_m, gw) in lab.PATHS.items()), 15, interval=0.1,
               what="both next hops' neighbours confirmed after the restart")
    before = lab.sink.nexthops()["nexthops"]["neighbour_refresh"]
    flows, pps = 16, 200
    rx = lab.receiver("h3")
    sender = udp_send(lab.run.ns("h1"), [H3], flows=flows, count=int(pps * WINDOW / flows),
                      pps=pps, sport_base=42000, background=True)
    counters_before = lab.counters()
    samples = observe(lab, WINDOW)
    summary = sender()
    got = rx.wait_run(summary["run"], summary["sent"], timeout=5)
    redirected = lab.counters()["verdicts"].get("redirect", 0) - \
        counters_before["verdicts"].get("redirect", 0)
    after = lab.sink.nexthops()["nexthops"]["neighbour_refresh"]

    fig = FIGURES[mode]["with_refresh"] = {"refresh": after, "sent": summary["sent"],
                                           "received": got["n"]}
    for ifname, rows in samples.items():
        states = [r[1] for r in rows]
        confirmed = [r[2] for r in rows if r[2] is not None]
        used = [r[3] for r in rows if r[3] is not None]
        reconfirmed = sum(1 for a, b in zip(confirmed, confirmed[1:]) if b < a)
        fig[ifname] = {"states": sorted({str(s) for s in states}), "reconfirmed": reconfirmed,
                       "max_confirmed_age": max(confirmed), "max_used_age": max(used)}
        print(f"with refresh, {ifname}: {fig[ifname]}")
        assert None not in states and "FAILED" not in states and "INCOMPLETE" not in states, rows
        assert reconfirmed >= 1, f"never re-confirmed: {rows}"
        # Confirmed again and again: never older than reachable + a refresh round + DELAY
        # + probes (4.5 + 1 + 1 + 0.6 s).
        assert max(confirmed) <= 8, rows
        assert max(used) <= 3, rows
    print(f"refresh counters: {after}")
    assert got["n"] == summary["sent"] == summary["planned"], (summary, got["n"])
    # The traffic was XDP's alone.
    assert redirected >= summary["sent"], redirected
    assert after["period_seconds"] == 0.5 and after["max_per_tick"] == 1, after
    assert after["sent"] - before["sent"] >= WINDOW, (before, after)
    assert after["rejected"] == 0, after
    # The two next hops, plus hosts on the DUT's connected subnets XDP forwards to
    # directly (h1 once the DUT has its neighbour entry; r3's addresses are both).
    hosts = lab.sink.nexthops()["nexthops"].get("hosts", {})
    assert 2 <= after["targets"] <= 2 + hosts.get("v4", 0) + hosts.get("v6", 0), (after, hosts)
    # Two neighbours per 0.5 s period, one per tick allowed: the cap defers one a tick.
    assert after["deferred"] > before["deferred"] and after["capped_ticks"] > 0, after


def test_neighbour_failure_fails_next_hop_at_once(lab, mode):
    both = {gw for _m, gw in lab.PATHS.values()}
    xdp_only(lab)
    r3 = lab.run.ns("r3")
    t0 = time.monotonic()
    r3.exec(["ip", "addr", "del", DEAD_GW + "/24", "dev", "eth3"])
    wait_until(lambda: (lab.kernel_neighbour(DEAD_GW, "eth3") or {}).get("state") == ["FAILED"],
               20, interval=0.05, what=f"the DUT's neighbour {DEAD_GW} FAILED in the kernel",
               describe=lambda: lab.kernel_neighbour(DEAD_GW, "eth3"))
    t_kernel = time.monotonic()
    wait_until(lambda: lab.sink_nexthop(DEAD_GW)["state"] == "failed", 2, interval=0.05,
               what=f"fpm-sink to fail next hop {DEAD_GW}",
               describe=lambda: lab.sink.ctl("show", "nexthops", as_json=False))
    t_sink = time.monotonic()
    # Nobody withdrew anything: zebra and fpm-sink's RIB still hold both next hops.
    assert lab.ecmp_gateways("zebra") == both
    assert lab.ecmp_gateways("sink") == both
    assert lab.sink_nexthop(LIVE_GW)["state"] == "valid"

    sent, per_path = xdp_only(lab, sport_base=43000)
    FIGURES[mode]["failure"] = {
        "kernel_failed_after_s": round(t_kernel - t0, 2),
        "sink_failed_after_kernel_s": round(t_sink - t_kernel, 3),
        "sent": sent, "r3_rx_per_path": per_path}
    print(f"failure: {FIGURES[mode]['failure']}")
    # Only the surviving path carries the datagrams; the dead one sees at most
    # the kernel's ARP probes (re-probed once per refresh round).
    assert per_path["eth2"] >= sent, per_path
    assert per_path["eth3"] < sent // 20, per_path


def test_neighbour_back_next_hop_back(lab, mode):
    r3 = lab.run.ns("r3")
    t0 = time.monotonic()
    r3.exec(["ip", "addr", "add", DEAD_GW + "/24", "dev", "eth3"])
    # The refresh re-probes the FAILED entry; the answer makes it valid again.
    wait_until(lambda: lab.sink_nexthop(DEAD_GW)["state"] == "valid", 15, interval=0.1,
               what=f"next hop {DEAD_GW} valid again",
               describe=lambda: lab.sink.ctl("show", "nexthops", as_json=False))
    FIGURES[mode]["recovery_s"] = round(time.monotonic() - t0, 2)
    sent, per_path = xdp_only(lab, sport_base=44000)
    print(f"recovered after {FIGURES[mode]['recovery_s']} s; r3 rx per path {per_path}")
    # 32 flows over 2 members: both carry whole flows again.
    assert all(n >= 4 * COUNT for n in per_path.values()), per_path


def test_mac_change_reaches_the_next_hop_entry(lab, mode):
    r3 = lab.run.ns("r3")
    old_mac = lab.sink_nexthop(DEAD_GW)["mac"]
    assert old_mac != NEW_MAC
    # arp_notify: a MAC change sends a gratuitous ARP, which the DUT takes.
    r3.exec(["sysctl", "-qw", "net.ipv4.conf.eth3.arp_notify=1"])
    t0 = time.monotonic()
    r3.exec(["ip", "link", "set", "eth3", "address", NEW_MAC])
    wait_until(lambda: lab.sink_nexthop(DEAD_GW)["mac"] == NEW_MAC
               and lab.sink_nexthop(DEAD_GW)["state"] == "valid", 10, interval=0.05,
               what=f"next hop {DEAD_GW} rewritten with {NEW_MAC}",
               describe=lambda: lab.sink.ctl("show", "nexthops", as_json=False))
    t_learnt = time.monotonic() - t0
    kernel = lab.kernel_neighbour(DEAD_GW, "eth3")
    assert kernel["lladdr"] == NEW_MAC, kernel
    # r3 drops frames for its old MAC (not its own): every datagram arriving,
    # eth3's share included, went to the new one.
    sent, per_path = xdp_only(lab, sport_base=45000)
    FIGURES[mode]["mac_change"] = {"learnt_after_s": round(t_learnt, 3),
                                   "kernel_entry": kernel, "r3_rx_per_path": per_path}
    print(f"MAC change: {FIGURES[mode]['mac_change']}")
    assert per_path["eth3"] >= 4 * COUNT, per_path
