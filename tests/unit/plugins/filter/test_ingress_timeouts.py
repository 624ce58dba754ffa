# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the ingress timeout filter plugins, directly and through Ansible's templating by FQCN."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible.errors import AnsibleFilterError

_COLLECTIONS = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', '.collections'))
from ansible_collections.statewave.kubernetes.plugins.filter import ingress_timeouts as plan_filter
from ansible_collections.statewave.kubernetes.plugins.filter import ingress_crd_problems as crd_filter
from ansible_collections.statewave.kubernetes.plugins.filter import ingress_stale_objects as stale_filter

INTENT = {'controller': 'traefik', 'traefik_version': '3', 'timeout': 120, 'host': 'api.example.com',
          'namespace': 'statewave', 'release_name': 'statewave'}


def test_each_file_exports_exactly_its_documented_filter():
    assert list(plan_filter.FilterModule().filters()) == ['ingress_timeouts']
    assert list(crd_filter.FilterModule().filters()) == ['ingress_crd_problems']
    assert list(stale_filter.FilterModule().filters()) == ['ingress_stale_objects']
    for module, name in ((plan_filter, 'ingress_timeouts'), (crd_filter, 'ingress_crd_problems'),
                         (stale_filter, 'ingress_stale_objects')):
        assert 'name: ' + name in module.DOCUMENTATION
        assert module.EXAMPLES.strip() and module.RETURN.strip()


def test_plan_filter_returns_the_translation():
    plan = plan_filter.FilterModule().filters()['ingress_timeouts'](INTENT)
    assert plan['service_annotations'] == {'traefik.ingress.kubernetes.io/service.serverstransport': 'statewave-statewave@kubernetescrd'}
    assert plan['objects'][0]['spec']['forwardingTimeouts']['responseHeaderTimeout'] == '120s'


@pytest.mark.parametrize('change,message', [
    ({'controller': 'bogus'}, "ingress_controller: 'bogus' is not a known controller"),
    ({'timeout': -1}, 'ingress_timeout: -1 is negative'),
    ({'timeout': 'soon'}, "ingress_timeout: 'soon' is not a number of seconds; set e.g. ingress_timeout: 120"),
    ({'timeout': 30}, 'ingress_timeout: 30 s is below the 60 s minimum'),
    ({'controller': 'alb', 'timeout': 5000}, 'ingress_timeout: 5000 s is above the AWS Load Balancer Controller, ALB Ingress maximum of 4000 s'),
    ({'host': ''}, 'ingress_host: required'),
])
def test_plan_filter_errors_are_filter_errors_with_the_message(change, message):
    intent = dict(INTENT, **change)
    with pytest.raises(AnsibleFilterError) as exc:
        plan_filter.ingress_timeouts(intent)
    assert message in str(exc.value)


def test_crd_filter():
    plan = plan_filter.ingress_timeouts(INTENT)
    problems = crd_filter.ingress_crd_problems([], plan['required_crds'])
    assert len(problems) == 1 and 'serverstransports.traefik.io is not installed' in problems[0]
    found = [{'metadata': {'name': 'serverstransports.traefik.io'}, 'spec': {'versions': [{'name': 'v1alpha1', 'served': True}]}}]
    assert crd_filter.ingress_crd_problems(found, plan['required_crds']) == []
    with pytest.raises(AnsibleFilterError, match='required_crds'):
        crd_filter.ingress_crd_problems([], plan)
    with pytest.raises(AnsibleFilterError, match='unexpected input'):
        crd_filter.ingress_crd_problems([], [{'no': 'name'}])


def test_stale_filter():
    old = plan_filter.ingress_timeouts(dict(INTENT, controller='gke'))
    new = plan_filter.ingress_timeouts(INTENT)
    stale = stale_filter.ingress_stale_objects(old['objects'] + new['objects'], new)
    assert [(s['kind'], s['name']) for s in stale] == [('BackendConfig', 'statewave')]
    with pytest.raises(AnsibleFilterError, match='must be the plan'):
        stale_filter.ingress_stale_objects([], 'plan')


# Through Ansible's templating, by FQCN, the way the role calls them. A fresh interpreter, because
# Ansible's collection loader must be installed before anything imports ansible_collections.

_TEMPLATE_SCRIPT = r"""
import json, sys
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader([sys.argv[1]])
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
variables = json.loads(sys.argv[3])
try:
    result = Templar(loader=DataLoader(), variables=variables).template(trust_as_template(sys.argv[2]))
    print(json.dumps({'ok': True, 'result': result}))
except AnsibleError as exc:
    print(json.dumps({'ok': False, 'error': str(exc) + ' ' + str(getattr(exc, '__cause__', '') or '')}))
"""


def _render(text, variables):
    if not os.path.isdir(_COLLECTIONS):
        pytest.skip('the collection is not linked at %s (run make setup)' % _COLLECTIONS)
    proc = subprocess.run([sys.executable, '-c', _TEMPLATE_SCRIPT, _COLLECTIONS, text, json.dumps(variables)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_fqcn_through_templating():
    out = _render('{{ intent | statewave.kubernetes.ingress_timeouts }}', {'intent': dict(INTENT, controller='kong')})
    assert out['ok'], out
    assert out['result']['service_annotations']['konghq.com/read-timeout'] == '120000'
    out = _render('{{ [] | statewave.kubernetes.ingress_crd_problems((intent | statewave.kubernetes.ingress_timeouts).required_crds) }}',
                  {'intent': dict(INTENT, controller='contour')})
    assert out['ok'], out
    assert len(out['result']) == 1 and 'httpproxies.projectcontour.io' in out['result'][0]
    out = _render('{{ [] | statewave.kubernetes.ingress_stale_objects(intent | statewave.kubernetes.ingress_timeouts) }}',
                  {'intent': INTENT})
    assert out == {'ok': True, 'result': []}


def test_fqcn_error_reaches_the_task():
    out = _render('{{ intent | statewave.kubernetes.ingress_timeouts }}', {'intent': dict(INTENT, controller='haproxy', timeout='1 minute')})
    assert out['ok'] is False
    assert "ingress_timeout: '1 minute' is not a number of seconds" in out['error']
