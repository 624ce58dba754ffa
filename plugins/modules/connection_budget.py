#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: connection_budget
short_description: Decide whether a planned Statewave deployment fits the PostgreSQL connection limits
version_added: 0.1.0
description:
  - Pure arithmetic over a planned deployment and the facts of a PostgreSQL server (usually the registered result
    of M(statewave.kubernetes.postgres_capacity_info)). It connects to nothing and changes nothing.
  - Returns the connections needed at peak, the connections usable under the tightest limit, the utilisation,
    a verdict V(ok), V(warn) or V(fail), the largest replica count that still fits, and advice in plain language.
  - The module itself does not fail on a V(fail) verdict; test RV(verdict) (the C(preflight) role does).
  - Instead of measured O(facts), O(planned_server) budgets a server that does not run yet.
  - B(Formula.) Every Statewave pod runs one uvicorn process whose SQLAlchemy pool is fixed in code at
    C(pool_size=5) + C(max_overflow=10), so a pod holds up to B(15) connections under burst (the
    C(STATEWAVE_DATABASE_POOL_*) variables in the upstream docs do not exist). The distributed rate limiter
    (rpm > 0 and strategy C(distributed)) has its own pool of 2 + 1, so B(+3) per pod.
  - C(per_pod) = 15, or 18 with the distributed rate limiter.
  - C(pods_at_peak) = O(replicas), or O(autoscaling_max_replicas) with an HPA, plus C(surge). For a percentage,
    C(surge) is that share of the replicas rounded up, as Kubernetes rounds maxSurge up, so the default 25% adds
    at least one pod; for a number it is that many pods; never more than the replicas.
  - C(app) = C(pods_at_peak) x C(per_pod) + 1 for the migration Job (alembic holds one connection) when
    O(migration_job) is set. With O(pgbouncer.enabled) the pods talk to PgBouncer, and C(app) is the real server
    connections of PgBouncer instead, C(instances) x the smallest of C(default_pool_size + reserve_pool_size),
    C(max_db_connections) and C(max_user_connections) (when set), + 1 for a migration Job that connects directly.
    A migration Job that goes through PgBouncer (O(migration_through_pgbouncer)) is one more PgBouncer client
    instead and shares the pooled server connections.
  - C(required) = C(app) + O(other_consumers) + O(headroom), checked against
    C(usable) = C(max_connections) - C(superuser_reserved_connections) - C(reserved_connections) - the connections
    other roles hold now.
  - The app's own connections (without headroom and other consumers) are also checked against the role's
    C(CONNECTION LIMIT) and against the database's C(CONNECTION LIMIT) minus the other roles' connections in that
    database; with PgBouncer, the pods' client connections against C(instances) x C(max_client_conn).
  - A limit fails when its need exceeds O(fail_on) x its usable connections. RV(required), RV(usable) and
    RV(utilisation) are those of the tightest (binding) limit; RV(limits) lists every one.
  - V(warn) when, without PgBouncer, the pods alone may open O(pgbouncer_threshold) (70%) or more of
    C(max_connections) (upstream's signal to put PgBouncer in front), or when the PgBouncer settings cannot be
    confirmed to work with asyncpg.
  - B(Where this differs from upstream.) Upstream's formula (C(replicas x 15 + headroom), worked table 25, 45, 60, 100
    for 1, 2, 3, 5 replicas) leaves out the rolling-update surge pods, the migration Job, the reserved slots and the
    role and database limits; each of these can hold or refuse connections during a deploy, so they are counted here.
    With O(max_surge=0), O(migration_job=false) and no reserved slots, the numbers equal upstream's table; with the
    defaults they are higher (41, 61, 76, 131). The 70% PgBouncer signal is applied to the pods at peak (surge included).
author:
  - Statewave collection maintainers (@statewave)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Computes only; runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  facts:
    description:
      - Facts of the PostgreSQL server, normally the registered result of M(statewave.kubernetes.postgres_capacity_info).
      - Keys read (others are ignored) C(max_connections) (required), C(superuser_reserved_connections)
        (PostgreSQL's default 3 is assumed, with a note, when missing), C(reserved_connections), C(role),
        C(role_connection_limit), C(role_is_superuser), C(database), C(database_connection_limit),
        C(connections_other), C(connections_other_in_database). A limit of V(-1) or V(null) means none.
      - Exactly one of O(facts) and O(planned_server) is required.
    type: dict
  planned_server:
    description:
      - A server that does not run yet (for example a CloudNativePG Cluster the next play creates), instead of
        O(facts). Nobody is connected to it yet, and the app role and database have no C(CONNECTION LIMIT).
      - The result says so in RV(planned), RV(msg) and RV(advice), since connections that the operator, backups
        and monitoring will hold there cannot be measured yet.
    type: dict
    suboptions:
      max_connections:
        description: The C(max_connections) the server will run with. If not set, C(parameters.max_connections).
        type: int
      parameters:
        description:
          - The C(postgresql.conf) parameters the server will run with. C(superuser_reserved_connections)
            (else PostgreSQL's default 3) and C(reserved_connections) (else 0 from PostgreSQL 16 on) are read
            from them.
        type: dict
        default: {}
      postgres_major:
        description: The PostgreSQL major version (C(reserved_connections) exists from 16 on).
        type: int
      description:
        description: What the server is, for the messages.
        type: str
        default: planned server
  replicas:
    description:
      - Planned Deployment replicas (the chart's C(replicaCount)). Ignored when O(autoscaling_enabled) is set.
      - From 1 to 1000.
    type: int
    default: 1
  autoscaling_enabled:
    description:
      - Whether an HPA scales the Deployment; the budget then uses O(autoscaling_max_replicas).
    type: bool
    default: false
  autoscaling_min_replicas:
    description:
      - HPA C(minReplicas); only checked for consistency (the peak is set by the maximum).
    type: int
    default: 1
  autoscaling_max_replicas:
    description:
      - HPA C(maxReplicas); must be at least O(autoscaling_min_replicas).
    type: int
    default: 5
  max_surge:
    description:
      - The Deployment's rolling-update C(maxSurge), a pod count (V(1)) or a percentage (V(25%), at most V(100%)).
      - Kubernetes' default is V(25%).
    type: raw
    default: 25%
  distributed_rate_limiter:
    description:
      - Whether the rate limiter runs in C(distributed) mode (C(rateLimit.rpm > 0) and C(rateLimit.strategy=distributed));
        it adds 3 connections per pod.
    type: bool
    default: false
  migration_job:
    description:
      - Whether a migration Job (the chart's hook Job or the role's own Job) runs while the pods serve; it adds one connection.
    type: bool
    default: true
  migration_through_pgbouncer:
    description:
      - Whether the migration Job connects through PgBouncer (the chart's hook Job uses the app's DSN, which then points
        at PgBouncer) instead of directly (the C(statewave) role's own Job with the direct DSN).
      - Only matters with O(pgbouncer.enabled). Through PgBouncer the Job is one more client there and takes one of
        the pooled server connections (advice then recommends a direct DSN); directly it is one more server connection.
    type: bool
    default: false
  other_consumers:
    description:
      - Connections that admin tools, monitoring, backups or other applications will open and that are not connected
        now (those connected now are already in C(facts.connections_other); do not count them twice).
    type: int
    default: 0
  headroom:
    description:
      - Spare connections kept free on the server for ad-hoc sessions and spikes.
      - If not set, taken from upstream's worked table by planned replica count (before surge) 10 for 1 replica,
        15 for 2 or 3, 25 for 4 and more.
    type: int
  fail_on:
    description:
      - A limit fails when the plan needs more than this fraction of its usable connections.
      - V(1.0) fails only when the plan does not fit at all; V(0.9) keeps 10% spare on top of O(headroom).
      - Greater than 0 and at most 1.
    type: float
    default: 1.0
  pgbouncer_threshold:
    description:
      - Without PgBouncer, warn (and advise PgBouncer in transaction mode) when the pods at peak may open this fraction of
        C(max_connections) or more. Upstream's docs advise switching at about 70%.
      - Greater than 0 and at most 1.
    type: float
    default: 0.7
  primary_enabled:
    description:
      - Whether the primary group (Statewave's API pods, sized by O(replicas) or the HPA options) runs on this server.
        V(false) budgets O(additional_pods) alone, e.g. a server only PyStator uses; PgBouncer is then ignored.
    type: bool
    default: true
  connections_per_pod:
    description:
      - Connections one pod of the primary group may hold, instead of Statewave's fixed 15 (its pool is fixed in code).
        The distributed rate limiter's 3 are added on top.
    type: int
  replicas_variable:
    description: The inventory variable that sizes the primary group, named in the advice (default Statewave's).
    type: str
  additional_pods:
    description:
      - More groups of pods that connect to the same server directly (not through PgBouncer), each counted as
        (replicas or HPA maximum + surge) x its connections per pod, plus one migration Job where C(migration_job).
      - The app role's and database's C(CONNECTION LIMIT) (in O(facts)) are checked against the primary group's
        connections; without a primary group, against these.
      - Keys C(name) (required, unique), C(profile) (V(pystator_api), V(pystator_worker) or V(custom)), C(replicas)
        (0 to 1000), C(autoscaling_enabled), C(autoscaling_min_replicas), C(autoscaling_max_replicas), C(max_surge),
        C(connections_per_pod) (required for V(custom); overrides a profile's figure), C(dlq_enabled) and
        C(notify_listener) (V(pystator_worker)), C(migration_job), C(replicas_variable) (named in the advice).
      - B(PyStator 0.0.47 figures), read in the installed package. Every engine comes from C(pystator/db/base.py)
        C(get_engine()) with SQLAlchemy's QueuePool defaults, 5 + 10 = 15 connections. A worker pod builds 5 long-lived
        engines in C(worker/runner.py) C(Worker.start()) (state store, the backend driver's shared engine, its machine
        store, the trigger and apply-data event sources) and a 6th for the dead-letter store when
        C(PYSTATOR_WORKER_DLQ_ENABLED) (the default), so V(pystator_worker) is 90 per pod (+1 with the notify listener).
        The API builds a new engine per request (C(api/dependencies/database.py) C(get_db_session)) that only the
        garbage collector closes, so its use has no bound in the code; V(pystator_api) takes 20 per pod unless
        C(connections_per_pod) says otherwise. The C(pystator db upgrade) Job holds 1.
    type: list
    elements: dict
    default: []
  pgbouncer:
    description:
      - PgBouncer between the pods and PostgreSQL (C(STATEWAVE_DATABASE_URL) points at it).
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Whether the pods connect through PgBouncer.
        type: bool
        default: false
      pool_mode:
        description:
          - PgBouncer C(pool_mode). V(transaction) is the one that multiplexes; V(statement) breaks Statewave's
            transactions and gives a V(fail) verdict; V(session) gives V(warn).
        type: str
        choices: [ session, transaction, statement ]
        default: transaction
      default_pool_size:
        description: PgBouncer C(default_pool_size), server connections per database/user pair.
        type: int
        default: 20
      reserve_pool_size:
        description: PgBouncer C(reserve_pool_size).
        type: int
        default: 0
      max_client_conn:
        description: PgBouncer C(max_client_conn) per instance.
        type: int
        default: 100
      max_db_connections:
        description: PgBouncer C(max_db_connections); V(0) means unlimited.
        type: int
        default: 0
      max_user_connections:
        description: PgBouncer C(max_user_connections); V(0) means unlimited.
        type: int
        default: 0
      instances:
        description: Number of PgBouncer processes (for example CloudNativePG Pooler C(instances)); each has its own pools.
        type: int
        default: 1
      version:
        description:
          - PgBouncer version, for example V(1.23.1). asyncpg needs 1.21 or later in transaction mode.
          - If not set, the verdict is at best V(warn) in transaction mode.
        type: str
      max_prepared_statements:
        description:
          - PgBouncer C(max_prepared_statements). Must be greater than 0 for asyncpg in transaction mode.
          - If not set, the verdict is at best V(warn) in transaction mode.
        type: int
seealso:
  - module: statewave.kubernetes.postgres_capacity_info
  - name: Statewave connection budget (collection docs)
    description: Worked examples, and a failing and a passing check.
    link: https://github.com/statewave/statewave.kubernetes/blob/main/README.md#connection-budget
'''

EXAMPLES = r'''
- name: Read the server's limits
  statewave.kubernetes.postgres_capacity_info:
    login_host: db.example.internal
    login_user: postgres
    login_password: "{{ vault_postgres_admin_password }}"
    app_role: statewave
    app_database: statewave
  register: statewave_pg
  no_log: true

- name: Check 3 replicas with the distributed rate limiter
  statewave.kubernetes.connection_budget:
    facts: "{{ statewave_pg }}"
    replicas: 3
    distributed_rate_limiter: true
    other_consumers: 5
  register: statewave_budget

- name: Stop when it does not fit
  ansible.builtin.fail:
    msg: "{{ statewave_budget.msg }} {{ statewave_budget.advice | join(' ') }}"
  when: statewave_budget.verdict == 'fail'

- name: Check an HPA of 2 to 10 pods behind two PgBouncer instances
  statewave.kubernetes.connection_budget:
    facts: "{{ statewave_pg }}"
    autoscaling_enabled: true
    autoscaling_min_replicas: 2
    autoscaling_max_replicas: 10
    pgbouncer:
      enabled: true
      instances: 2
      default_pool_size: 25
      max_client_conn: 500
      version: 1.23.1
      max_prepared_statements: 200
  register: statewave_budget

- name: Budget a CloudNativePG Cluster that the next play creates
  statewave.kubernetes.connection_budget:
    planned_server:
      max_connections: 200
      postgres_major: 16
      description: CloudNativePG Cluster statewave/statewave-db (not created yet)
    replicas: 3

- name: Plan without a server, from known numbers
  statewave.kubernetes.connection_budget:
    facts:
      max_connections: 200
      superuser_reserved_connections: 3
      reserved_connections: 0
    replicas: 5
    headroom: 20
    fail_on: 0.9
'''

RETURN = r'''
verdict:
  description: V(ok), V(warn) (fits, but see RV(reasons) and RV(advice)) or V(fail) (does not fit or cannot work).
  returned: success
  type: str
  sample: fail
required:
  description: Connections the plan needs under the binding limit (RV(binding_limit)).
  returned: success
  type: int
  sample: 131
usable:
  description: Connections available to the plan under the binding limit.
  returned: success
  type: int
  sample: 97
utilisation:
  description: RV(required) / RV(usable) (1.0 = full); V(null) when nothing is usable.
  returned: success
  type: float
  sample: 1.3505
binding_limit:
  description: The tightest limit, V(server), V(role), V(database) or V(pgbouncer_clients).
  returned: success
  type: str
  sample: server
peak_connections:
  description: Connections the plan puts on the server at peak (app + other consumers + headroom), whatever the binding limit.
  returned: success
  type: int
  sample: 131
largest_fitting_replicas:
  description: The largest replica count (HPA maximum when autoscaling) that fits every limit with the other inputs unchanged; 0 if none.
  returned: success
  type: int
  sample: 3
breakdown:
  description: The terms of the formula.
  returned: success
  type: dict
  contains:
    replicas:
      description: Planned replicas (the HPA maximum when autoscaling).
      type: int
      sample: 5
    surge_pods:
      description: Extra pods during a rolling update.
      type: int
      sample: 2
    pods_at_peak:
      description: RV(breakdown.replicas) + RV(breakdown.surge_pods).
      type: int
      sample: 7
    connections_per_pod:
      description: 15, or 18 with the distributed rate limiter.
      type: int
      sample: 15
    app_pool_connections:
      description: RV(breakdown.pods_at_peak) x RV(breakdown.connections_per_pod) (client side with PgBouncer).
      type: int
      sample: 105
    pgbouncer_server_connections:
      description: Server connections of all PgBouncer instances; V(null) without PgBouncer.
      type: int
      sample: null
    pgbouncer_client_connections:
      description: Client connections PgBouncer gets (the pods, plus a migration Job through PgBouncer); V(null) without PgBouncer.
      type: int
      sample: null
    migration_connections:
      description: 1 with a migration Job, else 0.
      type: int
      sample: 1
    migration_path:
      description: V(direct) or V(pgbouncer) (how the migration Job connects); V(null) without a migration Job.
      type: str
      sample: direct
    direct_migration_connections:
      description: The migration Job's own server connection (0 when it goes through PgBouncer or there is none).
      type: int
      sample: 1
    app_connections:
      description: Server connections of the application (pods or PgBouncer, plus a direct migration Job).
      type: int
      sample: 106
    other_consumers:
      description: O(other_consumers).
      type: int
      sample: 0
    headroom:
      description: The headroom used.
      type: int
      sample: 25
    headroom_source:
      description: V(auto) (from the replica count) or V(set).
      type: str
      sample: auto
    peak_connections:
      description: Same as RV(peak_connections).
      type: int
      sample: 131
    primary_enabled:
      description: Whether the primary group was budgeted (O(primary_enabled)).
      type: bool
      sample: true
    role_connections:
      description: Connections checked against the app role's and database's C(CONNECTION LIMIT).
      type: int
      sample: 106
    groups:
      description:
        - One entry per group of O(additional_pods) with C(name), C(profile), C(replicas), C(surge_pods),
          C(pods_at_peak), C(connections_per_pod), C(per_pod_source) (V(code), V(default) or V(set)), C(connections)
          and C(migration_connections).
      type: list
      elements: dict
      sample: []
    formula:
      description: The computation in one line.
      type: str
      sample: 7 pods (5 replicas + 2 surge) x 15 + 1 migration Job + 0 other consumers + 25 headroom (auto) = 131
    fail_on:
      description: O(fail_on) as a fraction.
      type: float
      sample: 1.0
    pgbouncer_threshold:
      description: O(pgbouncer_threshold) as a fraction.
      type: float
      sample: 0.7
limits:
  description: Every limit that applies, tightest not necessarily first.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: V(server), V(role), V(database) or V(pgbouncer_clients).
      type: str
      sample: server
    limit:
      description: The limit itself (for V(server), C(max_connections) minus the reserved slots).
      type: int
      sample: 97
    in_use_by_others:
      description: Connections other roles hold against this limit now.
      type: int
      sample: 0
    available:
      description: RV(limits[].limit) - RV(limits[].in_use_by_others).
      type: int
      sample: 97
    needed:
      description: What the plan needs against this limit.
      type: int
      sample: 131
    utilisation:
      description: needed / available; V(null) when nothing is available.
      type: float
      sample: 1.3505
    fits:
      description: Whether needed <= O(fail_on) x available.
      type: bool
      sample: false
    description:
      description: The numbers in words.
      type: str
      sample: >-
        max_connections 100 - superuser_reserved 3 - reserved 0 - in use by other roles 0 = 97 usable;
        needs app 106 + other consumers 0 + headroom 25 = 131
reasons:
  description: Why the verdict is not V(ok).
  returned: success
  type: list
  elements: str
  sample:
    - >-
      server limit: needs 131 of 97 usable (135%, fail_on 100%): max_connections 100 - superuser_reserved 3 - reserved 0
      - in use by other roles 0 = 97 usable; needs app 106 + other consumers 0 + headroom 25 = 131
    - the pods alone may open 105 connections, 105% of max_connections 100 (PgBouncer threshold 70%)
advice:
  description: What to do, in plain language.
  returned: success
  type: list
  elements: str
  sample:
    - "at most 3 replicas fit with these settings: lower statewave_replicas, or raise the limit"
    - >-
      raise max_connections (needs a PostgreSQL restart), free connections other roles hold, or lower headroom /
      other_consumers if they are generous
param:
  description: On invalid input, the parameter it is about, for example V(replicas) or V(pgbouncer.instances).
  returned: failure
  type: str
  sample: replicas
reason:
  description: On invalid input, what is wrong with RV(param) and how to fix it.
  returned: failure
  type: str
  sample: must be at most 1000, got 5000; plan 1 to 1000 replicas
largest_fitting_per_group:
  description: For each group of O(additional_pods), the largest replica count that fits with the other pods unchanged.
  returned: success
  type: dict
  sample: {"pystator-api": 4, "pystator-worker": 1}
planned:
  description: The description of O(planned_server) when the budget was made against a planned server, else V(null).
  returned: success
  type: str
  sample: null
msg:
  description: One-line summary with the numbers.
  returned: always
  type: str
  sample: >-
    FAIL: the plan (5 replicas) needs 131 connections at peak (7 pods (5 replicas + 2 surge) x 15 + 1 migration Job
    + 0 other consumers + 25 headroom (auto) = 131); binding limit server: 131 of 97 usable (135%); largest replica
    count that fits: 3
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.statewave.kubernetes.plugins.module_utils.connection_budget import (
    argument_spec,
    MODULE_CONSTRAINTS,
    BudgetError,
    run,
)


def main():
    # The same spec and decision run on the controller through the action plugin of this name
    # (plugins/action/connection_budget.py); this module is what runs where the action is bypassed.
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, **MODULE_CONSTRAINTS)
    try:
        result = run(module.params)
    except BudgetError as exc:
        module.fail_json(msg='connection_budget: invalid input, nothing was checked: %s' % exc, param=exc.param,
                         reason=exc.reason)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
