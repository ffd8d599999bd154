#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: tenant_remove
short_description: Remove a fleet project environment, or its services that left the spec, from a server
version_added: 0.2.0
description:
  - Removes what one user's project environment (the tenant C({user}_{project}_{env})) put on the server the task
    runs on, and lists what it removed and what it kept.
  - What exists is read from the server itself, never from a state file of the collection's own - the containers'
    C(fleet.user)/C(fleet.project)/C(fleet.env)/C(fleet.service) labels, the cron files
    C(fleet_{user}_{project}_{env}_*), the volumes named C({user}_{project}_{env}_*), the tenant's entries in the
    shared port state and the files in the tenant directory C({fleet_root}/{user}/{project}/{env}).
  - With O(state=pruned) (a deploy of the whole env does it), every service of the tenant that is not in
    O(services) goes - its containers (both toggle slots, a scheduled service's job container, helpers), its cron files
    (the schedule and the backup schedule) and its run files (the recorded slot, its environment file, its logs). Its
    data volume, data directory C(data/{service}), backups, passwords and port reservations are kept unless
    O(purge), so a service put back in the spec finds its data, the passwords that open it and the same ports. A
    named volume that no service of the spec mounts any more is kept or purged the same way. The service's routes
    are not this module's - the deploy rerenders the sidecar and the edge from the spec first.
  - With O(state=absent) (C(remove.yml)), the whole tenant goes - every container (the sidecar included), the tenant
    network, every cron file, every entry in the shared port state, and the tenant directory except C(data/),
    C(backups/) and C(secrets/) (the passwords the kept databases were initialised with). O(purge) also removes
    the tenant's volumes and the tenant directory whole. The tenant's edge fragment is
    M(projectdeployer.fleet.nginx_mesh)'s (O(projectdeployer.fleet.nginx_mesh#module:kind=edge), O(projectdeployer.fleet.nginx_mesh#module:state=absent)).
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._tenant
  - projectdeployer.fleet._tenant.docker
attributes:
  check_mode:
    support: full
    details: Lists what would be removed and kept; nothing is touched.
  diff_mode:
    support: full
    details: The diff lists the tenant's things on the server before and after.
  idempotent:
    support: full
options:
  state:
    description:
      - V(pruned) removes the services that are not in O(services).
      - V(absent) removes the whole tenant from the server.
    type: str
    choices: [pruned, absent]
    required: true
  services:
    description: The services of the spec, which stay. Required with O(state=pruned).
    type: list
    elements: str
  volumes:
    description: The spec's named volumes (the short names, for example V(uploads)), which stay. Only for O(state=pruned).
    type: list
    elements: str
    default: []
  purge:
    description: Also remove what is kept otherwise - volumes, data, backups, passwords (and with O(state=pruned) the port reservations).
    type: bool
    default: false
  fleet_root:
    description: Root of the per-user directories on the server.
    type: path
    default: /local
  cron_dir:
    description: The cron directory the schedules are in.
    type: path
    default: /etc/cron.d
  port_state:
    description: The server's shared port state; C({fleet_root}/.fleet/ports.json) when not set.
    type: path
notes:
  - The tenant's images stay - they are the controller's build cache and what C(rollback.yml) runs.
  - The controller's own folder (O(fleet_root) on the controller, when it is not the server's) is not touched.
seealso:
  - module: projectdeployer.fleet.nginx_mesh
  - module: projectdeployer.fleet.toggle_deploy
'''

EXAMPLES = r'''
- name: Remove the services that left the spec (data, backups and ports kept)
  projectdeployer.fleet.tenant_remove:
    user: u1
    project: myapp
    env: prod
    state: pruned
    services: [postgres, redis, api]
  register: pruned

- name: Show what went and what stayed
  ansible.builtin.debug:
    msg: "{{ {'removed': pruned.removed, 'kept': pruned.kept} }}"

- name: Remove u1's myapp prod from this server, data and all
  projectdeployer.fleet.tenant_remove:
    user: u1
    project: myapp
    env: prod
    state: absent
    purge: true
'''

RETURN = r'''
removed:
  description: What was removed (in check mode, what would be), one readable line each.
  returned: always
  type: list
  elements: str
  sample:
    - cron /etc/cron.d/fleet_u1_myapp_prod_report (service report, schedule)
    - container u1_myapp_prod_web (service web)
kept:
  description: What stays and O(purge) would remove, one readable line each.
  returned: always
  type: list
  elements: str
  sample:
    - volume u1_myapp_prod_data_postgres (service postgres, data)
    - path /local/u1/myapp/prod/backups/postgres_backup_20261201_020000.dump (service postgres)
services:
  description: The services of the tenant found on the server that are not in O(services) (all of them with O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [web]
items:
  description: The same as structured records, in the order they are handled.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: What it is.
      type: str
      choices: [cron, container, network, volume, path, port]
    name:
      description: Its name; for V(path) relative to the tenant directory (V(.) is the directory itself).
      type: str
    action:
      description: What happens to it.
      type: str
      choices: [remove, keep]
    service:
      description: The service it belongs to, when it belongs to one.
      type: str
    detail:
      description: More about it (a cron file's kind, a port's number).
      type: str
msg:
  description: One line - how many things went and how many stayed.
  returned: always
  type: str
  sample: "u1_myapp_prod: removed 4 things, kept 2 (-e fleet_purge=true removes them)"
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._tenant import footprint, server
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.deploy_lock import held
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client)


def run(module, client):
    p = module.params
    ids = (p['user'], p['project'], p['env'])
    prefix = naming.prefix(*ids)
    port_file = server.port_state_path(p['fleet_root'], p['port_state'])
    whole = p['state'] == 'absent'
    if whole:
        found = server.gather(client, ids, p['fleet_root'], p['cron_dir'], port_file, whole=True)
        items = footprint.plan_absent(prefix, found, purge=p['purge'])
        services = sorted(footprint.known_services(prefix, found))
        project_dir = found['project_dir'] or naming.project_dir(p['fleet_root'], *ids)
        lines = dict((id(entry), footprint.describe(entry, project_dir, p['cron_dir'])) for entry in items)
    else:
        found, services, items, lines = server.prune_plan(client, ids, p['fleet_root'], p['cron_dir'], port_file,
                                                          p['services'], p['volumes'], purge=p['purge'])
        project_dir = found['project_dir'] or naming.project_dir(p['fleet_root'], *ids)
    removed, kept = footprint.split_lines(items, lines)
    if removed and not module.check_mode:
        # the health agent never heals what is being removed (it leaves a locked env alone)
        with held(os.path.join(project_dir, 'config', 'deploy') if os.path.isdir(project_dir) else None):
            server.apply(found, items, p['fleet_root'], p['cron_dir'], port_file)
    result = {
        'changed': bool(removed),
        'removed': removed,
        'kept': kept,
        'services': services,
        'items': items,
        'msg': footprint.summary(removed, kept, p['purge'], module.check_mode, prefix),
    }
    if module._diff:
        before = [lines[id(e)] for e in items]
        result['diff'] = {'before_header': prefix, 'after_header': prefix,
                          'before': '\n'.join(before) + ('\n' if before else ''),
                          'after': '\n'.join(kept) + ('\n' if kept else '')}
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            naming.tenant_argument_spec(None),
            state=dict(type='str', required=True, choices=['pruned', 'absent']),
            services=dict(type='list', elements='str'),
            volumes=dict(type='list', elements='str', default=[]),
            purge=dict(type='bool', default=False),
            fleet_root=dict(type='path', default='/local'),
            cron_dir=dict(type='path', default='/etc/cron.d'),
            port_state=dict(type='path'),
            docker_host=DOCKER_HOST_OPTION,
        ),
        required_if=[('state', 'pruned', ('services',))],
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    what = naming.prefix(p['user'], p['project'], p['env'])
    try:
        naming.check_ids(user=p['user'], project=p['project'], env=p['env'])
        for service in p['services'] or []:
            naming.check_ids(service=service)
        result = run(module, get_client(p['docker_host']))
    except ValueError as exc:
        module.fail_json(msg='%s: %s' % (what, exc))
    except FleetDockerError as exc:
        module.fail_json(msg='%s: %s' % (what, exc))
    except (DockerException, OSError) as exc:
        module.fail_json(msg='%s: %s' % (what, exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
