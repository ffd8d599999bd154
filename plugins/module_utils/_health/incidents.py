# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Incidents and the mails they make (pure): docs/health.md "Alerts".

An incident is something healing could not fix by itself (a service over its restart budget, a server
judged dead, a server whose monitor went silent, a sidecar gone). It has a key (``service:api``,
``server:10.0.0.3``), opens once, and resolves once. The store is a dict ``{key: incident}`` kept in
``monitoring/health/incidents.json``; :func:`due_mails` says what to send now:

- an opened incident is mailed once it is ``GROUP_SECONDS`` old, together with every other one due
  then (one mail; a *digest* when ``DIGEST_AT`` or more open at once); one that resolved before it was
  mailed is never mailed;
- a resolved incident whose opening was mailed gets one resolve mail (grouped the same way);
- an incident still open gets a reminder every ``REMIND_SECONDS`` at most.
:func:`mark_sent` records a mail that went; one that could not be sent stays due (the next flush tries
again), so a mail sink that is down never stops healing and loses no mail.
"""

from __future__ import annotations

import time

GROUP_SECONDS = 30
REMIND_SECONDS = 4 * 3600
DIGEST_AT = 5
KEEP_RESOLVED = 7 * 86400


def stamp(now):
    return time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(now))


def open_incident(store, key, summary, detail, now):
    """Open ``key`` (a no-op while it is open: the first summary stays); True when it opened now."""
    current = store.get(key)
    if current and not current.get('resolved_at'):
        return False
    store[key] = {'key': key, 'summary': summary, 'detail': detail, 'opened_at': now, 'resolved_at': None,
                  'mailed_open': None, 'mailed_resolve': None, 'reminded_at': None, 'resolution': ''}
    return True


def resolve_incident(store, key, resolution, now):
    """Resolve ``key`` when it is open; True when it resolved now."""
    current = store.get(key)
    if not current or current.get('resolved_at'):
        return False
    current.update(resolved_at=now, resolution=resolution)
    return True


def open_keys(store):
    return sorted(k for k, i in store.items() if not i.get('resolved_at'))


def due(store, now, group=GROUP_SECONDS):
    """``(opened, resolved, reminders)``: incidents whose mail is due now, oldest first (grouped ``group`` s)."""
    opened, resolved, reminders = [], [], []
    for incident in sorted(store.values(), key=lambda i: (i['opened_at'], i['key'])):
        if incident['resolved_at']:
            if incident['mailed_open'] and not incident['mailed_resolve'] and \
                    now - incident['resolved_at'] >= group:
                resolved.append(incident)
        elif not incident['mailed_open']:
            if now - incident['opened_at'] >= group:
                opened.append(incident)
        elif now - (incident['reminded_at'] or incident['mailed_open']) >= REMIND_SECONDS:
            reminders.append(incident)
    return opened, resolved, reminders


def _block(incident, now):
    lines = ['- %s' % incident['summary'], '  since %s' % stamp(incident['opened_at'])]
    if incident['resolved_at']:
        minutes = (incident['resolved_at'] - incident['opened_at']) // 60
        lines.append('  resolved %s (%d min): %s' % (stamp(incident['resolved_at']), minutes,
                                                     incident['resolution'] or 'healthy again'))
    if incident['detail']:
        lines.extend('  ' + line for line in incident['detail'].splitlines())
    return '\n'.join(lines)


def compose(where, opened, resolved, reminders, now):
    """One mail ``(subject, body)`` for everything due, or None."""
    if not (opened or resolved or reminders):
        return None
    parts = []
    if len(opened) >= DIGEST_AT:
        subject = '[fleet %s] DIGEST: %d incidents opened' % (where, len(opened))
    elif opened:
        subject = '[fleet %s] INCIDENT: %s' % (where, opened[0]['summary'])
        if len(opened) > 1:
            subject += ' (+%d more)' % (len(opened) - 1)
    elif resolved:
        subject = '[fleet %s] RESOLVED: %s' % (where, resolved[0]['summary'])
        if len(resolved) > 1:
            subject += ' (+%d more)' % (len(resolved) - 1)
    else:
        subject = '[fleet %s] STILL OPEN: %s' % (where, reminders[0]['summary'])
    for title, group in (('Opened', opened), ('Resolved', resolved), ('Still open', reminders)):
        if group:
            parts.append('%s:\n%s' % (title, '\n'.join(_block(i, now) for i in group)))
    parts.append('Now open: %d. Sent %s by the fleet health monitor; the history is in monitoring/health/ '
                 '(playbooks/health_status.yml shows it).' % (len(open_keys_of(opened + reminders)), stamp(now)))
    return subject, '\n\n'.join(parts) + '\n'


def open_keys_of(incidents):
    return [i['key'] for i in incidents if not i['resolved_at']]


def mark_sent(opened, resolved, reminders, now):
    for incident in opened:
        incident['mailed_open'] = now
    for incident in resolved:
        incident['mailed_resolve'] = now
    for incident in reminders:
        incident['reminded_at'] = now


def prune(store, now):
    """Forget incidents resolved (and mailed, or never mailed) more than ``KEEP_RESOLVED`` ago."""
    for key in [k for k, i in store.items() if i['resolved_at'] and now - i['resolved_at'] > KEEP_RESOLVED
                and (i['mailed_resolve'] or not i['mailed_open'])]:
        del store[key]
