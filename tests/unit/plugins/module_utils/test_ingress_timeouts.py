# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for plugins/module_utils/ingress_timeouts.py (the per-controller translation)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import re

import pytest

from ansible_collections.statewave.kubernetes.plugins.module_utils import ingress_timeouts as it

Error = it.IngressTimeoutError
HOST = 'api.example.com'
PARENT = [{'name': 'public', 'namespace': 'gateways'}]


def plan_for(controller, **kw):
    intent = {'controller': controller, 'host': HOST, 'namespace': 'sw', 'release_name': 'statewave'}
    if controller == 'istio':
        intent['istio_gateways'] = ['istio-system/public']
    if controller in ('gateway-api', 'envoy-gateway', 'gke-gateway'):
        intent['gateway_parent_refs'] = PARENT
    intent.update(kw)
    return it.build_plan(intent)


def objects_by_kind(plan):
    return dict((o['kind'], o) for o in plan['objects'])


def warnings_text(plan):
    return '\n'.join(plan['warnings'])


# ---------------------------------------------------------------------------------------------
# Every controller, default intent: the exact keys and values each controller reads.
# ---------------------------------------------------------------------------------------------

def test_every_controller_has_a_builder_and_builds():
    assert sorted(it.BUILDERS) == it.controller_names()
    for name in it.controller_names():
        plan = plan_for(name)
        assert plan['controller'] == name
        assert plan['timeouts']['timeout'] == 120
        # something must carry the timeout: an annotation or an object
        assert plan['ingress_annotations'] or plan['service_annotations'] or plan['objects'], name
        for value in list(plan['ingress_annotations'].values()) + list(plan['service_annotations'].values()):
            assert isinstance(value, str), (name, value)


def test_ingress_nginx_integer_seconds_without_unit():
    plan = plan_for('ingress-nginx', timeout=120, connect_timeout=10)
    assert plan['ingress_annotations'] == {
        'nginx.ingress.kubernetes.io/proxy-connect-timeout': '10',
        'nginx.ingress.kubernetes.io/proxy-read-timeout': '120',
        'nginx.ingress.kubernetes.io/proxy-send-timeout': '120',
    }
    assert plan['service_annotations'] == {}
    assert plan['objects'] == []
    assert 'retired' in warnings_text(plan)


@pytest.mark.parametrize('given', ['2m', '120s', '120', 120, 120.0, '120.0'])
def test_ingress_nginx_never_gets_a_unit(given):
    plan = plan_for('ingress-nginx', timeout=given)
    for value in plan['ingress_annotations'].values():
        assert re.match(r'^[0-9]+$', value), value
    assert plan['ingress_annotations']['nginx.ingress.kubernetes.io/proxy-read-timeout'] == '120'


def test_ingress_nginx_connect_above_75_warns():
    assert '75 s' in warnings_text(plan_for('ingress-nginx', connect_timeout=90))
    assert '75 s' not in warnings_text(plan_for('ingress-nginx', connect_timeout=75))


def test_f5_nginx_annotations_use_nginx_org_time_strings():
    plan = plan_for('f5-nginx', timeout=180, connect_timeout=5)
    assert plan['ingress_annotations'] == {
        'nginx.org/proxy-connect-timeout': '5s',
        'nginx.org/proxy-read-timeout': '180s',
        'nginx.org/proxy-send-timeout': '180s',
    }
    assert not any(k.startswith('nginx.ingress.kubernetes.io/') for k in plan['ingress_annotations'])


def test_f5_virtualserver_object():
    plan = plan_for('f5-nginx-virtualserver', tls_secret_name='api-tls', class_name='nginx', connect_timeout=7)
    vs = objects_by_kind(plan)['VirtualServer']
    assert vs['apiVersion'] == 'k8s.nginx.org/v1'
    assert vs['spec']['host'] == HOST
    assert vs['spec']['tls'] == {'secret': 'api-tls'}
    assert vs['spec']['ingressClassName'] == 'nginx'
    upstream = vs['spec']['upstreams'][0]
    assert upstream['service'] == 'statewave' and upstream['port'] == 8100
    assert (upstream['read-timeout'], upstream['send-timeout'], upstream['connect-timeout']) == ('120s', '120s', '7s')
    assert vs['spec']['routes'] == [{'path': '/', 'action': {'pass': upstream['name']}}]
    assert plan['release_values']['ingress']['enabled'] is False
    assert [c['name'] for c in plan['required_crds']] == ['virtualservers.k8s.nginx.org']


@pytest.mark.parametrize('version,group', [
    ('3', 'traefik.io'), ('v3.1', 'traefik.io'), ('3.7.9', 'traefik.io'),
    ('2.10', 'traefik.io'), ('2.11.53', 'traefik.io'),
    ('2.9', 'traefik.containo.us'), ('2.5', 'traefik.containo.us'), ('2', 'traefik.containo.us'),
])
def test_traefik_api_group_per_version(version, group):
    plan = plan_for('traefik', traefik_version=version)
    st = objects_by_kind(plan)['ServersTransport']
    assert st['apiVersion'] == group + '/v1alpha1'
    assert plan['required_crds'][0]['name'] == 'serverstransports.' + group
    assert ('without a minor version' in warnings_text(plan)) == (version == '2')


def test_traefik_servers_transport_referenced_from_the_service_not_a_middleware():
    plan = plan_for('traefik', connect_timeout=10, idle_timeout=90)
    st = objects_by_kind(plan)['ServersTransport']
    assert st['metadata'] == {
        'name': 'statewave', 'namespace': 'sw',
        'labels': {'app.kubernetes.io/managed-by': 'statewave.kubernetes', 'app.kubernetes.io/instance': 'statewave',
                   'app.kubernetes.io/part-of': 'statewave', 'statewave.io/ingress-controller': 'traefik'},
    }
    assert st['spec'] == {'forwardingTimeouts': {'responseHeaderTimeout': '120s', 'dialTimeout': '10s', 'idleConnTimeout': '90s'}}
    assert plan['service_annotations'] == {'traefik.ingress.kubernetes.io/service.serverstransport': 'sw-statewave@kubernetescrd'}
    assert not any('middleware' in k for k in plan['ingress_annotations'])
    assert 'readTimeout' in warnings_text(plan)
    assert plan['release_values']['ingress']['enabled'] is True


@pytest.mark.parametrize('alias,version,group', [
    ('traefik-v2', None, 'traefik.containo.us'), ('traefik-v2', '', 'traefik.containo.us'),
    ('traefik-v2', '2.11', 'traefik.io'), ('traefik-v2', '2.9', 'traefik.containo.us'),
    ('Traefik-V3', None, 'traefik.io'), ('traefik-v3', '3.1', 'traefik.io'),
    ('traefik', None, 'traefik.io'), ('traefik', '', 'traefik.io'),
])
def test_traefik_alias_implies_the_major_version(alias, version, group):
    plan = plan_for(alias, traefik_version=version)
    assert plan['controller'] == 'traefik'
    assert objects_by_kind(plan)['ServersTransport']['apiVersion'] == group + '/v1alpha1'
    assert plan['required_crds'][0]['name'] == 'serverstransports.' + group
    # "traefik-v2" alone cannot tell 2.9 from 2.11: it takes the group every 2.5+ reads, and says so
    assert ('without a minor version' in warnings_text(plan)) == (alias == 'traefik-v2' and not version)


@pytest.mark.parametrize('alias,version,major', [('traefik-v2', '3', 2), ('traefik-v2', 'v3.1', 2), ('traefik-v3', '2.9', 3),
                                                 ('traefik-v3', '2.11', 3)])
def test_traefik_alias_and_explicit_version_must_agree(alias, version, major):
    with pytest.raises(Error) as exc:
        plan_for(alias, traefik_version=version)
    text = str(exc.value)
    assert text.startswith("ingress_controller: '{0}' means Traefik {1}, but ingress_traefik_version is '{2}'".format(alias, major, version))
    assert 'set ingress_controller: traefik' in text


def test_traefik_unquoted_yaml_version_hint():
    with pytest.raises(Error, match='YAML reads an unquoted 2.10 as 2.1'):
        plan_for('traefik', traefik_version=2.1)


@pytest.mark.parametrize('version', ['2.4', '2.0', '1', '4', 'latest', 'v3.x'])
def test_traefik_unsupported_versions(version):
    with pytest.raises(Error, match='ingress_traefik_version'):
        plan_for('traefik', traefik_version=version)


def test_gke_backendconfig_needs_the_service_annotation():
    plan = plan_for('gke', timeout=300)
    bc = objects_by_kind(plan)['BackendConfig']
    assert bc['apiVersion'] == 'cloud.google.com/v1'
    assert bc['metadata']['namespace'] == 'sw'  # must be the Service's namespace
    assert bc['spec'] == {'timeoutSec': 300}
    assert isinstance(bc['spec']['timeoutSec'], int)
    ann = plan['service_annotations']['cloud.google.com/backend-config']
    assert json.loads(ann) == {'default': 'statewave'}
    assert plan['ingress_annotations'] == {}


def test_gke_gateway_policy_targets_the_service():
    plan = plan_for('gke-gateway', timeout=90)
    objs = objects_by_kind(plan)
    pol = objs['GCPBackendPolicy']
    assert pol['apiVersion'] == 'networking.gke.io/v1'
    assert pol['spec'] == {'default': {'timeoutSec': 90}, 'targetRef': {'group': '', 'kind': 'Service', 'name': 'statewave'}}
    assert objs['HTTPRoute']['spec']['parentRefs'] == PARENT
    assert 'timeouts' not in objs['HTTPRoute']['spec']['rules'][0]
    assert 'BackendConfig' not in objs
    assert plan['release_values']['ingress']['enabled'] is False


def test_alb_sets_the_load_balancer_idle_timeout_only():
    plan = plan_for('alb', timeout=300)
    assert plan['ingress_annotations'] == {'alb.ingress.kubernetes.io/load-balancer-attributes': 'idle_timeout.timeout_seconds=300'}
    assert 'target-group-attributes' not in json.dumps(plan)
    assert 'routing.http.response.server.enabled' not in json.dumps(plan)
    assert plan['manual_steps'] and 'listener' in plan['manual_steps'][0]


def test_alb_uses_the_larger_of_timeout_and_idle():
    plan = plan_for('alb', timeout=120, idle_timeout=600)
    assert plan['ingress_annotations']['alb.ingress.kubernetes.io/load-balancer-attributes'] == 'idle_timeout.timeout_seconds=600'


@pytest.mark.parametrize('seconds,ok', [(1, True), (59, True), (60, True), (4000, True), (4001, False), (10000, False)])
def test_alb_range_1_to_4000(seconds, ok):
    if ok:
        plan = plan_for('alb', timeout=seconds, allow_short_timeout=True)
        assert plan['ingress_annotations']['alb.ingress.kubernetes.io/load-balancer-attributes'].endswith('=%d' % seconds)
    else:
        with pytest.raises(Error, match=r'ingress_timeout: %d s is above the AWS Load Balancer Controller, ALB Ingress maximum '
                                        r'of 4000 s \(the ALB idle timeout range is 1-4000 s\); set ingress_timeout to 4000 or '
                                        r'less' % seconds):
            plan_for('alb', timeout=seconds)


def test_alb_idle_above_maximum_names_the_idle_variable():
    with pytest.raises(Error, match=r'^ingress_idle_timeout: 4001 s is above'):
        plan_for('alb', idle_timeout=4001)


def test_alb_attribute_merges_with_user_attributes():
    extra = {'alb.ingress.kubernetes.io/load-balancer-attributes':
             'access_logs.s3.enabled=true,idle_timeout.timeout_seconds=30,routing.http2.enabled=true',
             'alb.ingress.kubernetes.io/scheme': 'internet-facing'}
    plan = plan_for('alb', extra_annotations=extra)
    assert plan['ingress_annotations'] == {
        'alb.ingress.kubernetes.io/load-balancer-attributes':
            'access_logs.s3.enabled=true,idle_timeout.timeout_seconds=120,routing.http2.enabled=true',
        'alb.ingress.kubernetes.io/scheme': 'internet-facing',
    }
    # merged, not overridden: no conflict warning for the attribute list
    assert 'ingress_extra_annotations sets' not in warnings_text(plan)


def test_alb_tls_secret_is_ignored_with_a_warning():
    assert 'ACM' in warnings_text(plan_for('alb', tls_secret_name='api-tls'))


@pytest.mark.parametrize('seconds,ok', [(86400, True), (86401, False)])
def test_azure_request_timeout_range(seconds, ok):
    if ok:
        assert plan_for('azure', timeout=seconds)['ingress_annotations'] == {'appgw.ingress.kubernetes.io/request-timeout': str(seconds)}
    else:
        with pytest.raises(Error, match='above the Azure Application Gateway Ingress Controller maximum of 86400 s'):
            plan_for('azure', timeout=seconds)


def test_haproxytech_always_writes_a_unit_because_bare_numbers_are_milliseconds():
    plan = plan_for('haproxy', timeout='2m', connect_timeout=5)
    assert plan['ingress_annotations'] == {'haproxy.org/timeout-connect': '5s', 'haproxy.org/timeout-server': '120s'}
    for value in plan['ingress_annotations'].values():
        assert not re.match(r'^[0-9]+$', value)


def test_haproxy_ingress_jcmoraisjr_prefix_and_unit():
    plan = plan_for('haproxy-ingress', timeout=90, connect_timeout=4)
    assert plan['ingress_annotations'] == {'haproxy-ingress.github.io/timeout-connect': '4s',
                                           'haproxy-ingress.github.io/timeout-server': '90s'}


@pytest.mark.parametrize('controller', ['haproxy', 'haproxy-ingress'])
def test_haproxy_maximum_is_int32_milliseconds(controller):
    assert plan_for(controller, timeout=2147483)['ingress_annotations']
    with pytest.raises(Error, match='maximum of 2147483 s'):
        plan_for(controller, timeout=2147484)


def test_kong_milliseconds_on_the_service():
    plan = plan_for('kong', timeout=120, connect_timeout=5)
    assert plan['service_annotations'] == {
        'konghq.com/connect-timeout': '5000',
        'konghq.com/read-timeout': '120000',
        'konghq.com/write-timeout': '120000',
    }
    assert plan['ingress_annotations'] == {}


def test_kong_maximum():
    assert plan_for('kong', timeout=2147483)['service_annotations']['konghq.com/read-timeout'] == '2147483000'
    with pytest.raises(Error, match='Kong Ingress Controller maximum of 2147483 s'):
        plan_for('kong', timeout=2147484)


def test_contour_httpproxy():
    plan = plan_for('contour', tls_secret_name='api-tls', idle_timeout=600, class_name='contour')
    proxy = objects_by_kind(plan)['HTTPProxy']
    assert proxy['apiVersion'] == 'projectcontour.io/v1'
    assert proxy['spec']['virtualhost'] == {'fqdn': HOST, 'tls': {'secretName': 'api-tls'}}
    assert proxy['spec']['ingressClassName'] == 'contour'
    route = proxy['spec']['routes'][0]
    assert route['services'] == [{'name': 'statewave', 'port': 8100}]
    assert route['timeoutPolicy'] == {'response': '120s', 'idleConnection': '600s'}
    assert plan['release_values']['ingress']['enabled'] is False


def test_contour_long_timeout_also_lifts_the_stream_idle_timeout():
    route = objects_by_kind(plan_for('contour', timeout=301))['HTTPProxy']['spec']['routes'][0]
    assert route['timeoutPolicy'] == {'response': '301s', 'idle': '301s'}
    route = objects_by_kind(plan_for('contour', timeout=300))['HTTPProxy']['spec']['routes'][0]
    assert route['timeoutPolicy'] == {'response': '300s'}


def test_contour_ingress_annotation():
    plan = plan_for('contour-ingress', timeout=90)
    assert plan['ingress_annotations'] == {'projectcontour.io/response-timeout': '90s'}
    assert plan['objects'] == []
    assert plan['release_values']['ingress']['enabled'] is True


def test_istio_virtualservice_and_optional_destinationrule():
    plan = plan_for('istio')
    assert [o['kind'] for o in plan['objects']] == ['VirtualService']
    vs = plan['objects'][0]
    assert vs['apiVersion'] == 'networking.istio.io/v1'
    assert vs['spec']['hosts'] == [HOST]
    assert vs['spec']['gateways'] == ['istio-system/public']
    http = vs['spec']['http'][0]
    assert http['timeout'] == '120s'
    assert http['route'][0]['destination'] == {'host': 'statewave.sw.svc.cluster.local', 'port': {'number': 8100}}

    plan = plan_for('istio', connect_timeout=3, idle_timeout=900, istio_api_version='v1beta1')
    objs = objects_by_kind(plan)
    assert objs['VirtualService']['apiVersion'] == 'networking.istio.io/v1beta1'
    assert objs['DestinationRule']['spec'] == {
        'host': 'statewave.sw.svc.cluster.local',
        'trafficPolicy': {'connectionPool': {'tcp': {'connectTimeout': '3s'}, 'http': {'idleTimeout': '900s'}}},
    }
    names = sorted(c['name'] for c in plan['required_crds'])
    assert names == ['destinationrules.networking.istio.io', 'virtualservices.networking.istio.io']
    assert all(c['version'] == 'v1beta1' for c in plan['required_crds'])


def test_gateway_api_httproute_timeouts():
    plan = plan_for('gateway-api', timeout=150, path='/v1')
    route = objects_by_kind(plan)['HTTPRoute']
    assert route['apiVersion'] == 'gateway.networking.k8s.io/v1'
    assert route['spec']['hostnames'] == [HOST]
    rule = route['spec']['rules'][0]
    assert rule['timeouts'] == {'request': '150s', 'backendRequest': '150s'}
    assert rule['matches'] == [{'path': {'type': 'PathPrefix', 'value': '/v1'}}]
    assert rule['backendRefs'] == [{'name': 'statewave', 'port': 8100}]
    assert plan['required_crds'][0]['schema_path'] == ['spec', 'rules', 'timeouts']
    assert 'supportedFeatures' in warnings_text(plan)


@pytest.mark.parametrize('seconds,expected', [
    (60, '60s'), (99999, '99999s'), (100000, '27h46m40s'), (360000, '100h'), (363600 + 61, '101h1m1s'),
    (it.GATEWAY_MAX_SECONDS, '99999h59m59s'),
])
def test_gateway_duration_format(seconds, expected):
    assert it.gateway_duration(seconds) == expected
    assert it.GATEWAY_DURATION_RE.match(expected)
    # the formatted value means the same number of seconds
    assert it.parse_seconds(expected, 'x') == seconds


def test_gateway_duration_maximum():
    with pytest.raises(Error, match='maximum of 359999999 s'):
        plan_for('gateway-api', timeout=it.GATEWAY_MAX_SECONDS + 1)
    with pytest.raises(Error):
        it.gateway_duration(it.GATEWAY_MAX_SECONDS + 1)


def test_envoy_gateway_backend_traffic_policy():
    plan = plan_for('envoy-gateway', timeout=100000, connect_timeout=5, idle_timeout=3600)
    objs = objects_by_kind(plan)
    pol = objs['BackendTrafficPolicy']
    assert pol['apiVersion'] == 'gateway.envoyproxy.io/v1alpha1'
    assert pol['spec']['targetRefs'] == [{'group': 'gateway.networking.k8s.io', 'kind': 'HTTPRoute', 'name': 'statewave'}]
    assert pol['spec']['timeout'] == {'http': {'requestTimeout': '27h46m40s', 'connectionIdleTimeout': '3600s'},
                                      'tcp': {'connectTimeout': '5s'}}
    # HTTPRoute timeouts would take precedence over the policy, so the route carries none
    assert 'timeouts' not in objs['HTTPRoute']['spec']['rules'][0]


# Where each controller that parses durations into Go's time.Duration gets the main timeout.
GO_DURATION_VALUE = {
    'traefik': lambda p: objects_by_kind(p)['ServersTransport']['spec']['forwardingTimeouts']['responseHeaderTimeout'],
    'contour': lambda p: objects_by_kind(p)['HTTPProxy']['spec']['routes'][0]['timeoutPolicy']['response'],
    'contour-ingress': lambda p: p['ingress_annotations']['projectcontour.io/response-timeout'],
    'istio': lambda p: objects_by_kind(p)['VirtualService']['spec']['http'][0]['timeout'],
    'f5-nginx': lambda p: p['ingress_annotations']['nginx.org/proxy-read-timeout'],
    'f5-nginx-virtualserver': lambda p: objects_by_kind(p)['VirtualServer']['spec']['upstreams'][0]['read-timeout'],
}
GO_MAX_SECONDS = 9223372036  # int64 nanoseconds: 9223372036.854775807 s


def test_go_duration_maximum_is_what_int64_nanoseconds_hold():
    assert it.GO_DURATION_MAX_SECONDS == GO_MAX_SECONDS
    assert GO_MAX_SECONDS * 10 ** 9 <= 2 ** 63 - 1 < (GO_MAX_SECONDS + 1) * 10 ** 9


@pytest.mark.parametrize('controller', sorted(GO_DURATION_VALUE))
def test_go_duration_controllers_accept_the_largest_go_duration(controller):
    plan = plan_for(controller, timeout=GO_MAX_SECONDS)
    assert GO_DURATION_VALUE[controller](plan) == '9223372036s'


@pytest.mark.parametrize('seconds', [GO_MAX_SECONDS + 1, 10 ** 12])
@pytest.mark.parametrize('controller', sorted(GO_DURATION_VALUE))
def test_go_duration_controllers_refuse_what_a_go_duration_cannot_hold(controller, seconds):
    with pytest.raises(Error) as exc:
        plan_for(controller, timeout=seconds)
    assert str(exc.value) == (
        'ingress_timeout: {0} s is above the {1} maximum of 9223372036 s (the largest Go time.Duration, which the controller '
        'parses the value into); set ingress_timeout to 9223372036 or less'.format(seconds, it.CONTROLLERS[controller]['title']))


@pytest.mark.parametrize('controller,key', [('traefik', 'idle_timeout'), ('traefik', 'connect_timeout'), ('istio', 'connect_timeout'),
                                            ('contour', 'idle_timeout'), ('f5-nginx', 'connect_timeout')])
def test_go_duration_maximum_applies_to_connect_and_idle(controller, key):
    assert plan_for(controller, **{key: GO_MAX_SECONDS})
    with pytest.raises(Error, match=r'^ingress_{0}: 9223372037 s is above .* maximum of 9223372036 s'.format(key)):
        plan_for(controller, **{key: GO_MAX_SECONDS + 1})


def test_a_duration_string_above_the_go_maximum_is_refused():
    with pytest.raises(Error, match=r'^ingress_timeout: 9223372037 s is above the Traefik'):
        plan_for('traefik', timeout='2562047h47m17s')  # 9223372037 s
    assert GO_DURATION_VALUE['traefik'](plan_for('traefik', timeout='2562047h47m16s')) == '9223372036s'


@pytest.mark.parametrize('controller', ['gke', 'gke-gateway'])
def test_gke_int32_maximum(controller):
    assert plan_for(controller, timeout=2147483647)
    with pytest.raises(Error, match='maximum of 2147483647 s'):
        plan_for(controller, timeout=2147483648)


@pytest.mark.parametrize('controller,field', [
    ('azure', 'ingress_connect_timeout'), ('gke', 'ingress_idle_timeout'), ('kong', 'ingress_idle_timeout'),
    ('gateway-api', 'ingress_connect_timeout'), ('alb', 'ingress_connect_timeout'), ('contour', 'ingress_connect_timeout'),
])
def test_settings_that_cannot_take_effect_are_reported(controller, field):
    plan = plan_for(controller, connect_timeout=5, idle_timeout=90)
    assert any(w.startswith(field + ' is set but') for w in plan['warnings']), plan['warnings']


@pytest.mark.parametrize('controller', ['istio', 'gateway-api', 'envoy-gateway', 'gke-gateway'])
def test_tls_secret_on_gateway_controllers_is_reported(controller):
    assert 'ingress_tls_secret_name is not used' in warnings_text(plan_for(controller, tls_secret_name='api-tls'))
    assert 'ingress_tls_secret_name is not used' not in warnings_text(plan_for(controller))


# ---------------------------------------------------------------------------------------------
# Timeout values: parsing, defaults, boundaries, invalid input
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('value,seconds', [
    (120, 120), ('120', 120), (' 90 ', 90), ('2m', 120), ('1h', 3600), ('1h30m', 5400), ('90s', 90), ('2000ms', 2),
    (61.0, 61), ('75.0', 75), ('+80', 80),
])
def test_parse_seconds(value, seconds):
    assert it.parse_seconds(value, 'ingress_timeout') == seconds


@pytest.mark.parametrize('value,message', [
    ('abc', "ingress_timeout: 'abc' is not a number of seconds; set e.g. ingress_timeout: 120"),
    ('', "ingress_timeout: '' is not a number of seconds"),
    ('60 s', "is not a number of seconds"),
    ('1d', "is not a number of seconds"),
    ([120], "is not a number of seconds"),
    ({'s': 1}, "is not a number of seconds"),
    (None, "is not a number of seconds"),
    (True, "ingress_timeout: True is a boolean, not a number of seconds"),
    (90.5, "is not a whole number of seconds"),
    ('90.5', "is not a whole number of seconds"),
    ('1500ms', "is not a whole number of seconds"),
    (float('nan'), "is not a number of seconds"),
    (float('inf'), "is not a number of seconds"),
    (-5, "ingress_timeout: -5 is negative; set a positive number of seconds"),
    ('-5', "is negative"),
    ('-2m', "is negative"),
])
def test_parse_seconds_invalid(value, message):
    with pytest.raises(Error) as exc:
        it.parse_seconds(value, 'ingress_timeout')
    assert message in str(exc.value)


def test_default_timeout_is_120():
    plan = it.build_plan({'controller': 'ingress-nginx', 'host': HOST})
    assert plan['timeouts'] == {'timeout': 120, 'connect_timeout': None, 'idle_timeout': None}
    assert plan_for('kong', timeout='')['timeouts']['timeout'] == 120
    assert plan_for('kong', timeout=None)['timeouts']['timeout'] == 120


def test_minimum_60_unless_overridden():
    assert plan_for('ingress-nginx', timeout=60)['timeouts']['timeout'] == 60
    with pytest.raises(Error, match=r'^ingress_timeout: 59 s is below the 60 s minimum.*ingress_allow_short_timeout: true'):
        plan_for('ingress-nginx', timeout=59)
    plan = plan_for('ingress-nginx', timeout=30, allow_short_timeout=True)
    assert plan['ingress_annotations']['nginx.ingress.kubernetes.io/proxy-read-timeout'] == '30'
    assert 'below the recommended 60 s' in warnings_text(plan)
    assert 'below the recommended' not in warnings_text(plan_for('ingress-nginx', timeout=60))


def test_zero_is_rejected_even_with_override():
    with pytest.raises(Error, match='^ingress_timeout: 0 would disable'):
        plan_for('gateway-api', timeout=0, allow_short_timeout=True)
    with pytest.raises(Error, match='^ingress_connect_timeout: 0 is not a usable timeout'):
        plan_for('traefik', connect_timeout=0)


@pytest.mark.parametrize('key', ['connect_timeout', 'idle_timeout'])
@pytest.mark.parametrize('value,message', [('x', 'is not a number of seconds'), (-1, 'is negative'), (False, 'is a boolean')])
def test_connect_and_idle_invalid(key, value, message):
    with pytest.raises(Error) as exc:
        plan_for('traefik', **{key: value})
    assert str(exc.value).startswith('ingress_' + key + ': ')
    assert message in str(exc.value)


def test_unknown_controller():
    with pytest.raises(Error) as exc:
        plan_for('nginx-plus-ultra')
    text = str(exc.value)
    assert text.startswith("ingress_controller: 'nginx-plus-ultra' is not a known controller; use one of: ")
    for name in it.controller_names():
        assert name in text


@pytest.mark.parametrize('alias,name', [('aws-alb', 'alb'), ('AGIC', 'azure'), ('Traefik-V3', 'traefik'), ('gce', 'gke'),
                                        ('nginx-inc', 'f5-nginx'), ('httproute', 'gateway-api')])
def test_aliases(alias, name):
    assert plan_for(alias, gateway_parent_refs=PARENT)['controller'] == name


@pytest.mark.parametrize('host,ok', [('api.example.com', True), ('*.example.com', True), ('API.Example.com', True),
                                     ('', False), ('bad_host.example.com', False), ('-a.example.com', False),
                                     ('a..b', False), ('http://x.example.com', False)])
def test_host_validation(host, ok):
    if ok:
        assert plan_for('kong', host=host)['release_values']['ingress']['hosts'][0]['host'] == host.lower()
    else:
        with pytest.raises(Error, match='^ingress_host: '):
            plan_for('kong', host=host)


def test_path_must_be_absolute():
    with pytest.raises(Error, match='^ingress_path: '):
        plan_for('kong', path='v1')


def test_gateway_controllers_need_parent_refs():
    for controller in ('gateway-api', 'envoy-gateway', 'gke-gateway'):
        with pytest.raises(Error, match='^ingress_gateway_parent_refs: required for controller ' + controller):
            plan_for(controller, gateway_parent_refs=[])
    with pytest.raises(Error, match='each entry needs at least a name'):
        plan_for('gateway-api', gateway_parent_refs=[{'namespace': 'x'}])
    with pytest.raises(Error, match=r"unknown key\(s\) nmae"):
        plan_for('gateway-api', gateway_parent_refs=[{'name': 'a', 'nmae': 'b'}])
    refs = objects_by_kind(plan_for('gateway-api', gateway_parent_refs=[{'name': 'gw', 'sectionName': 'https', 'port': '443'}]))
    assert refs['HTTPRoute']['spec']['parentRefs'] == [{'name': 'gw', 'sectionName': 'https', 'port': 443}]


def test_istio_needs_gateways_and_a_known_version():
    with pytest.raises(Error, match='^ingress_istio_gateways: required'):
        plan_for('istio', istio_gateways=[])
    with pytest.raises(Error, match='^ingress_istio_gateways: expected a list'):
        plan_for('istio', istio_gateways='istio-system/gw')
    with pytest.raises(Error, match='^ingress_istio_api_version: '):
        plan_for('istio', istio_api_version='v2')


@pytest.mark.parametrize('key,value,var', [
    ('service_port', 0, 'ingress_service_port'), ('service_port', 'http', 'ingress_service_port'),
    ('service_port', True, 'ingress_service_port'), ('namespace', 'Bad_NS', 'statewave_namespace'),
    ('tls_secret_name', 'Not A Name', 'ingress_tls_secret_name'), ('allow_short_timeout', 'maybe', 'ingress_allow_short_timeout'),
    ('extra_annotations', ['a'], 'ingress_extra_annotations'), ('extra_service_annotations', {'a': {'b': 1}}, 'ingress_extra_service_annotations'),
])
def test_other_invalid_inputs_name_their_variable(key, value, var):
    with pytest.raises(Error) as exc:
        plan_for('kong', **{key: value})
    assert str(exc.value).startswith(var + ': ')


def test_intent_must_be_a_mapping():
    with pytest.raises(Error, match='must be a mapping'):
        it.build_plan(['controller', 'kong'])


# ---------------------------------------------------------------------------------------------
# Release values, names, labels, annotations merge
# ---------------------------------------------------------------------------------------------

def test_release_values_shape_for_an_ingress_controller():
    plan = plan_for('traefik', class_name='traefik', tls_secret_name='api-tls', extra_annotations={'a.example/x': 'y'})
    assert plan['release_values'] == {
        'ingress': {
            'enabled': True,
            'className': 'traefik',
            'annotations': {'a.example/x': 'y'},
            'hosts': [{'host': HOST, 'paths': [{'path': '/', 'pathType': 'Prefix'}]}],
            'tls': [{'secretName': 'api-tls', 'hosts': [HOST]}],
        },
        'service': {'annotations': {'traefik.ingress.kubernetes.io/service.serverstransport': 'sw-statewave@kubernetescrd'}},
    }


def test_release_values_when_disabled():
    plan = it.build_plan({'enabled': False, 'controller': 'no-such-thing', 'timeout': 'ignored', 'namespace': 'sw'})
    assert plan['release_values'] == {'ingress': {'enabled': False, 'className': '', 'annotations': {}, 'hosts': [], 'tls': []},
                                      'service': {'annotations': {}}}
    assert plan['objects'] == [] and plan['required_crds'] == []
    assert plan['cleanup_kinds']  # the sweep still runs, to remove what an earlier run created


def test_release_values_for_object_routed_controllers_turn_the_ingress_off():
    for controller in ('contour', 'istio', 'gateway-api', 'envoy-gateway', 'gke-gateway', 'f5-nginx-virtualserver'):
        values = plan_for(controller, extra_annotations={'x.example/y': 'z'})['release_values']
        assert values['ingress']['enabled'] is False, controller
        assert values['ingress']['annotations'] == {}, controller


@pytest.mark.parametrize('release,name', [('statewave', 'statewave'), ('prod', 'prod-statewave'), ('statewave-eu', 'statewave-eu')])
def test_service_name_follows_chart_fullname(release, name):
    plan = plan_for('traefik', release_name=release)
    assert plan['service_name'] == name
    assert plan['objects'][0]['metadata']['name'] == name
    assert plan['objects'][0]['metadata']['labels']['app.kubernetes.io/instance'] == release
    assert plan['service_annotations']['traefik.ingress.kubernetes.io/service.serverstransport'] == 'sw-%s@kubernetescrd' % name
    assert plan['selector'] == 'app.kubernetes.io/managed-by=statewave.kubernetes,app.kubernetes.io/instance=%s' % release


def test_service_name_override():
    plan = plan_for('gke', service_name='custom')
    assert json.loads(plan['service_annotations']['cloud.google.com/backend-config']) == {'default': 'custom'}


def test_extra_annotation_conflict_warns_and_computed_value_wins():
    plan = plan_for('ingress-nginx', extra_annotations={'nginx.ingress.kubernetes.io/proxy-read-timeout': '60s',
                                                        'nginx.ingress.kubernetes.io/ssl-redirect': 'true'})
    assert plan['ingress_annotations']['nginx.ingress.kubernetes.io/proxy-read-timeout'] == '120'
    assert plan['ingress_annotations']['nginx.ingress.kubernetes.io/ssl-redirect'] == 'true'
    assert "ingress_extra_annotations sets nginx.ingress.kubernetes.io/proxy-read-timeout='60s'" in warnings_text(plan)


def test_extra_annotations_bool_values_become_strings():
    plan = plan_for('kong', extra_service_annotations={'konghq.com/protocol': 'http', 'x.example/flag': True})
    assert plan['service_annotations']['x.example/flag'] == 'true'


def test_live_alb_annotation_left_behind_is_reported():
    live = {'alb.ingress.kubernetes.io/load-balancer-attributes': 'idle_timeout.timeout_seconds=300',
            'nginx.ingress.kubernetes.io/proxy-read-timeout': '300', 'unrelated/annotation': 'x'}
    plan = plan_for('traefik', live_ingress_annotations=live)
    assert 'does not reset the attribute' in warnings_text(plan)
    assert plan['removed_annotations'] == ['alb.ingress.kubernetes.io/load-balancer-attributes',
                                           'nginx.ingress.kubernetes.io/proxy-read-timeout']
    assert 'does not reset' not in warnings_text(plan_for('alb', live_ingress_annotations=live))


# ---------------------------------------------------------------------------------------------
# Detection from the IngressClass
# ---------------------------------------------------------------------------------------------

def ingress_class(name, controller, default=False):
    meta = {'name': name}
    if default:
        meta['annotations'] = {'ingressclass.kubernetes.io/is-default-class': 'true'}
    return {'apiVersion': 'networking.k8s.io/v1', 'kind': 'IngressClass', 'metadata': meta, 'spec': {'controller': controller}}


@pytest.mark.parametrize('spec_controller,name', [
    ('k8s.io/ingress-nginx', 'ingress-nginx'),
    ('nginx.org/ingress-controller', 'f5-nginx'),
    ('traefik.io/ingress-controller', 'traefik'),
    ('ingress.k8s.aws/alb', 'alb'),
    ('azure/application-gateway', 'azure'),
    ('haproxy.org/ingress-controller/haproxy', 'haproxy'),
    ('haproxy-ingress.github.io/controller', 'haproxy-ingress'),
    ('ingress-controllers.konghq.com/kong', 'kong'),
    ('projectcontour.io/ingress-controller', 'contour'),
    ('istio.io/ingress-controller', 'istio'),
])
def test_detect_from_named_class(spec_controller, name):
    classes = [ingress_class('other', 'example.com/other'), ingress_class('mine', spec_controller)]
    assert it.controller_from_ingress_classes(classes, 'mine') == (name, 'mine')
    plan = it.build_plan({'controller': '', 'class_name': 'mine', 'ingress_classes': classes, 'host': HOST,
                          'istio_gateways': ['istio-system/gw']})
    assert plan['controller'] == name
    assert plan['release_values']['ingress']['className'] == 'mine'


def test_detect_prefix_does_not_match_a_longer_name():
    with pytest.raises(Error, match='does not know'):
        it.controller_from_ingress_classes([ingress_class('x', 'k8s.io/ingress-nginx-fork')], 'x')


def test_detect_default_class():
    classes = [ingress_class('a', 'k8s.io/ingress-nginx'), ingress_class('b', 'traefik.io/ingress-controller', default=True)]
    assert it.controller_from_ingress_classes(classes, '') == ('traefik', 'b')


def test_detect_errors():
    with pytest.raises(Error, match="^ingress_class_name: IngressClass 'missing' does not exist"):
        it.controller_from_ingress_classes([ingress_class('a', 'k8s.io/ingress-nginx')], 'missing')
    with pytest.raises(Error, match='no default IngressClass'):
        it.controller_from_ingress_classes([ingress_class('a', 'k8s.io/ingress-nginx')], '')
    with pytest.raises(Error, match='more than one default'):
        it.controller_from_ingress_classes([ingress_class('a', 'k8s.io/ingress-nginx', True),
                                            ingress_class('b', 'traefik.io/ingress-controller', True)], '')
    with pytest.raises(Error, match="names controller 'example.com/unknown'"):
        it.controller_from_ingress_classes([ingress_class('a', 'example.com/unknown')], 'a')


def test_detect_gke_by_class_name_without_an_ingressclass_object():
    assert it.controller_from_ingress_classes([], 'gce') == ('gke', 'gce')
    assert it.controller_from_ingress_classes(None, 'gce-internal') == ('gke', 'gce-internal')


# ---------------------------------------------------------------------------------------------
# CRD checks
# ---------------------------------------------------------------------------------------------

def crd(name, versions, schema=None):
    return {'metadata': {'name': name},
            'spec': {'versions': [{'name': v, 'served': True, 'schema': {'openAPIV3Schema': schema or {}}} for v in versions]}}


def test_crd_missing_says_what_to_install():
    plan = plan_for('traefik')
    problems = it.crd_problems([], plan['required_crds'])
    assert len(problems) == 1
    assert problems[0].startswith('CRD serverstransports.traefik.io is not installed (ServersTransport traefik.io/v1alpha1 needs it): '
                                  'install the Traefik CRDs')
    assert problems[0].rstrip().endswith('first') or 'first' in problems[0]


def test_crd_present_is_fine_and_other_crds_are_ignored():
    plan = plan_for('istio', connect_timeout=3)
    crds = [crd('virtualservices.networking.istio.io', ['v1alpha3', 'v1beta1', 'v1']),
            crd('destinationrules.networking.istio.io', ['v1']), crd('unrelated.example.com', ['v1'])]
    assert it.crd_problems(crds, plan['required_crds']) == []
    problems = it.crd_problems(crds[:1], plan['required_crds'])
    assert len(problems) == 1 and 'destinationrules.networking.istio.io is not installed' in problems[0]


def test_crd_version_not_served():
    plan = plan_for('istio')
    problems = it.crd_problems([crd('virtualservices.networking.istio.io', ['v1alpha3', 'v1beta1'])], plan['required_crds'])
    assert len(problems) == 1
    assert 'does not serve version v1 (served: v1alpha3, v1beta1)' in problems[0]
    assert 'ingress_istio_api_version: v1beta1' in problems[0]


def test_httproute_crd_without_timeouts_field_is_reported():
    old = {'type': 'object', 'properties': {'spec': {'type': 'object', 'properties': {'rules': {
        'type': 'array', 'items': {'type': 'object', 'properties': {'matches': {'type': 'array'}}}}}}}}
    new = {'type': 'object', 'properties': {'spec': {'type': 'object', 'properties': {'rules': {
        'type': 'array', 'items': {'type': 'object', 'properties': {'timeouts': {'type': 'object'}}}}}}}}
    loose = {'type': 'object', 'properties': {'spec': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}}}
    required = plan_for('gateway-api')['required_crds']
    problems = it.crd_problems([crd('httproutes.gateway.networking.k8s.io', ['v1'], old)], required)
    assert len(problems) == 1 and 'has no field spec.rules.timeouts' in problems[0] and 'v1.2.0' in problems[0]
    assert it.crd_problems([crd('httproutes.gateway.networking.k8s.io', ['v1'], new)], required) == []
    assert it.crd_problems([crd('httproutes.gateway.networking.k8s.io', ['v1'], loose)], required) == []
    # envoy-gateway does not rely on HTTPRoute timeouts, so an older HTTPRoute CRD is fine there
    eg = plan_for('envoy-gateway')['required_crds']
    crds = [crd('httproutes.gateway.networking.k8s.io', ['v1'], old), crd('backendtrafficpolicies.gateway.envoyproxy.io', ['v1alpha1'])]
    assert it.crd_problems(crds, eg) == []


def test_every_controller_with_objects_requires_their_crds():
    for name in it.controller_names():
        plan = plan_for(name, connect_timeout=5, idle_timeout=90)
        needed = set((o['apiVersion'].split('/')[0], o['kind']) for o in plan['objects'])
        declared = set((c['group'], c['kind']) for c in plan['required_crds'])
        assert needed == declared, name
        kinds = set((k['api_version'], k['kind']) for k in plan['cleanup_kinds'])
        for obj in plan['objects']:
            assert (obj['apiVersion'], obj['kind']) in kinds, (name, obj['kind'])


# ---------------------------------------------------------------------------------------------
# Stale objects after a controller switch
# ---------------------------------------------------------------------------------------------

def test_switching_controller_marks_the_previous_objects_stale():
    before = plan_for('traefik')
    after = plan_for('contour')
    live = before['objects'] + after['objects']
    stale = it.stale_objects(live, after)
    assert stale == [{'api_version': 'traefik.io/v1alpha1', 'kind': 'ServersTransport', 'name': 'statewave', 'namespace': 'sw'}]
    assert it.stale_objects(after['objects'], after) == []


def test_disabled_plan_marks_everything_ours_stale():
    live = plan_for('istio', connect_timeout=3)['objects']
    plan = it.build_plan({'enabled': False, 'namespace': 'sw', 'release_name': 'statewave'})
    assert sorted(s['kind'] for s in it.stale_objects(live, plan)) == ['DestinationRule', 'VirtualService']


def test_stale_ignores_foreign_objects_and_dedupes_versions():
    plan = plan_for('contour')
    mine = plan_for('istio')['objects'][0]
    same_in_v1beta1 = json.loads(json.dumps(mine))
    same_in_v1beta1['apiVersion'] = 'networking.istio.io/v1beta1'
    foreign = json.loads(json.dumps(mine))
    foreign['metadata']['labels']['app.kubernetes.io/managed-by'] = 'Helm'
    other_release = json.loads(json.dumps(mine))
    other_release['metadata']['labels']['app.kubernetes.io/instance'] = 'other'
    other_ns = json.loads(json.dumps(mine))
    other_ns['metadata']['namespace'] = 'elsewhere'
    stale = it.stale_objects([mine, same_in_v1beta1, foreign, other_release, other_ns], plan)
    assert stale == [{'api_version': 'networking.istio.io/v1', 'kind': 'VirtualService', 'name': 'statewave', 'namespace': 'sw'}]


def test_same_kind_other_version_is_not_stale():
    plan = plan_for('istio')
    live = json.loads(json.dumps(plan['objects']))
    live[0]['apiVersion'] = 'networking.istio.io/v1beta1'
    assert it.stale_objects(live, plan) == []


def test_traefik_group_change_makes_the_old_group_stale():
    old = plan_for('traefik', traefik_version='2.9')
    new = plan_for('traefik', traefik_version='3')
    stale = it.stale_objects(old['objects'] + new['objects'], new)
    assert stale == [{'api_version': 'traefik.containo.us/v1alpha1', 'kind': 'ServersTransport', 'name': 'statewave',
                      'namespace': 'sw'}]


def test_cleanup_kinds_follow_what_the_cluster_serves():
    everything = plan_for('kong')['cleanup_kinds']
    assert everything == it.CLEANUP_KINDS
    apis = {'networking.istio.io/v1': {'VirtualService': {}, 'DestinationRule': {}},
            'networking.istio.io/v1beta1': {'VirtualService': {}, 'DestinationRule': {}},
            'traefik.io/v1alpha1': {'ServersTransport': {}, 'Middleware': {}},
            'apps/v1': {'Deployment': {}}}
    kinds = plan_for('kong', served_apis=apis)['cleanup_kinds']
    assert kinds == [{'api_version': 'traefik.io/v1alpha1', 'kind': 'ServersTransport'},
                     {'api_version': 'networking.istio.io/v1', 'kind': 'VirtualService'},
                     {'api_version': 'networking.istio.io/v1', 'kind': 'DestinationRule'}]
    old_istio = {'networking.istio.io/v1beta1': {'VirtualService': {}}}
    assert plan_for('kong', served_apis=old_istio)['cleanup_kinds'] == [{'api_version': 'networking.istio.io/v1beta1', 'kind': 'VirtualService'}]
    # a cluster that serves none of them needs no sweep; a disabled plan uses the same list
    assert plan_for('kong', served_apis={'v1': {'Service': {}}})['cleanup_kinds'] == []
    assert it.build_plan({'enabled': False, 'served_apis': apis})['cleanup_kinds'] == kinds
