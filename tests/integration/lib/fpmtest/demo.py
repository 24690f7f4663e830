"""The demo behind ci/demo.sh: FRR in namespaces feeding fpm-sink.

Steps run in order inside one Run, which tears everything down on success,
failure, Ctrl-C or SIGTERM. The traffic step sends pings from peer2 through
dut to host1 behind the BGP peer: fpm-sink's XDP program on dut's routed ports
redirects them eth2 -> eth1 (the replies go to a connected destination, which
the fast path leaves to the kernel), and the counters are shown as they grow.
The restart step restarts fpm-sink in the middle of a ping run: with
--keep-fast-path the XDP program and its pinned tables forward on while the
process is gone, and the new process takes them over (warm restart).
"""

import ipaddress
import os
import re
import signal
import sys
import time

from . import Run, wait_until
from .netns import sh
from .routes import diff_fib
from .sink import REPO
from .topology import DEMO_CLAB, Lab, bgp_networks


def banner(title):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)), flush=True)


def _fmt_nhs(key):
    _table, _prefix, rtype, nhs = key
    if rtype != "unicast":
        return rtype
    return ", ".join(f"{gw or 'direct'}%{ifi}" for gw, ifi in nhs)


def side_by_side(zebra, sink):
    """One line per prefix: what zebra installed next to what fpm-sink holds."""
    z = {k[1]: k for k in zebra}
    s = {k[1]: k for k in sink}
    rows = [("prefix", "zebra FIB", "fpm-sink", "")]
    def order(p):
        net = ipaddress.ip_network(p)
        return (net.version, net.network_address, net.prefixlen)
    for p in sorted(set(z) | set(s), key=order):
        zk, sk = z.get(p), s.get(p)
        rows.append((p, _fmt_nhs(zk) if zk else "-", _fmt_nhs(sk) if sk else "-",
                     "ok" if zk == sk else "DIFF"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")


# dut's routed ports: fpm-sink attaches its XDP program to them.
DUT_PORTS = ("eth1", "eth2")
# host1 sits behind the BGP peer, inside the first prefix peer1 announces.
HOST1_LINK = ("peer1", "eth2", "host1", "eth1", ["100.64.0.254/24"], ["100.64.0.1/24"])
HOST1 = "100.64.0.1"


def _has_fast_path(binary):
    res = sh([binary, "--help"], check=False)
    if "--interface" in (res.stdout or "") + (res.stderr or ""):
        return True
    print(f"note: {binary} has no --interface option: running RIB-only, no XDP")
    return False


def _rib_only(sink):
    """Drop the file's --interface options: the fast path is off."""
    words, kept = iter(sink.extra_args), []
    for word in words:
        if word == "--interface":
            next(words, None)
        else:
            kept.append(word)
    sink.extra_args, sink.interfaces = kept, []


def step_topology(ctx):
    banner("topology: dut (zebra+staticd+bgpd AS 65001, fpm-sink) -- peer1 (bgpd AS 65002), peer2")
    lab = ctx["lab"]
    print(f"deploying {os.path.relpath(DEMO_CLAB, REPO)} into namespaces (as containerlab deploy -t would)")
    if lab.sink and ctx.get("xdp", True) and _has_fast_path(lab.sink.binary):
        # The file's FPM_SINK_OPTS give the ports; the traffic step relies on them.
        if sorted(lab.sink.interfaces) != sorted(DUT_PORTS):
            raise RuntimeError(f"{DEMO_CLAB}: dut's FPM_SINK_OPTS ports are "
                               f"{lab.sink.interfaces}, the demo needs {list(DUT_PORTS)}")
        # Pins that outlive the process (each `ip netns exec` has its own
        # mounts, so a bpffs fpm-sink mounted itself would go with it).
        bpffs = os.path.join(lab.run.dir, "bpffs")
        os.makedirs(bpffs)
        sh(["mount", "-t", "bpf", "bpf", bpffs])
        lab.run.on_close(lambda: sh(["umount", "-l", bpffs], check=False))
        lab.sink.extra_args += ["--keep-fast-path", "--bpffs", os.path.join(bpffs, "fpm-sink")]
        ctx["restartable"] = True
    elif lab.sink:
        _rib_only(lab.sink)
    lab.start()  # fpm-sink, then FRR on dut and peer1 from the file's frr.conf
    networks = bgp_networks(ctx["bgp_v4"], ctx["bgp_v6"])
    lab.announce(networks)  # --bgp-v4 / --bgp-v6 other than the file's 10 / 3
    lab.wait_bgp_up()
    lab.wait_zebra(lambda fib: set(networks) <= {k[1] for k in fib}, timeout=90,
                   what="BGP routes in zebra")
    print(f"namespaces: {', '.join(ns.name for ns in lab.run.namespaces.values())}")
    print(f"BGP: peer1 announces {len(networks)} prefixes; statics: single, ECMP, blackhole")


def step_converge(ctx):
    lab = ctx["lab"]
    fib = lab.wait_sink_matches(timeout=30)
    ctx["fib"] = fib


def step_show(ctx):
    lab = ctx["lab"]
    banner("zebra: show ip route")
    print(lab.dut.vtysh("show ip route", daemon="zebra"))
    banner("zebra: show ipv6 route")
    print(lab.dut.vtysh("show ipv6 route", daemon="zebra"))
    banner("fpm-sinkctl show routes")
    print(lab.sink.ctl("show", "routes", as_json=False))
    banner("fpm-sinkctl show fpm")
    print(lab.sink.ctl("show", "fpm", as_json=False))
    banner("zebra FIB next to fpm-sink (normalised)")
    zebra, sink = lab.zebra_fib(), lab.sink_fib()
    side_by_side(zebra, sink)
    print()
    print(diff_fib(zebra, sink).splitlines()[0])
    print("RESULT: fpm-sink holds exactly zebra's FIB" if zebra == sink else "RESULT: MISMATCH")
    ctx["ok"] = zebra == sink


# ---- traffic through the XDP fast path ------------------------------------------------

# veth takes XDP_REDIRECTed frames only in NAPI mode: an XDP program on the
# receiving end, or GRO switched on (ethtool -K DEV gro on; done here with the
# legacy ETHTOOL_SGRO ioctl so that ethtool is not needed).
_GRO_ON = (
    "import array,fcntl,socket,struct,sys\n"
    "v=array.array('I',[0x2c,1])\n"
    "r=struct.pack('16sP',sys.argv[1].encode(),v.buffer_info()[0]).ljust(40,b'\\0')\n"
    "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
    "fcntl.ioctl(s.fileno(),0x8946,r)\n")


def gro_on(ns, ifname):
    ns.exec(["python3", "-c", _GRO_ON, ifname])


def _counters(lab):
    """(redirect, pass, drop, connected punts) of fpm-sink's fast path, or None
    without one."""
    try:
        c = lab.sink.ctl("show", "counters").get("counters", {})
    except Exception:  # noqa: BLE001 - RIB-only daemon: no counters
        return None
    v = c.get("verdicts", {})
    return (v.get("redirect", 0), v.get("pass", 0), v.get("drop", 0),
            c.get("reasons", {}).get("connected", 0))


def _ping(ns, dst, count):
    """Flood ping (root): returns (transmitted, received, summary line)."""
    out = ns.exec(["ping", "-q", "-f", "-W", "1", "-c", str(count), dst], check=False,
                  timeout=60).stdout
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    line = next((l for l in out.splitlines() if "transmitted" in l), out.strip())
    return (int(m.group(1)), int(m.group(2)), line) if m else (0, 0, line)


def step_traffic(ctx, bursts=3, count=2000):
    lab = ctx["lab"]
    run = lab.run
    banner(f"traffic: peer2 -> dut (XDP on {', '.join(DUT_PORTS)}) -> peer1 -> host1 {HOST1}")
    run.link(*HOST1_LINK)
    host1, peer1, peer2 = run.ns("host1"), run.ns("peer1"), run.ns("peer2")
    host1.exec(["ip", "route", "add", "default", "via", "100.64.0.254"])
    peer2.exec(["ip", "route", "add", "100.64.0.0/10", "via", "10.0.2.1"])
    peer1.exec(["ip", "route", "add", "10.0.2.0/24", "via", "10.0.1.1"])
    for ns, ifname in ((peer1, "eth1"), (peer2, "eth1")):
        gro_on(ns, ifname)
    # The dut's neighbour entry for peer1 gives the fast path its MAC: one ping
    # through the kernel resolves it (unresolved next hops punt, never drop).
    _ping(peer2, HOST1, 3)
    time.sleep(0.5)

    print(lab.dut.vtysh(f"show ip route {HOST1}", daemon="zebra").rstrip())
    print()
    print(lab.sink.ctl("show", "routes", "100.64.0.0/24", as_json=False).rstrip())
    print()
    start = _counters(lab)
    if start is None:
        print("fpm-sink runs without a fast path (no counters): traffic goes through the kernel")
    sent = received = 0
    # Requests are routed (100.64.0.0/10 via peer1); the echo replies go to
    # peer2, a host on the dut's connected 10.0.2.0/24, resolved by the warm-up
    # ping: XDP forwards them through its host entry, not punted as `connected`.
    print(f"{'burst':<7}{'ping peer2 -> ' + HOST1:<32}{'redirect':>10}{'pass':>8}{'drop':>7}"
          f"{'connected':>11}   (fast-path verdicts and `connected` punts since the first burst)")
    for i in range(1, bursts + 1):
        tx, rx, _line = _ping(peer2, HOST1, count)
        sent, received = sent + tx, received + rx
        now = _counters(lab) or (0, 0, 0, 0)
        base = start or (0, 0, 0, 0)
        print(f"{i:<7}{f'{tx} sent, {rx} replies':<32}{now[0] - base[0]:>10}{now[1] - base[1]:>8}"
              f"{now[2] - base[2]:>7}{now[3] - base[3]:>11}", flush=True)
    banner("fpm-sinkctl show counters")
    try:
        print(lab.sink.ctl("show", "counters", as_json=False).rstrip())
    except Exception as exc:  # noqa: BLE001
        print(f"(no counters: {exc})")
    end = _counters(lab)
    forwarded = (end[0] - start[0]) if start and end else 0
    connected = (end[3] - start[3]) if start and end else 0
    # Requests and replies: both directions through the fast path.
    ok = received > 0 and forwarded >= 2 * received and connected == 0
    print(f"\nRESULT: XDP forwarded {forwarded} packets (echo requests peer2 -> host1 and "
          f"replies to peer2 on a connected subnet); ping {received}/{sent} answered; "
          f"{connected} punted as `connected`"
          + ("" if ok else " - the fast path did not forward them all"))
    ctx["ok"] = ctx.get("ok", False) and ok


def _log_since(sink, offset):
    with open(sink.log, encoding="utf-8", errors="replace") as f:
        f.seek(offset)
        return f.read()


def step_restart(ctx, count=3000, interval=0.002):
    if not ctx.get("restartable") or _counters(ctx["lab"]) is None:
        return
    lab = ctx["lab"]
    sink = lab.sink
    banner(f"restart fpm-sink during a ping run ({count} pings, one per {interval * 1e3:g} ms)")
    peer2 = lab.run.ns("peer2")
    start = _counters(lab)
    out = os.path.join(peer2.dir, "restart-ping.log")
    ping = peer2.popen(["ping", "-q", "-n", "-i", str(interval), "-W", "1", "-c", str(count),
                        HOST1], out)
    wait_until(lambda: _counters(lab)[0] - start[0] >= 200, 10, what="pings flowing")
    t0 = time.monotonic()
    sink.stop()
    down_ms = (time.monotonic() - t0) * 1e3
    offset = os.path.getsize(sink.log)
    t1 = time.monotonic()
    sink.start()
    print(f"fpm-sink stopped (with --keep-fast-path) and started again, down {down_ms:.0f} ms "
          f"+ {(time.monotonic() - t1) * 1e3:.0f} ms to answer on its control socket")
    wait_until(lambda: "dataplane.warm_restart.committed" in _log_since(sink, offset), 60,
               what="the warm restart to complete", describe=sink.tail)
    for line in _log_since(sink, offset).splitlines():
        if "dataplane.warm_restart" in line:
            print("  " + line.split(" ", 2)[2])
    ping.wait(timeout=120)
    with open(out, encoding="utf-8", errors="replace") as f:
        text = f.read()
    m = re.search(r"(\d+) packets transmitted, (\d+) received", text)
    tx, rx = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    end = _counters(lab)
    redirected, punted = end[0] - start[0], end[1] - start[1]
    print(f"ping: {rx}/{tx} answered; fast path during the run: {redirected} redirected, "
          f"{punted} punted (the replies, to a connected destination)")
    ok = tx > 0 and rx == tx and redirected >= tx
    print("RESULT: " + ("every echo request was forwarded by XDP across the restart" if ok
                        else "the fast path did not carry every request across the restart"))
    ctx["ok"] = ctx.get("ok", False) and ok


STEPS = [step_topology, step_converge, step_show, step_traffic, step_restart]


def _raise_interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run_demo(sink_bins, bgp_v4=10, bgp_v6=3, hold=False, steps=None, frr=None):
    """frr: an frr_versions.FrrChoice (None = the host's FRR 8.4)."""
    # Explicit, because a shell may start us with SIGINT ignored (background jobs).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)
    ctx = {"bgp_v4": bgp_v4, "bgp_v6": bgp_v6, "ok": False}
    if frr is not None:
        banner(f"FRR {frr.version or frr.suite}" + (" (host)" if frr.is_host else
                                                    f" from {frr.rootfs.path if frr.rootfs else '-'}"))
    try:
        with Run(frr=frr) as run:
            lab = ctx["lab"] = Lab(run, sink_bins=sink_bins, clab_file=DEMO_CLAB)
            try:
                for step in steps or STEPS:
                    step(ctx)
            except Exception:
                if lab.sink:  # the run dir goes with the Run: show the log now
                    print("fpm-sink log tail:\n" + lab.sink.tail(), file=sys.stderr)
                raise
            if hold:
                banner("holding the lab up: Ctrl-C tears it down")
                print(" ".join(lab.dut.vtysh_command()))
                print(f"{sink_bins[1]} --socket {lab.sink.socket} show routes")
                print(f"ip netns exec {lab.dut_ns.name} bash")
                signal.pause()
            banner("teardown")
    except KeyboardInterrupt:
        print("\ninterrupted: torn down", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - report; the Run already tore down
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    print("namespaces and processes removed")
    return 0 if ctx["ok"] else 1

