# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A scheduled service's cron entry: the deploy role installs it with ansible.builtin.cron and deploy_changes
looks for its line, so both take it from here."""

from __future__ import annotations

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.cron import cron_fields

CRON_DIR = '/etc/cron.d'
CRON_USER = 'root'


def scheduled_cron(service, schedule, deploy_dir, user, project, env):
    """``{service, name, cron_file, path, fields, job, line}`` of a scheduled service: cron starts its created
    container (``docker start -a``, one run at a time under flock) and appends the output to
    ``logs/{service}/runs.log``. ``line`` is the crontab line as ansible.builtin.cron writes it in a cron file."""
    tenant = naming.prefix(user, project, env)
    logs = '%s/logs/%s' % (deploy_dir, service)
    job = 'mkdir -p %s && flock -n %s/.lock docker start -a %s >> %s/runs.log 2>&1' % (
        logs, logs, naming.container_name(user, project, env, service), logs)
    fields = cron_fields(schedule)
    cron_file = 'fleet_%s_%s' % (tenant, service)
    return {
        'service': service,
        'name': 'fleet %s_%s' % (tenant, service),
        'cron_file': cron_file,
        'path': '%s/%s' % (CRON_DIR, cron_file),
        'fields': fields,
        'job': job,
        'line': ' '.join(list(fields) + [CRON_USER, job]),
    }
