# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""statewave.kubernetes.pods_info: one module run reads the pods (every selector) and the nodes, an
identity that may not list nodes still gets the summary, and a failed pod read fails with the
namespace and selectors. The API client is faked; the summary is pod_summary's."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import pytest

from ansible_collections.statewave.kubernetes.plugins.modules import pods_info as module
from ansible_collections.statewave.kubernetes.tests.unit.plugins.modules.module_exit import patch_exits, run_module  # noqa: E402

pytest.importorskip('kubernetes')


class ApiException(Exception):
    def __init__(self, status, reason):
        super(ApiException, self).__init__('(%s) %s' % (status, reason))
        self.status = status
        self.reason = reason


class FakeApi(object):
    def sanitize_for_serialization(self, obj):
        return obj


class FakeCore(object):
    calls = []

    def __init__(self, api, pods=None, nodes=None):
        self.pods, self.nodes = pods, nodes

    def list_namespaced_pod(self, namespace, label_selector):
        FakeCore.calls.append(('pods', namespace, label_selector))
        if isinstance(self.pods, Exception):
            raise self.pods
        return {'items': self.pods}

    def list_node(self):
        FakeCore.calls.append(('nodes',))
        if isinstance(self.nodes, Exception):
            raise self.nodes
        return {'items': self.nodes}


KWOK_POD = {'metadata': {'name': 'statewave-abc'}, 'spec': {'nodeName': 'kwok-node-0'},
            'status': {'containerStatuses': [{'image': 'statewavedev/statewave:1.5.0', 'restartCount': 0,
                                              'ready': True}]}}
KWOK_NODE = {'metadata': {'name': 'kwok-node-0', 'annotations': {'kwok.x-k8s.io/node': 'fake'}}}


@pytest.fixture
def fake(monkeypatch):
    patch_exits(monkeypatch)
    FakeCore.calls = []
    monkeypatch.setattr(module, 'ApiException', ApiException)
    monkeypatch.setattr(module, 'api_client', lambda params: FakeApi())

    def use(pods, nodes):
        monkeypatch.setattr(module.k8s_client, 'CoreV1Api', lambda api: FakeCore(api, pods, nodes))
    return use


ARGS = {'namespace': 'sw', 'label_selectors': ['app.kubernetes.io/instance=statewave', 'app.kubernetes.io/component=api']}


def test_reads_the_pods_with_every_selector_and_the_nodes_once(fake):
    fake([KWOK_POD], [KWOK_NODE])
    out = run_module(module, ARGS)
    assert not out.failed
    assert FakeCore.calls == [('pods', 'sw', 'app.kubernetes.io/instance=statewave,app.kubernetes.io/component=api'),
                              ('nodes',)]
    assert out.result['changed'] is False
    assert out.result['summary']['pods'] == ['statewave-abc']
    assert out.result['summary']['simulated'] is True and out.result['summary']['nodes_known'] is True
    assert 'nodes_error' not in out.result


def test_nodes_it_may_not_list_leave_a_summary_without_their_kind(fake):
    fake([KWOK_POD], ApiException(403, 'Forbidden'))
    out = run_module(module, ARGS)
    assert not out.failed
    assert out.result['summary']['nodes_known'] is False
    assert out.result['summary']['simulated'] is False
    assert out.result['nodes_error'] == '(403) Forbidden'


def test_a_pod_read_that_fails_names_the_namespace_and_selectors(fake):
    fake(ApiException(403, 'Forbidden'), [KWOK_NODE])
    out = run_module(module, ARGS)
    assert out.failed
    assert out.result['msg'].startswith('Could not list the pods of namespace sw (app.kubernetes.io/instance=statewave, '
                                        'app.kubernetes.io/component=api): ')
    assert '403' in out.result['msg']
