# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml under Mitogen for Ansible, the optional faster executor (the PyPI package mitogen,
pinned in test-requirements.txt; README, Benchmark): the same modules run through its
mitogen_linear strategy. A first deploy and a re-run must give what the default strategy gives:
the release deployed at revision 1 with the verify summary, then changed=0 and no new revision,
and no password in the output. The hook Job's watcher (a background task) must start outside
Mitogen and end when helm has ended: Mitogen's own background child hangs on this collection's
modules (mitogen-hq/mitogen#835), which kept "Wait for the watcher" asking until its 60 retries ran
out and left the child running."""

from __future__ import annotations

import os
import re

import pytest

from lifecycle_helpers import folded, lifecycle, recap  # noqa: F401 pylint: disable=unused-import


def mitogen_env():
    try:
        import ansible_mitogen
    except ImportError:
        pytest.fail("mitogen is not installed (test-requirements.txt pins it)", pytrace=False)
    strategies = os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy")
    return {"ANSIBLE_STRATEGY_PLUGINS": strategies, "ANSIBLE_STRATEGY": "mitogen_linear"}


def test_site_yml_first_deploy_and_noop_rerun_under_mitogen(lifecycle):
    env = mitogen_env()
    first = lifecycle.run("site.yml", env=env)
    assert first.returncode == 0, first.stdout[-4000:]
    # ansible-core says so when a strategy from outside ansible.builtin runs the play.
    assert "Use of strategy plugins not included in ansible.builtin" in folded(first)
    assert [r["status"] for r in lifecycle.history()] == ["deployed"]
    assert "release: %s/%s revision 1 (deployed)" % (lifecycle.ns, lifecycle.release) in folded(first)
    assert lifecycle.image() == "statewavedev/statewave:1.5.0"
    out = folded(first)
    assert re.search(r"Beside Mitogen, on ansible\.builtin\.local, watch in the background hook Job \S+\] \**\s*ok: \[local\]",
                     out), first.stdout[-4000:]
    # async_status asks every second, 60 times at most; the watcher looks at its stop file every second.
    assert "Wait for the watcher" in out
    assert "Wait for the watcher (1 retries left)" not in out, first.stdout[-4000:]

    again = lifecycle.run("site.yml", env=env)
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again)["changed"] == 0
    assert len(lifecycle.history()) == 1
    for proc in (first, again):
        assert lifecycle.password not in proc.stdout and lifecycle.admin["admin_password"] not in proc.stdout
