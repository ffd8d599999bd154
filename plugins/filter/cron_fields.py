# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cron_fields filter: a validated schedule as the five fields of a crontab line."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.cron import CronError
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.cron import cron_fields as _cron_fields


def cron_fields(schedule):
    try:
        return _cron_fields(schedule)
    except (CronError, KeyError) as exc:
        raise AnsibleFilterError('cron_fields: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'cron_fields': cron_fields}
