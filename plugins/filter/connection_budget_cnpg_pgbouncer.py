# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: connection_budget_cnpg_pgbouncer
author: statewave.kubernetes contributors
version_added: 0.1.0
short_description: The PgBouncer settings of the CloudNativePG Pooler the pgvector role writes, for the connection budget
description:
- Turns the pgvector role's Pooler variables into the O(statewave.kubernetes.connection_budget#module:pgbouncer) option,
  so that the budget uses the numbers the Pooler really gets instead of a hand copy.
- Returns an empty dict when the pods do not go through a Pooler (not C(cnpg) mode, no Pooler, or the app DSN points
  at the primary).
- The dedicated variables win over the same names in C(parameters), as in the Pooler itself. The PgBouncer version is
  read from the image tag; with the operator's default image (empty C(image)) it is not known.
options:
  _input:
    description:
      - C(mode) (pgvector_mode), C(pooler_enabled), C(dsn_target), C(instances), C(pool_mode), C(default_pool_size),
        C(max_client_conn), C(max_prepared_statements), C(parameters) and C(image) (the pgvector_cnpg_pooler_* and
        pgvector_cnpg_dsn_target variables).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Budget through the Pooler the pgvector role creates
  statewave.kubernetes.connection_budget:
    facts: "{{ capacity }}"
    replicas: 4
    pgbouncer: >-
      {{ {'mode': pgvector_mode, 'pooler_enabled': pgvector_cnpg_pooler_enabled, 'dsn_target': pgvector_cnpg_dsn_target,
          'instances': pgvector_cnpg_pooler_instances, 'pool_mode': pgvector_cnpg_pooler_pool_mode,
          'default_pool_size': pgvector_cnpg_pooler_default_pool_size, 'max_client_conn': pgvector_cnpg_pooler_max_client_conn,
          'max_prepared_statements': pgvector_cnpg_pooler_max_prepared_statements,
          'parameters': pgvector_cnpg_pooler_parameters, 'image': pgvector_cnpg_pooler_image}
         | statewave.kubernetes.connection_budget_cnpg_pgbouncer }}
"""

RETURN = r"""
_value:
  description:
    - Empty, or C(enabled), C(pool_mode), C(default_pool_size), C(max_client_conn), C(max_prepared_statements),
      C(instances), C(version) (null when unknown) and, when set in C(parameters), C(reserve_pool_size),
      C(max_db_connections) and C(max_user_connections).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.statewave.kubernetes.plugins.module_utils.connection_budget import (
    BudgetError,
    pgbouncer_from_cnpg_pooler,
)


def connection_budget_cnpg_pgbouncer(settings):
    """The connection_budget pgbouncer option for a CloudNativePG Pooler; {} when there is none."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError('connection_budget_cnpg_pgbouncer: expected a dict, got %s' % type(settings).__name__)
    try:
        return pgbouncer_from_cnpg_pooler(dict(settings))
    except BudgetError as exc:
        raise AnsibleFilterError('connection_budget_cnpg_pgbouncer: %s' % exc)


class FilterModule(object):
    """PgBouncer settings of the pgvector role's Pooler."""

    def filters(self):
        return {'connection_budget_cnpg_pgbouncer': connection_budget_cnpg_pgbouncer}
