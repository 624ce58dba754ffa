# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What runs behind a workload, from its pods and the nodes (statewave.kubernetes.pods_info, the
workload role's entry point `pods`). kwok (the local test control plane) only simulates pods: a node it
manages carries the annotation KWOK_NODE_ANNOTATION, and a workload all of whose pods sit on such nodes
is `simulated` (no container ran)."""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node'


def _unique(values):
    """The non-empty values, each once, in the order they first appear."""
    out = []
    for value in values:
        if value and value not in out:
            out.append(value)
    return out


def summarize(pods, nodes):
    """{pods, nodes, nodes_known, simulated, restarts, images, image_ids, ready} of `pods` (API
    objects as dicts). `nodes` is the cluster's node list, or None when it could not be read (an
    identity that may not list nodes): the summary then cannot say `simulated`."""
    live = [p for p in pods if not (p.get('metadata') or {}).get('deletionTimestamp')]
    pod_nodes = _unique((p.get('spec') or {}).get('nodeName') for p in live)
    kwok_nodes = [(n.get('metadata') or {}).get('name') for n in (nodes or [])
                  if KWOK_NODE_ANNOTATION in ((n.get('metadata') or {}).get('annotations') or {})]
    statuses = [c for p in live for c in ((p.get('status') or {}).get('containerStatuses') or [])]
    return {
        'pods': [(p.get('metadata') or {}).get('name') for p in live],
        'nodes': pod_nodes,
        'nodes_known': nodes is not None,
        'simulated': bool(pod_nodes) and all(n in kwok_nodes for n in pod_nodes),
        'restarts': sum(int(c.get('restartCount') or 0) for c in statuses),
        'images': _unique(c.get('image') for c in statuses),
        'image_ids': _unique(c.get('imageID') for c in statuses),
        'ready': len([c for c in statuses if c.get('ready') is True]),
    }
