"""(d) zebra goes away and comes back with fewer routes.

zebra sends no deletes when it stops (see test_zebra_stream), so fpm-sink must
keep serving what it had, then after zebra's replay plus --sweep-delay drop
exactly what the replay did not confirm."""

import time

from fpmtest import wait_until
from fpmtest.topology import BASE_STATICS, Lab, numbered_statics

SWEEP_DELAY = 5
BEFORE, AFTER = 40, 10


def test_zebra_restart_sweeps_stale_routes(frr, run, sink_bins):
    lab = Lab(run, sink_bins=sink_bins, sweep_delay=SWEEP_DELAY)
    lab.start_sink()
    lab.start_dut(BASE_STATICS + numbered_statics(BEFORE))
    lab.wait_zebra(lambda fib: sum(k[1].startswith("100.127.") for k in fib) == BEFORE)
    before = lab.wait_sink_matches()

    # zebra goes away first (stopping staticd first would make a live zebra
    # withdraw the statics over FPM): the session drops, nothing is deleted.
    lab.dut.stop_daemon("zebra")
    lab.dut.stop_daemon("staticd")
    wait_until(lambda: not lab.sink.connected(), 15, what="fpm-sink to see the session end")
    for _ in range(2):  # and it stays so for a while, not just at the instant
        assert lab.sink_fib() == before
        time.sleep(SWEEP_DELAY / 2 + 0.5)
    assert lab.sink.alive()

    # Same zebra config, fewer statics this time.
    lab.dut.configure_staticd(BASE_STATICS + numbered_statics(AFTER))
    lab.dut.start("zebra", "staticd")
    wait_until(lab.sink.connected, 15, what="zebra to reconnect to fpm-sink")
    # Until the sweep, what the replay did not refresh is still there, marked stale.
    dropped = numbered_statics(BEFORE)[-1][0]

    def dropped_is_stale():
        routes = lab.sink.routes(dropped)["routes"]
        return routes and routes[0]["prefix"] == dropped and routes[0]["stale"]
    wait_until(dropped_is_stale, SWEEP_DELAY, interval=0.1,
               what=f"{dropped} to be kept, marked stale, before the sweep")
    lab.wait_zebra(lambda fib: sum(k[1].startswith("100.127.") for k in fib) == AFTER)

    after = lab.wait_sink_matches(timeout=SWEEP_DELAY + 30)
    kept = {k[1] for k in after}
    assert sum(p.startswith("100.127.") for p in kept) == AFTER
    assert {p for p, _ in numbered_statics(BEFORE)[AFTER:]}.isdisjoint(kept)
    replay = lab.sink.fpm()["fpm"]["replay"]
    assert replay["swept_routes"] >= BEFORE - AFTER, replay
