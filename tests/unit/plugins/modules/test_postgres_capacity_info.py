# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""statewave.kubernetes.postgres_capacity_info with a fake psycopg connection (no server, no network).

The real server is exercised in tests/integration/test_budget_modules.py.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

from pathlib import Path

import pytest


import psycopg  # noqa: E402
import yaml  # noqa: E402
from ansible.module_utils import basic  # noqa: E402

from ansible_collections.statewave.kubernetes.plugins.module_utils import postgres_capacity as pc  # noqa: E402
from ansible_collections.statewave.kubernetes.plugins.modules import postgres_capacity_info as module  # noqa: E402
from ansible_collections.statewave.kubernetes.tests.unit.plugins.modules.module_exit import patch_exits, run_module  # noqa: E402

SECRET = 'S3cr3t-do-not-print'


class FakeCursor(object):
    def __init__(self, rows):
        self.rows = rows

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return self.rows


class FakeConnection(object):
    """Answers the module's queries from a dict of canned rows."""

    def __init__(self, server, dbname):
        self.server = server
        self.dbname = dbname
        self.closed = False
        self.queries = []

    def execute(self, sql, args=None):
        self.queries.append((sql, args))
        s = self.server
        if sql == pc.SETTINGS_SQL:
            return FakeCursor([(s['num'], s['max'], s['su'], s['reserved'], self.dbname, s['user'], True)])
        if sql == pc.ROLE_SQL:
            role = s['roles'].get(args['role'])
            return FakeCursor([role] if role else [])
        if sql == pc.DATABASE_SQL:
            db = s['databases'].get(args['db'])
            return FakeCursor([db] if db else [])
        if sql == pc.LOGIN_RIGHTS_SQL:
            return FakeCursor([s['login_rights']])
        if sql == pc.ACTIVITY_SQL:
            return FakeCursor([s['activity']])
        if sql == pc.PGVECTOR_SQL:
            if not s['vector']:
                return FakeCursor([])
            return FakeCursor([(s['vector'], s['installed'].get(self.dbname))])
        if sql == pc.PGVECTOR_VERSIONS_SQL:
            return FakeCursor([(v,) for v in s['vector_versions']])
        raise AssertionError('unexpected SQL: %s' % sql)

    def close(self):
        self.closed = True


def server(**overrides):
    base = {
        'num': 160002, 'max': 100, 'su': 3, 'reserved': '2', 'user': 'swk_admin',
        'roles': {'statewave': (40, False, True)},
        'databases': {'statewave': (60, True, 'statewave'), 'postgres': (-1, True, 'swk_admin')},
        'login_rights': (True, False, ['pg_monitor']),
        'activity': (7, 4, 3, 1, 0),
        'vector': '0.6.2', 'vector_versions': ['0.6.2', '0.5.1', '0.10.0'],
        'installed': {'statewave': '0.6.2'},
    }
    base.update(overrides)
    return base


@pytest.fixture
def fake(monkeypatch):
    state = {'server': server(), 'connects': []}

    def connect(**kwargs):
        state['connects'].append(kwargs)
        if state.get('refuse'):
            raise psycopg.OperationalError('connection refused (password authentication failed for user "x")')
        return FakeConnection(state['server'], kwargs['dbname'])

    monkeypatch.setattr(pc.psycopg, 'connect', connect)
    return state


@pytest.fixture(autouse=True)
def capture_exit(monkeypatch):
    patch_exits(monkeypatch)
    for var in ('PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGSSLMODE', 'PGSSLROOTCERT'):
        monkeypatch.delenv(var, raising=False)


def run(args):
    return run_module(module, args)


LOGIN = {'login_host': '127.0.0.1', 'login_port': 55432, 'login_user': 'swk_admin', 'login_password': SECRET}


def test_facts_are_mapped(fake):
    out = run(dict(LOGIN, app_role='statewave', app_database='statewave'))
    assert not out.failed, out.result
    r = out.result
    assert r['changed'] is False
    assert r['server_version'] == '16.2' and r['server_version_num'] == 160002
    assert (r['max_connections'], r['superuser_reserved_connections'], r['reserved_connections']) == (100, 3, 2)
    assert r['role_exists'] is True and r['role_connection_limit'] == 40 and r['role_is_superuser'] is False
    assert r['database_exists'] is True and r['database_connection_limit'] == 60
    assert r['database_owner'] == 'statewave' and r['role_can_login'] is True
    # the login's rights (what the pgvector role's requirement checks read)
    assert (r['login_can_create_role'], r['login_can_create_db'], r['login_member_of']) == (True, False, ['pg_monitor'])
    assert (r['connections_total'], r['connections_app_role'], r['connections_other'],
            r['connections_other_in_database']) == (7, 4, 3, 1)
    assert r['pgvector_available'] is True
    assert r['pgvector_default_version'] == '0.6.2'
    assert r['pgvector_available_versions'] == ['0.5.1', '0.6.2', '0.10.0']  # version order, not text order
    # installed_version is per database: read from a second connection to the app database
    assert r['pgvector_installed_version'] == '0.6.2'
    assert [c['dbname'] for c in fake['connects']] == ['postgres', 'statewave']


def test_connection_parameters(fake):
    run(dict(LOGIN, ssl_mode='require', ca_cert='/ca.pem', ssl_cert='/c.pem', ssl_key='/k.pem',
             connect_params={'target_session_attrs': 'read-write'}, login_db='admin'))
    kwargs = fake['connects'][0]
    assert kwargs['host'] == '127.0.0.1' and kwargs['port'] == 55432
    assert kwargs['user'] == 'swk_admin' and kwargs['password'] == SECRET
    assert kwargs['dbname'] == 'admin'
    assert kwargs['sslmode'] == 'require' and kwargs['sslrootcert'] == '/ca.pem'
    assert kwargs['sslcert'] == '/c.pem' and kwargs['sslkey'] == '/k.pem'
    assert kwargs['target_session_attrs'] == 'read-write'
    assert kwargs['application_name'] == pc.APPLICATION_NAME


def test_pg_environment_fallbacks(fake, monkeypatch):
    monkeypatch.setenv('PGHOST', '10.1.2.3')
    monkeypatch.setenv('PGPORT', '6543')
    monkeypatch.setenv('PGUSER', 'envuser')
    monkeypatch.setenv('PGPASSWORD', SECRET)
    monkeypatch.setenv('PGDATABASE', 'envdb')
    out = run({'app_role': 'statewave'})
    assert not out.failed
    kwargs = fake['connects'][0]
    assert (kwargs['host'], kwargs['port'], kwargs['user'], kwargs['password'], kwargs['dbname']) == \
        ('10.1.2.3', 6543, 'envuser', SECRET, 'envdb')
    # the password that came from the environment is registered for masking like an option value
    assert SECRET in out.no_log_values
    assert SECRET not in repr(out.result)


def test_defaults_without_options(fake):
    run({})
    kwargs = fake['connects'][0]
    assert kwargs['user'] == 'postgres' and kwargs['port'] == 5432 and kwargs['dbname'] == 'postgres'
    assert kwargs['sslmode'] == 'prefer'
    assert 'host' not in kwargs and 'password' not in kwargs  # left to libpq


def test_db_alias_and_unix_socket(fake):
    run({'db': 'other', 'login_unix_socket': '/run/postgresql'})
    kwargs = fake['connects'][0]
    assert kwargs['dbname'] == 'other' and kwargs['host'] == '/run/postgresql'


def test_community_postgresql_aliases(fake):
    # login, host, port and unix_socket: the aliases community.postgresql's login options accept
    out = run({'login': 'swk_admin', 'host': '10.0.0.5', 'port': 6543, 'login_password': SECRET})
    assert not out.failed, out.result
    kwargs = fake['connects'][0]
    assert (kwargs['user'], kwargs['host'], kwargs['port']) == ('swk_admin', '10.0.0.5', 6543)
    run({'unix_socket': '/var/run/postgresql'})
    assert fake['connects'][1]['host'] == '/var/run/postgresql'


def test_aliases_match_community_postgresql():
    try:
        from ansible_collections.community.postgresql.plugins.module_utils.postgres import postgres_common_argument_spec
    except ImportError:
        pytest.skip('community.postgresql is not installed')
    theirs = postgres_common_argument_spec()
    ours = pc.login_argument_spec()
    for name, spec in theirs.items():
        assert name in ours, name
        assert set(spec.get('aliases', [])) <= set(ours[name].get('aliases', [])), name


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning: seen.append(warning))
    return seen


def test_hidden_sessions_are_counted_and_warned_about(fake, warnings):
    # total 9, of which 2 are the app role's and 7 others', 3 of them hidden from the login user
    fake['server'] = server(activity=(9, 2, 7, 4, 3))
    r = run(dict(LOGIN, app_role='statewave', app_database='statewave')).result
    assert (r['connections_other'], r['connections_other_in_database'], r['connections_hidden']) == (7, 4, 3)
    assert len(warnings) == 1
    assert 'may not see the type of 3 session(s)' in warnings[0] and 'pg_monitor' in warnings[0]


def test_no_warning_when_every_session_is_visible(fake, warnings):
    r = run(dict(LOGIN, app_role='statewave')).result
    assert r['connections_hidden'] == 0
    assert warnings == []


def test_activity_query_counts_hidden_client_rows_but_not_background_processes():
    sql = pc.ACTIVITY_SQL
    assert "backend_type = 'client backend'" in sql
    assert 'backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL' in sql


def test_missing_role_and_database(fake):
    out = run(dict(LOGIN, app_role='nobody', app_database='nodb'))
    r = out.result
    assert r['role_exists'] is False and r['role_connection_limit'] is None
    assert r['database_exists'] is False and r['database_connection_limit'] is None
    assert r['database_owner'] is None
    assert r['pgvector_installed_version'] is None
    assert len(fake['connects']) == 1  # no second connection to a database that does not exist


def test_pg15_has_no_reserved_connections_and_no_pgvector(fake):
    fake['server'] = server(num=150018, reserved=None, vector=None, vector_versions=[], installed={})
    r = run(dict(LOGIN, app_role='statewave')).result
    assert r['server_version'] == '15.18'
    assert r['reserved_connections'] is None
    assert r['pgvector_available'] is False and r['pgvector_default_version'] is None
    assert r['pgvector_available_versions'] == []


def test_without_app_role_everyone_else_is_other(fake):
    r = run(dict(LOGIN)).result
    assert r['role'] is None and r['role_exists'] is None and r['connections_app_role'] is None
    assert r['database'] == 'postgres'


def test_connection_failure_is_clear_and_never_shows_the_password(fake):
    fake['refuse'] = True
    out = run(dict(LOGIN, app_role='statewave'))
    assert out.failed
    assert 'could not connect to PostgreSQL at 127.0.0.1:55432/postgres as swk_admin' in out.result['msg']
    assert 'password authentication failed' in out.result['msg']
    assert SECRET not in repr(out.result)
    assert SECRET in out.no_log_values


def test_missing_psycopg_reports_the_library(fake, monkeypatch):
    monkeypatch.setattr(module, 'HAS_PSYCOPG', False)
    out = run(dict(LOGIN))
    assert out.failed
    assert 'psycopg' in out.result['msg']
    assert 'Failed to import the required Python library' in out.result['msg']


def test_connect_timeout_must_be_positive(fake):
    out = run(dict(LOGIN, connect_timeout=0))
    assert out.failed and 'connect_timeout' in out.result['msg']
    assert not fake['connects']


def test_check_mode(fake):
    out = run(dict(LOGIN, app_role='statewave', _ansible_check_mode=True))
    assert not out.failed and out.result['changed'] is False
    assert out.result['max_connections'] == 100


def test_every_query_is_read_only():
    for sql in (pc.SETTINGS_SQL, pc.ROLE_SQL, pc.DATABASE_SQL, pc.LOGIN_RIGHTS_SQL, pc.ACTIVITY_SQL, pc.PGVECTOR_SQL,
                pc.PGVECTOR_VERSIONS_SQL):
        assert sql.lstrip().upper().startswith('SELECT')


def test_documentation_lists_every_option_and_return_value(fake):
    doc = yaml.safe_load(module.DOCUMENTATION)
    spec = pc.login_argument_spec()
    fragment_src = (Path(__file__).resolve().parents[4] / 'plugins' / 'doc_fragments' / 'postgres_login.py').read_text()
    fragment = yaml.safe_load(fragment_src.split("r'''", 1)[1].split("'''", 1)[0])
    documented = dict(fragment['options'])
    documented.update(doc['options'])
    assert set(spec) | {'app_role', 'app_database'} == set(documented)
    for name, opt in spec.items():
        assert documented[name]['type'] == opt.get('type', 'str'), name
        assert documented[name].get('default') == opt.get('default'), name
        assert sorted(documented[name].get('aliases', [])) == sorted(opt.get('aliases', [])), name
    assert spec['login_password']['no_log'] is True
    returned = yaml.safe_load(module.RETURN)
    result = run(dict(LOGIN, app_role='statewave', app_database='statewave')).result
    assert set(result) - {'changed', 'warnings'} == set(returned)


def test_format_version():
    assert pc.format_version(160002) == '16.2'
    assert pc.format_version(170000) == '17.0'
    assert pc.format_version(90624) == '9.6.24'
