"""Start Heddle's dynamic orchestrator (OrchestratorActor) as `heddle orchestrator` means to.

heddle-ai 0.9.2's `heddle orchestrator` cannot start: it constructs OrchestratorActor without
the LLM backend the class requires, and exits with "TypeError: OrchestratorActor.__init__()
missing 1 required positional argument: 'backend'". This launcher does what that command does
(the same pre-flight, config validation, Valkey checkpoint store, subject and queue group) and
passes the backend for --tier, resolved from the environment the way `heddle worker` resolves
it (heddle.worker.backends.build_backends_from_env: ANTHROPIC_API_KEY for standard/frontier,
LM_STUDIO_URL / OLLAMA_URL for local).

Without a backend for the tier it still starts, like `heddle worker` does ("so operators can fix
the env without a restart loop"): it subscribes and every goal then fails with a message naming
what to set. Readiness says "subscribed", not "has an LLM".
"""
import argparse
import asyncio
import sys

import structlog

# Imported for its side effect: the CLI's log format (structlog configured at import).
import heddle.cli.main  # noqa: F401 pylint: disable=unused-import
from heddle.cli.preflight import check_config_readable, check_nats_connectivity
from heddle.core.config import load_config, validate_orchestrator_config
from heddle.orchestrator.runner import OrchestratorActor
from heddle.worker.backends import LLMBackend, build_backends_from_env

log = structlog.get_logger()


class MissingBackend(LLMBackend):
    """Stands where no LLM backend is configured for the tier; every call fails, naming the fix."""

    def __init__(self, tier):
        self.tier = tier

    async def complete(self, system_prompt, user_message, max_tokens=2000, temperature=0.0, *, tools=None, messages=None):
        raise RuntimeError(
            f"no LLM backend for tier '{self.tier}': set ANTHROPIC_API_KEY (standard, frontier) or "
            "LM_STUDIO_URL / OLLAMA_URL (local) in the orchestrator's environment "
            "(heddle role: heddle_api_key_secret_name, heddle_lm_studio_url, heddle_ollama_url)")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Heddle dynamic orchestrator (statewave.kubernetes launcher)")
    ap.add_argument("--config", required=True)
    ap.add_argument("--nats-url", required=True)
    ap.add_argument("--redis-url", default="", help="Valkey/Redis URL for checkpoints; empty disables them")
    ap.add_argument("--tier", default="standard", choices=["local", "standard", "frontier"])
    args = ap.parse_args(argv)

    ok, msg = check_config_readable(args.config)
    if not ok:
        print(f"Pre-flight FAIL: {msg}", file=sys.stderr)
        return 1
    ok, msg = asyncio.run(check_nats_connectivity(args.nats_url))
    if not ok:
        print(f"Pre-flight FAIL: {msg}", file=sys.stderr)
        return 1
    print(f"Pre-flight OK: {msg}", file=sys.stderr)

    cfg = load_config(args.config)
    errors = validate_orchestrator_config(cfg, args.config)
    if errors:
        for err in errors:
            log.error("orchestrator.config_error", error=err)
        return 1

    checkpoint_store = None
    if args.redis_url:
        from heddle.contrib.redis.store import RedisCheckpointStore
        checkpoint_store = RedisCheckpointStore(args.redis_url)

    backend = build_backends_from_env().get(args.tier)
    if backend is None:
        log.warning("orchestrator.no_backend_for_tier", tier=args.tier,
                    hint="goals fail until ANTHROPIC_API_KEY or LM_STUDIO_URL / OLLAMA_URL is set")
        backend = MissingBackend(args.tier)

    actor = OrchestratorActor(
        actor_id=f"orchestrator-{cfg['name']}",
        config_path=args.config,
        backend=backend,
        nats_url=args.nats_url,
        checkpoint_store=checkpoint_store,
    )
    log.info("orchestrator.starting", name=cfg["name"], tier=args.tier, nats_url=args.nats_url,
             checkpointing="enabled" if checkpoint_store else "disabled")
    asyncio.run(actor.run("heddle.goals.incoming", queue_group="orchestrators"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
