# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cron file of a database service's scheduled backup (backup_job writes it)."""

from __future__ import annotations

import shlex

CRON_DIR = '/etc/cron.d'


def backup_cron(command, user, project, env, service, kind, keep, fields, fleet_root, project_dir, docker_host,
                cron_dir=CRON_DIR):
    """``(path, content)`` of the cron file that backs ``service`` up at ``fields`` (the five schedule fields).

    cron runs ``command`` (the backup program) as root, one run at a time per service (flock), its output
    appended to ``logs/backup/{service}.log``. The content is what ansible.builtin.cron writes for one entry
    of a cron file, so files it wrote before stay as they are."""
    if len(fields) != 5:
        raise ValueError('%s: a backup schedule has five fields, got %r' % (service, fields))
    tenant = '%s_%s_%s' % (user, project, env)
    logs = '%s/logs/backup' % project_dir
    argv = ['--fleet-root', fleet_root, '--user', user, '--project', project, '--env', env, '--service', service,
            '--type', kind, '--keep', str(keep), '--docker-host', docker_host]
    job = 'mkdir -p %s && flock -n %s/.%s.lock %s %s >> %s/%s.log 2>&1' % (
        logs, logs, service, command, ' '.join(shlex.quote(a) for a in argv), logs, service)
    content = '#Ansible: fleet %s_%s backup\n%s root %s\n' % (tenant, service, ' '.join(fields), job)
    return '%s/fleet_%s_%s_backup' % (cron_dir, tenant, service), content
