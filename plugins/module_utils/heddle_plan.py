# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the heddle role's inputs and turn them into the chart's values (pure, no I/O).

plan(inputs) -> {'errors': [...], 'values': {...} or None, 'actors': [...]}

Every message names the operator's variable (heddle_workers[2].config, not an internal name),
the value, the one condition that failed and the fix. All problems are reported at once.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible_collections.statewave.kubernetes.plugins.module_utils.ingress_timeouts import IngressTimeoutError, build_plan

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
    HAS_YAML = False

TIERS = ('local', 'standard', 'frontier')
# The seed's per-tier figures (docs/KUBERNETES.md "Resource Requests and Limits"): a local-tier
# worker proxies a local LLM and gets more; frontier calls a remote API like standard.
TIER_RESOURCES = {
    'local': {'requests': {'cpu': '200m', 'memory': '256Mi'}, 'limits': {'cpu': '1000m', 'memory': '512Mi'}},
    'standard': {'requests': {'cpu': '100m', 'memory': '128Mi'}, 'limits': {'cpu': '500m', 'memory': '256Mi'}},
    'frontier': {'requests': {'cpu': '100m', 'memory': '128Mi'}, 'limits': {'cpu': '500m', 'memory': '256Mi'}},
}
PULL_POLICIES = ('Always', 'IfNotPresent', 'Never')
MAXMEMORY_POLICIES = ('noeviction', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru',
                      'volatile-lfu', 'volatile-random', 'volatile-ttl')
DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
SECRET_KEY = re.compile(r'^[-._a-zA-Z0-9]+$')
# A Heddle name becomes a NATS subject token (heddle.tasks.<name>.<tier>) and, with '_' as '-',
# part of a Kubernetes object name.
ACTOR_NAME = re.compile(r'^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$')
TAG = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')
DIGEST = re.compile(r'^sha256:[0-9a-f]{64}$')
REPOSITORY = re.compile(r'^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$')
REGISTRY = re.compile(r'^[A-Za-z0-9.-]+(:[0-9]{1,5})?$')
QUANTITY = re.compile(r'^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?$')
STORAGE = re.compile(r'^[0-9]+(\.[0-9]+)?(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$')
MAXMEMORY = re.compile(r'^[0-9]+(b|k|kb|m|mb|g|gb)?$', re.I)
URL = re.compile(r'^https?://[^\s/?#]+([/?#]\S*)?$')
WORKER_KEYS = {'name', 'config', 'tier', 'replicas', 'resources', 'autoscaling'}
PIPELINE_KEYS = {'name', 'config', 'replicas', 'resources'}
AUTOSCALING_KEYS = {'enabled', 'min_replicas', 'max_replicas', 'target_cpu_utilization'}
OBJECT_NAME_MAX = 63


def _q(value):
    """The value as the operator wrote it, short."""
    text = repr(value) if not isinstance(value, str) else "'" + value + "'"
    return text if len(text) <= 80 else text[:77] + '...'


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _as_int(value):
    """An int, or None (accepts '3' as Ansible templating often yields strings)."""
    if _is_int(value):
        return value
    if isinstance(value, str) and re.match(r'^-?[0-9]+$', value.strip()):
        return int(value.strip())
    return None


def _as_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ('true', 'yes', 'on', '1', 'false', 'no', 'off', '0'):
        return value.strip().lower() in ('true', 'yes', 'on', '1')
    return None


class _Checker(object):
    def __init__(self):
        self.errors = []

    def add(self, var, value, condition, fix):
        self.errors.append('{0}: {1} {2}; {3}'.format(var, _q(value), condition, fix))

    def dns_label(self, var, value, max_len=63):
        if not isinstance(value, str) or not DNS_LABEL.match(value) or len(value) > max_len:
            self.add(var, value, 'is not a DNS label (lowercase letters, digits and "-", starting and ending with a '
                     'letter or digit, at most {0} characters)'.format(max_len), 'set e.g. {0}: heddle'.format(var))
            return False
        return True

    def integer(self, var, value, low, high=None, example=1):
        number = _as_int(value)
        if number is None or number < low or (high is not None and number > high):
            bound = 'from {0} to {1}'.format(low, high) if high is not None else '{0} or more'.format(low)
            self.add(var, value, 'is not a whole number {0}'.format(bound), 'set e.g. {0}: {1}'.format(var, example))
            return None
        return number

    def boolean(self, var, value):
        flag = _as_bool(value)
        if flag is None:
            self.add(var, value, 'is not true or false', 'set {0}: true or {0}: false'.format(var))
        return flag

    def text(self, var, value, allow_empty=True):
        if value is None and allow_empty:
            return ''
        if not isinstance(value, str) or (not allow_empty and not value):
            self.add(var, value, 'is not a string' if not isinstance(value, str) else 'is empty',
                     'set {0} to a string'.format(var))
            return None
        return value

    def url(self, var, value):
        text = self.text(var, value)
        if text and not URL.match(text):
            self.add(var, value, 'is not an http:// or https:// URL',
                     'set e.g. {0}: http://ollama.models.svc:11434 (or "" to leave it out)'.format(var))

    def quantity(self, var, value, storage=False, example='1Gi'):
        text = str(value) if _is_int(value) else value
        pattern = STORAGE if storage else QUANTITY
        if not isinstance(text, str) or not pattern.match(text):
            self.add(var, value, 'is not a Kubernetes {0}quantity'.format('storage ' if storage else ''),
                     'set e.g. {0}: {1}'.format(var, example))
            return None
        return text

    def resources(self, var, value):
        if not isinstance(value, dict):
            self.add(var, value, 'is not a mapping of requests and limits',
                     'set e.g. {0}: {{requests: {{cpu: 100m, memory: 128Mi}}, limits: {{cpu: 500m, memory: 256Mi}}}}'.format(var))
            return None
        ok = True
        for section, entries in value.items():
            if section not in ('requests', 'limits') or not isinstance(entries, dict):
                self.add('{0}.{1}'.format(var, section), entries, 'is not requests or limits with a mapping of quantities',
                         'use {0}.requests and {0}.limits, e.g. {{cpu: 100m, memory: 128Mi}}'.format(var))
                ok = False
                continue
            for name, quantity in entries.items():
                if self.quantity('{0}.{1}.{2}'.format(var, section, name), quantity,
                                 example='500m' if name == 'cpu' else '256Mi') is None:
                    ok = False
        return value if ok else None

    def image(self, prefix, inputs, required_repository=False):
        registry = inputs.get(prefix + '_registry', '')
        repository = inputs.get(prefix + '_repository', '')
        tag = inputs.get(prefix + '_tag', '')
        digest = inputs.get(prefix + '_digest', '')
        policy = inputs.get(prefix + '_pull_policy', 'IfNotPresent')
        registry = '' if registry is None else registry
        digest = '' if digest is None else digest
        if not isinstance(registry, str) or (registry and not REGISTRY.match(registry)):
            self.add(prefix + '_registry', registry, 'is not a registry host (host[:port], no scheme or path)',
                     'set e.g. {0}_registry: registry.example.com (the repository path goes into {0}_repository)'.format(prefix))
        if not isinstance(repository, str) or not repository:
            if required_repository:
                self.add(prefix + '_repository', repository,
                         'is empty: upstream publishes no Heddle image, so there is none to pull by default',
                         'build images/heddle (docker build -t <registry>/<repository>:<tag> images/heddle), push it, '
                         'and set {0}_registry and {0}_repository'.format(prefix))
            else:
                self.add(prefix + '_repository', repository, 'is empty', 'set the image repository in {0}_repository'.format(prefix))
        elif not REPOSITORY.match(repository):
            self.add(prefix + '_repository', repository,
                     'is not an image repository path (lowercase path components; the tag goes into {0}_tag and the '
                     'registry host into {0}_registry)'.format(prefix), 'set e.g. {0}_repository: ai/heddle'.format(prefix))
        if not isinstance(tag, str) or not TAG.match(tag):
            self.add(prefix + '_tag', tag, "is not an image tag (letters, digits, '_', '.' and '-', at most 128, no ':' or '@')",
                     'set e.g. {0}_tag: "0.9.2" and put a digest into {0}_digest'.format(prefix))
        if not isinstance(digest, str) or (digest and not DIGEST.match(digest)):
            self.add(prefix + '_digest', digest, 'is not an image digest (sha256: and 64 lowercase hex digits)',
                     'set it to the output of `crane digest <image>`, or "" for none')
        if policy not in PULL_POLICIES:
            self.add(prefix + '_pull_policy', policy, 'is not one of ' + ', '.join(PULL_POLICIES),
                     'set {0}_pull_policy: IfNotPresent'.format(prefix))
        return {'registry': registry if isinstance(registry, str) else '', 'repository': repository, 'tag': tag,
                'digest': digest, 'pullPolicy': policy}


def _load_config(check, var, value, required_keys):
    """The actor's Heddle config as a mapping (YAML text is parsed), or None."""
    if value is None or value == '' or value == {}:
        check.add(var, value, 'is missing: each entry needs the content of its Heddle config',
                  'set {0} to the config as a mapping (or YAML text), with at least {1}'.format(var, ', '.join(required_keys)))
        return None
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value) if HAS_YAML else None
        except yaml.YAMLError as exc:
            check.add(var, value, 'is not valid YAML ({0})'.format(str(exc).splitlines()[0]),
                      'fix the YAML text, or give {0} as a mapping'.format(var))
            return None
    if not isinstance(value, dict):
        check.add(var, value, 'is not a mapping', 'set {0} to the Heddle config as a mapping'.format(var))
        return None
    return value


def _tier_resources(tier):
    return {k: dict(v) for k, v in TIER_RESOURCES[tier].items()}


def _check_name(check, var, value, names_seen, objects_seen, prefix_len, kind):
    if not isinstance(value, str) or not ACTOR_NAME.match(value):
        check.add(var, value, 'is not a {0} name (lowercase letters, digits, "_" and "-"; it becomes the NATS subject '
                  'token and, with "_" as "-", part of the Deployment name)'.format(kind), 'set e.g. {0}: summarizer'.format(var))
        return None
    obj = value.replace('_', '-')
    if value in names_seen:
        check.add(var, value, 'is used by {0} too: each {1} gets its own Deployment and NATS queue'.format(names_seen[value], kind),
                  'give every entry a different name')
        return None
    if obj in objects_seen:
        check.add(var, value, 'gives the same Deployment name as {0} ("_" becomes "-")'.format(objects_seen[obj]),
                  'rename one of them')
        return None
    if prefix_len + len(obj) > OBJECT_NAME_MAX:
        check.add(var, value, 'makes the Deployment name longer than {0} characters'.format(OBJECT_NAME_MAX),
                  'use at most {0} characters'.format(OBJECT_NAME_MAX - prefix_len))
        return None
    names_seen[value] = var
    objects_seen[obj] = var
    return value


def _autoscaling(check, var, value, resources):
    if value is None:
        return {'enabled': False}
    if not isinstance(value, dict) or set(value) - AUTOSCALING_KEYS:
        check.add(var, value, 'is not a mapping of ' + ', '.join(sorted(AUTOSCALING_KEYS)),
                  'set e.g. {0}: {{enabled: true, min_replicas: 1, max_replicas: 4, target_cpu_utilization: 70}}'.format(var))
        return None
    enabled = check.boolean(var + '.enabled', value.get('enabled', False))
    if not enabled:
        return {'enabled': False}
    low = check.integer(var + '.min_replicas', value.get('min_replicas', 1), 1, 1000, 1)
    high = check.integer(var + '.max_replicas', value.get('max_replicas', 4), 1, 1000, 4)
    target = check.integer(var + '.target_cpu_utilization', value.get('target_cpu_utilization', 70), 1, 100, 70)
    if low is not None and high is not None and high < low:
        check.add(var + '.max_replicas', high, 'is below {0}.min_replicas ({1})'.format(var, low),
                  'raise {0}.max_replicas to {1} or more'.format(var, low))
    if isinstance(resources, dict) and not (resources.get('requests') or {}).get('cpu'):
        check.add(var + '.enabled', True, 'needs a CPU request to scale on (the HPA targets a percentage of it)',
                  'set a requests.cpu in the entry\'s resources')
    return {'enabled': True, 'minReplicas': low, 'maxReplicas': high, 'targetCPUUtilizationPercentage': target}


def _workers(check, inputs, prefix_len):
    workers = inputs.get('heddle_workers', [])
    if workers is None:
        workers = []
    if not isinstance(workers, list):
        check.add('heddle_workers', workers, 'is not a list', 'set heddle_workers to a list of entries with name and config')
        return []
    names, objects, out = {}, {}, []
    for index, entry in enumerate(workers):
        var = 'heddle_workers[{0}]'.format(index)
        if not isinstance(entry, dict):
            check.add(var, entry, 'is not a mapping', 'give each worker as {name: ..., config: {...}}')
            continue
        unknown = sorted(set(entry) - WORKER_KEYS)
        if unknown:
            check.add(var, unknown, 'are not keys of a worker entry (' + ', '.join(sorted(WORKER_KEYS)) + ')',
                      'remove or rename them')
        name = _check_name(check, var + '.name', entry.get('name'), names, objects, prefix_len, 'worker')
        label = var + ' ({0})'.format(_q(entry.get('name')))
        config = _load_config(check, var + '.config', entry.get('config'), ['name', 'worker_kind',
                                                                            'system_prompt or processing_backend'])
        kind = 'worker'
        if config is not None:
            if name is not None and config.get('name', name) != name:
                check.add(var + '.config.name', config.get('name'), 'differs from {0}.name {1}: Heddle subscribes the worker '
                          'to heddle.tasks.<config name>.<tier>, and the probe and the router look for {1}'.format(var, _q(name)),
                          'make them the same (or leave config.name out; the role sets it)')
            worker_kind = config.get('worker_kind', 'llm')
            if worker_kind == 'processor':
                kind = 'processor'
                backend = config.get('processing_backend')
                if not isinstance(backend, str) or '.' not in backend:
                    check.add(var + '.config.processing_backend', backend, 'is not a dotted Python class path '
                              '(a processor runs the class it names)',
                              'set e.g. processing_backend: heddle.contrib.subprocess.SubprocessBackend')
            elif worker_kind == 'llm':
                if not isinstance(config.get('system_prompt'), str) or not config.get('system_prompt'):
                    check.add(var + '.config.system_prompt', config.get('system_prompt'),
                              'is missing: an LLM worker (worker_kind llm, the default) needs a system_prompt',
                              'add system_prompt, or set worker_kind: processor with a processing_backend')
            else:
                check.add(var + '.config.worker_kind', worker_kind, 'is not llm or processor',
                          'set worker_kind: llm (a model) or processor (a Python backend, no model)')
        default_tier = (config or {}).get('default_model_tier') or ('local' if kind == 'processor' else 'standard')
        tier = entry.get('tier', default_tier)
        if tier not in TIERS:
            check.add(var + '.tier', tier, 'is not one of ' + ', '.join(TIERS), 'set {0}.tier: standard'.format(var))
            tier = None
        replicas = check.integer(var + '.replicas', entry.get('replicas', 1), 0, 1000, 1)
        resources = entry.get('resources')
        if resources is None and tier is not None:
            resources = _tier_resources(tier)
        elif resources is not None:
            resources = check.resources(var + '.resources', resources)
        autoscaling = _autoscaling(check, var + '.autoscaling', entry.get('autoscaling'), resources)
        if config is not None and name is not None and tier is not None:
            config = dict(config, name=name)
            out.append({'name': name, 'kind': kind, 'tier': tier, 'config': config, 'replicas': replicas,
                        'resources': resources, 'autoscaling': autoscaling, 'label': label})
    return out


def _pipelines(check, inputs, prefix_len):
    pipelines = inputs.get('heddle_pipelines', [])
    if pipelines is None:
        pipelines = []
    if not isinstance(pipelines, list):
        check.add('heddle_pipelines', pipelines, 'is not a list', 'set heddle_pipelines to a list of entries with name and config')
        return []
    names, objects, out = {}, {}, []
    for index, entry in enumerate(pipelines):
        var = 'heddle_pipelines[{0}]'.format(index)
        if not isinstance(entry, dict):
            check.add(var, entry, 'is not a mapping', 'give each pipeline as {name: ..., config: {...}}')
            continue
        unknown = sorted(set(entry) - PIPELINE_KEYS)
        if unknown:
            check.add(var, unknown, 'are not keys of a pipeline entry (' + ', '.join(sorted(PIPELINE_KEYS)) + ')',
                      'remove or rename them')
        name = _check_name(check, var + '.name', entry.get('name'), names, objects, prefix_len, 'pipeline')
        config = _load_config(check, var + '.config', entry.get('config'), ['name', 'pipeline_stages'])
        if config is not None:
            stages = config.get('pipeline_stages')
            if not isinstance(stages, list) or not stages:
                check.add(var + '.config.pipeline_stages', stages, 'is not a non-empty list of stages',
                          'add pipeline_stages: [{name: ..., worker_type: ...}, ...]')
            if name is not None and config.get('name', name) != name:
                check.add(var + '.config.name', config.get('name'), 'differs from {0}.name {1}'.format(var, _q(name)),
                          'make them the same (or leave config.name out; the role sets it)')
        replicas = check.integer(var + '.replicas', entry.get('replicas', 1), 0, 1000, 1)
        resources = entry.get('resources')
        resources = _tier_resources('local') if resources is None else check.resources(var + '.resources', resources)
        if config is not None and name is not None:
            out.append({'name': name, 'config': dict(config, name=name), 'replicas': replicas, 'resources': resources})
    return out


def workshop_ingress_intent(inputs):
    """The ingress role's intent (the filter statewave.kubernetes.ingress_timeouts) for the workshop."""
    get = inputs.get
    release = get('heddle_release_name') or 'heddle'
    return {
        'enabled': bool(_as_bool(get('heddle_workshop_ingress_enabled', False))),
        'controller': get('heddle_workshop_ingress_controller', '') or '',
        'class_name': get('heddle_workshop_ingress_class_name', '') or '',
        'ingress_classes': get('_ingress_classes') or [],
        'timeout': get('heddle_workshop_ingress_timeout', 120),
        'connect_timeout': None,
        'idle_timeout': None,
        'allow_short_timeout': False,
        'host': get('heddle_workshop_ingress_host', '') or '',
        'path': get('heddle_workshop_ingress_path', '/') or '/',
        'tls_secret_name': get('heddle_workshop_ingress_tls_secret_name', '') or '',
        'namespace': get('heddle_namespace') or 'heddle',
        'release_name': release,
        'service_name': '{0}-workshop'.format(release),
        'service_port': _as_int(get('heddle_workshop_port', 8080)) or 8080,
        'extra_annotations': get('heddle_workshop_ingress_extra_annotations') or {},
        'served_apis': {},
    }


def plan(inputs):
    """Check every heddle_* input; return {'errors': [...], 'values': chart values or None, 'actors': [...]}."""
    check = _Checker()
    get = inputs.get
    check.dns_label('heddle_namespace', get('heddle_namespace'))
    release = get('heddle_release_name')
    release_ok = check.dns_label('heddle_release_name', release, 40)
    prefix_len = (len(release) if release_ok else 6) + len('-worker-')
    image = check.image('heddle_image', inputs, required_repository=True)
    nats_image = check.image('heddle_nats_image', inputs)
    valkey_image = check.image('heddle_valkey_image', inputs)
    for var in ('heddle_image_pull_secrets',):
        secrets = get(var, [])
        if not isinstance(secrets, list) or not all(isinstance(s, str) and DNS_SUBDOMAIN.match(s) for s in secrets):
            check.add(var, secrets, 'is not a list of Secret names', 'set e.g. {0}: [registry-credentials]'.format(var))
            secrets = []
    client = check.integer('heddle_nats_client_port', get('heddle_nats_client_port', 4222), 1, 65535, 4222)
    monitor = check.integer('heddle_nats_monitor_port', get('heddle_nats_monitor_port', 8222), 1, 65535, 8222)
    if client is not None and client == monitor:
        check.add('heddle_nats_monitor_port', monitor, 'is the same port as heddle_nats_client_port',
                  'use two ports, e.g. 4222 and 8222')
    valkey_port = check.integer('heddle_valkey_port', get('heddle_valkey_port', 6379), 1, 65535, 6379)
    valkey_size = check.quantity('heddle_valkey_storage_size', get('heddle_valkey_storage_size'), storage=True)
    maxmemory = get('heddle_valkey_maxmemory')
    maxmemory = str(maxmemory) if _is_int(maxmemory) else maxmemory
    if not isinstance(maxmemory, str) or not MAXMEMORY.match(maxmemory):
        check.add('heddle_valkey_maxmemory', maxmemory, 'is not a Valkey memory size (bytes, or a number with kb, mb, gb)',
                  'set e.g. heddle_valkey_maxmemory: 128mb (0 means no limit)')
    policy = get('heddle_valkey_maxmemory_policy')
    if policy not in MAXMEMORY_POLICIES:
        check.add('heddle_valkey_maxmemory_policy', policy, 'is not a Valkey eviction policy (' + ', '.join(MAXMEMORY_POLICIES) + ')',
                  'set heddle_valkey_maxmemory_policy: noeviction (checkpoints are not silently evicted)')
    appendonly = check.boolean('heddle_valkey_appendonly', get('heddle_valkey_appendonly', True))
    storage_classes = {}
    for var in ('heddle_valkey_storage_class', 'heddle_workshop_storage_class'):
        value = get(var, '') or ''
        if not isinstance(value, str) or (value and not DNS_SUBDOMAIN.match(value)):
            check.add(var, value, 'is not a StorageClass name', 'set it to a StorageClass of the cluster, or "" for the default')
        storage_classes[var] = value if isinstance(value, str) else ''
    resources = {}
    for component in ('nats', 'valkey', 'router', 'orchestrator', 'workshop'):
        var = 'heddle_{0}_resources'.format(component)
        resources[component] = check.resources(var, get(var))

    router_replicas = check.integer('heddle_router_replicas', get('heddle_router_replicas', 1), 1, 100, 1)
    rules = get('heddle_router_rules', {}) or {}
    if not isinstance(rules, dict):
        check.add('heddle_router_rules', rules, 'is not a mapping (router_rules.yaml)', 'set e.g. heddle_router_rules: {tier_overrides: {}}')
        rules = {}
    overrides = rules.get('tier_overrides') or {}
    if not isinstance(overrides, dict) or any(t not in TIERS for t in overrides.values()):
        check.add('heddle_router_rules.tier_overrides', overrides, 'is not a mapping of worker names to ' + ', '.join(TIERS),
                  'set e.g. tier_overrides: {summarizer: local}')

    orchestrator_enabled = check.boolean('heddle_orchestrator_enabled', get('heddle_orchestrator_enabled', True))
    orchestrator_replicas = check.integer('heddle_orchestrator_replicas', get('heddle_orchestrator_replicas', 1), 1, 100, 1)
    orchestrator_tier = get('heddle_orchestrator_tier', 'standard')
    if orchestrator_tier not in TIERS:
        check.add('heddle_orchestrator_tier', orchestrator_tier, 'is not one of ' + ', '.join(TIERS),
                  'set heddle_orchestrator_tier: standard')
    orchestrator_config = None
    if orchestrator_enabled:
        orchestrator_config = _load_config(check, 'heddle_orchestrator_config', get('heddle_orchestrator_config'),
                                           ['name', 'system_prompt'])
        if orchestrator_config is not None:
            if not isinstance(orchestrator_config.get('name'), str) or not ACTOR_NAME.match(orchestrator_config.get('name') or ''):
                check.add('heddle_orchestrator_config.name', orchestrator_config.get('name'), 'is not a name (lowercase letters, '
                          'digits, "_" and "-")', 'set e.g. name: default')
            if not isinstance(orchestrator_config.get('system_prompt'), str) or not orchestrator_config.get('system_prompt'):
                check.add('heddle_orchestrator_config.system_prompt', orchestrator_config.get('system_prompt'),
                          'is missing: the dynamic orchestrator asks its LLM with it', 'add a system_prompt')

    workers = _workers(check, inputs, prefix_len)
    pipelines = _pipelines(check, inputs, len(release) + len('-pipeline-') if release_ok else 16)

    for var in ('heddle_ollama_url', 'heddle_lm_studio_url'):
        check.url(var, get(var, ''))
    for var in ('heddle_ollama_model', 'heddle_lm_studio_model', 'heddle_frontier_model'):
        check.text(var, get(var, ''))
    local_backend = get('heddle_local_backend', '') or ''
    if local_backend not in ('', 'lmstudio', 'ollama'):
        check.add('heddle_local_backend', local_backend, 'is not lmstudio, ollama or ""',
                  'set heddle_local_backend: ollama (or lmstudio); it picks one when both URLs are set')
    secret_refs = {}
    for prefix in ('heddle_api_key_secret', 'heddle_workshop_token_secret'):
        name = get(prefix + '_name', '') or ''
        key = get(prefix + '_key', '')
        if not isinstance(name, str) or (name and not DNS_SUBDOMAIN.match(name)):
            check.add(prefix + '_name', name, 'is not a Secret name', 'set it to an existing Secret in heddle_namespace, or ""')
            name = ''
        if name and (not isinstance(key, str) or not SECRET_KEY.match(key)):
            check.add(prefix + '_key', key, 'is not a Secret key (letters, digits, "-", "_", ".")',
                      'set it to the key that holds the value in Secret {0}'.format(name))
        secret_refs[prefix] = {'existingSecret': name, 'key': key if isinstance(key, str) else ''}

    workshop_enabled = check.boolean('heddle_workshop_enabled', get('heddle_workshop_enabled', True))
    workshop_port = check.integer('heddle_workshop_port', get('heddle_workshop_port', 8080), 1, 65535, 8080)
    workshop_size = check.quantity('heddle_workshop_storage_size', get('heddle_workshop_storage_size'), storage=True) \
        if workshop_enabled else get('heddle_workshop_storage_size')
    service_type = get('heddle_workshop_service_type', 'ClusterIP')
    if service_type not in ('ClusterIP', 'NodePort', 'LoadBalancer'):
        check.add('heddle_workshop_service_type', service_type, 'is not ClusterIP, NodePort or LoadBalancer',
                  'set heddle_workshop_service_type: ClusterIP')
    ingress_enabled = check.boolean('heddle_workshop_ingress_enabled', get('heddle_workshop_ingress_enabled', False))
    allow_open = check.boolean('heddle_workshop_allow_unauthenticated', get('heddle_workshop_allow_unauthenticated', False))
    if workshop_enabled and ingress_enabled:
        host = get('heddle_workshop_ingress_host', '') or ''
        if not isinstance(host, str) or not DNS_SUBDOMAIN.match(host):
            check.add('heddle_workshop_ingress_host', host, 'is not a host name, and the workshop Ingress needs one',
                      'set e.g. heddle_workshop_ingress_host: heddle.example.com')
        if not secret_refs['heddle_workshop_token_secret']['existingSecret'] and not allow_open:
            check.add('heddle_workshop_ingress_enabled', True, 'would publish the workshop without a token: its mutating routes '
                      '(deploy apps, edit worker configs, replay dead letters) accept anyone who reaches the host',
                      'create a Secret with a token and set heddle_workshop_token_secret_name (the workshop then requires '
                      'it, HEDDLE_WORKSHOP_TOKEN), or set heddle_workshop_allow_unauthenticated: true')

    if workshop_enabled and ingress_enabled:
        # The ingress role's own translation, on the workshop's intent: the same checks (controller, timeout
        # ranges per controller, host, TLS), named with the heddle_workshop_ingress_* variables.
        try:
            build_plan(workshop_ingress_intent(inputs))
        except IngressTimeoutError as exc:
            check.errors.append(re.sub(r'\bingress_', 'heddle_workshop_ingress_', str(exc)))

    probes = check.boolean('heddle_actor_probes', get('heddle_actor_probes', True))
    extra_env = get('heddle_extra_env', []) or []
    if not isinstance(extra_env, list) or not all(isinstance(e, dict) and isinstance(e.get('name'), str) for e in extra_env):
        check.add('heddle_extra_env', extra_env, 'is not a list of {name, value} entries', 'set e.g. heddle_extra_env: [{name: LOG_LEVEL, value: info}]')
        extra_env = []
    secret_like = [e['name'] for e in extra_env if 'value' in e and re.search(r'KEY|TOKEN|SECRET|PASSWORD', e['name'], re.I)]
    if secret_like:
        check.add('heddle_extra_env', secret_like, 'carry credentials as plain values (they would sit in the Helm release in '
                  'clear text)', 'use valueFrom.secretKeyRef in those entries, or heddle_api_key_secret_name')

    e2e = check.boolean('heddle_verify_e2e', get('heddle_verify_e2e', True))
    e2e_worker = get('heddle_verify_e2e_worker', '') or ''
    processors = [w['name'] for w in workers if w['kind'] == 'processor']
    if e2e and e2e_worker and e2e_worker not in [w['name'] for w in workers]:
        check.add('heddle_verify_e2e_worker', e2e_worker, 'is not the name of an entry of heddle_workers',
                  'name one of: ' + (', '.join(w['name'] for w in workers) or 'none configured'))
    for var in ('heddle_verify_e2e_payload', 'heddle_verify_e2e_expect'):
        if not isinstance(get(var, {}), dict):
            check.add(var, get(var), 'is not a mapping', 'set e.g. {0}: {{text: hello}}'.format(var))
    check.integer('heddle_verify_e2e_timeout', get('heddle_verify_e2e_timeout', 60), 1, 3600, 60)
    check.integer('heddle_helm_timeout_seconds', get('heddle_helm_timeout_seconds', 600), 1, 86400, 600)

    errors = check.errors
    if errors:
        return {'errors': errors, 'values': None, 'actors': []}

    actors = ([{'name': 'router', 'component': 'router', 'deployment': release + '-router'}]
              + ([{'name': orchestrator_config['name'], 'component': 'orchestrator', 'deployment': release + '-orchestrator'}]
                 if orchestrator_enabled else [])
              + [{'name': p['name'], 'component': 'pipeline', 'deployment': release + '-pipeline-' + p['name'].replace('_', '-')}
                 for p in pipelines]
              + [{'name': w['name'], 'component': w['kind'], 'deployment': release + '-worker-' + w['name'].replace('_', '-'),
                  'tier': w['tier']} for w in workers])
    values = {
        'fullnameOverride': release,
        'image': image,
        'imagePullSecrets': [{'name': s} for s in secrets],
        'models': {
            'ollamaUrl': get('heddle_ollama_url', '') or '', 'ollamaModel': get('heddle_ollama_model', '') or '',
            'lmStudioUrl': get('heddle_lm_studio_url', '') or '', 'lmStudioModel': get('heddle_lm_studio_model', '') or '',
            'localBackend': local_backend, 'frontierModel': get('heddle_frontier_model', '') or '',
            'apiKey': secret_refs['heddle_api_key_secret'],
        },
        'extraEnv': extra_env,
        'actorProbes': {'enabled': probes},
        'nats': {'image': nats_image, 'clientPort': client, 'monitorPort': monitor,
                 'extraArgs': [str(a) for a in (get('heddle_nats_extra_args') or [])], 'resources': resources['nats']},
        'valkey': {'image': valkey_image, 'port': valkey_port, 'maxmemory': maxmemory, 'maxmemoryPolicy': policy,
                   'appendonly': appendonly, 'persistence': {'size': valkey_size, 'storageClass': storage_classes['heddle_valkey_storage_class']},
                   'resources': resources['valkey']},
        'router': {'enabled': True, 'replicas': router_replicas, 'rules': rules, 'resources': resources['router']},
        'orchestrator': {'enabled': bool(orchestrator_enabled), 'replicas': orchestrator_replicas, 'tier': orchestrator_tier,
                         'config': orchestrator_config or {'name': 'default', 'system_prompt': '-'},
                         'resources': resources['orchestrator']},
        'pipelines': pipelines,
        'workers': [{k: v for k, v in w.items() if k != 'label'} for w in workers],
        'workshop': {'enabled': bool(workshop_enabled), 'port': workshop_port,
                     'service': {'type': service_type},
                     'token': secret_refs['heddle_workshop_token_secret'],
                     'persistence': {'size': workshop_size, 'storageClass': storage_classes['heddle_workshop_storage_class']},
                     'resources': resources['workshop']},
    }
    return {'errors': [], 'values': values, 'actors': actors,
            'e2e_worker': e2e_worker or (processors[0] if processors else ''),
            'e2e_tier': next((w['tier'] for w in workers if w['name'] == (e2e_worker or (processors[0] if processors else ''))), '')}
