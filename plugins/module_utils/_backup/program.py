# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The scheduled backup program (the zip cron runs) and its cron files, as the backup_job module installs them.

The module installs them; deploy_changes only looks whether what is installed is current (``is_current``), so a
deploy runs backup_job only when something differs; the controller gives it the program's sources digest
(the ``program_digest`` filter), as the module here carries the same sources.
"""

from __future__ import annotations

import os

# The program is made of these modules (and what they import from the collection): importing them here makes
# Ansible carry them to the host with every module that imports this one.
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import engine, files, job, postgres, redis
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import docker, program_zip
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import auth, cron, naming, schema, sizes
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup.schedule import backup_cron
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.host_files import differs

LIBRARY = (job, engine, files, postgres, redis, naming, docker, cron, schema, sizes, auth)
MAIN = '''# The scheduled backup of projectdeployer.fleet (see the backup_job module).
import sys
from %s import main
raise SystemExit(main(sys.argv[1:]))
''' % job.__name__
CRON_FILE_MODE = 0o644


def sources():
    """(path in the zip, text) of every file the program needs, the package __init__ files included."""
    return program_zip.sources(LIBRARY, MAIN)


def sources_digest():
    """The digest ``program_zip.build_zip`` writes in the program's zip comment."""
    return program_zip.sources_digest(sources())


def schedule_files(schedules, command, user, project, env, fleet_root, docker_host, cron_dir):
    """``[(path, content)]``: the cron file of each service of ``schedules`` (name -> spec keys ``type``,
    ``backup_schedule``, ``backup_keep``) running ``command`` (the program's command line)."""
    wanted = []
    project_dir = os.path.join(fleet_root, user, project, env)
    for service, spec in sorted(schedules.items()):
        naming.check_ids(user=user, project=project, env=env, service=service)
        if not isinstance(spec, dict) or spec.get('type') not in ('postgres', 'redis', 'opensearch') or not spec.get('backup_schedule'):
            raise ValueError('schedules: %s needs type postgres, redis or opensearch and a backup_schedule' % service)
        wanted.append(backup_cron(command, user, project, env, service, spec['type'], int(spec.get('backup_keep') or 7),
                                  cron.cron_fields(spec['backup_schedule']), fleet_root, project_dir, docker_host,
                                  cron_dir))
    return wanted


def is_current(path, digest, files):
    """Whether the program at ``path`` was built from sources of ``digest`` and every cron file of ``files``
    (``schedule_files``) holds exactly its content and mode: then backup_job would change nothing."""
    return (program_zip.installed_sources_digest(path) == digest
            and not any(differs(p, c, CRON_FILE_MODE) for p, c in files))
