#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: deploy_info
short_description: What runs of a fleet project environment on a Docker host
version_added: 0.1.0
description:
  - Lists the containers of one user's project environment on the Docker host the task runs on, from their
    C(fleet.*) labels (the source of truth for state), with the slot that serves each service, its host port,
    version, health and uptime. This is the seed's C(get_deployment_state) and the data behind C(status.yml).
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
  service:
    description: Only this service.
    type: str
  state_dir:
    description: The directory where promotions record the serving slot (see M(projectdeployer.fleet.toggle_deploy)).
    type: path
'''

EXAMPLES = r'''
- name: What runs of u1's myapp prod here
  projectdeployer.fleet.deploy_info:
    user: u1
    project: myapp
    env: prod
    state_dir: /local/u1/myapp/prod/config/deploy
  register: running
'''

RETURN = r'''
services:
  description: Per service, its containers and the serving slot.
  returned: always
  type: dict
  sample:
    api:
      active_slot: secondary
      active_port: 18988
      active_version: "2"
      active_container: u1_myapp_prod_api_secondary
      containers:
        - name: u1_myapp_prod_api_secondary
          slot: secondary
          status: running
          version: "2"
          config_hash: 3f2a9c0d1e2b4a5c
          deployed_at: "2026-11-23T20:00:00Z"
          uptime_seconds: 125
          restart_count: 0
          health: healthy
          image: u1_myapp_prod_api:2
          host_ports: {"8000": 18988}
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.running import running_services
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            naming.tenant_argument_spec('optional'),
            state_dir=dict(type='path'),
            docker_host=DOCKER_HOST_OPTION,
        ),
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    try:
        naming.check_ids(user=p['user'], project=p['project'], env=p['env'], service=p['service'])
        services = running_services(get_client(p['docker_host']), p['user'], p['project'], p['env'],
                                    p['state_dir'], p['service'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except (FleetDockerError, DockerException) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, services=services)


if __name__ == '__main__':
    main()
