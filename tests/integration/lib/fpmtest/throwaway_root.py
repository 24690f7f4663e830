"""Run a script as root inside a throwaway copy of a cached root filesystem.

The cached tree (frr_rootfs.py) must stay pristine: other runs reuse it. So a
run gets an overlay mount whose lower layer is the cached tree and whose upper
layer is a temporary directory: whatever the script installs or changes lands
in the upper layer, which is deleted afterwards.

Every mount (the overlay, /proc, /dev/pts, binds) is made inside a private mount
namespace (``unshare --mount``) that ends with the script: nothing is left
mounted on the host, even when the run is killed.
"""

import os
import shlex
import shutil
import subprocess
import tempfile


def run(lower, script, binds=(), timeout=600):
    """Runs ``script`` (bash) chrooted into an overlay over ``lower``.

    ``binds``: (host directory, directory inside) pairs bind-mounted read-write,
    for caches and for handing files in and results out.
    Returns the CompletedProcess (stdout and stderr as text)."""
    tmp = tempfile.mkdtemp(prefix="fpmtest-root-", dir="/var/tmp")
    try:
        root = os.path.join(tmp, "root")
        for sub in ("root", "upper", "work"):
            os.mkdir(os.path.join(tmp, sub))
        q = shlex.quote
        setup = [
            "set -euo pipefail",
            f"mount -t overlay overlay -o lowerdir={q(lower)},upperdir={q(tmp)}/upper,"
            f"workdir={q(tmp)}/work {q(root)}",
            f"mount -t proc proc {q(root)}/proc",
            # apt logs the dpkg run through a pseudo-terminal.
            f"mount --bind /dev/pts {q(root)}/dev/pts",
        ]
        for host, inside in binds:
            target = os.path.join(root, inside.lstrip("/"))
            setup += [f"mkdir -p {q(target)}", f"mount --bind {q(host)} {q(target)}"]
        setup.append(f"exec chroot {q(root)} /bin/bash -c {q(script)}")
        return subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "bash", "-c", "\n".join(setup)],
            capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
