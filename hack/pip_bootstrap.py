# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for ansible-test's pip bootstrap script, using the package index only.

ansible-test creates each sanity venv without pip and then runs a get-pip script it downloads
from a host outside the package registries (unreachable on our machines). hack/test.sh puts
this file where ansible-test caches that script. It receives the same arguments (pip install
options and the pinned packages, e.g. pip==24.2), installs the pip bundled with CPython
(ensurepip) and lets that pip install the pinned packages from PyPI.
"""

import subprocess
import sys

BOOTSTRAP_ONLY = ("--no-setuptools", "--no-wheel")


def main():
    args = [arg for arg in sys.argv[1:] if arg not in BOOTSTRAP_ONLY]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
