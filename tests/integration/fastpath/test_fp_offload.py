"""vtysh tells the truth: fpm-sink's offload replies as zebra and BGP act on them.

Lab (fpmtest.fastpath.BgpLab): r1 announces 2000 IPv4 /24s and 300 IPv6 /64s
plus SMALL /25s to the DUT; the DUT's zebra runs with
``--asic-offload=notify_on_offload`` (a route is "installed" for its owner only
once the FPM peer says so) and its bgpd with ``bgp suppress-fib-pending``
(BGP advertises only installed routes); r3 learns from the DUT. fpm-sink has
only TBL8_GROUPS IPv4 tbl8 groups, so some of the /25s cannot be offloaded.

Only FRR versions that act on offload replies (>= 10.4, 8.5-10.2) run it; the
other versions still get replies in every other test (feedback is on by
default) and must not mind them.
"""

import ipaddress
import os

import pytest

from fpmtest.fastpath import BgpLab, bgp_prefixes
from fpmtest.netns import sh
from fpmtest.poll import wait_until

V4_COUNT, V6_COUNT = 2000, 300
SMALL = [f"100.127.{i}.0/25" for i in range(16)]  # one tbl8 group each
TBL8_GROUPS = 8
# Routed through an interface, no gateway: the kernel resolves each host, so
# the fast path leaves it to the kernel on purpose (punted, "trapped").
KERNEL_ROUTE = "198.18.5.0/24"


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg, frr, mode):
    if not frr.applies_offload_replies:
        pytest.skip(f"FRR {frr.version} does not act on offload replies "
                    "(8.4 ignores them, 10.3 cannot match them)")
    if mode != "nhg":
        pytest.skip("one next-hop mode is enough: replies do not depend on it")
    bpffs = os.path.join(module_run.dir, "bpffs")
    os.makedirs(bpffs)
    sh(["mount", "-t", "bpf", "bpf", bpffs])
    module_run.on_close(lambda: sh(["umount", "-l", bpffs], check=False))
    lab = BgpLab(module_run, sink_bins, v4=V4_COUNT, v6=V6_COUNT, use_nhg=use_nhg,
                 extra_networks=SMALL, dut_bgp_options=("bgp suppress-fib-pending",),
                 zebra_args=["--asic-offload=notify_on_offload"],
                 sink_args=["--v4-tbl8-groups", str(TBL8_GROUPS), "--keep-fast-path",
                            "--bpffs", os.path.join(bpffs, "fpm-sink")]).start()
    accepted = session(lab)["sessions_accepted"]
    lab.dut.configure_staticd([(KERNEL_ROUTE, "eth2")])
    lab.dut.start_daemon("staticd")
    # FRR 10 re-applies its whole config to load staticd's part, and zebra
    # takes its "fpm address" line as an order to reconnect: wait for the new
    # session and its replay, so that the tests see one steady session.
    wait_until(lambda: session(lab)["sessions_accepted"] > accepted and lab.sink.connected(), 30,
               what="zebra's FPM session after the config reload", describe=lab.sink.tail)
    wait_until(lambda: lab.sink.fpm()["fpm"]["replay"]["state"] == "settled", 30,
               what="the replay to settle", describe=lambda: lab.sink.fpm()["fpm"]["replay"])
    return lab


def session(lab):
    return lab.sink.fpm()["fpm"]["session"]


def zebra_routes(lab):
    """prefix -> zebra's selected route entry (show ip[v6] route json)."""
    out = {}
    for cmd in ("show ip route json", "show ipv6 route json"):
        for prefix, entries in lab.dut.show_json(cmd, daemon="zebra").items():
            for e in entries:
                if e.get("selected"):
                    out[prefix] = e
    return out


def sink_routes(lab):
    return {r["prefix"]: r for r in lab.sink.routes().get("routes", [])}


def r3_learnt(lab):
    """Prefixes r3 has from the DUT, inside r1's announced ranges."""
    r3 = lab.router("r3")
    ranges = [ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("2001:db8:100::/48")]
    out = set()
    for afi in ("ipv4", "ipv6"):
        data = r3.show_json(f"show bgp {afi} unicast json", daemon="bgpd")
        for prefix in data.get("routes", {}):
            net = ipaddress.ip_network(prefix)
            if any(net.version == r.version and net.subnet_of(r) for r in ranges):
                out.add(str(net))
    return out


def zebra_says(entry):
    """What zebra shows for a route: 'offloaded', 'failed', 'trapped', 'queued' or None."""
    if entry.get("queued"):
        return "queued"
    if entry.get("trapped"):
        return "trapped"
    if entry.get("offloaded") is True:
        return "offloaded"
    if entry.get("offloaded") is False:
        return "failed"
    return None


EXPECT = {"offload": "offloaded", "offload_failed": "failed", "offload,trap": "trapped"}


def disagreements(lab, prefixes):
    """Routes where zebra does not show what fpm-sink told it, or fpm-sink told
    it something other than what its fast path does."""
    zebra, sink = zebra_routes(lab), sink_routes(lab)
    bad = {}
    for p in prefixes:
        s, z = sink.get(p, {}), zebra.get(p, {})
        told = s.get("zebra_flags")
        truth = {"installed": "offload", "failed": "offload_failed",
                 "not_offloaded": "offload,trap"}.get(s.get("offload"))
        if told != truth or EXPECT.get(told) != zebra_says(z):
            bad[p] = {"sink": s.get("offload"), "told": told, "zebra": zebra_says(z)}
    return bad


def test_every_route_shows_offloaded(lab):
    prefixes = bgp_prefixes(V4_COUNT, V6_COUNT)
    state = {}

    def all_offloaded():
        zebra = zebra_routes(lab)
        state["not"] = {p: zebra_says(zebra.get(p, {})) for p in prefixes
                        if zebra_says(zebra.get(p, {})) != "offloaded"}
        return not state["not"]
    wait_until(all_offloaded, 60, what=f"zebra to show all {len(prefixes)} routes offloaded",
               describe=lambda: dict(list(state["not"].items())[:10]))
    assert disagreements(lab, prefixes) == {}
    feedback = lab.sink.fpm()["fpm"]["offload_feedback"]
    print(f"\n{len(prefixes)} routes offloaded in zebra; replies: {feedback}")
    assert feedback["offloaded"] >= len(prefixes)


def test_no_room_is_offload_failed(lab):
    wait_until(lambda: not disagreements(lab, SMALL), 30,
               what="zebra to agree with fpm-sink on the /25s",
               describe=lambda: disagreements(lab, SMALL))
    sink = sink_routes(lab)
    failed = [p for p in SMALL if sink[p]["offload"] == "failed"]
    installed = [p for p in SMALL if sink[p]["offload"] == "installed"]
    print(f"\n/25s with {TBL8_GROUPS} tbl8 groups: {len(installed)} offloaded, "
          f"{len(failed)} failed ({sorted(failed)[:3]}...)")
    assert len(failed) >= len(SMALL) - TBL8_GROUPS, sink
    assert installed, "some /25s fit"
    for p in failed:
        assert sink[p]["offload_reason"] == "lpm-full", sink[p]
    # The route code column as an operator reads it: 'o' where there was no room.
    codes = {}
    for line in lab.dut.vtysh("show ip route bgp").splitlines():
        fields = line.split()
        if len(fields) > 1 and fields[1] in SMALL:
            codes[fields[1]] = fields[0]
    assert codes == {p: "B>o" if p in failed else "B>*" for p in SMALL}, codes


def test_kernel_route_is_trapped_and_still_installed(lab):
    wait_until(lambda: KERNEL_ROUTE in sink_routes(lab), 30, what=f"{KERNEL_ROUTE} in fpm-sink")
    wait_until(lambda: not disagreements(lab, [KERNEL_ROUTE]), 30,
               what=f"zebra to show {KERNEL_ROUTE} trapped",
               describe=lambda: disagreements(lab, [KERNEL_ROUTE]))
    s = sink_routes(lab)[KERNEL_ROUTE]
    z = zebra_routes(lab)[KERNEL_ROUTE]
    assert s["offload"] == "not_offloaded" and s["offload_reason"] == "connected", s
    assert z.get("trapped") is True and z.get("offloaded") is True, z
    assert z.get("installed") is True, z


def test_downstream_peer_gets_exactly_what_zebra_installed(lab):
    def installed():
        zebra = zebra_routes(lab)
        return {p for p in bgp_prefixes(V4_COUNT, V6_COUNT) + SMALL + [BgpLab.COVERING]
                if zebra_says(zebra.get(p, {})) == "offloaded"}
    state = {}

    def agree():
        state["want"], state["got"] = installed(), r3_learnt(lab)
        return state["want"] == state["got"]
    wait_until(agree, 60, what="r3 to learn exactly the routes zebra installed",
               describe=lambda: {"missing": sorted(state["want"] - state["got"])[:10],
                                 "extra": sorted(state["got"] - state["want"])[:10]})
    withheld = set(SMALL) - state["got"]
    print(f"\nr3 learnt {len(state['got'])} routes; withheld (offload failed): {len(withheld)}")
    assert withheld, "suppress-fib-pending held back the routes that did not fit"


def test_warm_restart_keeps_vtysh_in_agreement(lab):
    sink = lab.sink
    assert sink.stop() == 0, sink.tail()
    with open(sink.log, encoding="utf-8", errors="replace") as f:
        offset = len(f.read())

    def committed():
        with open(sink.log, encoding="utf-8", errors="replace") as f:
            return "dataplane.warm_restart.committed" in f.read()[offset:]
    sink.start()
    wait_until(committed, 60, what="the warm restart to commit", describe=sink.tail)
    everything = bgp_prefixes(V4_COUNT, V6_COUNT) + SMALL + [KERNEL_ROUTE]
    wait_until(lambda: not disagreements(lab, everything), 60,
               what="zebra to agree with the restarted fpm-sink",
               describe=lambda: dict(list(disagreements(lab, everything).items())[:10]))
    test_downstream_peer_gets_exactly_what_zebra_installed(lab)
