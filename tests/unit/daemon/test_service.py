"""fpm-sink as a service: SIGHUP reloads the config file, and the systemd
notification protocol (READY, WATCHDOG, RELOADING, STOPPING) on a socket the
test owns. The daemon runs RIB-only (no interface: no BPF, no privileges) on
a free loopback port, with its control socket and config in a temp dir."""

import json
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

FPM_SINK = os.environ.get("FPM_SINK_BIN")
FPM_SINKCTL = os.environ.get("FPM_SINKCTL_BIN")
pytestmark = pytest.mark.skipif(not FPM_SINK, reason="FPM_SINK_BIN not set")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Daemon:
    """One fpm-sink process; its stderr is collected line by line."""

    def __init__(self, tmp_path, config_text, env=None):
        self.port = free_port()
        self.config = tmp_path / "fpm-sink.toml"
        self.control = str(tmp_path / "control.sock")
        self.write_config(config_text)
        self.lines = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            [FPM_SINK, "--config", str(self.config), "--control-socket", self.control,
             "--fpm-listen", f"127.0.0.1:{self.port}", "--metrics-listen", "off"],
            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        threading.Thread(target=self._read, daemon=True).start()

    def write_config(self, text):
        self.config.write_text(text)

    def _read(self):
        for line in self.proc.stderr:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def log(self):
        with self.lock:
            return list(self.lines)

    def wait_log(self, pattern, timeout=10.0):
        rx = re.compile(pattern)

        def found():
            assert self.proc.poll() is None, "fpm-sink exited:\n" + "\n".join(self.log())
            return next((l for l in self.log() if rx.search(l)), None)
        try:
            return wait_until(pattern, found, timeout)
        except AssertionError as e:
            raise AssertionError(f"{e}\nlog:\n" + "\n".join(self.log())) from None

    def count(self, pattern):
        rx = re.compile(pattern)
        return sum(1 for l in self.log() if rx.search(l))

    def hangup(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def fpm_json(self):
        out = subprocess.run([FPM_SINKCTL, "--socket", self.control, "show", "fpm", "--json"],
                             capture_output=True, text=True, timeout=10, check=True)
        return json.loads(out.stdout)


def find_key(obj, key):
    """The first value of key anywhere in a JSON document."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        obj = list(obj.values())
    if isinstance(obj, list):
        for v in obj:
            found = find_key(v, key)
            if found is not None:
                return found
    return None


def delete_unknown_route_frame():
    """One FPM frame: RTM_DELROUTE of 198.51.100.0/24, a route zebra never sent.
    fpm-sink refuses it as routine (ENOENT) and says so at debug level only."""
    rta_dst = struct.pack("=HH4s", 8, 1, socket.inet_aton("198.51.100.0"))  # RTA_DST
    # rtmsg: family, dst_len, src_len, tos, table, protocol (BGP), scope, type (unicast), flags
    rtm = struct.pack("=BBBBBBBBI", socket.AF_INET, 24, 0, 0, 254, 186, 0, 1, 0)
    body = rtm + rta_dst
    nlmsg = struct.pack("=IHHII", 16 + len(body), 25, 0x1, 1, 0) + body  # RTM_DELROUTE, NLM_F_REQUEST
    return struct.pack("!BBH", 1, 1, 4 + len(nlmsg)) + nlmsg


def other_uid():
    return 65534 if os.getuid() != 65534 else 65533


@pytest.fixture
def daemon(tmp_path):
    started = []

    def start(config_text, env=None):
        d = Daemon(tmp_path, config_text, env)
        started.append(d)
        return d
    yield start
    for d in started:
        d.stop()


@pytest.mark.skipif(not FPM_SINKCTL, reason="FPM_SINKCTL_BIN not set")
def test_sighup_applies_log_level_and_peers_and_survives_a_bad_file(daemon):
    me = os.getuid()
    d = daemon(f'log-level = "info"\n[fpm]\nfpm-allow-user = ["{me}"]\n')
    d.wait_log(r"app\.started .*config=.*fpm-sink\.toml")
    frame = delete_unknown_route_frame()

    # At info the routine refusal is not logged.
    zebra = socket.create_connection(("127.0.0.1", d.port))
    d.wait_log(r"fpm\.session\.accepted")
    zebra.sendall(frame)
    wait_until("the delete counted", lambda: find_key(d.fpm_json(), "apply_errors") == 1)
    assert d.count(r" debug .*frame_offset=") == 0

    # Live: log level and allowed users. Not live: a table size.
    d.write_config(f'log-level = "debug"\n[fpm]\nfpm-allow-user = ["{other_uid()}"]\n'
                   '[fast-path]\nv6-nodes = 1024\n')
    d.hangup()
    d.wait_log(r"config\.reload\.applied key=log-level old=info new=debug")
    d.wait_log(rf"config\.reload\.applied key=fpm\.fpm-allow-user old={me} new={other_uid()}")
    d.wait_log(r"config\.reload\.restart_needed key=fast-path\.v6-nodes old=\(default\) new=1024")
    d.wait_log(r"config\.reload\.done .*applied=2 restart_needed=1")

    # The live session's peer is no longer allowed: its session ends at once.
    d.wait_log(r'fpm\.session\.closed .*reason="peer no longer allowed"')
    zebra.settimeout(5)
    try:
        assert zebra.recv(1) == b""  # closed by fpm-sink
    except ConnectionResetError:
        pass
    zebra.close()

    # A new connection is refused too. And debug lines now show.
    # (The live session's refusal is logged before its close, so it is in
    # refused_before; a line only appears here once the reader thread has it.)
    refused_before = d.count(r"fpm\.peer\.refused")
    with socket.create_connection(("127.0.0.1", d.port)) as intruder:
        wait_until("the intruder's refusal",
                   lambda: d.count(r"fpm\.peer\.refused .*reason=") > refused_before)
        intruder.settimeout(5)
        try:
            assert intruder.recv(1) == b""  # closed by fpm-sink
        except ConnectionResetError:
            pass
    assert d.count(r"fpm\.peer\.refused") == refused_before + 1

    # A bad file: every problem logged with its key, the running config stays.
    d.write_config('log-level = "chatty"\n[fpm]\nfpm-allow-user = ["root"]\nbogus = 1\n')
    d.hangup()
    d.wait_log(r'config\.reload\.failed config\.bad_value key=log-level value="chatty"')
    d.wait_log(r"config\.reload\.failed config\.unknown_key key=fpm\.bogus")
    assert d.proc.poll() is None
    # Still the reloaded policy (not root from the bad file), still debug.
    d.write_config(f'log-level = "debug"\n[fpm]\nfpm-allow-user = ["{me}"]\n'
                   '[fast-path]\nv6-nodes = 1024\n')
    d.hangup()
    d.wait_log(rf"config\.reload\.applied key=fpm\.fpm-allow-user old={other_uid()} new={me}")
    with socket.create_connection(("127.0.0.1", d.port)) as zebra:
        wait_until("the second accept", lambda: d.count(r"fpm\.session\.accepted") == 2)
        zebra.sendall(frame)
        d.wait_log(r" debug .*frame_offset=")
    # v6-nodes was still pending: named again, not applied.
    assert d.count(r"config\.reload\.restart_needed key=fast-path\.v6-nodes") == 2
    assert d.stop() == 0


def notify_socket(tmp_path):
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    return sock, path


def next_message(sock, wanted, timeout=10.0, seen=None):
    """The next datagram containing the line `wanted`; others go to seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = sock.recv(4096).decode()
        except socket.timeout:
            continue
        lines = msg.split("\n")
        if wanted in lines:
            return lines
        if seen is not None:
            seen.append(msg)
    raise AssertionError(f"no {wanted} within {timeout}s (seen: {seen})")


def test_notify_ready_watchdog_reloading_stopping(daemon, tmp_path):
    sock, path = notify_socket(tmp_path)
    with sock:
        # WatchdogSec=0.4 s: a ping every 0.2 s.
        d = daemon('log-level = "info"\n', env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
        ready = next_message(sock, "READY=1")
        # Ready means serving: the FPM listener and the control socket are up.
        assert any(l.startswith("STATUS=serving: FPM on 127.0.0.1:") for l in ready), ready
        socket.create_connection(("127.0.0.1", d.port)).close()
        assert os.path.exists(d.control)
        d.wait_log(r"service\.watchdog ping every 200 ms")

        start = time.monotonic()
        for _ in range(3):
            next_message(sock, "WATCHDOG=1", timeout=2)
        assert time.monotonic() - start < 1.5  # ~0.2 s apart, not one per WatchdogSec

        d.write_config('log-level = "debug"\n')
        d.hangup()
        reloading = next_message(sock, "RELOADING=1")
        assert any(l.startswith("MONOTONIC_USEC=") for l in reloading), reloading
        after = next_message(sock, "READY=1")
        assert "STATUS=configuration reloaded" in after

        # A failed reload is still answered with READY=1, and says so.
        d.write_config('log-level = 7\n')
        d.hangup()
        next_message(sock, "RELOADING=1")
        failed = next_message(sock, "READY=1")
        assert any("reload failed" in l for l in failed), failed

        d.proc.send_signal(signal.SIGTERM)
        next_message(sock, "STOPPING=1")
        assert d.proc.wait(timeout=10) == 0


def test_no_watchdog_pings_unless_asked(daemon, tmp_path):
    sock, path = notify_socket(tmp_path)
    with sock:
        d = daemon("", env={"NOTIFY_SOCKET": path})
        next_message(sock, "READY=1")
        seen = []
        d.hangup()  # reload of an unchanged file: one RELOADING=1 / READY=1 pair
        next_message(sock, "READY=1", seen=seen)
        assert not any("WATCHDOG=1" in m for m in seen), seen
        assert d.count(r"service\.watchdog") == 0


def test_check_config_exits_0_or_1_without_starting(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[fast-path]\ninterface = ["eth1"]\nnexthops = 1024\n')
    r = subprocess.run([FPM_SINK, "--config", str(good), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert f"config.ok source={good}" in r.stdout
    # Nothing was started: an interface was named, yet no bpffs or socket was touched.
    assert "dataplane" not in r.stderr and "fpm.listening" not in r.stderr

    bad = tmp_path / "bad.toml"
    bad.write_text('[fast-path]\nnexthops = 0\nxdp-mode = 1\n')
    r = subprocess.run([FPM_SINK, "--config", str(bad), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "config.bad_value key=fast-path.nexthops value=0" in r.stderr
    assert "config.bad_type key=fast-path.xdp-mode value=1: expected string, got integer" in r.stderr

    r = subprocess.run([FPM_SINK, "--config", str(tmp_path / "absent.toml"), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "cannot read" in r.stderr
    # The command line alone, and overriding the file.
    r = subprocess.run([FPM_SINK, "--config", str(good), "--nexthops", "0", "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
