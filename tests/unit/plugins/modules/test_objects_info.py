# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""statewave.kubernetes.objects_info: one module run lists every kind with every selector, a kind the
cluster does not serve is reported (api_found=false) and skipped, items get their apiVersion and kind,
and any other error fails naming the kind. The dynamic client is faked."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import pytest

from ansible_collections.statewave.kubernetes.plugins.modules import objects_info as module
from ansible_collections.statewave.kubernetes.tests.unit.plugins.modules.module_exit import patch_exits, run_module  # noqa: E402

pytest.importorskip('kubernetes')


class NotServed(Exception):
    pass


class Listed(object):
    def __init__(self, items):
        self.items = items

    def to_dict(self):
        return {'kind': 'List', 'items': self.items}


class FakeDynamic(object):
    """Serves the kinds in `served` ({(api_version, kind): items or an exception})."""
    calls = []

    def __init__(self, served):
        self.served = served
        self.resources = self

    def get(self, resource=None, namespace=None, label_selector=None, api_version=None, kind=None):
        if resource is None:  # resources.get(api_version=..., kind=...)
            if (api_version, kind) not in self.served:
                raise NotServed(kind)
            return (api_version, kind)
        FakeDynamic.calls.append((resource, namespace, label_selector))
        items = self.served[resource]
        if isinstance(items, Exception):
            raise items
        return Listed([dict(item) for item in items])


PROXY = {'apiVersion': 'projectcontour.io/v1', 'kind': 'HTTPProxy', 'metadata': {'name': 'statewave', 'namespace': 'sw'}}
BARE_ST = {'metadata': {'name': 'statewave', 'namespace': 'sw'}}  # a list item without apiVersion and kind

ARGS = {'namespace': 'sw', 'label_selectors': ['app.kubernetes.io/managed-by=statewave.kubernetes', 'app.kubernetes.io/instance=statewave'],
        'kinds': [{'api_version': 'projectcontour.io/v1', 'kind': 'HTTPProxy'},
                  {'api_version': 'k8s.nginx.org/v1', 'kind': 'VirtualServer'},
                  {'api_version': 'traefik.io/v1alpha1', 'kind': 'ServersTransport'}]}


@pytest.fixture
def fake(monkeypatch):
    patch_exits(monkeypatch)
    FakeDynamic.calls = []
    monkeypatch.setattr(module, 'ResourceNotFoundError', NotServed)
    monkeypatch.setattr(module, 'api_client', lambda params: object())

    def use(served):
        monkeypatch.setattr(module, 'DynamicClient', lambda api: FakeDynamic(served))
    return use


def test_lists_every_served_kind_once_with_every_selector(fake):
    fake({('projectcontour.io/v1', 'HTTPProxy'): [PROXY], ('traefik.io/v1alpha1', 'ServersTransport'): [BARE_ST]})
    out = run_module(module, ARGS)
    assert not out.failed
    selector = 'app.kubernetes.io/managed-by=statewave.kubernetes,app.kubernetes.io/instance=statewave'
    assert FakeDynamic.calls == [(('projectcontour.io/v1', 'HTTPProxy'), 'sw', selector),
                                 (('traefik.io/v1alpha1', 'ServersTransport'), 'sw', selector)]
    assert out.result['changed'] is False
    assert [(r['apiVersion'], r['kind'], r['metadata']['name']) for r in out.result['resources']] == [
        ('projectcontour.io/v1', 'HTTPProxy', 'statewave'), ('traefik.io/v1alpha1', 'ServersTransport', 'statewave')]
    assert out.result['kinds'] == [
        {'api_version': 'projectcontour.io/v1', 'kind': 'HTTPProxy', 'api_found': True, 'count': 1},
        {'api_version': 'k8s.nginx.org/v1', 'kind': 'VirtualServer', 'api_found': False, 'count': 0},
        {'api_version': 'traefik.io/v1alpha1', 'kind': 'ServersTransport', 'api_found': True, 'count': 1}]


def test_a_list_that_fails_names_the_kind_namespace_and_selectors(fake):
    fake({('projectcontour.io/v1', 'HTTPProxy'): RuntimeError('(403) Forbidden'),
          ('traefik.io/v1alpha1', 'ServersTransport'): []})
    out = run_module(module, ARGS)
    assert out.failed
    assert out.result['msg'].startswith('Could not list the objects of namespace sw (app.kubernetes.io/managed-by=statewave.kubernetes, '
                                        'app.kubernetes.io/instance=statewave): projectcontour.io/v1 HTTPProxy: ')
    assert '403' in out.result['msg']


def test_a_kind_needs_its_api_version(fake):
    fake({})
    out = run_module(module, dict(ARGS, kinds=[{'kind': 'HTTPProxy'}]))
    assert out.failed
    assert 'api_version' in out.result['msg']
