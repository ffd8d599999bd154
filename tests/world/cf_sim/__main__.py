# SPDX-License-Identifier: GPL-3.0-or-later
"""python -m cf_sim --state-dir DIR --zone NAME ... (PYTHONPATH=tests/world); see cf_sim/__init__.py."""
import sys

from . import main

sys.exit(main())
