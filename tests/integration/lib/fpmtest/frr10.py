"""FRR 10 daemons from a cached root filesystem (frr_rootfs.py), run inside
a test namespace with the same interface as FrrRouter (FRR 8.4 on the host).

How FRR 10 differs here (verified with Debian's 10.3 and 10.7.1):
- Daemons take no ``-f``: they start empty and ``vtysh -N NAME -b`` loads the
  integrated config ``/etc/frr/NAME/frr.conf`` into all running daemons.
- mgmtd must run (first): it owns the static routes' configuration and
  pushes it to staticd. Config commands therefore go through vtysh without
  ``-d staticd``.
- ``-N NAME`` puts the pid files and vty sockets in ``/var/run/frr/NAME/``
  (Debian's /var/run links to /run) and the config in ``/etc/frr/NAME/``;
  every lab router takes its namespace's name, unique per run, so that
  several namespaces (and runs) share one root filesystem.
- Each daemon runs as ``ip netns exec NS unshare -m sh -c 'mounts; exec
  chroot ROOT daemon'``: a private mount namespace whose /proc and a fresh
  sysfs inside ROOT belong to the test namespace. Without them zebra reads
  the host's /proc and /sys and sees the wrong interfaces. ROOT is bind
  mounted onto itself because ``ip netns exec`` inside the chroot needs
  ``/`` to be a mount point. Every step execs, so the Popen pid is the
  daemon's pid and stop_process() reaches it.
"""

import os
import pwd
import shutil

from .frr import DAEMONS, FrrRouter

# $1 = root filesystem, the rest = the command to run inside it.
_ENTER = r"""set -e
root=$1; shift
mount --make-rprivate /
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
exec chroot "$root" "$@"
"""


def _rootfs_ids(rootfs, user="frr", group="frr"):
    """uid/gid of ``frr`` in the root filesystem (not necessarily the host's)."""
    uid = gid = None
    with open(rootfs.inside("/etc/passwd"), encoding="utf-8") as f:
        for line in f:
            fields = line.split(":")
            if fields[0] == user:
                uid = int(fields[2])
    with open(rootfs.inside("/etc/group"), encoding="utf-8") as f:
        for line in f:
            fields = line.split(":")
            if fields[0] == group:
                gid = int(fields[2])
    if uid is None or gid is None:
        raise RuntimeError(f"no {user}:{group} in {rootfs.path}")
    return uid, gid


class Frr10Router(FrrRouter):
    """FrrRouter for FRR >= 10 from ``rootfs`` (a frr_rootfs.Rootfs)."""

    def __init__(self, ns, rootfs, hostname=None, log_level="informational"):
        self.ns = ns
        self.rootfs = rootfs
        self.hostname = hostname or ns.node
        self.log_level = log_level
        self.name = ns.name  # -N instance name: unique per run and namespace
        self.inner_dir = f"/run/frr/{self.name}"
        self.dir = rootfs.inside(self.inner_dir)
        self.etc = rootfs.inside(f"/etc/frr/{self.name}")
        self.zserv = os.path.join(self.dir, "zserv.api")
        self.procs = {}
        self.zebra_args = []  # as FrrRouter.zebra_args
        self.texts = {}  # daemon -> its part of the integrated frr.conf
        self.integrated = None  # a whole frr.conf given as is (start_integrated)
        uid, gid = _rootfs_ids(rootfs)
        for d in (self.dir, self.etc):
            os.makedirs(d, exist_ok=True)
            os.chown(d, uid, gid)
        # The run directory points at them, so that a failed test's copy of
        # the run directory holds the daemons' config, logs and output.
        os.symlink(self.dir, os.path.join(ns.dir, "frr"))
        os.symlink(self.etc, os.path.join(ns.dir, "frr-etc"))
        self.uid, self.gid = uid, gid
        # Closers run in reverse: stop the daemons, then remove their dirs
        # from the shared root filesystem.
        ns.run.on_close(self._remove_dirs)
        ns.run.on_close(self.stop)

    @property
    def version(self):
        return self.rootfs.upstream

    def fpm_sink_args(self):
        """zebra runs as the root filesystem's frr user, whose uid is not the
        host's frr: fpm-sink (default allow list root + host frr) would refuse
        it with fpm.peer.refused reason=user_not_allowed."""
        return ["--fpm-allow-user", str(self.uid)]

    def _remove_dirs(self):
        for d in (self.dir, self.etc):
            shutil.rmtree(d, ignore_errors=True)

    # ---- configuration -------------------------------------------------
    def _write(self, daemon, text):
        """Keep each daemon's part; the integrated config is written from the
        parts of the running daemons when it is loaded (load_config)."""
        self.texts[daemon] = text
        return self._compose(self.texts)

    def _compose(self, daemons):
        """Write frr.conf from the parts of ``daemons``, without the per-daemon
        ``log file`` lines (logs are set with --log, one file per daemon); or
        the integrated file given to start_integrated(), as it is."""
        if self.integrated is not None:
            return self._write_conf(self.integrated)
        parts = [f"! integrated config for {self.hostname}: generated by fpmtest",
                 f"hostname {self.hostname}"]
        for d in DAEMONS:
            if d in self.texts and d in daemons:
                parts += [line for line in self.texts[d].splitlines()
                          if not line.startswith(("log file", "hostname"))]
        return self._write_conf("\n".join(parts) + "\n")

    def _write_conf(self, text):
        path = os.path.join(self.etc, "frr.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chown(path, self.uid, self.gid)
        return path

    def start_integrated(self, conf_text, daemons):
        """Start ``daemons`` booted from one integrated frr.conf (a
        containerlab node's bound file, see clab.py): FRR 10 daemons always
        start that way here (``vtysh -b``, see start())."""
        self.integrated = conf_text
        self.start(*daemons)

    # ---- processes -----------------------------------------------------
    def _command(self, *args):
        return ["unshare", "-m", "sh", "-c", _ENTER, "sh", self.rootfs.path, *args]

    def start(self, *daemons):
        """Start ``daemons`` (default: every configured one) and load the
        integrated config into them."""
        self._ensure_mgmtd()
        for d in list(daemons) or [d for d in DAEMONS if d in self.texts]:
            self._spawn(d)
        self.load_config()

    def start_daemon(self, daemon, timeout=15):
        """One daemon, configured: FRR 8.4 daemons read their file at start,
        FRR 10 ones get it from vtysh -b."""
        self._ensure_mgmtd()
        proc = self._spawn(daemon, timeout)
        self.load_config()
        return proc

    def _ensure_mgmtd(self):
        """mgmtd runs first. It keeps the static routes' config across
        restarts of staticd; to keep 8.4's meaning of "a restarted stack
        reads the current file", mgmtd is restarted too when it is the only
        daemon left running."""
        others = [d for d in self.procs if d != "mgmtd" and self.running(d)]
        if self.running("mgmtd") and not others:
            self.stop_daemon("mgmtd")
        if not self.running("mgmtd"):
            self._spawn("mgmtd")

    def _spawn(self, daemon, timeout=15):
        args = [f"/usr/lib/frr/{daemon}", "-N", self.name, "-u", "frr", "-g", "frr",
                "-P", "0", "--log", f"file:{self.inner_dir}/{daemon}.log",
                "--log-level", self.log_level]
        if daemon == "zebra":
            args += ["-M", "dplane_fpm_nl", *self.zebra_args]
        return self._launch(daemon, self._command(*args), timeout)

    def stop(self):
        # mgmtd last: the others are its clients.
        for d in sorted(self.procs, key=lambda d: d == "mgmtd"):
            self.stop_daemon(d)

    def load_config(self):
        """``vtysh -b``: the integrated config of the running daemons into them
        (a part for a daemon that is not running would fail the load)."""
        self._compose([d for d in self.texts if self.running(d)])
        res = self._vtysh_raw(["-b"])
        if res.returncode != 0:
            raise RuntimeError(f"vtysh -N {self.name} -b on {self.hostname}: rc "
                               f"{res.returncode}\n{res.stdout}{res.stderr}")
        return res.stdout

    # ---- vtysh ---------------------------------------------------------
    def _vtysh_args(self, args):
        # vtysh talks to the daemons over unix sockets only: no netns needed,
        # but it must be the root filesystem's vtysh (same version, -N paths).
        return ["chroot", self.rootfs.path, "vtysh", "-N", self.name, *args]

    def config(self, *lines, daemon=None):
        """Config mode without -d: FRR 10 keeps e.g. static routes in mgmtd,
        and vtysh sends each line to the daemon that owns it."""
        return self.vtysh("configure terminal", *lines)
