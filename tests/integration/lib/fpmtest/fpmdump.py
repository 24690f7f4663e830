"""A tiny FPM listener that decodes what zebra sends (diagnostics and FRR facts).

Not a second implementation of fpm-sink: it only names the messages and the
few attributes needed to see which routes and groups zebra emits. Run it in a
namespace where zebra runs:  ``ip netns exec NS python3 -m fpmtest dump``.
"""

import ctypes
import ipaddress
import os
import socket
import struct
import threading

RTM_NAMES = {24: "NEWROUTE", 25: "DELROUTE", 28: "NEWNEIGH", 29: "DELNEIGH",
             104: "NEWNEXTHOP", 105: "DELNEXTHOP"}
# rtattr / nhattr type numbers from linux/rtnetlink.h and linux/nexthop.h
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_MULTIPATH, RTA_TABLE, RTA_NH_ID = 1, 4, 5, 6, 9, 15, 30
NHA_ID, NHA_GROUP, NHA_BLACKHOLE, NHA_OIF, NHA_GATEWAY = 1, 2, 4, 5, 6


def _attrs(buf, raw=False):
    """(type, payload) per attribute; raw=True keeps the NLA_F_NESTED /
    NLA_F_NET_BYTEORDER bits in the type (FRR 10 sets NESTED on RTA_MULTIPATH)."""
    off = 0
    while off + 4 <= len(buf):
        length, typ = struct.unpack_from("=HH", buf, off)
        if length < 4:
            break
        yield (typ if raw else typ & 0x3FFF), buf[off + 4:off + length]
        off += (length + 3) & ~3


def _u32(b):
    return struct.unpack("=I", b[:4])[0]


def _ip(b):
    return str(ipaddress.ip_address(bytes(b)))


def decode_netlink(msg):
    """One netlink message -> dict with the fields tests look at."""
    length, typ, nl_flags = struct.unpack_from("=IHH", msg)
    body = msg[16:length]
    # nl_flags: NLM_F_REPLACE (0x100) marks FRR >= 9.1's one-message updates.
    out = {"msg": RTM_NAMES.get(typ, str(typ)), "nl_flags": nl_flags}
    if typ in (24, 25):
        fam, dst_len, _src, _tos, table, proto, scope, rtype, flags = struct.unpack_from("=BBBBBBBBI", body)
        a = dict(_attrs(body[12:]))
        dst = _ip(a[RTA_DST]) if RTA_DST in a else ("0.0.0.0" if fam == 2 else "::")
        out.update(prefix=f"{dst}/{dst_len}", family=fam, table=_u32(a[RTA_TABLE]) if RTA_TABLE in a else table,
                   protocol=proto, type=rtype, scope=scope, flags=flags)
        if RTA_PRIORITY in a:
            out["metric"] = _u32(a[RTA_PRIORITY])
        if RTA_NH_ID in a:
            out["nh_id"] = _u32(a[RTA_NH_ID])
        hops = []
        if RTA_GATEWAY in a or RTA_OIF in a:
            hops.append((_ip(a[RTA_GATEWAY]) if RTA_GATEWAY in a else None,
                         _u32(a[RTA_OIF]) if RTA_OIF in a else 0))
        if RTA_MULTIPATH in a:
            out["multipath_type"] = next(t for t, _v in _attrs(body[12:], raw=True)
                                         if t & 0x3FFF == RTA_MULTIPATH)
            mp, off = a[RTA_MULTIPATH], 0
            while off + 8 <= len(mp):
                rl, _flags, _hops, ifindex = struct.unpack_from("=HBBi", mp, off)
                sub = dict(_attrs(mp[off + 8:off + rl]))
                hops.append((_ip(sub[RTA_GATEWAY]) if RTA_GATEWAY in sub else None, ifindex))
                off += (rl + 3) & ~3
        out["nexthops"] = hops
    elif typ in (104, 105):
        fam, _pad, _scope, proto, _flags = struct.unpack_from("=BBBBI", body)
        a = dict(_attrs(body[8:]))
        out.update(family=fam, protocol=proto, id=_u32(a[NHA_ID]) if NHA_ID in a else 0)
        if NHA_GROUP in a:
            g = a[NHA_GROUP]
            out["group"] = [(struct.unpack_from("=I", g, i)[0], g[i + 4] + 1) for i in range(0, len(g), 8)]
        out["blackhole"] = NHA_BLACKHOLE in a
        if NHA_OIF in a:
            out["oif"] = _u32(a[NHA_OIF])
        if NHA_GATEWAY in a:
            out["gateway"] = _ip(a[NHA_GATEWAY])
    return out


def split_frame(payload):
    off = 0
    while off + 16 <= len(payload):
        length = struct.unpack_from("=I", payload, off)[0]
        if length < 16:
            break
        yield payload[off:off + length]
        off += (length + 3) & ~3


CLONE_NEWNET = 0x40000000


def in_netns(netns, fn):
    """fn() run inside network namespace ``netns`` (None: here); its result.

    setns() changes only the calling thread, so a short-lived helper thread
    enters the namespace and runs fn; a socket made there stays bound to that
    namespace wherever it is used afterwards.
    """
    result = {}

    def run():
        try:
            if netns:
                libc = ctypes.CDLL(None, use_errno=True)
                fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), f"setns {netns}")
                finally:
                    os.close(fd)
            result["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - re-raised below
            result["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def listen_socket(host, port, netns=None):
    """A listening TCP socket, created inside network namespace ``netns``."""
    def make():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(1)
        return s
    return in_netns(netns, make)


class FpmListener:
    """Accepts zebra's FPM connections on a thread; records decoded frames."""

    def __init__(self, host="127.0.0.1", port=2620, on_frame=None, netns=None):
        self.sock = listen_socket(host, port, netns)
        self.frames = []  # list of lists of decoded messages, or "CONNECT"/"CLOSE" markers
        self.lock = threading.Lock()
        self.on_frame = on_frame
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _record(self, item):
        with self.lock:
            self.frames.append(item)
        if self.on_frame:
            self.on_frame(item)

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self._record("CONNECT")
            conn.settimeout(0.2)
            buf = b""
            while not self._stop:
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    data = b""
                if not data:
                    break
                buf += data
                while len(buf) >= 4:
                    _ver, _typ, length = struct.unpack("!BBH", buf[:4])
                    if length < 4 or len(buf) < length:
                        break
                    frame, buf = buf[4:length], buf[length:]
                    self._record([decode_netlink(m) for m in split_frame(frame)])
            conn.close()
            self._record("CLOSE")

    def messages(self):
        with self.lock:
            return [m for f in self.frames if isinstance(f, list) for m in f]

    def close(self):
        self._stop = True
        self.thread.join(timeout=2)
        self.sock.close()


def main(port=2620):
    import time
    listener = FpmListener(port=port, on_frame=lambda f: print(f, flush=True)).start()
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()


RTN_NAMES = {1: "unicast", 2: "local", 6: "blackhole", 7: "unreachable", 8: "prohibit"}


def replay_fib(messages):
    """Apply decoded messages in order; return the routes zebra told us about
    in the same normalised form as routes.zebra_fib() (an oracle for tests
    of the comparison rule, independent of fpm-sink)."""
    from .routes import _key  # local import: routes has no dependency on this module

    groups, routes = {}, {}
    for m in messages:
        if m["msg"] == "NEWNEXTHOP":
            groups[m["id"]] = m
        elif m["msg"] == "DELNEXTHOP":
            groups.pop(m["id"], None)
        elif m["msg"] == "NEWROUTE":
            routes[(m["table"], m["prefix"])] = m
        elif m["msg"] == "DELROUTE":
            routes.pop((m["table"], m["prefix"]), None)

    def resolve(nh_id):
        g = groups.get(nh_id)
        if g is None:
            return None
        if "group" in g:
            members = [resolve(member) for member, _w in g["group"]]
            return None if None in members else [h for ms in members for h in ms]
        return [] if g["blackhole"] else [(g.get("gateway"), g.get("oif", 0))]

    out = set()
    for (table, prefix), m in routes.items():
        rtype = RTN_NAMES.get(m["type"], "other")
        hops = m["nexthops"]
        if "nh_id" in m:
            hops = resolve(m["nh_id"])
            if hops is None:
                continue  # group never sent: fpm-sink would keep it pending
        out.add(_key(table, prefix, rtype, hops))
    return out
