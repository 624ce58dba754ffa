# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A release of its own for each lifecycle test (upgrade, rollback, uninstall, diagnose).

``lifecycle`` gives a namespace, a release name, an app role and database on the shared
pgvector server (with rows in a table, to prove the data survives), and the DSN Secret, then
removes all of it after the test. Playbooks run with ``-i inventories/local`` and extra vars that
point the roles at these names.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

# Re-exported for the lifecycle tests.
from helpers import folded, recap  # noqa: F401 pylint: disable=unused-import

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "tests" / "fixtures" / "charts" / "statewave"
INSTANCE = "app.kubernetes.io/instance"
# Records about objects, not objects of the release; they expire on their own (event TTL).
NOT_RELEASE_OBJECTS = {"events", "events.events.k8s.io"}


class Lifecycle(object):
    def __init__(self, kubectl, kubeconfig, run_playbook, admin, suffix):
        self.kubectl = kubectl
        self.kubeconfig = kubeconfig
        self._run_playbook = run_playbook
        self.admin = admin
        self.suffix = suffix
        self.ns = "swk-life-%s" % suffix
        self.release = "swl-%s" % suffix
        self.fullname = "%s-statewave" % self.release
        self.db = self.role = "swl_%s" % suffix
        self.password = secrets.token_urlsafe(18)
        # Deliberately not containing the release name: it is not an object of the release.
        self.dsn_secret = "dsn-%s" % suffix
        self.vars = {
            "statewave_namespace": self.ns,
            "statewave_release_name": self.release,
            "statewave_database_existing_secret": self.dsn_secret,
            "statewave_image_tag": "1.5.0",
            "preflight_db_name": self.db,
            "preflight_db_app_role": self.role,
            # site.yml's pgvector role (managed mode on the local inventory) keeps them as they are.
            "pgvector_app_user": self.role,
            "pgvector_app_database": self.db,
            "pgvector_app_password": self.password,
            "pgvector_dsn_secret_name": self.dsn_secret,
        }

    # -- services ------------------------------------------------------------------------------
    def connect(self, dbname=None):
        return psycopg.connect(host=self.admin["host"], port=self.admin["port"], user=self.admin["admin_user"],
                               password=self.admin["admin_password"], dbname=dbname or self.db, autocommit=True)

    def create(self):
        with self.connect("postgres") as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(self.role), sql.Literal(self.password)))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(self.db), sql.Identifier(self.role)))
        with self.connect() as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute("CREATE TABLE memories_probe (id serial PRIMARY KEY, note text NOT NULL, embedding vector(3))")
            conn.execute("INSERT INTO memories_probe (note, embedding) VALUES ('kept-1', '[1,2,3]'), ('kept-2', '[4,5,6]')")
        self.kubectl("create", "namespace", self.ns)
        dsn = "postgresql+asyncpg://%s:%s@%s:%s/%s" % (self.role, self.password, self.admin["host"], self.admin["port"], self.db)
        secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                  "metadata": {"name": self.dsn_secret, "namespace": self.ns},
                  "stringData": {"STATEWAVE_DATABASE_URL": dsn}}
        self.apply(secret)

    def apply(self, obj):
        """kubectl apply of one object, given on stdin (never on the command line: it may hold a secret)."""
        subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), "apply", "-f", "-"], input=json.dumps(obj),
                       text=True, check=True, stdout=subprocess.DEVNULL, timeout=120)

    def rows(self):
        with self.connect() as conn:
            return [r[0] for r in conn.execute("SELECT note FROM memories_probe ORDER BY id").fetchall()]

    def database_exists(self):
        with self.connect("postgres") as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.db,)).fetchone() is not None

    def cleanup(self):
        self.helm("uninstall", self.release, "--wait", check=False)
        self.kubectl("delete", "namespace", self.ns, "--ignore-not-found", "--wait=false", check=False)
        with self.connect("postgres") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.db)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.role)))

    # -- tools ---------------------------------------------------------------------------------
    def run(self, playbook, env=None, **overrides):
        extra = dict(self.vars, **overrides)
        return self._run_playbook("playbooks/%s" % playbook, extra_vars=extra, inventory=ROOT / "inventories" / "local",
                                  **({"env": env} if env else {}))

    def helm(self, *args, check=True):
        proc = subprocess.run([shutil.which("helm") or "helm", "--kubeconfig", str(self.kubeconfig), "-n", self.ns] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("helm %s failed: %s" % (" ".join(args), proc.stderr))
        return proc

    def history(self):
        proc = self.helm("history", self.release, "-o", "json", check=False)
        return json.loads(proc.stdout) if proc.returncode == 0 else []

    def exists(self, kind, name):
        return self.kubectl("-n", self.ns, "get", kind, name, "--ignore-not-found", "-o", "name").stdout.strip() != ""

    def image(self):
        d = json.loads(self.kubectl("-n", self.ns, "get", "deployment", self.fullname, "-o", "json").stdout)
        return d["spec"]["template"]["spec"]["containers"][0]["image"]

    def release_objects(self, with_versions=False):
        """Every object in the namespace, of every listable namespaced kind, that carries the
        release's instance label or its name (kind/name, optionally with resourceVersion)."""
        kinds = [k for k in self.kubectl("api-resources", "--verbs=list", "--namespaced", "-o", "name").stdout.split()
                 if k not in NOT_RELEASE_OBJECTS]
        items = []
        proc = self.kubectl("-n", self.ns, "get", ",".join(kinds), "-o", "json", check=False)
        if proc.returncode == 0:
            items = json.loads(proc.stdout)["items"]
        else:  # a kind went away meanwhile (another test's CRD): ask kind by kind
            for kind in kinds:
                one = self.kubectl("-n", self.ns, "get", kind, "-o", "json", check=False)
                if one.returncode == 0:
                    items += json.loads(one.stdout)["items"]
        found = []
        for item in items:
            meta = item["metadata"]
            if (meta.get("labels") or {}).get(INSTANCE) == self.release or self.release in meta["name"]:
                entry = "%s/%s" % (item["kind"], meta["name"])
                found.append(entry + ("@" + meta.get("resourceVersion", "") if with_versions else ""))
        return sorted(found)


@pytest.fixture
def lifecycle(kubectl, kubeconfig, local_postgres, run_playbook):
    life = Lifecycle(kubectl, kubeconfig, run_playbook, local_postgres["pgvector"], uuid.uuid4().hex[:6])
    try:
        life.create()
        yield life
    finally:
        life.cleanup()


@pytest.fixture
def installed(lifecycle):
    """The lifecycle release, installed with site.yml."""
    proc = lifecycle.run("site.yml")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert [r["status"] for r in lifecycle.history()] == ["deployed"]
    return lifecycle
