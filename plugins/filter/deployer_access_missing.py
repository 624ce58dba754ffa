# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: deployer_access_missing
author: statewave.kubernetes contributors
version_added: 0.1.0
short_description: Which permissions a run needs that the caller does not have
description:
  - Compares the status of a SelfSubjectRulesReview (what the API server says the caller may do in a namespace) with the
    rules the chosen features need (the same rules P(statewave.kubernetes.deployer_rbac#filter) grants).
  - Returns one line per missing permission, naming the verbs, the resource (with its API group) and what needs it.
    An empty list means every needed permission is granted.
positional: features
options:
  _input:
    description: The C(status) of a SelfSubjectRulesReview.
    type: dict
    required: true
  features:
    description: Features used besides C(core) and C(cluster_reads).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Name what the ServiceAccount may not do
  ansible.builtin.debug:
    msg: "{{ review.result.status | statewave.kubernetes.deployer_access_missing(['port_forward']) }}"
"""

RETURN = r"""
_value:
  description: Missing permissions, e.g. C(create, delete secrets (Helm's release records ...)).
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.statewave.kubernetes.plugins.module_utils.deployer_access import DeployerAccessError, describe, missing


def deployer_access_missing(review_status, features=None):
    if not isinstance(review_status, dict):
        raise AnsibleFilterError('deployer_access_missing: the input must be the status of a SelfSubjectRulesReview (a dict)')
    try:
        return describe(missing(review_status, features or []))
    except DeployerAccessError as exc:
        raise AnsibleFilterError('deployer_access_missing: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'deployer_access_missing': deployer_access_missing}
