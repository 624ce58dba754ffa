# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: pgvector_requirements
author: statewave.kubernetes contributors
version_added: 0.1.0
short_description: Say what a PostgreSQL server lacks before the pgvector role provisions Statewave's database
description:
- Judges the facts of M(statewave.kubernetes.postgres_capacity_info) (and the admin's rights, and the error of a
  rolled-back C(CREATE EXTENSION vector)) against Statewave's floors - PostgreSQL >= 15, pgvector >= 0.5.0 (HNSW).
- Returns one problem per thing to fix, each with the check's name, the inventory variable to look at, the fix and a
  message that ends with the hint for O(provider) (C(rds_superuser), C(azure.extensions), C(cloudsqlsuperuser), ...).
- A server below the floor gives only that problem (the extension has to be judged on the new server).
- An empty list means the server may be provisioned.
positional: floors
options:
  _input:
    description: The registered result of M(statewave.kubernetes.postgres_capacity_info).
    type: dict
    required: true
  floors:
    description: C(min_server_major), C(min_extension_version) and C(recommended_server_major).
    type: dict
    required: true
  provider:
    description: Where the server runs; selects the hint.
    type: str
    default: generic
    choices: [generic, rds, aurora, cloudsql, azure, neon, supabase]
  rights:
    description: The admin role's C(rolsuper), C(rolcreaterole), C(rolcreatedb) and C(member_of) (names of roles).
    type: dict
  probe_error:
    description: The error message of the rolled-back C(CREATE EXTENSION vector); empty when it was not run.
    type: str
  after_create:
    description: Judge the extension the role has just created (installed version) instead of the server.
    type: bool
    default: false
  extension_error:
    description: With O(after_create), the error of the failed C(CREATE EXTENSION vector).
    type: str
  context:
    description: C(host), C(port), C(admin_user) and C(app_database), for the messages.
    type: dict
  extension:
    description:
      - Whether the database needs the vector extension. V(false) (a database without it, e.g. PyStator's) judges only
        the server floor and the admin's rights.
    type: bool
    default: true
  system:
    description: The application the database is for, named in the messages.
    type: str
    default: Statewave
"""

EXAMPLES = r"""
- name: Stop when the server cannot run Statewave's migrations
  vars:
    problems: "{{ capacity | statewave.kubernetes.pgvector_requirements({'min_server_major': 15,
                  'min_extension_version': '0.5.0', 'recommended_server_major': 16}, provider='rds') }}"
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | map(attribute='message') | join(' ') }}"
"""

RETURN = r"""
_value:
  description: One problem per thing to fix; empty when the server may be provisioned.
  type: list
  elements: dict
  contains:
    check:
      description: >-
        server_too_old, extension_not_available, extension_offered_too_old, extension_installed_too_old,
        admin_lacks_createrole_createdb, admin_may_not_create_extension or create_extension_failed.
      type: str
    variable:
      description: The inventory variable to look at.
      type: str
    fix:
      description: What to do.
      type: str
    message:
      description: The whole message, with the versions found and the provider hint.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.statewave.kubernetes.plugins.module_utils.pgvector_requirements import (
    PgvectorRequirementsError,
    requirement_problems,
)


def pgvector_requirements(server, floors, provider='generic', rights=None, probe_error=None, after_create=False,
                          extension_error=None, context=None, extension=True, system='Statewave'):
    """Problems that stop managed mode; empty when the server may be provisioned."""
    if not isinstance(floors, dict):
        raise AnsibleFilterError('pgvector_requirements: floors must be a dict')
    try:
        return requirement_problems(dict(server), floors, provider=provider, rights=rights or None,
                                    probe_error=probe_error or None, after_create=bool(after_create),
                                    extension_error=extension_error or None, context=context,
                                    extension=bool(extension), system=system or 'Statewave')
    except (PgvectorRequirementsError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('pgvector_requirements: %s' % exc)


class FilterModule(object):
    """Requirement checks of the pgvector role."""

    def filters(self):
        return {'pgvector_requirements': pgvector_requirements}
