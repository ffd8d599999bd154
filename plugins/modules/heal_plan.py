#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: heal_plan
short_description: Decide whether heal.yml replaces a dead server, with its brakes, on the controller
version_added: 0.6.0
description:
  - Runs on the controller (C(playbooks/heal.yml)). From every server's last verdict (its monitor's C(status.json),
    none for a server that did not answer), the controller's own probe of each server and DigitalOcean's status of
    each droplet, decides - V(replace) one server, V(alert) only, or V(none) (docs/health.md "Replacing a dead
    server").
  - Brakes - one replacement in flight per project env (a lock in O(state_dir), given up after O(lock_seconds)),
    none when more than one server or 40 % of them look dead, at most 3 replacements a day, never a server whose
    stateful services would come back empty.
  - An V(alert) decision opens an incident on the controller (C(monitoring/health/incidents.json) of O(state_dir)'s
    env) mailed once with the run's alert settings; it resolves when every server is alive again.
  - A dead server's stateful services - the newest backup of each that pull.yml brought to the controller (under
    O(state_dir)C(/backups/)) is named in the alert with the C(restore.yml) command; when every one opted in
    (O(restore)) and has such a backup, the server is replaced and RV(restore) lists what the replacement restores;
    an incident says which backups and how old (mailed by O(phase=end), resolved by the next run).
  - O(phase=begin) records the replacement as in flight, O(phase=end) records its outcome in
    C(heal_history.jsonl) and lifts the lock.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Each run records what it decided.
options:
  user:
    description: The tenant's user.
    type: str
    required: true
  project:
    description: The project.
    type: str
    required: true
  env:
    description: The environment.
    type: str
    required: true
  phase:
    description: V(decide), V(begin) (a replacement starts) or V(end) (it ended; O(outcome)).
    type: str
    choices: [decide, begin, end]
    default: decide
  servers:
    description:
      - The env's servers (the C(heal_servers) filter builds them) - C(name), C(address) (VPC), C(reachable) (the
        controller's probe answered), C(verdict) (the monitor's last C(dead)/C(alive)/C(leader), or null),
        C(status) (DigitalOcean's), C(services).
    type: list
    elements: dict
    default: []
  stateful:
    description: The env's stateful services (their data is on their server).
    type: list
    elements: str
    default: []
  restore:
    description: Stateful services that may be replaced and restored from their newest backup (C(heal) V(restore_latest_backup)).
    type: list
    elements: str
    default: []
  command_args:
    description: The inventory and spec arguments the C(restore.yml) command in an alert shows.
    type: str
    default: -i <inventory> -e @<spec>
  server:
    description: With O(phase=begin) or O(phase=end), the server being replaced.
    type: str
  outcome:
    description: With O(phase=end), what happened (V(replaced), or the failure).
    type: str
  state_dir:
    description: The project env's directory on the controller (C({controller_root}/{user}/{project}/{env})).
    type: path
    required: true
  lock_seconds:
    description: A replacement in flight longer than this is taken as dead (its lock is given up).
    type: int
    default: 3600
  alerts:
    description: The alert mail settings (as M(projectdeployer.fleet.health_agent)'s O(projectdeployer.fleet.health_agent#module:alerts)).
    type: dict
    default: {}
  smtp_password:
    description: The SMTP password.
    type: str
'''

EXAMPLES = r'''
- name: Decide
  projectdeployer.fleet.heal_plan:
    user: u1
    project: myapp
    env: prod
    servers: "{{ groups['fleet_u1_myapp_prod'] | projectdeployer.fleet.heal_servers(hostvars) }}"
    state_dir: /local/u1/myapp/prod
  register: heal
'''

RETURN = r'''
action:
  description: V(replace), V(alert) or V(none).
  returned: always
  type: str
server:
  description: The server to replace (with V(replace)).
  returned: always
  type: str
dead:
  description: The servers confirmed dead.
  returned: always
  type: list
  elements: str
reason:
  description: Why, in one line.
  returned: always
  type: str
detail:
  description: More lines for people (the backups and restore commands of stateful services).
  returned: always
  type: str
restore:
  description: With V(replace), the backups the replacement restores - C(service), C(file) (on the controller), C(taken), C(taken_iso), C(age).
  returned: always
  type: list
  elements: dict
mailed:
  description: The subject of the alert mail sent by this run, if any.
  returned: always
  type: str
'''

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import files as backup_files
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import write_atomic
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import alerts, incidents, replacement, store
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming

LOCK = 'heal.lock'
HISTORY = 'heal_history.jsonl'


class ControllerEnv(object):
    """The controller's side of a project env, as alerts.flush reads a server's."""

    def __init__(self, p):
        self.name = '%s/%s/%s' % (p['user'], p['project'], p['env'])
        self.project_dir = p['state_dir']
        self.config = {'alerts': p['alerts']}
        self._password = p['smtp_password'] or ''

    def smtp_password(self):
        return self._password


def history(state_dir):
    return store.read_lines(state_dir, HISTORY, limit=200)


def in_flight(state_dir, now, lock_seconds):
    lock = store.load(state_dir, LOCK)
    return bool(lock.get('time') and now - lock['time'] < lock_seconds), lock


def pulled_backups(p):
    """The newest backup on the controller of each stateful service: ``{service: {'file', 'taken', 'taken_iso'}}``."""
    found = {}
    for service in p['stateful']:
        newest = backup_files.newest_pulled(os.path.join(p['state_dir'], 'backups'), service)
        if newest:
            found[service] = {'file': newest[0], 'taken': newest[1].timestamp(), 'taken_iso': backup_files.iso(newest[1])}
    return found


def restore_command(p):
    def command(service, path):
        return ('ansible-playbook projectdeployer.fleet.restore %s -e fleet_env=%s -e fleet_service=%s '
                '-e backup_pulled=%s' % (p['command_args'], p['env'], service, path)).replace('  ', ' ')
    return command


def decide(p, now):
    servers = []
    for server in p['servers']:
        services = server.get('services') or []
        servers.append({'name': server['name'], 'address': server.get('address'),
                        'stateful': [s for s in services if s in p['stateful']],
                        'restore': [s for s in services if s in p['restore']]})
    verdicts = dict((s['name'], s.get('verdict') if s.get('reachable') else None) for s in p['servers'])
    reachable = dict((s['name'], bool(s.get('reachable'))) for s in p['servers'])
    status = dict((s['name'], s.get('status') or 'unknown') for s in p['servers'])
    busy, dummy = in_flight(p['state_dir'], now, p['lock_seconds'])
    done = [h for h in history(p['state_dir']) if h.get('outcome') == 'replaced']
    # the controller's backups are read only when a verdict names a dead server (every cron run reads the rest)
    anyone_dead = any((verdict or {}).get('dead') for verdict in verdicts.values())
    return replacement.decide(servers, verdicts, reachable, status, done, now, in_flight=busy,
                              backups=pulled_backups(p) if anyone_dead else {}, restore_command=restore_command(p))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            user=dict(type='str', required=True),
            project=dict(type='str', required=True),
            env=dict(type='str', required=True),
            phase=dict(type='str', default='decide', choices=['decide', 'begin', 'end']),
            servers=dict(type='list', elements='dict', default=[]),
            stateful=dict(type='list', elements='str', default=[]),
            restore=dict(type='list', elements='str', default=[]),
            command_args=dict(type='str', default='-i <inventory> -e @<spec>'),
            server=dict(type='str'),
            outcome=dict(type='str'),
            state_dir=dict(type='path', required=True),
            lock_seconds=dict(type='int', default=3600),
            alerts=dict(type='dict', default={}),
            smtp_password=dict(type='str', no_log=True),
        ),
        required_if=[('phase', 'begin', ('server',)), ('phase', 'end', ('server', 'outcome'))],
        supports_check_mode=True)
    p = module.params
    try:
        naming.check_ids(user=p['user'], project=p['project'], env=p['env'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    now = time.time()
    result = {'action': 'none', 'server': p['server'], 'dead': [], 'reason': '', 'detail': '', 'restore': [],
              'mailed': ''}
    if module.check_mode and p['phase'] != 'decide':
        module.exit_json(changed=True, **result)
    if p['phase'] == 'begin':
        write_atomic(os.path.join(store.health_dir(p['state_dir']), LOCK),
                     json.dumps({'time': now, 'server': p['server']}) + '\n', mode=0o644, dir_mode=0o755)
        module.exit_json(changed=True, **result)
    if p['phase'] == 'end':
        store.append(p['state_dir'], HISTORY, {'time': now, 'server': p['server'], 'outcome': p['outcome']})
        # the restore's mail (which backup, how old) goes now; its resolve mail with the next run
        env = ControllerEnv(p)
        sent, error = alerts.flush(env, now=now, group=0)
        result['mailed'] = sent or ''
        if error:
            module.warn('alert mail: %s' % error)
        with store.locked(env.project_dir):
            found = store.load(env.project_dir, 'incidents.json')
            if incidents.resolve_incident(found, 'heal:restore:%s' % p['server'], '%s %s' % (p['server'], p['outcome']),
                                          now):
                store.save(env.project_dir, 'incidents.json', found)
        try:
            os.unlink(os.path.join(store.health_dir(p['state_dir']), LOCK))
        except FileNotFoundError:
            pass
        module.exit_json(changed=True, **result)
    result.update(decide(p, now))
    if not module.check_mode:
        env = ControllerEnv(p)
        with store.locked(env.project_dir):
            found = store.load(env.project_dir, 'incidents.json')
            key = 'heal:%s' % ','.join(sorted(result['dead'])) if result['dead'] else 'heal:partition'
            if result['action'] == 'alert':
                incidents.open_incident(found, key, 'heal.yml: %s' % result['reason'],
                                        '%s\nNo server was replaced. docs/health.md says what to do.'
                                        % result['detail'] if result['detail'] else
                                        'No server was replaced. docs/health.md says what to do.', now)
            elif result['restore']:
                incidents.open_incident(found, 'heal:restore:%s' % result['server'],
                                        'heal.yml: replacing %s and restoring %s from backups' % (
                                            result['server'], ', '.join(r['service'] for r in result['restore'])),
                                        result['detail'], now)
            elif not result['dead']:
                for open_key in incidents.open_keys(found):
                    if open_key.startswith('heal:'):
                        incidents.resolve_incident(found, open_key, 'every server answers again', now)
            store.save(env.project_dir, 'incidents.json', found)
        sent, error = alerts.flush(env, now=now, group=0)
        result['mailed'] = sent or ''
        if error:
            module.warn('alert mail: %s' % error)
        store.append(p['state_dir'], HISTORY, {'time': now, 'decision': result['action'], 'reason': result['reason'],
                                               'dead': result['dead']})
    module.exit_json(changed=result['action'] != 'none', **result)


if __name__ == '__main__':
    main()
