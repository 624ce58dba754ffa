# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read the facts a connection budget needs from a PostgreSQL server (psycopg 3).

Login options follow community.postgresql's names and aliases (login_host/host, login_port/port,
login_user/login, login_password, login_unix_socket/unix_socket, login_db/db, ssl_mode,
ca_cert/ssl_rootcert, ssl_cert, ssl_key, connect_params) and fall back to the libpq environment
(PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGSSLROOTCERT) when an option is not
set. Everything here only reads.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import traceback

from ansible.module_utils.basic import env_fallback

try:
    import psycopg
    HAS_PSYCOPG = True
    PSYCOPG_IMPORT_ERROR = None
except ImportError:
    psycopg = None
    HAS_PSYCOPG = False
    PSYCOPG_IMPORT_ERROR = traceback.format_exc()

APPLICATION_NAME = 'statewave.kubernetes.postgres_capacity_info'
SSL_MODES = ['allow', 'disable', 'prefer', 'require', 'verify-ca', 'verify-full']
DEFAULT_LOGIN_USER = 'postgres'
DEFAULT_LOGIN_DB = 'postgres'
DEFAULT_PORT = 5432
DEFAULT_SSL_MODE = 'prefer'


class CapacityError(Exception):
    """A failure to report to the operator (connection refused, missing privilege, ...)."""


def login_argument_spec():
    """Connection options shared by the collection's PostgreSQL modules."""
    return dict(
        # The aliases are community.postgresql's (it deprecates login, host, unix_socket and port for
        # its 5.0.0; accepting them here lets its tasks' login blocks be reused unchanged).
        login_user=dict(type='str', aliases=['login'], fallback=(env_fallback, ['PGUSER'])),
        login_password=dict(type='str', no_log=True, fallback=(env_fallback, ['PGPASSWORD'])),
        login_host=dict(type='str', aliases=['host'], fallback=(env_fallback, ['PGHOST'])),
        login_unix_socket=dict(type='str', aliases=['unix_socket']),
        login_port=dict(type='int', aliases=['port'], fallback=(env_fallback, ['PGPORT'])),
        login_db=dict(type='str', aliases=['db'], fallback=(env_fallback, ['PGDATABASE'])),
        ssl_mode=dict(type='str', choices=SSL_MODES, fallback=(env_fallback, ['PGSSLMODE'])),
        ca_cert=dict(type='str', aliases=['ssl_rootcert'], fallback=(env_fallback, ['PGSSLROOTCERT'])),
        ssl_cert=dict(type='path'),
        ssl_key=dict(type='path'),
        connect_params=dict(type='dict', default={}),
        connect_timeout=dict(type='int', default=10),
    )


def connection_params(params, dbname=None):
    """psycopg keyword arguments from module parameters (connect_params win)."""
    kwargs = {
        'user': params.get('login_user') or DEFAULT_LOGIN_USER,
        'port': params.get('login_port') or DEFAULT_PORT,
        'dbname': dbname or params.get('login_db') or DEFAULT_LOGIN_DB,
        'sslmode': params.get('ssl_mode') or DEFAULT_SSL_MODE,
        'connect_timeout': params.get('connect_timeout') or 10,
        'application_name': APPLICATION_NAME,
    }
    host = params.get('login_host')
    socket_dir = params.get('login_unix_socket')
    if socket_dir and not host:
        host = socket_dir
    if host:
        kwargs['host'] = host
    if params.get('login_password'):
        kwargs['password'] = params['login_password']
    for option, key in (('ca_cert', 'sslrootcert'), ('ssl_cert', 'sslcert'), ('ssl_key', 'sslkey')):
        if params.get(option):
            kwargs[key] = params[option]
    kwargs.update(params.get('connect_params') or {})
    return kwargs


def describe_target(kwargs):
    """host:port/db as user, for error messages (never the password)."""
    return '%s:%s/%s as %s' % (kwargs.get('host') or '(libpq default host)', kwargs.get('port'),
                               kwargs.get('dbname'), kwargs.get('user'))


def connect(params, dbname=None):
    kwargs = connection_params(params, dbname)
    try:
        conn = psycopg.connect(autocommit=True, **kwargs)
    except psycopg.Error as exc:
        raise CapacityError('could not connect to PostgreSQL at %s: %s'
                            % (describe_target(kwargs), str(exc).strip()))
    return conn


def _one(conn, sql, args=None):
    cur = conn.execute(sql, args)
    return cur.fetchone()


SETTINGS_SQL = (
    "SELECT current_setting('server_version_num')::int, "
    "current_setting('max_connections')::int, "
    "current_setting('superuser_reserved_connections')::int, "
    "current_setting('reserved_connections', true), "
    "current_database(), current_user, "
    "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
)

ROLE_SQL = "SELECT rolconnlimit, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = %(role)s"

DATABASE_SQL = "SELECT datconnlimit, datallowconn, pg_get_userbyid(datdba) FROM pg_database WHERE datname = %(db)s"

# What the login role may do (the pgvector role's requirement checks): CREATEROLE, CREATEDB and the
# roles it is a member of (provider admin roles such as rds_superuser, cloudsqlsuperuser).
LOGIN_RIGHTS_SQL = (
    "SELECT r.rolcreaterole, r.rolcreatedb, "
    "coalesce((SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_roles g "
    "WHERE g.oid <> r.oid AND pg_has_role(r.oid, g.oid, 'MEMBER')), '{}') "
    "FROM pg_roles r WHERE r.rolname = current_user"
)

# Client backends (not autovacuum, walsenders or background workers), without this session.
#
# A login without pg_read_all_stats (pg_monitor) and not a member of a session's role still gets a
# row for every backend, but PostgreSQL hides backend_type (with state, query, client address,
# backend_start, leader_pid) of the sessions of other roles and of the background processes.
# What stays visible (measured on PostgreSQL 16.2, see the README): pid, datid/datname,
# usesysid/usename and application_name. The auxiliary processes (checkpointer, background writer,
# walwriter, autovacuum launcher) have neither a database nor a user, the logical replication
# launcher has a user but no database, an autovacuum worker a database but no user; a client
# backend has both. So a hidden row with both a database and a user is counted as a client
# connection. It may also be a parallel worker or a logical replication worker of another role
# (they hold worker slots, not connection slots), so a hidden count errs on the safe side.
ACTIVITY_SQL = (
    "SELECT count(*), "
    "count(*) FILTER (WHERE usename = %(role)s), "
    "count(*) FILTER (WHERE usename IS DISTINCT FROM %(role)s), "
    "count(*) FILTER (WHERE usename IS DISTINCT FROM %(role)s AND datname = %(db)s), "
    "count(*) FILTER (WHERE backend_type IS NULL) "
    "FROM pg_stat_activity "
    "WHERE pid <> pg_backend_pid() AND (backend_type = 'client backend' "
    "OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL))"
)

PGVECTOR_SQL = (
    "SELECT default_version, installed_version FROM pg_available_extensions WHERE name = 'vector'"
)

PGVECTOR_VERSIONS_SQL = (
    "SELECT version FROM pg_available_extension_versions WHERE name = 'vector'"
)


def format_version(num):
    """160002 -> "16.2"; 90624 -> "9.6.24" (PostgreSQL before 10 had three parts)."""
    major = num // 10000
    if major >= 10:
        return '%d.%d' % (major, num % 10000)
    return '%d.%d.%d' % (major, (num // 100) % 100, num % 100)


def _version_key(text):
    parts = []
    for piece in str(text).split('.'):
        digits = ''.join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def gather(params, app_role=None, app_database=None):
    """Return the capacity facts as a flat dict. Raises CapacityError."""
    warnings = []
    conn = connect(params)
    try:
        try:
            (version_num, max_conn, su_reserved, reserved, current_db, current_user,
             login_super) = _one(conn, SETTINGS_SQL)
            database = app_database or current_db
            facts = {
                'server_version': format_version(version_num),
                'server_version_num': version_num,
                'max_connections': max_conn,
                'superuser_reserved_connections': su_reserved,
                'reserved_connections': int(reserved) if reserved not in (None, '') else None,
                'login_user': current_user,
                'login_is_superuser': bool(login_super),
                'login_can_create_role': None,
                'login_can_create_db': None,
                'login_member_of': [],
                'role': app_role,
                'role_exists': None,
                'role_connection_limit': None,
                'role_is_superuser': None,
                'role_can_login': None,
                'database': database,
                'database_exists': False,
                'database_connection_limit': None,
                'database_allows_connections': None,
                'database_owner': None,
            }
            rights = _one(conn, LOGIN_RIGHTS_SQL)
            if rights is not None:
                facts['login_can_create_role'] = bool(rights[0])
                facts['login_can_create_db'] = bool(rights[1])
                facts['login_member_of'] = list(rights[2] or [])
            if app_role:
                row = _one(conn, ROLE_SQL, {'role': app_role})
                facts['role_exists'] = row is not None
                if row is not None:
                    facts['role_connection_limit'] = row[0]
                    facts['role_is_superuser'] = bool(row[1])
                    facts['role_can_login'] = bool(row[2])
            row = _one(conn, DATABASE_SQL, {'db': database})
            if row is not None:
                facts['database_exists'] = True
                facts['database_connection_limit'] = row[0]
                facts['database_allows_connections'] = bool(row[1])
                facts['database_owner'] = row[2]
            total, app, other, other_db, hidden = _one(conn, ACTIVITY_SQL, {'role': app_role, 'db': database})
            facts.update({
                'connections_total': total,
                'connections_app_role': app if app_role else None,
                'connections_other': other,
                'connections_other_in_database': other_db,
                'connections_hidden': hidden,
            })
            if hidden:
                warnings.append('login user %s may not see the type of %d session(s) of other roles (it lacks '
                                'pg_monitor / pg_read_all_stats): they are counted as client connections, so a '
                                'parallel or replication worker among them makes the count a little high; grant '
                                'pg_monitor to the login user for an exact count' % (current_user, hidden))
            default_version, installed = _one(conn, PGVECTOR_SQL) or (None, None)
            versions = sorted((r[0] for r in conn.execute(PGVECTOR_VERSIONS_SQL).fetchall()), key=_version_key)
        except psycopg.Error as exc:
            raise CapacityError('reading capacity facts failed: %s' % str(exc).strip())
    finally:
        conn.close()

    facts['pgvector_available'] = default_version is not None
    facts['pgvector_default_version'] = default_version
    facts['pgvector_available_versions'] = versions
    facts['pgvector_installed_version'] = None
    if database == current_db:
        facts['pgvector_installed_version'] = installed
    elif facts['database_exists'] and facts['database_allows_connections'] and facts['pgvector_available']:
        # installed_version is per database: ask the app database itself.
        try:
            app_conn = connect(params, dbname=database)
        except CapacityError as exc:
            warnings.append('pgvector_installed_version unknown: %s' % exc)
        else:
            try:
                row = _one(app_conn, PGVECTOR_SQL)
                facts['pgvector_installed_version'] = row[1] if row else None
            except psycopg.Error as exc:
                warnings.append('pgvector_installed_version unknown: %s' % str(exc).strip())
            finally:
                app_conn.close()
    facts['warnings_list'] = warnings
    return facts
