# -*- coding: utf-8 -*-
# Copyright (c) statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Turn what ``playbooks/diagnose.yml`` read from the cluster into findings.

Pure and stdlib only. The playbook gathers (Helm history and status, the release's
Deployment, migration Jobs, pods, events, HPA/PDB, Secret key names, the connection budget,
the ingress plan and the live Ingress/Service); this module decides. It walks the seed
runbook's troubleshooting table (statewave-contract.md sections 1.6-1.7, 4.4, 4.5 and 6 items
8-12): migration Job state, pods, Secret references, readiness, budget, ingress timeouts.

Entry points:

* :func:`secret_refs` - every Secret a workload's pod template references (env
  ``secretKeyRef``, ``envFrom``, volumes, image pull Secrets), without values.
* :func:`findings` - the findings list, each ``{severity, area, message, next}``, errors first.

No Secret value ever enters this module: the playbook passes key names only.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import calendar
import re
import time

SEVERITIES = ('error', 'warning', 'info')
AREAS = ('release', 'migration', 'pods', 'secrets', 'readiness', 'budget', 'ingress')

LABEL_INSTANCE = 'app.kubernetes.io/instance'
LABEL_COMPONENT = 'app.kubernetes.io/component'
JOB_NAME_LABELS = ('batch.kubernetes.io/job-name', 'job-name')

# Annotation keys that carry a proxy/LB timeout for one of the controllers the ingress role
# knows (README, Ingress timeouts). Used to report what is live when no plan can be computed.
TIMEOUT_ANNOTATION_HINTS = (
    'timeout', 'load-balancer-attributes', 'backend-config', 'serverstransport',
)

_PENDING_HELP = {
    'pending-install': 'an install was interrupted',
    'pending-upgrade': 'an upgrade was interrupted',
    'pending-rollback': 'a rollback was interrupted',
}

# Container waiting reasons and what they mean for this chart.
_WAITING = {
    'CreateContainerConfigError': (
        'error', 'a Secret or key the container needs is missing (the DSN Secret, an existingSecret, or a key in it)',
        'see the Secret findings below; kubectl -n {ns} describe pod {pod}'),
    'CreateContainerError': ('error', 'the container could not be created', 'kubectl -n {ns} describe pod {pod}'),
    'ImagePullBackOff': (
        'error', 'the image cannot be pulled (tag, registry access, or missing imagePullSecrets)',
        'kubectl -n {ns} describe pod {pod}; check statewave_image_repository/statewave_image_tag and imagePullSecrets'),
    'ErrImagePull': (
        'error', 'the image cannot be pulled (tag, registry access, or missing imagePullSecrets)',
        'kubectl -n {ns} describe pod {pod}; check statewave_image_repository/statewave_image_tag and imagePullSecrets'),
    'InvalidImageName': ('error', 'the image reference is invalid', 'check statewave_image_repository/statewave_image_tag/statewave_image_digest'),
    'CrashLoopBackOff': (
        'error', 'the process keeps exiting (invalid LLM key, missing env, STATEWAVE_STRICT_SCHEMA with a schema mismatch, '
                 'or the DB closed idle connections after the migration)',
        'kubectl -n {ns} logs {pod} --previous'),
}


def _meta(obj):
    return (obj or {}).get('metadata') or {}


def _name(obj):
    return _meta(obj).get('name', '')


def _conditions(obj):
    return {c.get('type'): c for c in ((obj or {}).get('status') or {}).get('conditions') or []}


def _finding(severity, area, message, next_step=''):
    text = '[{0}] {1}: {2}'.format(severity.upper(), area, message)
    if next_step:
        text += ' -> next: ' + next_step
    return {'severity': severity, 'area': area, 'message': message, 'next': next_step, 'text': text}


# --------------------------------------------------------------------------------------------
# Secret references
# --------------------------------------------------------------------------------------------

def _pod_spec(obj):
    spec = (obj or {}).get('spec') or {}
    kind = (obj or {}).get('kind')
    if kind == 'Pod':
        return spec
    if kind == 'CronJob':
        return ((((spec.get('jobTemplate') or {}).get('spec') or {}).get('template') or {}).get('spec')) or {}
    return ((spec.get('template') or {}).get('spec')) or {}


def secret_refs(workloads):
    """Secrets referenced by the pod templates of ``workloads`` (Deployments, Jobs, Pods).

    Returns a list of ``{object, container, env, secret, key, optional, via}``; ``key`` is empty
    when the whole Secret is referenced (envFrom, volume without items, image pull Secret).
    """
    refs = []
    seen = set()

    def add(ref):
        marker = tuple(sorted(ref.items()))
        if marker not in seen:
            seen.add(marker)
            refs.append(ref)

    for obj in workloads or []:
        label = '{0}/{1}'.format(obj.get('kind', 'Object'), _name(obj))
        spec = _pod_spec(obj)
        containers = list(spec.get('initContainers') or []) + list(spec.get('containers') or [])
        for container in containers:
            cname = container.get('name', '')
            for env in container.get('env') or []:
                ref = ((env.get('valueFrom') or {}).get('secretKeyRef')) or None
                if ref and ref.get('name'):
                    add({'object': label, 'container': cname, 'env': env.get('name', ''), 'secret': ref['name'],
                         'key': ref.get('key', ''), 'optional': bool(ref.get('optional', False)), 'via': 'env'})
            for source in container.get('envFrom') or []:
                ref = source.get('secretRef') or None
                if ref and ref.get('name'):
                    add({'object': label, 'container': cname, 'env': '', 'secret': ref['name'], 'key': '',
                         'optional': bool(ref.get('optional', False)), 'via': 'envFrom'})
        for volume in spec.get('volumes') or []:
            ref = volume.get('secret') or None
            if ref and ref.get('secretName'):
                items = ref.get('items') or [{}]
                for item in items:
                    add({'object': label, 'container': '', 'env': '', 'secret': ref['secretName'], 'key': item.get('key', ''),
                         'optional': bool(ref.get('optional', False)), 'via': 'volume ' + volume.get('name', '')})
        for pull in spec.get('imagePullSecrets') or []:
            if pull.get('name'):
                add({'object': label, 'container': '', 'env': '', 'secret': pull['name'], 'key': '', 'optional': False,
                     'via': 'imagePullSecrets'})
    return refs


# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------

class _Ctx(object):
    def __init__(self, facts):
        self.facts = facts or {}
        self.ns = self.facts.get('namespace', '')
        self.release = self.facts.get('release', '')
        self.fullname = self.facts.get('fullname', '')
        self.helm = self.facts.get('helm_binary') or 'helm'
        self.playbook = 'ansible-playbook -i {0} playbooks/{{0}}'.format(self.facts.get('inventory') or 'inventories/<env>')
        self.out = []

    def add(self, severity, area, message, next_step=''):
        self.out.append(_finding(severity, area, message, next_step))

    def kubectl(self, args):
        return 'kubectl -n {0} {1}'.format(self.ns, args)

    def helm_cmd(self, args):
        return '{0} -n {1} {2}'.format(self.helm, self.ns, args)


_TIME = re.compile(r'^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.\d+)?\s*(Z|[+-]\d\d:?\d\d)?')


def _epoch(text):
    """Whole seconds since the epoch of an RFC 3339 time (Kubernetes' creationTimestamp, Helm's
    ``updated`` with nanoseconds and an offset), or None. Fractions are dropped: Kubernetes keeps
    whole seconds."""
    match = _TIME.match(str(text or '').strip())
    if not match:
        return None
    fields = [int(v) for v in match.groups()[:6]]
    seconds = calendar.timegm(tuple(fields + [0, 0, 0]))
    zone = match.group(7)
    if zone and zone != 'Z':
        sign = -1 if zone[0] == '-' else 1
        digits = zone[1:].replace(':', '')
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds


def _age(seconds):
    seconds = max(0, int(seconds))
    if seconds < 120:
        return '{0}s'.format(seconds)
    if seconds < 7200:
        return '{0} min'.format(seconds // 60)
    return '{0} h'.format(seconds // 3600)


def _now(ctx):
    now = ctx.facts.get('now')
    return int(float(now)) if now not in (None, '') else int(time.time())


def _is_migration_job(ctx, job):
    """A Job that runs the release's migrations: labelled component=migrate (the chart's hook Job and
    the role's own Job), or named as the roles name them (<fullname>-migrate, <fullname[:40]>-migrate-<hash>).
    The verify role's in-cluster check Job (component=verify) and any other Job of the release are not."""
    labels = _meta(job).get('labels') or {}
    component = labels.get(LABEL_COMPONENT)
    if component:
        return component == 'migrate'
    name = _name(job)
    names = [n for n in (ctx.facts.get('migration_job_name'), ctx.fullname and ctx.fullname + '-migrate') if n]
    return name in names or bool(ctx.fullname and name.startswith(ctx.fullname[:40] + '-migrate-'))


def _serving_revision(history):
    """The newest revision with status deployed, or None."""
    deployed = [h for h in history or [] if h.get('status') == 'deployed']
    return max(deployed, key=lambda h: int(h.get('revision', 0))) if deployed else None


def _last_deployed(history):
    deployed = [h for h in history if h.get('status') in ('deployed', 'superseded')]
    return max(deployed, key=lambda h: int(h.get('revision', 0))) if deployed else None


def _release(ctx):
    facts = ctx.facts
    history = sorted(facts.get('history') or [], key=lambda h: int(h.get('revision', 0)))
    if facts.get('helm_error'):
        ctx.add('error', 'release', 'helm could not read release {0}: {1}'.format(ctx.release, facts['helm_error']),
                ctx.helm_cmd('history {0}'.format(ctx.release)))
        return None
    if not facts.get('release_found') or not history:
        ctx.add('error', 'release',
                'release {0} does not exist in namespace {1} (helm history finds no revision)'.format(ctx.release, ctx.ns),
                'install it: ' + ctx.playbook.format('site.yml') + ' (check statewave_namespace / statewave_release_name)')
        return None
    current = history[-1]
    status = current.get('status', 'unknown')
    _history_consistency(ctx, history)
    summary = 'revision {0} {1}: chart {2}, app {3}, updated {4} ({5})'.format(
        current.get('revision'), status, current.get('chart', '?'), current.get('app_version', '?'),
        current.get('updated', '?'), current.get('description', ''))
    if status == 'deployed':
        ctx.add('info', 'release', summary)
    elif status in _PENDING_HELP:
        since = _epoch(current.get('updated'))
        if since is not None:
            summary += ', {0} ago'.format(_age(_now(ctx) - since))
        previous = _last_deployed(history[:-1])
        if previous:
            step = ('{0} (or re-run {1}: the release role recovers a pending release when statewave_recover_pending is true '
                    'and the pending revision is older than statewave_pending_recovery_min_age_seconds)').format(
                ctx.helm_cmd('rollback {0} {1}'.format(ctx.release, previous['revision'])), ctx.playbook.format('site.yml'))
        else:
            step = '{0}, then {1}'.format(ctx.helm_cmd('uninstall {0}'.format(ctx.release)), ctx.playbook.format('site.yml'))
        ctx.add('error', 'release',
                '{0}; {1} and Helm refuses further operations until it is resolved. Make sure no other helm '
                'operation on the release is still running.'.format(summary, _PENDING_HELP[status]), step)
    elif status == 'failed':
        previous = _last_deployed(history[:-1])
        step = 'read the migration findings below, fix the cause and re-run {0}'.format(ctx.playbook.format('upgrade.yml'))
        if previous:
            step += ', or go back: {0} -e rollback_revision={1}'.format(ctx.playbook.format('rollback.yml'), previous['revision'])
        ctx.add('error', 'release', summary + '; the last operation failed', step)
    else:
        ctx.add('warning', 'release', summary, ctx.helm_cmd('status {0}'.format(ctx.release)))

    for hook in (facts.get('status') or {}).get('hooks') or []:
        if hook.get('kind') != 'Job':
            continue
        phase = (hook.get('last_run') or {}).get('phase', '')
        if phase and phase not in ('Succeeded', 'Running'):
            ctx.add('error', 'migration', 'migration hook {0} last run: {1}'.format(hook.get('name'), phase),
                    ctx.kubectl('logs job/{0}'.format(hook.get('name'))))
    return current


def _history_consistency(ctx, history):
    """Helm keeps exactly one revision deployed, and only the newest can be pending-*. More than one
    deployed revision, or a pending-* revision below the newest, means two helm processes worked on
    the release at once (a recovery raced a helm an interrupted run left running)."""
    deployed = [h for h in history if h.get('status') == 'deployed']
    newest = history[-1]
    if len(deployed) > 1:
        ctx.add('error', 'release',
                'revisions {0} are all marked deployed; Helm keeps one. Two helm operations ran on the release at once '
                '(a re-run while the helm of an interrupted run was still working): what serves is revision {1}\'s '
                'objects at best, mixed at worst'.format(
                    ', '.join(str(h.get('revision')) for h in deployed), deployed[-1].get('revision')),
                'make sure no helm process works on the release (ps), then {0} to record one deployed revision, and check '
                'the Deployment\'s image'.format(ctx.helm_cmd('rollback {0} {1}'.format(ctx.release, deployed[-1].get('revision')))))
    for rev in history[:-1]:
        if str(rev.get('status', '')).startswith('pending-'):
            ctx.add('error', 'release',
                    'revision {0} is still {1} although revision {2} ({3}) is newer: a stale pending revision, left by a '
                    'helm operation that raced another one or was killed'.format(
                        rev.get('revision'), rev.get('status'), newest.get('revision'), newest.get('status')),
                    'make sure no helm process works on the release, then {0}'.format(
                        ctx.helm_cmd('rollback {0} {1}'.format(ctx.release, (_serving_revision(history) or newest).get('revision')))))


def _events_for(ctx, name):
    limit = int(ctx.facts.get('events_limit') or 5)
    events = [e for e in ctx.facts.get('events') or []
              if ((e.get('involvedObject') or e.get('regarding') or {}).get('name')) == name and e.get('type') == 'Warning']
    events.sort(key=lambda e: e.get('lastTimestamp') or e.get('eventTime') or (e.get('metadata') or {}).get('creationTimestamp') or '')
    return events[-limit:]


def _event_text(events):
    return '; '.join('{0}: {1}'.format(e.get('reason', ''), (e.get('message') or e.get('note') or '').strip()) for e in events)


def _job_pods(ctx, job_name):
    return [p for p in ctx.facts.get('pods') or []
            if any((_meta(p).get('labels') or {}).get(label) == job_name for label in JOB_NAME_LABELS)]


def _migration(ctx):
    jobs = [j for j in ctx.facts.get('jobs') or [] if _is_migration_job(ctx, j)]
    others = [j for j in ctx.facts.get('jobs') or [] if not _is_migration_job(ctx, j)]
    if others:
        ctx.add('info', 'migration', 'not migration Jobs, not checked here: {0}'.format(', '.join(
            '{0} ({1}={2})'.format(_name(j), LABEL_COMPONENT, (_meta(j).get('labels') or {}).get(LABEL_COMPONENT, 'none'))
            for j in others)))
    history = sorted(ctx.facts.get('history') or [], key=lambda h: int(h.get('revision', 0)))
    serving = _serving_revision(history)
    serving_since = _epoch(serving.get('updated')) if serving else None
    deadline_hint = ('raise statewave_migration_deadline_seconds (Helm\'s timeout follows it) or run the migration by '
                     'hand for a very large database')
    if not jobs:
        ctx.add('info', 'migration', 'no migration Job in the namespace (the chart deletes its Job after success; job mode '
                                     'Jobs expire after ttlSecondsAfterFinished)')
        return
    for job in jobs:
        name = _name(job)
        conds = _conditions(job)
        status = job.get('status') or {}
        events = _events_for(ctx, name)
        pods = _job_pods(ctx, name)
        pod_notes = []
        for pod in pods:
            for cs in (pod.get('status') or {}).get('containerStatuses') or []:
                term = (cs.get('state') or {}).get('terminated') or (cs.get('lastState') or {}).get('terminated')
                wait = (cs.get('state') or {}).get('waiting')
                if wait:
                    pod_notes.append('{0} waiting: {1} {2}'.format(_name(pod), wait.get('reason', ''), wait.get('message', '')).strip())
                elif term and term.get('exitCode', 0) != 0:
                    pod_notes.append('{0} exited {1} ({2})'.format(_name(pod), term.get('exitCode'), term.get('reason', '')))
        detail = ''
        if pod_notes:
            detail += ' Pods: ' + '; '.join(pod_notes) + '.'
        if events:
            detail += ' Events: ' + _event_text(events) + '.'
        failed = conds.get('Failed') or {}
        created = _epoch(_meta(job).get('creationTimestamp'))
        if failed.get('status') == 'True' and serving_since is not None and created is not None and created < serving_since:
            # Made before the serving revision started: a superseded attempt (e.g. a failed upgrade since
            # rolled back), history and not a fault of what serves. The chart's hook keeps it until its
            # TTL or the next upgrade's hook (before-hook-creation) removes it.
            ctx.add('info', 'migration',
                    'migration Job {0} failed ({1}) at {2}, before revision {3} (deployed {4}, serving now): history of a '
                    'superseded attempt, not a fault of the release serving. The next upgrade replaces it'.format(
                        name, failed.get('reason', 'Failed'), _meta(job).get('creationTimestamp', '?'),
                        serving.get('revision'), serving.get('updated', '?')))
        elif failed.get('status') == 'True':
            reason = failed.get('reason', '')
            if reason == 'DeadlineExceeded':
                ctx.add('error', 'migration',
                        'migration Job {0} hit activeDeadlineSeconds ({1}s): {2}.{3}'.format(
                            name, (job.get('spec') or {}).get('activeDeadlineSeconds', '?'), failed.get('message', ''), detail),
                        deadline_hint + '; ' + ctx.kubectl('logs job/{0}'.format(name)))
            else:
                ctx.add('error', 'migration',
                        'migration Job {0} failed ({1}: {2}). Usual causes: wrong DB URL, the vector extension missing, a '
                        'NetworkPolicy between the pod and the database.{3}'.format(name, reason, failed.get('message', ''), detail),
                        '{0}; then test the same URL with psql from a debug pod'.format(ctx.kubectl('logs job/{0}'.format(name))))
        elif (conds.get('Complete') or {}).get('status') == 'True':
            ctx.add('info', 'migration', 'migration Job {0} completed{1}'.format(
                name, ' at ' + status['completionTime'] if status.get('completionTime') else ''))
        else:
            ctx.add('warning', 'migration',
                    'migration Job {0} is still running ({1} active, {2} failed attempts of backoffLimit {3}).{4}'.format(
                        name, status.get('active', 0), status.get('failed', 0), (job.get('spec') or {}).get('backoffLimit', '?'), detail),
                    '{0}; Helm waits for it up to its timeout'.format(ctx.kubectl('logs -f job/{0}'.format(name))))


def _pods(ctx):
    pods = [p for p in ctx.facts.get('pods') or [] if (_meta(p).get('labels') or {}).get(LABEL_COMPONENT) != 'migrate'
            and not any(label in (_meta(p).get('labels') or {}) for label in JOB_NAME_LABELS)]
    if not pods:
        if ctx.facts.get('release_found'):
            ctx.add('warning', 'pods', 'no API pod of release {0} exists'.format(ctx.release),
                    ctx.kubectl('describe deployment {0}'.format(ctx.fullname)))
        return
    healthy = 0
    for pod in pods:
        name = _name(pod)
        status = pod.get('status') or {}
        phase = status.get('phase', 'Unknown')
        problems = []
        for cs in list(status.get('initContainerStatuses') or []) + list(status.get('containerStatuses') or []):
            wait = (cs.get('state') or {}).get('waiting') or {}
            reason = wait.get('reason')
            if reason and reason not in ('ContainerCreating', 'PodInitializing'):
                severity, meaning, step = _WAITING.get(reason, ('warning', 'the container is waiting', 'kubectl -n {ns} describe pod {pod}'))
                problems.append(reason)
                ctx.add(severity, 'pods', 'pod {0} container {1}: {2}{3} - {4}'.format(
                    name, cs.get('name'), reason, ' (' + wait['message'] + ')' if wait.get('message') else '', meaning),
                    step.format(ns=ctx.ns, pod=name))
            if int(cs.get('restartCount') or 0) > 0 and not reason:
                ctx.add('warning', 'pods', 'pod {0} container {1} restarted {2} time(s)'.format(name, cs.get('name'), cs['restartCount']),
                        ctx.kubectl('logs {0} -c {1} --previous'.format(name, cs.get('name'))))
        scheduled = _conditions(pod).get('PodScheduled') or {}
        if phase == 'Pending' and scheduled.get('status') == 'False':
            problems.append('Unschedulable')
            ctx.add('warning', 'pods', 'pod {0} cannot be scheduled: {1}'.format(name, scheduled.get('message', '')),
                    ctx.kubectl('describe pod {0}'.format(name)))
        elif phase in ('Failed', 'Unknown'):
            problems.append(phase)
            ctx.add('error', 'pods', 'pod {0} is {1}: {2}'.format(name, phase, status.get('message', status.get('reason', ''))),
                    ctx.kubectl('describe pod {0}'.format(name)))
        events = _events_for(ctx, name)
        if events and not problems:
            ctx.add('warning', 'pods', 'pod {0} warning events: {1}'.format(name, _event_text(events)),
                    ctx.kubectl('describe pod {0}'.format(name)))
        if not problems and phase == 'Running':
            healthy += 1
    ctx.add('info', 'pods', '{0} of {1} API pod(s) running without problems'.format(healthy, len(pods)))


def _secrets(ctx):
    facts = ctx.facts
    secrets = facts.get('secrets') or {}
    refs = list(facts.get('secret_refs') or [])
    expected = facts.get('expected_secrets') or []
    referenced = set(r['secret'] for r in refs)
    for exp in expected:
        if exp.get('name') and exp['name'] not in referenced:
            refs.append({'object': 'inventory', 'container': '', 'env': exp.get('variable', ''), 'secret': exp['name'],
                         'key': exp.get('key', ''), 'optional': False, 'via': 'inventory'})
    problems = 0
    for ref in refs:
        state = secrets.get(ref['secret']) or {}
        container = ' container ' + ref['container'] if ref['container'] else ''
        env = ' env ' + ref['env'] if ref['env'] else (' (' + ref['via'] + ')' if ref['via'] != 'env' else '')
        where = ref['object'] + container + env
        if not state.get('exists'):
            if ref['optional']:
                continue
            problems += 1
            step = ('re-run the pgvector role / ' + ctx.playbook.format('site.yml') + ' to write it, or create it: '
                    + ctx.kubectl('create secret generic {0} --from-literal={1}=...'.format(ref['secret'], ref['key'] or 'KEY')))
            ctx.add('error', 'secrets', 'Secret {0}/{1} referenced by {2} does not exist; new pods fail with '
                                        'CreateContainerConfigError and a pre-install/pre-upgrade Job cannot start'.format(
                                            ctx.ns, ref['secret'], where), step)
        elif ref['key'] and ref['key'] not in (state.get('keys') or []):
            if ref['optional']:
                continue
            problems += 1
            ctx.add('error', 'secrets', 'Secret {0}/{1} has no key {2} (referenced by {3}); it holds: {4}'.format(
                ctx.ns, ref['secret'], ref['key'], where, ', '.join(sorted(state.get('keys') or [])) or 'no keys'),
                'fix statewave_database_existing_secret_key (or the *_existing_secret_key values) or the Secret')
    if refs and not problems:
        ctx.add('info', 'secrets', 'all {0} Secret reference(s) resolve: {1}'.format(
            len(refs), ', '.join(sorted(set('{0}{1}'.format(r['secret'], '/' + r['key'] if r['key'] else '') for r in refs)))))
    if not facts.get('release_found'):
        leftovers = list(facts.get('leftovers') or [])
        if leftovers:
            ctx.add('warning', 'secrets', 'objects of a removed release are still in the namespace: {0} (Helm does not delete '
                                          'hook resources)'.format(', '.join(sorted(leftovers))),
                    ctx.playbook.format('uninstall.yml') + ' -e uninstall_confirm=' + ctx.release)


def _readiness(ctx):
    facts = ctx.facts
    deployments = facts.get('deployments') or []
    if not deployments:
        if facts.get('release_found'):
            ctx.add('error', 'readiness', 'the release has no API Deployment (labels {0}={1}, {2}=api)'.format(
                LABEL_INSTANCE, ctx.release, LABEL_COMPONENT),
                ctx.helm_cmd('get manifest {0}'.format(ctx.release)))
        return
    for dep in deployments:
        name = _name(dep)
        spec = dep.get('spec') or {}
        status = dep.get('status') or {}
        desired = int(spec.get('replicas', 1) if spec.get('replicas') is not None else 1)
        ready = int(status.get('readyReplicas') or 0)
        updated = int(status.get('updatedReplicas') or 0)
        conds = _conditions(dep)
        available = conds.get('Available') or {}
        progressing = conds.get('Progressing') or {}
        if progressing.get('reason') == 'ProgressDeadlineExceeded':
            ctx.add('error', 'readiness', 'Deployment {0} rollout stalled: {1}'.format(name, progressing.get('message', '')),
                    ctx.kubectl('rollout status deployment/{0}'.format(name)))
        if available.get('status') != 'True':
            ctx.add('error', 'readiness', 'Deployment {0} is not Available ({1}/{2} ready): {3}. /readyz returns 503 only when the '
                                          'database check fails: wrong URL/credentials, no pgvector, NetworkPolicy, or the pool '
                                          'exhausted (recheck the connection budget)'.format(
                                              name, ready, desired, available.get('message', 'no Available condition')),
                    ctx.kubectl('describe deployment {0}'.format(name)))
        elif ready < desired or updated < desired:
            ctx.add('warning', 'readiness', 'Deployment {0}: {1}/{2} ready, {3} updated'.format(name, ready, desired, updated),
                    ctx.kubectl('rollout status deployment/{0}'.format(name)))
        else:
            image = ', '.join(c.get('image', '') for c in ((spec.get('template') or {}).get('spec') or {}).get('containers') or [])
            ctx.add('info', 'readiness', 'Deployment {0}: {1}/{2} ready, image {3}'.format(name, ready, desired, image))
    for hpa in facts.get('hpas') or []:
        spec = hpa.get('spec') or {}
        status = hpa.get('status') or {}
        conds = _conditions(hpa)
        active = conds.get('ScalingActive') or {}
        if active and active.get('status') == 'False':
            ctx.add('warning', 'readiness', 'HPA {0} is not scaling: {1} (metrics-server installed? requests.cpu set?)'.format(
                _name(hpa), active.get('message', '')), ctx.kubectl('describe hpa {0}'.format(_name(hpa))))
        if status.get('currentReplicas') is not None and int(status.get('currentReplicas')) >= int(spec.get('maxReplicas', 0) or 0) > 0:
            ctx.add('warning', 'readiness', 'HPA {0} is at maxReplicas {1}; raising it adds ~15 connections per replica: '
                                            're-check the budget first (playbooks/scale.yml does)'.format(_name(hpa), spec.get('maxReplicas')),
                    ctx.playbook.format('scale.yml'))
    replicas = max([int((d.get('spec') or {}).get('replicas') or 1) for d in deployments] or [1])
    for pdb in facts.get('pdbs') or []:
        spec = pdb.get('spec') or {}
        if 'minAvailable' in spec and 'maxUnavailable' in spec:
            ctx.add('error', 'readiness', 'PDB {0} sets both minAvailable and maxUnavailable'.format(_name(pdb)),
                    'set exactly one of them')
        if not facts.get('hpas') and replicas <= 1 and str(spec.get('minAvailable', '')) in ('1', '100%'):
            ctx.add('warning', 'readiness', 'PDB {0} with minAvailable {1} and one replica blocks node drains'.format(
                _name(pdb), spec.get('minAvailable')), 'run at least 2 replicas or disable the PDB')


def _budget(ctx):
    budget = ctx.facts.get('budget') or {}
    if not budget.get('checked'):
        ctx.add('info', 'budget', 'connection budget not checked: {0}'.format(
            budget.get('skipped_reason') or 'no database login (preflight_db_login_host) in the inventory'))
        return
    if budget.get('error'):
        ctx.add('warning', 'budget', 'connection budget could not be checked: {0}'.format(budget['error']),
                'check the preflight_db_login_* variables and that PostgreSQL is reachable from the controller')
        return
    verdict = budget.get('verdict', '')
    text = budget.get('msg', '')
    extra = ' '.join(['Reason: ' + r for r in budget.get('reasons') or []] + ['Advice: ' + a for a in budget.get('advice') or []])
    if verdict == 'fail':
        ctx.add('error', 'budget', '{0} {1}'.format(text, extra).strip(),
                'too many connections for role / pool_timeout in pod logs: lower replicas or the HPA maximum '
                '(playbooks/scale.yml), raise max_connections, or put PgBouncer (transaction mode, >= 1.21) in front')
    elif verdict == 'warn':
        ctx.add('warning', 'budget', '{0} {1}'.format(text, extra).strip(),
                'plan PgBouncer in transaction mode (>= 1.21 with max_prepared_statements) before adding replicas')
    else:
        ctx.add('info', 'budget', text or 'connection budget ok')


def _is_timeout_annotation(key):
    return any(hint in key for hint in TIMEOUT_ANNOTATION_HINTS)


def _ingress(ctx):
    facts = ctx.facts
    plan = facts.get('ingress_plan') or None
    ingresses = facts.get('ingresses') or []
    services = [s for s in facts.get('services') or [] if _name(s) == ctx.fullname] or (facts.get('services') or [])[:1]
    service_ann = (_meta(services[0]).get('annotations') or {}) if services else {}
    step = 'apply the ingress role\'s settings: ' + ctx.playbook.format('upgrade.yml')
    if facts.get('ingress_plan_error'):
        ctx.add('warning', 'ingress', 'the inventory\'s ingress settings cannot be translated: {0}'.format(facts['ingress_plan_error']),
                'fix the ingress_* variables (README, Ingress timeouts)')
    if not plan or not plan.get('enabled'):
        if not ingresses:
            ctx.add('info', 'ingress', 'no Ingress for the release (ingress_enabled is false): the API is only reachable in the cluster')
            return
        for ing in ingresses:
            live = dict((k, v) for k, v in (_meta(ing).get('annotations') or {}).items() if _is_timeout_annotation(k))
            if live:
                ctx.add('info', 'ingress', 'Ingress {0} timeout annotations: {1}'.format(
                    _name(ing), ', '.join('{0}={1}'.format(k, v) for k, v in sorted(live.items()))))
            else:
                ctx.add('warning', 'ingress', 'Ingress {0} sets no proxy timeout: cold /v1/context calls take 5-30 s and controllers '
                                              'that give up at 15-50 s answer 504'.format(_name(ing)),
                        'set ingress_enabled, ingress_controller and ingress_timeout (>= 60) and run ' + ctx.playbook.format('upgrade.yml'))
        return

    ctx.add('info', 'ingress', 'the ingress role would set: {0}'.format(plan.get('summary', '')))
    want_ing = plan.get('ingress_annotations') or {}
    routing = plan.get('routing', 'ingress')
    if routing == 'ingress':
        if not ingresses:
            ctx.add('error', 'ingress', 'no Ingress for the release although ingress_enabled is true ({0})'.format(plan.get('title', '')),
                    step)
        for ing in ingresses:
            live = _meta(ing).get('annotations') or {}
            _compare(ctx, 'Ingress {0}'.format(_name(ing)), live, want_ing, step)
    elif ingresses:
        ctx.add('warning', 'ingress', '{0} routes with its own objects but the chart Ingress {1} still exists'.format(
            plan.get('title', ''), ', '.join(_name(i) for i in ingresses)), step)
    want_svc = plan.get('service_annotations') or {}
    if want_svc:
        if not services:
            ctx.add('error', 'ingress', 'Service {0} not found'.format(ctx.fullname), ctx.helm_cmd('get manifest {0}'.format(ctx.release)))
        else:
            _compare(ctx, 'Service {0}'.format(_name(services[0])), service_ann, want_svc, step)
    for obj in facts.get('ingress_objects') or []:
        # {kind, name, found}, or a k8s_info loop result ({item: the planned object, resources: [...]})
        if 'item' in obj:
            planned = obj.get('item') or {}
            obj = {'kind': planned.get('kind'), 'name': _name(planned), 'found': bool(obj.get('resources'))}
        if not obj.get('found'):
            ctx.add('warning', 'ingress', '{0} {1} (timeout object) is missing'.format(obj.get('kind'), obj.get('name')), step)


def _compare(ctx, where, live, wanted, step):
    wrong = []
    for key, value in sorted(wanted.items()):
        if key not in live:
            wrong.append('{0} missing (want {1!r})'.format(key, value))
        elif str(live[key]) != str(value):
            wrong.append('{0}={1!r} (want {2!r})'.format(key, live[key], value))
    stale = sorted(k for k in live if _is_timeout_annotation(k) and k not in wanted)
    if wrong:
        ctx.add('warning', 'ingress', '{0}: {1}'.format(where, '; '.join(wrong)), step)
    if stale:
        ctx.add('warning', 'ingress', '{0} has timeout annotations the ingress role would not set: {1}'.format(
            where, ', '.join('{0}={1}'.format(k, live[k]) for k in stale)), step)
    if not wrong and not stale and wanted:
        ctx.add('info', 'ingress', '{0}: timeout annotations as the ingress role sets them'.format(where))


def findings(facts):
    """The findings for the gathered ``facts`` (see playbooks/diagnose.yml), errors first."""
    ctx = _Ctx(facts)
    _release(ctx)
    _migration(ctx)
    _pods(ctx)
    _secrets(ctx)
    _readiness(ctx)
    _budget(ctx)
    _ingress(ctx)
    order = dict((s, i) for i, s in enumerate(SEVERITIES))
    areas = dict((a, i) for i, a in enumerate(AREAS))
    return sorted(ctx.out, key=lambda f: (order.get(f['severity'], 9), areas.get(f['area'], 9)))
