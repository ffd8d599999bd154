# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether heal.yml replaces a server now (pure): docs/health.md "Replacing a dead server".

The controller reads every server's last verdict (``status.json``; an unreachable server gives none), probes
each server itself (SSH) and asks DigitalOcean for each droplet's status. A server is **confirmed dead** when a
strict majority of the verdicts it could read judge it dead, the controller cannot reach it either, and
DigitalOcean does not show it freshly created. Then the brakes:

- one replacement in flight per project env (``in_flight``): nothing;
- more than one server, or ``PARTITION_SHARE`` of them, confirmed dead at once: alert only (a partition,
  or an outage no replacement fixes);
- ``DAILY_CAP`` replacements in the last 24 hours: alert only;
- a dead server running a stateful service (its data is on it): alert only, naming the newest backup pulled to
  the controller and the restore.yml command, unless every such service opted in (``heal: restore_latest_backup``)
  and has a backup there: then the replacement restores it (the mail says which backup and how old).
Otherwise: replace that one server.
"""

from __future__ import annotations

PARTITION_SHARE = 0.4
DAILY_CAP = 3
DAY = 86400


def judged_dead(servers, verdicts):
    """The servers a strict majority of the readable verdicts judge dead (``verdicts``: {server: verdict or None},
    each verdict's ``dead`` listing VPC addresses)."""
    readable = [v for v in verdicts.values() if isinstance(v, dict)]
    dead = []
    for server in servers:
        votes = sum(1 for v in readable if server['address'] in (v.get('dead') or []))
        if readable and votes * 2 > len(readable):
            dead.append(server['name'])
    return dead


def age_text(seconds):
    """``3 d 4 h``, ``5 h 12 min``, ``7 min``: how old a backup is, for people."""
    minutes = max(0, int(seconds // 60))
    days, hours = minutes // 1440, minutes // 60 % 24
    if days:
        return '%d d %d h' % (days, hours)
    if hours:
        return '%d h %d min' % (hours, minutes % 60)
    return '%d min' % minutes


def _stateful(result, server, backups, now, restore_command):
    """The stateful services of the dead ``server``: an alert with what to do (``result`` updated, True), or the
    restores the replacement needs (``result['restore']``, False)."""
    stateful = sorted(server.get('stateful') or [])
    opted = set(server.get('restore') or [])
    unsafe = [s for s in stateful if s not in opted]
    missing = [s for s in stateful if s in opted and s not in backups]
    if unsafe or missing:
        lines = []
        for service in unsafe + missing:
            found = backups.get(service)
            if not found:
                lines.append('%s: no backup of it was pulled to the controller (pull.yml -e fleet_pull_dirs=backups '
                             'pulls them); nothing to restore from' % service)
                continue
            lines.append('%s: its newest backup on the controller is %s, taken %s (%s old); once %s runs again, '
                         'restore it with:\n  %s' % (service, found['file'], found['taken_iso'],
                                                     age_text(now - found['taken']), service,
                                                     restore_command(service, found['file'])))
        if unsafe:
            lines.append('To have heal.yml replace the server and restore the newest backup itself, set '
                         'heal: restore_latest_backup on %s (data written after that backup is lost).' % ', '.join(unsafe))
        why = ('whose data is on it: not re-created empty' if unsafe else
               'opted in to heal: restore_latest_backup, but no backup of it is on the controller')
        reason = '%s runs %s, %s; not replaced' % (server['name'], ', '.join(unsafe + missing), why)
        result.update(action='alert', reason=reason, detail='\n'.join(lines))
        return True
    result['restore'] = [dict(backups[s], service=s, age=age_text(now - backups[s]['taken'])) for s in stateful]
    return False


def decide(servers, verdicts, reachable, droplet_status, history, now, in_flight=False, backups=None,
           restore_command=None):
    """``{'action': 'none'|'replace'|'alert', 'server': name or None, 'dead': [...], 'reason': text,
    'detail': text (more lines for the mail), 'restore': [{'service', 'file', 'taken', 'taken_iso', 'age'}]}``.

    ``servers``: ``[{'name', 'address' (VPC), 'stateful': [services], 'restore': [services that opted in]}]``;
    ``reachable``: {name: the controller's own probe answered}; ``droplet_status``: {name: DigitalOcean's
    status, or 'missing'}; ``history``: past replacements ``[{'time', 'server'}]``; ``backups``: the newest backup
    on the controller per stateful service ``{service: {'file', 'taken' (epoch), 'taken_iso'}}``;
    ``restore_command(service, file)``: the restore.yml command line an alert prints."""
    backups = backups or {}
    restore_command = restore_command or (lambda service, path: 'playbooks/restore.yml -e fleet_service=%s '
                                          '-e backup_pulled=%s' % (service, path))
    judged = judged_dead(servers, verdicts)
    unreachable = [s['name'] for s in servers if not reachable.get(s['name'])]
    dead = [name for name in judged if name in unreachable]
    seen_alive = [name for name in judged if name not in unreachable]
    result = {'action': 'none', 'server': None, 'dead': dead, 'reason': '', 'detail': '', 'restore': []}
    if len(unreachable) > 1 or (unreachable and len(unreachable) >= PARTITION_SHARE * len(servers)):
        reason = ('%d of %d servers do not answer (%s): a partition or an outage no replacement fixes; alert only'
                  % (len(unreachable), len(servers), ', '.join(unreachable)))
        result.update(action='alert', dead=unreachable, reason=reason)
        return result
    if seen_alive:
        result.update(action='alert', reason='%s judged dead by its peers but answers the controller: a network '
                      'partition between servers; not replaced' % ', '.join(seen_alive))
        return result
    if not dead:
        result['reason'] = ('every server is alive' if not unreachable else
                            '%s does not answer the controller, but its peers do not judge it dead (yet)'
                            % unreachable[0])
        return result
    if in_flight:
        result['reason'] = 'a replacement of this env is already in flight'
        return result
    recent = [h for h in history if now - h.get('time', 0) < DAY]
    if len(recent) >= DAILY_CAP:
        result.update(action='alert', reason='%d replacements in the last 24 hours (the cap); %s is not replaced'
                      % (len(recent), dead[0]))
        return result
    server = next(s for s in servers if s['name'] == dead[0])
    if _stateful(result, server, backups, now, restore_command):
        return result
    if droplet_status.get(dead[0]) == 'new':
        result['reason'] = '%s is still being created' % dead[0]
        return result
    result.update(action='replace', server=dead[0], reason='%s judged dead by its peers, unreachable from the '
                  'controller (DigitalOcean: %s)' % (dead[0], droplet_status.get(dead[0], 'unknown')))
    if result['restore']:
        result['detail'] = '\n'.join(
            '%s: restoring %s, taken %s (%s old); data written after it is lost' % (
                r['service'], r['file'], r['taken_iso'], r['age']) for r in result['restore'])
    return result
