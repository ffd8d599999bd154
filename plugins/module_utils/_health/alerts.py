# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Send the mails a project env's incidents have due (incidents + mail), once, under the health lock."""

from __future__ import annotations

import time

from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import incidents, mail, store

RETRY_SECONDS = 60


def flush(tenant, now=None):
    """Send what is due; ``(sent, error)``: the subject sent (or None) and the send's error (or None)."""
    now = time.time() if now is None else now
    settings = (tenant.config.get('alerts') or {})
    with store.locked(tenant.project_dir):
        found = store.load(tenant.project_dir, 'incidents.json')
        incidents.prune(found, now)
        opened, resolved, reminders = incidents.due(found, now, float(settings.get('group_seconds') or
                                                                         incidents.GROUP_SECONDS))
        composed = incidents.compose(tenant.name, opened, resolved, reminders, now)
        if composed is None:
            return None, None
        if not mail.configured(settings):
            # nowhere to send: the incidents are recorded (health_status.yml shows them), not mailed
            return None, None
        last = store.load(tenant.project_dir, 'mail.json')
        retry = min(RETRY_SECONDS, 2 * float(settings.get('group_seconds') or incidents.GROUP_SECONDS))
        if last.get('failed_at') and now - last['failed_at'] < retry:
            return None, last.get('error')
        error = mail.send(settings, tenant.smtp_password(), composed[0], composed[1])
        if error:
            store.save(tenant.project_dir, 'mail.json', {'failed_at': now, 'error': error})
            return None, error
        incidents.mark_sent(opened, resolved, reminders, now)
        store.save(tenant.project_dir, 'incidents.json', found)
        store.save(tenant.project_dir, 'mail.json', {'sent_at': now, 'subject': composed[0]})
        store.append(tenant.project_dir, 'mails.jsonl', {'time': now, 'subject': composed[0], 'to': settings['to']})
        return composed[0], None
