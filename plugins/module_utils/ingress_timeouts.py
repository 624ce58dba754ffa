# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Translate one ingress timeout intent into what each controller actually reads.

Pure and stdlib only: no Ansible, no Kubernetes client. The facts behind every mapping are in
the project's ``reference/ingress-timeouts.md`` (checked against the controllers' own code);
the comments below name the section.

Entry points:

* :func:`build_plan` - intent (a dict, keys as the ``ingress_*`` role variables without the
  prefix) to a plan: Ingress annotations, Service annotations, extra objects to apply, the
  CRDs those objects need, warnings, steps outside the cluster and the release values.
* :func:`crd_problems` - which required CRDs are missing or too old, as "install X first"
  messages.
* :func:`stale_objects` - objects this collection created earlier that the plan no longer
  wants (controller switched, feature turned off).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import json
import math
import re

MANAGED_BY = 'statewave.kubernetes'
LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by'
LABEL_INSTANCE = 'app.kubernetes.io/instance'
LABEL_PART_OF = 'app.kubernetes.io/part-of'
LABEL_CONTROLLER = 'statewave.io/ingress-controller'

DEFAULT_TIMEOUT = 120
MINIMUM_TIMEOUT = 60

# GEP-2257 duration: 1-5 digits + unit, up to four groups.
GATEWAY_DURATION_RE = re.compile(r'^([0-9]{1,5}(h|m|s|ms)){1,4}$')
GATEWAY_MAX_SECONDS = 99999 * 3600 + 59 * 60 + 59
INT32_MAX = 2147483647
# Go's time.Duration is int64 nanoseconds: at most 9223372036.854775807 s. Traefik, Contour, Istio (protobuf
# durations converted by its Go control plane) and the F5 NGINX Ingress Controller parse the values into it.
GO_DURATION_MAX_SECONDS = (2 ** 63 - 1) // 10 ** 9

_DNS_LABEL = r'[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?'
_HOST_RE = re.compile(r'^(\*\.)?' + _DNS_LABEL + r'(\.' + _DNS_LABEL + r')*$')
_NAME_RE = re.compile(r'^' + _DNS_LABEL + r'(\.' + _DNS_LABEL + r')*$')
_DURATION_PART_RE = re.compile(r'([0-9]+)(ms|h|m|s)')

INGRESS_CLASS_DEFAULT_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class'
ALB_LB_ATTRIBUTES = 'alb.ingress.kubernetes.io/load-balancer-attributes'


class IngressTimeoutError(ValueError):
    """An intent that cannot be translated. The message names the variable and the fix."""


# --------------------------------------------------------------------------------------------
# CRDs the extra objects need, with what to install when they are missing.
# --------------------------------------------------------------------------------------------

CRDS = {
    'traefik.io/ServersTransport': {
        'name': 'serverstransports.traefik.io',
        'install': 'the Traefik CRDs for traefik.io/v1alpha1 (Traefik v3, or v2.10+): the traefik-crds Helm chart or the '
                   'traefik chart with its CRDs; also enable Traefik\'s kubernetescrd provider',
    },
    'traefik.containo.us/ServersTransport': {
        'name': 'serverstransports.traefik.containo.us',
        'install': 'the Traefik v2 CRDs for traefik.containo.us/v1alpha1 (from your Traefik 2.x release), or set '
                   'ingress_traefik_version to "2.10" or later to use traefik.io; also enable the kubernetescrd provider',
    },
    'cloud.google.com/BackendConfig': {
        'name': 'backendconfigs.cloud.google.com',
        'install': 'GKE Ingress (the BackendConfig CRD comes with GKE\'s HTTP load balancing add-on; it cannot be '
                   'installed on other clusters)',
    },
    'networking.gke.io/GCPBackendPolicy': {
        'name': 'gcpbackendpolicies.networking.gke.io',
        'install': 'the GKE Gateway controller (enable the Gateway API on the GKE cluster; GCPBackendPolicy comes with it)',
    },
    'projectcontour.io/HTTPProxy': {
        'name': 'httpproxies.projectcontour.io',
        'install': 'Contour\'s CRDs (they ship with Contour: its quickstart manifest or Helm chart)',
    },
    'networking.istio.io/VirtualService': {
        'name': 'virtualservices.networking.istio.io',
        'install': 'Istio\'s CRDs (istioctl install or the istio/base Helm chart); networking.istio.io/v1 needs Istio 1.22+, '
                   'for older Istio set ingress_istio_api_version: v1beta1',
    },
    'networking.istio.io/DestinationRule': {
        'name': 'destinationrules.networking.istio.io',
        'install': 'Istio\'s CRDs (istioctl install or the istio/base Helm chart); networking.istio.io/v1 needs Istio 1.22+, '
                   'for older Istio set ingress_istio_api_version: v1beta1',
    },
    'gateway.networking.k8s.io/HTTPRoute': {
        'name': 'httproutes.gateway.networking.k8s.io',
        'install': 'the Gateway API standard CRDs v1.2.0 or later (standard-install.yaml from the kubernetes-sigs/gateway-api '
                   'releases; HTTPRoute timeouts are in the Standard channel since v1.2.0)',
    },
    'gateway.envoyproxy.io/BackendTrafficPolicy': {
        'name': 'backendtrafficpolicies.gateway.envoyproxy.io',
        'install': 'Envoy Gateway\'s CRDs (the gateway-helm chart installs them)',
    },
    'k8s.nginx.org/VirtualServer': {
        'name': 'virtualservers.k8s.nginx.org',
        'install': 'the F5 NGINX Ingress Controller CRDs (its Helm chart, or the CRD manifests of its release)',
    },
}

# Every kind this collection may ever create, for the stale-object sweep. Both Istio versions are
# listed because a cluster may serve only one of them; duplicates are removed by name.
CLEANUP_KINDS = [
    {'api_version': 'traefik.io/v1alpha1', 'kind': 'ServersTransport'},
    {'api_version': 'traefik.containo.us/v1alpha1', 'kind': 'ServersTransport'},
    {'api_version': 'cloud.google.com/v1', 'kind': 'BackendConfig'},
    {'api_version': 'networking.gke.io/v1', 'kind': 'GCPBackendPolicy'},
    {'api_version': 'projectcontour.io/v1', 'kind': 'HTTPProxy'},
    {'api_version': 'networking.istio.io/v1', 'kind': 'VirtualService'},
    {'api_version': 'networking.istio.io/v1beta1', 'kind': 'VirtualService'},
    {'api_version': 'networking.istio.io/v1', 'kind': 'DestinationRule'},
    {'api_version': 'networking.istio.io/v1beta1', 'kind': 'DestinationRule'},
    {'api_version': 'gateway.networking.k8s.io/v1', 'kind': 'HTTPRoute'},
    {'api_version': 'gateway.envoyproxy.io/v1alpha1', 'kind': 'BackendTrafficPolicy'},
    {'api_version': 'k8s.nginx.org/v1', 'kind': 'VirtualServer'},
]


# --------------------------------------------------------------------------------------------
# Controllers: canonical name -> description. 'routing' is "ingress" when the chart's Ingress
# carries the traffic, "objects" when an extra routing object (HTTPRoute, HTTPProxy, ...) does.
# 'max_seconds' is the largest value the controller accepts for any of the timeouts it sets and
# 'max_reason' where that maximum comes from (both go into the error message). ingress-nginx
# takes plain integer seconds and has no maximum here.
# --------------------------------------------------------------------------------------------

# (maximum in seconds, where it comes from)
_GO_LIMIT = (GO_DURATION_MAX_SECONDS, 'the largest Go time.Duration, which the controller parses the value into')
_GATEWAY_LIMIT = (GATEWAY_MAX_SECONDS, 'the largest GEP-2257 duration, 99999h59m59s')
_INT32_LIMIT = (INT32_MAX, 'timeoutSec is a signed 32-bit integer')
_HAPROXY_LIMIT = (INT32_MAX // 1000, 'HAProxy keeps timers in signed 32-bit milliseconds')
# Kong service timeouts are integer milliseconds, 0 .. 2^31-2.
_KONG_LIMIT = ((INT32_MAX - 1) // 1000, 'Kong timeouts are integer milliseconds up to 2^31-2')
_NO_LIMIT = (None, None)


def _controller(title, routing, limit):
    return {'title': title, 'routing': routing, 'max_seconds': limit[0], 'max_reason': limit[1]}


CONTROLLERS = {
    'ingress-nginx': _controller('ingress-nginx (kubernetes/ingress-nginx)', 'ingress', _NO_LIMIT),
    'f5-nginx': _controller('F5 NGINX Ingress Controller, Ingress annotations', 'ingress', _GO_LIMIT),
    'f5-nginx-virtualserver': _controller('F5 NGINX Ingress Controller, VirtualServer', 'objects', _GO_LIMIT),
    'traefik': _controller('Traefik (Kubernetes Ingress provider + ServersTransport)', 'ingress', _GO_LIMIT),
    'gke': _controller('GKE Ingress (BackendConfig)', 'ingress', _INT32_LIMIT),
    'gke-gateway': _controller('GKE Gateway (HTTPRoute + GCPBackendPolicy)', 'objects', _INT32_LIMIT),
    'alb': _controller('AWS Load Balancer Controller, ALB Ingress', 'ingress', (4000, 'the ALB idle timeout range is 1-4000 s')),
    'azure': _controller('Azure Application Gateway Ingress Controller', 'ingress', (86400, 'Application Gateway accepts 1-86400 s')),
    'haproxy': _controller('HAProxy Kubernetes Ingress (haproxytech)', 'ingress', _HAPROXY_LIMIT),
    'haproxy-ingress': _controller('HAProxy Ingress (jcmoraisjr, haproxy-ingress.github.io)', 'ingress', _HAPROXY_LIMIT),
    'kong': _controller('Kong Ingress Controller', 'ingress', _KONG_LIMIT),
    'contour': _controller('Contour (HTTPProxy)', 'objects', _GO_LIMIT),
    'contour-ingress': _controller('Contour (Ingress annotation)', 'ingress', _GO_LIMIT),
    'istio': _controller('Istio (VirtualService)', 'objects', _GO_LIMIT),
    'gateway-api': _controller('Gateway API (HTTPRoute timeouts)', 'objects', _GATEWAY_LIMIT),
    'envoy-gateway': _controller('Envoy Gateway (HTTPRoute + BackendTrafficPolicy)', 'objects', _GATEWAY_LIMIT),
}

ALIASES = {
    'nginx-ingress': 'ingress-nginx',
    'kubernetes-ingress-nginx': 'ingress-nginx',
    'nginx-inc': 'f5-nginx',
    'nginx-org': 'f5-nginx',
    'f5-nginx-ingress': 'f5-nginx',
    'virtualserver': 'f5-nginx-virtualserver',
    'traefik-v2': 'traefik',  # these two also set the Traefik major version (TRAEFIK_ALIAS_MAJOR)
    'traefik-v3': 'traefik',
    'gce': 'gke',
    'gke-ingress': 'gke',
    'aws-alb': 'alb',
    'aws-load-balancer-controller': 'alb',
    'agic': 'azure',
    'azure-application-gateway': 'azure',
    'haproxytech': 'haproxy',
    'kong-ingress': 'kong',
    'httpproxy': 'contour',
    'httproute': 'gateway-api',
    'gateway': 'gateway-api',
}

# An alias that names a Traefik major version implies ingress_traefik_version; an explicit version must agree.
TRAEFIK_ALIAS_MAJOR = {'traefik-v2': 2, 'traefik-v3': 3}

# IngressClass spec.controller -> canonical controller name (exact, then prefix match).
INGRESS_CLASS_CONTROLLERS = [
    ('k8s.io/ingress-nginx', 'ingress-nginx'),
    ('nginx.org/ingress-controller', 'f5-nginx'),
    ('traefik.io/ingress-controller', 'traefik'),
    ('k8s.io/ingress-gce', 'gke'),
    ('ingress.k8s.aws/alb', 'alb'),
    ('azure/application-gateway', 'azure'),
    ('haproxy.org/ingress-controller', 'haproxy'),
    ('haproxy-ingress.github.io/controller', 'haproxy-ingress'),
    ('ingress-controllers.konghq.com/', 'kong'),
    ('projectcontour.io/', 'contour'),
    ('istio.io/ingress-controller', 'istio'),
]
# GKE Ingress is selected by class name; clusters usually have no IngressClass object for it.
GKE_CLASS_NAMES = ('gce', 'gce-internal')


def controller_names():
    """Canonical controller names, sorted."""
    return sorted(CONTROLLERS)


# --------------------------------------------------------------------------------------------
# Value parsing and formatting
# --------------------------------------------------------------------------------------------

def parse_seconds(value, var):
    """Return a whole number of seconds from an int, a digit string or a duration ("2m", "90s").

    Raises IngressTimeoutError naming ``var`` for anything else.
    """
    example = 'set e.g. {0}: 120'.format(var)
    if isinstance(value, bool):
        raise IngressTimeoutError('{0}: {1!r} is a boolean, not a number of seconds; {2}'.format(var, value, example))
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise IngressTimeoutError('{0}: {1!r} is not a number of seconds; {2}'.format(var, value, example))
        if value != int(value):
            raise IngressTimeoutError('{0}: {1!r} is not a whole number of seconds; {2}'.format(var, value, example))
        seconds = int(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if re.match(r'^[-+]?[0-9]+$', text):
            seconds = int(text)
        elif re.match(r'^[-+]?[0-9]+\.[0-9]+$', text):
            if float(text) != int(float(text)):
                raise IngressTimeoutError('{0}: {1!r} is not a whole number of seconds; {2}'.format(var, value, example))
            seconds = int(float(text))
        elif text and _DURATION_PART_RE.sub('', text.lstrip('-')) == '':
            millis = 0
            for number, unit in _DURATION_PART_RE.findall(text):
                millis += int(number) * {'h': 3600000, 'm': 60000, 's': 1000, 'ms': 1}[unit]
            if millis % 1000:
                raise IngressTimeoutError('{0}: {1!r} is not a whole number of seconds; {2}'.format(var, value, example))
            seconds = millis // 1000
            if text.startswith('-'):
                seconds = -seconds
        else:
            raise IngressTimeoutError('{0}: {1!r} is not a number of seconds; {2}'.format(var, value, example))
    else:
        raise IngressTimeoutError('{0}: {1!r} is not a number of seconds; {2}'.format(var, value, example))
    if seconds < 0:
        raise IngressTimeoutError('{0}: {1!r} is negative; set a positive number of seconds, e.g. {0}: 120'.format(var, value))
    return seconds


def go_duration(seconds):
    """Go / protobuf / NGINX / HAProxy style duration with an explicit unit: 120 -> "120s"."""
    return '{0}s'.format(int(seconds))


def gateway_duration(seconds):
    """GEP-2257 duration (Gateway API, Envoy Gateway): at most 5 digits per group."""
    seconds = int(seconds)
    if seconds > GATEWAY_MAX_SECONDS:
        raise IngressTimeoutError('{0} s does not fit a Gateway API duration (at most 99999h59m59s)'.format(seconds))
    if seconds <= 99999:
        text = '{0}s'.format(seconds)
    else:
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        text = '{0}h'.format(hours)
        if minutes:
            text += '{0}m'.format(minutes)
        if secs:
            text += '{0}s'.format(secs)
    if not GATEWAY_DURATION_RE.match(text):  # pragma: no cover - guarded by the arithmetic above
        raise IngressTimeoutError('internal error: {0!r} is not a Gateway API duration'.format(text))
    return text


def kong_milliseconds(seconds):
    """Kong reads integer milliseconds; "60s" would be ignored silently."""
    return str(int(seconds) * 1000)


def _stringmap_merge(existing, key, value):
    """Set key=value inside an AWS LBC stringMap annotation ("k=v,k=v"), keeping other keys."""
    pairs = []
    seen = False
    for item in (existing or '').split(','):
        item = item.strip()
        if not item:
            continue
        name = item.split('=', 1)[0].strip()
        if name == key:
            if not seen:
                pairs.append('{0}={1}'.format(key, value))
                seen = True
            continue
        pairs.append(item)
    if not seen:
        pairs.append('{0}={1}'.format(key, value))
    return ','.join(pairs)


# --------------------------------------------------------------------------------------------
# Intent normalisation
# --------------------------------------------------------------------------------------------

def fullname(release_name):
    """The chart's fullname: the release name if it contains "statewave", else <release>-statewave."""
    if 'statewave' in release_name:
        return release_name[:63].rstrip('-')
    return '{0}-statewave'.format(release_name)[:63].rstrip('-')


def _as_bool(value, var):
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, str) and value.strip().lower() in ('true', 'yes', 'on', '1'):
        return True
    if isinstance(value, str) and value.strip().lower() in ('false', 'no', 'off', '0', ''):
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise IngressTimeoutError('{0}: {1!r} is not a boolean; set {0}: true or {0}: false'.format(var, value))


def _as_str(value, var, default=''):
    if value is None:
        return default
    if isinstance(value, (bool, list, dict)):
        raise IngressTimeoutError('{0}: {1!r} is not a string'.format(var, value))
    return str(value).strip()


def _as_str_dict(value, var):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise IngressTimeoutError('{0}: expected a mapping of annotation name to value, got {1!r}'.format(var, value))
    result = {}
    for key, item in value.items():
        if isinstance(item, (dict, list)) or item is None:
            raise IngressTimeoutError('{0}: the value of {1!r} must be a string, got {2!r}'.format(var, key, item))
        if isinstance(item, bool):
            item = 'true' if item else 'false'
        result[str(key)] = str(item)
    return result


def resolve_controller(name):
    """Canonical controller name for a user-supplied name or alias."""
    key = _as_str(name, 'ingress_controller').lower()
    key = ALIASES.get(key, key)
    if key not in CONTROLLERS:
        raise IngressTimeoutError(
            'ingress_controller: {0!r} is not a known controller; use one of: {1} '
            '(or leave it empty to detect it from the IngressClass)'.format(name, ', '.join(controller_names())))
    return key


def controller_from_ingress_classes(classes, class_name):
    """Find the controller from the cluster's IngressClass objects.

    ``classes`` is the list of IngressClass objects (dicts as returned by the API);
    ``class_name`` the Ingress class the release will use ("" = the cluster's default class).
    Returns (controller, class_name_used).
    """
    classes = classes or []
    if class_name:
        match = [c for c in classes if (c.get('metadata') or {}).get('name') == class_name]
        if not match:
            if class_name in GKE_CLASS_NAMES:
                return 'gke', class_name
            raise IngressTimeoutError(
                'ingress_class_name: IngressClass {0!r} does not exist in the cluster; create it (install the ingress '
                'controller), fix the name, or set ingress_controller explicitly'.format(class_name))
        ingress_class = match[0]
    else:
        defaults = [c for c in classes
                    if str(((c.get('metadata') or {}).get('annotations') or {}).get(INGRESS_CLASS_DEFAULT_ANNOTATION, '')).lower() == 'true']
        if len(defaults) != 1:
            found = ', '.join(sorted((c.get('metadata') or {}).get('name', '?') for c in classes)) or 'none'
            raise IngressTimeoutError(
                'ingress_controller: cannot detect the controller: ingress_class_name is empty and the cluster has {0} default '
                'IngressClass (IngressClasses: {1}); set ingress_class_name or ingress_controller'.format(
                    'no' if not defaults else 'more than one', found))
        ingress_class = defaults[0]
    name = (ingress_class.get('metadata') or {}).get('name', '')
    spec_controller = str((ingress_class.get('spec') or {}).get('controller', ''))
    for known, canonical in INGRESS_CLASS_CONTROLLERS:
        if spec_controller == known or (known.endswith('/') and spec_controller.startswith(known)) \
                or spec_controller.startswith(known + '/'):
            return canonical, name
    raise IngressTimeoutError(
        'ingress_controller: IngressClass {0!r} names controller {1!r}, which this collection does not know; set '
        'ingress_controller to one of: {2}'.format(name, spec_controller, ', '.join(controller_names())))


def parse_traefik_version(value):
    """'3', 'v3.1', '2.10', '2' -> (major, minor or None)."""
    text = _as_str(value, 'ingress_traefik_version', '3').lower().lstrip('v')
    match = re.match(r'^([0-9]+)(?:\.([0-9]+))?(?:\.[0-9]+)?$', text)
    if not match:
        raise IngressTimeoutError(
            'ingress_traefik_version: {0!r} is not a Traefik version; set e.g. ingress_traefik_version: "3" or "2.11"'.format(value))
    major = int(match.group(1))
    minor = int(match.group(2)) if match.group(2) is not None else None
    if major == 3:
        return major, minor
    if major == 2:
        if minor is not None and minor < 5:
            raise IngressTimeoutError(
                'ingress_traefik_version: {0!r}: the Service annotation traefik.ingress.kubernetes.io/service.serverstransport '
                'needs Traefik 2.5 or later; upgrade Traefik and set ingress_traefik_version accordingly (quote the value: '
                'YAML reads an unquoted 2.10 as 2.1)'.format(value))
        return major, minor
    raise IngressTimeoutError(
        'ingress_traefik_version: {0!r} is not supported; use "3" (3.x) or a 2.x version from "2.5" on'.format(value))


def resolve_traefik_version(value, controller_name=''):
    """The Traefik (major, minor) from ingress_traefik_version and the controller name as given.

    An empty version means the major version the alias names (``traefik-v2`` -> 2, ``traefik-v3`` -> 3),
    else 3. An explicit version must agree with such an alias.
    """
    alias = _as_str(controller_name, 'ingress_controller').lower()
    implied = TRAEFIK_ALIAS_MAJOR.get(alias)
    if not _as_str(value, 'ingress_traefik_version'):
        return (implied or 3), None
    version = parse_traefik_version(value)
    if implied is not None and version[0] != implied:
        raise IngressTimeoutError(
            'ingress_controller: {0!r} means Traefik {1}, but ingress_traefik_version is {2!r} (Traefik {3}); make them agree: '
            'set ingress_controller: traefik and keep ingress_traefik_version, or set ingress_traefik_version to a {1}.x '
            'version (or leave it empty)'.format(controller_name, implied, value, version[0]))
    return version


def _validate_host(host, var='ingress_host'):
    if not host:
        raise IngressTimeoutError('{0}: required when ingress_enabled is true; set e.g. {0}: statewave.example.com'.format(var))
    if len(host) > 253 or not _HOST_RE.match(host):
        raise IngressTimeoutError(
            '{0}: {1!r} is not a valid DNS host name (lower-case letters, digits, "-" and ".", optional leading "*.")'.format(var, host))
    return host


def _validate_name(value, var, required=False):
    if not value:
        if required:
            raise IngressTimeoutError('{0}: required; set a Kubernetes object name'.format(var))
        return value
    if len(value) > 253 or not _NAME_RE.match(value):
        raise IngressTimeoutError('{0}: {1!r} is not a valid Kubernetes object name (lower-case RFC 1123)'.format(var, value))
    return value


def _validate_parent_refs(refs, controller):
    var = 'ingress_gateway_parent_refs'
    if not refs:
        raise IngressTimeoutError(
            '{0}: required for controller {1} (the HTTPRoute must attach to a Gateway); set e.g. '
            '{0}: [{{name: public-gateway, namespace: gateways}}]'.format(var, controller))
    if not isinstance(refs, list):
        raise IngressTimeoutError('{0}: expected a list of parent references, got {1!r}'.format(var, refs))
    allowed = ('group', 'kind', 'namespace', 'name', 'sectionName', 'port')
    result = []
    for ref in refs:
        if not isinstance(ref, dict) or not ref.get('name'):
            raise IngressTimeoutError('{0}: each entry needs at least a name, e.g. {{name: public-gateway}}; got {1!r}'.format(var, ref))
        unknown = sorted(set(ref) - set(allowed))
        if unknown:
            raise IngressTimeoutError('{0}: unknown key(s) {1} in {2!r}; allowed: {3}'.format(var, ', '.join(unknown), ref, ', '.join(allowed)))
        clean = {}
        for key in allowed:
            if key in ref and ref[key] not in (None, ''):
                clean[key] = int(ref[key]) if key == 'port' else str(ref[key])
        result.append(clean)
    return result


def _validate_gateways(gateways):
    var = 'ingress_istio_gateways'
    if not gateways:
        raise IngressTimeoutError(
            '{0}: required for controller istio (the VirtualService must name the ingress Gateway); set e.g. '
            '{0}: ["istio-system/public-gateway"]'.format(var))
    if not isinstance(gateways, list) or not all(isinstance(g, str) and g.strip() for g in gateways):
        raise IngressTimeoutError('{0}: expected a list of Gateway names ("<namespace>/<name>"), got {1!r}'.format(var, gateways))
    return [g.strip() for g in gateways]


def normalize_intent(intent):
    """Validate the intent and return a normalised copy. Raises IngressTimeoutError."""
    if not isinstance(intent, dict):
        raise IngressTimeoutError('the ingress intent must be a mapping, got {0!r}'.format(intent))
    ctx = {}
    ctx['enabled'] = _as_bool(intent.get('enabled', True), 'ingress_enabled')
    ctx['namespace'] = _validate_name(_as_str(intent.get('namespace'), 'statewave_namespace', 'statewave'), 'statewave_namespace', True)
    ctx['release_name'] = _validate_name(_as_str(intent.get('release_name'), 'statewave_release_name', 'statewave'),
                                         'statewave_release_name', True)
    ctx['service_name'] = _validate_name(_as_str(intent.get('service_name'), 'ingress_service_name') or fullname(ctx['release_name']),
                                         'ingress_service_name', True)
    port = intent.get('service_port', 8100)
    if isinstance(port, bool) or not re.match(r'^[0-9]+$', str(port)) or not 1 <= int(port) <= 65535:
        raise IngressTimeoutError('ingress_service_port: {0!r} is not a port number (1-65535); the chart uses 8100'.format(port))
    ctx['service_port'] = int(port)
    ctx['class_name'] = _as_str(intent.get('class_name'), 'ingress_class_name')
    ctx['extra_annotations'] = _as_str_dict(intent.get('extra_annotations'), 'ingress_extra_annotations')
    ctx['extra_service_annotations'] = _as_str_dict(intent.get('extra_service_annotations'), 'ingress_extra_service_annotations')
    ctx['live_ingress_annotations'] = _as_str_dict(intent.get('live_ingress_annotations'), 'live_ingress_annotations')
    served = intent.get('served_apis')
    ctx['served_apis'] = served if isinstance(served, dict) else {}
    ctx['warnings'] = []
    if not ctx['enabled']:
        ctx['controller'] = ''
        return ctx

    controller = _as_str(intent.get('controller'), 'ingress_controller')
    if controller:
        ctx['controller'] = resolve_controller(controller)
    else:
        ctx['controller'], ctx['class_name'] = controller_from_ingress_classes(intent.get('ingress_classes'), ctx['class_name'])
    spec = CONTROLLERS[ctx['controller']]

    ctx['allow_short'] = _as_bool(intent.get('allow_short_timeout', False), 'ingress_allow_short_timeout')
    timeout = intent.get('timeout')
    if timeout is None or (isinstance(timeout, str) and not timeout.strip()):
        timeout = DEFAULT_TIMEOUT
    ctx['timeout'] = parse_seconds(timeout, 'ingress_timeout')
    if ctx['timeout'] < 1:
        raise IngressTimeoutError('ingress_timeout: 0 would disable the timeout on some controllers and fail requests on others; '
                                  'set e.g. ingress_timeout: 120')
    if ctx['timeout'] < MINIMUM_TIMEOUT:
        if not ctx['allow_short']:
            raise IngressTimeoutError(
                'ingress_timeout: {0} s is below the {1} s minimum (a cold /v1/context call takes 5-30 s); raise it, or set '
                'ingress_allow_short_timeout: true if you really want it'.format(ctx['timeout'], MINIMUM_TIMEOUT))
        ctx['warnings'].append(
            'ingress_timeout is {0} s, below the recommended {1} s: cold /v1/context calls take 5-30 s and will get 504 '
            'from the proxy when they run long'.format(ctx['timeout'], MINIMUM_TIMEOUT))
    for key in ('connect_timeout', 'idle_timeout'):
        value = intent.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            ctx[key] = None
            continue
        ctx[key] = parse_seconds(value, 'ingress_' + key)
        if ctx[key] < 1:
            raise IngressTimeoutError('ingress_{0}: 0 is not a usable timeout; leave it empty for the controller default, '
                                      'or set at least 1'.format(key))
    limit = spec['max_seconds']
    if limit is not None:
        for key in ('timeout', 'connect_timeout', 'idle_timeout'):
            if ctx[key] is not None and ctx[key] > limit:
                raise IngressTimeoutError(
                    'ingress_{0}: {1} s is above the {2} maximum of {3} s ({4}); set ingress_{0} to {3} or less'.format(
                        key, ctx[key], spec['title'], limit, spec['max_reason']))

    ctx['host'] = _validate_host(_as_str(intent.get('host'), 'ingress_host').lower())
    path = _as_str(intent.get('path'), 'ingress_path', '/') or '/'
    if not path.startswith('/'):
        raise IngressTimeoutError('ingress_path: {0!r} must start with "/"; set e.g. ingress_path: /'.format(path))
    ctx['path'] = path
    ctx['tls_secret_name'] = _validate_name(_as_str(intent.get('tls_secret_name'), 'ingress_tls_secret_name'), 'ingress_tls_secret_name')

    if ctx['controller'] == 'traefik':
        ctx['traefik_version'] = resolve_traefik_version(intent.get('traefik_version'), controller)
    if ctx['controller'] == 'istio':
        ctx['istio_gateways'] = _validate_gateways(intent.get('istio_gateways'))
        version = _as_str(intent.get('istio_api_version'), 'ingress_istio_api_version', 'v1') or 'v1'
        if version not in ('v1', 'v1beta1', 'v1alpha3'):
            raise IngressTimeoutError('ingress_istio_api_version: {0!r} is not served by Istio; use v1 (Istio 1.22+), v1beta1 or '
                                      'v1alpha3'.format(version))
        ctx['istio_api_version'] = version
    if ctx['controller'] in ('gateway-api', 'envoy-gateway', 'gke-gateway'):
        ctx['gateway_parent_refs'] = _validate_parent_refs(intent.get('gateway_parent_refs'), ctx['controller'])
    return ctx


# --------------------------------------------------------------------------------------------
# Per-controller translation. Each builder fills plan['ingress_annotations'],
# plan['service_annotations'], plan['objects'], plan['warnings'], plan['manual_steps'].
# --------------------------------------------------------------------------------------------

def _labels(ctx):
    return {
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_INSTANCE: ctx['release_name'],
        LABEL_PART_OF: 'statewave',
        LABEL_CONTROLLER: ctx['controller'],
    }


def _object(ctx, api_version, kind, spec, name=None):
    return {
        'apiVersion': api_version,
        'kind': kind,
        'metadata': {'name': name or ctx['service_name'], 'namespace': ctx['namespace'], 'labels': _labels(ctx)},
        'spec': spec,
    }


def _service_fqdn(ctx):
    return '{0}.{1}.svc.cluster.local'.format(ctx['service_name'], ctx['namespace'])


def _not_settable(ctx, plan, what, where):
    for key, label in (('connect_timeout', 'ingress_connect_timeout'), ('idle_timeout', 'ingress_idle_timeout')):
        if key in what and ctx.get(key) is not None:
            plan['warnings'].append('{0} is set but {1} has no per-backend setting for it; it is ignored{2}'.format(
                label, plan['title'], (' (' + where + ')') if where else ''))


def _tls_on_gateway(ctx, plan, where):
    if ctx['tls_secret_name']:
        plan['warnings'].append(
            'ingress_tls_secret_name is not used by {0}: TLS is terminated on {1}; reference the Secret there'.format(plan['title'], where))


def _envoy_stream_idle(ctx, plan):
    if ctx['timeout'] > 300:
        plan['warnings'].append(
            '{0}: Envoy also applies its connection-manager stream idle timeout (5 min by default) unless the installation '
            'changes it; a backend that stays silent longer than that is cut off regardless of ingress_timeout={1}s'.format(
                plan['title'], ctx['timeout']))


def _httproute(ctx, timeouts=None):
    rule = {
        'matches': [{'path': {'type': 'PathPrefix', 'value': ctx['path']}}],
        'backendRefs': [{'name': ctx['service_name'], 'port': ctx['service_port']}],
    }
    if timeouts:
        rule['timeouts'] = timeouts
    return _object(ctx, 'gateway.networking.k8s.io/v1', 'HTTPRoute', {
        'parentRefs': copy.deepcopy(ctx['gateway_parent_refs']),
        'hostnames': [ctx['host']],
        'rules': [rule],
    })


def _build_ingress_nginx(ctx, plan):
    # reference 3.1: quoted integers in seconds only; "60s" fails validation and the default is used.
    prefix = 'nginx.ingress.kubernetes.io/'
    ann = plan['ingress_annotations']
    ann[prefix + 'proxy-read-timeout'] = str(ctx['timeout'])
    ann[prefix + 'proxy-send-timeout'] = str(ctx['timeout'])
    if ctx['connect_timeout'] is not None:
        ann[prefix + 'proxy-connect-timeout'] = str(ctx['connect_timeout'])
        if ctx['connect_timeout'] > 75:
            plan['warnings'].append('ingress-nginx: ingress_connect_timeout {0}s is above 75 s, which the ingress-nginx docs say '
                                    'usually cannot take effect'.format(ctx['connect_timeout']))
    plan['warnings'].append(
        'ingress-nginx (kubernetes/ingress-nginx) is retired: no releases, bug fixes or security fixes after March 2026. '
        'Plan a move to a maintained controller or a Gateway API implementation; this collection supports several.')
    plan['warnings'].append(
        'ingress-nginx applies proxy-read/send-timeout between two successive reads/writes, not to the whole response; '
        'the annotations are ignored if the controller runs with a different --annotations-prefix')
    _not_settable(ctx, plan, ('idle_timeout',), 'upstream keepalive is a controller ConfigMap setting')


def _build_f5_nginx(ctx, plan):
    # reference 3.2: NGINX time strings; the controller ignores nginx.ingress.kubernetes.io/*.
    ann = plan['ingress_annotations']
    ann['nginx.org/proxy-read-timeout'] = go_duration(ctx['timeout'])
    ann['nginx.org/proxy-send-timeout'] = go_duration(ctx['timeout'])
    if ctx['connect_timeout'] is not None:
        ann['nginx.org/proxy-connect-timeout'] = go_duration(ctx['connect_timeout'])
    _not_settable(ctx, plan, ('idle_timeout',), '')


def _build_f5_virtualserver(ctx, plan):
    upstream = {
        'name': 'statewave',
        'service': ctx['service_name'],
        'port': ctx['service_port'],
        'read-timeout': go_duration(ctx['timeout']),
        'send-timeout': go_duration(ctx['timeout']),
    }
    if ctx['connect_timeout'] is not None:
        upstream['connect-timeout'] = go_duration(ctx['connect_timeout'])
    spec = {
        'host': ctx['host'],
        'upstreams': [upstream],
        'routes': [{'path': ctx['path'], 'action': {'pass': 'statewave'}}],
    }
    if ctx['class_name']:
        spec['ingressClassName'] = ctx['class_name']
    if ctx['tls_secret_name']:
        spec['tls'] = {'secret': ctx['tls_secret_name']}
    plan['objects'].append(_object(ctx, 'k8s.nginx.org/v1', 'VirtualServer', spec))
    plan['required_crds'].append(_crd('k8s.nginx.org', 'v1', 'VirtualServer'))
    _not_settable(ctx, plan, ('idle_timeout',), '')


def _build_traefik(ctx, plan):
    # reference 3.3 / section 2 item 2: ServersTransport referenced from the Service; no Middleware has timeouts.
    major, minor = ctx['traefik_version']
    if major == 3 or (minor is not None and minor >= 10):
        group = 'traefik.io'
    else:
        group = 'traefik.containo.us'
        if minor is None:
            plan['warnings'].append(
                'Traefik 2 without a minor version: using the old API group traefik.containo.us, which every Traefik 2.5+ '
                'reads; set e.g. ingress_traefik_version: "2.11" to use traefik.io (2.10+)')
    forwarding = {'responseHeaderTimeout': go_duration(ctx['timeout'])}
    if ctx['connect_timeout'] is not None:
        forwarding['dialTimeout'] = go_duration(ctx['connect_timeout'])
    if ctx['idle_timeout'] is not None:
        forwarding['idleConnTimeout'] = go_duration(ctx['idle_timeout'])
    plan['objects'].append(_object(ctx, group + '/v1alpha1', 'ServersTransport', {'forwardingTimeouts': forwarding}))
    plan['required_crds'].append(_crd(group, 'v1alpha1', 'ServersTransport'))
    plan['service_annotations']['traefik.ingress.kubernetes.io/service.serverstransport'] = '{0}-{1}@kubernetescrd'.format(
        ctx['namespace'], ctx['service_name'])
    plan['warnings'].append(
        'Traefik: the entrypoint settings transport.respondingTimeouts.readTimeout (default 60s, covers reading the whole '
        'client request including the body) and writeTimeout (default none; if set it must exceed {0}s) also cap requests; '
        'they are static Traefik configuration this role cannot change'.format(ctx['timeout']))
    plan['warnings'].append(
        'Traefik: the ServersTransport is referenced as {0}-{1}@kubernetescrd, so the kubernetescrd provider must be enabled and '
        '(Traefik 2.11.46+/3.6.17+/3.7.1+) crossProviderNamespaces, if set, must allow namespace {0}'.format(
            ctx['namespace'], ctx['service_name']))


def _build_gke(ctx, plan):
    # reference 3.4: BackendConfig only applies once the Service carries cloud.google.com/backend-config.
    plan['objects'].append(_object(ctx, 'cloud.google.com/v1', 'BackendConfig', {'timeoutSec': ctx['timeout']}))
    plan['required_crds'].append(_crd('cloud.google.com', 'v1', 'BackendConfig'))
    plan['service_annotations']['cloud.google.com/backend-config'] = json.dumps(
        {'default': ctx['service_name']}, sort_keys=True, separators=(',', ':'))
    _not_settable(ctx, plan, ('connect_timeout', 'idle_timeout'), 'BackendConfig only has timeoutSec')
    plan['manual_steps'].append('GKE Ingress: the Service must be reachable by the load balancer: container-native load '
                                'balancing (NEG, the default on VPC-native clusters) or a NodePort Service')


def _build_gke_gateway(ctx, plan):
    # reference 3.4: GCPBackendPolicy in the Service's namespace; BackendConfig is ignored by GKE Gateway.
    plan['objects'].append(_httproute(ctx))
    plan['objects'].append(_object(ctx, 'networking.gke.io/v1', 'GCPBackendPolicy', {
        'default': {'timeoutSec': ctx['timeout']},
        'targetRef': {'group': '', 'kind': 'Service', 'name': ctx['service_name']},
    }))
    plan['required_crds'].append(_crd('gateway.networking.k8s.io', 'v1', 'HTTPRoute'))
    plan['required_crds'].append(_crd('networking.gke.io', 'v1', 'GCPBackendPolicy'))
    _not_settable(ctx, plan, ('connect_timeout', 'idle_timeout'), 'GCPBackendPolicy only has timeoutSec')
    _tls_on_gateway(ctx, plan, 'the Gateway listener')


def _build_alb(ctx, plan):
    # reference 2 item 4 / 3.5: the load-balancer idle timeout is the only ALB knob; 1-4000 s.
    seconds = max(ctx['timeout'], ctx['idle_timeout'] or 0)
    ann = plan['ingress_annotations']
    ann[ALB_LB_ATTRIBUTES] = _stringmap_merge(ctx['extra_annotations'].get(ALB_LB_ATTRIBUTES), 'idle_timeout.timeout_seconds', seconds)
    plan['merged_annotations'].append(ALB_LB_ATTRIBUTES)
    _not_settable(ctx, plan, ('connect_timeout',), 'ALB has no connect or per-target response timeout')
    plan['warnings'].append(
        'AWS ALB: the idle timeout ({0}s) is a load-balancer attribute. IngressClassParams spec.loadBalancerAttributes overrides '
        'the annotation; inside an IngressGroup the annotation must be on one Ingress or identical everywhere; removing it later '
        'does not restore the AWS default (set it back explicitly). AWS recommends a target keep-alive longer than the idle '
        'timeout, otherwise clients may get 502'.format(seconds))
    if ctx['tls_secret_name']:
        plan['warnings'].append('ingress_tls_secret_name is not used by the ALB: certificates come from ACM (annotation '
                                'alb.ingress.kubernetes.io/certificate-arn, or discovery from the TLS host names)')
    plan['manual_steps'].append('AWS ALB: an HTTPS listener needs an ACM certificate for {0} (certificate-arn annotation or '
                                'ACM discovery) and DNS pointing at the ALB; any CDN or proxy in front of the ALB needs its own '
                                'timeout of at least {1}s'.format(ctx['host'], ctx['timeout']))


def _build_azure(ctx, plan):
    # reference 3.6: int32 seconds as a string, App Gateway accepts 1-86400.
    plan['ingress_annotations']['appgw.ingress.kubernetes.io/request-timeout'] = str(ctx['timeout'])
    _not_settable(ctx, plan, ('connect_timeout', 'idle_timeout'), 'AGIC only has request-timeout')
    plan['warnings'].append('AGIC only processes Ingresses of its class (azure/application-gateway by default); '
                            'check ingress_class_name')


def _build_haproxy_annotations(ctx, plan, prefix, warning):
    # reference 3.7: bare numbers are milliseconds, always write the unit.
    ann = plan['ingress_annotations']
    ann[prefix + '/timeout-server'] = go_duration(ctx['timeout'])
    if ctx['connect_timeout'] is not None:
        ann[prefix + '/timeout-connect'] = go_duration(ctx['connect_timeout'])
    _not_settable(ctx, plan, ('idle_timeout',), '')
    plan['warnings'].append(warning)


def _build_haproxy(ctx, plan):
    _build_haproxy_annotations(ctx, plan, 'haproxy.org',
                               'HAProxy (haproxytech): if the backend uses a Backend custom resource (cr-backend), no backend '
                               'annotation is read and these timeouts do nothing')


def _build_haproxy_ingress(ctx, plan):
    _build_haproxy_annotations(ctx, plan, 'haproxy-ingress.github.io',
                               'HAProxy Ingress (jcmoraisjr): the annotations use the default prefix haproxy-ingress.github.io; '
                               'they are ignored if the controller runs with a different --annotations-prefix')


def _build_kong(ctx, plan):
    # reference 3.8: Service annotations, integer milliseconds; non-integers are silently ignored.
    ann = plan['service_annotations']
    ann['konghq.com/read-timeout'] = kong_milliseconds(ctx['timeout'])
    ann['konghq.com/write-timeout'] = kong_milliseconds(ctx['timeout'])
    if ctx['connect_timeout'] is not None:
        ann['konghq.com/connect-timeout'] = kong_milliseconds(ctx['connect_timeout'])
    _not_settable(ctx, plan, ('idle_timeout',), '')


def _build_contour(ctx, plan):
    # reference 3.9: per-route timeoutPolicy; response defaults to 15 s.
    policy = {'response': go_duration(ctx['timeout'])}
    if ctx['timeout'] > 300:
        # Unset route idle leaves the connection manager's 5 min stream idle timeout in force.
        policy['idle'] = go_duration(ctx['timeout'])
    if ctx['idle_timeout'] is not None:
        policy['idleConnection'] = go_duration(ctx['idle_timeout'])
    virtualhost = {'fqdn': ctx['host']}
    if ctx['tls_secret_name']:
        virtualhost['tls'] = {'secretName': ctx['tls_secret_name']}
    spec = {
        'virtualhost': virtualhost,
        'routes': [{
            'conditions': [{'prefix': ctx['path']}],
            'services': [{'name': ctx['service_name'], 'port': ctx['service_port']}],
            'timeoutPolicy': policy,
        }],
    }
    if ctx['class_name']:
        spec['ingressClassName'] = ctx['class_name']
    plan['objects'].append(_object(ctx, 'projectcontour.io/v1', 'HTTPProxy', spec))
    plan['required_crds'].append(_crd('projectcontour.io', 'v1', 'HTTPProxy'))
    _not_settable(ctx, plan, ('connect_timeout',), 'the connect timeout is global Contour configuration')


def _build_contour_ingress(ctx, plan):
    plan['ingress_annotations']['projectcontour.io/response-timeout'] = go_duration(ctx['timeout'])
    _not_settable(ctx, plan, ('connect_timeout', 'idle_timeout'),
                  'the annotation only sets the response timeout; ingress_controller: contour (HTTPProxy) also sets idleConnection')
    if ctx['timeout'] > 300:
        _envoy_stream_idle(ctx, plan)


def _build_istio(ctx, plan):
    # reference 3.10: VirtualService http[].timeout; default disabled. Idle/connect live on a DestinationRule.
    version = 'networking.istio.io/' + ctx['istio_api_version']
    plan['objects'].append(_object(ctx, version, 'VirtualService', {
        'hosts': [ctx['host']],
        'gateways': list(ctx['istio_gateways']),
        'http': [{
            'match': [{'uri': {'prefix': ctx['path']}}],
            'route': [{'destination': {'host': _service_fqdn(ctx), 'port': {'number': ctx['service_port']}}}],
            'timeout': go_duration(ctx['timeout']),
        }],
    }))
    plan['required_crds'].append(_crd('networking.istio.io', ctx['istio_api_version'], 'VirtualService'))
    if ctx['connect_timeout'] is not None or ctx['idle_timeout'] is not None:
        pool = {}
        if ctx['connect_timeout'] is not None:
            pool['tcp'] = {'connectTimeout': go_duration(ctx['connect_timeout'])}
        if ctx['idle_timeout'] is not None:
            pool['http'] = {'idleTimeout': go_duration(ctx['idle_timeout'])}
        plan['objects'].append(_object(ctx, version, 'DestinationRule', {
            'host': _service_fqdn(ctx),
            'trafficPolicy': {'connectionPool': pool},
        }))
        plan['required_crds'].append(_crd('networking.istio.io', ctx['istio_api_version'], 'DestinationRule'))
    _tls_on_gateway(ctx, plan, 'the Istio Gateway (credentialName)')
    _envoy_stream_idle(ctx, plan)


def _build_gateway_api(ctx, plan):
    # reference 3.11: GEP-2257 durations; backendRequest must not exceed request. Kong reads only backendRequest.
    value = gateway_duration(ctx['timeout'])
    plan['objects'].append(_httproute(ctx, {'request': value, 'backendRequest': value}))
    plan['required_crds'].append(_crd('gateway.networking.k8s.io', 'v1', 'HTTPRoute',
                                      schema_path=['spec', 'rules', 'timeouts'],
                                      schema_hint='HTTPRoute timeouts (Gateway API v1.2.0+ standard channel, or v1.0.0+ experimental)'))
    _not_settable(ctx, plan, ('connect_timeout', 'idle_timeout'), 'HTTPRoute only has request/backendRequest timeouts')
    _tls_on_gateway(ctx, plan, 'the Gateway listener')
    plan['warnings'].append(
        'Gateway API: HTTPRoute timeouts are an Extended feature; check that the GatewayClass lists HTTPRouteRequestTimeout '
        '(and HTTPRouteBackendTimeout) in status.supportedFeatures. Traefik does not advertise them and the AWS Load Balancer '
        'Controller does not support them; use the controller-specific setting there')
    _envoy_stream_idle(ctx, plan)


def _build_envoy_gateway(ctx, plan):
    # reference 3.12: BackendTrafficPolicy on the HTTPRoute; HTTPRoute timeouts would take precedence, so none are set.
    plan['objects'].append(_httproute(ctx))
    timeout = {'http': {'requestTimeout': gateway_duration(ctx['timeout'])}}
    if ctx['idle_timeout'] is not None:
        timeout['http']['connectionIdleTimeout'] = gateway_duration(ctx['idle_timeout'])
    if ctx['connect_timeout'] is not None:
        timeout['tcp'] = {'connectTimeout': gateway_duration(ctx['connect_timeout'])}
    plan['objects'].append(_object(ctx, 'gateway.envoyproxy.io/v1alpha1', 'BackendTrafficPolicy', {
        'targetRefs': [{'group': 'gateway.networking.k8s.io', 'kind': 'HTTPRoute', 'name': ctx['service_name']}],
        'timeout': timeout,
    }))
    plan['required_crds'].append(_crd('gateway.networking.k8s.io', 'v1', 'HTTPRoute'))
    plan['required_crds'].append(_crd('gateway.envoyproxy.io', 'v1alpha1', 'BackendTrafficPolicy'))
    _tls_on_gateway(ctx, plan, 'the Gateway listener')
    _envoy_stream_idle(ctx, plan)


BUILDERS = {
    'ingress-nginx': _build_ingress_nginx,
    'f5-nginx': _build_f5_nginx,
    'f5-nginx-virtualserver': _build_f5_virtualserver,
    'traefik': _build_traefik,
    'gke': _build_gke,
    'gke-gateway': _build_gke_gateway,
    'alb': _build_alb,
    'azure': _build_azure,
    'haproxy': _build_haproxy,
    'haproxy-ingress': _build_haproxy_ingress,
    'kong': _build_kong,
    'contour': _build_contour,
    'contour-ingress': _build_contour_ingress,
    'istio': _build_istio,
    'gateway-api': _build_gateway_api,
    'envoy-gateway': _build_envoy_gateway,
}


def _crd(group, version, kind, schema_path=None, schema_hint=None):
    info = CRDS['{0}/{1}'.format(group, kind)]
    crd = {'name': info['name'], 'group': group, 'version': version, 'kind': kind, 'install': info['install']}
    if schema_path:
        crd['schema_path'] = list(schema_path)
        crd['schema_hint'] = schema_hint or '.'.join(schema_path)
    return crd


# Annotations that any controller's translation may set, to spot what a switch leaves behind.
_ALL_TIMEOUT_ANNOTATION_PREFIXES = (
    'nginx.ingress.kubernetes.io/proxy-', 'nginx.org/proxy-', 'appgw.ingress.kubernetes.io/request-timeout',
    'haproxy.org/timeout-', 'haproxy-ingress.github.io/timeout-', 'projectcontour.io/response-timeout',
)


def build_plan(intent):
    """Translate the intent. Returns a dict (see module docstring); raises IngressTimeoutError."""
    ctx = normalize_intent(intent)
    plan = {
        'enabled': ctx['enabled'],
        'controller': ctx['controller'],
        'title': CONTROLLERS[ctx['controller']]['title'] if ctx['controller'] else 'ingress disabled',
        'routing': CONTROLLERS[ctx['controller']]['routing'] if ctx['controller'] else 'none',
        'namespace': ctx['namespace'],
        'release_name': ctx['release_name'],
        'service_name': ctx['service_name'],
        'class_name': ctx['class_name'],
        'timeouts': {},
        'ingress_annotations': {},
        'service_annotations': {},
        'objects': [],
        'required_crds': [],
        'warnings': list(ctx['warnings']),
        'manual_steps': [],
        'merged_annotations': [],
        'labels': {},
        'selector': '{0}={1},{2}={3}'.format(LABEL_MANAGED_BY, MANAGED_BY, LABEL_INSTANCE, ctx['release_name']),
        'cleanup_kinds': served_cleanup_kinds(ctx['served_apis']),
    }
    if ctx['enabled']:
        plan['timeouts'] = {'timeout': ctx['timeout'], 'connect_timeout': ctx['connect_timeout'], 'idle_timeout': ctx['idle_timeout']}
        plan['labels'] = _labels(ctx)
        BUILDERS[ctx['controller']](ctx, plan)

    # User annotations go underneath the computed ones; a conflict is reported, the computed value wins.
    ingress_ann = dict(ctx['extra_annotations'])
    service_ann = dict(ctx['extra_service_annotations'])
    for target, computed, var in ((ingress_ann, plan['ingress_annotations'], 'ingress_extra_annotations'),
                                  (service_ann, plan['service_annotations'], 'ingress_extra_service_annotations')):
        for key, value in computed.items():
            if key in target and target[key] != value and key not in plan['merged_annotations']:
                plan['warnings'].append('{0} sets {1}={2!r}, which the role computes from the timeout intent; using {3!r}'.format(
                    var, key, target[key], value))
            target[key] = value
    plan['ingress_annotations'] = dict(sorted(ingress_ann.items()))
    plan['service_annotations'] = dict(sorted(service_ann.items()))
    if plan['routing'] == 'objects' and plan['ingress_annotations'] and ctx['extra_annotations']:
        plan['warnings'].append('ingress_extra_annotations are set but {0} does not use the chart\'s Ingress, which is '
                                'disabled'.format(plan['title']))

    live = ctx['live_ingress_annotations']
    if live.get(ALB_LB_ATTRIBUTES) and ALB_LB_ATTRIBUTES not in plan['ingress_annotations']:
        plan['warnings'].append(
            'The live Ingress still has {0}={1!r}. The release removes the annotation, but the AWS Load Balancer Controller does '
            'not reset the attribute: the ALB keeps that idle timeout until you set it back explicitly (or delete the ALB)'.format(
                ALB_LB_ATTRIBUTES, live[ALB_LB_ATTRIBUTES]))
    plan['removed_annotations'] = sorted(
        key for key in live
        if key not in plan['ingress_annotations'] and (key == ALB_LB_ATTRIBUTES or key.startswith(_ALL_TIMEOUT_ANNOTATION_PREFIXES)))

    use_ingress = ctx['enabled'] and plan['routing'] == 'ingress'
    ingress_values = {
        'enabled': use_ingress,
        'className': ctx['class_name'],
        'annotations': plan['ingress_annotations'] if use_ingress else {},
    }
    if ctx['enabled']:
        ingress_values['hosts'] = [{'host': ctx['host'], 'paths': [{'path': ctx['path'], 'pathType': 'Prefix'}]}]
        ingress_values['tls'] = [{'secretName': ctx['tls_secret_name'], 'hosts': [ctx['host']]}] if ctx['tls_secret_name'] else []
    else:
        ingress_values['hosts'] = []
        ingress_values['tls'] = []
    plan['release_values'] = {'ingress': ingress_values, 'service': {'annotations': plan['service_annotations']}}
    plan['summary'] = _summary(plan)
    del plan['merged_annotations']
    return plan


def _summary(plan):
    if not plan['enabled']:
        return 'ingress disabled: the chart Ingress is off and objects this collection created earlier are removed'
    parts = ['{0}: timeout {1}s'.format(plan['title'], plan['timeouts']['timeout'])]
    if plan['ingress_annotations']:
        parts.append('Ingress annotations ' + ', '.join('{0}={1}'.format(k, v) for k, v in plan['ingress_annotations'].items()))
    if plan['service_annotations']:
        parts.append('Service annotations ' + ', '.join('{0}={1}'.format(k, v) for k, v in plan['service_annotations'].items()))
    if plan['objects']:
        parts.append('objects ' + ', '.join('{0}/{1}'.format(o['kind'], o['metadata']['name']) for o in plan['objects']))
    return '; '.join(parts)


# --------------------------------------------------------------------------------------------
# CRD checks and stale objects
# --------------------------------------------------------------------------------------------

def _schema_has_path(schema, path):
    """True if an openAPIV3Schema keeps the field at ``path`` (arrays are walked through items)."""
    node = schema or {}
    for key in path:
        while node.get('type') == 'array' and isinstance(node.get('items'), dict):
            node = node['items']
        props = node.get('properties') or {}
        if key in props:
            node = props[key]
            continue
        if node.get('x-kubernetes-preserve-unknown-fields'):
            return True
        return False
    return True


def crd_problems(crds, required):
    """Messages for required CRDs that are missing, do not serve the version, or would drop a field.

    ``crds`` is a list of CustomResourceDefinition objects found in the cluster (any extra ones are ignored);
    ``required`` is ``plan['required_crds']``.
    """
    by_name = {}
    for crd in crds or []:
        name = (crd.get('metadata') or {}).get('name')
        if name:
            by_name[name] = crd
    problems = []
    seen = set()
    for req in required or []:
        key = (req['name'], req['version'], tuple(req.get('schema_path') or ()))
        if key in seen:
            continue
        seen.add(key)
        crd = by_name.get(req['name'])
        if crd is None:
            problems.append('CRD {0} is not installed ({1} {2}/{3} needs it): install {4} first'.format(
                req['name'], req['kind'], req['group'], req['version'], req['install']))
            continue
        versions = (crd.get('spec') or {}).get('versions') or []
        served = [v for v in versions if v.get('served')]
        match = [v for v in served if v.get('name') == req['version']]
        if not match:
            problems.append('CRD {0} does not serve version {1} (served: {2}): install {3} first'.format(
                req['name'], req['version'], ', '.join(v.get('name', '?') for v in served) or 'none', req['install']))
            continue
        if req.get('schema_path'):
            schema = ((match[0].get('schema') or {}).get('openAPIV3Schema')) or {}
            if schema and not _schema_has_path(schema, req['schema_path']):
                problems.append('CRD {0} {1} has no field {2}, so the API server would silently drop it: it needs {3}; '
                                'install {4} first'.format(req['name'], req['version'], '.'.join(req['schema_path']),
                                                           req['schema_hint'], req['install']))
    return problems


def served_cleanup_kinds(apis):
    """The CLEANUP_KINDS the cluster serves, one version per group and kind.

    ``apis`` is the ``apis`` result of kubernetes.core.k8s_cluster_info ({"group/version": {"Kind": {...}}}).
    Empty or missing means unknown: every kind is returned (k8s_info skips unserved ones itself).
    """
    if not apis:
        return copy.deepcopy(CLEANUP_KINDS)
    result = []
    seen = set()
    for kind in CLEANUP_KINDS:
        key = (_group_of(kind['api_version']), kind['kind'])
        if key in seen or kind['kind'] not in (apis.get(kind['api_version']) or {}):
            continue
        seen.add(key)
        result.append(copy.deepcopy(kind))
    return result


def _group_of(api_version):
    return api_version.split('/', 1)[0] if '/' in api_version else ''


def stale_objects(live, plan):
    """Objects labelled as ours (same release) that the plan no longer wants.

    ``live`` is a list of objects (dicts with apiVersion, kind, metadata) gathered with the plan's selector from
    every kind in ``plan['cleanup_kinds']``. Returns unique {api_version, kind, name, namespace} entries.
    """
    wanted = set()
    for obj in plan.get('objects') or []:
        wanted.add((_group_of(obj['apiVersion']), obj['kind'], obj['metadata']['name'], obj['metadata']['namespace']))
    result = []
    seen = set()
    for obj in live or []:
        meta = obj.get('metadata') or {}
        labels = meta.get('labels') or {}
        if labels.get(LABEL_MANAGED_BY) != MANAGED_BY or labels.get(LABEL_INSTANCE) != plan.get('release_name'):
            continue
        if meta.get('namespace') != plan.get('namespace'):
            continue
        key = (_group_of(obj.get('apiVersion', '')), obj.get('kind'), meta.get('name'), meta.get('namespace'))
        if key in wanted or key in seen:
            continue
        seen.add(key)
        result.append({'api_version': obj.get('apiVersion'), 'kind': obj.get('kind'), 'name': meta.get('name'),
                       'namespace': meta.get('namespace')})
    return result
