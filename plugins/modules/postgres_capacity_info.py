#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: postgres_capacity_info
short_description: Read the connection limits and pgvector state of a PostgreSQL server
version_added: 0.1.0
description:
  - Connects to PostgreSQL with psycopg 3 and returns what a connection budget needs, without changing anything.
  - The server version, C(max_connections), C(superuser_reserved_connections) and, on PostgreSQL 16 and later,
    C(reserved_connections).
  - The C(CONNECTION LIMIT) of the application role (C(pg_roles.rolconnlimit)) and of the application
    database (C(pg_database.datconnlimit)).
  - The client connections in use now, split into the application role's and everybody else's, server-wide
    and in the application database (from C(pg_stat_activity), without this module's own session).
  - Whether pgvector (extension C(vector)) is available on the server, which versions, and which version is
    installed in the application database.
  - Feed the result to M(statewave.kubernetes.connection_budget) as O(statewave.kubernetes.connection_budget#module:facts).
author:
  - Statewave collection maintainers (@statewave)
extends_documentation_fragment:
  - statewave.kubernetes.postgres_login
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Only reads; runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  app_role:
    description:
      - The role the Statewave pods log in as.
      - Its connections are counted separately (they belong to the deployment being planned) and its
        C(CONNECTION LIMIT) is returned.
      - If not set, no role facts are returned and every other session counts as in use by others.
    type: str
  app_database:
    description:
      - The Statewave database. Its C(CONNECTION LIMIT) and the pgvector version installed in it are returned.
      - If not set, the database the module connects to (O(login_db)).
      - The database may not exist yet; RV(database_exists) then is V(false).
    type: str
notes:
  - Give the password as O(login_password) (from a vault or an AWX credential) or export E(PGPASSWORD) in the
    environment ansible-playbook runs in. Do not set E(PGPASSWORD) with the task C(environment) keyword, Ansible
    shows that on the command line it logs with C(-vvv).
  - The login user should be a superuser or have C(pg_monitor) (or C(pg_read_all_stats)). Otherwise PostgreSQL
    hides the C(backend_type) of other roles' sessions in C(pg_stat_activity); the module then counts every hidden
    session that has a database and a user as a client connection (auxiliary processes have neither), returns how
    many in RV(connections_hidden) and warns, since a parallel or logical replication worker of another role
    would be counted too.
  - Works with PostgreSQL 10 and later; C(reserved_connections) is V(null) before PostgreSQL 16.
seealso:
  - module: statewave.kubernetes.connection_budget
  - module: community.postgresql.postgresql_info
'''

EXAMPLES = r'''
- name: Read the connection facts of the Statewave database server
  statewave.kubernetes.postgres_capacity_info:
    login_host: db.example.internal
    login_port: 5432
    login_user: postgres
    login_password: "{{ vault_postgres_admin_password }}"
    app_role: statewave
    app_database: statewave
  register: statewave_pg
  no_log: true

- name: Show the limits
  ansible.builtin.debug:
    msg: >-
      PostgreSQL {{ statewave_pg.server_version }}: max_connections {{ statewave_pg.max_connections }},
      {{ statewave_pg.connections_other }} in use by others,
      pgvector {{ statewave_pg.pgvector_installed_version | default('not installed', true) }}

# PGHOST, PGPORT, PGUSER and PGPASSWORD exported where ansible-playbook runs
# (not through the task `environment:` keyword, which -vvv prints).
- name: Use the libpq environment instead of options
  statewave.kubernetes.postgres_capacity_info:
    app_role: statewave
    app_database: statewave
  register: statewave_pg
'''

RETURN = r'''
server_version:
  description: Server version, major.minor.
  returned: success
  type: str
  sample: "16.2"
server_version_num:
  description: C(server_version_num) as an integer.
  returned: success
  type: int
  sample: 160002
max_connections:
  description: The server's C(max_connections).
  returned: success
  type: int
  sample: 100
superuser_reserved_connections:
  description: Slots kept for superusers (C(superuser_reserved_connections)).
  returned: success
  type: int
  sample: 3
reserved_connections:
  description: Slots kept for roles with C(pg_use_reserved_connections) (PostgreSQL 16 and later), else V(null).
  returned: success
  type: int
  sample: 0
login_user:
  description: The role the module logged in as.
  returned: success
  type: str
  sample: postgres
login_is_superuser:
  description: Whether the login role is a superuser.
  returned: success
  type: bool
  sample: true
role:
  description: The application role asked about (O(app_role)).
  returned: success
  type: str
  sample: statewave
role_exists:
  description: Whether the application role exists; V(null) when O(app_role) is not set.
  returned: success
  type: bool
  sample: true
role_connection_limit:
  description: The role's C(CONNECTION LIMIT) (C(rolconnlimit)); V(-1) means none; V(null) when unknown.
  returned: success
  type: int
  sample: -1
role_is_superuser:
  description: Whether the application role is a superuser (its connection limit is then not enforced).
  returned: success
  type: bool
  sample: false
login_can_create_role:
  description: Whether the login role has C(CREATEROLE).
  returned: success
  type: bool
  sample: false
login_can_create_db:
  description: Whether the login role has C(CREATEDB).
  returned: success
  type: bool
  sample: false
login_member_of:
  description: The roles the login role is a member of (directly or through others), for example C(rds_superuser).
  returned: success
  type: list
  elements: str
  sample: [rds_superuser]
role_can_login:
  description: Whether the application role has C(LOGIN).
  returned: success
  type: bool
  sample: true
database:
  description: The application database (O(app_database), or the one connected to).
  returned: success
  type: str
  sample: statewave
database_exists:
  description: Whether the application database exists.
  returned: success
  type: bool
  sample: true
database_connection_limit:
  description: The database's C(CONNECTION LIMIT) (C(datconnlimit)); V(-1) means none; V(null) when it does not exist.
  returned: success
  type: int
  sample: -1
database_allows_connections:
  description: C(pg_database.datallowconn) of the application database; V(null) when it does not exist.
  returned: success
  type: bool
  sample: true
database_owner:
  description: The role that owns the application database; V(null) when it does not exist.
  returned: success
  type: str
  sample: statewave
connections_total:
  description: Client connections open now, without this module's session.
  returned: success
  type: int
  sample: 12
connections_app_role:
  description: Of those, the application role's (the current deployment); V(null) when O(app_role) is not set.
  returned: success
  type: int
  sample: 10
connections_other:
  description: Client connections of every other role, server-wide; they already use slots the plan cannot have.
  returned: success
  type: int
  sample: 2
connections_other_in_database:
  description: Client connections of other roles in the application database (they count against its C(CONNECTION LIMIT)).
  returned: success
  type: int
  sample: 1
connections_hidden:
  description:
    - Of RV(connections_total), the sessions whose type the login user may not see (other roles' sessions,
      without C(pg_monitor)); they are counted as client connections. V(0) for a superuser or C(pg_monitor) member.
  returned: success
  type: int
  sample: 0
pgvector_available:
  description: Whether the C(vector) extension is available on the server.
  returned: success
  type: bool
  sample: true
pgvector_default_version:
  description: The version C(CREATE EXTENSION vector) would install; V(null) when not available.
  returned: success
  type: str
  sample: 0.6.2
pgvector_available_versions:
  description: Every installable version of C(vector), oldest first.
  returned: success
  type: list
  elements: str
  sample: ["0.5.1", "0.6.0", "0.6.1", "0.6.2"]
pgvector_installed_version:
  description: The version installed in the application database; V(null) when not installed or not readable.
  returned: success
  type: str
  sample: 0.6.2
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.statewave.kubernetes.plugins.module_utils.postgres_capacity import (
    HAS_PSYCOPG,
    PSYCOPG_IMPORT_ERROR,
    CapacityError,
    gather,
    login_argument_spec,
)


def main():
    argument_spec = login_argument_spec()
    argument_spec.update(
        app_role=dict(type='str'),
        app_database=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    if not HAS_PSYCOPG:
        module.fail_json(msg=missing_required_lib('psycopg'), exception=PSYCOPG_IMPORT_ERROR)
    if module.params['connect_timeout'] is not None and module.params['connect_timeout'] < 1:
        module.fail_json(msg='connect_timeout must be at least 1 second, got %d' % module.params['connect_timeout'])

    try:
        facts = gather(module.params, app_role=module.params['app_role'],
                       app_database=module.params['app_database'])
    except CapacityError as exc:
        module.fail_json(msg=str(exc))

    for warning in facts.pop('warnings_list', []):
        module.warn(warning)
    module.exit_json(changed=False, **facts)


if __name__ == '__main__':
    main()
