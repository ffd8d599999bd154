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
  - The deploy role asks the same questions in each server's preparation run (M(projectdeployer.fleet.project_host)'s
    O(projectdeployer.fleet.project_host#module:look), the same code) and skips every startup group in which no
    server has a change, the way C(terraform plan) or Kamal's "already running" check short-circuit. This module
    asks them in a run of its own, changing nothing.
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
        runs that module only when something differs. Returned as RV(firewall_current).
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

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.changes import LOOK_OPTIONS, look
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggler import DeployError
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall import rules as firewall_rules
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming


def main():
    module = AnsibleModule(
        argument_spec=dict(naming.tenant_argument_spec(None), docker_host=DOCKER_HOST_OPTION, **LOOK_OPTIONS),
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    try:
        naming.check_ids(user=p['user'], project=p['project'], env=p['env'])
        answer = look(module, get_client(p['docker_host']), p)
    except (ValueError, DeployError, FleetDockerError, firewall_rules.FirewallError) as exc:
        module.fail_json(msg=str(exc))
    except DockerException as exc:
        module.fail_json(msg='the Docker engine refused: %s' % exc)
    except OSError as exc:
        module.fail_json(msg='cannot read the tenant\'s files: %s' % exc)
    module.exit_json(changed=False, **answer)


if __name__ == '__main__':
    main()
