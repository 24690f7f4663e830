"""Fixtures for the FRR -> FPM -> fpm-sink integration tests.

Needs root (namespaces), FRR 8.4 (Debian package) and, for most tests, the
built binaries: $FPM_SINK_BIN / $FPM_SINKCTL_BIN (CTest sets them) or a
build directory found by fpmtest.find_binaries().

A test that takes the ``frr`` fixture runs once per FRR version
(fpmtest.frr_versions: 8.4 from the host, 10.3 and the newest from cached
root filesystems; $FPMTEST_FRR selects), the version in its id; its ``run``
then starts that FRR. Versions that cannot be had are SKIPPED with the reason.
"""

import os
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import pytest  # noqa: E402

from fpmtest import Run, cleanup_stale, find_binaries  # noqa: E402
from fpmtest.frr import frr_available  # noqa: E402
from fpmtest import frr_versions  # noqa: E402

LOG_ROOT = os.environ.get("FPMTEST_LOG_DIR", "/tmp/fpmtest-logs")


def pytest_sessionstart(session):
    if os.geteuid() == 0:
        cleanup_stale(verbose=True)


def pytest_generate_tests(metafunc):
    if "frr" in metafunc.fixturenames:
        # Module scope: a version's tests run one after the other.
        choices = frr_versions.selected() if os.geteuid() == 0 else \
            [frr_versions.FrrChoice(None, skip="integration tests need root")]
        metafunc.parametrize("frr", choices, ids=[c.id for c in choices], scope="module")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def run(request):
    if os.geteuid() != 0:
        pytest.skip("integration tests need root (network namespaces)")
    frr = request.getfixturevalue("frr") if "frr" in request.fixturenames else None
    if frr is not None and frr.skip:
        pytest.skip(frr.skip)
    if frr is None and not frr_available():
        pytest.skip("FRR is not installed (/usr/lib/frr/zebra, vtysh)")
    r = Run(frr=frr)
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
