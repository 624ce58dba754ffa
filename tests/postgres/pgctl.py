# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start, stop and inspect the two shared local PostgreSQL servers.

    python tests/postgres/pgctl.py start  [pgvector|plain ...]
    python tests/postgres/pgctl.py stop   [pgvector|plain ...]
    python tests/postgres/pgctl.py status [pgvector|plain ...]

pgvector  PostgreSQL 16.2 + pgvector 0.6.2 (PyPI pgserver), 127.0.0.1:55432 (SWK_PG_VECTOR_PORT)
plain     Debian postgresql-15, no pgvector, 127.0.0.1:55433 (SWK_PG_PLAIN_PORT)

Superuser swk_admin with a random password (scram-sha-256). Connection facts go to
$SWK_STATE_DIR/postgres.json (mode 0600); data to $SWK_STATE_DIR/postgres/<name>/.
`start` is idempotent; `status` exits 0 only when every named server answers.
Run with the project venv: `. hack/env.sh && python tests/postgres/pgctl.py start`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pglocal  # noqa: E402


def _log(msg: str) -> None:
    print("[postgres] %s" % msg, flush=True)


def cmd_start(names: list) -> int:
    rc = 0
    infos = {}
    for name in names:
        try:
            pg = pglocal.shared(name)
            started = pg.start()
            info = pg.info()
        except pglocal.PgLocalError as exc:
            _log("%s: FAILED: %s" % (name, exc))
            rc = 1
            continue
        infos[name] = info
        _log("%s: %s on %s:%d (PostgreSQL %s, pid %d)" % (
            name, "started" if started else "already running, nothing to do",
            info["host"], info["port"], info["server_version"], pg.pid()))
    if infos:
        path = pglocal.write_info(infos)
        _log("connection facts in %s (mode 0600)" % path)
    return rc


def cmd_stop(names: list) -> int:
    rc = 0
    for name in names:
        try:
            pg = pglocal.shared(name)
            stopped = pg.stop()
        except pglocal.PgLocalError as exc:
            _log("%s: FAILED to stop: %s" % (name, exc))
            rc = 1
            continue
        _log("%s: %s" % (name, "stopped" if stopped else "not running"))
    return rc


def _pgvector_line(pg) -> str:
    try:
        rows = pg.query("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'")
    except Exception:  # noqa: BLE001 - informational only
        return ""
    return ", pgvector %s available" % rows[0][0] if rows else ", no pgvector"


def cmd_status(names: list) -> int:
    rc = 0
    for name in names:
        pg = pglocal.shared(name)
        if not pg.initialized():
            _log("%s: not created (run start)" % name)
            rc = 1
            continue
        pid = pg.pid()
        if pid is None:
            _log("%s: stopped (data in %s)" % (name, pg.base))
            rc = 1
            continue
        port = pg.running_port() or pg.port
        pg.port = port
        try:
            version = pg.server_version()
        except Exception as exc:  # noqa: BLE001 - report, do not crash
            _log("%s: process %d runs but does not answer on %s:%d: %s"
                 % (name, pid, pglocal.HOST, port, exc))
            rc = 1
            continue
        _log("%s: running, pid %d, %s:%d, PostgreSQL %s%s"
             % (name, pid, pglocal.HOST, port, version, _pgvector_line(pg)))
    return rc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("names", nargs="*", metavar="server",
                        help="pgvector and/or plain (default: both)")
    args = parser.parse_args(argv)
    names = args.names or list(pglocal.FLAVOURS)
    unknown = [n for n in names if n not in pglocal.FLAVOURS]
    if unknown:
        parser.error("unknown server(s): %s (expected pgvector, plain)" % ", ".join(unknown))
    return {"start": cmd_start, "stop": cmd_stop, "status": cmd_status}[args.command](names)


if __name__ == "__main__":
    sys.exit(main())
