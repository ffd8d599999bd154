# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The scheduled backups as a server has them: the cron file of each service (as backup_job writes them) and
whether the installed program and every cron file are current.

Apart from ``program`` (the program's sources) on purpose: deploy_changes looks here on every deploy of every
server, and a module compiles on the server everything it imports - the backup engine is not needed for a look.
"""

from __future__ import annotations

import os

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup.schedule import backup_cron
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import program_zip
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.host_files import differs
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import cron, naming

CRON_FILE_MODE = 0o644


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
