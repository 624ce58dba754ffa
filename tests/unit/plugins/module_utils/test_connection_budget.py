# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection budget arithmetic (plugins/module_utils/connection_budget.py), no I/O."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import math

import pytest


from ansible_collections.statewave.kubernetes.plugins.module_utils import connection_budget as cb  # noqa: E402

# A server with PostgreSQL's defaults: 100 connections, 3 for superusers, 0 reserved (PG 16).
DEFAULT_FACTS = {'max_connections': 100, 'superuser_reserved_connections': 3, 'reserved_connections': 0}

# statewave-contract.md section 4.1, horizontal-scaling.md's worked table:
# (replicas, API max connections, headroom, max_connections needed)
UPSTREAM_TABLE = [
    (1, 15, 10, 25),
    (2, 30, 15, 45),
    (3, 45, 15, 60),
    (5, 75, 25, 100),
]


def big_facts(**extra):
    """A server so large that only the term under test can bind."""
    facts = {'max_connections': 10000, 'superuser_reserved_connections': 3, 'reserved_connections': 0}
    facts.update(extra)
    return facts


def check(result, name):
    matches = [c for c in result['limits'] if c['name'] == name]
    assert len(matches) == 1, 'expected one %s limit in %r' % (name, result['limits'])
    return matches[0]


# ------------------------------------------------------------------------------------------------
# Upstream's worked table
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('replicas,api_max,headroom,needed', UPSTREAM_TABLE)
def test_upstream_table_reproduced_without_surge_and_migration(replicas, api_max, headroom, needed):
    result = cb.evaluate({'replicas': replicas, 'max_surge': 0, 'migration_job': False}, big_facts())
    breakdown = result['breakdown']
    assert breakdown['app_pool_connections'] == api_max
    assert breakdown['headroom'] == headroom
    assert breakdown['headroom_source'] == 'auto'
    assert result['peak_connections'] == needed


@pytest.mark.parametrize('replicas,api_max,headroom,needed', UPSTREAM_TABLE)
def test_full_formula_is_at_least_upstream(replicas, api_max, headroom, needed):
    result = cb.evaluate({'replicas': replicas}, big_facts())
    breakdown = result['breakdown']
    surge = int(math.ceil(replicas * 0.25))
    assert breakdown['surge_pods'] == surge
    assert breakdown['migration_connections'] == 1
    assert result['peak_connections'] == (replicas + surge) * 15 + 1 + headroom
    assert result['peak_connections'] >= needed
    # the difference is exactly the surge pods and the migration Job
    assert result['peak_connections'] - needed == surge * 15 + 1


@pytest.mark.parametrize('replicas,api_max,headroom,needed', UPSTREAM_TABLE)
def test_upstream_table_fits_exactly_when_reserved_slots_are_zero(replicas, api_max, headroom, needed):
    # "max_connections needed >= N": with N and no reserved slots the plan fits at 100 %, with N - 1 it fails.
    plan = {'replicas': replicas, 'max_surge': 0, 'migration_job': False}
    fits = cb.evaluate(plan, {'max_connections': needed, 'superuser_reserved_connections': 0},
                       pgbouncer_threshold=1.0)
    assert fits['verdict'] == 'ok'
    assert fits['utilisation'] == 1.0
    short = cb.evaluate(plan, {'max_connections': needed - 1, 'superuser_reserved_connections': 0},
                        pgbouncer_threshold=1.0)
    assert short['verdict'] == 'fail'


def test_default_superuser_reserved_slots_make_upstream_numbers_too_small():
    # With PostgreSQL's default superuser_reserved_connections = 3, upstream's 100 is not enough for 5 replicas.
    plan = {'replicas': 5, 'max_surge': 0, 'migration_job': False}
    result = cb.evaluate(plan, DEFAULT_FACTS, pgbouncer_threshold=1.0)
    assert result['usable'] == 97
    assert result['required'] == 100
    assert result['verdict'] == 'fail'


# ------------------------------------------------------------------------------------------------
# Each term of the formula
# ------------------------------------------------------------------------------------------------
def test_reserved_connections_reduce_usable():
    base = cb.evaluate({'replicas': 1}, {'max_connections': 100, 'superuser_reserved_connections': 3})
    reserved = cb.evaluate({'replicas': 1}, {'max_connections': 100, 'superuser_reserved_connections': 3,
                                             'reserved_connections': 7})
    assert base['usable'] == 97
    assert reserved['usable'] == 90
    assert check(reserved, 'server')['limit'] == 90


def test_reserved_connections_null_before_pg16_counts_as_zero():
    result = cb.evaluate({'replicas': 1}, {'max_connections': 50, 'superuser_reserved_connections': 5,
                                           'reserved_connections': None})
    assert result['usable'] == 45


def test_missing_superuser_reserved_assumes_postgres_default_and_says_so():
    result = cb.evaluate({'replicas': 1}, {'max_connections': 100})
    assert result['usable'] == 97
    assert any('assumed the PostgreSQL default of 3' in a for a in result['advice'])


@pytest.mark.parametrize('surge,replicas,expected', [
    ('25%', 1, 1), ('25%', 4, 1), ('25%', 5, 2), ('25%', 8, 2), ('25%', 9, 3),
    ('0%', 5, 0), ('100%', 3, 3), ('50%', 3, 2),
    (0, 5, 0), (2, 5, 2), ('2', 5, 2), (10, 3, 3),
])
def test_surge_rounds_up_and_is_capped_by_replicas(surge, replicas, expected):
    assert cb.surge_pods(surge, replicas) == expected
    result = cb.evaluate({'replicas': replicas, 'max_surge': surge}, big_facts())
    assert result['breakdown']['surge_pods'] == expected
    assert result['breakdown']['pods_at_peak'] == replicas + expected


def test_default_surge_adds_at_least_one_pod():
    result = cb.evaluate({'replicas': 1}, big_facts())
    assert result['breakdown']['surge_pods'] == 1
    assert result['breakdown']['pods_at_peak'] == 2


def test_hpa_uses_max_replicas_not_replicas():
    plan = {'replicas': 1, 'autoscaling_enabled': True, 'autoscaling_min_replicas': 2,
            'autoscaling_max_replicas': 8, 'max_surge': '25%'}
    result = cb.evaluate(plan, big_facts())
    assert result['breakdown']['replicas'] == 8
    assert result['breakdown']['surge_pods'] == 2
    assert result['breakdown']['pods_at_peak'] == 10
    assert result['peak_connections'] == 10 * 15 + 1 + 25
    assert any('HPA maximum (8)' in a for a in result['advice'])


def test_hpa_largest_fitting_is_the_hpa_maximum():
    plan = {'autoscaling_enabled': True, 'autoscaling_min_replicas': 1, 'autoscaling_max_replicas': 10}
    facts = {'max_connections': 103, 'superuser_reserved_connections': 3}
    result = cb.evaluate(plan, facts)
    # 3 replicas: 4 pods x 15 + 1 + 15 = 76 fits 100; 4 replicas: 5 x 15 + 1 + 25 = 101 does not.
    assert result['largest_fitting_replicas'] == 3
    assert result['verdict'] == 'fail'


def test_rate_limiter_adds_three_per_pod():
    without = cb.evaluate({'replicas': 4}, big_facts())
    with_rl = cb.evaluate({'replicas': 4, 'distributed_rate_limiter': True}, big_facts())
    assert with_rl['breakdown']['connections_per_pod'] == 18
    assert with_rl['peak_connections'] - without['peak_connections'] == 3 * with_rl['breakdown']['pods_at_peak']


def test_migration_job_adds_one():
    on = cb.evaluate({'replicas': 2}, big_facts())
    off = cb.evaluate({'replicas': 2, 'migration_job': False}, big_facts())
    assert on['peak_connections'] - off['peak_connections'] == 1


def test_other_consumers_and_explicit_headroom():
    result = cb.evaluate({'replicas': 2, 'other_consumers': 7, 'headroom': 3}, big_facts())
    assert result['breakdown']['headroom'] == 3
    assert result['breakdown']['headroom_source'] == 'set'
    assert result['peak_connections'] == 3 * 15 + 1 + 7 + 3


def test_zero_headroom_is_allowed_and_not_auto():
    result = cb.evaluate({'replicas': 2, 'headroom': 0}, big_facts())
    assert result['breakdown']['headroom'] == 0
    assert result['breakdown']['headroom_source'] == 'set'


@pytest.mark.parametrize('replicas,expected', [(1, 10), (2, 15), (3, 15), (4, 25), (5, 25), (40, 25)])
def test_auto_headroom_follows_upstream_tiers(replicas, expected):
    assert cb.auto_headroom(replicas) == expected


def test_connections_of_other_roles_reduce_server_usable():
    result = cb.evaluate({'replicas': 1}, {'max_connections': 100, 'superuser_reserved_connections': 3,
                                           'connections_other': 20})
    server = check(result, 'server')
    assert server['in_use_by_others'] == 20
    assert server['available'] == 77


# ------------------------------------------------------------------------------------------------
# Role and database limits
# ------------------------------------------------------------------------------------------------
def test_role_limit_binds_and_fails():
    facts = big_facts(role='statewave', role_connection_limit=40)
    result = cb.evaluate({'replicas': 2}, facts)  # 3 pods x 15 + 1 = 46 app connections
    role = check(result, 'role')
    assert role['needed'] == 46
    assert role['available'] == 40
    assert not role['fits']
    assert result['verdict'] == 'fail'
    assert result['binding_limit'] == 'role'
    assert result['required'] == 46 and result['usable'] == 40
    assert result['largest_fitting_replicas'] == 1  # 2 pods x 15 + 1 = 31
    assert any('ALTER ROLE statewave CONNECTION LIMIT' in a for a in result['advice'])


def test_role_limit_minus_one_or_null_means_unlimited():
    for limit in (-1, None):
        result = cb.evaluate({'replicas': 2}, big_facts(role_connection_limit=limit))
        assert [c['name'] for c in result['limits']] == ['server']


def test_role_limit_ignored_for_superuser_role_with_advice():
    result = cb.evaluate({'replicas': 2}, big_facts(role_connection_limit=1, role_is_superuser=True))
    assert 'role' not in [c['name'] for c in result['limits']]
    assert any('superuser' in a for a in result['advice'])


def test_database_limit_counts_other_roles_in_that_database():
    facts = big_facts(database='statewave', database_connection_limit=60, connections_other_in_database=10)
    result = cb.evaluate({'replicas': 2}, facts)  # 46 app connections, 50 available
    database = check(result, 'database')
    assert database['available'] == 50
    assert database['fits']
    worse = cb.evaluate({'replicas': 2}, dict(facts, connections_other_in_database=15))
    assert not check(worse, 'database')['fits']
    assert worse['verdict'] == 'fail'
    assert worse['binding_limit'] == 'database'


def test_database_limit_zero_means_nothing_available():
    result = cb.evaluate({'replicas': 1}, big_facts(database_connection_limit=0))
    database = check(result, 'database')
    assert database['utilisation'] is None
    assert result['verdict'] == 'fail'
    assert result['largest_fitting_replicas'] == 0
    assert any('not even 1 replica fits' in a for a in result['advice'])


def test_invalid_database_marker_is_an_error():
    with pytest.raises(cb.BudgetError) as err:
        cb.evaluate({'replicas': 1}, big_facts(database_connection_limit=-2))
    assert err.value.param == 'facts.database_connection_limit'


def test_binding_limit_is_the_tightest():
    facts = {'max_connections': 200, 'superuser_reserved_connections': 3, 'role_connection_limit': 50,
             'database_connection_limit': 45}
    result = cb.evaluate({'replicas': 2, 'migration_job': False}, facts)  # 45 app connections
    assert result['binding_limit'] == 'database'
    assert result['utilisation'] == 1.0
    assert result['verdict'] != 'fail'


# ------------------------------------------------------------------------------------------------
# Verdicts, thresholds and the largest replica count
# ------------------------------------------------------------------------------------------------
def test_pgbouncer_warning_at_70_percent_of_max_connections():
    facts = {'max_connections': 300, 'superuser_reserved_connections': 3}
    # 10 replicas + 3 surge = 13 pods x 15 = 195 = 65 % of 300: ok
    ok = cb.evaluate({'replicas': 10}, facts)
    assert ok['verdict'] == 'ok'
    # 11 + 3 = 14 pods x 15 = 210 = 70 %: warn, and still fits
    warn = cb.evaluate({'replicas': 11}, facts)
    assert warn['verdict'] == 'warn'
    assert all(c['fits'] for c in warn['limits'])
    assert cb.ASYNCPG_PGBOUNCER_ADVICE in warn['advice']
    assert '>= 1.21' in cb.ASYNCPG_PGBOUNCER_ADVICE and 'transaction mode' in cb.ASYNCPG_PGBOUNCER_ADVICE


def test_pgbouncer_threshold_is_configurable():
    facts = {'max_connections': 300, 'superuser_reserved_connections': 3}
    assert cb.evaluate({'replicas': 10}, facts, pgbouncer_threshold=0.5)['verdict'] == 'warn'
    assert cb.evaluate({'replicas': 11}, facts, pgbouncer_threshold='80%')['verdict'] == 'ok'


def test_fail_on_threshold_is_configurable():
    facts = {'max_connections': 100, 'superuser_reserved_connections': 3}
    plan = {'replicas': 3}  # 76 of 97 = 78 %
    assert cb.evaluate(plan, facts)['verdict'] == 'ok'
    strict = cb.evaluate(plan, facts, fail_on=0.75)
    assert strict['verdict'] == 'fail'
    assert strict['largest_fitting_replicas'] == 2  # 61 of 97 = 63 %


@pytest.mark.parametrize('max_connections', [30, 45, 61, 76, 100, 131, 180, 500, 1000])
def test_largest_fitting_replicas_is_the_flip_point(max_connections):
    facts = {'max_connections': max_connections, 'superuser_reserved_connections': 3}
    largest = cb.evaluate({'replicas': 1}, facts)['largest_fitting_replicas']
    if largest:
        assert cb.evaluate({'replicas': largest}, facts)['verdict'] in ('ok', 'warn')
    assert cb.evaluate({'replicas': largest + 1}, facts)['verdict'] == 'fail'


def test_largest_fitting_replicas_is_computed_independently_of_planned_count():
    facts = {'max_connections': 200, 'superuser_reserved_connections': 3}
    values = {cb.evaluate({'replicas': r}, facts)['largest_fitting_replicas'] for r in (1, 3, 20)}
    assert len(values) == 1


def test_summary_message_carries_the_numbers():
    result = cb.evaluate({'replicas': 5}, DEFAULT_FACTS)
    assert result['msg'].startswith('FAIL:')
    for number in ('131', '97', '5 replicas', 'largest replica count that fits: 3'):
        assert number in result['msg']
    assert result['breakdown']['formula'].endswith('= 131')


# ------------------------------------------------------------------------------------------------
# PgBouncer
# ------------------------------------------------------------------------------------------------
GOOD_BOUNCER = {'enabled': True, 'version': '1.23.1', 'max_prepared_statements': 200}


def test_pgbouncer_mode_budgets_server_side_pool_not_pods():
    plan = {'replicas': 10, 'pgbouncer': dict(GOOD_BOUNCER, default_pool_size=25, reserve_pool_size=5,
                                              instances=2, max_client_conn=1000)}
    result = cb.evaluate(plan, {'max_connections': 100, 'superuser_reserved_connections': 3})
    breakdown = result['breakdown']
    assert breakdown['pgbouncer_server_connections'] == 60
    assert breakdown['app_connections'] == 61
    assert result['peak_connections'] == 61 + 25
    assert breakdown['migration_path'] == 'direct'
    clients = check(result, 'pgbouncer_clients')
    assert clients['needed'] == 13 * 15
    assert clients['limit'] == 2000
    assert result['verdict'] == 'ok'
    # a direct migration Job (statewave_migration_mode: job) is what the advice would ask for
    assert not any('direct DSN' in a for a in result['advice'])


def test_migration_through_pgbouncer_is_a_client_there_not_a_server_connection():
    # statewave_migration_mode: hook behind PgBouncer: the chart's Job uses the app's DSN.
    bouncer = dict(GOOD_BOUNCER, default_pool_size=25, reserve_pool_size=5, instances=2, max_client_conn=1000)
    direct = cb.evaluate({'replicas': 10, 'pgbouncer': bouncer}, big_facts())
    hook = cb.evaluate({'replicas': 10, 'pgbouncer': bouncer, 'migration_through_pgbouncer': True}, big_facts())
    assert hook['breakdown']['migration_path'] == 'pgbouncer'
    assert hook['breakdown']['app_connections'] == 60 == direct['breakdown']['app_connections'] - 1
    assert check(hook, 'pgbouncer_clients')['needed'] == 13 * 15 + 1 == check(direct, 'pgbouncer_clients')['needed'] + 1
    assert '+ 0 migration Job (through PgBouncer) +' in hook['breakdown']['formula']
    assert '+ 1 migration Job' in check(hook, 'pgbouncer_clients')['description']
    assert any('direct DSN (statewave_migration_mode: job)' in a for a in hook['advice'])


def test_migration_path_does_not_matter_without_pgbouncer():
    plain = cb.evaluate({'replicas': 2}, big_facts())
    hook = cb.evaluate({'replicas': 2, 'migration_through_pgbouncer': True}, big_facts())
    assert hook['peak_connections'] == plain['peak_connections']
    assert hook['breakdown']['migration_path'] == 'direct'
    assert not any('direct DSN' in a for a in hook['advice'])


def test_pgbouncer_max_db_connections_caps_the_pool():
    plan = {'replicas': 2, 'pgbouncer': dict(GOOD_BOUNCER, default_pool_size=50, max_db_connections=20)}
    result = cb.evaluate(plan, big_facts())
    assert result['breakdown']['pgbouncer_server_connections'] == 20


def test_pgbouncer_client_limit_fails():
    plan = {'replicas': 8, 'pgbouncer': dict(GOOD_BOUNCER, max_client_conn=100)}  # 10 pods x 15 = 150
    result = cb.evaluate(plan, big_facts())
    assert result['binding_limit'] == 'pgbouncer_clients'
    assert result['verdict'] == 'fail'
    # 4 replicas + 1 surge = 5 pods x 15 = 75 client connections fit; 5 + 2 = 7 pods x 15 = 105 do not.
    assert result['largest_fitting_replicas'] == 4
    assert cb.evaluate(dict(plan, replicas=4), big_facts())['verdict'] == 'ok'
    assert cb.evaluate(dict(plan, replicas=5), big_facts())['verdict'] == 'fail'


def test_pgbouncer_needs_121_and_prepared_statements_for_asyncpg():
    old_bouncer = {'enabled': True, 'version': '1.20.1', 'max_prepared_statements': 100}
    old = cb.evaluate({'replicas': 2, 'pgbouncer': old_bouncer}, big_facts())
    assert old['verdict'] == 'fail'
    zero_bouncer = {'enabled': True, 'version': '1.22.0', 'max_prepared_statements': 0}
    zero = cb.evaluate({'replicas': 2, 'pgbouncer': zero_bouncer}, big_facts())
    assert zero['verdict'] == 'fail'
    unknown = cb.evaluate({'replicas': 2, 'pgbouncer': {'enabled': True}}, big_facts())
    assert unknown['verdict'] == 'warn'
    good = cb.evaluate({'replicas': 2, 'pgbouncer': GOOD_BOUNCER}, big_facts())
    assert good['verdict'] == 'ok'


def test_pgbouncer_statement_mode_fails_and_session_mode_warns():
    statement = cb.evaluate({'replicas': 2, 'pgbouncer': dict(GOOD_BOUNCER, pool_mode='statement')}, big_facts())
    assert statement['verdict'] == 'fail'
    assert any('transaction' in a for a in statement['advice'])
    session = cb.evaluate({'replicas': 2, 'pgbouncer': dict(GOOD_BOUNCER, pool_mode='session')}, big_facts())
    assert session['verdict'] == 'warn'


def test_no_pgbouncer_threshold_warning_when_pgbouncer_is_used():
    plan = {'replicas': 20, 'pgbouncer': dict(GOOD_BOUNCER, max_client_conn=10000)}
    result = cb.evaluate(plan, {'max_connections': 100, 'superuser_reserved_connections': 3})
    assert result['verdict'] == 'ok'
    assert cb.ASYNCPG_PGBOUNCER_ADVICE not in result['advice']


# ------------------------------------------------------------------------------------------------
# Bad input: every case is a BudgetError naming the parameter
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('plan,param', [
    ({'replicas': 0}, 'replicas'),
    ({'replicas': -3}, 'replicas'),
    ({'replicas': 100000}, 'replicas'),
    ({'replicas': 2.5}, 'replicas'),
    ({'replicas': 'three'}, 'replicas'),
    ({'replicas': True}, 'replicas'),
    ({'replicas': None}, 'replicas'),
    ({'autoscaling_enabled': True, 'autoscaling_min_replicas': 0}, 'autoscaling_min_replicas'),
    ({'autoscaling_enabled': True, 'autoscaling_min_replicas': 5, 'autoscaling_max_replicas': 2},
     'autoscaling_max_replicas'),
    ({'autoscaling_enabled': True, 'autoscaling_max_replicas': 5000}, 'autoscaling_max_replicas'),
    ({'autoscaling_enabled': 'maybe'}, 'autoscaling_enabled'),
    ({'max_surge': -1}, 'max_surge'),
    ({'max_surge': '-5%'}, 'max_surge'),
    ({'max_surge': '250%'}, 'max_surge'),
    ({'max_surge': '12.5%'}, 'max_surge'),
    ({'max_surge': 'lots'}, 'max_surge'),
    ({'other_consumers': -1}, 'other_consumers'),
    ({'headroom': -5}, 'headroom'),
    ({'headroom': 10 ** 9}, 'headroom'),
    ({'pgbouncer': {'enabled': True, 'default_pool_size': 0}}, 'pgbouncer.default_pool_size'),
    ({'pgbouncer': {'enabled': True, 'instances': 0}}, 'pgbouncer.instances'),
    ({'pgbouncer': {'enabled': True, 'pool_mode': 'turbo'}}, 'pgbouncer.pool_mode'),
    ({'pgbouncer': {'enabled': True, 'version': 'latest'}}, 'pgbouncer.version'),
    ({'pgbouncer': {'enabled': True, 'pool_size': 5}}, 'pgbouncer.pool_size'),
])
def test_bad_plan_is_a_clear_error(plan, param):
    with pytest.raises(cb.BudgetError) as err:
        cb.evaluate(plan, DEFAULT_FACTS)
    assert err.value.param == param
    assert str(err.value).startswith(param + ':')


@pytest.mark.parametrize('facts,param', [
    (None, 'facts'),
    ([], 'facts'),
    ({}, 'facts'),
    ({'max_connections': 0}, 'facts.max_connections'),
    ({'max_connections': -10}, 'facts.max_connections'),
    ({'max_connections': 10 ** 7}, 'facts.max_connections'),
    ({'max_connections': 'many'}, 'facts.max_connections'),
    ({'max_connections': 3, 'superuser_reserved_connections': 3}, 'facts.max_connections'),
    ({'max_connections': 10, 'superuser_reserved_connections': 3, 'reserved_connections': 7},
     'facts.max_connections'),
    ({'max_connections': 100, 'superuser_reserved_connections': -1}, 'facts.superuser_reserved_connections'),
    ({'max_connections': 100, 'reserved_connections': -1}, 'facts.reserved_connections'),
    ({'max_connections': 100, 'connections_other': -1}, 'facts.connections_other'),
    ({'max_connections': 100, 'role_connection_limit': -7}, 'facts.role_connection_limit'),
])
def test_bad_facts_are_a_clear_error(facts, param):
    with pytest.raises(cb.BudgetError) as err:
        cb.evaluate({'replicas': 1}, facts)
    assert err.value.param == param


@pytest.mark.parametrize('kwargs,param', [
    ({'fail_on': 0}, 'fail_on'),
    ({'fail_on': 1.5}, 'fail_on'),
    ({'fail_on': -0.1}, 'fail_on'),
    ({'fail_on': 'half'}, 'fail_on'),
    ({'fail_on': float('nan')}, 'fail_on'),
    ({'pgbouncer_threshold': 0}, 'pgbouncer_threshold'),
    ({'pgbouncer_threshold': '170%'}, 'pgbouncer_threshold'),
])
def test_bad_thresholds_are_a_clear_error(kwargs, param):
    with pytest.raises(cb.BudgetError) as err:
        cb.evaluate({'replicas': 1}, DEFAULT_FACTS, **kwargs)
    assert err.value.param == param


def test_inventory_strings_are_accepted():
    result = cb.evaluate({'replicas': '3', 'autoscaling_enabled': 'false', 'migration_job': 'true',
                          'distributed_rate_limiter': 'no', 'max_surge': '1', 'other_consumers': '2'},
                         {'max_connections': '200', 'superuser_reserved_connections': '3',
                          'role_connection_limit': '-1'}, fail_on='0.9', pgbouncer_threshold='70%')
    assert result['breakdown']['replicas'] == 3
    assert result['breakdown']['surge_pods'] == 1
    assert result['peak_connections'] == 4 * 15 + 1 + 2 + 15


def test_result_is_plain_data():
    import json
    result = cb.evaluate({'replicas': 2, 'pgbouncer': GOOD_BOUNCER}, DEFAULT_FACTS)
    assert json.loads(json.dumps(result)) == result


# ------------------------------------------------------------------------------------------------
# Input check before facts (the preflight role's connection_budget_input_error filter)
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('args,param,text', [
    ({'replicas': 5000}, 'replicas', 'must be at most %d, got 5000' % cb.MAX_REPLICAS),
    ({'replicas': 0}, 'replicas', 'must be at least 1, got 0'),
    ({'headroom': -5}, 'headroom', 'must be at least 0, got -5'),
    ({'fail_on': 1.5}, 'fail_on', 'at most 1 (100%), got 1.5'),
    ({'pgbouncer_threshold': 0}, 'pgbouncer_threshold', 'greater than 0'),
    ({'max_surge': 'lots%'}, 'max_surge', 'whole percentage'),
    ({'autoscaling_enabled': True, 'autoscaling_min_replicas': 4, 'autoscaling_max_replicas': 2},
     'autoscaling_max_replicas', 'is 2, below the HPA minimum 4'),
    ({'pgbouncer': {'enabled': True, 'instances': 0}}, 'pgbouncer.instances', 'must be at least 1'),
    ({'planned_server': {'max_connections': 0}}, 'planned_server.max_connections', 'must be at least 1'),
])
def test_input_error_names_what_evaluate_would_refuse(args, param, text):
    problem = cb.input_error(args)
    assert problem['param'] == param
    assert text in problem['reason']
    assert problem['message'] == '%s: %s' % (param, problem['reason'])
    # the very same input makes the module's evaluate() fail on the same parameter
    with pytest.raises(cb.BudgetError) as exc:
        planned = args.get('planned_server')
        facts = cb.planned_server_facts(planned) if planned else DEFAULT_FACTS
        plan = dict((k, v) for k, v in args.items() if k in cb.INPUT_KEYS)
        cb.evaluate(plan, facts, fail_on=args.get('fail_on', 1.0),
                    pgbouncer_threshold=args.get('pgbouncer_threshold', 0.7))
    assert exc.value.param == param


def test_input_error_is_none_for_good_input():
    assert cb.input_error({}) is None
    assert cb.input_error({'replicas': 3, 'headroom': None, 'fail_on': '90%', 'pgbouncer': {},
                           'planned_server': None, 'migration_through_pgbouncer': True}) is None


# ------------------------------------------------------------------------------------------------
# A planned server (cnpg mode before the Cluster exists)
# ------------------------------------------------------------------------------------------------
def test_planned_server_uses_postgres_defaults_and_says_so():
    facts = cb.planned_server_facts({'max_connections': 60, 'postgres_major': 16,
                                     'description': 'CloudNativePG Cluster db/statewave-db, not created yet'})
    assert facts['superuser_reserved_connections'] == 3 and facts['reserved_connections'] == 0
    assert facts['connections_other'] == 0 and facts['role_connection_limit'] is None
    # 60 - 3 = 57 usable: 1 replica (2 pods x 15 + 1 + 10 = 41) fits, 2 (3 x 15 + 1 + 15 = 61) do not
    one = cb.evaluate({'replicas': 1}, facts)
    two = cb.evaluate({'replicas': 2}, facts)
    assert (one['verdict'], one['required'], one['usable']) == ('ok', 41, 57)
    assert (two['verdict'], two['required'], two['usable']) == ('fail', 61, 57)
    assert two['largest_fitting_replicas'] == 1
    assert two['planned'] == 'CloudNativePG Cluster db/statewave-db, not created yet'
    assert 'usable (107%) on the planned server' in two['msg']
    assert any('budgeted against the planned server (CloudNativePG Cluster db/statewave-db' in a for a in two['advice'])
    assert any('plan a larger max_connections' in a for a in two['advice'])
    assert not any('PostgreSQL restart' in a for a in two['advice'])
    assert cb.evaluate({'replicas': 1}, DEFAULT_FACTS)['planned'] is None


def test_planned_server_reads_reserved_slots_from_its_parameters():
    facts = cb.planned_server_facts({'parameters': {'max_connections': '120', 'superuser_reserved_connections': '5',
                                                    'reserved_connections': '4'}})
    assert (facts['max_connections'], facts['superuser_reserved_connections'], facts['reserved_connections']) == \
        (120, 5, 4)
    assert check(cb.evaluate({'replicas': 1}, facts), 'server')['limit'] == 111
    # the explicit max_connections wins over parameters, as in the Cluster the pgvector role writes
    assert cb.planned_server_facts({'max_connections': 200, 'parameters': {'max_connections': '50'}})[
        'max_connections'] == 200


def test_planned_server_before_pg16_has_no_reserved_connections():
    assert cb.planned_server_facts({'max_connections': 100, 'postgres_major': 15})['reserved_connections'] is None


@pytest.mark.parametrize('planned,param', [
    ({}, 'planned_server.max_connections'),
    ({'max_connections': 'lots'}, 'planned_server.max_connections'),
    ({'max_connections': 100, 'parameters': {'superuser_reserved_connections': -1}},
     'planned_server.parameters.superuser_reserved_connections'),
    ({'max_connections': 100, 'parameters': 'max_connections=100'}, 'planned_server.parameters'),
    ({'max_connections': 100, 'postgres_major': 'sixteen'}, 'planned_server.postgres_major'),
    ('200', 'planned_server'),
])
def test_bad_planned_server_is_a_clear_error(planned, param):
    with pytest.raises(cb.BudgetError) as exc:
        cb.planned_server_facts(planned)
    assert exc.value.param == param


# ------------------------------------------------------------------------------------------------
# PgBouncer settings from the pgvector role's CloudNativePG Pooler
# ------------------------------------------------------------------------------------------------
POOLER = {'mode': 'cnpg', 'pooler_enabled': True, 'dsn_target': 'auto', 'instances': 3, 'pool_mode': 'transaction',
          'default_pool_size': 40, 'max_client_conn': 1000, 'max_prepared_statements': 200, 'parameters': {},
          'image': ''}


def test_pooler_settings_become_the_budget_pgbouncer_option():
    out = cb.pgbouncer_from_cnpg_pooler(POOLER)
    assert out == {'enabled': True, 'instances': 3, 'pool_mode': 'transaction', 'default_pool_size': 40,
                   'max_client_conn': 1000, 'max_prepared_statements': 200, 'version': None}
    result = cb.evaluate({'replicas': 4, 'pgbouncer': out}, big_facts())
    assert result['breakdown']['pgbouncer_server_connections'] == 120
    assert check(result, 'pgbouncer_clients')['limit'] == 3000
    # the operator's default image says no version: the budget can only warn about it
    assert result['verdict'] == 'warn'


@pytest.mark.parametrize('image,version', [
    ('ghcr.io/cloudnative-pg/pgbouncer:1.23.1', '1.23.1'),
    ('registry.local:5000/pgbouncer:1.22.1-16@sha256:0123abcd', '1.22.1'),
    ('ghcr.io/cloudnative-pg/pgbouncer:v1.24', '1.24'),
    ('ghcr.io/cloudnative-pg/pgbouncer:latest', None),
    ('ghcr.io/cloudnative-pg/pgbouncer@sha256:0123abcd', None),
    ('', None),
])
def test_pooler_version_comes_from_the_image_tag(image, version):
    assert cb.pgbouncer_from_cnpg_pooler(dict(POOLER, image=image))['version'] == version


def test_pooler_parameters_fill_the_other_pool_limits_and_lose_to_the_dedicated_variables():
    out = cb.pgbouncer_from_cnpg_pooler(dict(POOLER, parameters={
        'reserve_pool_size': '5', 'max_db_connections': '100', 'default_pool_size': '10', 'server_idle_timeout': '60'}))
    assert (out['reserve_pool_size'], out['max_db_connections'], out['default_pool_size']) == ('5', '100', 40)
    assert 'server_idle_timeout' not in out
    result = cb.evaluate({'replicas': 2, 'pgbouncer': out}, big_facts())
    assert result['breakdown']['pgbouncer_server_connections'] == 3 * 45


@pytest.mark.parametrize('change', [
    {'mode': 'managed'}, {'mode': 'standalone'}, {'pooler_enabled': False}, {'pooler_enabled': 'false'},
    {'dsn_target': 'primary'},
])
def test_no_pooler_in_front_of_the_pods_means_no_pgbouncer(change):
    assert cb.pgbouncer_from_cnpg_pooler(dict(POOLER, **change)) == {}


def test_pooler_settings_are_validated_like_any_pgbouncer_option():
    with pytest.raises(cb.BudgetError) as exc:
        cb.evaluate({'pgbouncer': cb.pgbouncer_from_cnpg_pooler(dict(POOLER, instances=0))}, big_facts())
    assert exc.value.param == 'pgbouncer.instances'
