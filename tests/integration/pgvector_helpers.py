# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the pgvector role tests: run the role alone on localhost and read its report."""

from __future__ import annotations

import json
import re
import sys

import pytest

RECAP = re.compile(r'^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)
FACTS = re.compile(r'"msg": "PGVECTOR_FACTS=(\{.*\})"')


class Run:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        m = RECAP.search(proc.stdout)
        self.recap = dict(zip(('ok', 'changed', 'unreachable', 'failed'), map(int, m.groups()))) if m else None
        f = FACTS.search(proc.stdout)
        self.facts = json.loads(json.loads('"%s"' % f.group(1))) if f else None

    def __repr__(self):
        at = self.stdout.find('[ERROR]')
        return 'rc=%s recap=%s\n%s' % (self.rc, self.recap, self.stdout[at:at + 3000] if at >= 0 else self.stdout[-3000:])


@pytest.fixture
def role(run_playbook, kubeconfig, tmp_path):
    """role(vars, verbosity=0) -> Run: tests/integration/playbooks/pgvector_role.yml on localhost only
    (no project inventory, so no group_vars of the local environment leak in)."""
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n'
                         % sys.executable)

    def run(role_vars, verbosity=0, check=False):
        extra = {'statewave_kubeconfig': str(kubeconfig)}
        extra.update(role_vars)
        proc = run_playbook('pgvector_role.yml', extra_vars=extra, verbosity=verbosity, inventory=inventory,
                            env={'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json'}, check=check)
        return Run(proc)

    return run
