# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection against raw helm, measured on one cluster (hack/bench.sh runs this).

Each run measures site.yml and its baseline back to back, so both see the same machine:

  first deploy   site.yml into a new namespace (inventories/local, names of its own)
                 vs psql (CREATE ROLE, DATABASE, EXTENSION vector) + kubectl (namespace, DSN
                 Secret) + helm install --wait of the same chart with the values site.yml gave it
  no-op re-run   site.yml again (changed=0, no new revision)
                 vs helm upgrade --install --wait (same chart and values; writes a revision)
                 vs a one-task kubernetes.core.helm playbook (same chart and values)
  clusters       site.yml on 1, 3, 5 hosts in one run (one namespace and database per host, all
                 on this cluster): first deploy and no-op re-run, and each against 1 host
  where the time goes: one more no-op re-run with the ansible.posix profile_roles and
                 profile_tasks callbacks (not counted in the medians)

It prints medians of the runs (each run's figures in brackets) and ratios; no verdicts.
Everything it creates (namespaces, releases, roles, databases) is removed after each run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "tests" / "fixtures" / "charts" / "statewave"
LOCAL_INVENTORY = ROOT / "inventories" / "local"
sys.path.insert(0, str(ROOT / "tests" / "postgres"))

import pglocal  # noqa: E402

RECAP_RE = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)
TIMING_RE = re.compile(r"^(.*?) -+ ?(\d+\.\d+)s$")


class BenchError(RuntimeError):
    pass


class Bench:
    def __init__(self, args):
        self.args = args
        self.kubeconfig = Path(args.kubeconfig or os.environ["SWK_KUBECONFIG"]).resolve()
        self.context = args.context or ""
        self.admin = pglocal.read_info()["pgvector"]
        self.tmp = Path(tempfile.mkdtemp(prefix="swk-bench-"))
        os.chmod(self.tmp, 0o700)
        self.psql = str(pglocal.bindir_for("pgserver") / "psql")
        self.env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_FORCE_COLOR="0", PYTHONUNBUFFERED="1")
        self.cleanups = []

    # -- tools ---------------------------------------------------------------------------------
    def sh(self, argv, stdin=None, env=None, check=True):
        proc = subprocess.run([str(a) for a in argv], input=stdin, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, env=env or self.env, cwd=str(ROOT), check=False, timeout=1800)
        if check and proc.returncode != 0:
            raise BenchError("%s failed (rc %d):\n%s" % (" ".join(map(str, argv[:4])), proc.returncode, proc.stdout[-4000:]))
        return proc

    def kube_args(self):
        return ["--kubeconfig", self.kubeconfig] + (["--context", self.context] if self.context else [])

    def kubectl(self, *args, stdin=None, check=True):
        return self.sh(["kubectl"] + self.kube_args() + list(args), stdin=stdin, check=check)

    def helm(self, ns, *args, check=True):
        ctx = ["--kube-context", self.context] if self.context else []
        return self.sh(["helm", "--kubeconfig", self.kubeconfig] + ctx + ["-n", ns] + list(args), check=check)

    def vars_file(self, data):
        path = self.tmp / ("vars-%s.json" % uuid.uuid4().hex[:8])
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        return path

    def playbook(self, playbook, inventory, extra=None, env=None):
        argv = ["ansible-playbook", "-i", inventory, playbook]
        if extra:
            argv += ["-e", "@%s" % self.vars_file(extra)]
        started = time.monotonic()
        proc = self.sh(argv, env=dict(self.env, **(env or {})), check=False)
        elapsed = time.monotonic() - started
        if proc.returncode != 0:
            raise BenchError("ansible-playbook %s failed:\n%s" % (playbook, proc.stdout[-6000:]))
        recaps = {m.group(1): dict(zip(("ok", "changed", "unreachable", "failed", "skipped"), map(int, m.groups()[1:])))
                  for m in RECAP_RE.finditer(proc.stdout)}
        return elapsed, recaps, proc.stdout

    def timed(self, fn):
        started = time.monotonic()
        fn()
        return time.monotonic() - started

    # -- the objects of one deployment ---------------------------------------------------------------
    def names(self, kind):
        suffix = "%s%s" % (kind, uuid.uuid4().hex[:6])
        names = {"ns": "swk-bench-%s" % suffix, "db": "swb_%s" % suffix}
        self.cleanups.append(names)
        return names

    def site_vars(self, names):
        return {"statewave_namespace": names["ns"], "statewave_kubeconfig": str(self.kubeconfig),
                "statewave_kube_context": self.context, "pgvector_app_user": names["db"],
                "pgvector_app_database": names["db"], "preflight_db_name": names["db"],
                "preflight_db_app_role": names["db"]}

    def admin_sql(self, sql, dbname="postgres"):
        env = dict(self.env, PGPASSWORD=self.admin["admin_password"])
        self.sh([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.admin["host"], "-p", self.admin["port"],
                 "-U", self.admin["admin_user"], "-d", dbname, "-c", sql], env=env)

    def cleanup(self):
        for names in self.cleanups:
            self.helm(names["ns"], "uninstall", "statewave", "--wait", check=False)
            self.kubectl("delete", "namespace", names["ns"], "--ignore-not-found", "--wait=false", check=False)
            try:
                self.admin_sql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % names["db"])
                self.admin_sql('DROP ROLE IF EXISTS "%s"' % names["db"])
            except BenchError as exc:
                print("[bench] cleanup of %s: %s" % (names["db"], exc), file=sys.stderr)
        self.cleanups = []

    # -- the baselines -------------------------------------------------------------------------
    def raw_first_deploy(self, names, values_file):
        """What site.yml replaces, by hand: the database with psql, the namespace and DSN Secret
        with kubectl, the release with helm install --wait."""
        password = uuid.uuid4().hex
        db = names["db"]
        self.admin_sql("CREATE ROLE \"%s\" LOGIN PASSWORD '%s'" % (db, password))
        self.admin_sql('CREATE DATABASE "%s" OWNER "%s"' % (db, db))
        self.admin_sql("CREATE EXTENSION IF NOT EXISTS vector", dbname=db)
        self.kubectl("create", "namespace", names["ns"])
        dsn = "postgresql+asyncpg://%s:%s@%s:%s/%s" % (db, password, self.admin["host"], self.admin["port"], db)
        secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                  "metadata": {"name": "statewave-database", "namespace": names["ns"]},
                  "stringData": {"STATEWAVE_DATABASE_URL": dsn}}
        self.kubectl("apply", "-f", "-", stdin=json.dumps(secret))
        self.helm(names["ns"], "install", "statewave", CHART, "-f", values_file, "--wait", "--timeout", "300s")

    def one_task_playbook(self):
        path = self.tmp / "one-task-helm.yml"
        if not path.exists():
            path.write_text("""---
- name: One kubernetes.core.helm task
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Install or upgrade the release
      kubernetes.core.helm:
        kubeconfig: "{{ bench_kubeconfig }}"
        context: "{{ bench_context | default(omit, true) }}"
        release_name: statewave
        release_namespace: "{{ bench_namespace }}"
        chart_ref: "{{ bench_chart }}"
        release_values: "{{ lookup('ansible.builtin.file', bench_values) | ansible.builtin.from_json }}"
        wait: true
""")
        return path

    # -- one run -------------------------------------------------------------------------------
    def run_single(self, profile):
        site_names, raw_names = self.names("s"), self.names("r")
        site = str(ROOT / "playbooks" / "site.yml")
        out = {}
        out["site_first"], recaps, unused_output = self.playbook(site, LOCAL_INVENTORY, self.site_vars(site_names))
        values = json.loads(self.helm(site_names["ns"], "get", "values", "statewave", "-o", "json").stdout)
        values_file = self.tmp / ("values-%s.json" % site_names["ns"])
        values_file.write_text(json.dumps(values))
        out["raw_first"] = self.timed(lambda: self.raw_first_deploy(raw_names, values_file))

        out["site_noop"], recaps, unused_output = self.playbook(site, LOCAL_INVENTORY, self.site_vars(site_names))
        out["site_noop_recap"] = recaps.get("local", {})
        revisions = json.loads(self.helm(site_names["ns"], "history", "statewave", "-o", "json").stdout)
        out["site_noop_revisions"] = len(revisions)
        out["raw_noop"] = self.timed(lambda: self.helm(
            raw_names["ns"], "upgrade", "--install", "statewave", CHART, "-f", values_file, "--wait", "--timeout", "300s"))
        one = {"bench_kubeconfig": str(self.kubeconfig), "bench_context": self.context, "bench_namespace": raw_names["ns"],
               "bench_chart": str(CHART), "bench_values": str(values_file)}
        out["helm_task"], recaps, unused_output = self.playbook(self.one_task_playbook(), "localhost,", one)
        out["helm_task_recap"] = recaps.get("localhost", {})
        if profile:
            env = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_roles,ansible.posix.profile_tasks",
                   "PROFILE_TASKS_SUMMARY_ONLY": "true", "PROFILE_ROLES_SUMMARY_ONLY": "true",
                   "PROFILE_TASKS_TASK_OUTPUT_LIMIT": str(self.args.slowest)}
            unused_elapsed, recaps, stdout = self.playbook(site, LOCAL_INVENTORY, self.site_vars(site_names), env=env)
            out["profile"] = parse_profile(stdout)
            out["profile_recap"] = recaps.get("local", {})
        self.cleanup()
        return out

    def inventory_for(self, count):
        """A copy of the local inventory with `count` cluster hosts, each deploying into a
        namespace and database of its own on this cluster (as inventories/multicluster does
        with one cluster per host)."""
        inv = self.tmp / ("inventory-%d-%s" % (count, uuid.uuid4().hex[:6]))
        (inv / "group_vars" / "all").mkdir(parents=True)
        (inv / "host_vars").mkdir()
        for path in sorted((LOCAL_INVENTORY / "group_vars" / "all").glob("*.yml")):
            text = path.read_text().replace("{{ inventory_dir }}/../..", str(ROOT))
            (inv / "group_vars" / "all" / path.name).write_text(text)
        hosts = {}
        for i in range(count):
            host = "cluster-%d" % (i + 1)
            hosts[host] = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
            host_vars = inv / "host_vars" / ("%s.yml" % host)
            fd = os.open(str(host_vars), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(self.site_vars(self.names("h")), fh)
        (inv / "hosts.yml").write_text(json.dumps({"statewave_clusters": {"hosts": hosts}}))
        return inv

    def run_clusters(self, count):
        inv = self.inventory_for(count)
        site = str(ROOT / "playbooks" / "site.yml")
        first, recaps, unused_output = self.playbook(site, inv)
        noop, recaps, unused_output = self.playbook(site, inv)
        changed = sum(r["changed"] for r in recaps.values())
        self.cleanup()
        shutil.rmtree(inv, ignore_errors=True)
        return {"first": first, "noop": noop, "noop_changed": changed, "hosts": len(recaps)}


def parse_profile(stdout):
    """{'roles': [(name, s)], 'tasks': [(name, s)]} from the ROLES RECAP and TASKS RECAP blocks."""
    found = {"roles": [], "tasks": []}
    section = None
    for line in stdout.splitlines():
        if line.startswith("ROLES RECAP"):
            section = "roles"
            continue
        if line.startswith("TASKS RECAP"):
            section = "tasks"
            continue
        if section is None or line.startswith("=") or not line.strip():
            continue
        match = TIMING_RE.match(line.rstrip())
        if match:
            found[section].append((match.group(1).strip(), float(match.group(2))))
        elif found[section] and not line.startswith(" "):
            section = None
    return found


def med(values):
    return statistics.median(values)


def fmt_runs(values):
    return "[%s]" % ", ".join("%.1f" % v for v in values)


def report(args, singles, clusters, load_before, load_after):
    p = print
    p("")
    p("statewave.kubernetes benchmark (hack/bench.sh): %d run(s), %s" % (args.runs, time.strftime("%Y-%m-%d %H:%M %Z")))
    p("machine: %d cores, %s, Python %s; load average before %.2f, after %.2f" % (
        os.cpu_count(), platform.machine(), platform.python_version(), load_before, load_after))
    p("cluster: %s%s" % (args.kubeconfig or "the local control plane (kwok: pods are simulated, nothing runs in them)",
                         (" context " + args.context) if args.context else ""))
    p("ansible.cfg: %s" % ", ".join("%s=%s" % kv for kv in ansible_settings()))
    p("median of the runs [each run], seconds of wall time per command")
    p("")
    if singles:
        rows = [
            ("first deploy", "site.yml (inventories/local, new namespace)", "site_first"),
            ("", "raw: psql + kubectl + helm install --wait", "raw_first"),
            ("no-op re-run", "site.yml (same inventory again)", "site_noop"),
            ("", "raw: helm upgrade --install --wait", "raw_noop"),
            ("", "one-task kubernetes.core.helm playbook", "helm_task"),
        ]
        for label, what, key in rows:
            values = [s[key] for s in singles]
            p("%-14s %-48s %7.1f s  %s" % (label, what, med(values), fmt_runs(values)))
        p("")
        for label, a, b in (("first deploy: site.yml / raw", "site_first", "raw_first"),
                            ("no-op: site.yml / helm upgrade --install", "site_noop", "raw_noop"),
                            ("no-op: site.yml / one-task kubernetes.core.helm", "site_noop", "helm_task")):
            ratios = [s[a] / s[b] for s in singles]
            diffs = [s[a] - s[b] for s in singles]
            p("%-50s %5.2fx  %s   difference %+.1f s  %s" % (label, med(ratios), fmt_runs(ratios), med(diffs), fmt_runs(diffs)))
        last = singles[-1]
        p("")
        p("no-op re-run of site.yml: ok=%(ok)s changed=%(changed)s skipped=%(skipped)s (last run); " % last["site_noop_recap"]
          + "release revisions after it: %d; one-task helm playbook changed=%s"
          % (last["site_noop_revisions"], last["helm_task_recap"].get("changed")))
    if clusters:
        p("")
        p("clusters (hosts) in one site.yml run, one namespace and database each on this cluster (forks %s):" % forks())
        base = clusters.get(1)
        for count, runs in sorted(clusters.items()):
            first = [r["first"] for r in runs]
            noop = [r["noop"] for r in runs]
            line = "%d host(s)  first deploy %6.1f s %s   no-op %6.1f s %s   changed on no-op %d" % (
                count, med(first), fmt_runs(first), med(noop), fmt_runs(noop), runs[-1]["noop_changed"])
            if base and count != 1:
                rf = [r["first"] / b["first"] for r, b in zip(runs, base)]
                rn = [r["noop"] / b["noop"] for r, b in zip(runs, base)]
                line += "   vs 1 host: first %.2fx %s, no-op %.2fx %s" % (med(rf), fmt_runs(rf), med(rn), fmt_runs(rn))
            p(line)
    profiled = [s for s in singles if "profile" in s]
    if profiled:
        prof = profiled[-1]["profile"]
        p("")
        p("where the time goes: one more no-op re-run of site.yml with profile_roles and profile_tasks "
          "(ok=%(ok)s skipped=%(skipped)s)" % profiled[-1]["profile_recap"])
        total = sum(secs for unused_name, secs in prof["roles"])
        p("  per role (sum %.1f s):" % total)
        for name, secs in prof["roles"]:
            p("    %-60s %6.2f s  %4.1f%%" % (name, secs, 100 * secs / total if total else 0))
        p("  slowest %d tasks:" % len(prof["tasks"]))
        for name, secs in prof["tasks"]:
            p("    %-90s %6.2f s" % (name[:90], secs))


def ansible_settings():
    proc = subprocess.run(["ansible-config", "dump", "--only-changed", "--format", "json"], cwd=str(ROOT),
                          env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")), stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, check=False)
    wanted = {"ANSIBLE_PIPELINING": "pipelining", "DEFAULT_FORKS": "forks", "DEFAULT_STRATEGY": "strategy",
              "DEFAULT_STRATEGY_PLUGIN_PATH": "strategy_plugins"}
    found = {}
    try:
        for item in json.loads(proc.stdout):
            if item.get("name") in wanted:
                found[wanted[item["name"]]] = item.get("value")
    except ValueError:
        pass
    found.setdefault("pipelining", "False")
    found.setdefault("forks", forks())
    return sorted(found.items())


def forks():
    proc = subprocess.run(["ansible-config", "dump", "--format", "json"], cwd=str(ROOT),
                          env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")), stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, check=False)
    try:
        return next(str(i["value"]) for i in json.loads(proc.stdout) if i.get("name") == "DEFAULT_FORKS")
    except (ValueError, StopIteration):
        return "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (the median is printed; default 3)")
    parser.add_argument("--hosts", default="1,3,5", help="host counts for the clusters measurement ('' skips it)")
    parser.add_argument("--no-single", action="store_true", help="skip the first deploy / no-op comparisons")
    parser.add_argument("--slowest", type=int, default=12, help="how many of the slowest tasks to list")
    parser.add_argument("--kubeconfig", default=os.environ.get("SWK_BENCH_KUBECONFIG", ""),
                        help="another cluster's kubeconfig (default: the local control plane's)")
    parser.add_argument("--context", default=os.environ.get("SWK_BENCH_CONTEXT", ""), help="its context")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    counts = [int(c) for c in args.hosts.split(",") if c.strip()]
    bench = Bench(args)
    load_before = os.getloadavg()[0]
    singles, clusters = [], {}
    try:
        for run in range(args.runs):
            if not args.no_single:
                print("[bench] run %d/%d: first deploy, no-op re-run and their baselines" % (run + 1, args.runs), flush=True)
                singles.append(bench.run_single(profile=run == args.runs - 1))
            for count in counts:
                print("[bench] run %d/%d: %d host(s) in one run" % (run + 1, args.runs, count), flush=True)
                clusters.setdefault(count, []).append(bench.run_clusters(count))
    except BenchError as exc:
        print("[bench] FAILED: %s" % exc, file=sys.stderr)
        return 1
    finally:
        bench.cleanup()
        shutil.rmtree(bench.tmp, ignore_errors=True)
    report(args, singles, clusters, load_before, os.getloadavg()[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
