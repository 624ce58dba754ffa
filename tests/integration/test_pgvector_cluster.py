# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/pgvector in cnpg and standalone mode, against the local cluster.

No operator runs here and no container really runs (kwok). The tests install the minimal CRDs
written in this project for the CloudNativePG kinds (tests/fixtures/crds/cnpg) and check the
objects the API server stores. What only a running CloudNativePG operator could report (the
Cluster's Ready condition, the Database's applied status) is SIMULATED: the test patches the
status subresource itself while the role waits for it. Standalone pods become Ready through kwok;
the standalone init SQL is run for real with psql against a throwaway PostgreSQL + pgvector.

Each test uses its own namespace and removes it; -vvv output never shows a password.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

import pglocal
# role is a fixture.
from pgvector_helpers import role  # noqa: F401 pylint: disable=unused-import

ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = ROOT / 'tests' / 'fixtures' / 'crds' / 'cnpg'


@pytest.fixture(scope='module')
def cnpg_crds(kubeconfig):
    subprocess.run(['kubectl', '--kubeconfig', str(kubeconfig), 'apply', '-f', str(CRD_DIR)], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    subprocess.run(['kubectl', '--kubeconfig', str(kubeconfig), 'wait', '--for=condition=Established',
                    '--timeout=60s', 'crd/clusters.postgresql.cnpg.io', 'crd/databases.postgresql.cnpg.io',
                    'crd/poolers.postgresql.cnpg.io'], check=True, stdout=subprocess.PIPE, timeout=120)
    return CRD_DIR


@pytest.fixture
def namespace(kubectl):
    name = 'swk-pgv-%s' % uuid.uuid4().hex[:8]
    yield name
    kubectl('delete', 'namespace', name, '--ignore-not-found', '--wait=false', check=False)


def get(kubectl, kind, name, namespace=None):
    args = ['get', kind, name, '-o', 'json'] + (['-n', namespace] if namespace else [])
    proc = kubectl(*args, check=False)
    if proc.returncode != 0:
        assert 'NotFound' in proc.stderr or 'not found' in proc.stderr, proc.stderr
        return None
    return json.loads(proc.stdout)


def secret_data(kubectl, namespace, name):
    obj = get(kubectl, 'secret', name, namespace)
    if obj is None:
        return None
    return {k: base64.b64decode(v).decode() for k, v in (obj.get('data') or {}).items()}


def parse_dsn(dsn):
    parts = urlsplit(dsn)
    return {'scheme': parts.scheme, 'user': unquote(parts.username), 'password': unquote(parts.password),
            'host': parts.hostname, 'port': parts.port, 'dbname': unquote(parts.path.lstrip('/'))}


def assert_secrets_hidden(output, *secrets):
    for secret in secrets:
        assert secret and secret not in output
        assert secret[:12] not in output


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def wait_for(fn, timeout=180, what='object'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(1)
    raise AssertionError('timed out waiting for %s' % what)


def patch_status(kubectl, kind, name, namespace, status):
    kubectl('patch', kind, name, '-n', namespace, '--subresource=status', '--type=merge',
            '-p', json.dumps({'status': status}))


# ------------------------------------------------------------------------------------------------
# cnpg
# ------------------------------------------------------------------------------------------------
def test_cnpg_cluster_database_and_pooler_with_simulated_operator_status(role, cnpg_crds, namespace, kubectl):
    role_vars = {
        'pgvector_mode': 'cnpg', 'pgvector_namespace': namespace,
        'pgvector_cnpg_cluster_name': 'swk-db', 'pgvector_cnpg_instances': 2,
        'pgvector_cnpg_max_connections': 150, 'pgvector_cnpg_parameters': {'shared_buffers': '256MB'},
        'pgvector_cnpg_storage_size': '2Gi', 'pgvector_cnpg_storage_class': 'fast-ssd',
        'pgvector_cnpg_resources': {'requests': {'cpu': '500m', 'memory': '1Gi'}, 'limits': {'memory': '1Gi'}},
        'pgvector_cnpg_pooler_enabled': True, 'pgvector_cnpg_pooler_default_pool_size': 30,
        'pgvector_cnpg_pooler_parameters': {'query_wait_timeout': 30},
        'pgvector_cnpg_wait': True, 'pgvector_cnpg_wait_timeout': 300,
    }
    result = []
    worker = threading.Thread(target=lambda: result.append(role(role_vars, verbosity=3)))
    worker.start()
    try:
        cluster = wait_for(lambda: get(kubectl, 'clusters.postgresql.cnpg.io', 'swk-db', namespace), what='the Cluster')
        # The role waits for the Ready condition a running operator would set: no Database yet.
        time.sleep(3)
        assert worker.is_alive()
        assert get(kubectl, 'databases.postgresql.cnpg.io', 'swk-db-statewave', namespace) is None
        # SIMULATED operator status: the Cluster is ready.
        patch_status(kubectl, 'clusters.postgresql.cnpg.io', 'swk-db', namespace, {
            'phase': 'Cluster in healthy state', 'instances': 2, 'readyInstances': 2,
            'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'ClusterIsReady',
                            'message': 'Cluster is Ready (simulated by the test)', 'lastTransitionTime': now()}]})
        database = wait_for(lambda: get(kubectl, 'databases.postgresql.cnpg.io', 'swk-db-statewave', namespace),
                            what='the Database')
        time.sleep(3)
        assert worker.is_alive()  # now waiting for the Database to be applied
        # SIMULATED operator status: database and extension applied.
        patch_status(kubectl, 'databases.postgresql.cnpg.io', 'swk-db-statewave', namespace, {
            'applied': True, 'observedGeneration': database['metadata']['generation'],
            'extensions': [{'name': 'vector', 'applied': True}]})
    finally:
        worker.join(600)
    run = result[0]
    assert run.rc == 0, run
    assert run.recap['failed'] == 0, run
    assert '<localhost> ESTABLISH LOCAL CONNECTION' in run.stdout  # really -vvv

    spec = get(kubectl, 'clusters.postgresql.cnpg.io', 'swk-db', namespace)['spec']
    assert spec['instances'] == 2
    assert spec['imageName'] == 'ghcr.io/cloudnative-pg/postgresql:16.9-standard-bookworm'
    assert spec['enableSuperuserAccess'] is False
    assert spec['postgresql']['parameters'] == {'max_connections': '150', 'shared_buffers': '256MB'}
    assert spec['bootstrap']['initdb'] == {
        'database': 'statewave', 'owner': 'statewave', 'secret': {'name': 'swk-db-app-credentials'},
        'postInitApplicationSQL': ['CREATE EXTENSION IF NOT EXISTS vector']}
    assert spec['storage'] == {'size': '2Gi', 'storageClass': 'fast-ssd'}
    assert spec['resources'] == role_vars['pgvector_cnpg_resources']
    assert cluster['metadata']['labels']['app.kubernetes.io/managed-by'] == 'statewave.kubernetes'

    db = get(kubectl, 'databases.postgresql.cnpg.io', 'swk-db-statewave', namespace)['spec']
    assert db == {'cluster': {'name': 'swk-db'}, 'name': 'statewave', 'owner': 'statewave', 'ensure': 'present',
                  'databaseReclaimPolicy': 'retain', 'extensions': [{'name': 'vector', 'ensure': 'present'}]}

    pooler = get(kubectl, 'poolers.postgresql.cnpg.io', 'swk-db-pooler-rw', namespace)['spec']
    assert pooler == {'cluster': {'name': 'swk-db'}, 'instances': 2, 'type': 'rw', 'pgbouncer': {
        'poolMode': 'transaction', 'parameters': {'max_prepared_statements': '200', 'default_pool_size': '30',
                                                  'max_client_conn': '1000', 'query_wait_timeout': '30'}}}

    creds = get(kubectl, 'secret', 'swk-db-app-credentials', namespace)
    assert creds['type'] == 'kubernetes.io/basic-auth'
    creds = secret_data(kubectl, namespace, 'swk-db-app-credentials')
    assert creds['username'] == 'statewave' and len(creds['password']) == 32

    app = parse_dsn(secret_data(kubectl, namespace, 'statewave-database')['STATEWAVE_DATABASE_URL'])
    direct = parse_dsn(secret_data(kubectl, namespace, 'statewave-database-direct')['STATEWAVE_DATABASE_URL'])
    assert app == {'scheme': 'postgresql+asyncpg', 'user': 'statewave', 'password': creds['password'],
                   'host': 'swk-db-pooler-rw.%s.svc' % namespace, 'port': 5432, 'dbname': 'statewave'}
    assert direct == dict(app, host='swk-db-rw.%s.svc' % namespace)
    assert run.facts == {
        'secret_name': 'statewave-database', 'secret_key': 'STATEWAVE_DATABASE_URL',
        'direct_secret_name': 'statewave-database-direct', 'direct_secret_key': 'STATEWAVE_DATABASE_URL',
        'server_version': '16.9', 'extension_version': '', 'db_host': 'swk-db-pooler-rw.%s.svc' % namespace}
    assert 'migrations: use the direct DSN in Secret %s/statewave-database-direct' % namespace in run.stdout
    assert_secrets_hidden(run.stdout, creds['password'])

    # Second run: the operator status is still there, nothing changes, the password stays.
    second = role(role_vars)
    assert second.rc == 0, second
    assert second.recap['changed'] == 0, second
    assert secret_data(kubectl, namespace, 'swk-db-app-credentials')['password'] == creds['password']


def write_fake_operator_chart(path):
    """A stand-in for the CloudNativePG chart (no network here): one ConfigMap."""
    (path / 'templates').mkdir(parents=True)
    (path / 'Chart.yaml').write_text('apiVersion: v2\nname: cloudnative-pg-fake\nversion: 0.1.0\nappVersion: "1.28.1"\n')
    (path / 'templates' / 'configmap.yaml').write_text(
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-marker\n'
        'data:\n  operator: "fake, for statewave.kubernetes tests"\n')
    return path


def test_cnpg_operator_from_a_chart_primary_dsn_and_pooler_removal(role, cnpg_crds, namespace, kubectl, kubeconfig,
                                                                   tmp_path):
    op_ns = namespace + '-op'
    chart = write_fake_operator_chart(tmp_path / 'chart')
    base = {
        'pgvector_mode': 'cnpg', 'pgvector_namespace': namespace, 'pgvector_cnpg_wait': False,
        'pgvector_cnpg_install_operator': True, 'pgvector_cnpg_operator_namespace': op_ns,
        'pgvector_cnpg_operator_release_name': 'cnpg-test', 'pgvector_cnpg_operator_chart_ref': str(chart),
        'pgvector_cnpg_operator_chart_repo_url': '', 'pgvector_cnpg_operator_chart_version': '',
        'pgvector_cnpg_extension_method': 'post_init',
        'pgvector_cnpg_image_name': 'registry.example.internal/postgres-pgvector:17.2-1',
        'pgvector_app_user': 'sw_app', 'pgvector_app_database': 'sw_db',
        'pgvector_dsn_secret_name': 'db-url', 'pgvector_dsn_query': {'ssl': 'require'},
    }
    try:
        first = role(dict(base, pgvector_cnpg_pooler_enabled=True))
        assert first.rc == 0, first
        releases = json.loads(subprocess.run(['helm', 'list', '-n', op_ns, '-o', 'json', '--kubeconfig', str(kubeconfig)],
                                             stdout=subprocess.PIPE, check=True, text=True).stdout)
        assert [(r['name'], r['status']) for r in releases] == [('cnpg-test', 'deployed')]
        assert get(kubectl, 'configmap', 'cnpg-test-marker', op_ns) is not None
        # post_init: no Database resource, CREATE EXTENSION at bootstrap
        assert get(kubectl, 'databases.postgresql.cnpg.io', 'statewave-db-sw-db', namespace) is None
        spec = get(kubectl, 'clusters.postgresql.cnpg.io', 'statewave-db', namespace)['spec']
        assert spec['imageName'] == 'registry.example.internal/postgres-pgvector:17.2-1'
        assert spec['bootstrap']['initdb']['postInitApplicationSQL'] == ['CREATE EXTENSION IF NOT EXISTS vector']
        assert first.facts['server_version'] == '17.2'
        assert get(kubectl, 'poolers.postgresql.cnpg.io', 'statewave-db-pooler-rw', namespace) is not None
        assert secret_data(kubectl, namespace, 'db-url-direct') is not None

        # Pooler turned off: the Pooler and the direct Secret go, the app DSN points at the primary.
        # At -vvv: deleting the direct Secret shows nothing of it (the module returns the deleted object).
        password = secret_data(kubectl, namespace, 'statewave-db-app-credentials')['password']
        direct_b64 = get(kubectl, 'secret', 'db-url-direct', namespace)['data']['STATEWAVE_DATABASE_URL']
        second = role(dict(base, pgvector_cnpg_pooler_enabled=False), verbosity=3)
        assert second.rc == 0, second
        assert '<localhost> ESTABLISH LOCAL CONNECTION' in second.stdout  # really -vvv
        assert 'TASK [statewave.kubernetes.pgvector : Remove the direct DSN Secret that no pooler needs any more]' in second.stdout
        assert_secrets_hidden(second.stdout, password, direct_b64)
        assert second.recap['changed'] >= 3, second  # DSN Secret, Pooler removed, direct Secret removed
        assert get(kubectl, 'poolers.postgresql.cnpg.io', 'statewave-db-pooler-rw', namespace) is None
        assert secret_data(kubectl, namespace, 'db-url-direct') is None
        dsn = secret_data(kubectl, namespace, 'db-url')['STATEWAVE_DATABASE_URL']
        assert dsn.startswith('postgresql+asyncpg://sw_app:')
        assert dsn.endswith('@statewave-db-rw.%s.svc:5432/sw_db?ssl=require' % namespace)
        assert second.facts['direct_secret_name'] == second.facts['secret_name'] == 'db-url'
        assert 'the app DSN is direct (no pooler in between)' in second.stdout

        third = role(dict(base, pgvector_cnpg_pooler_enabled=False))
        assert third.rc == 0, third
        assert third.recap['changed'] == 0, third

        # Pooler on again, but the app told to go to the primary: the Pooler is there, the one DSN
        # Secret stays direct and no direct twin is written.
        fourth = role(dict(base, pgvector_cnpg_pooler_enabled=True, pgvector_cnpg_dsn_target='primary'))
        assert fourth.rc == 0, fourth
        assert get(kubectl, 'poolers.postgresql.cnpg.io', 'statewave-db-pooler-rw', namespace) is not None
        assert secret_data(kubectl, namespace, 'db-url')['STATEWAVE_DATABASE_URL'] == dsn
        assert secret_data(kubectl, namespace, 'db-url-direct') is None
        assert fourth.facts['direct_secret_name'] == fourth.facts['secret_name'] == 'db-url'
        assert fourth.facts['db_host'] == 'statewave-db-rw.%s.svc' % namespace
        assert 'the app DSN is direct (no pooler in between)' in fourth.stdout
    finally:
        subprocess.run(['helm', 'uninstall', 'cnpg-test', '-n', op_ns, '--kubeconfig', str(kubeconfig)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        kubectl('delete', 'namespace', op_ns, '--ignore-not-found', '--wait=false', check=False)


@pytest.fixture
def old_database_crd(cnpg_crds, kubectl, kubeconfig):
    """The Database CRD as an operator before 1.26 has it (no spec.extensions), restored afterwards."""
    path = cnpg_crds / 'postgresql.cnpg.io_databases.yaml'
    crd = yaml.safe_load(path.read_text())
    del crd['spec']['versions'][0]['schema']['openAPIV3Schema']['properties']['spec']['properties']['extensions']
    proc = subprocess.run(['kubectl', '--kubeconfig', str(kubeconfig), 'apply', '-f', '-'],
                          input=json.dumps(crd), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    assert proc.returncode == 0, proc.stderr
    try:
        yield
    finally:
        kubectl('apply', '-f', str(path))


def test_cnpg_without_declarative_extensions_falls_back_to_post_init(role, old_database_crd, namespace, kubectl):
    base = {'pgvector_mode': 'cnpg', 'pgvector_namespace': namespace, 'pgvector_cnpg_wait': False}
    refused = role(dict(base, pgvector_cnpg_extension_method='database'))
    assert refused.rc != 0
    assert refused.recap['changed'] == 0, refused
    assert 'pgvector_cnpg_extension_method=database needs CloudNativePG >= 1.26' in refused.stdout
    assert get(kubectl, 'namespace', namespace) is None  # failed before changing anything

    auto = role(base)
    assert auto.rc == 0, auto
    assert get(kubectl, 'databases.postgresql.cnpg.io', 'statewave-db-statewave', namespace) is None
    initdb = get(kubectl, 'clusters.postgresql.cnpg.io', 'statewave-db', namespace)['spec']['bootstrap']['initdb']
    assert initdb['postInitApplicationSQL'] == ['CREATE EXTENSION IF NOT EXISTS vector']
    assert 'CloudNativePG < 1.26 has no declarative extensions' in auto.stdout


def test_cnpg_missing_pooler_crd_fails_before_changing_anything(role, cnpg_crds, namespace, kubectl):
    kubectl('delete', 'crd', 'poolers.postgresql.cnpg.io', '--wait=true', timeout=180)
    try:
        run = role({'pgvector_mode': 'cnpg', 'pgvector_namespace': namespace, 'pgvector_cnpg_pooler_enabled': True})
        assert run.rc != 0
        assert run.recap['changed'] == 0, run
        assert ('CloudNativePG is not installed in this cluster: the CRDs poolers.postgresql.cnpg.io are missing'
                in run.stdout), run
        assert 'pgvector_cnpg_install_operator: true' in run.stdout
        assert get(kubectl, 'namespace', namespace) is None
    finally:
        kubectl('apply', '-f', str(cnpg_crds / 'postgresql.cnpg.io_poolers.yaml'))
        kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd/poolers.postgresql.cnpg.io')


# ------------------------------------------------------------------------------------------------
# standalone
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def volume(kubectl, kubeconfig):
    """A PersistentVolume for the standalone PVC (the local cluster has no provisioner)."""
    name = 'swk-pgv-pv-%s' % uuid.uuid4().hex[:8]
    pv = {'apiVersion': 'v1', 'kind': 'PersistentVolume', 'metadata': {'name': name, 'labels': {'statewave.io/test': 'pgvector'}},
          'spec': {'capacity': {'storage': '5Gi'}, 'accessModes': ['ReadWriteOnce'], 'storageClassName': name,
                   'persistentVolumeReclaimPolicy': 'Delete', 'hostPath': {'path': '/tmp/' + name}}}
    proc = subprocess.run(['kubectl', '--kubeconfig', str(kubeconfig), 'apply', '-f', '-'],
                          input=json.dumps(pv), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    assert proc.returncode == 0, proc.stderr
    yield name
    kubectl('delete', 'pv', name, '--ignore-not-found', '--wait=false', check=False)


def test_standalone_pod_pvc_service_and_init_sql(role, namespace, volume, kubectl, throwaway_postgres):
    role_vars = {'pgvector_mode': 'standalone', 'pgvector_namespace': namespace,
                 'pgvector_standalone_storage_class': volume, 'pgvector_standalone_max_connections': 120,
                 'pgvector_app_user': 'sw_dev', 'pgvector_app_database': 'sw_dev_db',
                 'pgvector_standalone_wait_timeout': 180}
    run = role(role_vars, verbosity=3)
    assert run.rc == 0, run
    assert '<localhost> ESTABLISH LOCAL CONNECTION' in run.stdout  # really -vvv
    assert 'WARNING: pgvector_mode=standalone runs ONE PostgreSQL pod' in run.stdout
    assert 'dev and staging only' in run.stdout

    deploy = get(kubectl, 'deployment', 'statewave-postgres', namespace)
    assert deploy['metadata']['annotations']['statewave.io/environment'] == 'dev-staging-only'
    assert deploy['spec']['replicas'] == 1 and deploy['spec']['strategy']['type'] == 'Recreate'
    assert deploy['status']['readyReplicas'] == 1  # kwok: the pod is Ready, the role waited for it
    pod = deploy['spec']['template']['spec']
    container = pod['containers'][0]
    assert container['image'] == 'pgvector/pgvector:0.8.0-pg16'
    assert container['args'] == ['-c', 'max_connections=120']
    env = {e['name']: e for e in container['env']}
    assert env['POSTGRES_PASSWORD']['valueFrom']['secretKeyRef'] == {'name': 'statewave-postgres-credentials',
                                                                     'key': 'POSTGRES_PASSWORD'}
    assert env['STATEWAVE_DB_PASSWORD']['valueFrom']['secretKeyRef']['key'] == 'STATEWAVE_DB_PASSWORD'
    assert all('value' not in env[k] for k in ('POSTGRES_PASSWORD', 'STATEWAVE_DB_PASSWORD'))
    assert env['PGDATA']['value'] == '/var/lib/postgresql/data/pgdata'
    assert pod['securityContext']['runAsNonRoot'] is True
    assert {v['name']: v for v in pod['volumes']}['data']['persistentVolumeClaim']['claimName'] == 'statewave-postgres-data'

    pvc = get(kubectl, 'pvc', 'statewave-postgres-data', namespace)
    assert pvc['status']['phase'] == 'Bound' and pvc['spec']['volumeName'] == volume
    svc = get(kubectl, 'service', 'statewave-postgres', namespace)
    assert [(p['port'], p['targetPort']) for p in svc['spec']['ports']] == [(5432, 'postgres')]
    assert svc['spec']['selector'] == deploy['spec']['selector']['matchLabels']

    creds = secret_data(kubectl, namespace, 'statewave-postgres-credentials')
    assert sorted(creds) == ['POSTGRES_PASSWORD', 'STATEWAVE_DB_PASSWORD']
    assert creds['POSTGRES_PASSWORD'] != creds['STATEWAVE_DB_PASSWORD']
    dsn = secret_data(kubectl, namespace, 'statewave-database')['STATEWAVE_DATABASE_URL']
    assert parse_dsn(dsn) == {'scheme': 'postgresql+asyncpg', 'user': 'sw_dev', 'password': creds['STATEWAVE_DB_PASSWORD'],
                              'host': 'statewave-postgres.%s.svc' % namespace, 'port': 5432, 'dbname': 'sw_dev_db'}
    assert run.facts['server_version'] == '16' and run.facts['extension_version'] == '0.8.0'
    assert_secrets_hidden(run.stdout, creds['POSTGRES_PASSWORD'], creds['STATEWAVE_DB_PASSWORD'])

    # The init SQL the pod runs on first start, run for real (psql as the superuser, with the
    # container's environment) against PostgreSQL 16 + pgvector: the DSN's role logs in to its own
    # database and has vector.
    sql = get(kubectl, 'configmap', 'statewave-postgres-initdb', namespace)['data']['10-statewave.sql']
    pg = throwaway_postgres(name='pgv-initdb')
    psql = pglocal.bindir_for('pgserver') / 'psql'
    proc = subprocess.run([str(psql), '-h', pglocal.HOST, '-p', str(pg.port), '-U', pg.admin_user, '-d', 'postgres',
                           '--no-psqlrc', '-f', '-'], input=sql, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60, check=False,
                          env=dict(os.environ, PGPASSWORD=pg.admin_password, STATEWAVE_DB_USER=env['STATEWAVE_DB_USER']['value'],
                                   STATEWAVE_DB_NAME=env['STATEWAVE_DB_NAME']['value'],
                                   STATEWAVE_DB_PASSWORD=creds['STATEWAVE_DB_PASSWORD']))
    assert proc.returncode == 0, proc.stdout
    d = parse_dsn(dsn)
    with pg.connect(dbname=d['dbname'], user=d['user'], password=d['password']) as conn:
        assert conn.execute('SELECT current_user, pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()'
                            ).fetchone() == ('sw_dev', 'sw_dev')
        assert conn.execute("SELECT '[1,2]'::vector <-> '[4,6]'::vector").fetchone()[0] == pytest.approx(5.0)
        assert conn.execute('SELECT rolsuper FROM pg_roles WHERE rolname = current_user').fetchone() == (False,)

    # Second run: nothing changes, the generated passwords stay.
    second = role(role_vars)
    assert second.rc == 0, second
    assert second.recap['changed'] == 0, second
    assert secret_data(kubectl, namespace, 'statewave-postgres-credentials') == creds

    # A different explicit password would silently break the DSN: refused, nothing changed.
    refused = role(dict(role_vars, pgvector_app_password='Another-' + uuid.uuid4().hex))
    assert refused.rc != 0
    assert refused.recap['changed'] == 0, refused
    assert 'pgvector_app_password differs from the one in Secret %s/statewave-postgres-credentials' % namespace in refused.stdout
