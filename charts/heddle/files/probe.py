"""Readiness and liveness of one Heddle actor, asked of the NATS server it talks to.

Heddle actors (router, orchestrators, workers, processors) have no HTTP port and no health file;
what can be observed from outside is what the NATS server knows about them. The monitoring
endpoint /connz?subs=detail lists every client connection with its address and subscriptions, so
this probe asks it whether a connection from THIS pod's IP (POD_IP / POD_IPS from the downward
API) holds the actor's subscription (subject and queue group). Standard library only.

  readiness: ok when NATS lists this pod's connection with the subscription; fails when NATS
             cannot be asked, lists no connection from this pod, or the subscription is missing;
             with --redis-url also when Valkey does not answer PING (the orchestrator's
             checkpoint store).
  liveness:  fails only when NATS answers and lists no such subscription from this pod (the
             actor lost its connection and did not get it back: restart it). When NATS itself
             cannot be asked it passes: restarting actors does not bring NATS back.
"""
import argparse
import json
import os
import socket
import sys
import urllib.parse
import urllib.request


def _connections(monitor_url, timeout):
    conns, offset = [], 0
    while True:
        url = f"{monitor_url.rstrip('/')}/connz?subs=detail&limit=1024&offset={offset}"
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            page = json.load(resp)
        batch = page.get("connections") or []
        conns.extend(batch)
        offset += len(batch)
        if not batch or offset >= int(page.get("total", 0)):
            return conns


def _norm(ip):
    ip = (ip or "").strip()
    return ip[7:] if ip.startswith("::ffff:") else ip


def _redis_ping(url, timeout):
    parsed = urllib.parse.urlparse(url)
    with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=timeout) as sock:
        sock.sendall(b"PING\r\n")
        reply = sock.recv(64)
    if not reply.startswith(b"+PONG"):
        raise RuntimeError(f"answered {reply.decode(errors='replace').strip()!r} to PING")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["readiness", "liveness"], required=True)
    ap.add_argument("--monitor-url", required=True, help="NATS monitoring URL, e.g. http://heddle-nats:8222")
    ap.add_argument("--subject", required=True)
    ap.add_argument("--queue", default="")
    ap.add_argument("--redis-url", default="", help="readiness also PINGs this Redis-protocol server")
    ap.add_argument("--timeout", type=float, default=3.0)
    args = ap.parse_args(argv)

    ips = {_norm(ip) for ip in [os.environ.get("POD_IP", "")] + os.environ.get("POD_IPS", "").split(",")} - {""}
    if not ips:
        print("POD_IP is not set (the chart passes it from the downward API)")
        return 1
    want = f"{args.subject} (queue {args.queue or 'none'})"
    try:
        conns = _connections(args.monitor_url, args.timeout)
    except Exception as exc:  # noqa: BLE001 - any failure to ask NATS means "cannot tell"
        msg = f"NATS monitoring {args.monitor_url} did not answer: {exc}"
        if args.mode == "liveness":
            print(f"cannot tell ({msg}); not restarting this actor for NATS's outage")
            return 0
        print(msg)
        return 1
    mine = [c for c in conns if _norm(c.get("ip")) in ips]
    subs = {(s.get("subject"), s.get("qgroup", "") or "")
            for c in mine for s in (c.get("subscriptions_list_detail") or [])}
    if not mine:
        print(f"NATS lists no connection from this pod ({', '.join(sorted(ips))}) among {len(conns)}: "
              f"the actor is not connected")
        return 1
    if (args.subject, args.queue) not in subs:
        print(f"connected, but not subscribed to {want}; subscriptions: {sorted(subs)}")
        return 1
    if args.redis_url and args.mode == "readiness":
        try:
            _redis_ping(args.redis_url, args.timeout)
        except Exception as exc:  # noqa: BLE001
            print(f"subscribed to {want}, but the checkpoint store {args.redis_url} did not answer PING: {exc}")
            return 1
    print(f"ok: subscribed to {want}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
