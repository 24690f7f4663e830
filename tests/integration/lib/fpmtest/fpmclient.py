"""A scripted FPM client: plays zebra's dplane_fpm_nl towards fpm-sink.

Encodes next-hop objects and routes the way zebra 8.4 shapes them (see
fpm-sink/fpm/netlink_builder.hpp for the wire shapes), one netlink message per
FPM frame as dplane_fpm_nl writes them, and sends them over a TCP connection
made inside a network namespace. Used by the churn soak
(tests/integration/fastpath/test_fp_churn.py), which needs thousands of
updates a second that real FRR cannot be scripted to produce.
"""

import ipaddress
import socket
import struct

from .fpmdump import in_netns

RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWNEXTHOP, RTM_DELNEXTHOP = 24, 25, 104, 105
NLM_F_REQUEST, NLM_F_REPLACE, NLM_F_CREATE = 0x1, 0x100, 0x400
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_MULTIPATH, RTA_TABLE, RTA_NH_ID = \
    1, 4, 5, 6, 9, 15, 30
NHA_ID, NHA_GROUP, NHA_OIF, NHA_GATEWAY = 1, 2, 5, 6
AF_UNSPEC, AF_INET, AF_INET6 = 0, 2, 10
RT_TABLE_MAIN, RTN_UNICAST, RTN_UNSPEC = 254, 1, 0
PROTO_BGP = 186
METRIC = 20


def _attr(typ, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, typ) + payload + b"\0" * (-length % 4)


def _u32(v):
    return struct.pack("=I", v)


def _family(addr):
    return AF_INET6 if ipaddress.ip_address(addr).version == 6 else AF_INET


def _message(typ, flags, body):
    return struct.pack("=IHHII", 16 + len(body), typ, flags, 0, 0) + body


def frame(msg):
    """FPM framing: {version 1, type 1 (netlink), length (network order, header included)}."""
    return struct.pack("!BBH", 1, 1, 4 + len(msg)) + msg


def nexthop_add(nh_id, gateway, ifindex):
    nhm = struct.pack("=BBBBI", _family(gateway), 0, PROTO_BGP, 0, 0)
    body = nhm + _attr(NHA_ID, _u32(nh_id)) + \
        _attr(NHA_GATEWAY, ipaddress.ip_address(gateway).packed) + _attr(NHA_OIF, _u32(ifindex))
    return _message(RTM_NEWNEXTHOP, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE, body)


def group_add(nh_id, members):
    """members: [(nexthop id, weight)]; a new id or a membership change (replace)."""
    nhm = struct.pack("=BBBBI", AF_UNSPEC, 0, PROTO_BGP, 0, 0)
    entries = b"".join(struct.pack("=IBBH", m, w - 1, 0, 0) for m, w in members)
    body = nhm + _attr(NHA_ID, _u32(nh_id)) + _attr(NHA_GROUP, entries)
    return _message(RTM_NEWNEXTHOP, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE, body)


def nexthop_del(nh_id):
    body = struct.pack("=BBBBI", AF_UNSPEC, 0, PROTO_BGP, 0, 0) + _attr(NHA_ID, _u32(nh_id))
    return _message(RTM_DELNEXTHOP, NLM_F_REQUEST | NLM_F_CREATE, body)


def _rtmsg(net, rtype, table=RT_TABLE_MAIN):
    """rtmsg as zebra fills it: tables past 255 only in RTA_TABLE (see _table)."""
    fam = AF_INET6 if net.version == 6 else AF_INET
    return struct.pack("=BBBBBBBBI", fam, net.prefixlen, 0, 0, table if table < 256 else 0,
                       PROTO_BGP, 0, rtype, 0)


def _table(table):
    return b"" if table == RT_TABLE_MAIN else _attr(RTA_TABLE, _u32(table))


def route_add(prefix, nh_id=0, hops=(), replace=True, table=RT_TABLE_MAIN):
    """A route through next-hop object nh_id (RTA_NH_ID, with the resolved hops
    zebra also encodes), or, with nh_id 0, inline hops [(gateway, ifindex)]:
    RTA_GATEWAY + RTA_OIF for one, RTA_MULTIPATH for several."""
    net = ipaddress.ip_network(prefix)
    body = _rtmsg(net, RTN_UNICAST, table) + _attr(RTA_DST, net.network_address.packed) + \
        _attr(RTA_PRIORITY, _u32(METRIC)) + _table(table)
    if nh_id:
        body += _attr(RTA_NH_ID, _u32(nh_id))
    if len(hops) == 1:
        gw, ifindex = hops[0]
        body += _attr(RTA_GATEWAY, ipaddress.ip_address(gw).packed) + _attr(RTA_OIF, _u32(ifindex))
    elif hops:
        nested = b""
        for gw, ifindex in hops:
            gw_attr = _attr(RTA_GATEWAY, ipaddress.ip_address(gw).packed)
            nested += struct.pack("=HBBi", 8 + len(gw_attr), 0, 0, ifindex) + gw_attr
        body += _attr(RTA_MULTIPATH, nested)
    flags = NLM_F_REQUEST | NLM_F_CREATE | (NLM_F_REPLACE if replace else 0)
    return _message(RTM_NEWROUTE, flags, body)


def route_del(prefix, table=RT_TABLE_MAIN):
    net = ipaddress.ip_network(prefix)
    body = _rtmsg(net, RTN_UNSPEC, table) + _attr(RTA_DST, net.network_address.packed) + \
        _attr(RTA_PRIORITY, _u32(METRIC)) + _attr(RTA_TABLE, _u32(table))
    return _message(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_CREATE, body)


class FpmClient:
    """One FPM session to fpm-sink, from inside namespace ``netns``."""

    def __init__(self, host="127.0.0.1", port=2620, netns=None):
        self.sock = in_netns(netns, lambda: socket.create_connection((host, port), timeout=10))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.messages = 0  # netlink messages sent over this session

    def add(self, msg):
        """Queue one message (one FPM frame); flush() or a full buffer sends."""
        self.buf += frame(msg)
        self.messages += 1
        if len(self.buf) >= 64 * 1024:
            self.flush()

    def flush(self):
        if self.buf:
            self.sock.sendall(self.buf)
            self.buf.clear()

    def close(self):
        self.flush()
        self.sock.close()
