"""Command line: python3 -m fpmtest {demo,cleanup,dump} (PYTHONPATH=tests/integration/lib)."""

import argparse
import os
import sys

from .netns import cleanup_stale
from .sink import find_binaries


def main(argv=None):
    ap = argparse.ArgumentParser(prog="fpmtest", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="FRR in namespaces feeding fpm-sink, then tear down")
    d.add_argument("--fpm-sink", help="fpm-sink binary (default: found in $BUILD_DIR or build*/)")
    d.add_argument("--fpm-sinkctl", help="fpm-sinkctl binary")
    d.add_argument("--bgp-v4", type=int, default=10, help="IPv4 prefixes peer1 announces")
    d.add_argument("--bgp-v6", type=int, default=3, help="IPv6 prefixes peer1 announces")
    d.add_argument("--hold", action="store_true", help="keep the lab up until Ctrl-C")
    d.add_argument("--frr", default="host",
                   help="FRR to run: host (Debian 12's 8.4), 10.3, newest, or a version "
                        "prefix such as 10.7 (root filesystems built and cached on first use)")
    sub.add_parser("cleanup", help="remove namespaces/dirs of runs whose owner is gone")
    u = sub.add_parser("dump", help="listen like fpm-sink and print what zebra sends")
    u.add_argument("--port", type=int, default=2620)
    args = ap.parse_args(argv)

    if os.geteuid() != 0:
        print("fpmtest needs root (network namespaces)", file=sys.stderr)
        return 1
    if args.cmd == "cleanup":
        cleanup_stale(verbose=True)
        return 0
    if args.cmd == "dump":
        from .fpmdump import main as dump_main
        dump_main(args.port)
        return 0
    sink, ctl = args.fpm_sink, args.fpm_sinkctl
    if not (sink and ctl):
        sink, ctl = find_binaries()
    if not (sink and ctl):
        print("fpm-sink / fpm-sinkctl not found: build them or pass --fpm-sink/--fpm-sinkctl",
              file=sys.stderr)
        return 1
    from . import frr_versions
    try:
        frrs = frr_versions.selected(args.frr)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if len(frrs) != 1:
        print(f"--frr {args.frr}: names {len(frrs)} versions, pick one", file=sys.stderr)
        return 2
    if frrs[0].skip:
        # 77: CTest's SKIP_RETURN_CODE for the demo test, never a silent pass.
        print(f"demo skipped: {frrs[0].skip}", file=sys.stderr)
        return 77
    from .demo import run_demo
    return run_demo((sink, ctl), args.bgp_v4, args.bgp_v6, args.hold,
                    frr=None if frrs[0].is_host else frrs[0])


if __name__ == "__main__":
    sys.exit(main())
