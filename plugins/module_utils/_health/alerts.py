# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Send the mails a project env's incidents have due (incidents + mail), once, under the health lock."""

from __future__ import annotations

import time

from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import incidents, mail, store

RETRY_SECONDS = 60


def flush(tenant, now=None, group=None):
    """Send what is due; ``(sent, error)``: the subject sent (or None) and the send's error (or None).

    ``group``: seconds an incident waits to be mailed with others (the settings' ``group_seconds`` by default;
    heal.yml gives 0: its decisions come from minutes of verdicts, and it runs every few minutes).

    One process sends at a time (``.mail.lock``, not waited for: the other leaves it to this one); the
    incidents are read and marked under the health lock, but the SMTP conversation holds no lock the healer
    needs, so a slow mail server never delays healing."""
    now = time.time() if now is None else now
    settings = (tenant.config.get('alerts') or {})
    if not mail.configured(settings):
        return None, None   # nowhere to send: the incidents are recorded (health_status.yml shows them)
    if group is None:
        group = float(settings.get('group_seconds') or incidents.GROUP_SECONDS)
    with store.exclusive(tenant.project_dir, '.mail.lock') as mine:
        if not mine:
            return None, None
        with store.locked(tenant.project_dir):
            found = store.load(tenant.project_dir, 'incidents.json')
            incidents.prune(found, now)
            opened, resolved, reminders = incidents.due(found, now, group)
            composed = incidents.compose(tenant.name, opened, resolved, reminders, now)
            last = store.load(tenant.project_dir, 'mail.json')
        if composed is None:
            return None, None
        if last.get('failed_at') and now - last['failed_at'] < min(RETRY_SECONDS, 2 * group):
            return None, last.get('error')
        error = mail.send(settings, tenant.smtp_password(), composed[0], composed[1])
        with store.locked(tenant.project_dir):
            if error:
                store.save(tenant.project_dir, 'mail.json', {'failed_at': now, 'error': error})
                return None, error
            found = store.load(tenant.project_dir, 'incidents.json')
            keys = [i['key'] for i in opened], [i['key'] for i in resolved], [i['key'] for i in reminders]
            incidents.mark_sent(*([found[k] for k in group_keys if k in found] for group_keys in keys), now=now)
            store.save(tenant.project_dir, 'incidents.json', found)
            store.save(tenant.project_dir, 'mail.json', {'sent_at': now, 'subject': composed[0]})
            store.append(tenant.project_dir, 'mails.jsonl',
                         {'time': now, 'subject': composed[0], 'to': settings['to']})
        return composed[0], None
