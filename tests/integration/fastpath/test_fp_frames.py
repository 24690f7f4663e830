"""Issue 8 items 1-3: the fast path routes only what the kernel would route.

Lab (fpmtest.fastpath.StaticLab): h1 - dut - r2 - h2, statics on the DUT.

- A promiscuous port (tcpdump, a bridge, a macvlan lower device) also receives
  unicast frames addressed to other hosts. The kernel drops those
  (PACKET_OTHERHOST); XDP must not route them: they punt with "other_host".
  h1 is made to address the DUT's gateway by a MAC that is not the DUT's.
- A port enslaved to a bridge (or a VRF, a bond) is not routed in the main
  table: every frame punts with "enslaved"; released, it is routed again.
- A port's forwarding sysctl off (net.ipv4.conf.eth1.forwarding=0): the kernel
  routes no IPv4 received on it, so XDP punts it ("fwd_disabled") and it is not
  delivered; IPv6 on the same port is still redirected. Switched back on,
  IPv4 is redirected again. net.ipv6.conf.eth1.forwarding=0 punts IPv6 alike;
  the kernel routes it anyway (ip6_forward checks the "all" switch), which its
  forwarding counter shows.
- A policy routing rule the fast path does not apply (ip rule with a selector
  or another table): the kernel routes the whole family ("policy_rules"), the
  traffic still arrives, the other family stays in XDP; deleted, XDP routes
  the family again. A rule naming one port (iif) punts that port only.
- A hairpin (routed back out of the port it arrived on): while the kernel would
  send a redirect for it (net.ipv4.conf.all.send_redirects OR
  net.ipv4.conf.eth2.send_redirects), XDP punts it ("hairpin"), the kernel
  forwards it and sends the ICMP redirect; with both switches 0 XDP forwards
  it. IPv6 hairpins always punt (no such switch). r2 sends its own datagrams
  for h2's loopbacks through the DUT (a rule for what r2 originates), and the
  DUT's statics send them back to r2, which delivers them to h2.
"""

import pytest

from fpmtest.fastpath import (StaticLab, kernel_forwarded, kernel_forwarded_delta, nonzero,
                              ns_python)
from fpmtest.poll import wait_until

# The kernel's side (see conftest.py): FRR only installs the static routes.
ONE_FRR = True

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


def set_port_forwarding(ns, family, ifname, on):
    ns.exec(["sysctl", "-qw", f"net.{family}.conf.{ifname}.forwarding={1 if on else 0}"])


def test_forwarding_sysctl_of_the_ingress_port(lab):
    lab.wait_fast_path("h1", "h2", V4 + V6)
    dut = lab.run.ns("dut")

    def punts(dsts):
        def check():
            _s, _g, d = lab.send_and_count("h1", "h2", dsts, count=3, timeout=0.5)
            return d["reasons"].get("fwd_disabled", 0) >= 3 * len(dsts)
        return check

    set_port_forwarding(dut, "ipv4", "eth1", False)
    try:
        wait_until(punts(V4), 15, interval=0.3, what="IPv4 forwarding off on eth1 in fpm-sink",
                   describe=lab.describe)
        summary, got, delta = lab.send_and_count("h1", "h2", V4, count=COUNT, pps=2000,
                                                 timeout=2)
        summary6, got6, delta6 = lab.send_and_count("h1", "h2", V6, count=COUNT, pps=2000)
    finally:
        set_port_forwarding(dut, "ipv4", "eth1", True)
    assert summary["sent"] == summary["planned"], summary
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
    assert delta["reasons"].get("fwd_disabled", 0) >= summary["sent"], nonzero(delta)
    assert got["n"] == 0, f"{got['n']} IPv4 datagrams routed although eth1 does not forward"
    # The other family is not affected.
    assert got6["n"] == summary6["sent"], (summary6, got6["n"])
    assert delta6["verdicts"].get("redirect", 0) >= summary6["sent"], nonzero(delta6)
    # Switched back on: routed by XDP again.
    lab.wait_fast_path("h1", "h2", V4 + V6)

    set_port_forwarding(dut, "ipv6", "eth1", False)
    try:
        wait_until(punts(V6), 15, interval=0.3, what="IPv6 forwarding off on eth1 in fpm-sink",
                   describe=lab.describe)
        before = kernel_forwarded(dut)
        summary, got, delta = lab.send_and_count("h1", "h2", V6, count=COUNT, pps=2000)
        kernel = kernel_forwarded_delta(before, kernel_forwarded(dut))
    finally:
        set_port_forwarding(dut, "ipv6", "eth1", True)
    assert summary["sent"] == summary["planned"], summary
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
    assert delta["reasons"].get("fwd_disabled", 0) >= summary["sent"], nonzero(delta)
    # Punted, and the kernel routed every one: the punt lost nothing.
    assert got["n"] == summary["sent"], (summary, got["n"])
    assert kernel["v6"] >= summary["sent"], kernel
    lab.wait_fast_path("h1", "h2", V4 + V6)


def test_policy_rule_leaves_the_family_to_the_kernel(lab):
    lab.wait_fast_path("h1", "h2", V4 + V6)
    dut = lab.run.ns("dut")
    # Unmarked traffic does not match it, so the kernel still routes it in main:
    # whatever arrives was routed by the kernel, nothing is lost by the punt.
    rule = ["fwmark", "0x1", "lookup", "100", "pref", "1000"]

    def punts():
        _s, _g, d = lab.send_and_count("h1", "h2", V4, count=3, timeout=0.5)
        return d["reasons"].get("policy_rules", 0) >= 3

    dut.exec(["ip", "-4", "rule", "add"] + rule)
    try:
        wait_until(punts, 15, interval=0.3, what="IPv4 policy rule seen by fpm-sink",
                   describe=lab.describe)
        before = kernel_forwarded(dut)
        summary, got, delta = lab.send_and_count("h1", "h2", V4, count=COUNT, pps=2000)
        kernel = kernel_forwarded_delta(before, kernel_forwarded(dut))
        summary6, got6, delta6 = lab.send_and_count("h1", "h2", V6, count=COUNT, pps=2000)
    finally:
        dut.exec(["ip", "-4", "rule", "del"] + rule, check=False)
    assert summary["sent"] == summary["planned"], summary
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
    assert delta["reasons"].get("policy_rules", 0) >= summary["sent"], nonzero(delta)
    assert got["n"] == summary["sent"], (summary, got["n"])
    assert kernel["v4"] >= summary["sent"], kernel
    # IPv6 has no such rule: still XDP's.
    assert got6["n"] == summary6["sent"], (summary6, got6["n"])
    assert delta6["verdicts"].get("redirect", 0) >= summary6["sent"], nonzero(delta6)
    assert delta6["reasons"].get("policy_rules", 0) == 0, nonzero(delta6)
    # Deleted: routed by XDP again.
    lab.wait_fast_path("h1", "h2", V4 + V6)


def port_reason(lab, port, reason):
    """Packets a port punted for one reason (show interfaces: per port)."""
    reply = lab.sink.ctl("show", "interfaces")["interfaces"]
    ports = {i["name"]: i for i in reply["interfaces"]}
    return {r["reason"]: r["packets"] for r in ports[port].get("punt_reasons", [])}.get(reason, 0)


def test_iif_rule_leaves_only_that_port_to_the_kernel(lab):
    lab.wait_fast_path("h1", "h2", V4 + V6)
    dut = lab.run.ns("dut")
    # Names the other port: what eth1 receives stays XDP's.
    other = ["iif", "eth2", "lookup", "100", "pref", "1000"]
    dut.exec(["ip", "-6", "rule", "add"] + other)
    try:
        # The rule is in the mirror once fpm-sink logged it; then eth1 still redirects.
        wait_until(lambda: "punts on eth2 only" in lab.sink.tail(100000), 15, interval=0.3,
                   what="iif eth2 rule seen by fpm-sink", describe=lab.describe)
        eth1_before = port_reason(lab, "eth1", "policy_rules")
        summary, got, delta = lab.send_and_count("h1", "h2", V6, count=COUNT, pps=2000)
        eth1_after = port_reason(lab, "eth1", "policy_rules")
    finally:
        dut.exec(["ip", "-6", "rule", "del"] + other, check=False)
    assert got["n"] == summary["sent"] == summary["planned"], (summary, got["n"])
    assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)
    # eth2 itself punts its IPv6 meanwhile (h2's neighbour probes may arrive
    # there): only eth1's own count is asserted.
    assert eth1_after == eth1_before, nonzero(delta)

    # Names the ingress port: its IPv6 goes to the kernel, which routes it.
    own = ["iif", "eth1", "lookup", "100", "pref", "1000"]

    def punts():
        _s, _g, d = lab.send_and_count("h1", "h2", V6, count=3, timeout=0.5)
        return d["reasons"].get("policy_rules", 0) >= 3

    dut.exec(["ip", "-6", "rule", "add"] + own)
    try:
        # Table 100 is empty: the kernel falls through to main and still delivers.
        wait_until(punts, 15, interval=0.3, what="iif eth1 rule seen by fpm-sink",
                   describe=lab.describe)
        summary, got, delta = lab.send_and_count("h1", "h2", V6, count=COUNT, pps=2000)
    finally:
        dut.exec(["ip", "-6", "rule", "del"] + own, check=False)
    assert got["n"] == summary["sent"] == summary["planned"], (summary, got["n"])
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
    assert delta["reasons"].get("policy_rules", 0) >= summary["sent"], nonzero(delta)
    lab.wait_fast_path("h1", "h2", V4 + V6)


HAIRPIN_V4 = ["198.51.100.1"]
HAIRPIN_V6 = ["2001:db8:3::1"]


@pytest.fixture
def hairpin(lab):
    """r2 routes what it originates for h2's loopbacks through the DUT (table
    100, `iif lo`), and what it receives from the DUT straight to h2. Those
    datagrams come back with r2's own address as their source, which IPv4
    drops as a martian unless accept_local is on. The DUT's redirects name r2
    itself as the better gateway: r2 is kept from taking them, so that every
    datagram of a test takes the same path. r2 now originates traffic XDP forwards, so its veth must
    checksum in software: XDP drops the skb's partial-checksum note and h2
    would see a bad UDP checksum (the labs do the same for h1)."""
    r2 = lab.run.ns("r2")
    undo = [lambda: r2.exec(["ip", "route", "flush", "cache"], check=False)]

    def do(cmd, revert):
        r2.exec(cmd)
        undo.append(lambda: r2.exec(revert, check=False))

    ns_python(r2, "fpmtest.xdp", "txcsum", "eth0", "off")
    undo.append(lambda: ns_python(r2, "fpmtest.xdp", "txcsum", "eth0", "on", check=False))
    for knob, on in (("eth0.accept_local", 1), ("all.accept_redirects", 0),
                     ("eth0.accept_redirects", 0)):
        do(["sysctl", "-qw", f"net.ipv4.conf.{knob}={on}"],
           ["sysctl", "-qw", f"net.ipv4.conf.{knob}={1 - on}"])
    for fam, dst, gw in (("-4", "198.51.100.1/32", "10.0.2.1"),
                         ("-6", "2001:db8:3::1/128", "fd00:2::1")):
        do(["ip", fam, "route", "add", dst, "via", gw, "table", "100"],
           ["ip", fam, "route", "del", dst, "table", "100"])
        do(["ip", fam, "rule", "add", "iif", "lo", "lookup", "100", "pref", "100"],
           ["ip", fam, "rule", "del", "iif", "lo", "lookup", "100", "pref", "100"])
    try:
        lab.wait_fast_path("h1", "h2", V4 + V6)
        yield lab
    finally:
        for revert in reversed(undo):
            revert()


def set_send_redirects(ns, ifname, on):
    ns.exec(["sysctl", "-qw", f"net.ipv4.conf.{ifname}.send_redirects={1 if on else 0}"])


def icmp_out_redirects(ns):
    """Icmp OutRedirects of the namespace (/proc/net/snmp)."""
    rows = [line.split() for line in ns.exec(["cat", "/proc/net/snmp"]).stdout.splitlines()
            if line.startswith("Icmp:")]
    return int(dict(zip(rows[0][1:], rows[1][1:]))["OutRedirects"])


def hairpin_verdict(lab, dsts, want):
    """Poll until r2's hairpin probes to dsts are redirected by XDP (want
    "redirect") or punted as hairpins (want "hairpin")."""
    def check():
        s, g, d = lab.send_and_count("r2", "h2", dsts, count=3, timeout=0.5)
        key = d["verdicts"] if want == "redirect" else d["reasons"]
        return g["n"] == s["sent"] and key.get(want, 0) >= s["sent"]
    wait_until(check, 15, interval=0.3, what=f"hairpin to {dsts}: {want}",
               describe=lab.describe)


def test_hairpin_goes_to_the_kernel_while_it_sends_redirects(hairpin):
    lab = hairpin
    dut = lab.run.ns("dut")
    # The defaults: both switches on.
    assert dut.exec(["sysctl", "-n", "net.ipv4.conf.all.send_redirects"]).stdout.strip() == "1"
    assert dut.exec(["sysctl", "-n", "net.ipv4.conf.eth2.send_redirects"]).stdout.strip() == "1"
    hairpin_verdict(lab, HAIRPIN_V4 + HAIRPIN_V6, "hairpin")
    eth2_before = port_reason(lab, "eth2", "hairpin")
    redirects_before = icmp_out_redirects(dut)
    before = kernel_forwarded(dut)
    summary, got, delta = lab.send_and_count("r2", "h2", HAIRPIN_V4 + HAIRPIN_V6, count=COUNT,
                                             pps=2000)
    kernel = kernel_forwarded_delta(before, kernel_forwarded(dut))
    assert got["n"] == summary["sent"] == summary["planned"], (summary, got["n"])
    assert delta["verdicts"].get("redirect", 0) == 0, nonzero(delta)
    assert delta["reasons"].get("hairpin", 0) >= summary["sent"], nonzero(delta)
    assert port_reason(lab, "eth2", "hairpin") - eth2_before >= summary["sent"]
    assert kernel["v4"] >= COUNT and kernel["v6"] >= COUNT, kernel
    # What the punt is for: r2 was told of the better first hop (rate-limited,
    # so at least one).
    assert icmp_out_redirects(dut) > redirects_before


def test_hairpin_stays_in_xdp_with_both_send_redirects_off(hairpin):
    lab = hairpin
    dut = lab.run.ns("dut")
    try:
        # IN_DEV_TX_REDIRECTS is all OR the device: one switch off is not enough.
        set_send_redirects(dut, "eth2", False)
        set_send_redirects(dut, "all", False)
        hairpin_verdict(lab, HAIRPIN_V4, "redirect")
        summary, got, delta = lab.send_and_count("r2", "h2", HAIRPIN_V4, count=COUNT, pps=2000)
        summary6, got6, delta6 = lab.send_and_count("r2", "h2", HAIRPIN_V6, count=COUNT,
                                                    pps=2000)
        assert got["n"] == summary["sent"] == summary["planned"], (summary, got["n"])
        assert delta["verdicts"].get("redirect", 0) >= summary["sent"], nonzero(delta)
        assert delta["reasons"].get("hairpin", 0) == 0, nonzero(delta)
        # IPv6 has no switch: still the kernel's.
        assert got6["n"] == summary6["sent"] == summary6["planned"], (summary6, got6["n"])
        assert delta6["verdicts"].get("redirect", 0) == 0, nonzero(delta6)
        assert delta6["reasons"].get("hairpin", 0) >= summary6["sent"], nonzero(delta6)

        # Either switch back on punts again.
        set_send_redirects(dut, "eth2", True)
        hairpin_verdict(lab, HAIRPIN_V4, "hairpin")
        set_send_redirects(dut, "eth2", False)
        hairpin_verdict(lab, HAIRPIN_V4, "redirect")
        set_send_redirects(dut, "all", True)
        hairpin_verdict(lab, HAIRPIN_V4, "hairpin")
    finally:
        set_send_redirects(dut, "all", True)
        set_send_redirects(dut, "eth2", True)
