"""One real message through Heddle: a task published to the router's subject
heddle.tasks.incoming for a worker (a processor needs no model), and its result read back on
NATS (heddle.results.<parent_task_id>, where workers publish results). Exits 0 when the result
is `completed` and its output contains --expect; prints one line either way (the Job's
termination message). Uses nats-py, which heddle-ai depends on.
"""
import argparse
import asyncio
import json
import sys
import uuid

import nats


async def run(args):
    nc = await nats.connect(args.nats_url, connect_timeout=5, max_reconnect_attempts=0)
    parent = "swk-verify-" + uuid.uuid4().hex[:12]
    sub = await nc.subscribe(f"heddle.results.{parent}")
    await nc.flush()
    task = {"worker_type": args.worker, "model_tier": args.tier, "parent_task_id": parent,
            "payload": json.loads(args.payload), "metadata": {"source": "statewave.kubernetes verify"}}
    await nc.publish("heddle.tasks.incoming", json.dumps(task).encode())
    try:
        msg = await sub.next_msg(timeout=args.timeout)
    except Exception:  # noqa: BLE001 - nats-py raises its own TimeoutError
        await nc.drain()
        return 1, (f"no result on heddle.results.{parent} within {args.timeout:.0f} s for a task to worker "
                   f"{args.worker} (tier {args.tier}) published to heddle.tasks.incoming")
    await nc.drain()
    result = json.loads(msg.data.decode())
    expect = json.loads(args.expect)
    output = result.get("output") or {}
    missing = {k: v for k, v in expect.items() if output.get(k) != v}
    summary = (f"task {result.get('task_id')} to {args.worker} (tier {args.tier}) via heddle.tasks.incoming: "
               f"{result.get('status')}, output {json.dumps(output, sort_keys=True)[:300]}, "
               f"model_used {result.get('model_used')}, {result.get('processing_time_ms')} ms")
    if result.get("status") != "completed":
        return 1, summary + f"; error: {result.get('error')}"
    if missing:
        return 1, summary + f"; expected output to contain {json.dumps(expect, sort_keys=True)}"
    return 0, summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nats-url", required=True)
    ap.add_argument("--worker", required=True)
    ap.add_argument("--tier", default="local")
    ap.add_argument("--payload", required=True, help="JSON object")
    ap.add_argument("--expect", default="{}", help="JSON object the output must contain")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args(argv)
    rc, line = asyncio.run(run(args))
    print(("OK: " if rc == 0 else "FAILED: ") + line, flush=True)
    try:
        with open("/dev/termination-log", "w", encoding="utf-8") as fh:
            fh.write(line[:3500])
    except OSError:
        pass
    return rc


if __name__ == "__main__":
    sys.exit(main())
