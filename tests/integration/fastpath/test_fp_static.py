"""Case 1 (+6): static and connected routes, IPv4 and IPv6, through the XDP fast path.

Lab (fpmtest.fastpath.StaticLab): h1 - dut - r2 - h2, statics on the DUT via r2's
global addresses. Each test checks both sides: the datagrams arrive intact at
the receiver (payload bytes, count, TTL decremented once per router) AND the
fast-path counters account for them (redirect verdict, ingress port counter).

Who forwarded is told by the DUT kernel's own forwarding counters (Ip:
ForwDatagrams, Ip6OutForwDatagrams): an XDP-redirected packet never reaches the
kernel's IP layer, a punted one the kernel routes does. Switching forwarding
off no longer proves anything: the fast path honours the forwarding sysctls
and punts too (test_fp_frames). The counters are shown not to be blind by a
control flow to unresolved connected destinations (punted: no host entry), which
must move them by what was sent.
"""

import pytest

from fpmtest.fastpath import (StaticLab, counter_delta, kernel_forwarded,
                              kernel_forwarded_delta, nonzero, udp_send)
from fpmtest.poll import wait_until

V4 = StaticLab.H2_V4
V6 = StaticLab.H2_V6
COUNT = 250  # per destination


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg):
    lab = StaticLab(module_run, sink_bins, use_nhg=use_nhg).start()
    lab.receiver("h2")
    lab.receiver("r2")
    return lab


def check_delivered(summary, got, what):
    assert summary["sent"] == summary["planned"], f"{what}: send errors {summary['errors']}"
    assert got["n"] == summary["sent"], \
        f"{what}: sent {summary['sent']}, received {got['n']} (flows {got['flows']})"


def test_static_v4_v6_fast_path(lab):
    before = lab.counters()
    warm = lab.wait_fast_path("h1", "h2", V4 + V6)
    print(f"warm-up: {warm['delta']}")
    warm_total = lab.counters()
    print("punts before the neighbours were resolved:",
          {k: warm_total["reasons"].get(k, 0) - before["reasons"].get(k, 0)
           for k in ("unresolved", "connected", "no_route")})

    summary, got, delta = lab.send_and_count("h1", "h2", V4 + V6, count=COUNT, pps=4000,
                                             size=600)
    check_delivered(summary, got, "h1 -> h2 statics")
    rx = lab.receiver("h2").stats()
    assert rx["bad"] == 0, f"{rx['bad']} damaged datagrams"
    # h1 -> dut -> r2 -> h2: two routers, so TTL / hop limit 64 - 2.
    assert got["ttl"] == {"62": summary["sent"]}, f"TTLs seen: {got['ttl']}"
    redirect = delta["verdicts"].get("redirect", 0)
    assert redirect >= summary["sent"], \
        f"XDP redirected {redirect} < {summary['sent']} sent: {nonzero(delta)}"
    eth1 = delta["interfaces"].get("eth1", {})
    assert eth1.get("redirect", 0) >= summary["sent"], f"ingress eth1 counters {eth1}"


# Nobody answers for these on the DUT's connected eth2 subnet: the DUT's kernel
# never resolves them, so they have no host entry and always punt. The kernel
# still counts them forwarded (ip_forward_finish counts before neighbour output).
ABSENT = ["10.0.2.99", "fd00:2::99"]


def test_unresolved_connected_destination_is_punted(lab):
    """A connected destination without a resolved neighbour: punted to the kernel,
    which resolves (here: fails to). Resolved ones are forwarded by XDP
    (test_fp_connected_hosts)."""
    before = lab.counters()
    summary = udp_send(lab.run.ns("h1"), ABSENT, count=20, pps=1000)
    delta = counter_delta(before, lab.counters())
    assert summary["sent"] == summary["planned"] == 40, summary
    assert delta["reasons"].get("connected", 0) >= summary["sent"], nonzero(delta)
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)


def test_kernel_forwards_nothing_xdp_forwards(lab):
    lab.wait_fast_path("h1", "h2", V4 + V6)
    before = kernel_forwarded(lab.dut_ns)
    summary, got, delta = lab.send_and_count("h1", "h2", V4 + V6, count=COUNT, pps=4000)
    kernel = kernel_forwarded_delta(before, kernel_forwarded(lab.dut_ns))
    check_delivered(summary, got, "h1 -> h2")
    assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)
    assert kernel == {"v4": 0, "v6": 0}, \
        f"the DUT kernel forwarded {kernel} of h1 -> h2 ({summary['sent']} sent): {nonzero(delta)}"

    # Control: unresolved connected destinations are punted, so the kernel
    # forwards them and its counters move by what was sent; otherwise the check
    # above is blind.
    before = kernel_forwarded(lab.dut_ns)
    ctl = udp_send(lab.run.ns("h1"), ABSENT, count=20, pps=1000)
    kernel = wait_until(
        lambda: (lambda k: k if k["v4"] >= 20 and k["v6"] >= 20 else None)(
            kernel_forwarded_delta(before, kernel_forwarded(lab.dut_ns))),
        5, what="the DUT kernel counting the punted control flow")
    assert ctl["sent"] == 40, ctl
    assert kernel["v4"] >= 20 and kernel["v6"] >= 20, f"kernel forwarded {kernel} of 20 + 20 punted"
