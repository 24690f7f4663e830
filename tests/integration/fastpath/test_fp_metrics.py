"""Prometheus metrics (--metrics-listen) during a real-zebra lab, scraped with curl.

Lab: fpmtest.fastpath.StaticLab (h1 - dut - r2 - h2, statics on the DUT, real
zebra + staticd). fpm-sink serves /metrics on a loopback address inside the
DUT namespace; curl runs in that namespace too. Every check compares a scraped
value with what ``fpm-sinkctl --json`` says at the same time: routes per
family, next-hop groups, FPM frames, table occupancy, fast-path routes by
family, the forwarded packet count of the ingress port after traffic, and one
per-port punt reason (no_route) after pings to a destination the DUT has no
route for.

Counters can move between a scrape and a CLI call (zebra may still send), so a
counter is checked as bracketed: scrape <= CLI <= next scrape.
"""

import re
import time

import pytest

from fpmtest.fastpath import StaticLab, ping
from fpmtest.poll import wait_until

ONE_FRR = True       # the exporter does not depend on FRR's version
MODES = ("nhg",)     # nor on the next-hop mode: one lab keeps the run short
METRICS = "127.0.0.2:19476"  # not the default: the option is exercised too

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Exposition text -> ({(name, frozenset(labels)): value}, {name: type}, {name: help})."""
    samples, types, helps = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line.startswith("# HELP "):
            _, _, name, text_ = line.split(" ", 3)
            helps[name] = text_
        elif line and not line.startswith("#"):
            m = SAMPLE.match(line)
            assert m, f"unparsable exposition line: {line!r}"
            labels = frozenset(LABEL.findall(m.group(2) or ""))
            samples[(m.group(1), labels)] = float(m.group(3))
    return samples, types, helps


class Scrape:
    def __init__(self, text):
        self.text = text
        self.samples, self.types, self.helps = parse(text)

    def get(self, name, **labels):
        key = (name, frozenset(labels.items()))
        assert key in self.samples, f"{name}{labels} not exported:\n{self.text}"
        return self.samples[key]


@pytest.fixture(scope="module")
def lab(module_run, sink_bins, use_nhg):
    # 127.0.0.2 answers on lo (127/8) without an address of its own.
    return StaticLab(module_run, sink_bins, use_nhg=use_nhg,
                     sink_args=["--metrics-listen", METRICS]).start()


def scrape(lab):
    out = lab.dut_ns.exec(["curl", "-sS", "--fail", "--max-time", "5",
                           f"http://{METRICS}/metrics"])
    return Scrape(out.stdout)


def bracketed(lab, metric, cli, what, timeout=10):
    """Poll until scrape <= CLI value <= next scrape (both reads of one counter)."""
    state = {}

    def check():
        before = metric(scrape(lab))
        now = cli()
        after = metric(scrape(lab))
        state.update(before=before, cli=now, after=after)
        return before <= now <= after
    wait_until(check, timeout, interval=0.2, what=what, describe=lambda: str(state))
    return state


def test_exposition_is_prometheus_text(lab):
    s = scrape(lab)
    ours = {name for name, _ in s.samples if name.startswith("fpm_sink_")}
    assert len(ours) > 40, sorted(ours)
    for name in ours:
        assert name in s.types, f"{name} has no TYPE line"
        assert s.helps.get(name), f"{name} has no HELP text"
        assert (s.types[name] == "counter") == name.endswith("_total"), (name, s.types[name])
    assert s.get("fpm_sink_fast_path_enabled") == 1
    assert s.get("fpm_sink_fpm_session_connected") == 1


def test_rib_agrees_with_fpm_sinkctl(lab):
    # The statics are offloaded (StaticLab.start waited): the state is settled,
    # but zebra may still refresh something; poll until one scrape matches.
    state = {}

    def agree():
        s = scrape(lab)
        rib = lab.sink.fpm()["fpm"]["rib"]
        groups = lab.sink.nexthop_groups()["nexthop_groups"]
        by_family = {fam: sum(1 for g in groups if g["family"] == fam) for fam in ("ipv4", "ipv6")}
        got = {"ipv4": s.get("fpm_sink_routes", family="ipv4"),
               "ipv6": s.get("fpm_sink_routes", family="ipv6"),
               "groups4": s.get("fpm_sink_groups", family="ipv4"),
               "groups6": s.get("fpm_sink_groups", family="ipv6"),
               "pending": s.get("fpm_sink_pending_routes")}
        want = {"ipv4": rib["routes_v4"], "ipv6": rib["routes_v6"],
                "groups4": by_family["ipv4"], "groups6": by_family["ipv6"],
                "pending": rib["pending_routes"]}
        state.update(got=got, want=want)
        return got == want and got["groups4"] + got["groups6"] == rib["groups"]
    wait_until(agree, 10, interval=0.2, what="metrics == fpm-sinkctl (routes, groups)",
               describe=lambda: str(state))
    assert state["got"]["ipv4"] >= 2 and state["got"]["ipv6"] >= 2, state
    print(f"routes and groups: {state['got']}")

    st = bracketed(lab, lambda s: s.get("fpm_sink_fpm_frames_total"),
                   lambda: lab.sink.fpm()["fpm"]["stream"]["frames"], "FPM frames")
    assert st["cli"] > 0, st
    print(f"FPM frames: {st}")


def test_tables_agree_with_fpm_sinkctl(lab):
    s = scrape(lab)
    tables = lab.sink.counters()["tables"]
    for table, usage in tables.items():
        assert s.get("fpm_sink_table_capacity", table=table) == usage["capacity"], table
        assert usage["capacity"] > 0, table
    # The statics use next hops: their slots are in use.
    assert s.get("fpm_sink_table_entries", table="nexthops", state="used") >= 1
    # The four statics are installed: two per family.
    assert s.get("fpm_sink_fast_path_routes", family="ipv4", state="installed") >= 2
    assert s.get("fpm_sink_fast_path_routes", family="ipv6", state="installed") >= 2


def test_forwarded_packets_per_port(lab):
    lab.wait_fast_path("h1", "h2", StaticLab.H2_V4 + StaticLab.H2_V6)
    before = scrape(lab).get("fpm_sink_port_packets_total", port="eth1", verdict="redirect")
    summary, got, _delta = lab.send_and_count("h1", "h2", StaticLab.H2_V4, count=200, pps=4000)
    assert got["n"] == summary["sent"] == summary["planned"], (summary, got)

    def cli_eth1():
        ports = {p["name"]: p for p in lab.sink.counters()["interfaces"]}
        return ports["eth1"]["redirect"]
    st = bracketed(lab, lambda s: s.get("fpm_sink_port_packets_total", port="eth1",
                                        verdict="redirect"), cli_eth1, "eth1 redirect packets")
    assert st["after"] - before >= summary["sent"], (before, st, summary)
    s = scrape(lab)
    assert s.get("fpm_sink_port_bytes_total", port="eth1", verdict="redirect") > 0
    assert s.get("fpm_sink_xdp_packets_total", verdict="redirect") >= st["after"]
    print(f"eth1 redirect: before {before}, after {st}, sent {summary['sent']}")


UNROUTED_V4 = "203.0.113.9"  # TEST-NET-3: neither the DUT nor zebra has a route for it


def test_punt_reason_per_port(lab):
    def cli_no_route():
        reply = lab.sink.ctl("show", "interfaces")["interfaces"]
        ports = {i["name"]: i for i in reply["interfaces"]}
        reasons = {r["reason"]: r["packets"] for r in ports["eth1"].get("punt_reasons", [])}
        return reasons.get("no_route", 0)

    def metric(s):
        return s.samples.get(("fpm_sink_port_reason_packets_total",
                              frozenset({("port", "eth1"), ("reason", "no_route")})), 0)
    before = metric(scrape(lab))
    sent = 5
    ping(lab.run.ns("h1"), UNROUTED_V4, count=sent, interval=0.2)  # unanswered: no check
    st = bracketed(lab, metric, cli_no_route, "eth1 no_route packets")
    assert st["after"] - before >= sent, (before, st)
    s = scrape(lab)
    assert s.get("fpm_sink_port_reason_bytes_total", port="eth1", reason="no_route") > 0
    print(f"eth1 no_route: before {before}, after {st}, sent {sent}")


def test_scrape_is_cheap(lab):
    t0 = time.monotonic()
    for _ in range(5):
        scrape(lab)
    per = (time.monotonic() - t0) / 5
    print(f"scrape with curl: {per * 1000:.1f} ms")
    assert per < 1.0, per
