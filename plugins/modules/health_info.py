#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: health_info
short_description: A project env's health on one fleet server - checked now, or as the monitor last saw it
version_added: 0.6.0
description:
  - With O(check=true) (C(playbooks/check_health.yml)) every check runs once now, healing nothing - each recorded
    service's serving container (state, and its health check as the deploy checks it), the server's own agent and
    every peer's agent (signed C(/health)) and ICMP echo.
  - With O(check=false) (C(playbooks/health_status.yml)) nothing is checked - the monitor's last round, the env's
    open incidents and the last heal actions, from C(monitoring/health/).
  - RV(lines) is the server's block for a person; RV(unhealthy) what is wrong, one line each.
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
    support: full
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
  fleet_root:
    description: The fleet root on the server.
    type: path
    default: /local
  check:
    description: Run the checks now (true) or read the monitor's last round (false).
    type: bool
    default: true
  actions:
    description: How many of the last heal actions to show.
    type: int
    default: 10
  docker_host:
    description: The Docker engine.
    type: str
    default: unix:///var/run/docker.sock
requirements:
  - docker (the Docker SDK for Python)
'''

EXAMPLES = r'''
- name: Check u1/myapp/prod here now
  projectdeployer.fleet.health_info:
    user: u1
    project: myapp
    env: prod
  register: health
'''

RETURN = r'''
lines:
  description: The server's block of the report.
  returned: always
  type: list
  elements: str
unhealthy:
  description: What is wrong, one line each (empty when all is well).
  returned: always
  type: list
  elements: str
services:
  description: Per recorded service - C(service), C(container), C(status), C(healthy) (true, false, or null without a check), C(detail), C(restarts), C(failed).
  returned: always
  type: list
  elements: dict
peers:
  description: Per peer - C(name), C(address), C(answered), C(ping), C(docker), C(misses).
  returned: always
  type: list
  elements: dict
incidents:
  description: The env's open incidents (C(key), C(summary), C(opened_at)).
  returned: always
  type: list
  elements: dict
verdict:
  description: The monitor's last judgement - C(dead), C(alive), C(leader) (VPC addresses).
  returned: always
  type: dict
'''

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import (
    agent, definitions, healer, incidents, monitor, report, store, tenant as tenants)


def checked_services(client, tenant):
    heal = store.load(tenant.project_dir, 'heal.json')
    rows = []
    for service, record, options in definitions.recorded(tenant.project_dir, tenant.state_dir):
        if not record.get('slot') or not options:
            continue
        observed, container = healer.observe(client, tenant.ids, service, record, options)
        state = heal.get(service) or {}
        rows.append({'service': service, 'container': container.name if container is not None else 'missing',
                     'status': observed.get('status') or 'missing', 'healthy': observed.get('healthy'),
                     'detail': observed.get('detail') or '', 'restarts': len(state.get('restarts') or []),
                     'failed': bool(state.get('failed'))})
    return rows


def checked_peers(tenant, config):
    keys = tenant.keys()
    if not keys:
        return []
    view = store.load(tenant.project_dir, 'peers.json')
    rows = []
    for name, address in sorted((s.get('name'), s.get('address')) for s in config.get('servers') or []):
        if address == config.get('address'):
            continue
        status, answer = monitor.ask(address, config.get('port') or 9999, tenant.name, keys[0])
        rows.append({'name': name, 'address': address, 'answered': status == 200,
                     'error': None if status == 200 else (answer.get('error') or 'HTTP %s' % status),
                     'ping': monitor.ping(address), 'docker': answer.get('docker') if status == 200 else None,
                     'misses': (view.get(address) or {}).get('misses', 0)})
    return rows


def main():
    module = AnsibleModule(
        argument_spec=dict(
            user=dict(type='str', required=True),
            project=dict(type='str', required=True),
            env=dict(type='str', required=True),
            fleet_root=dict(type='path', default='/local'),
            check=dict(type='bool', default=True),
            actions=dict(type='int', default=10),
            docker_host=dict(type='str', default='unix:///var/run/docker.sock'),
        ),
        supports_check_mode=True)
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    try:
        tenant = tenants.Tenant(p['fleet_root'], p['user'], p['project'], p['env'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    config = tenant.config
    now = time.time()
    status = store.load(tenant.project_dir, 'status.json')
    unhealthy = []
    if not config:
        module.exit_json(changed=False, lines=['%s: the health agent does not look after %s here (deploy it first)'
                                               % (p['user'], tenant.name)], unhealthy=[], services=[], peers=[],
                         incidents=[], verdict={})
    server = config.get('server') or ''
    if p['check']:
        try:
            services = checked_services(get_client(p['docker_host'], timeout=30), tenant)
        except (FleetDockerError, DockerException) as exc:
            services = []
            unhealthy.append('%s: the Docker engine does not answer (%s)' % (server, exc))
        peers = checked_peers(tenant, config)
        keys = tenant.keys()
        own, answer = monitor.ask(config.get('address'), config.get('port') or 9999, tenant.name, keys[0]) \
            if keys else (None, {'error': 'no agent key'})
        agent_state = 'answers' if own == 200 else 'NOT ANSWERING (%s)' % (answer.get('error') or own)
        if own != 200:
            unhealthy.append('%s: its health agent does not answer on %s:%s (%s)' % (
                server, config.get('address'), config.get('port'), answer.get('error') or own))
    else:
        try:
            services = [dict(row, healthy=None, detail='', failed=row['status'] == 'failed')
                        for row in agent.services_summary(get_client(p['docker_host'], timeout=30), tenant)]
        except (FleetDockerError, DockerException):
            services = []
        peers = [dict(v, address=a, name=v.get('name') or a, docker=None) for a, v in
                 sorted((status.get('peers') or {}).items())]
        agent_state = 'last round %s' % report.ago(status.get('time'), now)
    for row in services:
        if report.service_unhealthy(row) and p['check']:
            state = 'failed (over its restart budget)' if row['failed'] else row['status']
            detail = ' (%s)' % row['detail'] if row['healthy'] is False else ''
            unhealthy.append('%s: %s is %s%s' % (server, row['service'], state, detail))
    for peer in peers:
        if not peer['answered'] and p['check']:
            unhealthy.append('%s: peer %s (%s) does not answer: %s'
                             % (server, peer['name'], peer['address'], peer.get('error')))
    found = store.load(tenant.project_dir, 'incidents.json')
    opened = [found[k] for k in incidents.open_keys(found)]
    actions = store.read_lines(tenant.project_dir, 'actions.jsonl', p['actions']) if p['actions'] else []
    module.exit_json(changed=False, unhealthy=unhealthy, services=services, peers=peers,
                     incidents=[dict((k, i[k]) for k in ('key', 'summary', 'opened_at')) for i in opened],
                     verdict=status.get('verdict') or {},
                     lines=report.lines(server, services, peers, opened, actions, agent.monitor_at(p['fleet_root']),
                                        agent_state, now))


if __name__ == '__main__':
    main()
