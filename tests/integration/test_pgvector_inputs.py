# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/pgvector: each bad input stops the play with one clear error that names the variable,
before anything is changed (meta/argument_specs.yml for types and choices, tasks/validate.yml for
meaning). No cluster or database is needed: nothing gets that far.
"""

from __future__ import annotations

import re
import sys

import pytest

RECAP = re.compile(r'^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)

MANAGED = {
    'pgvector_mode': 'managed',
    'pgvector_namespace': 'swk-pgv-inputs',
    'pgvector_admin_host': '127.0.0.1',
    'pgvector_admin_port': 1,
    'pgvector_admin_user': 'admin',
    'pgvector_admin_password': 'Inputs-Secret-0123456789',
}


@pytest.fixture
def run_role(run_playbook, tmp_path):
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)

    def run(role_vars):
        proc = run_playbook('pgvector_role.yml', extra_vars=role_vars, inventory=inventory,
                            env={'ANSIBLE_CALLBACK_RESULT_FORMAT': 'json'})
        m = RECAP.search(proc.stdout)
        assert m, proc.stdout[-3000:]
        ok, changed, unreachable, failed = map(int, m.groups())
        assert proc.returncode != 0, proc.stdout[-3000:]
        # exactly one failure, nothing changed, no task after the validation ran
        assert (failed, changed) == (1, 0), proc.stdout[-3000:]
        assert proc.stdout.count('[ERROR]') == 1, proc.stdout[-3000:]
        for tasks in ('managed.yml', 'cnpg.yml', 'standalone.yml', 'secret.yml'):
            assert '/tasks/%s for localhost' % tasks not in proc.stdout
        return proc.stdout[proc.stdout.index('[ERROR]'):]

    return run


@pytest.mark.parametrize('role_vars, expected', [
    pytest.param(dict(MANAGED, pgvector_mode='rds'),
                 ['pgvector_mode', 'managed, cnpg, standalone', 'got: rds'], id='unknown-mode'),
    pytest.param(dict(MANAGED, pgvector_mode='standalone', pgvector_postgres_version=14),
                 ['pgvector_postgres_version=14 is below 15', 'NULLS NOT DISTINCT'], id='postgres-14'),
    pytest.param(dict(MANAGED, pgvector_mode='cnpg', pgvector_postgres_version=13),
                 ['pgvector_postgres_version=13 is below 15'], id='postgres-13-cnpg'),
    pytest.param(dict(MANAGED, pgvector_dsn_scheme='postgresql'),
                 ['pgvector_dsn_scheme=postgresql is not accepted', 'postgresql+asyncpg://'], id='psycopg-style-dsn'),
    pytest.param(dict(MANAGED, pgvector_dsn_scheme='postgresql+psycopg'),
                 ['pgvector_dsn_scheme=postgresql+psycopg is not accepted'], id='psycopg-driver'),
    pytest.param(dict(MANAGED, pgvector_dsn_query={'sslmode': 'require'}),
                 ['pgvector_dsn_query=', 'libpq-only parameters sslmode', 'use ssl: require'], id='libpq-sslmode'),
    pytest.param(dict(MANAGED, pgvector_dsn_query='ssl=true'),
                 ['pgvector_dsn_query=ssl=true does not work with asyncpg: ssl must be one of disable, allow, prefer, require'],
                 id='asyncpg-ssl-value'),
    pytest.param(dict(MANAGED, pgvector_admin_password=''),
                 ['pgvector_mode=managed needs an admin login, but pgvector_admin_password is empty'],
                 id='missing-admin-password'),
    pytest.param(dict(MANAGED, pgvector_admin_host='', pgvector_admin_user=''),
                 ['but pgvector_admin_host, pgvector_admin_user are empty',
                  'Set pgvector_admin_host and pgvector_admin_user'], id='missing-admin-host-and-user'),
    pytest.param(dict(MANAGED, pgvector_cnpg_instances='three'),
                 ['pgvector_cnpg_instances', "'str'", 'int'], id='type-error'),
    pytest.param(dict(MANAGED, pgvector_mode='cnpg', pgvector_cnpg_dsn_target='pooler'),
                 ['pgvector_cnpg_dsn_target=pooler needs pgvector_cnpg_pooler_enabled=true'], id='pooler-target-without-pooler'),
    pytest.param(dict(MANAGED, pgvector_mode='cnpg', pgvector_cnpg_pooler_enabled=True,
                      pgvector_cnpg_pooler_image='ghcr.io/cloudnative-pg/pgbouncer:1.20.1'),
                 ['pgvector_cnpg_pooler_image must be PgBouncer >= 1.21.0 (is 1.20.1)'], id='old-pgbouncer'),
    pytest.param(dict(MANAGED, pgvector_mode='cnpg', pgvector_cnpg_install_operator=True,
                      pgvector_cnpg_operator_chart_version=''),
                 ['pgvector_cnpg_install_operator is true but pgvector_cnpg_operator_chart_version is empty',
                  'from https://cloudnative-pg.github.io/charts'], id='operator-chart-unpinned'),
    pytest.param(dict(MANAGED, pgvector_mode='cnpg', pgvector_cnpg_pooler_enabled=True,
                      pgvector_cnpg_pooler_max_prepared_statements=0),
                 ['The Pooler settings do not work for the app: pgvector_cnpg_pooler_max_prepared_statements=0 must be > 0 '
                  'in transaction mode', '__asyncpg_stmt_N__'], id='pooler-no-prepared-statements'),
    pytest.param(dict(MANAGED, pgvector_mode='cnpg', pgvector_cnpg_image_name='ghcr.io/cloudnative-pg/postgresql:14.18'),
                 ['pgvector_cnpg_image_name=ghcr.io/cloudnative-pg/postgresql:14.18 must have a tag', 'at least 15'],
                 id='cnpg-image-14'),
])
def test_bad_input_gives_one_clear_error(run_role, role_vars, expected):
    error = run_role(role_vars)
    for text in expected:
        assert text in error, error[:2000]
    first_line = error.splitlines()[0]
    if 'The Pooler settings do not work' in first_line:
        # only the rule that is broken is named, not every Pooler rule
        assert '; ' not in first_line and 'must differ' not in first_line, first_line
    # the admin password is never part of an error
    assert MANAGED['pgvector_admin_password'] not in error
