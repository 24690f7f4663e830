"""Root filesystems with a newer FRR than the host's, built with mmdebstrap.

Debian 12 ships FRR 8.4; FRR 10 changed what zebra sends over FPM (see
DESIGN.md "What FRR 10 changes"). Rather than building FRR, the tests run
Debian's own FRR 10 packages from a minimal Debian root filesystem:

    mmdebstrap --variant=minbase --include=frr,iproute2 SUITE DIR

``trixie`` (Debian 13) has FRR 10.3, ``sid`` the newest Debian packages.
A root filesystem is ~200 MB and takes 15-60 s to build, so it is cached in
``$FPMTEST_ROOTFS_CACHE`` (default /var/cache/fpm-sink-test/rootfs/<suite>)
and reused by every later run. It is built into a temporary directory and
renamed into place, under an flock, so concurrent runs never see half a tree
and never build it twice. Remove the directory (or set
``FPMTEST_ROOTFS_REFRESH=1``) to pick up a newer FRR from sid.

The daemons only read the tree: every run adds its own per-instance
directories (see frr10.py), which it removes again.
"""

import fcntl
import os
import shutil
import subprocess
import time

CACHE = os.environ.get("FPMTEST_ROOTFS_CACHE", "/var/cache/fpm-sink-test/rootfs")
# sid's index can be a frozen snapshot whose Valid-Until has passed.
SUITE_OPTIONS = {"sid": ["--aptopt=Acquire::Check-Valid-Until \"false\""]}
DONE_MARK = ".fpmtest-complete"  # written last: a tree without it is not used
BUILD_TIMEOUT = 900


class RootfsUnavailable(RuntimeError):
    """The root filesystem could not be built (no network, mmdebstrap failed)."""


class Rootfs:
    def __init__(self, suite, path):
        self.suite = suite
        self.path = path
        self.version = frr_version(path)  # Debian version, e.g. "10.7.1-1"
        self.upstream = upstream_version(self.version)

    def __repr__(self):
        return f"Rootfs({self.suite}, FRR {self.version}, {self.path})"

    def inside(self, path):
        """Host path of ``path`` inside the root filesystem."""
        return os.path.join(self.path, path.lstrip("/"))


def upstream_version(debian_version):
    """'10.7.1-1' -> '10.7.1'; '8.4.4-1.1~deb12u2' -> '8.4.4'."""
    v = debian_version.split(":", 1)[-1]
    return v.rsplit("-", 1)[0] if "-" in v else v


def frr_version(root="/"):
    args = ["dpkg-query", "-W", "-f=${Version}", "frr"]
    if root != "/":
        args = ["chroot", root] + args
    res = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if res.returncode != 0 or not res.stdout.strip():
        raise RootfsUnavailable(f"no frr package in {root}: {res.stderr.strip()}")
    return res.stdout.strip()


_failures = {}  # suite -> reason: one failed build per process, not one per test module


def ensure_rootfs(suite, log=print):
    """The cached root filesystem for ``suite``, built first if needed.
    Raises RootfsUnavailable with the reason when it cannot be had."""
    if suite in _failures:
        raise RootfsUnavailable(_failures[suite])
    final = os.path.join(CACHE, suite)
    try:
        os.makedirs(CACHE, exist_ok=True)
        with open(os.path.join(CACHE, f".{suite}.lock"), "w") as lock:
            # Another run may be building it: wait for that instead of building twice.
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.environ.get("FPMTEST_ROOTFS_REFRESH") == "1" and suite not in _refreshed:
                _refreshed.add(suite)
                _remove(final)
            if not os.path.exists(os.path.join(final, DONE_MARK)):
                _remove(final)
                _build(suite, final, log)
            return Rootfs(suite, final)
    except (OSError, subprocess.SubprocessError, RootfsUnavailable) as exc:
        _failures[suite] = f"FRR root filesystem '{suite}' unavailable: {exc}"
        raise RootfsUnavailable(_failures[suite]) from exc


_refreshed = set()


def _remove(path):
    if os.path.lexists(path):
        # Renamed first so that a half-removed tree is never taken for a cache hit.
        doomed = f"{path}.old-{os.getpid()}"
        os.rename(path, doomed)
        shutil.rmtree(doomed, ignore_errors=True)


def _build(suite, final, log):
    if shutil.which("mmdebstrap") is None:
        raise RootfsUnavailable("mmdebstrap is not installed (ci/setup.sh installs it)")
    tmp = f"{final}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    args = ["mmdebstrap", "--variant=minbase", "--include=frr,iproute2",
            *SUITE_OPTIONS.get(suite, []), suite, tmp]
    log(f"frr_rootfs: building {suite} in {tmp} (cached in {final})")
    t0 = time.monotonic()
    try:
        res = subprocess.run(args, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
        if res.returncode != 0:
            tail = "\n".join((res.stderr or res.stdout).strip().splitlines()[-8:])
            raise RootfsUnavailable(f"mmdebstrap {suite} failed (rc {res.returncode}): {tail}")
        version = frr_version(tmp)
        # The daemons keep their run state under /run (Debian's /var/run -> /run).
        os.makedirs(os.path.join(tmp, "run", "frr"), exist_ok=True)
        with open(os.path.join(tmp, DONE_MARK), "w", encoding="utf-8") as f:
            f.write(f"{suite} frr {version}\n")
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"frr_rootfs: {suite} has FRR {version}, built in {time.monotonic() - t0:.0f} s")


def stale_instance_dirs(is_stale):
    """Per-instance dirs (ROOT/run/frr/NAME, ROOT/etc/frr/NAME) left in the
    cached root filesystems by killed runs: those whose NAME is_stale()."""
    out = []
    if not os.path.isdir(CACHE):
        return out
    for suite in os.listdir(CACHE):
        for sub in ("run/frr", "etc/frr"):
            base = os.path.join(CACHE, suite, sub)
            if os.path.isdir(base):
                out += [os.path.join(base, n) for n in os.listdir(base) if is_stale(n)]
    return out
