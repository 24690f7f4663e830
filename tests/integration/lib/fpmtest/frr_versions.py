"""Which FRR versions the integration tests run against.

Three: the host's Debian 12 package (8.4), Debian 13's (10.3, suite trixie)
and the newest Debian has (suite sid), the last two from cached root
filesystems (frr_rootfs.py). ``FPMTEST_FRR`` selects a subset, comma
separated, e.g. ``FPMTEST_FRR=8.4,10.3``; a token is a suite ("host",
"trixie", "sid"), an alias ("newest") or a version prefix ("10.7" matches
10.7.1). A version that cannot be had (no FRR on the host, root filesystem
not buildable) is still listed, with the reason it is skipped.
"""

import os
import shutil

from .frr_rootfs import RootfsUnavailable, ensure_rootfs, frr_version, upstream_version

ENV = "FPMTEST_FRR"
# (suite, aliases); None = the host's packages.
CANDIDATES = [(None, ("host", "8.4")), ("trixie", ("10.3",)), ("sid", ("newest", "latest"))]


class FrrChoice:
    def __init__(self, suite, version=None, rootfs=None, skip=None):
        self.suite = suite        # None = host
        self.version = version    # upstream version, e.g. "10.7.1"; None if unknown
        self.rootfs = rootfs
        self.skip = skip          # why tests of this version cannot run, or None

    @property
    def id(self):
        """Test id part: frr8.4.4, frr10.3, frr10.7.1 (frr-<suite> if unknown)."""
        return f"frr{self.version}" if self.version else f"frr-{self.suite or 'host'}"

    @property
    def is_host(self):
        return self.suite is None

    @property
    def applies_offload_replies(self):
        """zebra acts on fpm-sink's offload replies: 8.5-10.2 and 10.4+ (8.4
        ignores them; 10.3 cannot match them to routes, fixed in 10.4)."""
        if not self.version:
            return False
        v = tuple(int(x) for x in self.version.split("-")[0].split(".")[:2] if x.isdigit())
        return (8, 5) <= v < (10, 3) or v >= (10, 4)

    def matches(self, token):
        aliases = CANDIDATES_BY_SUITE[self.suite]
        return (token == (self.suite or "host") or token in aliases
                or (self.version is not None and
                    (self.version == token or self.version.startswith(token + "."))))

    def router(self, ns, hostname=None):
        if self.skip:
            raise RootfsUnavailable(self.skip)
        if self.is_host:
            from .frr import FrrRouter
            return FrrRouter(ns, hostname)
        from .frr10 import Frr10Router
        return Frr10Router(ns, self.rootfs, hostname)

    def __repr__(self):
        return f"FrrChoice({self.id}, skip={self.skip!r})"


CANDIDATES_BY_SUITE = dict(CANDIDATES)


def _host_choice():
    if not (os.access("/usr/lib/frr/zebra", os.X_OK) and shutil.which("vtysh")):
        return FrrChoice(None, skip="FRR is not installed on the host (/usr/lib/frr/zebra, vtysh)")
    try:
        return FrrChoice(None, upstream_version(frr_version()))
    except RootfsUnavailable as exc:
        return FrrChoice(None, skip=str(exc))


def _rootfs_choice(suite):
    if os.geteuid() != 0:
        return FrrChoice(suite, skip="building FRR root filesystems needs root")
    try:
        rootfs = ensure_rootfs(suite)
    except RootfsUnavailable as exc:
        return FrrChoice(suite, skip=str(exc))
    return FrrChoice(suite, rootfs.upstream, rootfs)


_cache = {}


def choice(suite):
    """The FrrChoice for one suite (None = host), built once per process."""
    if suite not in _cache:
        _cache[suite] = _host_choice() if suite is None else _rootfs_choice(suite)
    return _cache[suite]


def selected(spec=None):
    """FrrChoices named by ``spec`` (default $FPMTEST_FRR, else all three),
    oldest first. Root filesystems are built only for what is selected, except
    that a bare version prefix ("10.7") has to look at every candidate."""
    spec = spec if spec is not None else os.environ.get(ENV, "")
    tokens = [t.strip() for t in spec.split(",") if t.strip()]
    if not tokens or "all" in tokens:
        return [choice(s) for s, _a in CANDIDATES]
    out = []
    for token in tokens:
        # Names first: they decide without building anything.
        named = [s for s, aliases in CANDIDATES if token == (s or "host") or token in aliases]
        found = [choice(s) for s in named] or \
            [c for c in (choice(s) for s, _a in CANDIDATES) if c.matches(token)]
        if not found:
            raise ValueError(f"{ENV}: no FRR matches {token!r} (have: "
                             f"{', '.join(choice(s).id for s, _a in CANDIDATES)})")
        out += [c for c in found if c not in out]
    order = [choice(s) for s, _a in CANDIDATES]
    return sorted(out, key=order.index)


def newest():
    """The newest FRR the tests can run (sid's, else trixie's, else the host's)."""
    for suite in ("sid", "trixie", None):
        c = choice(suite)
        if not c.skip:
            return c
    return choice("sid")
