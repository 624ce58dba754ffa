# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared input check: a derived variable is named by the one the operator set, failed checks
only, one report with every problem, one problem per operator variable."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.statewave.kubernetes.plugins.module_utils.input_check import (
    REPORT_HEADER, as_checks, messages, operator_variable, problems, rename, report)

RAW = {
    'statewave_namespace': 'StateWave',
    'pgvector_namespace': "{{ statewave_namespace | default('statewave') }}",
    'preflight_namespace': "{{ pgvector_namespace }}",
    'pgvector_dsn_secret_name': 'statewave-database',
    'statewave_database_existing_secret': "{{ pgvector_secret_name | default('') }}",
    'loop_a': '{{ loop_b }}',
    'loop_b': '{{ loop_a }}',
    'computed': "{{ statewave_namespace ~ '-x' }}",
}


def test_an_alias_is_followed_to_the_variable_the_operator_set():
    assert operator_variable('pgvector_namespace', RAW) == 'statewave_namespace'
    assert operator_variable('preflight_namespace', RAW) == 'statewave_namespace'


def test_a_literal_an_expression_or_an_undefined_target_stays_the_role_variable():
    assert operator_variable('pgvector_dsn_secret_name', RAW) == 'pgvector_dsn_secret_name'
    assert operator_variable('computed', RAW) == 'computed'
    # pgvector_secret_name is not defined: the default applies, the role's variable is the one to set
    assert operator_variable('statewave_database_existing_secret', RAW) == 'statewave_database_existing_secret'
    assert operator_variable('not_there', RAW) == 'not_there'


def test_an_alias_loop_ends():
    assert operator_variable('loop_a', RAW) in ('loop_a', 'loop_b')


def test_rename_replaces_whole_names_only():
    assert rename('pgvector_namespace=X; pgvector_namespace_extra; x.pgvector_namespace',
                  {'pgvector_namespace': 'statewave_namespace'}) == \
        'statewave_namespace=X; pgvector_namespace_extra; x.pgvector_namespace'


def test_only_failed_checks_become_problems_named_by_the_operator_variable():
    checks = [
        {'var': 'pgvector_namespace', 'bad': True, 'msg': 'pgvector_namespace="StateWave" is not a namespace name.'},
        {'var': 'pgvector_dsn_secret_name', 'bad': False, 'msg': 'never shown'},
        {'var': 'pgvector_dsn_secret_name', 'bad': 'False', 'msg': 'never shown (a templated false)'},
    ]
    found = problems(checks, RAW, 'pgvector')
    assert messages(found) == ['[pgvector] statewave_namespace="StateWave" is not a namespace name.']
    assert found[0]['vars'] == ['statewave_namespace']


def test_one_problem_per_operator_variable_across_roles():
    first = problems([{'var': 'pgvector_namespace', 'bad': True, 'msg': 'pgvector_namespace is wrong (pgvector)'}], RAW, 'pgvector')
    second = problems([{'var': 'statewave_namespace', 'bad': True, 'msg': 'statewave_namespace is wrong (statewave)'},
                       {'var': 'statewave_embedding_dimensions', 'bad': True, 'msg': 'statewave_embedding_dimensions is 768'}],
                      RAW, 'statewave', earlier=first)
    assert messages(second) == ['[statewave] statewave_embedding_dimensions is 768']


def test_a_check_about_several_variables_is_kept_beside_one_about_one_of_them():
    first = problems([{'var': 'a_x', 'bad': True, 'msg': 'a_x is wrong'}], {}, 'r')
    second = problems([{'var': ['a_x', 'b_y'], 'bad': True, 'msg': 'a_x and b_y disagree'}], {}, 'r', earlier=first)
    assert messages(second) == ['[r] a_x and b_y disagree']


def test_messages_found_elsewhere_are_about_their_leading_variable():
    checks = as_checks(["heddle_replicas: 0 is below 1", "heddle_port=70000 is out of range", "Something else"])
    assert [c['var'] for c in checks] == ['heddle_replicas', 'heddle_port', None]
    assert all(c['bad'] for c in checks)
    assert len(problems(checks, {}, 'heddle')) == 3


def test_report_lists_every_problem_once_or_nothing():
    assert report([]) is None
    found = problems([{'var': 'a_b', 'bad': True, 'msg': 'one'}, {'var': 'c_d', 'bad': True, 'msg': 'two\n   lines'}], {}, 'r')
    assert report(found) == REPORT_HEADER + '\n1. [r] one\n2. [r] two lines'
