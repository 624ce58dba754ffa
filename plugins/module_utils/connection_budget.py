# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection budget arithmetic for Statewave on PostgreSQL (pure functions, stdlib only).

Why these numbers (statewave-contract.md sections 2.1, 4.1, 4.2):

* Each Statewave pod runs one uvicorn process whose SQLAlchemy engine is fixed in code at
  pool_size 5 + max_overflow 10, so a pod holds up to 15 connections under burst. The
  STATEWAVE_DATABASE_POOL_* variables in the upstream docs do not exist.
* The distributed rate limiter (rpm > 0 and strategy "distributed") has its own engine with
  pool_size 2 + max_overflow 1: +3 per pod.
* Pods at peak are the planned replicas (or the HPA maximum) plus the rolling-update surge
  (Kubernetes rounds a percentage up; the default 25 % therefore adds at least one pod).
* The migration Job (alembic, NullPool) holds one connection.
* Headroom for admin sessions and spikes; upstream's worked table uses 10 for one replica,
  15 for two or three, 25 for five.
* PostgreSQL keeps superuser_reserved_connections and (16+) reserved_connections out of
  max_connections for ordinary roles; a role's CONNECTION LIMIT and a database's
  CONNECTION LIMIT are hard caps; connections held by other roles already use slots.

PyStator (PyPI ``pystator`` 0.0.47; its pods can share the server with Statewave's, see
``ADDITIONAL_PROFILES``). Every number below was read in the installed package; file and function:

* Engines: ``pystator/db/base.py`` ``get_engine()`` is the one engine factory and passes no pool
  arguments, so each engine gets SQLAlchemy's QueuePool defaults (``sqlalchemy/pool/impl.py``
  ``QueuePool.__init__``: pool_size 5, max_overflow 10): up to 15 connections per engine.
* Worker pod (``pystator worker``, one process): ``worker/runner.py`` ``Worker.start()`` builds five
  long-lived engines, plus one for the dead-letter store:
  the state store (``stores/factory.py`` ``create_state_store`` -> ``stores/_sqlalchemy_base.py``
  ``_connect_engine``), the driver's shared engine for locks, outbox and retention
  (``backends/sql/driver.py`` ``build_sql_driver``), the driver's machine store
  (``machine_store/_sqlalchemy.py`` ``SQLAlchemyMachineStore.connect``), the trigger-event source
  (``worker/event_sources/database.py`` ``DatabaseEventSource.__init__``), the apply-data source
  (``worker/event_sources/apply_data_database.py`` ``DatabaseApplyDataEventSource.__init__``) and, with
  ``PYSTATOR_WORKER_DLQ_ENABLED`` (the default, ``worker/config.py``), the DLQ store
  (``dlq/database_store.py`` ``DatabaseDLQStore.__init__``): 6 x 15 = 90. With
  ``PYSTATOR_WORKER_NOTIFY_LISTENER_ENABLED`` one more LISTEN connection (``worker/notify_listener.py``).
  Measured (kind, light load): 14 connections open.
* API pod (``pystator api``, one uvicorn process): no long-lived engine at all. Every request that
  touches the database builds a new engine (``api/dependencies/database.py`` ``get_db_session`` ->
  ``db/base.py`` ``get_session`` -> ``get_engine``; apply-data adds one through ``queue/client.py``
  ``QueueClient.from_url``) and never disposes it: its connection is closed only when Python's cyclic
  garbage collector frees the engine. The code gives no bound; measured on PostgreSQL 16 here: 43
  connections after 400 sequential requests, 86 with 10 concurrent clients (the server's limit then
  refused more). The budget takes an operator's figure, 20 per API pod by default
  (``PYSTATOR_API_CONNECTIONS_PER_POD``).
* The migration Job (``pystator db upgrade``, ``db/cli.py`` ``cmd_upgrade``): one connection at a time
  (``_prepare_alembic_before_upgrade`` disposes its engine before Alembic connects through a NullPool,
  ``db/migrations/env.py``).

Nothing here talks to a database or to Ansible: the module and the unit tests call
``evaluate()`` with plain dicts.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import math
import re

POOL_SIZE = 5
MAX_OVERFLOW = 10
CONNECTIONS_PER_POD = POOL_SIZE + MAX_OVERFLOW
RATE_LIMITER_POOL_SIZE = 2
RATE_LIMITER_MAX_OVERFLOW = 1
RATE_LIMITER_CONNECTIONS_PER_POD = RATE_LIMITER_POOL_SIZE + RATE_LIMITER_MAX_OVERFLOW
MIGRATION_JOB_CONNECTIONS = 1
DEFAULT_MAX_SURGE = '25%'
DEFAULT_PGBOUNCER_THRESHOLD = 0.7
DEFAULT_FAIL_ON = 1.0
# PostgreSQL's own upper bound for max_connections (MAX_BACKENDS).
PG_MAX_CONNECTIONS = 262143
# More replicas than this is treated as a typo, not a plan.
MAX_REPLICAS = 1000
PGBOUNCER_MIN_VERSION = (1, 21)
PGBOUNCER_DEFAULTS = {
    'enabled': False,
    'pool_mode': 'transaction',
    'default_pool_size': 20,
    'reserve_pool_size': 0,
    'max_client_conn': 100,
    'max_db_connections': 0,
    'max_user_connections': 0,
    'instances': 1,
    'version': None,
    'max_prepared_statements': None,
}
PGBOUNCER_POOL_MODES = ('session', 'transaction', 'statement')

# PyStator 0.0.47 (see the module docstring for the file and function behind each number).
SQLALCHEMY_ENGINE_CONNECTIONS = 5 + 10          # QueuePool pool_size + max_overflow, per engine
PYSTATOR_WORKER_ENGINES = 5                     # state store, driver, machine store, 2 event sources
PYSTATOR_WORKER_DLQ_ENGINES = 1                 # the DLQ store, when PYSTATOR_WORKER_DLQ_ENABLED (default)
PYSTATOR_WORKER_NOTIFY_CONNECTIONS = 1          # the LISTEN connection, when NOTIFY_LISTENER_ENABLED
PYSTATOR_API_CONNECTIONS_PER_POD = 20           # an operator's figure: the API's engines are per request
PYSTATOR_MIGRATION_JOB_CONNECTIONS = 1
# Pod groups that may share the server with the primary one (Statewave's API), by profile.
ADDITIONAL_PROFILES = ('pystator_api', 'pystator_worker', 'custom')


def pystator_worker_connections(dlq_enabled=True, notify_listener=False):
    """Connections one PyStator worker pod may hold: 15 per engine, 5 engines (+1 with the DLQ store),
    plus the LISTEN connection of the notify listener."""
    engines = PYSTATOR_WORKER_ENGINES + (PYSTATOR_WORKER_DLQ_ENGINES if dlq_enabled else 0)
    return engines * SQLALCHEMY_ENGINE_CONNECTIONS + (PYSTATOR_WORKER_NOTIFY_CONNECTIONS if notify_listener else 0)


ASYNCPG_PGBOUNCER_ADVICE = (
    'put PgBouncer in transaction mode in front of PostgreSQL and point STATEWAVE_DATABASE_URL '
    'at it; asyncpg uses named prepared statements, so it needs PgBouncer >= 1.21 with '
    'max_prepared_statements > 0'
)


class BudgetError(ValueError):
    """Invalid input. ``param`` names the offending parameter, ``reason`` says what is wrong and the fix."""

    def __init__(self, param, message):
        self.param = param
        self.reason = message
        super(BudgetError, self).__init__('%s: %s' % (param, message))


# ----------------------------------------------------------------------------------------------
# Input parsing
# ----------------------------------------------------------------------------------------------
def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def to_int(value, param, minimum=None, maximum=None, fix=None):
    """Return ``value`` as an int within [minimum, maximum] or raise BudgetError.

    Accepts ints and strings of digits (inventory values often arrive as strings); refuses
    booleans, floats with a fraction and anything else.
    """
    if _is_int(value):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.match(r'^\s*-?\d+\s*$', value):
        number = int(value)
    else:
        raise BudgetError(param, 'expected a whole number, got %r%s' % (value, _fix(fix)))
    if minimum is not None and number < minimum:
        raise BudgetError(param, 'must be at least %d, got %d%s' % (minimum, number, _fix(fix)))
    if maximum is not None and number > maximum:
        raise BudgetError(param, 'must be at most %d, got %d%s' % (maximum, number, _fix(fix)))
    return number


def to_ratio(value, param):
    """A fraction in (0, 1]; accepts 0.7, "0.7" or "70%"."""
    text = value
    percent = False
    if isinstance(value, str):
        text = value.strip()
        if text.endswith('%'):
            percent = True
            text = text[:-1].strip()
        try:
            text = float(text)
        except ValueError:
            raise BudgetError(param, 'expected a fraction such as 0.7 or a percentage such as "70%%", got %r' % (value,))
    if isinstance(text, bool) or not isinstance(text, (int, float)):
        raise BudgetError(param, 'expected a fraction such as 0.7, got %r' % (value,))
    ratio = float(text) / 100.0 if percent else float(text)
    if math.isnan(ratio) or ratio <= 0 or ratio > 1:
        raise BudgetError(param, 'must be greater than 0 and at most 1 (100%%), got %r' % (value,))
    return ratio


def to_bool(value, param):
    """A boolean; accepts the usual YAML/inventory spellings, refuses anything else."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in ('true', 'yes', 'on', '1', 'y'):
        return True
    if text in ('false', 'no', 'off', '0', 'n', ''):
        return False
    raise BudgetError(param, 'expected true or false, got %r' % (value,))


def _fix(fix):
    return '; %s' % fix if fix else ''


def parse_surge(value):
    """Parse a Deployment maxSurge: an int (pods) or "N%". Returns ('pods'|'percent', int)."""
    param = 'max_surge'
    if value is None:
        value = DEFAULT_MAX_SURGE
    if isinstance(value, str) and value.strip().endswith('%'):
        number = value.strip()[:-1]
        if not re.match(r'^\d+$', number):
            raise BudgetError(param, 'expected a whole percentage such as "25%%", got %r' % (value,))
        percent = int(number)
        if percent > 100:
            raise BudgetError(param, '%d%% is above 100%%: a rolling update never adds more new pods than '
                                     'the replica count, so use at most "100%%"' % percent)
        return ('percent', percent)
    pods = to_int(value, param, minimum=0, maximum=MAX_REPLICAS,
                  fix='use a pod count such as 1 or a percentage such as "25%"')
    return ('pods', pods)


def surge_pods(max_surge, replicas):
    """Extra pods a RollingUpdate runs on top of ``replicas`` at its peak.

    Kubernetes rounds a percentage maxSurge up, and the new ReplicaSet never grows beyond
    ``replicas``, so the extra pods are min(surge, replicas).
    """
    kind, number = parse_surge(max_surge)
    if kind == 'percent':
        extra = (number * replicas + 99) // 100  # ceil without floats
    else:
        extra = number
    return min(extra, replicas)


def auto_headroom(replicas):
    """Headroom from upstream's worked table: 10 for 1 replica, 15 for 2-3, 25 from 4 on."""
    if replicas <= 1:
        return 10
    if replicas <= 3:
        return 15
    return 25


def parse_version(value):
    """"1.21.0" -> (1, 21, 0); None when unknown."""
    if value is None or value == '':
        return None
    match = re.match(r'^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?', str(value))
    if not match:
        raise BudgetError('pgbouncer.version', 'expected a version such as "1.23.1", got %r' % (value,))
    return tuple(int(part or 0) for part in match.groups())


def normalize_plan(plan):
    """Validate the planned deployment and fill defaults. Returns a new dict."""
    plan = dict(plan or {})
    out = {}
    out['autoscaling_enabled'] = to_bool(plan.get('autoscaling_enabled', False), 'autoscaling_enabled')
    if out['autoscaling_enabled']:
        out['autoscaling_min_replicas'] = to_int(
            plan.get('autoscaling_min_replicas', 1), 'autoscaling_min_replicas', 1, MAX_REPLICAS,
            fix='an HPA runs 1 to %d replicas' % MAX_REPLICAS)
        out['autoscaling_max_replicas'] = to_int(
            plan.get('autoscaling_max_replicas', 5), 'autoscaling_max_replicas', 1, MAX_REPLICAS,
            fix='an HPA runs 1 to %d replicas' % MAX_REPLICAS)
        if out['autoscaling_max_replicas'] < out['autoscaling_min_replicas']:
            raise BudgetError('autoscaling_max_replicas', 'is %d, below the HPA minimum %d; set the maximum to at '
                                                          'least the minimum'
                              % (out['autoscaling_max_replicas'], out['autoscaling_min_replicas']))
        out['replicas'] = out['autoscaling_max_replicas']
    else:
        out['replicas'] = to_int(plan.get('replicas', 1), 'replicas', 1, MAX_REPLICAS,
                                 fix='plan 1 to %d replicas' % MAX_REPLICAS)
    out['max_surge'] = plan.get('max_surge')
    if out['max_surge'] is None:
        out['max_surge'] = DEFAULT_MAX_SURGE
    parse_surge(out['max_surge'])
    out['distributed_rate_limiter'] = to_bool(plan.get('distributed_rate_limiter', False), 'distributed_rate_limiter')
    out['migration_job'] = to_bool(plan.get('migration_job', True), 'migration_job')
    out['migration_through_pgbouncer'] = to_bool(plan.get('migration_through_pgbouncer', False),
                                                 'migration_through_pgbouncer')
    out['other_consumers'] = to_int(plan.get('other_consumers', 0) or 0, 'other_consumers', 0, PG_MAX_CONNECTIONS,
                                    fix='count the connections admin tools, monitoring and other apps open')
    headroom = plan.get('headroom')
    out['headroom'] = None if headroom is None else to_int(
        headroom, 'headroom', 0, PG_MAX_CONNECTIONS, fix='upstream uses 10 to 25')
    out['pgbouncer'] = normalize_pgbouncer(plan.get('pgbouncer'))
    out['primary_enabled'] = to_bool(plan.get('primary_enabled', True), 'primary_enabled')
    per_pod = plan.get('connections_per_pod')
    out['connections_per_pod'] = None if per_pod in (None, '') else to_int(
        per_pod, 'connections_per_pod', 1, PG_MAX_CONNECTIONS, fix='the connections one pod of the app may hold')
    out['replicas_variable'] = plan.get('replicas_variable') or None
    groups = plan.get('additional_pods') or []
    if not isinstance(groups, list):
        raise BudgetError('additional_pods', 'expected a list of pod groups, got %r' % (groups,))
    out['additional_pods'] = [normalize_group(item, index) for index, item in enumerate(groups)]
    names = [group['name'] for group in out['additional_pods']]
    if len(set(names)) != len(names):
        raise BudgetError('additional_pods', 'group names must differ, got %s' % ', '.join(names))
    if not out['primary_enabled'] and not out['additional_pods']:
        raise BudgetError('primary_enabled', 'is false and additional_pods is empty: there is nothing to budget')
    if not out['primary_enabled']:
        # PgBouncer stands in front of the primary group only.
        out['pgbouncer'] = normalize_pgbouncer({})
    return out


GROUP_KEYS = ('name', 'profile', 'replicas', 'autoscaling_enabled', 'autoscaling_min_replicas', 'autoscaling_max_replicas',
              'max_surge', 'connections_per_pod', 'dlq_enabled', 'notify_listener', 'migration_job', 'replicas_variable')


def normalize_group(item, index):
    """One more group of pods on the same server (for example PyStator's API or worker), validated.

    ``profile`` pystator_api takes ``connections_per_pod`` or PYSTATOR_API_CONNECTIONS_PER_POD;
    pystator_worker counts its engines (pystator_worker_connections(), unless ``connections_per_pod`` is
    given); custom needs ``connections_per_pod``. Errors name ``additional_pods.<name>.<key>``.
    """
    if not isinstance(item, dict):
        raise BudgetError('additional_pods[%d]' % index, 'expected a dict with name, profile and replicas, got %r' % (item,))
    name = str(item.get('name') or '').strip()
    if not name:
        raise BudgetError('additional_pods[%d].name' % index, 'is empty: name the group (e.g. pystator-worker)')
    param = 'additional_pods.%s' % name
    unknown = sorted(set(item) - set(GROUP_KEYS))
    if unknown:
        raise BudgetError('%s.%s' % (param, unknown[0]), 'unknown key; known: %s' % ', '.join(GROUP_KEYS))
    profile = item.get('profile') or 'custom'
    if profile not in ADDITIONAL_PROFILES:
        raise BudgetError(param + '.profile', 'must be one of %s, got %r' % (', '.join(ADDITIONAL_PROFILES), profile))
    out = {'name': name, 'profile': profile, 'replicas_variable': item.get('replicas_variable') or None}
    out['autoscaling_enabled'] = to_bool(item.get('autoscaling_enabled', False), param + '.autoscaling_enabled')
    if out['autoscaling_enabled']:
        out['autoscaling_min_replicas'] = to_int(item.get('autoscaling_min_replicas', 1), param + '.autoscaling_min_replicas',
                                                 1, MAX_REPLICAS, fix='an HPA runs 1 to %d replicas' % MAX_REPLICAS)
        out['autoscaling_max_replicas'] = to_int(item.get('autoscaling_max_replicas', 5), param + '.autoscaling_max_replicas',
                                                 1, MAX_REPLICAS, fix='an HPA runs 1 to %d replicas' % MAX_REPLICAS)
        if out['autoscaling_max_replicas'] < out['autoscaling_min_replicas']:
            raise BudgetError(param + '.autoscaling_max_replicas', 'is %d, below the HPA minimum %d; set the maximum to at '
                                                                   'least the minimum'
                              % (out['autoscaling_max_replicas'], out['autoscaling_min_replicas']))
        out['replicas'] = out['autoscaling_max_replicas']
    else:
        out['replicas'] = to_int(item.get('replicas', 1), param + '.replicas', 0, MAX_REPLICAS,
                                 fix='plan 0 to %d replicas' % MAX_REPLICAS)
    out['max_surge'] = item.get('max_surge')
    if out['max_surge'] is None:
        out['max_surge'] = DEFAULT_MAX_SURGE
    try:
        parse_surge(out['max_surge'])
    except BudgetError as exc:
        raise BudgetError(param + '.max_surge', exc.reason)
    per_pod = item.get('connections_per_pod')
    if per_pod not in (None, ''):
        out['connections_per_pod'] = to_int(per_pod, param + '.connections_per_pod', 1, PG_MAX_CONNECTIONS,
                                            fix='the connections one pod may hold')
        out['per_pod_source'] = 'set'
    elif profile == 'pystator_api':
        out['connections_per_pod'], out['per_pod_source'] = PYSTATOR_API_CONNECTIONS_PER_POD, 'default'
    elif profile == 'pystator_worker':
        out['connections_per_pod'] = pystator_worker_connections(
            to_bool(item.get('dlq_enabled', True), param + '.dlq_enabled'),
            to_bool(item.get('notify_listener', False), param + '.notify_listener'))
        out['per_pod_source'] = 'code'
    else:
        raise BudgetError(param + '.connections_per_pod', 'is missing: a custom group needs the connections one pod may hold')
    out['migration_job'] = to_bool(item.get('migration_job', False), param + '.migration_job')
    return out


def normalize_pgbouncer(value):
    conf = dict(PGBOUNCER_DEFAULTS)
    for key, item in (value or {}).items():
        if key not in conf:
            raise BudgetError('pgbouncer.%s' % key, 'unknown PgBouncer setting; known: %s' % ', '.join(sorted(conf)))
        if item is not None:
            conf[key] = item
    conf['enabled'] = to_bool(conf['enabled'], 'pgbouncer.enabled')
    if conf['pool_mode'] not in PGBOUNCER_POOL_MODES:
        raise BudgetError('pgbouncer.pool_mode', 'must be one of %s, got %r'
                          % (', '.join(PGBOUNCER_POOL_MODES), conf['pool_mode']))
    conf['default_pool_size'] = to_int(conf['default_pool_size'], 'pgbouncer.default_pool_size', 1, PG_MAX_CONNECTIONS)
    conf['reserve_pool_size'] = to_int(conf['reserve_pool_size'], 'pgbouncer.reserve_pool_size', 0, PG_MAX_CONNECTIONS)
    conf['max_client_conn'] = to_int(conf['max_client_conn'], 'pgbouncer.max_client_conn', 1, 10000000)
    conf['max_db_connections'] = to_int(conf['max_db_connections'], 'pgbouncer.max_db_connections', 0, PG_MAX_CONNECTIONS,
                                        fix='0 means unlimited')
    conf['max_user_connections'] = to_int(conf['max_user_connections'], 'pgbouncer.max_user_connections', 0,
                                          PG_MAX_CONNECTIONS, fix='0 means unlimited')
    conf['instances'] = to_int(conf['instances'], 'pgbouncer.instances', 1, 1000,
                               fix='count the PgBouncer processes (Pooler instances); each has its own pools')
    if conf['max_prepared_statements'] is not None:
        conf['max_prepared_statements'] = to_int(conf['max_prepared_statements'], 'pgbouncer.max_prepared_statements', 0)
    conf['version_tuple'] = parse_version(conf['version'])
    return conf


def _limit(value, param):
    """A connection limit from pg_roles / pg_database: None or -1 = unlimited."""
    if value is None:
        return None
    number = to_int(value, param, minimum=-2, maximum=PG_MAX_CONNECTIONS)
    if number == -2:
        raise BudgetError(param, 'is -2: PostgreSQL marks the database invalid (an interrupted DROP DATABASE); '
                                 'drop it and create it again')
    return None if number < 0 else number


def normalize_facts(facts):
    """Validate the server facts (the keys postgres_capacity_info returns)."""
    if not isinstance(facts, dict):
        raise BudgetError('facts', 'expected the result of statewave.kubernetes.postgres_capacity_info (a dict)')
    if facts.get('max_connections') is None:
        raise BudgetError('facts', 'max_connections is missing; pass the registered result of '
                                   'statewave.kubernetes.postgres_capacity_info or at least max_connections')
    out = {'notes': []}
    out['max_connections'] = to_int(facts['max_connections'], 'facts.max_connections', 1, PG_MAX_CONNECTIONS)
    if facts.get('superuser_reserved_connections') is None:
        out['superuser_reserved_connections'] = 3
        out['notes'].append('superuser_reserved_connections unknown: assumed the PostgreSQL default of 3')
    else:
        out['superuser_reserved_connections'] = to_int(facts['superuser_reserved_connections'],
                                                       'facts.superuser_reserved_connections', 0, PG_MAX_CONNECTIONS)
    out['reserved_connections'] = to_int(facts.get('reserved_connections') or 0, 'facts.reserved_connections', 0,
                                         PG_MAX_CONNECTIONS)
    if out['superuser_reserved_connections'] + out['reserved_connections'] >= out['max_connections']:
        raise BudgetError('facts.max_connections', 'is %d, not more than superuser_reserved_connections (%d) + '
                                                   'reserved_connections (%d): PostgreSQL itself would not start'
                          % (out['max_connections'], out['superuser_reserved_connections'],
                             out['reserved_connections']))
    out['role_connection_limit'] = _limit(facts.get('role_connection_limit'), 'facts.role_connection_limit')
    out['database_connection_limit'] = _limit(facts.get('database_connection_limit'),
                                              'facts.database_connection_limit')
    out['connections_other'] = to_int(facts.get('connections_other') or 0, 'facts.connections_other', 0,
                                      PG_MAX_CONNECTIONS)
    out['connections_other_in_database'] = to_int(facts.get('connections_other_in_database') or 0,
                                                  'facts.connections_other_in_database', 0, PG_MAX_CONNECTIONS)
    for key in ('role', 'database', 'server_version'):
        out[key] = facts.get(key)
    out['role_exists'] = facts.get('role_exists')
    out['database_exists'] = facts.get('database_exists')
    out['role_is_superuser'] = to_bool(facts.get('role_is_superuser'), 'facts.role_is_superuser')
    out['planned'] = facts.get('planned') or None
    if out['planned']:
        out['notes'].append('budgeted against the planned server (%s), not a measured one: connections that the '
                            'operator, backups and monitoring will hold there are not known yet, so keep headroom '
                            'or other_consumers for them' % out['planned'])
    return out


def planned_server_facts(planned):
    """Facts of a server that does not run yet (for example a CloudNativePG Cluster still to be created).

    ``planned`` holds ``max_connections``, optionally ``parameters`` (the postgresql.conf parameters the server
    will run with; ``superuser_reserved_connections`` and ``reserved_connections`` are read from them),
    ``postgres_major`` and ``description`` (what the server is, for the messages). PostgreSQL's defaults fill
    the rest: 3 superuser slots, and from PostgreSQL 16 on 0 reserved slots. Nobody is connected yet, and the
    role and database have no CONNECTION LIMIT (the collection creates them without one).
    """
    if not isinstance(planned, dict):
        raise BudgetError('planned_server', 'expected a dict with max_connections, got %r' % (planned,))
    params = planned.get('parameters') or {}
    if not isinstance(params, dict):
        raise BudgetError('planned_server.parameters', 'expected a dict of postgresql.conf parameters, got %r'
                          % (params,))
    major = planned.get('postgres_major')
    major = None if major in (None, '') else to_int(major, 'planned_server.postgres_major', 10, 99)
    max_connections = planned.get('max_connections')
    if max_connections is None:
        max_connections = params.get('max_connections')
    if max_connections is None:
        raise BudgetError('planned_server.max_connections', 'is missing: say what max_connections the server will run with')
    facts = {
        'max_connections': to_int(max_connections, 'planned_server.max_connections', 1, PG_MAX_CONNECTIONS),
        'superuser_reserved_connections': to_int(params.get('superuser_reserved_connections', 3),
                                                 'planned_server.parameters.superuser_reserved_connections',
                                                 0, PG_MAX_CONNECTIONS),
        'reserved_connections': None,
        'role_connection_limit': None,
        'database_connection_limit': None,
        'connections_other': 0,
        'connections_other_in_database': 0,
        'role_is_superuser': False,
        'planned': planned.get('description') or 'planned server',
    }
    if 'reserved_connections' in params:
        facts['reserved_connections'] = to_int(params['reserved_connections'],
                                               'planned_server.parameters.reserved_connections', 0, PG_MAX_CONNECTIONS)
    elif major is None or major >= 16:
        facts['reserved_connections'] = 0
    return facts


def _image_version(image):
    """"ghcr.io/cloudnative-pg/pgbouncer:1.23.1" -> "1.23.1"; None without a version tag."""
    if not image:
        return None
    name = str(image).split('@', 1)[0].rsplit('/', 1)[-1]
    if ':' not in name:
        return None
    match = re.match(r'^v?(\d+\.\d+(?:\.\d+)?)', name.split(':', 1)[1])
    return match.group(1) if match else None


def pgbouncer_from_cnpg_pooler(settings):
    """The PgBouncer settings of a CloudNativePG Pooler, from the pgvector role's variables.

    ``settings``: mode, pooler_enabled, dsn_target, instances, pool_mode, default_pool_size, max_client_conn,
    max_prepared_statements, parameters (more PgBouncer parameters) and image. Returns {} when the pods do not
    go through a Pooler (not cnpg mode, no Pooler, or the app DSN pointed at the primary). The dedicated
    variables win over the same names in ``parameters``, as in the Pooler the pgvector role writes. The version
    is read from the image tag; with the operator's default image it stays unknown.
    """
    settings = dict(settings or {})
    if settings.get('mode') != 'cnpg' or not to_bool(settings.get('pooler_enabled'), 'pooler_enabled'):
        return {}
    if (settings.get('dsn_target') or 'auto') == 'primary':
        return {}
    params = dict(settings.get('parameters') or {})
    out = {'enabled': True}
    for key in ('reserve_pool_size', 'max_db_connections', 'max_user_connections'):
        if params.get(key) not in (None, ''):
            out[key] = params[key]
    for key in ('pool_mode', 'default_pool_size', 'max_client_conn', 'max_prepared_statements', 'instances'):
        value = settings.get(key)
        if value is None and key in params:
            value = params[key]
        if value not in (None, ''):
            out[key] = value
    out['version'] = _image_version(settings.get('image'))
    return out


INPUT_KEYS = ('replicas', 'autoscaling_enabled', 'autoscaling_min_replicas', 'autoscaling_max_replicas', 'max_surge',
              'distributed_rate_limiter', 'migration_job', 'migration_through_pgbouncer', 'other_consumers',
              'headroom', 'pgbouncer', 'primary_enabled', 'connections_per_pod', 'replicas_variable', 'additional_pods')


def input_error(args):
    """The first invalid input of the connection_budget module's arguments (``args``, without facts), or None.

    Runs the same validation as evaluate(), so callers that check inputs before they gather facts (the
    preflight role) report exactly what the module would refuse. Returns {param, reason, message}.
    """
    args = dict(args or {})
    try:
        to_ratio(args.get('fail_on', DEFAULT_FAIL_ON), 'fail_on')
        to_ratio(args.get('pgbouncer_threshold', DEFAULT_PGBOUNCER_THRESHOLD), 'pgbouncer_threshold')
        normalize_plan(dict((key, args[key]) for key in INPUT_KEYS if key in args))
        if args.get('planned_server') is not None:
            planned_server_facts(args['planned_server'])
    except BudgetError as exc:
        return {'param': exc.param, 'reason': exc.reason, 'message': str(exc)}
    return None


# ----------------------------------------------------------------------------------------------
# The arithmetic
# ----------------------------------------------------------------------------------------------
def _group_demand(group):
    surge = surge_pods(group['max_surge'], group['replicas'])
    pods = group['replicas'] + surge
    return {
        'name': group['name'],
        'profile': group['profile'],
        'replicas': group['replicas'],
        'autoscaling_enabled': group['autoscaling_enabled'],
        'surge_pods': surge,
        'pods_at_peak': pods,
        'connections_per_pod': group['connections_per_pod'],
        'per_pod_source': group['per_pod_source'],
        'connections': pods * group['connections_per_pod'],
        'migration_connections': PYSTATOR_MIGRATION_JOB_CONNECTIONS if group['migration_job'] else 0,
    }


def peak_demand(plan):
    """Connections the plan opens at its peak, before any server limit is looked at.

    The primary group (Statewave's API pods, unless ``primary_enabled`` is false) plus every group of
    ``additional_pods`` (pods that connect to the same server directly, e.g. PyStator's API and worker).
    """
    primary = plan.get('primary_enabled', True)
    replicas = plan['replicas'] if primary else 0
    surge = surge_pods(plan['max_surge'], replicas)
    pods = replicas + surge
    per_pod = (plan.get('connections_per_pod') or CONNECTIONS_PER_POD) + (
        RATE_LIMITER_CONNECTIONS_PER_POD if plan['distributed_rate_limiter'] else 0)
    migration = MIGRATION_JOB_CONNECTIONS if plan['migration_job'] and primary else 0
    groups = [_group_demand(group) for group in plan.get('additional_pods') or []]
    group_connections = sum(group['connections'] for group in groups)
    group_migrations = sum(group['migration_connections'] for group in groups)
    total_replicas = replicas + sum(group['replicas'] for group in groups)
    if plan['headroom'] is None:
        headroom, headroom_source = auto_headroom(total_replicas), 'auto'
    else:
        headroom, headroom_source = plan['headroom'], 'set'
    app_pods = pods * per_pod
    bouncer = plan['pgbouncer']
    # The migration Job either connects to PostgreSQL directly (its own server connection), or,
    # with the app's DSN pointing at PgBouncer, through the pooler: then it is one more client
    # there and takes one of the pooled server connections already counted. PgBouncer serves the
    # primary group only; the additional groups connect directly.
    through_pgbouncer = bool(bouncer['enabled'] and plan.get('migration_through_pgbouncer') and migration)
    if bouncer['enabled'] and primary:
        pool = bouncer['default_pool_size'] + bouncer['reserve_pool_size']
        for key in ('max_db_connections', 'max_user_connections'):
            if bouncer[key]:
                pool = min(pool, bouncer[key])
        app_db = bouncer['instances'] * pool
        clients = app_pods + (migration if through_pgbouncer else 0)
    else:
        app_db = app_pods
        clients = None
    primary_migration = 0 if through_pgbouncer else migration
    direct_migration = primary_migration + group_migrations
    primary_total = app_db + primary_migration
    app_total = primary_total + group_connections + group_migrations
    all_migrations = migration + group_migrations
    return {
        'replicas': replicas,
        'surge_pods': surge,
        'pods_at_peak': pods,
        'connections_per_pod': per_pod,
        'app_pool_connections': app_pods + group_connections,
        'pgbouncer_server_connections': app_db if bouncer['enabled'] and primary else None,
        'pgbouncer_client_connections': clients,
        'migration_connections': all_migrations,
        'migration_path': None if not all_migrations else ('pgbouncer' if through_pgbouncer else 'direct'),
        'direct_migration_connections': direct_migration,
        'app_connections': app_total,
        # What the role's and the database's CONNECTION LIMITs apply to: the facts name one app role
        # and database, the primary group's (or, without one, the additional groups').
        'role_connections': primary_total if primary and groups else app_total,
        'primary_enabled': primary,
        'groups': groups,
        'other_consumers': plan['other_consumers'],
        'headroom': headroom,
        'headroom_source': headroom_source,
        'peak_connections': app_total + plan['other_consumers'] + headroom,
    }


def _check(name, limit, others, needed, fail_on, description):
    available = limit - others
    if available > 0:
        utilisation = round(float(needed) / available, 4)
        fits = needed <= available * fail_on + 1e-9
    else:
        utilisation = None
        fits = needed <= 0
    return {
        'name': name,
        'limit': limit,
        'in_use_by_others': others,
        'available': available,
        'needed': needed,
        'utilisation': utilisation,
        'fits': fits,
        'description': description,
    }


def limit_checks(demand, facts, plan, fail_on):
    """One entry per limit that applies: server, role, database, PgBouncer clients."""
    checks = []
    server_limit = (facts['max_connections'] - facts['superuser_reserved_connections']
                    - facts['reserved_connections'])
    checks.append(_check(
        'server', server_limit, facts['connections_other'], demand['peak_connections'], fail_on,
        'max_connections %d - superuser_reserved %d - reserved %d - in use by other roles %d = %d usable; '
        'needs app %d + other consumers %d + headroom %d = %d'
        % (facts['max_connections'], facts['superuser_reserved_connections'], facts['reserved_connections'],
           facts['connections_other'], server_limit - facts['connections_other'], demand['app_connections'],
           demand['other_consumers'], demand['headroom'], demand['peak_connections'])))
    if facts['role_connection_limit'] is not None and not facts['role_is_superuser']:
        checks.append(_check(
            'role', facts['role_connection_limit'], 0, demand['role_connections'], fail_on,
            'role %s CONNECTION LIMIT %d usable; needs app %d (%s%s)'
            % (facts.get('role') or '(app role)', facts['role_connection_limit'], demand['role_connections'],
               'PgBouncer server connections' if plan['pgbouncer']['enabled'] else 'pods',
               ' + migration Job' if demand['direct_migration_connections'] else '')))
    if facts['database_connection_limit'] is not None:
        checks.append(_check(
            'database', facts['database_connection_limit'], facts['connections_other_in_database'],
            demand['role_connections'], fail_on,
            'database %s CONNECTION LIMIT %d - in use there by other roles %d = %d usable; needs app %d'
            % (facts.get('database') or '(app database)', facts['database_connection_limit'],
               facts['connections_other_in_database'],
               facts['database_connection_limit'] - facts['connections_other_in_database'],
               demand['role_connections'])))
    bouncer = plan['pgbouncer']
    if bouncer['enabled'] and demand['primary_enabled']:
        checks.append(_check(
            'pgbouncer_clients', bouncer['instances'] * bouncer['max_client_conn'], 0,
            demand['pgbouncer_client_connections'], fail_on,
            '%d PgBouncer instance(s) x max_client_conn %d = %d usable; needs %d pods x %d%s = %d client connections'
            % (bouncer['instances'], bouncer['max_client_conn'], bouncer['instances'] * bouncer['max_client_conn'],
               demand['pods_at_peak'], demand['connections_per_pod'],
               ' + 1 migration Job' if demand['migration_path'] == 'pgbouncer' else '',
               demand['pgbouncer_client_connections'])))
    return checks


def _binding(checks):
    """The check with the highest utilisation (an exhausted limit first)."""
    def key(check):
        if check['utilisation'] is None:
            return (1, check['needed'])
        return (0, check['utilisation'])
    return max(checks, key=key)


def _fits(plan, facts, fail_on):
    demand = peak_demand(plan)
    return all(check['fits'] for check in limit_checks(demand, facts, plan, fail_on))


def _largest(plan, facts, fail_on, group=None):
    best = 0
    for replicas in range(1, MAX_REPLICAS + 1):
        trial = dict(plan)
        if group is None:
            trial['replicas'] = replicas
            if trial.get('autoscaling_enabled'):
                trial['autoscaling_max_replicas'] = replicas
        else:
            groups = [dict(item) for item in plan['additional_pods']]
            groups[group]['replicas'] = replicas
            if groups[group]['autoscaling_enabled']:
                groups[group]['autoscaling_max_replicas'] = replicas
            trial['additional_pods'] = groups
        if not _fits(trial, facts, fail_on):
            break
        best = replicas
    return best


def largest_fitting_replicas(plan, facts, fail_on=DEFAULT_FAIL_ON):
    """The largest replica count (or HPA maximum) of the primary group (without one: of the first
    additional group) whose peak still fits every limit, the other groups unchanged; 0 if none.

    Demand grows monotonically with the replica count (surge and automatic headroom only grow),
    so the search stops at the first count that does not fit.
    """
    if plan.get('primary_enabled', True):
        return _largest(plan, facts, fail_on)
    return _largest(plan, facts, fail_on, 0)


def largest_fitting_per_group(plan, facts, fail_on=DEFAULT_FAIL_ON):
    """{group name: largest fitting replicas} for each additional group, the others unchanged."""
    return dict((group['name'], _largest(plan, facts, fail_on, index))
                for index, group in enumerate(plan.get('additional_pods') or []))


def _pgbouncer_findings(bouncer):
    """(verdict, reasons, advice) for the pooler's mode and version."""
    verdict, reasons, advice = 'ok', [], []
    if bouncer['pool_mode'] == 'statement':
        verdict = 'fail'
        reasons.append('PgBouncer statement mode forbids multi-statement transactions, which Statewave and its '
                       'migrations use')
        advice.append('use pool_mode = transaction')
        return verdict, reasons, advice
    if bouncer['pool_mode'] == 'session':
        verdict = 'warn'
        reasons.append('PgBouncer session mode gives every client its own server connection: no multiplexing')
        advice.append('use pool_mode = transaction so pods share the server connections')
        return verdict, reasons, advice
    version = bouncer['version_tuple']
    mps = bouncer['max_prepared_statements']
    if (version is not None and version[:2] < PGBOUNCER_MIN_VERSION) or mps == 0:
        verdict = 'fail'
        reasons.append('asyncpg prepared statements break under PgBouncer transaction mode unless PgBouncer >= 1.21 '
                       'has max_prepared_statements > 0 (version %s, max_prepared_statements %s)'
                       % (bouncer['version'] or 'unknown', 'unknown' if mps is None else mps))
        advice.append('upgrade PgBouncer to >= 1.21 and set max_prepared_statements (e.g. 200)')
    elif version is None or mps is None:
        verdict = 'warn'
        reasons.append('PgBouncer version or max_prepared_statements not given: asyncpg needs PgBouncer >= 1.21 '
                       'with max_prepared_statements > 0 in transaction mode')
        advice.append('set pgbouncer.version and pgbouncer.max_prepared_statements so this can be checked')
    return verdict, reasons, advice


_ORDER = {'ok': 0, 'warn': 1, 'fail': 2}


def _worse(a, b):
    return a if _ORDER[a] >= _ORDER[b] else b


def evaluate(plan, facts, fail_on=DEFAULT_FAIL_ON, pgbouncer_threshold=DEFAULT_PGBOUNCER_THRESHOLD):
    """Decide whether the planned deployment fits the server. Raises BudgetError on bad input.

    Returns a dict: verdict, required, usable, utilisation, binding_limit, peak_connections,
    largest_fitting_replicas, breakdown, limits, reasons, advice, planned (the description of a planned
    server, see planned_server_facts(), else None), msg.
    """
    fail_on = to_ratio(fail_on, 'fail_on')
    pgbouncer_threshold = to_ratio(pgbouncer_threshold, 'pgbouncer_threshold')
    plan = normalize_plan(plan)
    facts = normalize_facts(facts)
    demand = peak_demand(plan)
    checks = limit_checks(demand, facts, plan, fail_on)
    binding = _binding(checks)
    largest = largest_fitting_replicas(plan, facts, fail_on)
    per_group = largest_fitting_per_group(plan, facts, fail_on)
    bouncer = plan['pgbouncer']

    verdict, reasons, advice = 'ok', [], []
    failing = [check for check in checks if not check['fits']]
    for check in failing:
        verdict = 'fail'
        if check['utilisation'] is None:
            reasons.append('%s limit: nothing usable: %s' % (check['name'], check['description']))
        else:
            reasons.append('%s limit: needs %d of %d usable (%.0f%%, fail_on %.0f%%): %s'
                           % (check['name'], check['needed'], check['available'], check['utilisation'] * 100,
                              fail_on * 100, check['description']))
    if failing:
        if not plan['primary_enabled']:
            pass
        elif largest:
            advice.append('at most %d %s fit%s with these settings: lower %s, or raise the limit'
                          % (largest, 'replica' if largest == 1 else 'replicas',
                             ' (as HPA maximum)' if plan['autoscaling_enabled'] else '',
                             plan['replicas_variable'] or ('statewave_autoscaling_max_replicas' if plan['autoscaling_enabled']
                                                           else 'statewave_replicas')))
        else:
            advice.append('not even 1 replica fits with these settings')
        for group in plan['additional_pods']:
            fit = per_group[group['name']]
            advice.append('%s: at most %d %s fit%s with the other pods unchanged%s'
                          % (group['name'], fit, 'replica' if fit == 1 else 'replicas',
                             ' (as HPA maximum)' if group['autoscaling_enabled'] else '',
                             (': lower %s, or raise the limit' % group['replicas_variable']) if group['replicas_variable'] else ''))
        names = [check['name'] for check in failing]
        if 'server' in names and facts['planned']:
            advice.append('plan a larger max_connections for the new server, or lower headroom / other_consumers if '
                          'they are generous')
        elif 'server' in names:
            advice.append('raise max_connections (needs a PostgreSQL restart), free connections other roles hold, '
                          'or lower headroom / other_consumers if they are generous')
        if 'role' in names:
            advice.append('ALTER ROLE %s CONNECTION LIMIT <n> (or -1 for none) raises the role cap'
                          % (facts.get('role') or '<app role>'))
        if 'database' in names:
            advice.append('ALTER DATABASE %s CONNECTION LIMIT <n> (or -1 for none) raises the database cap'
                          % (facts.get('database') or '<app database>'))
        if 'pgbouncer_clients' in names:
            advice.append('raise PgBouncer max_client_conn or run more PgBouncer instances')
        if not bouncer['enabled']:
            advice.append(ASYNCPG_PGBOUNCER_ADVICE)

    if bouncer['enabled']:
        b_verdict, b_reasons, b_advice = _pgbouncer_findings(bouncer)
        verdict = _worse(verdict, b_verdict)
        reasons.extend(b_reasons)
        advice.extend(b_advice)
    elif demand['app_pool_connections'] >= pgbouncer_threshold * facts['max_connections']:
        verdict = _worse(verdict, 'warn')
        reasons.append('the pods alone may open %d connections, %.0f%% of max_connections %d (PgBouncer threshold %.0f%%)'
                       % (demand['app_pool_connections'],
                          100.0 * demand['app_pool_connections'] / facts['max_connections'],
                          facts['max_connections'], pgbouncer_threshold * 100))
        advice.append(ASYNCPG_PGBOUNCER_ADVICE)

    if facts['role_is_superuser']:
        advice.append('the app role is a superuser: its CONNECTION LIMIT is not enforced and it can take the reserved '
                      'slots; create the extension as superuser, then drop SUPERUSER from the app role')
    if plan['autoscaling_enabled']:
        advice.append('budgeted for the HPA maximum (%d) plus surge; autoscaling_min_replicas %d does not change the peak'
                      % (plan['autoscaling_max_replicas'], plan['autoscaling_min_replicas']))
    if demand['migration_path'] == 'pgbouncer':
        advice.append('run migrations with a direct DSN (statewave_migration_mode: job): through PgBouncer the one-'
                      'transaction migrations hold a pooled server connection for their whole run')
    advice.extend(facts['notes'])
    advice = _unique(advice)

    breakdown = dict(demand)
    breakdown['formula'] = _formula(demand, bouncer)
    breakdown['fail_on'] = fail_on
    breakdown['pgbouncer_threshold'] = pgbouncer_threshold

    result = {
        'verdict': verdict,
        'required': binding['needed'],
        'usable': binding['available'],
        'utilisation': binding['utilisation'],
        'binding_limit': binding['name'],
        'peak_connections': demand['peak_connections'],
        'largest_fitting_replicas': largest,
        'largest_fitting_per_group': per_group,
        'breakdown': breakdown,
        'limits': checks,
        'reasons': reasons,
        'advice': advice,
        'planned': facts['planned'],
    }
    result['msg'] = summary(result, plan)
    return result


def _unique(items):
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def _pods_text(pods, replicas, surge, per_pod):
    return '%d pods (%d %s + %d surge) x %d' % (pods, replicas, 'replica' if replicas == 1 else 'replicas', surge, per_pod)


def _formula(demand, bouncer):
    parts = []
    if demand['primary_enabled']:
        if bouncer['enabled']:
            app = '%d PgBouncer server connections (%d instance(s))' % (
                demand['pgbouncer_server_connections'], bouncer['instances'])
        else:
            app = _pods_text(demand['pods_at_peak'], demand['replicas'], demand['surge_pods'], demand['connections_per_pod'])
        parts.append(('statewave: ' + app) if demand['groups'] else app)
    for group in demand['groups']:
        parts.append('%s: %s' % (group['name'], _pods_text(group['pods_at_peak'], group['replicas'], group['surge_pods'],
                                                           group['connections_per_pod'])))
    if demand['migration_path'] == 'pgbouncer':
        migration = '0 migration Job (through PgBouncer)'
    elif demand['groups']:
        count = demand['direct_migration_connections']
        migration = '%d migration Job%s' % (count, '' if count == 1 else 's')
    else:
        migration = '%d migration Job' % demand['direct_migration_connections']
    return '%s + %s + %d other consumers + %d headroom (%s) = %d' % (
        ' + '.join(parts), migration, demand['other_consumers'], demand['headroom'],
        demand['headroom_source'], demand['peak_connections'])


def _scale_text(replicas, autoscaling, autoscaling_max):
    return ('HPA max %d' % autoscaling_max) if autoscaling else ('%d replica%s' % (replicas, '' if replicas == 1 else 's'))


def summary(result, plan):
    """One line an operator can act on."""
    scale = _scale_text(plan['replicas'], plan['autoscaling_enabled'], plan.get('autoscaling_max_replicas'))
    largest = '%d' % result['largest_fitting_replicas']
    if plan.get('additional_pods'):
        scales = (['statewave ' + scale] if plan['primary_enabled'] else []) + [
            '%s %s' % (group['name'], _scale_text(group['replicas'], group['autoscaling_enabled'],
                                                  group.get('autoscaling_max_replicas')))
            for group in plan['additional_pods']]
        scale = ', '.join(scales)
        fits = ((['statewave %d' % result['largest_fitting_replicas']] if plan['primary_enabled'] else [])
                + ['%s %d' % (name, count) for name, count in result['largest_fitting_per_group'].items()])
        largest = ', '.join(fits)
    utilisation = 'exhausted' if result['utilisation'] is None else '%.0f%%' % (result['utilisation'] * 100)
    return ('%s: the plan (%s) needs %d connections at peak (%s); binding limit %s: %d of %d usable (%s)%s; '
            'largest replica count that fits: %s' % (
                result['verdict'].upper(), scale, result['peak_connections'], result['breakdown']['formula'],
                result['binding_limit'], result['required'], result['usable'], utilisation,
                ' on the planned server' if result.get('planned') else '',
                largest))


def argument_spec():
    """The module's arguments, shared by the module (plugins/modules/connection_budget.py) and the
    action plugin of the same name that runs the same decision on the controller. A new dict each
    call: validation fills the dict defaults in place."""
    return dict(
        facts=dict(type='dict'),
        planned_server=dict(
            type='dict',
            options=dict(
                max_connections=dict(type='int'),
                parameters=dict(type='dict', default={}),
                postgres_major=dict(type='int'),
                description=dict(type='str', default='planned server'),
            ),
        ),
        replicas=dict(type='int', default=1),
        autoscaling_enabled=dict(type='bool', default=False),
        autoscaling_min_replicas=dict(type='int', default=1),
        autoscaling_max_replicas=dict(type='int', default=5),
        max_surge=dict(type='raw', default=DEFAULT_MAX_SURGE),
        distributed_rate_limiter=dict(type='bool', default=False),
        migration_job=dict(type='bool', default=True),
        migration_through_pgbouncer=dict(type='bool', default=False),
        other_consumers=dict(type='int', default=0),
        headroom=dict(type='int'),
        fail_on=dict(type='float', default=DEFAULT_FAIL_ON),
        pgbouncer_threshold=dict(type='float', default=DEFAULT_PGBOUNCER_THRESHOLD),
        primary_enabled=dict(type='bool', default=True),
        connections_per_pod=dict(type='int'),
        replicas_variable=dict(type='str'),
        additional_pods=dict(type='list', elements='dict', default=[]),
        pgbouncer=dict(
            type='dict',
            default={},
            options=dict(
                enabled=dict(type='bool', default=False),
                pool_mode=dict(type='str', default='transaction', choices=list(PGBOUNCER_POOL_MODES)),
                default_pool_size=dict(type='int', default=20),
                reserve_pool_size=dict(type='int', default=0),
                max_client_conn=dict(type='int', default=100),
                max_db_connections=dict(type='int', default=0),
                max_user_connections=dict(type='int', default=0),
                instances=dict(type='int', default=1),
                version=dict(type='str'),
                max_prepared_statements=dict(type='int'),
            ),
        ),
    )


MODULE_CONSTRAINTS = dict(mutually_exclusive=[('facts', 'planned_server')],
                          required_one_of=[('facts', 'planned_server')])


def run(params):
    """The module's result (without ``changed``) for validated ``params``. Raises BudgetError on bad input."""
    plan = dict((key, params[key]) for key in INPUT_KEYS)
    facts = params['facts'] if params['facts'] is not None else planned_server_facts(params['planned_server'])
    return evaluate(plan, facts, fail_on=params['fail_on'], pgbouncer_threshold=params['pgbouncer_threshold'])
