# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for plugins/module_utils/pgvector_requirements.py (managed mode's requirement checks)
and the pgvector_requirements filter around it."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.statewave.kubernetes.plugins.filter.pgvector_requirements import pgvector_requirements
from ansible_collections.statewave.kubernetes.plugins.module_utils import pgvector_requirements as pr

ROOT = Path(__file__).resolve().parents[4]
FLOORS = {'min_server_major': 15, 'recommended_server_major': 16, 'min_extension_version': '0.5.0'}
CTX = {'host': 'db.example', 'port': 5432, 'admin_user': 'sw_admin', 'app_database': 'statewave'}
SUPER = {'rolsuper': True, 'rolcreaterole': True, 'rolcreatedb': True, 'member_of': []}
REFUSED = ('permission denied to create extension "vector"\nHINT:  Must have CREATE privilege on current database '
           'to create this extension.\nCONTEXT:  SQL statement "CREATE EXTENSION vector"')
AZURE_REFUSED = 'extension "vector" is not allow-listed for users in Azure Database for PostgreSQL'


def server(num=160002, available=True, default='0.6.2', versions=None, installed=None):
    return {
        'server_version': '%d.%d' % (num // 10000, num % 10000), 'server_version_num': num,
        'pgvector_available': available, 'pgvector_default_version': default if available else None,
        'pgvector_available_versions': versions if versions is not None else ([default] if available else []),
        'pgvector_installed_version': installed,
    }


def problems(srv, **kw):
    kw.setdefault('context', CTX)
    return pr.requirement_problems(srv, FLOORS, **kw)


def checks(found):
    return [p['check'] for p in found]


# --------------------------------------------------------------------------------------------
# server and extension
# --------------------------------------------------------------------------------------------
def test_a_current_server_with_pgvector_and_a_superuser_passes():
    assert problems(server(), rights=SUPER) == []
    assert problems(server(num=150018, default='0.5.0', installed='0.5.0'), rights=SUPER) == []


@pytest.mark.parametrize('num', [140001, 130016, 149999])
def test_server_too_old_is_the_only_problem(num):
    # Also no pgvector and a weak admin: a new server is needed first, the rest is judged there.
    found = problems(server(num=num, available=False), rights={'rolsuper': False}, probe_error=REFUSED)
    assert checks(found) == ['server_too_old']
    p = found[0]
    assert p['variable'] == 'pgvector_admin_host'
    assert p['message'].startswith('PostgreSQL %d.%d at db.example:5432 is too old (server too old): '
                                   % (num // 10000, num % 10000))
    assert "need PostgreSQL >= 15 (16 recommended). Nothing was changed." in p['message']
    assert 'point pgvector_admin_host at a newer one' in p['fix']


def test_the_floor_itself_is_accepted():
    assert problems(server(num=150000), rights=SUPER) == []


def test_extension_not_available_names_the_package_for_the_major():
    found = problems(server(num=150018, available=False), rights=SUPER)
    assert checks(found) == ['extension_not_available']
    msg = found[0]['message']
    assert msg.startswith("pgvector extension not available on PostgreSQL 15.18 at db.example:5432: 'vector' is not in "
                          "pg_available_extensions. Nothing was changed. Install pgvector >= 0.5.0")
    assert 'postgresql-15-pgvector' in msg
    assert msg.endswith(pr.PROVIDER_HINTS['generic'])


def test_an_offered_pgvector_below_0_5_is_too_old():
    found = problems(server(default='0.4.4', versions=['0.4.1', '0.4.4']), rights=SUPER)
    assert checks(found) == ['extension_offered_too_old']
    msg = found[0]['message']
    assert msg.startswith('pgvector too old: PostgreSQL 16.2 at db.example offers vector 0.4.4 (installable: 0.4.1, 0.4.4)')
    assert 'which need pgvector >= 0.5.0. Nothing was changed.' in msg
    assert found[0]['variable'] == 'pgvector_admin_host'


def test_an_installed_pgvector_below_0_5_needs_alter_extension_update():
    found = problems(server(installed='0.4.4'), rights=SUPER)
    assert checks(found) == ['extension_installed_too_old']
    assert found[0]['message'] == (
        'pgvector too old: database statewave has vector 0.4.4 installed, below 0.5.0 (HNSW). Nothing was changed. '
        'Run ALTER EXTENSION vector UPDATE in that database as the admin (the server offers 0.6.2), then run this again.')
    assert found[0]['variable'] == 'pgvector_app_database'


def test_offered_and_installed_both_too_old_give_both_problems():
    found = problems(server(default='0.4.4', installed='0.4.0'), rights=SUPER)
    assert checks(found) == ['extension_offered_too_old', 'extension_installed_too_old']


@pytest.mark.parametrize('version, ok', [
    ('0.5.0', True), ('0.5', True), ('0.5.1', True), ('0.10.0', True), ('0.8.0-dev', True), ('1.0', True),
    ('0.4.4', False), ('0.4.99', False), ('', False), ('unknown', False), (None, False),
])
def test_version_comparison_is_numeric(version, ok):
    assert pr.version_at_least(version, '0.5.0') is ok


def test_an_unparsable_floor_is_a_caller_bug():
    with pytest.raises(pr.PgvectorRequirementsError):
        pr.version_at_least('0.6.2', 'x')


def test_a_server_that_did_not_answer_is_a_caller_bug():
    with pytest.raises(pr.PgvectorRequirementsError):
        problems({'msg': 'connection refused'})
    with pytest.raises(pr.PgvectorRequirementsError):
        problems(['not', 'a', 'dict'])


# --------------------------------------------------------------------------------------------
# the admin's rights and the probe
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize('rights, has', [
    ({'rolsuper': False, 'rolcreaterole': False, 'rolcreatedb': False}, 'has no CREATEROLE and no CREATEDB'),
    ({'rolsuper': False, 'rolcreaterole': True, 'rolcreatedb': False}, 'has CREATEROLE and no CREATEDB'),
    ({'rolsuper': False, 'rolcreaterole': False, 'rolcreatedb': True}, 'has no CREATEROLE and CREATEDB'),
])
def test_an_admin_without_createrole_and_createdb(rights, has):
    found = problems(server(), rights=dict(rights, member_of=['pg_read_all_data', 'rds_superuser']), provider='rds')
    assert checks(found) == ['admin_lacks_createrole_createdb']
    msg = found[0]['message']
    assert msg.startswith("Admin role sw_admin lacks the privilege to provision Statewave's database: it is not a "
                          "superuser and %s (member of: pg_read_all_data, rds_superuser). Nothing was changed." % has)
    assert found[0]['variable'] == 'pgvector_admin_user'
    assert msg.endswith(pr.PROVIDER_HINTS['rds'])


def test_an_admin_that_is_member_of_nothing_says_so():
    found = problems(server(), rights={'rolsuper': False, 'rolcreaterole': False, 'rolcreatedb': False, 'member_of': []})
    assert '(member of: nothing)' in found[0]['message']


def test_createrole_and_createdb_without_superuser_are_enough_for_role_and_database():
    assert problems(server(), rights={'rolsuper': False, 'rolcreaterole': True, 'rolcreatedb': True}) == []


@pytest.mark.parametrize('error, quoted', [
    (REFUSED, 'permission denied to create extension "vector"'),
    ('ERROR: must be superuser to create this extension', 'must be superuser to create this extension'),
    (AZURE_REFUSED, 'extension "vector" is not allow-listed for users in Azure Database for PostgreSQL'),
    ('only superusers may create untrusted extensions', 'only superusers may create untrusted extensions'),
])
def test_a_refused_probe_quotes_the_server(error, quoted):
    found = problems(server(), rights={'rolsuper': False, 'rolcreaterole': True, 'rolcreatedb': True},
                     probe_error=error, provider='azure')
    assert checks(found) == ['admin_may_not_create_extension']
    assert found[0]['message'].startswith(
        'Admin role sw_admin lacks the privilege to create the vector extension (pgvector is not a trusted extension): '
        '%s. Nothing was changed.' % quoted)
    assert '\n' not in found[0]['message']
    assert found[0]['message'].endswith(pr.PROVIDER_HINTS['azure'])


@pytest.mark.parametrize('error', [
    None, '', 'statewave-pgvector-probe: allowed, rolled back',
    'could not open extension control file "/usr/share/postgresql/15/extension/vector.control"',
])
def test_a_probe_that_was_allowed_or_not_run_is_no_problem(error):
    assert problems(server(), rights={'rolsuper': False, 'rolcreaterole': True, 'rolcreatedb': True},
                    probe_error=error) == []


def test_rights_and_probe_problems_come_together_with_an_extension_problem():
    found = problems(server(default='0.4.4'), rights={'rolsuper': False, 'rolcreaterole': False, 'rolcreatedb': True},
                     probe_error=REFUSED)
    assert checks(found) == ['extension_offered_too_old', 'admin_lacks_createrole_createdb',
                             'admin_may_not_create_extension']


# --------------------------------------------------------------------------------------------
# after CREATE EXTENSION
# --------------------------------------------------------------------------------------------
def test_after_create_a_current_extension_passes():
    assert problems(server(installed='0.6.2'), after_create=True) == []


def test_after_create_a_failed_create_extension_ends_with_the_hint():
    found = problems(server(), after_create=True, extension_error='x' * 1000, provider='cloudsql')
    assert checks(found) == ['create_extension_failed']
    msg = found[0]['message']
    assert msg.startswith('CREATE EXTENSION vector in statewave failed as sw_admin: ' + 'x' * 400 + '. The admin role')
    assert 'x' * 401 not in msg
    assert msg.endswith(pr.PROVIDER_HINTS['cloudsql'])


@pytest.mark.parametrize('installed, shown', [(None, 'not installed'), ('0.4.4', '0.4.4')])
def test_after_create_a_missing_or_old_extension(installed, shown):
    found = problems(server(installed=installed), after_create=True)
    assert checks(found) == ['extension_installed_too_old']
    assert found[0]['message'] == ('pgvector too old: statewave has vector %s, below 0.5.0 (HNSW indexes). '
                                   'Run ALTER EXTENSION vector UPDATE as the admin.' % shown)


# --------------------------------------------------------------------------------------------
# provider hints
# --------------------------------------------------------------------------------------------
HINT_MARKERS = {
    'generic': 'pgvector is not a trusted extension, so a plain owner cannot create it',
    'rds': 'a member of rds_superuser',
    'aurora': 'Amazon Aurora PostgreSQL: log in as the master user (a member of rds_superuser)',
    'cloudsql': 'a user with the cloudsqlsuperuser role',
    'azure': 'add VECTOR to the azure.extensions server parameter',
    'neon': 'a member of neon_superuser',
    'supabase': 'not the transaction pooler on port 6543',
}


@pytest.mark.parametrize('provider', sorted(HINT_MARKERS))
def test_every_provider_gets_its_own_hint_in_every_privilege_and_extension_message(provider):
    weak = {'rolsuper': False, 'rolcreaterole': False, 'rolcreatedb': False}
    found = (problems(server(), rights=weak, provider=provider)
             + problems(server(), rights={'rolsuper': False, 'rolcreaterole': True, 'rolcreatedb': True},
                        probe_error=REFUSED, provider=provider)
             + problems(server(available=False), rights=SUPER, provider=provider)
             + problems(server(default='0.4.4'), rights=SUPER, provider=provider)
             + problems(server(), after_create=True, extension_error='refused', provider=provider))
    assert checks(found) == ['admin_lacks_createrole_createdb', 'admin_may_not_create_extension',
                             'extension_not_available', 'extension_offered_too_old', 'create_extension_failed']
    for p in found:
        assert HINT_MARKERS[provider] in p['message'], p
        for other, marker in HINT_MARKERS.items():
            if other != provider and marker not in pr.PROVIDER_HINTS[provider]:
                assert marker not in p['message'], (provider, other)


def test_an_unknown_provider_falls_back_to_the_generic_hint():
    assert pr.provider_hint('on-prem') == pr.provider_hint(None) == pr.PROVIDER_HINTS['generic']


def test_the_hints_cover_exactly_the_providers_the_role_accepts():
    spec = yaml.safe_load((ROOT / 'roles' / 'pgvector' / 'meta' / 'argument_specs.yml').read_text())
    choices = spec['argument_specs']['main']['options']['pgvector_provider']['choices']
    assert sorted(choices) == sorted(pr.PROVIDER_HINTS)


# --------------------------------------------------------------------------------------------
# the filter
# --------------------------------------------------------------------------------------------
def test_the_filter_passes_everything_through():
    found = pgvector_requirements(server(installed='0.4.4'), FLOORS, provider='neon',
                                  rights={'rolsuper': False, 'rolcreaterole': True, 'rolcreatedb': True},
                                  probe_error=REFUSED, context=CTX)
    assert checks(found) == ['extension_installed_too_old', 'admin_may_not_create_extension']
    assert found[1]['message'].endswith(pr.PROVIDER_HINTS['neon'])


def test_the_filter_treats_empty_strings_from_jinja_as_not_given():
    assert pgvector_requirements(server(), FLOORS, rights={}, probe_error='', extension_error='', context=CTX) == []
    found = pgvector_requirements(server(installed='0.6.2'), FLOORS, after_create=True, extension_error='', context=CTX)
    assert found == []


def test_the_filter_turns_bad_input_into_a_filter_error():
    with pytest.raises(AnsibleFilterError, match='floors must be a dict'):
        pgvector_requirements(server(), None)
    with pytest.raises(AnsibleFilterError, match='server_version_num missing'):
        pgvector_requirements({}, FLOORS)
    with pytest.raises(AnsibleFilterError, match='pgvector_requirements'):
        pgvector_requirements(server(), {'min_server_major': 15})
