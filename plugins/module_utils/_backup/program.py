# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The scheduled backup program (the zip cron runs), as the backup_job module installs it.

Its cron files, and the look whether what a server has is current, are in ``installed``: deploy_changes looks
there on every deploy without carrying the program's sources; the controller gives it their digest (the
``program_digest`` filter), as backup_job here carries the same sources.
"""

from __future__ import annotations

# The program is made of these modules (and what they import from the collection): importing them here makes
# Ansible carry them to the host with every module that imports this one.
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import engine, files, job, postgres, redis
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import docker, program_zip
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import auth, cron, naming, schema, sizes

LIBRARY = (job, engine, files, postgres, redis, naming, docker, cron, schema, sizes, auth)
MAIN = '''# The scheduled backup of projectdeployer.fleet (see the backup_job module).
import sys
from %s import main
raise SystemExit(main(sys.argv[1:]))
''' % job.__name__


def sources():
    """(path in the zip, text) of every file the program needs, the package __init__ files included."""
    return program_zip.sources(LIBRARY, MAIN)


def sources_digest():
    """The digest ``program_zip.build_zip`` writes in the program's zip comment."""
    return program_zip.sources_digest(sources())
