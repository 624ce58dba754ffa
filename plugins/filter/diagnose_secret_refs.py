# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: diagnose_secret_refs
author: statewave.kubernetes contributors
version_added: 0.1.0
short_description: List the Secrets the pod templates of workloads reference
description:
- Reads Deployments, Jobs, CronJobs or Pods and returns every Secret their pod template references through
  C(env[].valueFrom.secretKeyRef), C(envFrom[].secretRef), C(volumes[].secret) and C(imagePullSecrets), in init and
  regular containers. Used by C(playbooks/diagnose.yml) to check that each referenced Secret and key exists.
- Returns names and key names only.
options:
  _input:
    description: Workload objects as returned by M(kubernetes.core.k8s_info) (C(resources)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: List the Secret references of the release's Deployment and Jobs
  ansible.builtin.set_fact:
    refs: "{{ (deployments.resources + jobs.resources) | statewave.kubernetes.diagnose_secret_refs }}"
"""

RETURN = r"""
_value:
  description:
  - One entry per reference, each a dict with C(object) (C(Kind/name)), C(container), C(env) (the variable name for
    C(secretKeyRef)), C(secret), C(key) (empty when the whole Secret is used), C(optional) and C(via) (C(env),
    C(envFrom), C(volume <name>) or C(imagePullSecrets)).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.statewave.kubernetes.plugins.module_utils.diagnose import secret_refs


def diagnose_secret_refs(workloads):
    """Secret references of the workloads' pod templates."""
    if not isinstance(workloads, list):
        raise AnsibleFilterError('diagnose_secret_refs: the input must be a list of objects, not {0}'.format(type(workloads).__name__))
    try:
        return secret_refs(workloads)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError('diagnose_secret_refs: unexpected input: {0}'.format(exc))


class FilterModule(object):
    """Secret references for playbooks/diagnose.yml."""

    def filters(self):
        return {'diagnose_secret_refs': diagnose_secret_refs}
