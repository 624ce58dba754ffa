# Copyright: statewave.kubernetes contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make `ansible_collections.statewave.kubernetes` importable for pytest run from the repository:
.collections/ (made by hack/setup-python.sh) links this tree at that path."""

import sys
from pathlib import Path

COLLECTIONS = str(Path(__file__).resolve().parents[2] / ".collections")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
