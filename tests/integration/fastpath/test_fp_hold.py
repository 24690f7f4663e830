"""Hold time (issue 8 item 5): zebra stops under traffic to BGP prefixes.

BgpLab with ``--fpm-hold-time 5``: while the hold runs the fast path keeps
forwarding zebra's routes (XDP redirect counter rises by the packets sent);
once it expires they punt to the kernel (redirect counter still, punt reason
offload_failed rises, ``show routes`` says not_offloaded / hold-expired);
zebra and bgpd started again (as watchfrr restarts them) replay and XDP
forwards once more. fpm-sink's own
verdict counters are the proof that XDP forwarded, whatever the kernel's
forwarding settings.
"""

import signal

import pytest

from fpmtest.fastpath import BgpLab, nonzero
from fpmtest.poll import wait_until

HOLD_SECONDS = 5
V4_COUNT, V6_COUNT = 200, 20
SAMPLE = ["100.64.3.0/24", "100.64.150.0/24", "2001:db8:100:5::/64"]


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg):
    lab = BgpLab(module_run, sink_bins, v4=V4_COUNT, v6=V6_COUNT, sample=SAMPLE,
                 use_nhg=use_nhg, sink_args=["--fpm-hold-time", str(HOLD_SECONDS)]).start()
    lab.receiver("h1")
    return lab


def hold(lab):
    return lab.sink.fpm()["fpm"]["hold"]


def send(lab, dsts, count=20):
    return lab.send_and_count("h3", "h1", dsts, count=count, pps=2000, timeout=1.5)


def test_hold_then_punt_then_replay(lab):
    dsts = [BgpLab.host_addr(p) for p in SAMPLE]
    lab.wait_fast_path("h3", "h1", dsts)
    assert hold(lab)["state"] == "running", hold(lab)
    assert hold(lab)["hold_time_seconds"] == HOLD_SECONDS

    # zebra stops cleanly (and flushes its kernel routes): the hold starts.
    lab.dut.stop_daemon("zebra", sig=signal.SIGTERM)
    wait_until(lambda: not lab.sink.connected(), 10, what="zebra's FPM session to drop")
    h = hold(lab)
    assert h["state"] == "holding" and h["expires_at"] > 0, h

    # Within the hold: still forwarded by XDP.
    summary, got, delta = send(lab, dsts)
    print(f"holding: {nonzero(delta)}")
    assert hold(lab)["state"] == "holding", "hold expired before the traffic was sent"
    assert got["n"] == summary["sent"], (summary, got["n"])
    assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)

    # Expired: XDP forwards none of it; the kernel decides (it has no route now).
    wait_until(lambda: hold(lab)["state"] == "expired", HOLD_SECONDS + 10,
               what="the hold to expire", describe=lambda: hold(lab))
    for p in SAMPLE:
        r = lab.sink_route(p)
        assert r and r["offload"] == "not_offloaded" \
            and r.get("offload_reason") == "hold-expired", r
    summary, got, delta = send(lab, dsts)
    print(f"expired: {nonzero(delta)}")
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
    assert delta["reasons"].get("offload_failed", 0) >= summary["sent"], nonzero(delta)

    # zebra is back (same config, FPM included) and, as watchfrr's restart of
    # zebra does, so is bgpd: its routes reach the new zebra, whose replay
    # reprograms the fast path.
    lab.dut.stop_daemon("bgpd")
    lab.dut.start_daemon("zebra")
    lab.dut.start_daemon("bgpd")
    lab.wait_fpm_connected(timeout=60)
    wait_until(lambda: hold(lab)["state"] == "running", 90,
               what="the new session's replay to settle", describe=lambda: hold(lab))
    lab.wait_offloaded(SAMPLE, timeout=90)
    lab.wait_fast_path("h3", "h1", dsts, timeout=60)
    summary, got, delta = send(lab, dsts)
    print(f"after replay: {nonzero(delta)}")
    assert got["n"] == summary["sent"], (summary, got["n"])
    assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)
    assert hold(lab)["expiries"] == 1, hold(lab)
