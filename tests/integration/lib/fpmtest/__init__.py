"""Topotest-style helpers for fpm-sink integration tests and the demo.

Everything here runs as root and touches only what it created itself:
network namespaces named ``fpmt-<pid>-<tag>-<node>``, veth pairs inside them,
and a run directory ``/tmp/fpmt-<pid>-<tag>``. ``cleanup_stale()`` removes
leftovers of runs whose owning process is gone.
"""

from .poll import Abort, TimeoutExpired, wait_until
from .netns import Namespace, Run, cleanup_stale
from .frr import FrrRouter
from .sink import FpmSink, find_binaries
from .routes import zebra_fib, sink_fib, diff_fib

__all__ = [
    "wait_until", "TimeoutExpired", "Abort", "Namespace", "Run", "cleanup_stale",
    "FrrRouter", "FpmSink", "find_binaries", "zebra_fib", "sink_fib", "diff_fib",
]
