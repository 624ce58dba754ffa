# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""statewave.kubernetes.connection_budget through the AnsibleModule harness (no I/O)."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type


import pytest


import yaml  # noqa: E402
from ansible.module_utils import basic  # noqa: E402

from ansible_collections.statewave.kubernetes.plugins.modules import connection_budget as module  # noqa: E402
from ansible_collections.statewave.kubernetes.tests.unit.plugins.modules.module_exit import patch_exits, run_module  # noqa: E402


@pytest.fixture(autouse=True)
def capture_exit(monkeypatch):
    patch_exits(monkeypatch)


def run(args):
    return run_module(module, args)


FACTS = {'max_connections': 100, 'superuser_reserved_connections': 3, 'reserved_connections': 0,
         'role': 'statewave', 'role_connection_limit': -1, 'database': 'statewave',
         'database_connection_limit': -1, 'connections_other': 0, 'connections_other_in_database': 0,
         # keys of a registered result that the module must ignore
         'changed': False, 'failed': False, 'invocation': {'module_args': {'login_password': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'}}}


def test_ok_verdict_and_no_change():
    out = run({'facts': FACTS, 'replicas': 2})
    assert not out.failed
    assert out.result['changed'] is False
    assert out.result['verdict'] == 'ok'
    assert out.result['peak_connections'] == 61
    assert out.result['largest_fitting_replicas'] == 3


def test_fail_verdict_does_not_fail_the_module():
    out = run({'facts': FACTS, 'replicas': 5})
    assert not out.failed
    assert out.result['verdict'] == 'fail'
    assert out.result['required'] == 131 and out.result['usable'] == 97


def test_check_mode_gives_the_same_answer():
    normal = run({'facts': FACTS, 'replicas': 5}).result
    checked = run({'facts': FACTS, 'replicas': 5, '_ansible_check_mode': True}).result
    assert checked['verdict'] == normal['verdict']
    assert checked['peak_connections'] == normal['peak_connections']
    assert checked['changed'] is False


def test_surge_as_int_or_percent_from_yaml():
    assert run({'facts': FACTS, 'replicas': 4, 'max_surge': 2}).result['breakdown']['surge_pods'] == 2
    assert run({'facts': FACTS, 'replicas': 4, 'max_surge': '50%'}).result['breakdown']['surge_pods'] == 2


def test_pgbouncer_suboptions_get_defaults():
    out = run({'facts': FACTS, 'replicas': 10,
               'pgbouncer': {'enabled': True, 'version': '1.23.1', 'max_prepared_statements': 200,
                             'max_client_conn': 1000}})
    assert out.result['breakdown']['pgbouncer_server_connections'] == 20  # default_pool_size 20
    assert out.result['verdict'] == 'ok'


@pytest.mark.parametrize('args,param', [
    ({'replicas': 0}, 'replicas'),
    ({'replicas': -1}, 'replicas'),
    ({'replicas': 5000}, 'replicas'),
    ({'max_surge': '300%'}, 'max_surge'),
    ({'headroom': -1}, 'headroom'),
    ({'fail_on': 0.0}, 'fail_on'),
    ({'pgbouncer_threshold': 2.0}, 'pgbouncer_threshold'),
    ({'autoscaling_enabled': True, 'autoscaling_min_replicas': 4, 'autoscaling_max_replicas': 3},
     'autoscaling_max_replicas'),
])
def test_bad_input_fails_naming_the_parameter(args, param):
    args = dict(args, facts=FACTS)
    out = run(args)
    assert out.failed
    assert out.result['param'] == param
    assert param in out.result['msg']
    assert 'nothing was checked' in out.result['msg']


def test_bad_input_returns_the_reason_without_the_parameter():
    out = run({'facts': FACTS, 'headroom': -5})
    assert out.failed
    assert out.result['param'] == 'headroom'
    assert out.result['reason'] == 'must be at least 0, got -5; upstream uses 10 to 25'


def test_planned_server_instead_of_facts():
    out = run({'planned_server': {'max_connections': 60, 'postgres_major': 16, 'description': 'cluster x/y, not yet'},
               'replicas': 2})
    assert not out.failed and out.result['changed'] is False
    assert out.result['verdict'] == 'fail'
    assert (out.result['required'], out.result['usable']) == (61, 57)
    assert out.result['planned'] == 'cluster x/y, not yet'
    assert 'on the planned server' in out.result['msg']
    assert run({'facts': FACTS}).result['planned'] is None


def test_planned_server_errors_name_the_suboption():
    out = run({'planned_server': {'parameters': {'superuser_reserved_connections': 'x'}, 'max_connections': 50}})
    assert out.failed and out.result['param'] == 'planned_server.parameters.superuser_reserved_connections'


@pytest.mark.parametrize('args', [{}, {'facts': FACTS, 'planned_server': {'max_connections': 100}}])
def test_exactly_one_of_facts_and_planned_server(args):
    out = run(args)
    assert out.failed
    assert 'facts' in out.result['msg'] and 'planned_server' in out.result['msg']


def test_migration_through_pgbouncer_option():
    bouncer = {'enabled': True, 'version': '1.23.1', 'max_prepared_statements': 200}
    direct = run({'facts': FACTS, 'pgbouncer': bouncer}).result
    hook = run({'facts': FACTS, 'pgbouncer': bouncer, 'migration_through_pgbouncer': True}).result
    assert direct['breakdown']['migration_path'] == 'direct'
    assert hook['breakdown']['migration_path'] == 'pgbouncer'
    assert hook['breakdown']['app_connections'] == direct['breakdown']['app_connections'] - 1


def test_bad_facts_fail():
    out = run({'facts': {'max_connections': 0}})
    assert out.failed and out.result['param'] == 'facts.max_connections'


def test_argument_spec_rejects_unknown_pgbouncer_option():
    out = run({'facts': FACTS, 'pgbouncer': {'enabled': True, 'pool_size': 5}})
    assert out.failed
    assert 'pool_size' in out.result['msg']


def test_documentation_matches_argument_spec():
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc['module'] == 'connection_budget'
    documented = set(doc['options'])
    # Build the real argument spec by intercepting AnsibleModule.
    seen = {}

    class Stop(Exception):
        pass

    def fake_init(self, argument_spec, **kwargs):
        seen['spec'] = argument_spec
        seen['kwargs'] = kwargs
        raise Stop()

    original = basic.AnsibleModule.__init__
    basic.AnsibleModule.__init__ = fake_init
    try:
        with pytest.raises(Stop):
            module.main()
    finally:
        basic.AnsibleModule.__init__ = original
    assert set(seen['spec']) == documented
    assert seen['kwargs'].get('supports_check_mode') is True
    for name, spec in seen['spec'].items():
        assert doc['options'][name]['type'] == spec.get('type', 'str'), name
        assert doc['options'][name].get('default') == spec.get('default'), name
    assert seen['kwargs']['mutually_exclusive'] == [('facts', 'planned_server')]
    for option in ('pgbouncer', 'planned_server'):
        suboptions = doc['options'][option]['suboptions']
        assert set(seen['spec'][option]['options']) == set(suboptions), option
        for name, spec in seen['spec'][option]['options'].items():
            assert suboptions[name]['type'] == spec.get('type', 'str'), (option, name)
            assert suboptions[name].get('default') == spec.get('default'), (option, name)
    yaml.safe_load(module.EXAMPLES)
    returned = yaml.safe_load(module.RETURN)
    result = run({'facts': FACTS, 'replicas': 2}).result
    assert set(result) - {'changed'} <= set(returned)
    assert set(result['breakdown']) == set(returned['breakdown']['contains'])
    failure = run({'facts': FACTS, 'replicas': 0}).result
    assert set(failure) - {'msg'} <= set(returned)
