# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a PostgreSQL server must offer before the pgvector role provisions Statewave's database.

Pure and stdlib only. One place for every requirement decision of managed mode (roles/pgvector
tasks/managed.yml): the server version floor, pgvector available / offered / installed, the
admin's rights, the rolled-back ``CREATE EXTENSION vector`` probe, the extension the role just
created, and the provider hint each message ends with.

Entry points:

* :func:`requirement_problems` - the facts of ``statewave.kubernetes.postgres_capacity_info``
  (plus the admin's rights and the probe's error) to a list of problems; each names the check,
  the inventory variable to look at, the fix and the full message. Empty: provision.
* :func:`provider_hint` - the hint for ``pgvector_provider``.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

# Where the managed server runs (pgvector_provider; meta/argument_specs.yml lists the same choices,
# tests/unit checks it). Each hint says which login can create the untrusted extension.
PROVIDER_HINTS = {
    'generic': (
        'Log in as a superuser (or the provider\'s admin role) that can CREATE ROLE, CREATE DATABASE and '
        'CREATE EXTENSION vector; pgvector is not a trusted extension, so a plain owner cannot create it.'),
    'rds': (
        'Amazon RDS: log in as the master user (a member of rds_superuser), which can create the vector '
        'extension; rds_superuser is not SUPERUSER, so other roles cannot. pgvector >= 0.5.0 needs a recent '
        'engine minor version: upgrade the DB instance if pg_available_extensions shows an older vector.'),
    'aurora': (
        'Amazon Aurora PostgreSQL: log in as the master user (a member of rds_superuser); upgrade the '
        'cluster\'s engine version if the available vector version is below 0.5.0.'),
    'cloudsql': (
        'Google Cloud SQL: log in as a user with the cloudsqlsuperuser role (the built-in postgres user has '
        'it); IAM database users need that role granted before they can CREATE EXTENSION vector.'),
    'azure': (
        'Azure Database for PostgreSQL flexible server: add VECTOR to the azure.extensions server parameter '
        '(the extension allow-list) first, then log in as the server admin (a member of azure_pg_admin).'),
    'neon': (
        'Neon: log in as the role that owns the project (a member of neon_superuser), not a role created '
        'later without it.'),
    'supabase': (
        'Supabase: log in as the postgres user over the direct connection or the session pooler (not the '
        'transaction pooler on port 6543), or enable vector under Database > Extensions first.'),
}

# How servers word a refused CREATE EXTENSION (PostgreSQL, Azure's allow-list, managed providers).
_REFUSED_RE = re.compile(
    r'(permission denied to create extension|must be superuser|[^:\n]*allow-?listed|only superusers)[^\n]*',
    re.IGNORECASE)


class PgvectorRequirementsError(ValueError):
    """Input the checks cannot judge (a bug in the caller, not in the inventory)."""


def provider_hint(provider):
    """The hint for ``pgvector_provider`` (unknown providers get the generic one)."""
    return PROVIDER_HINTS.get(provider or 'generic', PROVIDER_HINTS['generic'])


def version_tuple(version):
    """'0.5.0' -> (0, 5, 0); '0.8.0-dev' -> (0, 8, 0). None or no leading number -> None."""
    if version is None:
        return None
    m = re.match(r'^\s*([0-9]+(?:\.[0-9]+)*)', str(version))
    if not m:
        return None
    parts = [int(p) for p in m.group(1).split('.')]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def version_at_least(version, floor):
    """Whether ``version`` >= ``floor``; an unparsable version never is."""
    have, need = version_tuple(version), version_tuple(floor)
    if need is None:
        raise PgvectorRequirementsError('unparsable version floor %r' % (floor,))
    return have is not None and have >= need


def _problem(check, variable, fix, message):
    return {'check': check, 'variable': variable, 'fix': fix, 'message': message}


def _target(ctx):
    return '%s:%s' % (ctx.get('host') or '?', ctx.get('port') or '?')


def _server_problems(server, floors, ctx, hint, extension=True, system='Statewave'):
    """Version floor and pgvector availability; a too old server short-circuits the rest."""
    problems = []
    version = server.get('server_version') or '?'
    try:
        num = int(server.get('server_version_num'))
    except (TypeError, ValueError):
        raise PgvectorRequirementsError('server_version_num missing: the server did not answer')
    min_major = int(floors['min_server_major'])
    min_ext = str(floors['min_extension_version'])
    if num < min_major * 10000:
        # The extension has to be checked again on the new server anyway.
        return [_problem(
            'server_too_old', 'pgvector_admin_host',
            'Upgrade the server or point pgvector_admin_host at a newer one.',
            'PostgreSQL %s at %s is too old (server too old): %s PostgreSQL >= %d '
            '(%s recommended). Nothing was changed. Upgrade the server or point pgvector_admin_host at a newer one.'
            % (version, _target(ctx), "Statewave's migrations need" if system == 'Statewave'
               else 'this collection deploys %s on' % system, min_major,
               floors.get('recommended_server_major', min_major)))]

    if not extension:
        # A database without the vector extension (e.g. PyStator's): only the server floor counts.
        return problems

    if not server.get('pgvector_available'):
        major = num // 10000
        return [_problem(
            'extension_not_available', 'pgvector_admin_host',
            'Install pgvector >= %s on the server, or use a server that ships it.' % min_ext,
            'pgvector extension not available on PostgreSQL %s at %s: \'vector\' is not in pg_available_extensions. '
            'Nothing was changed. Install pgvector >= %s on the server (the postgresql-%d-pgvector package, or an '
            'image such as pgvector/pgvector:pg16), or use a server that ships it. %s'
            % (version, _target(ctx), min_ext, major, hint))]

    offered = server.get('pgvector_default_version')
    if not version_at_least(offered, min_ext):
        installable = ', '.join(server.get('pgvector_available_versions') or []) or offered
        problems.append(_problem(
            'extension_offered_too_old', 'pgvector_admin_host',
            'Upgrade the pgvector package (or the managed server\'s engine version) to >= %s.' % min_ext,
            'pgvector too old: PostgreSQL %s at %s offers vector %s (installable: %s), but Statewave\'s migrations '
            'build HNSW indexes, which need pgvector >= %s. Nothing was changed. Upgrade the pgvector package (or the '
            'managed server\'s engine version). %s' % (version, ctx.get('host') or '?', offered, installable, min_ext, hint)))

    installed = server.get('pgvector_installed_version')
    if installed is not None and not version_at_least(installed, min_ext):
        problems.append(_problem(
            'extension_installed_too_old', 'pgvector_app_database',
            'Run ALTER EXTENSION vector UPDATE in %s as the admin.' % ctx.get('app_database'),
            'pgvector too old: database %s has vector %s installed, below %s (HNSW). Nothing was changed. Run '
            'ALTER EXTENSION vector UPDATE in that database as the admin (the server offers %s), then run this again.'
            % (ctx.get('app_database'), installed, min_ext, offered)))
    return problems


def _rights_problems(rights, ctx, hint, system='Statewave'):
    if not rights or rights.get('rolsuper') or (rights.get('rolcreaterole') and rights.get('rolcreatedb')):
        return []
    member_of = ', '.join(rights.get('member_of') or []) or 'nothing'
    return [_problem(
        'admin_lacks_createrole_createdb', 'pgvector_admin_user',
        'Log in as a role that is a superuser or has CREATEROLE and CREATEDB. %s' % hint,
        'Admin role %s lacks the privilege to provision %s\'s database: it is not a superuser and has %s and %s '
        '(member of: %s). Nothing was changed. %s' % (
            ctx.get('admin_user'), system, 'CREATEROLE' if rights.get('rolcreaterole') else 'no CREATEROLE',
            'CREATEDB' if rights.get('rolcreatedb') else 'no CREATEDB', member_of, hint))]


def _probe_problems(probe_error, ctx, hint):
    if not probe_error:
        return []
    m = _REFUSED_RE.search(str(probe_error))
    if not m:
        # Anything else (the probe's own rollback exception, a missing control file) is not a refusal.
        return []
    return [_problem(
        'admin_may_not_create_extension', 'pgvector_admin_user',
        'Log in as a role that may create the vector extension. %s' % hint,
        'Admin role %s lacks the privilege to create the vector extension (pgvector is not a trusted extension): %s. '
        'Nothing was changed. %s' % (ctx.get('admin_user'), m.group(0).strip(), hint))]


def _created_problems(server, floors, ctx, hint, extension_error):
    min_ext = str(floors['min_extension_version'])
    if extension_error:
        return [_problem(
            'create_extension_failed', 'pgvector_admin_user',
            'Fix the admin\'s rights and run this again. %s' % hint,
            'CREATE EXTENSION vector in %s failed as %s: %s. The admin role lacks the privilege to create pgvector, '
            'or the server refuses it. The app role and database exist; fix the admin\'s rights and run this again. %s'
            % (ctx.get('app_database'), ctx.get('admin_user'), str(extension_error)[:400], hint))]
    installed = server.get('pgvector_installed_version')
    if installed is None or not version_at_least(installed, min_ext):
        return [_problem(
            'extension_installed_too_old', 'pgvector_app_database',
            'Run ALTER EXTENSION vector UPDATE in %s as the admin.' % ctx.get('app_database'),
            'pgvector too old: %s has vector %s, below %s (HNSW indexes). Run ALTER EXTENSION vector UPDATE as the admin.'
            % (ctx.get('app_database'), installed if installed is not None else 'not installed', min_ext))]
    return []


def requirement_problems(server, floors, provider='generic', rights=None, probe_error=None, after_create=False,
                         extension_error=None, context=None, extension=True, system='Statewave'):
    """Problems that stop managed mode; empty when the server may be provisioned.

    ``server``: the result of ``postgres_capacity_info`` (server_version, server_version_num,
    pgvector_available, pgvector_default_version, pgvector_available_versions,
    pgvector_installed_version). ``floors``: min_server_major, min_extension_version,
    recommended_server_major (roles/pgvector/vars/main.yml). ``rights``: the admin's rolsuper,
    rolcreaterole, rolcreatedb and member_of. ``probe_error``: the message of the rolled-back
    ``CREATE EXTENSION vector`` (None when it was not run). ``after_create``: check the extension
    the role has just created instead (``extension_error``: the failed ``CREATE EXTENSION``).
    ``context``: host, port, admin_user, app_database for the messages. ``extension`` false: a
    database without the vector extension (only the server floor and the admin's rights count);
    ``system`` names the application in the messages.

    Each problem: ``check`` (a stable name), ``variable`` (the inventory variable to look at),
    ``fix`` and ``message`` (the whole sentence, ending with the provider hint where one helps).
    """
    if not isinstance(server, dict):
        raise PgvectorRequirementsError('the server facts must be a dict, got %s' % type(server).__name__)
    ctx = dict(context or {})
    hint = provider_hint(provider)
    if after_create:
        return _created_problems(server, floors, ctx, hint, extension_error) if extension else []
    problems = _server_problems(server, floors, ctx, hint, extension, system)
    if problems and problems[0]['check'] == 'server_too_old':
        return problems
    problems.extend(_rights_problems(rights, ctx, hint, system))
    if extension:
        problems.extend(_probe_problems(probe_error, ctx, hint))
    return problems
