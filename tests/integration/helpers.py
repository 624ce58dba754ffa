# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers shared by the integration tests."""

from __future__ import annotations

import time


def wait_for(predicate, what, bound=300, step=1.0):
    """Poll until predicate() returns a truthy value and return it.

    The bound only stops a hung test; it is not an assertion about speed.
    """
    deadline = time.monotonic() + bound
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting for %s" % what)
        time.sleep(step)


def folded(proc):
    """The run's output with whitespace folded (the YAML callback wraps long messages)."""
    return " ".join(proc.stdout.split())


def recap(proc, host="local"):
    """{'ok': n, 'changed': n, 'failed': n, ...} of one host of an ansible-playbook run."""
    for line in proc.stdout.splitlines():
        if line.startswith(host + " ") and "ok=" in line:
            return {k: int(v) for k, v in (p.split("=") for p in line.split()[2:])}
    raise AssertionError("no recap for %s in output:\n%s" % (host, proc.stdout[-3000:]))
