"""Fixtures for the XDP fast-path tests (real FRR -> fpm-sink -> XDP, traffic).

Needs root, FRR 8.4 and the built fpm-sink / fpm-sinkctl ($FPM_SINK_BIN /
$FPM_SINKCTL_BIN, set by CTest, or a build dir found by find_binaries()).
A lab is expensive (FRR daemons, thousands of routes on 2 cores), so each test
module builds one per next-hop mode (module-scoped, parametrized "nhg" /
"multipath" = ``no fpm use-next-hop-groups``) and its tests run in file order
on it. On any failure the run directory (daemon configs and logs, receiver
stats) is copied to $FPMTEST_LOG_DIR/<module>-<mode>. Measurements are written
to $FPMTEST_LOG_DIR/fastpath/*.json.
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
MODES = {"nhg": True, "multipath": False}


def pytest_sessionstart(session):
    if os.geteuid() == 0:
        cleanup_stale(verbose=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        item.module.__dict__.setdefault("_fpmt_failed", set()).add(
            item.callspec.params.get("mode") if hasattr(item, "callspec") else None)


def skip_unless_possible():
    if os.geteuid() != 0:
        pytest.skip("fast-path tests need root (network namespaces, XDP)")
    if not frr_available():
        pytest.skip("FRR is not installed (/usr/lib/frr/zebra, vtysh)")


@pytest.fixture(scope="session")
def sink_bins():
    sink, ctl = find_binaries()
    for path in (sink, ctl):
        if path and not os.access(path, os.X_OK):
            pytest.fail(f"{path} is not built: build fpm-sink and fpm-sinkctl first")
    if not sink:
        pytest.skip("fpm-sink / fpm-sinkctl not built (set FPM_SINK_BIN and FPM_SINKCTL_BIN)")
    return sink, ctl


@pytest.fixture(scope="module", params=list(MODES))
def mode(request):
    return request.param


@pytest.fixture(scope="module")
def use_nhg(mode):
    """False = zebra with ``no fpm use-next-hop-groups`` (RTA_MULTIPATH routes)."""
    return MODES[mode]


@pytest.fixture(scope="module")
def module_run(request, mode):
    """A Run for the whole module (one per mode); logs kept on failure."""
    skip_unless_possible()
    r = Run()
    try:
        yield r
    finally:
        failed = mode in getattr(request.module, "_fpmt_failed", set())
        if failed:
            name = f"{request.module.__name__.rsplit('.', 1)[-1]}-{mode}"
            dest = os.path.join(LOG_ROOT, name)
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(r.dir, dest, ignore=shutil.ignore_patterns("*.sock", "*.vty", "*.api", "bpffs"),
                            ignore_dangling_symlinks=True)
            print(f"\nlogs and configs kept in {dest}")
        r.close()

