"""Fixtures for the XDP fast-path tests (real FRR -> fpm-sink -> XDP, traffic).

Needs root, FRR 8.4 and the built fpm-sink / fpm-sinkctl ($FPM_SINK_BIN /
$FPM_SINKCTL_BIN, set by CTest, or a build dir found by find_binaries()).
A lab is expensive (FRR daemons, thousands of routes on 2 cores), so each test
module builds one per next-hop mode (module-scoped, parametrized "nhg" /
"multipath" = ``no fpm use-next-hop-groups``) and its tests run in file order
on it. On any failure the run directory (daemon configs and logs, receiver
stats) is copied to $FPMTEST_LOG_DIR/<module>-<mode>. Measurements are written
to $FPMTEST_LOG_DIR/fastpath/*.json.

Every module with a lab also runs per FRR version (fpmtest.frr_versions;
$FPMTEST_FRR selects), ids like ``[frr10.7.1-nhg]``. CI time is the limit, so
not every (version, mode) pair runs: both modes on 8.4 (the host's) and the
newest, "nhg" (zebra's default) only on 10.3, which sits between the two and
differs from the newest in offload replies only. Modules that test the
kernel's side of the fast path (frame filtering, neighbour states) and use
FRR only to install a few static routes say ``ONE_FRR = True``: they run on
the first selected FRR (8.4 by default), in both modes, or in the modes the
module lists as ``MODES`` (e.g. ``("nhg",)``). FPMTEST_FULL_MATRIX=1
runs every pair everywhere.
"""

import os
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import pytest  # noqa: E402

from fpmtest import Run, cleanup_stale, find_binaries  # noqa: E402
from fpmtest import frr_versions  # noqa: E402

LOG_ROOT = os.environ.get("FPMTEST_LOG_DIR", "/tmp/fpmtest-logs")
MODES = {"nhg": True, "multipath": False}
# Suites whose labs run in fewer modes than MODES (see the module doc).
MODES_BY_SUITE = {"trixie": ("nhg",)}


def lab_variants(one_frr=False):
    """(frr, mode) pairs to run, oldest FRR first; one_frr: the first only."""
    full = os.environ.get("FPMTEST_FULL_MATRIX") == "1"
    if os.geteuid() != 0:
        frrs = [frr_versions.FrrChoice(None, skip="fast-path tests need root")]
    else:
        frrs = frr_versions.selected()
    if one_frr and not full:
        frrs = frrs[:1]
        return [(f, m) for f in frrs for m in MODES]
    return [(f, m) for f in frrs for m in MODES
            if full or m in MODES_BY_SUITE.get(f.suite, MODES)]


def pytest_generate_tests(metafunc):
    # Modules with a lab (module_run); the others (ports, churn) need no FRR.
    if "module_run" in metafunc.fixturenames:
        variants = lab_variants(getattr(metafunc.module, "ONE_FRR", False))
        # A module may name the modes it needs (MODES = ("nhg",)).
        modes = getattr(metafunc.module, "MODES", None)
        if modes and os.environ.get("FPMTEST_FULL_MATRIX") != "1":
            variants = [(f, m) for f, m in variants if m in modes]
        metafunc.parametrize(["frr", "mode"], variants,
                             ids=[f"{f.id}-{m}" for f, m in variants], scope="module")


def pytest_sessionstart(session):
    if os.geteuid() == 0:
        cleanup_stale(verbose=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        item.module.__dict__.setdefault("_fpmt_failed", set()).add(
            (params.get("frr"), params.get("mode")))


@pytest.fixture(scope="session")
def sink_bins():
    sink, ctl = find_binaries()
    for path in (sink, ctl):
        if path and not os.access(path, os.X_OK):
            pytest.fail(f"{path} is not built: build fpm-sink and fpm-sinkctl first")
    if not sink:
        pytest.skip("fpm-sink / fpm-sinkctl not built (set FPM_SINK_BIN and FPM_SINKCTL_BIN)")
    return sink, ctl


@pytest.fixture(scope="module")
def use_nhg(mode):
    """False = zebra with ``no fpm use-next-hop-groups`` (RTA_MULTIPATH routes)."""
    return MODES[mode]


@pytest.fixture
def run(sink_bins):
    """A Run of the test's own (no FRR): for tests that play zebra themselves."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, XDP)")
    r = Run()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture(scope="module")
def module_run(request, frr, mode):
    """A Run for the whole module (one per FRR version and mode); logs kept on failure."""
    if frr.skip:
        pytest.skip(frr.skip)
    if os.geteuid() != 0:
        pytest.skip("fast-path tests need root (network namespaces, XDP)")
    r = Run(frr=frr)
    try:
        yield r
    finally:
        failed = (frr, mode) in getattr(request.module, "_fpmt_failed", set())
        if failed:
            name = f"{request.module.__name__.rsplit('.', 1)[-1]}-{frr.id}-{mode}"
            dest = os.path.join(LOG_ROOT, name)
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(r.dir, dest, ignore=shutil.ignore_patterns("*.sock", "*.vty", "*.api", "bpffs"),
                            ignore_dangling_symlinks=True)
            print(f"\nlogs and configs kept in {dest}")
        r.close()

