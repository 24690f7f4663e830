"""UDP traffic for fast-path tests: a paced sender and a verifying receiver.

Both run inside a namespace (``ip netns exec NS python3 -m fpmtest.traffic ...``,
see fastpath.Traffic for the Python side). Bounded and deterministic: the
sender sends exactly ``count`` datagrams per (destination, flow) round robin at
``pps``; each carries a header and a payload derived from it, so the receiver
can check every byte ("intact"), the flow, the global sequence number and the
TTL / hop limit it arrived with (an XDP forwarder must decrement it).

Datagram: b"FPMT" | u32 run id | u32 global seq | u16 dst index | u16 flow |
          u64 send time (CLOCK_MONOTONIC ns, shared by all namespaces) | pattern
pattern[i] = (seq * 7 + flow + i) & 0xff

Receiver output (JSON, rewritten atomically every 100 ms while it changes):
  {"ready": true, "total": N datagrams, "bad": N damaged, "dup": N duplicates,
   "runs": {"<run id>": {"n": N distinct, "flows": {"<dst idx>|<flow>": {"n": N, "sport": P}},
                        "ttl": {"62": N}, "seqs": [...] (only with --keep-seqs)}}}
"""

import argparse
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

MAGIC = b"FPMT"
HDR = struct.Struct("!4sIIHHQ")
IP_RECVTTL = 12
IP_TTL = 2
IPV6_RECVHOPLIMIT = 51
IPV6_HOPLIMIT = 52


_PATTERN = bytes(range(256)) * 2


def _pattern(base, n):
    out = (_PATTERN[base:base + 256] * (n // 256 + 1))
    return out[:n]


def payload(run_id, seq, dst_idx, flow, size):
    head = HDR.pack(MAGIC, run_id, seq, dst_idx, flow, time.monotonic_ns())
    n = max(0, size - HDR.size)
    return head + _pattern((seq * 7 + flow) & 0xff, n)


def check(data):
    """(run_id, seq, dst_idx, flow, sent_ns) or None if the datagram is damaged."""
    if len(data) < HDR.size:
        return None
    magic, run_id, seq, dst_idx, flow, sent = HDR.unpack_from(data)
    if magic != MAGIC:
        return None
    if data[HDR.size:] != _pattern((seq * 7 + flow) & 0xff, len(data) - HDR.size):
        return None
    return run_id, seq, dst_idx, flow, sent


# ---------------------------------------------------------------- receiver

def receive(port, out, keep_seqs=False):
    socks = []
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s4.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    s4.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s4.bind(("0.0.0.0", port))
    socks.append(s4)
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s6.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
    s6.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s6.bind(("::", port))
    socks.append(s6)

    state = {"ready": True, "total": 0, "bad": 0, "dup": 0, "runs": {}}
    seen = {}
    dirty = [True]
    stop = [False]

    def dump():
        snap = json.loads(json.dumps(state))
        if keep_seqs:
            for run_id, seqs in seen.items():
                snap["runs"][str(run_id)]["seqs"] = sorted(seqs)
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(snap, f)
        os.replace(tmp, out)
        dirty[0] = False

    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    last_dump = 0.0
    while not stop[0]:
        ready, _, _ = select.select(socks, [], [], 0.05)
        for s in ready:
            while True:
                try:
                    data, anc, _flags, addr = s.recvmsg(65535, 64, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                dirty[0] = True
                state["total"] += 1
                info = check(data)
                if info is None:
                    state["bad"] += 1
                    continue
                run_id, seq, dst_idx, flow, _sent = info
                seqs = seen.setdefault(run_id, set())
                if seq in seqs:
                    state["dup"] += 1
                    continue
                seqs.add(seq)
                run = state["runs"].setdefault(str(run_id), {"n": 0, "flows": {}, "ttl": {}})
                run["n"] += 1
                key = f"{dst_idx}|{flow}"
                fl = run["flows"].setdefault(key, {"n": 0, "sport": addr[1]})
                fl["n"] += 1
                for level, typ, val in anc:
                    if (level, typ) in ((socket.IPPROTO_IP, IP_TTL),
                                        (socket.IPPROTO_IPV6, IPV6_HOPLIMIT)):
                        ttl = str(struct.unpack("=i", val[:4])[0] if len(val) >= 4 else val[0])
                        run["ttl"][ttl] = run["ttl"].get(ttl, 0) + 1
        now = time.monotonic()
        if dirty[0] and now - last_dump >= 0.1:
            dump()
            last_dump = now
    dump()


# ------------------------------------------------------------------ sender

def send(dsts, port, flows, count, pps, size, sport_base, run_id):
    """Round robin over (dst, flow); returns a summary dict."""
    socks = []  # [flow][dst index] -> the flow's socket of the dst's family
    for f in range(flows):
        by_family = {}
        for d in dsts:
            fam = socket.AF_INET6 if ":" in d else socket.AF_INET
            if fam not in by_family:
                s = socket.socket(fam, socket.SOCK_DGRAM)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport_base + f))
                by_family[fam] = s
        socks.append([by_family[socket.AF_INET6 if ":" in d else socket.AF_INET] for d in dsts])
    total = count * flows * len(dsts)
    errors = {}
    sent = 0
    seq = 0
    start = time.monotonic()
    interval = 1.0 / pps if pps else 0.0
    for _round in range(count):
        for f in range(flows):
            for i, d in enumerate(dsts):
                if interval:
                    due = start + seq * interval
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                try:
                    socks[f][i].sendto(payload(run_id, seq, i, f, size), (d, port))
                    sent += 1
                except OSError as exc:
                    errors[exc.strerror] = errors.get(exc.strerror, 0) + 1
                seq += 1
    end = time.monotonic()
    for row in socks:
        for s in set(row):
            s.close()
    return {"run": run_id, "planned": total, "sent": sent, "errors": errors,
            "start_ns": int(start * 1e9), "end_ns": int(end * 1e9),
            "seconds": round(end - start, 3), "pps": pps, "flows": flows,
            "dsts": dsts, "sport_base": sport_base, "count": count}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="fpmtest.traffic", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--keep-seqs", action="store_true")
    s = sub.add_parser("send")
    s.add_argument("--dst", action="append", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--flows", type=int, default=1)
    s.add_argument("--count", type=int, default=100, help="datagrams per (dst, flow)")
    s.add_argument("--pps", type=float, default=0, help="0 = as fast as possible")
    s.add_argument("--size", type=int, default=200, help="UDP payload bytes")
    s.add_argument("--sport-base", type=int, default=40000)
    s.add_argument("--run-id", type=int, default=None)
    args = ap.parse_args(argv)
    if args.cmd == "recv":
        receive(args.port, args.out, args.keep_seqs)
        return 0
    run_id = args.run_id if args.run_id is not None else random.getrandbits(31)
    print(json.dumps(send(args.dst, args.port, args.flows, args.count, args.pps, args.size,
                          args.sport_base, run_id)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
