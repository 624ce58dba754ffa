#!/usr/bin/env bash
# prepare.sh <build context>: unpack PostgreSQL (pgserver/pginstall: bin, lib, share) and the
# libraries the wheel vendors (pgserver.libs, found through the binaries' RPATH
# $ORIGIN/../../../pgserver.libs) from the pgserver wheel into <context>/pgserver-root, keeping
# the wheel's layout so that the RPATH resolves in the image too.
set -euo pipefail
ctx=$1
python3 - "$ctx" <<'PY'
import glob, os, sys, zipfile
ctx = sys.argv[1]
wheel = glob.glob(os.path.join(ctx, "wheels", "pgserver-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if info.is_dir() or not name.startswith(("pgserver/pginstall/", "pgserver.libs/")):
            continue
        if name.startswith("pgserver/pginstall/include/"):
            continue
        dest = os.path.join(ctx, "pgserver-root", name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, "wb") as out:
            out.write(src.read())
        mode = info.external_attr >> 16
        os.chmod(dest, mode & 0o777 if mode else 0o644)
PY
rm -rf "$ctx/wheels"
