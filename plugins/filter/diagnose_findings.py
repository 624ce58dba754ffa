# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: diagnose_findings
author: statewave.kubernetes contributors
version_added: 0.1.0
short_description: Turn the state of a Statewave release into findings with a severity and the next step
description:
- Used by C(playbooks/diagnose.yml). Walks the troubleshooting table of the Statewave Kubernetes runbook over what the
  playbook read, namely the Helm release status and history (C(pending-*) and C(failed) states, more than one revision
  deployed, a C(pending-*) revision below the newest), the migration Jobs (labelled C(app.kubernetes.io/component=migrate)
  or named as the roles name them; conditions, reason, pods, events; a failed Job created before the serving revision
  started is reported as history), the API pods (waiting reasons such as C(CreateContainerConfigError)), Secret references,
  readiness (Deployment conditions, HPA, PDB), the connection budget verdict and the ingress timeouts (live annotations
  against what P(statewave.kubernetes.ingress_timeouts#filter) would set).
- Pure; reads no cluster. Secret values are never part of the input, only key names.
options:
  _input:
    description:
    - The gathered facts, a dict with C(namespace), C(release), C(fullname), C(migration_job_name) (the chart's hook
      Job name), C(now) (seconds since the epoch; default the controller's clock), C(inventory), C(helm_binary),
      C(release_found), C(helm_error), C(history) (C(helm history -o json)), C(status) (C(helm status -o json)),
      C(deployments), C(jobs), C(pods), C(events), C(hpas), C(pdbs), C(services), C(ingresses) (live objects),
      C(secret_refs) (from P(statewave.kubernetes.diagnose_secret_refs#filter)), C(secrets) (name to
      C({exists, keys})), C(expected_secrets) (C({name, key, variable}) from the inventory), C(leftovers),
      C(budget) (C({checked, skipped_reason, error, verdict, msg, reasons, advice})), C(ingress_plan),
      C(ingress_plan_error), C(ingress_objects) (C({kind, name, found}) or the M(kubernetes.core.k8s_info) loop
      results) and C(events_limit). Missing keys count as empty.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Decide
  ansible.builtin.set_fact:
    findings: "{{ gathered | statewave.kubernetes.diagnose_findings }}"

- name: Print the errors
  ansible.builtin.debug:
    msg: "{{ findings | selectattr('severity', 'equalto', 'error') | map(attribute='message') | list }}"
"""

RETURN = r"""
_value:
  description:
  - Findings, errors first, then warnings, then information; within a severity in the order release, migration,
    pods, secrets, readiness, budget, ingress.
  - Each is a dict with C(severity) (C(error), C(warning) or C(info)), C(area), C(message) and C(next) (the next
    command to run, or empty), and C(text), the finding as one printable line that starts with the severity in brackets.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.statewave.kubernetes.plugins.module_utils.diagnose import findings


def diagnose_findings(facts):
    """Findings for the gathered facts."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError('diagnose_findings: the input must be a dict of gathered facts, not {0}'.format(type(facts).__name__))
    try:
        return findings(facts)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise AnsibleFilterError('diagnose_findings: unexpected input: {0}'.format(exc))


class FilterModule(object):
    """Findings for playbooks/diagnose.yml."""

    def filters(self):
        return {'diagnose_findings': diagnose_findings}
