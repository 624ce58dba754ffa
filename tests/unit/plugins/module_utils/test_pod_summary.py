# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils pod_summary: what the workload role's entry point `pods` reports of a workload's pods
(the verify summaries' pods, restarts, images and "simulated" come from it)."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

from ansible_collections.statewave.kubernetes.plugins.module_utils.pod_summary import summarize


def pod(name, node, statuses=None, deleting=False):
    meta = {'name': name}
    if deleting:
        meta['deletionTimestamp'] = '2026-12-07T10:00:00Z'
    return {'metadata': meta, 'spec': {'nodeName': node} if node else {},
            'status': {'containerStatuses': statuses} if statuses is not None else {}}


def container(image, image_id='', restarts=0, ready=True):
    return {'image': image, 'imageID': image_id, 'restartCount': restarts, 'ready': ready}


def node(name, kwok=False):
    return {'metadata': {'name': name, 'annotations': {'kwok.x-k8s.io/node': 'fake'} if kwok else {'a': 'b'}}}


def test_real_pods_with_restarts_images_and_ready_containers():
    pods = [pod('api-1', 'worker-1', [container('sw:1.5.0', 'sha256:aa', restarts=2, ready=True)]),
            pod('api-2', 'worker-2', [container('sw:1.5.0', 'sha256:aa', restarts=1, ready=False),
                                      container('sidecar:1', '', restarts=0, ready=True)])]
    out = summarize(pods, [node('worker-1'), node('worker-2'), node('kwok-1', kwok=True)])
    assert out == {'pods': ['api-1', 'api-2'], 'nodes': ['worker-1', 'worker-2'], 'nodes_known': True,
                   'simulated': False, 'restarts': 3, 'images': ['sw:1.5.0', 'sidecar:1'],
                   'image_ids': ['sha256:aa'], 'ready': 2}


def test_pods_all_on_kwok_nodes_are_simulated_and_one_real_node_is_enough_to_say_not():
    simulated = [pod('api-1', 'kwok-1', []), pod('api-2', 'kwok-1', [])]
    assert summarize(simulated, [node('kwok-1', kwok=True)])['simulated'] is True
    mixed = simulated + [pod('api-3', 'worker-1', [])]
    assert summarize(mixed, [node('kwok-1', kwok=True), node('worker-1')])['simulated'] is False


def test_pods_being_deleted_and_unscheduled_pods_do_not_count_as_nodes():
    pods = [pod('old', 'kwok-1', [container('sw:1.4.0', restarts=5)], deleting=True), pod('pending', None)]
    out = summarize(pods, [node('kwok-1', kwok=True)])
    assert out['pods'] == ['pending']
    assert out['nodes'] == [] and out['restarts'] == 0 and out['images'] == []
    # No pod on a node: nothing ran, but nothing was simulated either.
    assert out['simulated'] is False


def test_nodes_that_could_not_be_read_leave_simulated_false_and_say_so():
    out = summarize([pod('api-1', 'kwok-1', [])], None)
    assert out['nodes_known'] is False
    assert out['simulated'] is False
    assert out['nodes'] == ['kwok-1']


def test_no_pods():
    assert summarize([], []) == {'pods': [], 'nodes': [], 'nodes_known': True, 'simulated': False,
                                 'restarts': 0, 'images': [], 'image_ids': [], 'ready': 0}
