# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cron_fields filter: a validated schedule as the five fields of a crontab line."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

MACROS = {
    '@hourly': '0 * * * *', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@weekly': '0 0 * * 0',
    '@monthly': '0 0 1 * *', '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *',
}


def cron_fields(schedule):
    expression = MACROS.get(str(schedule).strip().lower(), str(schedule))
    fields = expression.split()
    if len(fields) != 5:
        raise AnsibleFilterError('cron_fields: %r is not a five-field schedule' % (schedule,))
    return fields


class FilterModule(object):
    def filters(self):
        return {'cron_fields': cron_fields}
