# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight role's filters over the connection budget (the arithmetic itself is tested in
tests/unit/plugins/module_utils/test_connection_budget.py)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.statewave.kubernetes.plugins.filter import connection_budget_cnpg_pgbouncer as pgb
from ansible_collections.statewave.kubernetes.plugins.filter import connection_budget_input_error as inp


def test_filters_are_registered_under_their_file_names():
    assert set(inp.FilterModule().filters()) == {'connection_budget_input_error'}
    assert set(pgb.FilterModule().filters()) == {'connection_budget_cnpg_pgbouncer'}


def test_input_error_filter():
    assert inp.connection_budget_input_error({'replicas': 2}) is None
    problem = inp.connection_budget_input_error({'replicas': 2, 'fail_on': 1.5})
    assert problem['param'] == 'fail_on' and 'at most 1' in problem['reason']
    with pytest.raises(AnsibleFilterError, match='expected a dict'):
        inp.connection_budget_input_error(['replicas', 2])


def test_cnpg_pgbouncer_filter():
    pooler = {'mode': 'cnpg', 'pooler_enabled': True, 'instances': 2, 'default_pool_size': 25,
              'image': 'ghcr.io/cloudnative-pg/pgbouncer:1.23.1'}
    assert pgb.connection_budget_cnpg_pgbouncer(pooler) == {'enabled': True, 'instances': 2, 'default_pool_size': 25,
                                                            'version': '1.23.1'}
    assert pgb.connection_budget_cnpg_pgbouncer(dict(pooler, mode='managed')) == {}
    with pytest.raises(AnsibleFilterError, match='pooler_enabled'):
        pgb.connection_budget_cnpg_pgbouncer(dict(pooler, pooler_enabled='perhaps'))
