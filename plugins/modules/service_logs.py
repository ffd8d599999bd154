#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: service_logs
short_description: A fleet service's logs with its error lines highlighted
version_added: 0.1.0
description:
  - Returns the last lines of the logs of the container that serves a service (the seed's C(logs())), found by
    several methods in turn (C(docker logs), the logs since start, the engine's log file, error files inside
    the container) so that a container that crashed early still tells why.
  - Package installation and build noise is filtered out; error lines and whole Python tracebacks are marked
    with a cross and also listed first under C(ERROR LINES DETECTED).
  - For a scheduled service, the log of its runs (kept under the project's C(logs/) directory) is read.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._tenant
  - projectdeployer.fleet._tenant.service
  - projectdeployer.fleet._tenant.docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  health_path:
    description:
      - The service's C(health_path). Access-log lines of requests to it (the deploy's checks, the image's own
        HEALTHCHECK) are left out unless O(health_lines); for V(/) only the image's own check (from 127.0.0.1) is.
    type: str
    version_added: 0.3.0
  health_lines:
    description: Keep the health-check lines.
    type: bool
    default: false
    version_added: 0.3.0
  lines:
    description: How many lines.
    type: int
    default: 100
  follow:
    description: Keep reading new lines for O(follow_seconds) before returning (a bounded C(--follow)).
    type: bool
    default: false
  since:
    description:
      - Only the lines logged since then - an age (V(30s), V(10m), V(2h), V(1d)) or a Unix time; what
        C(fleet logs --since) and C(--follow) ask for. Read from the engine's logs only.
    type: str
  follow_seconds:
    description: How long O(follow) reads.
    type: int
    default: 30
  state_dir:
    description: Where promotions record the serving slot.
    type: path
  logs_dir:
    description: The project's C(logs/) directory, where scheduled runs append their output.
    type: path
'''

EXAMPLES = r'''
- name: The api's last 100 lines
  projectdeployer.fleet.service_logs:
    user: u1
    project: myapp
    env: prod
    service: api
    state_dir: /local/u1/myapp/prod/config/deploy
  register: api_logs
'''

RETURN = r'''
health_lines_hidden:
  description: How many health-check lines were left out.
  returned: success
  type: int
container:
  description: The container the lines come from.
  returned: success
  type: str
method:
  description: The retrieval method that gave the lines.
  returned: success
  type: str
lines:
  description: The lines, error lines marked with a cross.
  returned: success
  type: list
  elements: str
error_lines:
  description: The error lines alone, under the seed's header; empty when there are none.
  returned: success
  type: list
  elements: str
'''

import os
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import read_active
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.container_logs import collect
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client, get_container)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.logs import (
    clean, highlight, mark, since_epoch, without_health_lines)


def pick_container(client, ids, state_dir):
    recorded = read_active(state_dir, ids[3]).get('slot')
    slots = [recorded] if recorded in naming.SLOTS else []
    slots += [s for s in naming.SLOTS if s not in slots]
    found = [get_container(client, naming.container_name(*ids, slot=s)) for s in slots]
    found = [c for c in found if c is not None]
    running = [c for c in found if c.status == 'running']
    return (running or found or [None])[0]


def runs_log(logs_dir, service, lines):
    path = os.path.join(logs_dir or '', service, 'runs.log')
    if not logs_dir or not os.path.exists(path):
        return None
    with open(path, errors='replace') as handle:
        return clean(handle.read())[-lines:]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            naming.tenant_argument_spec('required'),
            lines=dict(type='int', default=100),
            follow=dict(type='bool', default=False),
            follow_seconds=dict(type='int', default=30),
            since=dict(type='str'),
            state_dir=dict(type='path'),
            logs_dir=dict(type='path'),
            health_path=dict(type='str'),
            health_lines=dict(type='bool', default=False),
            docker_host=DOCKER_HOST_OPTION,
        ),
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    ids = (p['user'], p['project'], p['env'], p['service'])
    try:
        naming.check_ids(user=ids[0], project=ids[1], env=ids[2], service=ids[3])
        scheduled = runs_log(p['logs_dir'], p['service'], p['lines'])
        if scheduled is not None:
            module.exit_json(changed=False, container=None, method='runs log', lines=mark(scheduled),
                             error_lines=highlight(scheduled))
        container = pick_container(get_client(p['docker_host']), ids, p['state_dir'])
        if container is None:
            module.fail_json(msg='%s has no container on this host; fix: deploy it first' % naming.container_name(*ids))
        if p['follow']:
            time.sleep(max(0, min(p['follow_seconds'], 3600)))
        since = since_epoch(p['since'], time.time()) if p['since'] else None
        method, lines = collect(container, p['lines'], since)
        hidden = 0
        if not p['health_lines']:
            lines, hidden = without_health_lines(lines, p['health_path'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except (FleetDockerError, DockerException) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, container=container.name, method=method, lines=mark(lines),
                     error_lines=highlight(lines), health_lines_hidden=hidden)


if __name__ == '__main__':
    main()
