# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real chart sources on 127.0.0.1 for the release role's tests, each made from the contract
chart (tests/fixtures/charts/statewave) inside the test's tmp directory and removed after it:

* ``git_chart_repo``: a local git repository with the chart at helm/statewave, one commit.
* ``chart_repo_server``: ``helm package`` + ``helm repo index``, served by Python's http.server.
* ``oci_registry``: the CNCF distribution registry (built once from the Go module proxy into
  $SWK_CACHE_DIR/bin/registry-<version> by ``tests/cluster/build.sh registry``), with
  TLS from a throwaway CA; ``helm push`` puts the packaged chart into it. Helm is told to trust
  the CA through SSL_CERT_FILE, so the role needs no insecure or plain-HTTP switch.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import http.server
import ipaddress
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import yaml

from helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "tests" / "fixtures" / "charts" / "statewave"


class SourceUnavailable(Exception):
    """A tool a chart source needs (git, go, the registry build) is missing or failed."""


def run(*args, cwd=None, env=None, timeout=600):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise AssertionError("%s failed (%s):\n%s" % (" ".join(map(str, args)), proc.returncode, proc.stdout[-3000:]))
    return proc.stdout


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chart_copy(dest, app_version=None):
    """A copy of the contract chart at dest, optionally with another appVersion."""
    shutil.copytree(CHART, dest)
    if app_version is not None:
        meta_file = Path(dest) / "Chart.yaml"
        meta = yaml.safe_load(meta_file.read_text(encoding="utf-8"))
        meta["appVersion"] = app_version
        meta_file.write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return Path(dest)


def package_chart(dest_dir):
    """helm package of the contract chart into dest_dir; returns the .tgz path."""
    Path(dest_dir).mkdir(parents=True, exist_ok=True)
    run("helm", "package", CHART, "--destination", dest_dir)
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    return Path(dest_dir) / ("%s-%s.tgz" % (meta["name"], meta["version"]))


# ------------------------------------------------------------------------------------ git


def git_chart_repo(base):
    """A git repository at base/statewave.git with the chart at helm/statewave; returns (url, commit)."""
    git = shutil.which("git")
    if not git:
        raise SourceUnavailable("git is not on PATH")
    repo = Path(base) / "statewave.git"
    chart_copy(repo / "helm" / "statewave")
    env = dict(os.environ, GIT_AUTHOR_NAME="swk test", GIT_AUTHOR_EMAIL="swk@example.invalid",
               GIT_COMMITTER_NAME="swk test", GIT_COMMITTER_EMAIL="swk@example.invalid")
    run(git, "init", "--quiet", repo, env=env)
    run(git, "add", "--all", cwd=repo, env=env)
    run(git, "commit", "--quiet", "--message", "chart", cwd=repo, env=env)
    commit = run(git, "rev-parse", "HEAD", cwd=repo, env=env).strip()
    return "file://%s" % repo, commit


# ------------------------------------------------------------------------------- helm repo


@contextlib.contextmanager
def chart_repo_server(base):
    """A Helm repository (index.yaml + the packaged chart) on http://127.0.0.1:<port>."""
    root = Path(base) / "helm-repo"
    package_chart(root)
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    run("helm", "repo", "index", root, "--url", url)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        return


# ------------------------------------------------------------------------------ OCI registry


def registry_binary():
    """The registry binary: tests/cluster/build.sh registry builds it once from the Go module proxy
    (a few minutes on 2 cores; the test command's build stage does it) and prints its path."""
    try:
        out = run("bash", ROOT / "tests" / "cluster" / "build.sh", "registry", timeout=3600)
    except AssertionError as exc:
        raise SourceUnavailable("building the OCI registry (tests/cluster/build.sh registry) failed: %s" % exc) from exc
    return Path(out.strip().splitlines()[-1])


def _throwaway_ca(base):
    """A CA and a server certificate for 127.0.0.1; returns (ca_file, cert_file, key_file)."""
    # cryptography comes with ansible-core, so it is in the test venv.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(subject, issuer, public_key, signing_key, ca):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                            critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "swk test CA")])
    ca_cert = cert(ca_name, ca_name, ca_key.public_key(), ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    server_cert = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name, key.public_key(), ca_key, False)
    files = (Path(base) / "ca.pem", Path(base) / "server.pem", Path(base) / "server-key.pem")
    files[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    os.chmod(str(files[2]), 0o600)
    return files


@contextlib.contextmanager
def oci_registry(base):
    """A registry on https://127.0.0.1:<port> holding the chart at oci://127.0.0.1:<port>/charts/statewave.

    Yields {"ref": the chart's oci:// reference, "ca_file": the CA to trust (SSL_CERT_FILE)}.
    """
    binary = registry_binary()
    base = Path(base) / "oci"
    base.mkdir(parents=True)
    ca_file, cert_file, key_file = _throwaway_ca(base)
    port = free_port()
    config = base / "config.yml"
    config.write_text(yaml.safe_dump({
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(base / "data")}, "delete": {"enabled": True}},
        "http": {"addr": "127.0.0.1:%d" % port, "tls": {"certificate": str(cert_file), "key": str(key_file)}},
    }), encoding="utf-8")
    log = open(str(base / "registry.log"), "w", encoding="utf-8")  # pylint: disable=consider-using-with
    proc = subprocess.Popen([str(binary), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    env = dict(os.environ, SSL_CERT_FILE=str(ca_file), HELM_REGISTRY_CONFIG=str(base / "registry-config.json"))
    try:
        def answers():
            if proc.poll() is not None:
                raise AssertionError("the registry exited (%s): %s" % (proc.returncode, (base / "registry.log").read_text()))
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
            return False
        wait_for(answers, "the OCI registry on 127.0.0.1:%d" % port, bound=60, step=0.2)
        run("helm", "push", package_chart(base / "package"), "oci://127.0.0.1:%d/charts" % port, env=env)
        yield {"ref": "oci://127.0.0.1:%d/charts/statewave" % port, "ca_file": str(ca_file), "env": env}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
