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

from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import read_active
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client)


def _parse_time(text):
    if not text or text.startswith('0001-'):
        return None
    text = text.rstrip('Z').split('.')[0]
    return datetime.strptime(text, '%Y-%m-%dT%H:%M:%S').replace(tzinfo=timezone.utc)


def describe(container, now):
    attrs = container.attrs
    state = attrs.get('State', {})
    started = _parse_time(state.get('StartedAt'))
    ports = {}
    for key, bindings in (attrs.get('NetworkSettings', {}).get('Ports') or {}).items():
        if bindings:
            ports[key.split('/')[0]] = int(bindings[0]['HostPort'])
    labels = container.labels
    return {
        'name': container.name,
        'slot': labels.get('fleet.slot'),
        'status': state.get('Status'),
        'version': labels.get('fleet.version'),
        'config_hash': labels.get('fleet.config_hash'),
        'deployed_at': labels.get('fleet.deployed_at'),
        'uptime_seconds': int((now - started).total_seconds()) if started and state.get('Running') else 0,
        'restart_count': attrs.get('RestartCount', 0),
        'exit_code': state.get('ExitCode'),
        'health': (state.get('Health') or {}).get('Status') or ('running' if state.get('Running') else state.get('Status')),
        'image': (attrs.get('Config') or {}).get('Image'),
        'host_ports': ports,
    }


def summarize(containers, recorded):
    """Pick the serving slot of one service from its containers and the recorded promotion."""
    running = dict((c['slot'], c) for c in containers if c['status'] == 'running')
    slot = recorded.get('slot') if recorded.get('slot') in running else None
    if slot is None and running:
        slot = sorted(running, key=lambda s: running[s]['deployed_at'] or '')[0] if len(running) > 1 else list(running)[0]
    active = running.get(slot) if slot else None
    return {
        'active_slot': slot,
        'active_container': active['name'] if active else None,
        'active_port': (list(active['host_ports'].values()) or [None])[0] if active else None,
        'active_version': active['version'] if active else None,
        'containers': sorted(containers, key=lambda c: c['name']),
    }


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
        client = get_client(p['docker_host'])
        filters = {'label': ['fleet.user=%s' % p['user'], 'fleet.project=%s' % p['project'], 'fleet.env=%s' % p['env']]}
        if p['service']:
            filters['label'].append('fleet.service=%s' % p['service'])
        now = datetime.now(timezone.utc)
        by_service = {}
        for container in client.containers.list(all=True, filters=filters):
            service = container.labels.get('fleet.service')
            if service and container.labels.get('fleet.slot'):
                by_service.setdefault(service, []).append(describe(container, now))
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except (FleetDockerError, DockerException) as exc:
        module.fail_json(msg=str(exc))
    services = dict((name, summarize(items, read_active(p['state_dir'], name))) for name, items in by_service.items())
    module.exit_json(changed=False, services=services)


if __name__ == '__main__':
    main()
