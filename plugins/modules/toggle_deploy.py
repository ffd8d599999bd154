#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: toggle_deploy
short_description: Deploy one fleet service on one Docker host with zero downtime
version_added: 0.1.0
description:
  - Deploys one service of a user's project environment on the Docker host the task runs on.
  - B(Stateless) services toggle between the primary container C({user}_{project}_{env}_{service}) on the
    base host port and C(..._secondary) on the secondary port. With O(state=started) the new version is
    started in the free slot and health-checked while the old one keeps serving; the caller then
    records the new slot with O(state=promoted), switches the mesh, and calls O(state=cleaned), which
    removes the old container after a drain period. A new version that fails its health check is
    removed; the old one never stopped.
  - B(Stateful) services (O(data_path) set) never run twice on one data directory. They are recreated only
    when their image or configuration changed; if the new container fails its check it is removed and the
    previous one is started again on the same data.
  - B(Scheduled) services (O(state=created)) get their container created, not started; a timer starts it.
  - An unchanged image and configuration changes nothing and restarts nothing.
  - Failures report the container's state, exit code and its error lines marked with a cross, found by
    several log retrieval methods.
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
    description: The service name, for example V(api). One of O(service) and O(services) is required.
    type: str
  services:
    description:
      - Several services of the tenant at once, each entry with this module's per-service options (O(service),
        O(image), O(command), ...); O(user), O(project), O(env), O(state), O(state_dir), O(drain_seconds),
        O(retire), O(stop_timeout), O(log_lines) and O(docker_host) come from the task unless an entry sets them.
      - They run side by side in one module run (a startup group's services start and pass their health checks
        in parallel; a group's old versions drain together). The result is then RV(results); the task fails when
        one of them failed, with every service's outcome in RV(results).
    type: list
    elements: dict
    version_added: 0.3.0
  promote:
    description:
      - With O(services) and O(state=started), when every service started and passed its checks, record each new
        slot as serving at once (as O(state=promoted) would), in the same run. Only where nothing after the start
        can fail the group and no other server's failure can undo it (in the deploy role, a server alone in the
        play, a group without a scheduled service); RV(promoted) says it was done.
    type: bool
    default: false
    version_added: 0.3.0
  mesh:
    description:
      - With O(promote), once the new slots are recorded, route this server's tenant sidecar and (for the services
        with a domain) its part of the edge to what serves here, then hand the old slots of the started services
        over to their retire (a detached process drains, stops and removes each), in the same run, as
        M(projectdeployer.fleet.nginx_mesh) with its C(promote) and C(retire) would in a run of its own.
      - Only for a server that nothing but its own sidecar and edge routes to (in the deploy role, a server alone
        in the play); the routes are computed from what serves on it.
      - A routing that fails fails nothing here (the slots stay recorded as serving) and is said in RV(mesh_error);
        the deploy role then runs M(projectdeployer.fleet.nginx_mesh), which routes or fails with that error.
    type: dict
    version_added: 0.7.0
    suboptions:
      services:
        description:
          - The project's services as M(projectdeployer.fleet.project_spec) plans them (C(service), C(type),
            C(container_port), C(internal_port), C(domain), C(ssl_mode), C(hsts)); the routes are made from them.
        type: list
        elements: dict
        required: true
      address:
        description: This server's private address, which the routes' upstreams name.
        type: str
        required: true
      zone:
        description: This server's zone, or none.
        type: str
      image:
        description: The sidecar's image (M(projectdeployer.fleet.nginx_mesh)'s O(projectdeployer.fleet.nginx_mesh#module:image)).
        type: str
        required: true
      config_dir:
        description: The sidecar's configuration directory.
        type: path
        required: true
      network:
        description: The tenant network the sidecar joins.
        type: str
        required: true
      edge:
        description:
          - The edge's options, M(projectdeployer.fleet.nginx_mesh)'s O(projectdeployer.fleet.nginx_mesh#module:edge)
            but its routes (C(config_dir), C(http_port), C(https_port), C(certificates_dir), C(bind_address),
            C(container_name)); used when a service has a domain.
        type: dict
      drain_seconds:
        description: Seconds an old slot keeps running, for what it has in flight, before it is stopped.
        type: float
        default: 2
  state:
    description:
      - V(started) starts the wanted version (toggling to the free slot for stateless services) and checks its health.
      - V(promoted) records O(slot) as the serving slot, once every sidecar and edge is about to point at it.
      - V(cleaned) stops and removes the container of the slot that does not serve, after O(drain_seconds).
      - V(created) creates the container of a scheduled service without starting it.
      - V(absent) removes the service's containers (never its volumes).
    type: str
    choices: [started, promoted, cleaned, created, absent]
    default: started
  slot:
    description: The slot to promote, as returned by O(state=started) in RV(active_slot).
    type: str
    choices: [primary, secondary]
  image:
    description: The image to run. Pulled when the host lacks it.
    type: str
  command:
    description: The command, as a string split like a shell would, or a list.
    type: raw
  env_vars:
    description:
      - Environment variables that are not secret (the wiring to dependencies, ports, names).
      - Values that may be secret go in O(env_file), so they never pass through the module's arguments.
    type: dict
    default: {}
  env_file:
    description:
      - A C(KEY=VALUE) file on the host (mode 0600) whose variables are added to O(env_vars); the user's own
        C(env_vars) from the spec arrive this way. Its content counts in the configuration hash.
    type: path
  secrets:
    description: Files on the host mounted read-only into the container.
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: The file on the host.
        type: path
        required: true
      target:
        description: The path inside the container; default C(/run/secrets/<file name>).
        type: str
      owner:
        description:
          - The uid the container reads the file as, when it is not root (for example V(1000) for built apps,
            V(999) for the redis image). A copy owned by that uid, mode 0400, is mounted instead of the file;
            the source stays root's, 0600, in its 0700 directory.
        type: int
      in_place:
        description:
          - The file is a database's own password, which secret rotation (C(rotate_secrets.yml)) applies to the running
            server and writes in place. Its content then does not count in the container's configuration, so a
            rotation never recreates the database.
        type: bool
        default: false
  volumes:
    description: Extra mounts in Docker's C(source:target[:ro]) form.
    type: list
    elements: str
    default: []
  data_path:
    description: Where the service keeps its data inside the container. Setting it makes the service stateful, with the
      volume C({user}_{project}_{env}_data_{service}) mounted there.
    type: str
  container_port:
    description: The port the service listens on inside the container.
    type: int
  host_port:
    description: The base host port (primary slot, and the only one of a stateful service).
    type: int
  secondary_port:
    description: The host port of the secondary slot.
    type: int
  bind_address:
    description: The host address ports are published on (the server's private address).
    type: str
    default: 127.0.0.1
  network:
    description: The tenant's Docker network.
    type: str
  labels:
    description: Extra labels.
    type: dict
    default: {}
  version:
    description: The version recorded in the C(fleet.version) label.
    type: str
    default: latest
  mem_limit:
    description: Memory limit, for example V(512m).
    type: str
  mem_reservation:
    description: Memory reservation, for example V(256m).
    type: str
  cpus:
    description: CPU limit in cores, for example V(1.0).
    type: float
  shm_size:
    description:
      - Size of the container's C(/dev/shm) in Docker syntax, for example V(256m); Docker's 64 MiB when not set.
      - Part of the configuration hash only when set.
    type: str
    version_added: 0.2.0
  restart:
    description: Restart the container when it stops (policy C(unless-stopped)).
    type: bool
    default: true
  health:
    description: The health check of a new container.
    type: dict
    default: {}
    suboptions:
      type:
        description: V(http) asks O(health.path) on the host port; V(postgres) runs pg_isready; V(redis) sends PING;
          V(tcp) connects; V(running) waits O(health.stable_seconds) without a restart; V(none) skips the check.
        type: str
        choices: [http, postgres, redis, tcp, running, none]
        default: running
      path:
        description: The HTTP path.
        type: str
        default: /
      host:
        description:
          - The Host header of an HTTP check (the service's domain); without it C(ADDRESS:PORT).
        type: str
      retries:
        description: How many tries.
        type: int
        default: 6
      interval:
        description: Seconds between tries.
        type: float
        default: 10
      start_period:
        description: Seconds of grace before the first try.
        type: float
        default: 0
      timeout:
        description: Seconds each try may take.
        type: float
        default: 5
      stable_seconds:
        description: For V(running), how long the container must stay up without a restart.
        type: float
        default: 5
  state_dir:
    description: Directory on the host that records which slot serves, one file per service.
    type: path
  drain_seconds:
    description: Seconds between the switch and stopping the old container, for in-flight requests to finish.
    type: float
    default: 2
  retire:
    description:
      - How O(state=cleaned) stops and removes the old slot's container.
      - V(wait) does it in the module run, after O(drain_seconds).
      - V(background) hands it to a detached process on the server and returns at once, so the deploy goes on
        while the old container drains. That process stops and removes the container, by its id, after
        O(drain_seconds); a marker file in O(state_dir) says meanwhile that it is on its way out, so a deploy in
        between counts it as gone and a toggle that needs its slot waits for it (at most O(drain_seconds) +
        O(stop_timeout) + 30 s).
    type: str
    choices: [wait, background]
    default: wait
    version_added: 0.6.0
  stop_timeout:
    description: Seconds a container gets to stop before it is killed.
    type: int
    default: 10
  log_lines:
    description: How many log lines a failure report looks at.
    type: int
    default: 80
'''

EXAMPLES = r'''
- name: Start the new version of the api next to the old one
  projectdeployer.fleet.toggle_deploy:
    user: u1
    project: myapp
    env: prod
    service: api
    image: u1_myapp_prod_api:2
    container_port: 8000
    host_port: 8988
    secondary_port: 18988
    bind_address: 10.110.0.5
    network: u1_myapp_prod_net
    health: {type: http, path: /health}
    state_dir: /local/u1/myapp/prod/config/deploy
  register: api

- name: Record that it serves
  projectdeployer.fleet.toggle_deploy:
    user: u1
    project: myapp
    env: prod
    service: api
    state: promoted
    slot: "{{ api.active_slot }}"
    state_dir: /local/u1/myapp/prod/config/deploy

# ... switch every sidecar and edge with projectdeployer.fleet.nginx_mesh ...

- name: Stop the old version once in-flight requests are done
  projectdeployer.fleet.toggle_deploy:
    user: u1
    project: myapp
    env: prod
    service: api
    state: cleaned
    state_dir: /local/u1/myapp/prod/config/deploy
'''

RETURN = r'''
results:
  description: With O(services), each service's result (the keys below), with C(item) naming the service; a failed
    one has C(failed), C(msg) and, after a failed health check, C(error_lines) and C(container_state).
  returned: with O(services)
  type: list
  elements: dict
promoted:
  description: With O(promote), true when the new slots were recorded as serving.
  returned: when they were
  type: bool
routed:
  description: With O(mesh), whether the sidecar and the edge were routed (and the old slots retired) in this run.
  returned: when the new slots were promoted and O(mesh) is given
  type: bool
mesh:
  description:
    - With O(mesh), the routing run's result, as M(projectdeployer.fleet.nginx_mesh) returns it (C(edge),
      C(reloaded), C(retiring), ...).
  returned: when RV(routed) is true
  type: dict
mesh_error:
  description: With O(mesh), why the routing failed (RV(routed) is false).
  returned: when the routing failed
  type: str
services:
  description: With O(services) and O(state=started) or O(state=promoted), what runs here afterwards, as M(projectdeployer.fleet.deploy_info) returns it.
  returned: with O(services) and O(state=started) or O(state=promoted)
  type: dict
settled:
  description:
    - With O(state=started), true when the service was already serving this configuration, its slot is the recorded
      one and its other slot holds no container, so V(promoted) and V(cleaned) would do nothing.
  returned: always
  type: bool
  sample: true
action:
  description: What was done, one of V(none), V(started), V(resumed), V(recreated), V(promoted), V(created), V(removed),
    V(retiring) (with O(retire=background), the old container is being drained and removed on the server).
  returned: always
  type: str
  sample: started
active_slot:
  description: The slot that serves (after O(state=started), the slot to promote).
  returned: success
  type: str
  sample: secondary
active_container:
  description: The name of that slot's container.
  returned: success
  type: str
  sample: u1_myapp_prod_api_secondary
active_port:
  description: The host port of that slot.
  returned: success
  type: int
  sample: 18988
previous_slot:
  description: The slot that served before, if any.
  returned: success
  type: str
  sample: primary
config_hash:
  description: The hash of the wanted image and configuration, also in the C(fleet.config_hash) label.
  returned: success
  type: str
container_id:
  description: The id of the active container.
  returned: success
  type: str
version:
  description: The version of the active container.
  returned: success
  type: str
image:
  description: The image of the active container.
  returned: success
  type: str
image_id:
  description: The id (content digest) of the image the active container runs; a rollback to this deploy runs it again.
  returned: success
  type: str
  sample: sha256:5fbc482abdf6c4a4...
repo_digests:
  description: The registry digests of that image, when it was pulled from or pushed to a registry.
  returned: success
  type: list
  elements: str
health:
  description: What each health try found.
  returned: always
  type: list
  elements: str
error_lines:
  description: On a failed health check, the container's error lines marked with a cross, error lines first.
  returned: failure
  type: list
  elements: str
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.running import running_services
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import read_active
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.promote import promote_each
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggler import TOGGLE_OPTIONS, run_many
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.deploy_lock import LockBusy, held
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import definitions
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.apply import MeshFailed, route
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.lone_server import MESH_OPTION, routing_params


# the options every entry of O(services) takes from the task itself
SHARED = ('user', 'project', 'env', 'state', 'state_dir', 'drain_seconds', 'retire', 'stop_timeout', 'log_lines', 'docker_host')


def entries(params):
    """Each entry of O(services), completed with the task's shared options and checked like a task of its own."""
    checked = []
    for entry in params['services']:
        given = dict((key, params[key]) for key in SHARED)
        given.update(entry)
        validated = ArgumentSpecValidator(TOGGLE_OPTIONS).validate(given)
        if validated.error_messages:
            raise ValueError('services: %s: %s' % (entry.get('service'), '; '.join(validated.error_messages)))
        checked.append(validated.validated_parameters)
    return checked


def promote_all(todo, results, client_factory):
    """Record each started service's new slot as serving (O(promote)). All or none: when one cannot be recorded,
    the records written are put back (the group then fails and its new versions are discarded, the old ones
    serving as recorded) and that service's result is failed."""
    pairs = [(params, result) for params, result in zip(todo, results)
             if not result.get('settled') and params['state'] == 'started']
    failed, dummy = promote_each([(params, result['active_slot']) for params, result in pairs], client_factory)
    if failed is not None:
        for params, result in pairs:
            if params['service'] == failed['item']:
                result.update(failed=True, msg=failed['msg'])


def remember_definitions(todo, results):
    """Keep each started and checked service's definition for the health agent (module_utils/_health/definitions):
    beside O(state_dir), in C(../health/)."""
    for params, result in zip(todo, results):
        if params['state'] != 'started' or result.get('failed') or not params['state_dir'] or not result.get('config_hash'):
            continue
        project_dir = os.path.dirname(os.path.dirname(params['state_dir'].rstrip('/')))
        serving = read_active(params['state_dir'], params['service']).get('config_hash')
        definitions.remember(project_dir, params['service'], result['config_hash'], params, serving_hash=serving)


def route_here(client, p, results, running):
    """O(mesh): this server's sidecar and edge routed to what serves here (``running``), the old slots of the
    started services retired; the module's extra results (RV(routed), RV(mesh) or RV(mesh_error))."""
    try:
        params = routing_params(p, p['mesh'], running, [r['item'] for r in results if not r.get('settled')])
        routed = route(client, params, False)
    except (MeshFailed, ValueError) as exc:
        return {'routed': False, 'mesh_error': str(exc)}
    routed.pop('diff')
    return {'routed': True, 'mesh': routed}


def main():
    module = AnsibleModule(
        argument_spec=dict(TOGGLE_OPTIONS, service=dict(type='str'), services=dict(type='list', elements='dict'),
                           promote=dict(type='bool', default=False), mesh=MESH_OPTION),
        required_one_of=[('service', 'services')],
        mutually_exclusive=[('service', 'services')],
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    try:
        get_client(p['docker_host'])
        todo = entries(p) if p['services'] is not None else [p]
    except (ValueError, FleetDockerError) as exc:
        module.fail_json(msg=str(exc))
    promoted = False
    try:
        with held(p['state_dir']):
            results = run_many(todo, lambda: get_client(p['docker_host']), module.check_mode)
            if not module.check_mode:
                remember_definitions(todo, results)
            if p['promote'] and p['state'] == 'started' and not module.check_mode \
                    and not any(r.get('failed') for r in results):
                promote_all(todo, results, lambda: get_client(p['docker_host']))
                promoted = True
    except LockBusy as exc:
        module.fail_json(msg='%s; fix: wait for the other deploy to finish' % exc)
    if p['services'] is None:
        result = results[0]
        result.pop('item')
        if result.pop('failed'):
            result.pop('action')
            result.pop('settled')
            module.fail_json(**result)
        module.exit_json(**result)
    failed = [r for r in results if r.get('failed')]
    extra = {}
    if promoted:
        extra['promoted'] = True
        failed = [r for r in results if r.get('failed')]
    if p['state'] in ('started', 'promoted'):
        try:
            client = get_client(p['docker_host'])
            extra['services'] = running_services(client, p['user'], p['project'], p['env'], p['state_dir'])
        except (FleetDockerError, DockerException) as exc:
            module.fail_json(msg='what runs here cannot be read: %s' % exc, results=results)
        if promoted and p['mesh'] is not None:
            extra.update(route_here(client, p, results, extra['services']))
    changed = any(r.get('changed') for r in results) or bool(extra.get('mesh', {}).get('changed'))
    module.exit_json(changed=changed, results=results, failed=bool(failed),
                     msg='; '.join(r['msg'] for r in failed) if failed else '%d services' % len(results), **extra)


if __name__ == '__main__':
    main()
