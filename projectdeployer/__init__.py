# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer: the seed's Python API (``ProjectDeployer``, ``ResourceResolver``) and the ``fleet`` command,
over the playbooks of the projectdeployer.fleet collection (docs/python.md, docs/cli.md)."""

from __future__ import annotations

from projectdeployer.deployer import ProjectDeployer
from projectdeployer.errors import FleetError

try:
    from projectdeployer_resolver import ResourceResolver
except ImportError:   # a checkout used without pip install: the resolver's source is beside this package
    import os as _os
    import sys as _sys
    _sys.path.append(_os.path.join(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))), 'resolver'))
    from projectdeployer_resolver import ResourceResolver

__all__ = ['ProjectDeployer', 'ResourceResolver', 'FleetError']
