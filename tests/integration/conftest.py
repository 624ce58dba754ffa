# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures for the integration tests.

Services:
  * ``local_postgres``: the two shared servers from ``tests/postgres/pgctl.py start``
    (connection facts in $SWK_STATE_DIR/postgres.json).
  * ``throwaway_postgres``: a factory for extra servers (pgserver PostgreSQL 16 + pgvector, or
    Debian's 15) on a free 127.0.0.1 port with their own settings, stopped and removed after
    the test.
  * ``kubeconfig``: the local cluster (tests/cluster/cluster.sh up), $SWK_STATE_DIR/kubeconfig.

A missing service skips the test with the reason, or fails it when SWK_REQUIRE_SERVICES=1
(the test command sets that, so CI cannot pass by skipping).

Ansible runs as a subprocess (``run_playbook``), from the repository root with its
ansible.cfg; variables go through a 0600 extra-vars file, never the command line.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
sys.path.insert(0, str(ROOT / "tests" / "postgres"))

import pglocal  # noqa: E402


def require_service(reason: str):
    """Skip (or fail under SWK_REQUIRE_SERVICES=1) because a service is missing."""
    if os.environ.get("SWK_REQUIRE_SERVICES") == "1":
        pytest.fail("required service missing: %s" % reason, pytrace=False)
    pytest.skip(reason)


def state_dir() -> Path:
    return Path(os.environ.get("SWK_STATE_DIR", ROOT / ".cache" / "state"))


# ------------------------------------------------------------------------------------------------
# Ansible
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def ansible_env():
    """Environment for ansible-playbook subprocesses (the project's ansible.cfg and venv)."""
    env = dict(os.environ)
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    env["SWK_STATE_DIR"] = str(state_dir())
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    bindir = str(Path(sys.executable).parent)
    if bindir not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    if not shutil.which("ansible-playbook", path=env["PATH"]):
        require_service("ansible-playbook is not on PATH (source hack/env.sh)")
    return env


def playbook_runner(ansible_env, tmp_dir):
    """run(playbook, extra_vars=None, verbosity=0, inventory=None, env=None, check=False) -> CompletedProcess,
    with its extra-vars files in tmp_dir (for fixtures of a wider scope than a test)."""
    def run(playbook, extra_vars=None, verbosity=0, inventory=None, env=None, check=False, timeout=900):
        path = Path(playbook)
        if not path.is_absolute():
            path = PLAYBOOKS / path if (PLAYBOOKS / path).exists() else ROOT / path
        cmd = ["ansible-playbook", str(path)]
        if inventory:
            cmd += ["-i", str(inventory)]
        if extra_vars:
            vars_file = Path(tmp_dir) / ("extra-vars-%s.json" % uuid.uuid4().hex[:8])
            fd = os.open(str(vars_file), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(extra_vars, fh)
            cmd += ["-e", "@%s" % vars_file]
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        if check:
            cmd.append("--check")
        proc_env = dict(ansible_env)
        proc_env.update(env or {})
        proc = subprocess.run(cmd, cwd=str(ROOT), env=proc_env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
        return proc

    return run


@pytest.fixture
def run_playbook(ansible_env, tmp_path):
    """run_playbook(playbook, extra_vars=None, verbosity=0, inventory=None, env=None) -> CompletedProcess.

    ``playbook`` is a path or a file name under tests/integration/playbooks/. Output (stdout and
    stderr together) is in ``.stdout``.
    """
    return playbook_runner(ansible_env, tmp_path)


# ------------------------------------------------------------------------------------------------
# PostgreSQL
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def local_postgres():
    """Connection facts of the shared servers ({"pgvector": {...}, "plain": {...}}), checked live."""
    info = pglocal.read_info()
    missing = [name for name in pglocal.FLAVOURS if name not in info]
    if missing:
        require_service("shared PostgreSQL servers not started (%s missing in %s): run "
                        "`python tests/postgres/pgctl.py start`" % (", ".join(missing), pglocal.info_file()))
    import psycopg

    for name, facts in info.items():
        if name not in pglocal.FLAVOURS:
            continue
        try:
            with psycopg.connect(host=facts["host"], port=facts["port"], user=facts["admin_user"],
                                 password=facts["admin_password"], dbname="postgres", connect_timeout=3):
                pass
        except psycopg.Error as exc:
            require_service("shared PostgreSQL server %s does not answer on %s:%s (%s): run "
                            "`python tests/postgres/pgctl.py start`" % (name, facts["host"], facts["port"], exc))
    return info


@contextlib.contextmanager
def _throwaway_servers():
    """A start(flavour="pgserver", settings=None, name="swk-test") factory; servers stop on exit."""
    with contextlib.ExitStack() as stack:
        def start(flavour="pgserver", settings=None, name="swk-test"):
            try:
                return stack.enter_context(pglocal.throwaway(name, flavour=flavour, settings=settings))
            except pglocal.PgLocalError as exc:
                require_service("cannot start a throwaway PostgreSQL (%s): %s" % (flavour, exc))
        yield start


@pytest.fixture
def throwaway_postgres():
    """throwaway_postgres(flavour="pgserver", settings=None) -> pglocal.LocalPostgres, running.

    Stopped and removed at the end of the test.
    """
    with _throwaway_servers() as start:
        yield start


@pytest.fixture(scope="module")
def throwaway_postgres_module():
    """Module-scoped variant of throwaway_postgres for tests that share one server."""
    with _throwaway_servers() as start:
        yield start


# ------------------------------------------------------------------------------------------------
# Kubernetes
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def kubeconfig():
    """Path of the local cluster's kubeconfig, after checking that the API answers."""
    path = Path(os.environ.get("SWK_KUBECONFIG", state_dir() / "kubeconfig"))
    if not path.exists():
        require_service("local Kubernetes cluster not up (no %s): run `tests/cluster/cluster.sh up`" % path)
    kubectl = shutil.which("kubectl")
    if not kubectl:
        require_service("kubectl is not on PATH (source hack/env.sh)")
    proc = subprocess.run([kubectl, "--kubeconfig", str(path), "get", "--raw", "/readyz"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30, check=False)
    if proc.returncode != 0:
        require_service("local Kubernetes API does not answer with %s: %s" % (path, proc.stdout.strip()[:300]))
    return path


def kubectl_runner(kubeconfig):
    """kubectl(*args, check=True) -> CompletedProcess against the local cluster (any fixture scope)."""
    def run(*args, check=True, timeout=120):
        proc = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig)] + [str(a) for a in args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout,
                              check=False)
        if check and proc.returncode != 0:
            raise AssertionError("kubectl %s failed: %s" % (" ".join(map(str, args)), proc.stderr))
        return proc

    return run


@pytest.fixture
def kubectl(kubeconfig):
    """kubectl(*args, check=True) -> CompletedProcess against the local cluster."""
    return kubectl_runner(kubeconfig)
