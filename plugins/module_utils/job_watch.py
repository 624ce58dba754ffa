# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a migration Job did, read while it runs (pure functions, stdlib only).

A Job whose pods use ``restartPolicy: OnFailure`` loses its pod when the Job controller gives up
(BackoffLimitExceeded deletes it), and with it the exit code and the log that explain the
failure. The module ``statewave.kubernetes.job_wait`` therefore polls the Job and its pods while
they run and hands every pod it sees to :func:`observe_pod`; :func:`merge` keeps what was seen of a
pod after the pod is gone, and :func:`explain` turns the whole record into one message.

The objects are plain dicts as the Kubernetes API serialises them (camelCase keys), the same
shape ``kubernetes.core.k8s_info`` returns. Nothing here talks to a cluster.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

# Waiting reasons that never resolve by waiting: the image cannot be pulled or is named wrong, or
# a Secret / ConfigMap (or a key of it) the container needs is missing. The Job would sit in them
# until its deadline; the watcher stops at once instead. ErrImagePull alone is not in the list: the
# kubelet retries it once and then reports ImagePullBackOff (a registry hiccup may pass).
FAIL_FAST_REASONS = ('ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName',
                     'CreateContainerConfigError', 'CreateContainerError')

OUTCOMES = ('succeeded', 'failed', 'stuck', 'timeout', 'absent', 'running')


def _conditions(job):
    return ((job or {}).get('status') or {}).get('conditions') or []


def condition(job, kind):
    """The condition of ``kind`` (Complete, Failed, ...) whose status is True, or None."""
    for cond in _conditions(job):
        if cond.get('type') == kind and str(cond.get('status')) == 'True':
            return cond
    return None


def job_outcome(job):
    """'succeeded', 'failed' or 'running' for a Job; 'absent' for None."""
    if not job:
        return 'absent'
    status = job.get('status') or {}
    if condition(job, 'Complete') or int(status.get('succeeded') or 0) > 0:
        return 'succeeded'
    if condition(job, 'Failed'):
        return 'failed'
    return 'running'


def _container_status(pod, container=None):
    statuses = ((pod or {}).get('status') or {}).get('containerStatuses') or []
    if container:
        for status in statuses:
            if status.get('name') == container:
                return status
    return statuses[0] if statuses else {}


def observe_pod(pod, container=None):
    """What one pod shows now: phase, restarts, the container's last termination and its waiting reason."""
    meta = (pod or {}).get('metadata') or {}
    status = _container_status(pod, container)
    state = status.get('state') or {}
    terminated = state.get('terminated') or (status.get('lastState') or {}).get('terminated') or {}
    waiting = state.get('waiting') or {}
    return {
        'name': meta.get('name', ''),
        'created': meta.get('creationTimestamp') or '',
        'phase': ((pod or {}).get('status') or {}).get('phase') or '',
        'container': status.get('name') or container or '',
        'restarts': int(status.get('restartCount') or 0),
        'running': 'running' in state,
        'exit_code': terminated.get('exitCode'),
        'reason': terminated.get('reason') or '',
        'message': (terminated.get('message') or '').strip(),
        'waiting_reason': waiting.get('reason') or '',
        'waiting_message': (waiting.get('message') or '').strip(),
        'log': '',
        'logged_restarts': -1,
        'gone': False,
    }


def merge(seen, pods, container=None):
    """Fold the pods listed now into ``seen`` (name -> observation) and return it.

    A pod seen before and missing now is kept and marked ``gone``; what was read of it (its exit,
    its log) stays. A pod's log read earlier is kept when the new observation has none.
    """
    seen = dict(seen or {})
    listed = set()
    for pod in pods or []:
        obs = observe_pod(pod, container)
        listed.add(obs['name'])
        old = seen.get(obs['name'])
        if old:
            obs['log'] = old.get('log', '')
            obs['logged_restarts'] = old.get('logged_restarts', -1)
            if obs['exit_code'] is None and old.get('exit_code') is not None:
                for key in ('exit_code', 'reason', 'message'):
                    obs[key] = old[key]
        seen[obs['name']] = obs
    for name, obs in seen.items():
        if name not in listed:
            obs = dict(obs)
            obs['gone'] = True
            seen[name] = obs
    return seen


def needs_log(obs):
    """Whether the pod's log should be read now: its container has ended with a failure (or has
    restarted) since the log was last read, and the pod is still there to read it from."""
    if obs.get('gone'):
        return False
    failed = obs.get('exit_code') not in (None, 0)
    return bool((failed or obs.get('restarts', 0) > 0) and obs.get('logged_restarts', -1) < obs.get('restarts', 0))


def log_from_previous(obs):
    """Read the previous container's log (kubectl logs --previous) when the failed run was
    restarted and the current container has not ended yet."""
    return obs.get('restarts', 0) > 0 and (obs.get('running') or obs.get('waiting_reason'))


def stuck(seen):
    """The first pod waiting for a reason that waiting does not fix, or None."""
    for obs in sorted(seen.values(), key=lambda o: o.get('created', '')):
        if not obs.get('gone') and obs.get('waiting_reason') in FAIL_FAST_REASONS:
            return obs
    return None


def most_telling(seen):
    """The observation that explains the outcome best: a pod that exited non-zero (with its log
    when read), else one waiting, else the newest."""
    ordered = sorted(seen.values(), key=lambda o: o.get('created', ''))
    for test in (lambda o: o.get('exit_code') not in (None, 0) and o.get('log'),
                 lambda o: o.get('exit_code') not in (None, 0),
                 lambda o: o.get('waiting_reason')):
        hits = [o for o in ordered if test(o)]
        if hits:
            return hits[-1]
    return ordered[-1] if ordered else None


def tail(text, lines):
    """The last ``lines`` non-empty lines of ``text``, joined with ' | '."""
    kept = [line.rstrip() for line in (text or '').splitlines() if line.strip()]
    return ' | '.join(kept[-lines:]) if lines > 0 else ''


def explain(namespace, name, outcome, job, seen, events=None, timeout=None, log_lines=20):
    """One paragraph saying what happened to Job namespace/name, for an operator.

    Names the Job and its outcome (the Job's own reason and message when it failed), the most
    telling pod's exit code, termination reason and message or its waiting reason, the last log
    lines read while it ran, and the latest warning event.
    """
    parts = []
    ref = '%s/%s' % (namespace, name)
    if outcome == 'failed':
        cond = condition(job, 'Failed') or {}
        parts.append('Migration Job %s failed: %s (%s).' % (ref, cond.get('reason') or 'Failed', cond.get('message') or ''))
    elif outcome == 'stuck':
        parts.append('Migration Job %s cannot start its container, so waiting would only run into its deadline.' % ref)
    elif outcome == 'timeout':
        parts.append('Migration Job %s was still running after %s s.' % (ref, timeout))
    elif outcome == 'absent':
        parts.append('Migration Job %s does not exist.' % ref)
    elif outcome == 'succeeded':
        parts.append('Migration Job %s succeeded.' % ref)
    else:
        parts.append('Migration Job %s is still running.' % ref)
    obs = most_telling(seen or {})
    if obs:
        where = 'pod %s%s' % (obs['name'], ', since deleted by the Job controller' if obs.get('gone') else '')
        if obs.get('exit_code') is not None:
            text = obs.get('reason') or ''
            if obs.get('message'):
                text += (': ' if text else '') + obs['message']
            parts.append('Last pod exited %s (%s; %s).' % (obs['exit_code'], text or 'no reason given', where))
        elif obs.get('waiting_reason'):
            parts.append('Last pod waiting: %s %s (%s).' % (obs['waiting_reason'], obs.get('waiting_message', ''), where))
        lines = tail(obs.get('log'), log_lines)
        if lines:
            parts.append('Its last log lines: %s' % lines)
    warnings = [e for e in (events or []) if (e or {}).get('message')]
    if warnings:
        latest = sorted(warnings, key=lambda e: e.get('lastTimestamp') or e.get('eventTime') or '')[-1]
        parts.append('Latest event: %s.' % latest['message'].strip().rstrip('.'))
    return ' '.join(part.strip() for part in parts if part.strip())
