"""The Debian package, installed the way a user installs it.

``bash ci/package.sh`` builds the .deb (from $FPM_SINK_BUILD_DIR when CTest
runs this, so nothing is rebuilt); then, in a throwaway overlay over a cached
minimal Debian 12 root filesystem (frr_rootfs.py: bookworm with its FRR 8.4),
``apt-get install ./fpm-sink_*.deb`` must resolve every dependency from
Debian alone, and the installed files must work and be where they belong.

The apt lists and downloaded packages are kept in
/var/cache/fpm-sink-test/apt/bookworm between runs, so a warm run fetches
only the archive's index signatures.
"""

import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import pytest  # noqa: E402

from fpmtest import frr_rootfs, throwaway_root  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SUITE = "bookworm"
APT_CACHE = os.path.join(os.path.dirname(frr_rootfs.CACHE), "apt", SUITE)

# Where the package puts each file (cmake/Packaging.cmake).
INSTALLED = [
    "/usr/sbin/fpm-sink",
    "/usr/bin/fpm-sinkctl",
    "/lib/systemd/system/fpm-sink.service",
    "/etc/fpm-sink/fpm-sink.toml",
    "/usr/share/man/man8/fpm-sink.8.gz",
    "/usr/share/man/man1/fpm-sinkctl.1.gz",
    "/usr/share/doc/fpm-sink/README.md",
    "/usr/share/doc/fpm-sink/copyright",
    "/usr/share/doc/fpm-sink/changelog.Debian.gz",
    "/usr/share/doc/fpm-sink/frr-config/daemons",
    "/usr/share/doc/fpm-sink/frr-config/frr.conf",
]
CONFFILE = "/etc/fpm-sink/fpm-sink.toml"
# Control members that would run code on install or removal.
MAINTAINER_SCRIPTS = {"preinst", "postinst", "prerm", "postrm", "config", "triggers"}

# Runs inside the chroot. `record NAME CMD...` keeps CMD's output and exit
# status in /results/NAME.{out,rc} for the assertions; the script goes on
# after a failure so that one run reports everything.
INSIDE = r"""
set -u
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
record() { local name=$1; shift; "$@" >"/results/$name.out" 2>&1; echo $? >"/results/$name.rc"; }
cd /pkg
record apt-update apt-get update -q
record install apt-get install -y -q ./fpm-sink_*.deb
record status dpkg -s fpm-sink
record conffiles dpkg-query -W -f='${Conffiles}\n' fpm-sink
record listed dpkg -L fpm-sink
for f in $INSTALLED; do
  record "exists${f//\//_}" test -f "$f"
done
record sink-help fpm-sink --help
record sink-version fpm-sink --version
record sinkctl-help fpm-sinkctl --help
record sinkctl-version fpm-sinkctl --version
record check-config fpm-sink --check-config
record man8 sh -c 'zcat /usr/share/man/man8/fpm-sink.8.gz | grep -m1 "^\.TH"'
record man1 sh -c 'zcat /usr/share/man/man1/fpm-sinkctl.1.gz | grep -m1 "^\.TH"'
record enabled sh -c 'find /etc/systemd/system -name "fpm-sink*"'
# dpkg keeps an edited conffile through a reinstall and a remove; purge deletes it.
echo '# local edit' >> $CONFFILE
record reinstall dpkg -i ./fpm-sink_*.deb
record edit-kept-reinstall grep -qx '# local edit' $CONFFILE
record remove dpkg -r fpm-sink
record edit-kept-remove grep -qx '# local edit' $CONFFILE
record purge dpkg -P fpm-sink
record purged test ! -e $CONFFILE
"""


def build_deb():
    env = dict(os.environ)
    build_dir = os.environ.get("FPM_SINK_BUILD_DIR")
    if build_dir:
        env["BUILD_DIR"] = build_dir
    res = subprocess.run(["bash", os.path.join(REPO, "ci", "package.sh")], env=env,
                         capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, f"ci/package.sh failed:\n{res.stderr[-3000:]}"
    deb = res.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r".*/fpm-sink_[^/_]+_[a-z0-9]+\.deb", deb), f"last line: {deb!r}"
    assert os.path.isfile(deb), deb
    return deb


def deb_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", deb, field], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="module")
def deb():
    return build_deb()


def test_control_fields(deb):
    depends = deb_field(deb, "Depends")
    # dpkg-shlibdeps named the shared libraries the binaries link.
    for lib in ("libc6", "libstdc++6", "libbpf1", "libmnl0", "libprotobuf"):
        assert lib in depends, f"{lib} missing from Depends: {depends}"
    assert "frr" in deb_field(deb, "Recommends")
    members = subprocess.run(f"dpkg-deb --ctrl-tarfile {deb} | tar -t", shell=True,
                             capture_output=True, text=True, check=True).stdout.split()
    names = {os.path.basename(m) for m in members}
    assert "conffiles" in names
    assert not names & MAINTAINER_SCRIPTS, \
        f"the package must not run anything on install: {sorted(names & MAINTAINER_SCRIPTS)}"


@pytest.fixture(scope="module")
def installed(deb):
    """Results of INSIDE: name -> (exit status, output)."""
    if os.geteuid() != 0:
        pytest.skip("installing into a root filesystem needs root")
    try:
        rootfs = frr_rootfs.ensure_rootfs(SUITE)
    except frr_rootfs.RootfsUnavailable as exc:
        pytest.skip(str(exc))
    os.makedirs(os.path.join(APT_CACHE, "lists"), exist_ok=True)
    os.makedirs(os.path.join(APT_CACHE, "archives", "partial"), exist_ok=True)
    with open(os.path.join(APT_CACHE, ".lock"), "w") as lock, \
            tempfile.TemporaryDirectory(prefix="fpmtest-deb-") as tmp:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one run at a time uses the apt cache
        pkg, results = os.path.join(tmp, "pkg"), os.path.join(tmp, "results")
        os.mkdir(pkg)
        os.mkdir(results)
        shutil.copy(deb, pkg)
        script = f"INSTALLED='{' '.join(INSTALLED)}'\nCONFFILE={CONFFILE}\n" + INSIDE
        res = throwaway_root.run(rootfs.path, script, binds=[
            (os.path.join(APT_CACHE, "lists"), "/var/lib/apt/lists"),
            (os.path.join(APT_CACHE, "archives"), "/var/cache/apt/archives"),
            (pkg, "/pkg"), (results, "/results")])
        assert res.returncode == 0, f"chroot run failed:\n{res.stdout}\n{res.stderr}"
        out = {}
        for name in os.listdir(results):
            if name.endswith(".rc"):
                base = name[:-3]
                with open(os.path.join(results, name)) as f:
                    rc = int(f.read())
                with open(os.path.join(results, base + ".out"), errors="replace") as f:
                    out[base] = (rc, f.read())
        return out


def ok(installed, name):
    """The output of a recorded step that must have succeeded."""
    assert name in installed, f"step {name} did not run"
    rc, out = installed[name]
    assert rc == 0, f"{name} exited {rc}:\n{out[-3000:]}"
    return out


def test_installs_from_debian_alone(installed):
    ok(installed, "apt-update")
    ok(installed, "install")
    assert re.search(r"^Status: install ok installed$", ok(installed, "status"), re.M)


def test_files_in_place(installed):
    listed = ok(installed, "listed").split()
    for path in INSTALLED:
        ok(installed, "exists" + path.replace("/", "_"))
        # /lib is /usr/lib on Debian 12: dpkg lists the path the package shipped.
        assert path in listed, f"{path} not in dpkg -L"


def test_config_is_a_conffile(installed):
    assert CONFFILE in ok(installed, "conffiles")
    ok(installed, "reinstall")
    ok(installed, "edit-kept-reinstall")
    ok(installed, "remove")
    ok(installed, "edit-kept-remove")
    ok(installed, "purge")
    ok(installed, "purged")


def test_nothing_enabled(installed):
    assert ok(installed, "enabled").strip() == "", \
        "installing must not enable the unit: " + installed["enabled"][1]


def test_binaries_run(installed):
    assert "--fpm-listen" in ok(installed, "sink-help")
    version = ok(installed, "sink-version").strip()
    assert re.fullmatch(r"fpm-sink \d+\.\d+\.\d+", version), version
    assert ok(installed, "sinkctl-version").strip() == version.replace("fpm-sink", "fpm-sinkctl")
    assert "show" in ok(installed, "sinkctl-help")


def test_check_config(installed):
    # The installed example config, as the package ships it, is valid.
    assert "config.ok source=/etc/fpm-sink/fpm-sink.toml" in ok(installed, "check-config")


def test_man_pages(installed):
    assert re.match(r'\.TH "?FPM-SINK"? "?8"?', ok(installed, "man8"), re.I)
    assert re.match(r'\.TH "?FPM-SINKCTL"? "?1"?', ok(installed, "man1"), re.I)


@pytest.fixture(scope="module")
def unpacked(deb, tmp_path_factory):
    """The package's files, unpacked on the host (no root needed)."""
    root = tmp_path_factory.mktemp("deb")
    subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True)
    return root


def render(page):
    env = dict(os.environ, MANWIDTH="100", LC_ALL="C.UTF-8")
    res = subprocess.run(["man", "-l", "-P", "cat", str(page)], env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


def sections(text):
    return set(re.findall(r"^([A-Z][A-Z ]+)$", text, re.M))


def test_man_page_content(unpacked):
    if shutil.which("man") is None:
        pytest.skip("man (man-db) is not installed")
    sink = render(unpacked / "usr/share/man/man8/fpm-sink.8.gz")
    for s in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SIGNALS", "EXIT STATUS", "FILES",
              "EXAMPLES", "SEE ALSO"):
        assert s in sections(sink), f"fpm-sink(8) has no {s} section"
    assert "--fpm-listen" in sink and "SIGHUP" in sink and "/etc/fpm-sink/fpm-sink.toml" in sink
    ctl = render(unpacked / "usr/share/man/man1/fpm-sinkctl.1.gz")
    for s in ("NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS", "FILES", "EXAMPLES", "SEE ALSO"):
        assert s in sections(ctl), f"fpm-sinkctl(1) has no {s} section"


def test_man_page_names_every_command(unpacked):
    """dist/man/fpm-sinkctl.h2m describes each `show` subcommand the binary has."""
    if shutil.which("man") is None:
        pytest.skip("man (man-db) is not installed")
    ctl = render(unpacked / "usr/share/man/man1/fpm-sinkctl.1.gz")
    commands = ctl.split("COMMANDS", 1)[1].split("EXIT STATUS", 1)[0]
    res = subprocess.run([str(unpacked / "usr/bin/fpm-sinkctl"), "show", "--help"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    subs = re.findall(r"^  ([a-z][a-z-]+)\s", res.stdout.split("Subcommands:", 1)[1], re.M)
    assert subs, res.stdout
    for sub in subs:
        assert re.search(rf"show {re.escape(sub)}\b", commands), \
            f"`show {sub}` is not in fpm-sinkctl(1)'s COMMANDS (dist/man/fpm-sinkctl.h2m)"
