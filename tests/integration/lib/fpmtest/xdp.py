"""Tiny XDP / ethtool helpers for the far ends of the DUT's links, no build needed.

A frame that XDP_REDIRECTs into a veth is delivered only if the veth's PEER
(the receiving end) runs NAPI, i.e. has a native XDP program attached or GRO
switched on; otherwise veth_xdp_xmit() drops it (counted as a redirect by the
sender, lost on the wire). Debian 12 has no ethtool by default, so this module
switches GRO with the legacy ETHTOOL_SGRO ioctl and can load a two-instruction
XDP_PASS (or bpf_redirect) program with the bpf(2) syscall and attach it with
RTM_SETLINK / IFLA_XDP. A program attached that way stays on the interface
after this process exits.

Run inside a namespace (the netlink socket / ioctl act on the caller's netns):
    ip netns exec NS python3 -m fpmtest.xdp gro IFNAME on|off
    ip netns exec NS python3 -m fpmtest.xdp txcsum IFNAME on|off
    ip netns exec NS python3 -m fpmtest.xdp txvlan IFNAME on|off
    ip netns exec NS python3 -m fpmtest.xdp pass IFNAME [--generic]
    ip netns exec NS python3 -m fpmtest.xdp redirect IFNAME TO_IFNAME
    ip netns exec NS python3 -m fpmtest.xdp off IFNAME
"""

import ctypes
import fcntl
import os
import socket
import struct
import sys

_libc = ctypes.CDLL(None, use_errno=True)
_SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine, 321)
_BPF_PROG_LOAD = 5
_BPF_PROG_TYPE_XDP = 6
XDP_PASS = 2

_SIOCETHTOOL = 0x8946
_ETHTOOL_GGRO = 0x2b
_ETHTOOL_SGRO = 0x2c
_ETHTOOL_GTXCSUM = 0x16
_ETHTOOL_STXCSUM = 0x17
_ETHTOOL_GFLAGS = 0x25
_ETHTOOL_SFLAGS = 0x26
_ETH_FLAG_TXVLAN = 1 << 7

_RTM_SETLINK = 19
_IFLA_XDP = 43
_IFLA_XDP_FD = 1
_IFLA_XDP_FLAGS = 3
_NLA_F_NESTED = 0x8000
XDP_FLAGS_SKB_MODE = 2
XDP_FLAGS_DRV_MODE = 4


def _insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def prog_pass():
    return _insn(0xb7, dst=0, imm=XDP_PASS) + _insn(0x95)          # r0 = XDP_PASS; exit


def prog_redirect(ifindex):
    return (_insn(0xb7, dst=1, imm=ifindex) + _insn(0xb7, dst=2, imm=0)  # r1 = ifindex; r2 = 0
            + _insn(0x85, imm=23) + _insn(0x95))                      # call bpf_redirect; exit


def load_xdp(insns, name=b"fpmt_xdp"):
    """Load raw instructions as an XDP program; returns the program fd."""
    buf = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(4096)
    attr = bytearray(128)
    struct.pack_into("<IIQQIIQII16s", attr, 0, _BPF_PROG_TYPE_XDP, len(insns) // 8,
                     ctypes.addressof(buf), ctypes.addressof(lic), 1, len(log),
                     ctypes.addressof(log), 0, 0, name[:15])
    cattr = (ctypes.c_char * len(attr)).from_buffer(attr)
    fd = _libc.syscall(_SYS_BPF, _BPF_PROG_LOAD, cattr, len(attr))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"BPF_PROG_LOAD: {os.strerror(err)}: {log.value.decode(errors='replace')}")
    return fd


def attach_xdp(ifname, fd, flags=XDP_FLAGS_DRV_MODE):
    """Attach (fd >= 0) or detach (fd = -1) an XDP program over rtnetlink."""
    index = socket.if_nametoindex(ifname)
    nla_fd = struct.pack("<HHi", 8, _IFLA_XDP_FD, fd)
    nla_flags = struct.pack("<HHI", 8, _IFLA_XDP_FLAGS, flags)
    nest = struct.pack("<HH", 4 + len(nla_fd) + len(nla_flags), _IFLA_XDP | _NLA_F_NESTED)
    body = struct.pack("<BBHiII", socket.AF_UNSPEC, 0, 0, index, 0, 0) + nest + nla_fd + nla_flags
    msg = struct.pack("<IHHII", 16 + len(body), _RTM_SETLINK, 0x1 | 0x4, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as s:
        s.bind((0, 0))
        s.send(msg)
        reply = s.recv(65536)
    _len, mtype, _f, _seq, _pid = struct.unpack_from("<IHHII", reply)
    if mtype == 2:  # NLMSG_ERROR
        (err,) = struct.unpack_from("<i", reply, 16)
        if err:
            raise OSError(-err, f"attach XDP to {ifname}: {os.strerror(-err)}")


def _ethtool_value(ifname, cmd, data=0):
    val = ctypes.create_string_buffer(struct.pack("<II", cmd, data), 8)
    ifr = struct.pack("16sP", ifname.encode()[:15], ctypes.addressof(val)) + bytes(16)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s.fileno(), _SIOCETHTOOL, ifr)
    return struct.unpack("<II", val.raw)[1]


def set_gro(ifname, on=True):
    _ethtool_value(ifname, _ETHTOOL_SGRO, 1 if on else 0)
    return get_gro(ifname)


def get_gro(ifname):
    return bool(_ethtool_value(ifname, _ETHTOOL_GGRO))


def set_tx_csum(ifname, on=True):
    """Checksum offload on transmit. veth hands locally generated UDP/TCP
    packets to its peer as CHECKSUM_PARTIAL (checksum not filled in); when the
    peer's XDP program redirects such a frame the metadata is lost and the
    receiver counts UdpInCsumErrors. Hosts that send through an XDP fast path
    over veth must therefore switch it off (real NICs fill it in on the wire)."""
    _ethtool_value(ifname, _ETHTOOL_STXCSUM, 1 if on else 0)
    return bool(_ethtool_value(ifname, _ETHTOOL_GTXCSUM))


def set_tx_vlan(ifname, on=True):
    """VLAN tag insertion on transmit. A VLAN device over a veth hands its tag
    to the peer as skb metadata (tx-vlan-offload), which XDP on the peer does
    not see: the frame looks untagged. Off, the tag is in the frame, as on a
    NIC's wire."""
    flags = _ethtool_value(ifname, _ETHTOOL_GFLAGS)
    flags = (flags | _ETH_FLAG_TXVLAN) if on else (flags & ~_ETH_FLAG_TXVLAN)
    _ethtool_value(ifname, _ETHTOOL_SFLAGS, flags)
    return bool(_ethtool_value(ifname, _ETHTOOL_GFLAGS) & _ETH_FLAG_TXVLAN)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd, ifname = argv[0], argv[1]
    if cmd == "gro":
        on = argv[2] == "on"
        got = set_gro(ifname, on)
        if got != on:
            print(f"GRO on {ifname} is {got} after asking for {on}", file=sys.stderr)
            return 1
    elif cmd == "txcsum":
        on = argv[2] == "on"
        if set_tx_csum(ifname, on) != on:
            print(f"tx checksum offload on {ifname} did not change", file=sys.stderr)
            return 1
    elif cmd == "txvlan":
        on = argv[2] == "on"
        if set_tx_vlan(ifname, on) != on:
            print(f"tx VLAN offload on {ifname} did not change", file=sys.stderr)
            return 1
    elif cmd == "pass":
        flags = XDP_FLAGS_SKB_MODE if "--generic" in argv else XDP_FLAGS_DRV_MODE
        attach_xdp(ifname, load_xdp(prog_pass(), b"fpmt_pass"), flags)
    elif cmd == "redirect":
        attach_xdp(ifname, load_xdp(prog_redirect(socket.if_nametoindex(argv[2])), b"fpmt_redir"))
    elif cmd == "off":
        attach_xdp(ifname, -1, XDP_FLAGS_DRV_MODE)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
