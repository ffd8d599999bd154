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
- a dead server running a stateful service (its data is on it): alert only, with the restore command,
  unless every such service opted in (``heal: restore_latest_backup``).
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


def decide(servers, verdicts, reachable, droplet_status, history, now, in_flight=False):
    """``{'action': 'none'|'replace'|'alert', 'server': name or None, 'dead': [...], 'reason': text}``.

    ``servers``: ``[{'name', 'address' (VPC), 'stateful': [services], 'restore': [services that opted in]}]``;
    ``reachable``: {name: the controller's own probe answered}; ``droplet_status``: {name: DigitalOcean's
    status, or 'missing'}; ``history``: past replacements ``[{'time', 'server'}]``."""
    judged = judged_dead(servers, verdicts)
    unreachable = [s['name'] for s in servers if not reachable.get(s['name'])]
    dead = [name for name in judged if name in unreachable]
    seen_alive = [name for name in judged if name not in unreachable]
    result = {'action': 'none', 'server': None, 'dead': dead, 'reason': ''}
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
    unsafe = sorted(set(server.get('stateful') or []) - set(server.get('restore') or []))
    if unsafe:
        result.update(action='alert', reason='%s runs %s, whose data is on it: not re-created empty; restore the '
                      'newest backup (playbooks/restore.yml) or set heal: restore_latest_backup' % (
                          dead[0], ', '.join(unsafe)))
        return result
    if droplet_status.get(dead[0]) == 'new':
        result['reason'] = '%s is still being created' % dead[0]
        return result
    result.update(action='replace', server=dead[0], reason='%s judged dead by its peers, unreachable from the '
                  'controller (DigitalOcean: %s)' % (dead[0], droplet_status.get(dead[0], 'unknown')))
    return result
