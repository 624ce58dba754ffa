"""Init container of every Heddle actor: wait until NATS (and, for the orchestrator, Valkey)
answer, so that actors never start against a bus that is not there (the heddle CLI's own
pre-flight connects once with a 5 s timeout and exits, which crash-loops pods on a first deploy).

  --nats-monitor-url  waits for GET <url>/healthz to answer 200
  --redis-url         waits for PING to answer +PONG
No deadline: the pod shows Init:0/1 until they answer. Standard library only.
"""
import argparse
import socket
import sys
import time
import urllib.parse
import urllib.request


def _nats(url, timeout):
    with urllib.request.urlopen(f"{url.rstrip('/')}/healthz", timeout=timeout) as resp:
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}")


def _redis(url, timeout):
    parsed = urllib.parse.urlparse(url)
    with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=timeout) as sock:
        sock.sendall(b"PING\r\n")
        reply = sock.recv(64)
    if not reply.startswith(b"+PONG"):
        raise RuntimeError(f"answered {reply.decode(errors='replace').strip()!r}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nats-monitor-url", required=True)
    ap.add_argument("--redis-url", default="")
    ap.add_argument("--interval", type=float, default=2.0)
    args = ap.parse_args(argv)
    checks = [("NATS " + args.nats_monitor_url, lambda: _nats(args.nats_monitor_url, 3))]
    if args.redis_url:
        checks.append(("Valkey " + args.redis_url, lambda: _redis(args.redis_url, 3)))
    started, last_report = time.monotonic(), 0.0
    while True:
        waiting = []
        for name, check in checks:
            try:
                check()
            except Exception as exc:  # noqa: BLE001
                waiting.append(f"{name}: {exc}")
        if not waiting:
            print(f"ready after {time.monotonic() - started:.0f} s: " + ", ".join(check[0] for check in checks), flush=True)
            return 0
        if time.monotonic() - last_report >= 10:
            print("waiting for " + "; ".join(waiting), flush=True)
            last_report = time.monotonic()
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
