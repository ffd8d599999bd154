# SPDX-License-Identifier: GPL-3.0-or-later
"""python -m do_sim serve|teardown ... (PYTHONPATH=tests/world); see do_sim/__init__.py."""
import sys

from . import main

sys.exit(main())
