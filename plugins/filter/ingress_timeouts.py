# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: ingress_timeouts
author: statewave.kubernetes contributors
version_added: 0.1.0
short_description: Translate one ingress timeout intent into what a given ingress controller reads
description:
  - Takes one intent (controller, timeout, optional connect and idle timeouts, host, TLS Secret) and returns the
    annotations for the Ingress, the annotations for the Service and the extra objects to apply for that controller,
    with every value in the controller's own unit and format.
  - "Controllers: C(ingress-nginx), C(f5-nginx) (Ingress annotations), C(f5-nginx-virtualserver), C(traefik) (v2.5+ and v3,
    ServersTransport), C(gke) (BackendConfig), C(gke-gateway) (GCPBackendPolicy), C(alb), C(azure), C(haproxy) (haproxytech),
    C(haproxy-ingress) (jcmoraisjr), C(kong), C(contour) (HTTPProxy), C(contour-ingress) (Ingress annotation), C(istio)
    (VirtualService), C(gateway-api) (HTTPRoute timeouts), C(envoy-gateway) (BackendTrafficPolicy)."
  - The timeout defaults to 120 seconds and must be at least 60 seconds unless O(_input.allow_short_timeout=true).
  - Invalid input (unknown controller, negative, non-numeric, above the controller's maximum, missing host) fails with a
    message that names the role variable (C(ingress_*)) and the fix. The maximum is the controller's own range (ALB
    4000 s, Azure 86400 s, Kong and HAProxy 2147483 s, GKE 2147483647 s, Gateway API 99999h59m59s), and for
    controllers that parse the value into a Go C(time.Duration) (Traefik, Contour, Istio, F5 NGINX) 9223372036 s.
  - Pure function; it does not contact the cluster. The companion filters
    P(statewave.kubernetes.ingress_crd_problems#filter) and P(statewave.kubernetes.ingress_stale_objects#filter)
    check CRDs and find objects left behind by a previous controller.
options:
  _input:
    description: The intent. Keys are the C(ingress_*) role variables without the prefix.
    type: dict
    required: true
    suboptions:
      enabled:
        description: Whether the API is exposed at all. When false, the result turns the chart Ingress off and wants no objects.
        type: bool
        default: true
      controller:
        description:
          - Controller name (or an alias such as C(nginx-inc), C(aws-alb), C(agic)).
          - Empty means detect it from O(_input.ingress_classes) and O(_input.class_name).
        type: str
      class_name:
        description: Ingress class name. Empty selects the cluster's default IngressClass during detection.
        type: str
      ingress_classes:
        description: The cluster's IngressClass objects (only read when O(_input.controller) is empty).
        type: list
        elements: dict
      timeout:
        description: Upstream read/response timeout; seconds as a number, a digit string or a duration such as C(2m).
        type: raw
        default: 120
      connect_timeout:
        description: Upstream connect timeout in seconds; empty keeps the controller default.
        type: raw
      idle_timeout:
        description: Upstream idle connection timeout in seconds; empty keeps the controller default.
        type: raw
      allow_short_timeout:
        description: Allow a timeout below 60 seconds (down to 1); a warning is still returned.
        type: bool
        default: false
      host:
        description: Public host name. Required when enabled.
        type: str
      path:
        description: Path prefix routed to the API.
        type: str
        default: /
      tls_secret_name:
        description: TLS Secret for the host (Ingress C(tls), HTTPProxy, VirtualServer); empty means no TLS section.
        type: str
      namespace:
        description: Namespace of the release and of the extra objects.
        type: str
        default: statewave
      release_name:
        description: Helm release name; used for the instance label and the Service name.
        type: str
        default: statewave
      service_name:
        description: Service name; empty means the chart's fullname (the release name if it contains C(statewave), else C(<release>-statewave)).
        type: str
      service_port:
        description: Service port.
        type: int
        default: 8100
      traefik_version:
        description:
          - Traefik version (C(3), C(2.11), ...); selects C(traefik.io) or C(traefik.containo.us).
          - Empty means the major version of the controller alias (C(traefik-v2) is 2, C(traefik-v3) is 3), else 3.
          - An explicit version that contradicts C(traefik-v2) or C(traefik-v3) is an error.
        type: str
        default: ""
      istio_gateways:
        description: Istio Gateways (C(<namespace>/<name>)) the VirtualService binds to. Required for C(istio).
        type: list
        elements: str
      istio_api_version:
        description: C(v1) (Istio 1.22+), C(v1beta1) or C(v1alpha3).
        type: str
        default: v1
      gateway_parent_refs:
        description: Gateway API parentRefs for the HTTPRoute. Required for C(gateway-api), C(envoy-gateway), C(gke-gateway).
        type: list
        elements: dict
      extra_annotations:
        description: More Ingress annotations; computed timeout annotations win (the ALB attribute list is merged).
        type: dict
      extra_service_annotations:
        description: More Service annotations; computed timeout annotations win.
        type: dict
      served_apis:
        description:
          - The C(apis) result of C(kubernetes.core.k8s_cluster_info); limits C(cleanup_kinds) to kinds the cluster serves.
          - Empty means unknown; every kind is listed.
        type: dict
      live_ingress_annotations:
        description: Annotations of the live Ingress, to warn about settings a controller switch cannot undo (ALB attributes).
        type: dict
"""

EXAMPLES = r"""
- name: Plan the timeouts for Traefik v3
  ansible.builtin.set_fact:
    plan: >-
      {{ {'controller': 'traefik', 'traefik_version': '3', 'timeout': 120, 'host': 'api.example.com',
          'namespace': 'statewave', 'release_name': 'statewave'} | statewave.kubernetes.ingress_timeouts }}
  # plan.service_annotations:
  #   traefik.ingress.kubernetes.io/service.serverstransport: statewave-statewave@kubernetescrd
  # plan.objects[0]: ServersTransport traefik.io/v1alpha1 with forwardingTimeouts.responseHeaderTimeout: 120s

- name: HAProxy reads bare numbers as milliseconds, so the filter always writes a unit
  ansible.builtin.debug:
    msg: "{{ ({'controller': 'haproxy', 'timeout': '2m', 'host': 'api.example.com'} | statewave.kubernetes.ingress_timeouts).ingress_annotations }}"
  # {"haproxy.org/timeout-server": "120s"}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    controller:
      description: Canonical controller name (empty when disabled).
      type: str
    routing:
      description: C(ingress) when the chart's Ingress carries the traffic, C(objects) when an extra routing object does, C(none) when disabled.
      type: str
    timeouts:
      description: The validated timeouts in seconds (C(timeout), C(connect_timeout), C(idle_timeout)).
      type: dict
    ingress_annotations:
      description: Annotations for the chart's Ingress (C(ingress.annotations)).
      type: dict
    service_annotations:
      description: Annotations for the chart's Service (C(service.annotations)).
      type: dict
    objects:
      description: Extra objects to apply (ServersTransport, BackendConfig, HTTPProxy, VirtualService, HTTPRoute, ...), labelled for cleanup.
      type: list
      elements: dict
    required_crds:
      description: CRDs the objects need, each with C(name), C(group), C(version), C(kind) and C(install) (what to install).
      type: list
      elements: dict
    cleanup_kinds:
      description: Every C(api_version)/C(kind) this collection may create and the cluster serves, to look for stale objects.
      type: list
      elements: dict
    selector:
      description: Label selector matching the objects this collection created for this release.
      type: str
    warnings:
      description: Settings that cannot take effect, or need attention.
      type: list
      elements: str
    manual_steps:
      description: What the operator must still do outside the cluster.
      type: list
      elements: str
    removed_annotations:
      description: Timeout annotations on the live Ingress that the new values no longer carry.
      type: list
      elements: str
    release_values:
      description: "Chart values to deep-merge: C(ingress) (C(enabled), C(className), C(annotations), C(hosts), C(tls)) and C(service.annotations)."
      type: dict
    summary:
      description: One line describing what is set.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.statewave.kubernetes.plugins.module_utils.ingress_timeouts import IngressTimeoutError, build_plan


def ingress_timeouts(intent):
    """Plan for one intent; see DOCUMENTATION."""
    try:
        return build_plan(intent)
    except IngressTimeoutError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """Ingress timeout translation."""

    def filters(self):
        return {'ingress_timeouts': ingress_timeouts}
