# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection_budget action plugin (the module's decision on the controller) answers what the
module answers: the same result for the same arguments, the same refusals."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.statewave.kubernetes.plugins.action.connection_budget import ActionModule
from ansible_collections.statewave.kubernetes.plugins.modules import connection_budget as module

FACTS = {'server_version_num': 160002, 'max_connections': 100, 'superuser_reserved_connections': 3,
         'reserved_connections': 0, 'connections_other': 4, 'connections_other_in_database': 2,
         'role_connection_limit': -1, 'database_connection_limit': -1}


def action(args):
    task = mock.MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = False
    plugin = ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return plugin.run(task_vars={})


def module_result(args, monkeypatch):
    seen = {}

    class Done(Exception):
        pass

    def leave(self, **kwargs):
        seen.update(kwargs)
        raise Done()

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', leave)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', lambda self, msg, **kw: leave(self, msg=msg, failed=True, **kw))
    with patch_module_args(args):
        with pytest.raises(Done):
            module.main()
    seen.pop('invocation', None)
    return seen


@pytest.mark.parametrize('args', [
    {'facts': FACTS, 'replicas': 2},
    {'facts': FACTS, 'replicas': 5, 'autoscaling_enabled': True, 'autoscaling_max_replicas': 9},
    {'facts': FACTS, 'replicas': 2, 'pgbouncer': {'enabled': True, 'instances': 2, 'version': '1.23.1'}},
    {'planned_server': {'max_connections': 60, 'postgres_major': 16}, 'replicas': 2},
])
def test_same_result_as_the_module(args, monkeypatch):
    on_controller = action(dict(args))
    assert not on_controller.get('failed'), on_controller
    assert on_controller['verdict'] in ('ok', 'warn', 'fail')
    expected = module_result(dict(args), monkeypatch)
    assert {k: v for k, v in on_controller.items() if k in expected} == expected


@pytest.mark.parametrize('args, param', [
    ({'facts': FACTS, 'replicas': 5000}, 'replicas'),
    ({'facts': FACTS, 'headroom': -5}, 'headroom'),
])
def test_refuses_what_the_module_refuses(args, param, monkeypatch):
    on_controller = action(dict(args))
    expected = module_result(dict(args), monkeypatch)
    assert on_controller['failed'] is True and expected['failed'] is True
    assert (on_controller['param'], on_controller['reason'], on_controller['msg']) == (param, expected['reason'], expected['msg'])


def test_argument_errors_fail_like_module_validation():
    missing = action({'replicas': 2})
    assert missing['failed'] is True and 'facts' in missing['msg'] and 'planned_server' in missing['msg']
    both = action({'facts': FACTS, 'planned_server': {'max_connections': 60}})
    assert both['failed'] is True and 'mutually exclusive' in both['msg']
    typo = action({'facts': FACTS, 'replica': 2})
    assert typo['failed'] is True and 'replica' in typo['msg']
