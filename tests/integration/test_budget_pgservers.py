# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local PostgreSQL servers (tests/postgres): pgctl.py start/stop/status and pglocal."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "postgres"))
import pglocal  # noqa: E402

PGCTL = ROOT / "tests" / "postgres" / "pgctl.py"


def require_service(reason):
    if os.environ.get("SWK_REQUIRE_SERVICES") == "1":
        pytest.fail("required service missing: %s" % reason, pytrace=False)
    pytest.skip(reason)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _postgres_processes(datadir):
    """PIDs of postgres processes whose command line names ``datadir``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "postgres" in cmdline and str(datadir) in cmdline:
            pids.append(int(entry.name))
    return pids


def test_shared_servers_match_postgres_json(local_postgres):
    path = pglocal.info_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for name, major, has_vector in (("pgvector", 16, True), ("plain", 15, False)):
        info = local_postgres[name]
        assert info["host"] == "127.0.0.1"
        assert info["admin_user"] == "swk_admin"
        assert len(info["admin_password"]) >= 20
        with psycopg.connect(host=info["host"], port=info["port"], user=info["admin_user"],
                             password=info["admin_password"], dbname="postgres") as conn:
            num = int(conn.execute("SHOW server_version_num").fetchone()[0])
            assert num // 10000 == major
            assert info["server_version"] == "%d.%d" % (num // 10000, num % 10000)
            assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
            assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
            assert conn.execute("SHOW unix_socket_directories").fetchone()[0] == ""
            assert conn.execute("SHOW password_encryption").fetchone()[0] == "scram-sha-256"
            rules = conn.execute("SELECT type, address, auth_method FROM pg_hba_file_rules").fetchall()
            assert rules == [("host", "127.0.0.1", "scram-sha-256")]
            vector = conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").fetchone()
            assert (vector is not None) == has_vector


def test_shared_servers_reject_a_wrong_password(local_postgres):
    info = local_postgres["pgvector"]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(host=info["host"], port=info["port"], user=info["admin_user"],
                        password=info["admin_password"] + "x", dbname="postgres", connect_timeout=5)


def test_pgctl_start_again_is_a_noop_and_status_is_zero(local_postgres):
    pids = {name: pglocal.shared(name).pid() for name in pglocal.FLAVOURS}
    proc = subprocess.run([sys.executable, str(PGCTL), "start"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.count("already running, nothing to do") == 2, proc.stdout
    assert {name: pglocal.shared(name).pid() for name in pglocal.FLAVOURS} == pids
    status = subprocess.run([sys.executable, str(PGCTL), "status"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=60, check=False)
    assert status.returncode == 0, status.stdout
    assert "pgvector: running" in status.stdout and "plain: running" in status.stdout
    assert local_postgres == pglocal.read_info()  # the password survives a restart-free start


def test_servers_do_not_run_as_root(local_postgres):
    for name in pglocal.FLAVOURS:
        pid = pglocal.shared(name).pid()
        uid = os.stat("/proc/%d" % pid).st_uid
        assert uid != 0
        if os.geteuid() == 0:
            assert pwd.getpwuid(uid).pw_name == pglocal.RUN_AS_USER


def test_pgctl_full_cycle_in_its_own_state_dir():
    """start, start again, status, stop, status on separate ports and a separate state dir."""
    if not (pglocal.DEBIAN_BINDIR / "postgres").exists():
        require_service("postgresql-15 is not installed (apt-get install -y postgresql-15)")
    root = pglocal.postgres_root() / "tmp"
    pglocal._ensure_traversable(root)
    state = Path(tempfile.mkdtemp(prefix="pgctl-", dir=str(root)))
    os.chmod(state, 0o755)
    vector_port = pglocal.free_port(56100, 56200)
    plain_port = pglocal.free_port(vector_port + 1, 56300)
    env = dict(os.environ, SWK_STATE_DIR=str(state), SWK_PG_VECTOR_PORT=str(vector_port),
               SWK_PG_PLAIN_PORT=str(plain_port))

    def pgctl(*args):
        return subprocess.run([sys.executable, str(PGCTL)] + list(args), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=300, check=False)

    try:
        first = pgctl("start")
        assert first.returncode == 0, first.stdout
        assert first.stdout.count(": started on") == 2, first.stdout
        info_path = state / "postgres.json"
        assert stat.S_IMODE(info_path.stat().st_mode) == 0o600
        info = json.loads(info_path.read_text())
        assert info["pgvector"]["port"] == vector_port and info["plain"]["port"] == plain_port
        assert info["pgvector"]["server_version"].startswith("16.")
        assert info["plain"]["server_version"].startswith("15.")
        assert info["pgvector"]["admin_password"] != info["plain"]["admin_password"]
        again = pgctl("start")
        assert again.returncode == 0 and again.stdout.count("already running, nothing to do") == 2, again.stdout
        assert json.loads(info_path.read_text()) == info
        assert pgctl("status").returncode == 0
        datadirs = [state / "postgres" / name / "data" for name in pglocal.FLAVOURS]
        pids = [p for d in datadirs for p in _postgres_processes(d)]
        assert len(pids) >= 2

        stopped = pgctl("stop")
        assert stopped.returncode == 0, stopped.stdout
        assert stopped.stdout.count(": stopped") == 2, stopped.stdout
        assert not [p for p in pids if _alive(p)], "postgres processes left after stop"
        assert not [p for d in datadirs for p in _postgres_processes(d)]
        status = pgctl("status")
        assert status.returncode == 1 and "stopped" in status.stdout
        assert pgctl("stop").stdout.count("not running") == 2
    finally:
        pgctl("stop")
        shutil.rmtree(state, ignore_errors=True)


def test_throwaway_instance_with_its_own_settings_is_gone_after():
    with pglocal.throwaway("settings", settings={"max_connections": 27, "reserved_connections": 4}) as pg:
        assert pg.query("SHOW max_connections")[0][0] == "27"
        assert pg.query("SHOW reserved_connections")[0][0] == "4"
        pid, base, datadir = pg.pid(), pg.base, pg.datadir
        assert pid and _alive(pid)
    assert not _alive(pid)
    assert not base.exists()
    assert not _postgres_processes(datadir)


def test_missing_debian_binaries_tell_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(pglocal, "DEBIAN_BINDIR", tmp_path / "nowhere" / "bin")
    pg = pglocal.LocalPostgres("plain-missing", "debian15", pglocal.free_port(), base=tmp_path / "base")
    with pytest.raises(pglocal.PgLocalError, match=r"apt-get install -y postgresql-15"):
        pg.start()
    assert not (tmp_path / "base").exists()


def test_port_taken_by_another_process_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        root = pglocal.postgres_root() / "tmp"
        pglocal._ensure_traversable(root)
        base = Path(tempfile.mkdtemp(prefix="busy-", dir=str(root)))
        os.chmod(base, 0o755)
        try:
            pg = pglocal.LocalPostgres("busy", "pgserver", port, base=base)
            with pytest.raises(pglocal.PgLocalError, match="already in use"):
                pg.start()
            assert pg.pid() is None
        finally:
            shutil.rmtree(base, ignore_errors=True)
