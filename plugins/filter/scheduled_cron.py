# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The scheduled_cron filter: a scheduled service's cron entry."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.scheduled_cron import (
    scheduled_cron as _scheduled_cron)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.cron import CronError


def scheduled_cron(service, spec, deploy_dir):
    try:
        return _scheduled_cron(service, spec['services'][service]['schedule'], deploy_dir,
                               spec['user'], spec['project'], spec['env'])
    except (CronError, KeyError, ValueError) as exc:
        raise AnsibleFilterError('scheduled_cron: %s: %s' % (service, exc))


class FilterModule(object):
    def filters(self):
        return {'scheduled_cron': scheduled_cron}
