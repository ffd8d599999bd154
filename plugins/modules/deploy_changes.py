#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: deploy_changes
short_description: Tell, in one call, which services of a project a deploy would change on this server
version_added: 0.3.0
description:
  - For each service given, works out what M(projectdeployer.fleet.toggle_deploy) would do with the same
    options, without doing it, and says why it would act; a service with no reason is already what the spec
    wants.
  - A service is unchanged when its container runs the wanted image and configuration (the same C(fleet.config_hash)
    as toggle_deploy computes, env file and secret contents included), is recorded as the serving slot, and no
    other slot or previous container of it is left (an interrupted run's leftovers count as a change).
  - A scheduled service (C(state=created) in O(services)) is unchanged when its created container has the wanted
    configuration and its cron file holds the wanted line (O(cron_jobs)).
  - The deploy role runs it once per server before the startup groups and skips every group in which no
    server has a change, the way C(terraform plan) or Kamal's "already running" check short-circuit.
  - Also returns what runs, in M(projectdeployer.fleet.deploy_info)'s shape.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._tenant
  - projectdeployer.fleet._tenant.docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  services:
    description:
      - One entry per service, with the options M(projectdeployer.fleet.toggle_deploy) takes for it (O(user),
        O(project), O(env), O(state_dir) and O(docker_host) come from this module's own).
      - Each entry's C(state) is V(started) or V(created).
    type: list
    elements: dict
    required: true
  cron_jobs:
    description:
      - The wanted cron entry of each scheduled service (P(projectdeployer.fleet.scheduled_cron#filter) gives it);
        the service is changed when its file (C(path)) lacks its C(line). Other keys are ignored.
    type: list
    elements: dict
    default: []
  state_dir:
    description: Where the promoted slot of each service is recorded (as for toggle_deploy).
    type: path
    required: true
  prune:
    description:
      - Also look at what a prune to the spec's services would do here (as M(projectdeployer.fleet.tenant_remove)
        with O(projectdeployer.fleet.tenant_remove#module:state=pruned) would, in check mode), so that a deploy runs
        that module only when something left the spec. Returned as RV(prune).
    type: dict
    version_added: 0.4.0
    suboptions:
      services:
        description: The spec's services.
        type: list
        elements: str
        required: true
      volumes:
        description: The spec's named volumes (short names), which stay.
        type: list
        elements: str
        default: []
      purge:
        description: Whether kept things (data, backups, passwords, ports) would be purged too.
        type: bool
        default: false
      fleet_root:
        description: The server's fleet root.
        type: path
        default: /local
      cron_dir:
        description: Where the cron files are.
        type: path
        default: /etc/cron.d
      port_state:
        description: The server's shared port state; C({fleet_root}/.fleet/ports.json) when not set.
        type: path
  backup:
    description:
      - Also look whether the scheduled backups are installed as M(projectdeployer.fleet.backup_job) would install
        them (the program built from the same sources, each cron file with its exact content), so that a deploy
        runs that module only when something differs. Returned as RV(backup_current) and RV(cron_present).
    type: dict
    version_added: 0.4.0
    suboptions:
      path:
        description: The program's zip (as backup_job's O(projectdeployer.fleet.backup_job#module:path)).
        type: path
        required: true
      digest:
        description: The program's sources digest (P(projectdeployer.fleet.program_digest#filter) of V(backup)).
        type: str
        required: true
      schedules:
        description: As backup_job's O(projectdeployer.fleet.backup_job#module:schedules).
        type: dict
        required: true
      fleet_root:
        description: The server's fleet root.
        type: path
        required: true
      cron_dir:
        description: Where the cron files are.
        type: path
        default: /etc/cron.d
  firewall:
    description:
      - Also look whether the tenant's host firewall is what M(projectdeployer.fleet.host_firewall) given these
        options would leave (iptables-save compared with the wanted rules; nothing is changed), so that a deploy
        over several servers runs that module only when something differs. Returned as RV(firewall_current).
    type: dict
    version_added: 0.6.0
    suboptions:
      ports:
        description: The tenant's host ports (both slots of every service).
        type: list
        elements: int
        required: true
      networks:
        description: The Docker networks whose containers reach those ports (the tenant's, the edge's).
        type: list
        elements: str
        required: true
      peers:
        description: The env's other servers, each C(address) with the C(ports) it may reach.
        type: list
        elements: dict
        default: []
  health:
    description:
      - Also look whether the health agent is installed here as M(projectdeployer.fleet.health_agent) given inputs
        of O(health.stamp) would leave it (the stamp it recorded is this one and every file it installed is as it
        left it) and whether the agent answers on O(health.address):O(health.port), so that a deploy runs that
        module only when something differs. Returned as RV(health_current).
    type: dict
    version_added: 0.6.0
    suboptions:
      stamp:
        description: The stamp of health_agent's inputs (P(projectdeployer.fleet.inputs_stamp#filter)).
        type: str
        required: true
      fleet_root:
        description: The server's fleet root.
        type: path
        required: true
      address:
        description: The address the agent listens on (the server's VPC address).
        type: str
        required: true
      port:
        description: The agent's port.
        type: int
        default: 9999
'''

EXAMPLES = r'''
- name: See what a deploy would change here
  projectdeployer.fleet.deploy_changes:
    user: u1
    project: myapp
    env: prod
    state_dir: /local/u1/myapp/prod/config/deploy
    services:
      - service: api
        state: started
        image: u1_myapp_prod_api:3
        container_port: 8000
        host_port: 8357
        secondary_port: 18357
        network: u1_myapp_prod_net
        health: {type: http, path: /health}
  register: deploy_todo
'''

RETURN = r'''
changes:
  description: The services a deploy would change, each with the reason.
  returned: always
  type: dict
  sample: {api: a new image or configuration}
services:
  description: What runs now, per service (as M(projectdeployer.fleet.deploy_info) returns it).
  returned: always
  type: dict
prune:
  description: With O(prune), what a prune would remove and keep here, one line each, and the summary line
    C(msg) (nothing is removed).
  returned: when O(prune) is set
  type: dict
  sample: {removed: ["container u1_myapp_prod_old (service old)"], kept: [], msg: "u1_myapp_prod: would remove 1 thing"}
backup_current:
  description: With O(backup), whether the backup program and every schedule's cron file are current.
  returned: when O(backup) is set
  type: bool
cron_present:
  description: With O(backup) or O(health), whether C(/usr/sbin/cron) is on the server.
  returned: when O(backup) or O(health) is set
  type: bool
firewall_current:
  description: With O(firewall), whether host_firewall would change nothing here.
  returned: when O(firewall) is set
  type: bool
health_current:
  description: With O(health), whether health_agent would change nothing here and the agent answers.
  returned: when O(health) is set
  type: bool
'''

import os
import sys

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import installed as backup_installed
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.running import running_services
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall import rules as firewall_rules
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall.iptables import Iptables
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall.tenant import converge_tenant
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import stamp as health_stamp
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggler import (
    TOGGLE_OPTIONS, DeployError, ToggleDeployer)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._tenant import footprint
from ansible_collections.projectdeployer.fleet.plugins.module_utils._tenant import server as tenant_server


def cron_has(path, line):
    """Whether the file at ``path`` holds ``line`` (surrounding blanks ignored)."""
    try:
        with open(path) as handle:
            return any(existing.strip() == line.strip() for existing in handle)
    except (IOError, OSError):
        return False


def service_params(entry, top):
    """One service's toggle_deploy parameters, checked and completed with their defaults."""
    given = dict(entry, user=top['user'], project=top['project'], env=top['env'],
                 state_dir=top['state_dir'], docker_host=top['docker_host'])
    if given.get('state') not in ('started', 'created'):
        raise ValueError('services: %s: state must be started or created' % entry.get('service'))
    result = ArgumentSpecValidator(TOGGLE_OPTIONS).validate(given)
    if result.error_messages:
        raise ValueError('services: %s: %s' % (entry.get('service'), '; '.join(result.error_messages)))
    return result.validated_parameters


def prune_preview(client, top):
    """``{removed: [...], kept: [...], msg}``: the lines of what a prune to ``top['prune']`` would do here."""
    opts = top['prune']
    dummy, dummy_gone, items, lines = tenant_server.prune_plan(
        client, (top['user'], top['project'], top['env']), opts['fleet_root'], opts['cron_dir'],
        tenant_server.port_state_path(opts['fleet_root'], opts['port_state']),
        opts['services'], opts['volumes'], purge=opts['purge'])
    removed, kept = footprint.split_lines(items, lines)
    return {'removed': removed, 'kept': kept, 'msg': footprint.summary(
        removed, kept, opts['purge'], True, naming.prefix(top['user'], top['project'], top['env']))}


def backup_look(top):
    """``{backup_current, cron_present}``: whether backup_job would change nothing here, and whether cron is there."""
    opts = top['backup']
    files = backup_installed.schedule_files(opts['schedules'], '%s %s' % (sys.executable, opts['path']),
                                            top['user'], top['project'], top['env'], opts['fleet_root'],
                                            top['docker_host'], opts['cron_dir'])
    return {'backup_current': backup_installed.is_current(opts['path'], opts['digest'], files),
            'cron_present': os.path.exists('/usr/sbin/cron')}


def firewall_look(module, client, top):
    """``{firewall_current}``: whether host_firewall with ``top['firewall']`` would change nothing here (a server
    without iptables is not current: the module then says what is missing)."""
    opts = top['firewall']
    iptables = Iptables(module, required=False)
    if not iptables.save or not iptables.restore:
        return {'firewall_current': False}
    changed = converge_tenant(iptables, client, (top['user'], top['project'], top['env']), opts['ports'],
                              opts['networks'], opts['peers'], check_mode=True)
    return {'firewall_current': not changed}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            naming.tenant_argument_spec(None),
            services=dict(type='list', elements='dict', required=True),
            cron_jobs=dict(type='list', elements='dict', default=[]),
            state_dir=dict(type='path', required=True),
            prune=dict(type='dict', options=dict(
                services=dict(type='list', elements='str', required=True),
                volumes=dict(type='list', elements='str', default=[]),
                purge=dict(type='bool', default=False),
                fleet_root=dict(type='path', default='/local'),
                cron_dir=dict(type='path', default='/etc/cron.d'),
                port_state=dict(type='path'),
            )),
            backup=dict(type='dict', options=dict(
                path=dict(type='path', required=True),
                digest=dict(type='str', required=True),
                schedules=dict(type='dict', required=True),
                fleet_root=dict(type='path', required=True),
                cron_dir=dict(type='path', default='/etc/cron.d'),
            )),
            firewall=dict(type='dict', options=dict(
                ports=dict(type='list', elements='int', required=True),
                networks=dict(type='list', elements='str', required=True),
                peers=dict(type='list', elements='dict', default=[]),
            )),
            health=dict(type='dict', options=dict(
                stamp=dict(type='str', required=True),
                fleet_root=dict(type='path', required=True),
                address=dict(type='str', required=True),
                port=dict(type='int', default=9999),
            )),
            docker_host=DOCKER_HOST_OPTION,
        ),
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    try:
        naming.check_ids(user=p['user'], project=p['project'], env=p['env'])
        client = get_client(p['docker_host'])
        changes = {}
        for entry in p['services']:
            params = service_params(entry, p)
            reason = ToggleDeployer(params, client, check_mode=True).plan()
            if reason:
                changes[params['service']] = reason
        for job in p['cron_jobs']:
            if not all(job.get(key) for key in ('service', 'path', 'line')):
                raise ValueError('cron_jobs: each entry needs service, path and line')
            if job['service'] not in changes and not cron_has(job['path'], job['line']):
                changes[job['service']] = 'its schedule is not installed'
        services = running_services(client, p['user'], p['project'], p['env'], p['state_dir'])
        extra = {'prune': prune_preview(client, p)} if p['prune'] else {}
        if p['backup']:
            extra.update(backup_look(p))
        if p['firewall']:
            extra.update(firewall_look(module, client, p))
        if p['health']:
            opts = p['health']
            project_dir = naming.project_dir(opts['fleet_root'], p['user'], p['project'], p['env'])
            extra.update(health_current=health_stamp.is_current(project_dir, opts['stamp'], opts['address'], opts['port']),
                         cron_present=os.path.exists('/usr/sbin/cron'))
    except (ValueError, DeployError, FleetDockerError, firewall_rules.FirewallError) as exc:
        module.fail_json(msg=str(exc))
    except DockerException as exc:
        module.fail_json(msg='the Docker engine refused: %s' % exc)
    except OSError as exc:
        module.fail_json(msg='cannot read the tenant\'s files: %s' % exc)
    module.exit_json(changed=False, changes=changes, services=services, **extra)


if __name__ == '__main__':
    main()
