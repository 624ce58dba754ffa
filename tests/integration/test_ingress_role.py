# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/ingress against the local cluster.

Each test runs tests/integration/playbooks/ingress_role.yml (the role, then the contract chart
installed with the role's ingress_release_values, as the release role does) in its own
namespace, then reads the live objects back with kubectl.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import re

import pytest

try:
    import ingress_helpers as h
except ImportError:  # tests/integration became a package
    from . import ingress_helpers as h

HOST = 'api.example.com'


@pytest.fixture(scope='module', autouse=True)
def cluster():
    h.require_cluster()
    h.apply_crds()
    yield


@pytest.fixture
def namespace(request):
    ns = h.Namespace(re.sub(r'[^a-z0-9]+', '-', request.node.name.lower().replace('test_', '', 1))[:24].strip('-')).create()
    yield ns.name
    ns.delete()


def annotations(obj):
    return dict((k, v) for k, v in ((obj or {}).get('metadata', {}).get('annotations') or {}).items() if not k.startswith('meta.helm.sh/'))


def assert_ok(run):
    assert run.rc == 0, run
    assert run.recap and run.recap['failed'] == 0, run


def assert_idempotent(namespace, tmp_path, role_vars, first):
    second = h.run_role(namespace, tmp_path, role_vars)
    assert_ok(second)
    assert second.recap['changed'] == 0, second
    assert second.values == first.values
    return second


# ------------------------------------------------------------------------------------------------
# Per controller: the objects and annotations are live, and a second run changes nothing.
# ------------------------------------------------------------------------------------------------

def test_traefik_v3(namespace, tmp_path):
    role_vars = {'ingress_enabled': True, 'ingress_controller': 'traefik', 'ingress_traefik_version': '3',
                 'ingress_class_name': 'traefik', 'ingress_host': HOST, 'ingress_timeout': 150, 'ingress_connect_timeout': 10}
    run = h.run_role(namespace, tmp_path, role_vars)
    assert_ok(run)
    assert run.recap['changed'] >= 2, run  # the ServersTransport and the release
    st = h.get_json('serverstransports.traefik.io', 'statewave', '-n', namespace)
    assert st['apiVersion'] == 'traefik.io/v1alpha1'
    assert st['spec']['forwardingTimeouts'] == {'responseHeaderTimeout': '150s', 'dialTimeout': '10s'}
    assert st['metadata']['labels']['statewave.io/ingress-controller'] == 'traefik'
    svc = h.get_json('service', 'statewave', '-n', namespace)
    assert annotations(svc) == {'traefik.ingress.kubernetes.io/service.serverstransport': '%s-statewave@kubernetescrd' % namespace}
    ing = h.get_json('ingress', 'statewave', '-n', namespace)
    assert ing['spec']['ingressClassName'] == 'traefik'
    assert ing['spec']['rules'][0]['host'] == HOST
    assert annotations(ing) == {}
    assert h.get_json('serverstransports.traefik.containo.us', 'statewave', '-n', namespace) is None
    assert 'WARNING: Traefik: the entrypoint settings transport.respondingTimeouts.readTimeout' in run.text
    assert_idempotent(namespace, tmp_path, role_vars, run)


def test_gke_backendconfig_with_release_name_prod(namespace, tmp_path):
    role_vars = {'ingress_enabled': True, 'ingress_controller': 'gke', 'ingress_class_name': 'gce', 'ingress_host': HOST,
                 'ingress_timeout': '3m', 'statewave_release_name': 'prod', 'ingress_tls_secret_name': 'api-tls'}
    run = h.run_role(namespace, tmp_path, role_vars)
    assert_ok(run)
    bc = h.get_json('backendconfigs.cloud.google.com', 'prod-statewave', '-n', namespace)
    assert bc['apiVersion'] == 'cloud.google.com/v1'
    assert bc['spec'] == {'timeoutSec': 180}
    svc = h.get_json('service', 'prod-statewave', '-n', namespace)
    assert json.loads(annotations(svc)['cloud.google.com/backend-config']) == {'default': 'prod-statewave'}
    ing = h.get_json('ingress', 'prod-statewave', '-n', namespace)
    assert ing['spec']['tls'] == [{'secretName': 'api-tls', 'hosts': [HOST]}]
    assert annotations(ing) == {}
    assert 'OUTSIDE THE CLUSTER: GKE Ingress' in run.text
    assert_idempotent(namespace, tmp_path, role_vars, run)


def test_contour_httpproxy(namespace, tmp_path):
    role_vars = {'ingress_enabled': True, 'ingress_controller': 'contour', 'ingress_host': HOST, 'ingress_timeout': 400,
                 'ingress_idle_timeout': 900, 'ingress_tls_secret_name': 'api-tls'}
    run = h.run_role(namespace, tmp_path, role_vars)
    assert_ok(run)
    proxy = h.get_json('httpproxies.projectcontour.io', 'statewave', '-n', namespace)
    assert proxy['spec']['virtualhost'] == {'fqdn': HOST, 'tls': {'secretName': 'api-tls'}}
    route = proxy['spec']['routes'][0]
    assert route['timeoutPolicy'] == {'response': '400s', 'idle': '400s', 'idleConnection': '900s'}
    assert route['services'] == [{'name': 'statewave', 'port': 8100}]
    # HTTPProxy routes the traffic: the chart's Ingress is off, the Service carries no timeout annotation
    assert h.get_json('ingress', 'statewave', '-n', namespace) is None
    assert annotations(h.get_json('service', 'statewave', '-n', namespace)) == {}
    assert_idempotent(namespace, tmp_path, role_vars, run)


def test_istio_virtualservice_and_destinationrule(namespace, tmp_path):
    role_vars = {'ingress_enabled': True, 'ingress_controller': 'istio', 'ingress_host': HOST, 'ingress_timeout': 120,
                 'ingress_connect_timeout': 5, 'ingress_istio_gateways': ['istio-system/public']}
    run = h.run_role(namespace, tmp_path, role_vars)
    assert_ok(run)
    vs = h.get_json('virtualservices.networking.istio.io', 'statewave', '-n', namespace)
    assert vs['apiVersion'] == 'networking.istio.io/v1'
    assert vs['spec']['gateways'] == ['istio-system/public']
    assert vs['spec']['http'][0]['timeout'] == '120s'
    assert vs['spec']['http'][0]['route'][0]['destination']['host'] == 'statewave.%s.svc.cluster.local' % namespace
    dr = h.get_json('destinationrules.networking.istio.io', 'statewave', '-n', namespace)
    assert dr['spec']['trafficPolicy'] == {'connectionPool': {'tcp': {'connectTimeout': '5s'}}}
    assert h.get_json('ingress', 'statewave', '-n', namespace) is None
    assert_idempotent(namespace, tmp_path, role_vars, run)


def test_gateway_api_httproute(namespace, tmp_path):
    role_vars = {'ingress_enabled': True, 'ingress_controller': 'gateway-api', 'ingress_host': HOST, 'ingress_timeout': 90,
                 'ingress_gateway_parent_refs': [{'name': 'public', 'namespace': 'gateways', 'sectionName': 'https'}]}
    run = h.run_role(namespace, tmp_path, role_vars)
    assert_ok(run)
    route = h.get_json('httproutes.gateway.networking.k8s.io', 'statewave', '-n', namespace)
    assert route['spec']['parentRefs'] == [{'name': 'public', 'namespace': 'gateways', 'sectionName': 'https'}]
    assert route['spec']['hostnames'] == [HOST]
    rule = route['spec']['rules'][0]
    assert rule['timeouts'] == {'request': '90s', 'backendRequest': '90s'}
    assert rule['backendRefs'] == [{'name': 'statewave', 'port': 8100}]
    assert h.get_json('ingress', 'statewave', '-n', namespace) is None
    assert 'HTTPRouteRequestTimeout' in run.text
    assert_idempotent(namespace, tmp_path, role_vars, run)


# ------------------------------------------------------------------------------------------------
# Detection, CRD checks, invalid input
# ------------------------------------------------------------------------------------------------

def test_controller_detected_from_the_ingressclass(namespace, tmp_path):
    class_name = namespace + '-class'  # cluster-scoped: unique per test
    manifest = {'apiVersion': 'networking.k8s.io/v1', 'kind': 'IngressClass', 'metadata': {'name': class_name},
                'spec': {'controller': 'ingress-controllers.konghq.com/kong'}}
    h.kubectl('apply', '-f', '-', input=json.dumps(manifest))
    try:
        run = h.run_role(namespace, tmp_path, {'ingress_enabled': True, 'ingress_controller': '', 'ingress_class_name': class_name,
                                               'ingress_host': HOST, 'ingress_timeout': 75})
        assert_ok(run)
        assert run.plan['controller'] == 'kong'
        svc = h.get_json('service', 'statewave', '-n', namespace)
        assert annotations(svc) == {'konghq.com/read-timeout': '75000', 'konghq.com/write-timeout': '75000'}
        assert h.get_json('ingress', 'statewave', '-n', namespace)['spec']['ingressClassName'] == class_name
    finally:
        h.kubectl('delete', 'ingressclass', class_name, '--ignore-not-found', check=False)


def test_missing_crd_says_what_to_install_and_changes_nothing(namespace, tmp_path):
    h.delete_crd('virtualservers.k8s.nginx.org')
    try:
        run = h.run_role(namespace, tmp_path, {'ingress_enabled': True, 'ingress_controller': 'f5-nginx-virtualserver',
                                               'ingress_host': HOST})
        assert run.rc != 0, run
        assert ('CRD virtualservers.k8s.nginx.org is not installed (VirtualServer k8s.nginx.org/v1 needs it): install the '
                'F5 NGINX Ingress Controller CRDs') in run.text, run
        # the role stopped at the check: no API error, nothing applied, no release
        assert 'Failed to find API' not in run.text and 'Failed to apply object' not in run.text
        assert 'Apply the extra objects' not in run.text
        assert h.managed_objects(namespace) == []
        assert h.get_json('service', 'statewave', '-n', namespace) is None
    finally:
        h.apply_crds('k8s.nginx.org_virtualservers.yaml')
    # with the CRD installed the same inventory goes through
    run = h.run_role(namespace, tmp_path, {'ingress_enabled': True, 'ingress_controller': 'f5-nginx-virtualserver',
                                           'ingress_host': HOST}, release=False)
    assert_ok(run)
    vs = h.get_json('virtualservers.k8s.nginx.org', 'statewave', '-n', namespace)
    assert vs['spec']['upstreams'][0]['read-timeout'] == '120s'


OLD_HTTPROUTE_CRD = {
    'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition',
    'metadata': {'name': 'httproutes.gateway.networking.k8s.io',
                 'annotations': {'api-approved.kubernetes.io': 'unapproved, test fixture of statewave.kubernetes'},
                 'labels': {'statewave.io/test-fixture': 'true'}},
    'spec': {'group': 'gateway.networking.k8s.io', 'scope': 'Namespaced',
             'names': {'kind': 'HTTPRoute', 'listKind': 'HTTPRouteList', 'plural': 'httproutes', 'singular': 'httproute'},
             'versions': [{'name': 'v1', 'served': True, 'storage': True, 'schema': {'openAPIV3Schema': {
                 'type': 'object', 'properties': {'spec': {'type': 'object', 'properties': {
                     'parentRefs': {'type': 'array', 'items': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}},
                     'hostnames': {'type': 'array', 'items': {'type': 'string'}},
                     'rules': {'type': 'array', 'items': {'type': 'object', 'properties': {
                         'matches': {'type': 'array', 'items': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}},
                         'backendRefs': {'type': 'array', 'items': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}},
                     }}}}}}}}}],
             }}


def test_httproute_crd_that_would_drop_timeouts_is_refused(namespace, tmp_path):
    """A Gateway API CRD without HTTPRoute timeouts (pre v1.2.0 standard) would silently prune them."""
    h.delete_crd('httproutes.gateway.networking.k8s.io')
    h.kubectl('apply', '-f', '-', input=json.dumps(OLD_HTTPROUTE_CRD))
    h.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', 'httproutes.gateway.networking.k8s.io')
    try:
        run = h.run_role(namespace, tmp_path, {'ingress_enabled': True, 'ingress_controller': 'gateway-api', 'ingress_host': HOST,
                                               'ingress_gateway_parent_refs': [{'name': 'public'}]}, release=False)
        assert run.rc != 0, run
        assert 'CRD httproutes.gateway.networking.k8s.io v1 has no field spec.rules.timeouts' in run.text, run
        assert 'Gateway API standard CRDs v1.2.0 or later' in run.text
        assert h.managed_objects(namespace) == []
    finally:
        h.delete_crd('httproutes.gateway.networking.k8s.io')
        h.apply_crds('gateway.networking.k8s.io_httproutes.yaml')


@pytest.mark.parametrize('role_vars,message', [
    ({'ingress_controller': 'nginx-plus-ultra'}, "ingress_controller: 'nginx-plus-ultra' is not a known controller"),
    ({'ingress_controller': 'alb', 'ingress_timeout': 4001}, 'ingress_timeout: 4001 s is above the AWS Load Balancer Controller'),
    ({'ingress_controller': 'haproxy', 'ingress_timeout': 'soon'}, "ingress_timeout: 'soon' is not a number of seconds"),
    ({'ingress_controller': 'kong', 'ingress_timeout': 30}, 'ingress_timeout: 30 s is below the 60 s minimum'),
])
def test_invalid_inventory_fails_before_touching_the_cluster(namespace, tmp_path, role_vars, message):
    variables = {'ingress_enabled': True, 'ingress_host': HOST}
    variables.update(role_vars)
    run = h.run_role(namespace, tmp_path, variables)
    assert run.rc != 0, run
    assert message in run.text, run
    assert h.managed_objects(namespace) == []
    assert h.get_json('service', 'statewave', '-n', namespace) is None


# ------------------------------------------------------------------------------------------------
# Switching controllers: nothing of the previous controller is left behind, and it is removed only
# after the release has switched over.
# ------------------------------------------------------------------------------------------------

def test_switching_controllers_leaves_nothing_behind(namespace, tmp_path):
    base = {'ingress_enabled': True, 'ingress_host': HOST}

    def step(**role_vars):
        variables = dict(base)
        variables.update(role_vars)
        run = h.run_role(namespace, tmp_path, variables)
        assert_ok(run)
        return run, annotations(h.get_json('service', 'statewave', '-n', namespace)), \
            h.get_json('ingress', 'statewave', '-n', namespace), h.managed_objects(namespace)

    run, svc, ing, objs = step(ingress_controller='traefik')
    assert objs == [('serverstransports.traefik.io', 'statewave')]
    assert list(svc) == ['traefik.ingress.kubernetes.io/service.serverstransport']

    run, svc, ing, objs = step(ingress_controller='alb', ingress_timeout=300)
    assert objs == []
    assert svc == {}
    assert annotations(ing) == {'alb.ingress.kubernetes.io/load-balancer-attributes': 'idle_timeout.timeout_seconds=300'}

    run, svc, ing, objs = step(ingress_controller='contour', ingress_idle_timeout=600)
    assert objs == [('httpproxies.projectcontour.io', 'statewave')]
    assert ing is None and svc == {}
    # the ALB keeps its attribute after the annotation is gone: the role says so
    assert 'does not reset the attribute' in run.text
    policy = h.get_json('httpproxies.projectcontour.io', 'statewave', '-n', namespace)['spec']['routes'][0]['timeoutPolicy']
    assert policy == {'response': '120s', 'idleConnection': '600s'}

    run, svc, ing, objs = step(ingress_controller='contour')
    policy = h.get_json('httpproxies.projectcontour.io', 'statewave', '-n', namespace)['spec']['routes'][0]['timeoutPolicy']
    assert policy == {'response': '120s'}  # a setting removed from the inventory is removed from the object

    # Mid-switch: what the new controller needs is applied before the release, the old route object is
    # removed only after it. Here the release fails: the HTTPProxy still routes, the ServersTransport is ready.
    failed = h.run_role(namespace, tmp_path, dict(base, ingress_controller='traefik', ingress_test_chart=str(tmp_path / 'no-such-chart')))
    assert failed.rc != 0 and failed.recap and failed.recap['failed'] == 1, failed
    after_release_task = failed.stdout.split("TASK [Install or upgrade the contract chart with the role's values]", 1)[1]
    assert 'fatal: [localhost]' in after_release_task.split('TASK [', 1)[0], failed  # the release step is what failed
    assert 'Delete what the current controller no longer needs' not in failed.text
    assert h.managed_objects(namespace) == [('httpproxies.projectcontour.io', 'statewave'), ('serverstransports.traefik.io', 'statewave')]
    assert h.get_json('ingress', 'statewave', '-n', namespace) is None
    assert annotations(h.get_json('service', 'statewave', '-n', namespace)) == {}

    # The next successful run switches the release, then sweeps the HTTPProxy and the failed attempt's ServersTransport.
    run, svc, ing, objs = step(ingress_controller='ingress-nginx', ingress_connect_timeout=10)
    assert objs == []
    assert run.stdout.index("TASK [Install or upgrade the contract chart") < run.stdout.index('Delete what the current controller no longer needs')
    assert annotations(ing) == {'nginx.ingress.kubernetes.io/proxy-connect-timeout': '10',
                                'nginx.ingress.kubernetes.io/proxy-read-timeout': '120',
                                'nginx.ingress.kubernetes.io/proxy-send-timeout': '120'}
    assert 'is retired' in run.text

    run, svc, ing, objs = step(ingress_controller='gke')
    assert objs == [('backendconfigs.cloud.google.com', 'statewave')]
    assert annotations(ing) == {}
    assert list(svc) == ['cloud.google.com/backend-config']

    run, svc, ing, objs = step(ingress_controller='istio', ingress_connect_timeout=5, ingress_istio_gateways=['istio-system/public'])
    assert objs == [('destinationrules.networking.istio.io', 'statewave'), ('virtualservices.networking.istio.io', 'statewave')]
    assert ing is None and svc == {}

    run, svc, ing, objs = step(ingress_enabled=False)
    assert objs == []
    # disabled: the main entry point alone removes everything, before the release (uninstall.yml relies on it)
    assert run.stdout.index('Delete what the current controller no longer needs') < run.stdout.index("TASK [Install or upgrade the contract chart")
    assert ing is None and svc == {}
    assert run.values['ingress']['enabled'] is False
