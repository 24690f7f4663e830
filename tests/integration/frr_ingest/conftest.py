"""Fixtures for the FRR -> FPM -> fpm-sink integration tests.

Needs root (namespaces), FRR 8.4 (Debian package) and, for most tests, the
built binaries: $FPM_SINK_BIN / $FPM_SINKCTL_BIN (CTest sets them) or a
build directory found by fpmtest.find_binaries().
"""

import os
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import pytest  # noqa: E402

from fpmtest import Run, cleanup_stale, find_binaries  # noqa: E402
from fpmtest.frr import frr_available  # noqa: E402

LOG_ROOT = os.environ.get("FPMTEST_LOG_DIR", "/tmp/fpmtest-logs")


def pytest_sessionstart(session):
    if os.geteuid() == 0:
        cleanup_stale(verbose=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def run(request):
    if os.geteuid() != 0:
        pytest.skip("integration tests need root (network namespaces)")
    if not frr_available():
        pytest.skip("FRR is not installed (/usr/lib/frr/zebra, vtysh)")
    r = Run()
    try:
        yield r
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            # Keep every daemon's config and log for the post-mortem.
            dest = os.path.join(LOG_ROOT, request.node.name.replace("/", "_"))
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(r.dir, dest, ignore=shutil.ignore_patterns("*.sock", "*.vty", "*.api"),
                            ignore_dangling_symlinks=True)
            print(f"\nlogs and configs kept in {dest}")
        r.close()


@pytest.fixture
def sink_bins():
    sink, ctl = find_binaries()
    for path in (sink, ctl):
        if path and not os.access(path, os.X_OK):
            pytest.fail(f"{path} is not built (CTest passes the target paths): "
                        "build fpm-sink and fpm-sinkctl first")
    if not sink:
        pytest.skip("fpm-sink / fpm-sinkctl not built (set FPM_SINK_BIN and FPM_SINKCTL_BIN)")
    return sink, ctl
