# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The input_check action plugin keeps the problems in the host fact and fails only when reporting."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from unittest import mock

from ansible_collections.statewave.kubernetes.plugins.action.input_check import ActionModule
from ansible_collections.statewave.kubernetes.plugins.module_utils.input_check import DEFERRED_FACT, FACT


def run(args, task_vars):
    task = mock.MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = False
    templar = mock.MagicMock()
    templar.template.side_effect = lambda value: value
    plugin = ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=templar, shared_loader_obj=None)
    return plugin.run(task_vars=task_vars)


RAW = {'statewave_namespace': 'StateWave', 'pgvector_namespace': "{{ statewave_namespace | default('statewave') }}"}


def test_collecting_does_not_fail_and_keeps_the_problems_in_the_fact():
    got = run({'role': 'pgvector', 'checks': [{'var': 'pgvector_namespace', 'bad': True, 'msg': 'pgvector_namespace bad'}]}, RAW)
    assert not got.get('failed')
    assert got['problems'] == ['[pgvector] statewave_namespace bad']
    assert len(got['ansible_facts'][FACT]) == 1


def test_reporting_fails_with_every_problem_and_empties_the_fact():
    earlier = run({'role': 'a', 'checks': [{'var': 'a_one', 'bad': True, 'msg': 'a_one bad'}]}, {})['ansible_facts'][FACT]
    got = run({'role': 'b', 'report': True, 'checks': [{'var': 'b_two', 'bad': True, 'msg': 'b_two bad'}]}, {FACT: earlier})
    assert got['failed'] is True
    assert '1. [a] a_one bad' in got['msg'] and '2. [b] b_two bad' in got['msg']
    assert got['ansible_facts'][FACT] == []


def test_reporting_nothing_passes_and_reset_forgets():
    earlier = run({'checks': [{'var': 'a_one', 'bad': True, 'msg': 'a_one bad'}]}, {})['ansible_facts'][FACT]
    assert not run({'report': True, 'reset': True}, {FACT: earlier}).get('failed')
    assert not run({'report': True}, {}).get('failed')


def test_bad_arguments_are_refused():
    got = run({'checks': 'not a list of dicts'}, {})
    assert got['failed'] is True and got['msg'].startswith('input_check:')


def test_a_deferred_report_collects_until_the_entry_point_reports():
    started = run({'reset': True, 'defer': True}, {})['ansible_facts']
    assert started[DEFERRED_FACT] is True and started[FACT] == []
    # A role's own report while the shared entry point defers: collects, does not stop.
    role = run({'role': 'a', 'report': True, 'checks': [{'var': 'a_one', 'bad': True, 'msg': 'a_one bad'}]}, dict(started))
    assert not role.get('failed') and len(role['ansible_facts'][FACT]) == 1
    # The entry point's own report stops with what was collected.
    final = run({'report': True, 'defer': False}, dict(started, **role['ansible_facts']))
    assert final['failed'] is True and '[a] a_one bad' in final['msg']
    # A role's report outside the shared check (no deferral set) stops at once.
    alone = run({'role': 'a', 'report': True, 'checks': [{'var': 'a_one', 'bad': True, 'msg': 'a_one bad'}]}, {DEFERRED_FACT: False})
    assert alone['failed'] is True
