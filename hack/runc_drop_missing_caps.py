# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An OCI runtime for dockerd (hack/engine.sh registers it only where it is needed): runc,
after removing from the container's capability sets the capabilities that this machine's
bounding set lacks. hack/engine.sh installs it with a two-line sh wrapper that runs it with
the machine's python3.

Why: on our VMs the bounding set of every process lacks CAP_SYS_RESOURCE. `docker run
--privileged` asks runc for every capability, and runc fails with "unable to apply caps:
operation not permitted". kind runs its node containers with --privileged (and `docker exec
--privileged`), so no kind cluster starts. A capability the kernel will not grant to any
process cannot be granted to the container either; dropping it from the request is what the
container gets on such a machine anyway.

What it touches: `create`/`run` read the bundle's config.json (process.capabilities),
`exec` reads the --process file. Nothing else in the spec changes; every argument goes to runc
unchanged.
"""

import json
import os
import re
import shutil
import sys

CAP_NAMES = (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE "
    "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO "
    "SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME "
    "SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG "
    "WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE"
).split()


def missing_caps(status=None):
    """The capabilities (OCI names) this process's bounding set lacks, from /proc/self/status."""
    if status is None:
        with open("/proc/self/status") as f:
            status = f.read()
    bnd = int(re.search(r"^CapBnd:\s*([0-9a-f]+)", status, re.M).group(1), 16)
    return {"CAP_" + n for bit, n in enumerate(CAP_NAMES) if not bnd >> bit & 1}


def option(args, *names):
    for i, arg in enumerate(args):
        if arg in names and i + 1 < len(args):
            return args[i + 1]
        for name in names:
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def strip(caps, drop):
    for key, value in list((caps or {}).items()):
        if isinstance(value, list):
            caps[key] = [c for c in value if c not in drop]


def rewrite(path, get_caps, drop):
    with open(path) as f:
        doc = json.load(f)
    strip(get_caps(doc), drop)
    with open(path, "w") as f:
        json.dump(doc, f)


def main(args, drop=None, execv=os.execv):
    drop = missing_caps() if drop is None else drop
    if args == ["--list-missing"]:  # hack/engine.sh asks whether the runtime is needed at all
        print("\n".join(sorted(drop)))
        return
    if drop:
        if "create" in args or "run" in args:
            bundle = option(args, "--bundle", "-b") or "."
            rewrite(os.path.join(bundle, "config.json"),
                    lambda d: (d.get("process") or {}).get("capabilities"), drop)
        elif "exec" in args:
            process = option(args, "--process", "-p")
            if process:
                rewrite(process, lambda d: d.get("capabilities"), drop)
    runc = shutil.which("runc") or "/usr/sbin/runc"
    execv(runc, ["runc"] + args)


if __name__ == "__main__":
    main(sys.argv[1:])
