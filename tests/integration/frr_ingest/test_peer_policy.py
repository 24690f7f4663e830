"""Only zebra feeds the FIB: once zebra's session is up, a local process running
as nobody (uid 65534) connects to the FPM port and sends a route. fpm-sink
refuses it (peers_refused + 1) and it injects nothing, and zebra's session and
routes stay exactly as they were."""

import sys

from fpmtest.poll import wait_until
from fpmtest.topology import BASE_STATICS, Lab

INTRUDER_PREFIX = "10.99.0.0/24"

# A raw FPM frame holding one RTM_NEWROUTE (blackhole 10.99.0.0/24, protocol
# static), then wait until fpm-sink closes the connection.
INTRUDER = r"""
import socket, struct, sys
rtmsg = struct.pack("=BBBBBBBBI", 2, 24, 0, 0, 254, 196, 0, 6, 0)
dst = struct.pack("=HH", 8, 1) + bytes([10, 99, 0, 0])
body = rtmsg + dst
nl = struct.pack("=IHHII", 16 + len(body), 24, 0x401, 1, 0) + body
frame = struct.pack("!BBH", 1, 1, 4 + len(nl)) + nl
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(frame)
try:
    while s.recv(4096):
        pass
    print("closed")
except ConnectionResetError:
    print("closed")
"""


def session(lab):
    return lab.sink.fpm()["fpm"]["session"]


def test_nobody_cannot_feed_or_replace_zebra(frr, run, sink_bins):
    lab = Lab(run, sink_bins=sink_bins)
    lab.start_sink()
    lab.start_dut(BASE_STATICS)
    lab.wait_zebra(lambda fib: "198.51.100.0/24" in {k[1] for k in fib})
    fib = lab.wait_sink_matches()
    before = session(lab)
    routes_before = lab.sink.routes()["routes"]
    assert before["state"] == "connected"
    assert before.get("peers_refused", 0) == 0

    res = lab.dut_ns.exec(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                           sys.executable, "-c", INTRUDER, str(lab.fpm_port)], timeout=30)
    assert res.stdout.strip() == "closed"
    wait_until(lambda: session(lab)["peers_refused"] == 1, 10, what="intruder refused")

    after = session(lab)
    assert after["state"] == "connected"
    for key in ("peer", "connected_since", "sessions_accepted", "sessions_replaced"):
        assert after[key] == before[key], key
    assert lab.sink.routes()["routes"] == routes_before
    assert INTRUDER_PREFIX not in {r["prefix"] for r in routes_before}
    assert lab.sink_fib() == fib
    assert "fpm.peer.refused" in lab.sink.tail(200)
