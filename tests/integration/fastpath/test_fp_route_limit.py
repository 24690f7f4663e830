"""Route limit (issue 8 item 10): zebra sends more routes than --max-routes.

The RIB refuses the prefixes past the limit, counts and logs them, and stays
up. A refused /24 inside the covering 100.65.0.0/16 (or any other range) would
be forwarded along a route the fast path did take, so after the first refusal
every route punts: ``show routes`` says route-limit, no packet is redirected by
XDP, and the kernel (which zebra programmed in full) still delivers them all.
"""

import pytest

from fpmtest.fastpath import BgpLab, nonzero
from fpmtest.poll import wait_until

MAX_ROUTES = 60
V4_COUNT, V6_COUNT = 200, 20
SAMPLE = ["100.64.3.0/24", "100.64.150.0/24", "2001:db8:100:5::/64"]


def rib(lab):
    return lab.sink.fpm()["fpm"]["rib"]


class RouteLimitLab(BgpLab):
    """A BgpLab whose start waits for the refusals instead of a full offload."""

    def wait_offloaded(self, prefixes, timeout=60):
        wait_until(lambda: rib(self)["refused_routes"] > 0, timeout,
                   what="the RIB to refuse routes past --max-routes",
                   describe=lambda: rib(self))


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg):
    lab = RouteLimitLab(module_run, sink_bins, v4=V4_COUNT, v6=V6_COUNT, sample=SAMPLE,
                        use_nhg=use_nhg,
                        sink_args=["--max-routes", str(MAX_ROUTES)]).start()
    lab.receiver("h1")
    return lab


def test_refusal_is_counted_and_every_route_punts(lab):
    counts = rib(lab)
    assert counts["routes_v4"] + counts["routes_v6"] == MAX_ROUTES, counts
    assert counts["refused_routes"] > 0, counts
    routes = [r for r in lab.sink.routes().get("routes", []) if r.get("table") == 254]
    assert routes, "no main-table routes held"
    wrong = [r for r in routes
             if r.get("offload") != "failed" or r.get("offload_reason") != "route-limit"]
    assert not wrong, wrong[:3]
    assert lab.sink.connected(), "the FPM session must survive the refusals"


def test_traffic_goes_to_the_kernel_not_xdp(lab):
    dsts = [BgpLab.host_addr(p) for p in SAMPLE]
    summary, got, delta = lab.send_and_count("h3", "h1", dsts, count=20, pps=2000,
                                             timeout=1.5)
    print(f"limit reached: {nonzero(delta)}")
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
    # Taken routes punt as offload_failed, refused ones find no route.
    punted = delta["reasons"].get("offload_failed", 0) + delta["reasons"].get("no_route", 0)
    assert punted >= summary["sent"], nonzero(delta)
    # zebra programmed the kernel in full: it forwards every packet.
    assert got["n"] == summary["sent"], (summary, got["n"])
