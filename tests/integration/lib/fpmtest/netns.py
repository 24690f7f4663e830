"""Network namespaces and veth links owned by one test run.

A Run owns a directory and a set of namespaces whose names carry the owning
pid, so that a later run can tell leftovers of a crashed run (owner dead) from
a run that is still going on in parallel (owner alive) and remove only the
former.
"""

import ipaddress
import os
import re
import secrets
import shutil
import signal
import subprocess
import time

PREFIX = "fpmt"
RUN_ROOT = "/tmp"
_NAME_RE = re.compile(rf"^{PREFIX}-(\d+)-([0-9a-f]+)(?:-|$)")


def sh(args, check=True, capture=True, timeout=30, input=None):
    """Run a command (list), return CompletedProcess; raise with stderr on failure."""
    res = subprocess.run(args, capture_output=capture, text=True, timeout=timeout, input=input)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} -> rc {res.returncode}: "
                           f"{(res.stderr or '').strip()} {(res.stdout or '').strip()}")
    return res


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_pids(pids, grace=3.0):
    pids = [p for p in pids if p != os.getpid()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_pid_alive(p) for p in pids):
            time.sleep(0.05)
        pids = [p for p in pids if _pid_alive(p)]
        if not pids:
            return


def list_netns():
    out = sh(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def netns_pids(name):
    res = sh(["ip", "netns", "pids", name], check=False)
    return [int(x) for x in res.stdout.split()] if res.returncode == 0 else []


def delete_netns(name):
    _kill_pids(netns_pids(name))
    sh(["ip", "netns", "del", name], check=False)


def cleanup_stale(verbose=False):
    """Remove namespaces and run dirs of earlier runs whose owner pid is dead."""
    removed = []
    for name in list_netns():
        m = _NAME_RE.match(name)
        if m and not _pid_alive(int(m.group(1))):
            delete_netns(name)
            removed.append(name)
    for entry in os.listdir(RUN_ROOT):
        m = _NAME_RE.match(entry)
        if m and not _pid_alive(int(m.group(1))):
            shutil.rmtree(os.path.join(RUN_ROOT, entry), ignore_errors=True)
            removed.append(os.path.join(RUN_ROOT, entry))
    # FRR 10 instances keep their state inside the shared root filesystems.
    from .frr_rootfs import stale_instance_dirs

    def stale(name):
        m = _NAME_RE.match(name)
        return m is not None and not _pid_alive(int(m.group(1)))
    for path in stale_instance_dirs(stale):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    if verbose:
        for r in removed:
            print(f"cleanup: removed stale {r}")
    return removed


class Namespace:
    """One network namespace; processes started in it are tracked and killed."""

    def __init__(self, run, node):
        self.run = run
        self.node = node
        self.name = f"{run.tag}-{node}"
        self.dir = os.path.join(run.dir, node)
        os.makedirs(self.dir, exist_ok=True)
        sh(["ip", "netns", "add", self.name])
        self.procs = []
        self.links = {}  # ifname -> list of "addr/len"
        self.exec(["ip", "link", "set", "lo", "up"])
        # Routers forward; DAD would delay IPv6 addresses by ~2 s for nothing.
        for key, val in (("net.ipv4.ip_forward", "1"),
                         ("net.ipv6.conf.all.forwarding", "1"),
                         ("net.ipv6.conf.default.accept_dad", "0"),
                         ("net.ipv6.conf.all.accept_dad", "0")):
            self.exec(["sysctl", "-qw", f"{key}={val}"], check=False)

    def cmd(self, args):
        return ["ip", "netns", "exec", self.name, *map(str, args)]

    def exec(self, args, check=True, timeout=30, input=None):
        return sh(self.cmd(args), check=check, timeout=timeout, input=input)

    def popen(self, args, log_path, env=None):
        """Start a long-running process in the namespace, output to log_path."""
        log = open(log_path, "ab")
        proc = subprocess.Popen(self.cmd(args), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def ifindex(self, ifname):
        out = self.exec(["cat", f"/sys/class/net/{ifname}/ifindex"]).stdout
        return int(out.strip())

    def destroy(self):
        for proc in self.procs:
            stop_process(proc)
        delete_netns(self.name)


def stop_process(proc, grace=5.0, sig=signal.SIGTERM):
    if proc.poll() is not None:
        return proc.returncode
    try:
        proc.send_signal(sig)
        return proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=grace)


class Run:
    """A test run: directory, namespaces, links; ``close()`` undoes everything.

    Use as a context manager (or a pytest fixture with finally) so that a
    failing test still tears down what it built.
    """

    def __init__(self, keep_dir=False, frr=None):
        """frr: which FRR the run's routers use (frr_versions.FrrChoice);
        None = the host's FRR 8.4 (see frr.make_router)."""
        cleanup_stale()
        self.frr = frr
        self.tag = f"{PREFIX}-{os.getpid()}-{secrets.token_hex(2)}"
        self.dir = os.path.join(RUN_ROOT, self.tag)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)  # FRR daemons run as user frr and must traverse it
        self.keep_dir = keep_dir
        self.namespaces = {}
        self._closers = []  # callables run in reverse order before namespaces go

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def ns(self, node):
        if node not in self.namespaces:
            self.namespaces[node] = Namespace(self, node)
        return self.namespaces[node]

    def on_close(self, fn):
        self._closers.append(fn)

    def link(self, a, if_a, b, if_b, addrs_a=(), addrs_b=()):
        """veth pair between namespaces a and b (node names), with addresses."""
        na, nb = self.ns(a), self.ns(b)
        sh(["ip", "link", "add", if_a, "netns", na.name, "type", "veth",
            "peer", "name", if_b, "netns", nb.name])
        for ns, ifname, addrs in ((na, if_a, addrs_a), (nb, if_b, addrs_b)):
            for addr in addrs:
                ipaddress.ip_interface(addr)  # validate early, clear error
                ns.exec(["ip", "addr", "add", addr, "dev", ifname])
            ns.exec(["ip", "link", "set", ifname, "up"])
            ns.links[ifname] = list(addrs)

    def close(self):
        errors = []
        for fn in reversed(self._closers):
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - keep tearing down
                errors.append(exc)
        self._closers.clear()
        for ns in reversed(list(self.namespaces.values())):
            try:
                ns.destroy()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
        self.namespaces.clear()
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise RuntimeError(f"teardown errors: {errors!r}")
