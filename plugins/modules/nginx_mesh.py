#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: nginx_mesh
short_description: Configure a tenant's nginx sidecar or the server's shared edge proxy
version_added: 0.1.0
description:
  - Renders the nginx configuration of the service mesh on the Docker host the task runs on and converges
    the nginx container that serves it.
  - With O(kind=sidecar), the tenant's sidecar C({user}_{project}_{env}_nginx) on the tenant network (alias
    C(nginx), no published ports) listens on each route's internal port and proxies it, as a C(stream) for
    TCP routes and as C(http) for web routes, to every upstream C(ADDRESS:HOSTPORT).
  - With O(kind=edge), the tenant's fragment C(conf.d/{user}_{project}_{env}.conf) of the shared edge proxy
    C(fleet_edge) (on its own network C({container_name}_net), created and removed with it)
    routes each route's O(routes[].domain) (the Host header) to its upstreams. A domain that
    another tenant's fragment already routes is refused with an error naming both tenants.
  - A changed configuration is written next to the live file as C(*.new), tested with C(nginx -t) inside
    the running container (or a throw-away one when none runs), renamed into place and loaded with a
    graceful C(nginx -s reload); the module waits until every accepting worker is a new one. A refused
    configuration leaves the previous one serving and fails with nginx's error line.
  - The container is created when missing, started when stopped and recreated when its image, mount,
    network or published port differ from what is wanted. An unchanged configuration and container change
    nothing and reload nothing.
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
    support: full
    details: The diff shows the rendered configuration files before and after.
  idempotent:
    support: full
options:
  kind:
    description:
      - V(sidecar) manages the tenant's nginx sidecar, V(edge) the tenant's part of the server's shared edge proxy.
    type: str
    choices: [sidecar, edge]
    required: true
  routes:
    description:
      - The tenant's routes. The order does not matter; the output is sorted.
      - O(kind=edge) uses only the http routes with a O(routes[].domain); the others are ignored.
    type: list
    elements: dict
    default: []
    suboptions:
      service:
        description: The service name.
        type: str
        required: true
      protocol:
        description: V(tcp) for databases and other TCP services (an nginx C(stream) proxy), V(http) for web services.
        type: str
        choices: [tcp, http]
        default: http
      listen:
        description: The internal port the sidecar listens on (apps connect to C(nginx:listen)). Required for O(kind=sidecar).
        type: int
      domain:
        description: The domain the edge routes to this service (http routes only).
        type: str
      upstreams:
        description:
          - C(ADDRESS:HOSTPORT) of the active slot on every server that runs a replica.
          - Without upstreams an http route answers 503 and a tcp route is not listened on.
        type: list
        elements: str
        default: []
      tls:
        description:
          - The edge serves the domain over HTTPS (and its port 80 redirects) once its certificate is in
            O(certificates_dir). Until then it is served over HTTP, ACME challenges included.
        type: bool
        default: false
        version_added: 0.3.0
      hsts:
        description: With O(routes[].tls), the HTTPS answers carry C(Strict-Transport-Security) (two years).
        type: bool
        default: false
        version_added: 0.3.0
  image:
    description: The nginx image, for example V(nginx:1.25). Required with O(state=present).
    type: str
  config_dir:
    description:
      - The configuration directory on the Docker host, mounted read-only at C(/etc/nginx/fleet) in the container.
      - Sidecar, C({fleet_root}/{user}/{project}/{env}/config/nginx); edge, C({fleet_root}/.fleet/edge).
    type: path
    required: true
  network:
    description:
      - The tenant network the sidecar joins, created with C(fleet.*) labels when missing.
      - Defaults to C({user}_{project}_{env}_net). Only for O(kind=sidecar).
    type: str
  http_port:
    description: The host port the edge publishes (its port 80). Only for O(kind=edge).
    type: int
    default: 80
  bind_address:
    description: The host address the edge's ports are published on. Only for O(kind=edge).
    type: str
    default: 0.0.0.0
  https_port:
    description:
      - The host port the edge publishes its HTTPS listener on (its port 443); unset, the edge has none.
        A name no tenant serves with a certificate gets its handshake refused.
      - Only for O(kind=edge). Adding or changing it recreates the edge container once.
    type: int
    version_added: 0.3.0
  certificates_dir:
    description:
      - The tenant's certificates on the Docker host, C(DOMAIN.pem) each (private key and full chain, 0600),
        for its O(routes[].tls) domains. The edge keeps its own copy (0600 in a 0700 directory); a changed
        certificate is tested with C(nginx -t) and given to the running nginx without a reload, so no
        client connection is closed.
      - Only for O(kind=edge) with O(https_port).
    type: path
    version_added: 0.3.0
  edge:
    description:
      - With O(kind=sidecar), the tenant's edge too, in the same run, after the sidecar (the deploy role routes
        both at once). The keys are the edge's O(routes), O(config_dir), O(http_port), O(bind_address),
        O(https_port), O(certificates_dir) and O(container_name); the image and the tenant are this task's. The edge's result is RV(edge).
    type: dict
    version_added: 0.3.0
  promote:
    description:
      - Before the routes are applied, record each of these services' new slot as the one that serves, as
        M(projectdeployer.fleet.toggle_deploy) does with C(state=promoted), in this run instead of one of its own
        (the deploy role gives it once every server's startup group passed). All or none, under the env's deploy
        lock. When a slot cannot be recorded (its container no longer runs), the records written are put back, the
        module fails and no route changes.
      - RV(services) then says what runs here afterwards.
    type: dict
    version_added: 0.6.0
    suboptions:
      services:
        description: Each service and the slot that serves it from now on (toggle_deploy's RV(projectdeployer.fleet.toggle_deploy#module:active_slot)).
        type: list
        elements: dict
        required: true
        suboptions:
          service:
            description: The service.
            type: str
            required: true
          slot:
            description: Its new serving slot.
            type: str
            required: true
            choices: [primary, secondary]
      state_dir:
        description: The directory that records which slot serves, toggle_deploy's C(state_dir).
        type: path
        required: true
  retire:
    description:
      - Once the routes are applied (the sidecar's and, with O(edge), the edge's), hand the old slot of each of
        these services over to its retire, as M(projectdeployer.fleet.toggle_deploy) does with C(state=cleaned)
        and C(retire=background) (a detached process on the server drains, stops and removes it), in this run
        instead of one of its own.
      - Only when nothing else routes to these services' old slots, that is when this server's sidecar and edge
        are the only ones that route to them (the deploy role gives it when its server is alone in the play), or
        with O(retire.go_timeout).
      - A service with no old slot, or one already being retired, is left as it is.
    type: dict
    version_added: 0.6.0
    suboptions:
      services:
        description: The services whose old slot is retired.
        type: list
        elements: str
        required: true
      state_dir:
        description: The directory that records which slot serves, toggle_deploy's C(state_dir).
        type: path
        required: true
      drain_seconds:
        description: Seconds the old slot keeps running, for what it has in flight, before it is stopped.
        type: float
        default: 2
      stop_timeout:
        description: Seconds the old slot's container gets to stop before it is killed.
        type: int
        default: 10
      go_timeout:
        description:
          - Where other servers may still route to these old slots (several servers in the play), each retire
            waits, up to this many seconds, for its go file C({state_dir}/{service}.retiring.json.go) to be touched
            after this run before its drain begins; the deploy role touches it once every server's routes switched
            (a shell command, no module run). A retire never told leaves its container to the next deploy.
        type: float
        version_added: 0.7.0
  container_name:
    description:
      - The edge container's name, C(fleet_edge) when not set. Only for O(kind=edge); a sidecar's name is
        always C({user}_{project}_{env}_nginx).
      - Set it to run several edges on one engine (tests, simulated servers).
    type: str
  reload_timeout:
    description: Seconds to wait for a reload to take effect (all accepting workers new) before failing.
    type: int
    default: 30
  state:
    description:
      - V(present) renders the configuration and converges the container.
      - V(absent) removes the tenant's sidecar and its configuration (never the tenant network), or the
        tenant's edge fragment, reloading the edge; the edge container is removed with the last fragment.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Files are written 0644 in 0755 directories owned by root; nginx configs hold no secrets. Certificates and
    their keys are 0600 in a 0700 directory, never in a diff or a result.
  - Recreating a container (new image) interrupts that nginx briefly; configuration changes never do.
seealso:
  - module: projectdeployer.fleet.toggle_deploy
'''

EXAMPLES = r'''
- name: Route u1's services through its sidecar
  projectdeployer.fleet.nginx_mesh:
    kind: sidecar
    user: u1
    project: myapp
    env: prod
    image: nginx:1.25
    config_dir: /local/u1/myapp/prod/config/nginx
    routes:
      - {service: postgres, protocol: tcp, listen: 5234, upstreams: ["10.110.0.5:8357"]}
      - {service: api, protocol: http, listen: 5467, upstreams: ["10.110.0.5:8120", "10.110.0.6:8120"]}

- name: Route api.example.com on the server's edge
  projectdeployer.fleet.nginx_mesh:
    kind: edge
    user: u1
    project: myapp
    env: prod
    image: nginx:1.25
    config_dir: /local/.fleet/edge
    routes:
      - {service: api, domain: api.example.com, upstreams: ["10.110.0.5:8120", "10.110.0.6:8120"]}

- name: Remove u1's routes from the edge
  projectdeployer.fleet.nginx_mesh:
    kind: edge
    user: u1
    project: myapp
    env: prod
    config_dir: /local/.fleet/edge
    state: absent
'''

RETURN = r'''
edge:
  description: With O(edge), the edge's result (the keys below).
  returned: when O(edge) is given
  type: dict
config_path:
  description: The configuration file of this tenant (the sidecar's C(nginx.conf) or the edge fragment).
  returned: always
  type: str
  sample: /local/u1/myapp/prod/config/nginx/nginx.conf
container_id:
  description: The id of the nginx container; null when there is none.
  returned: always
  type: str
  sample: 3f4e1c0b9a7d...
container_action:
  description: What happened to the container (in check mode, what would happen).
  returned: always
  type: str
  choices: [none, created, recreated, started, removed]
  sample: none
reloaded:
  description: Whether nginx was gracefully reloaded with a new configuration.
  returned: always
  type: bool
  sample: true
routes:
  description: How many routes were rendered (for the edge, routes with a domain).
  returned: always
  type: int
  sample: 2
services:
  description:
    - With O(promote), what runs here after the promotion, as M(projectdeployer.fleet.deploy_info) returns it.
  returned: when O(promote) is given
  type: dict
retiring:
  description: With O(retire), the services whose old slot was handed over to its retire.
  returned: when O(retire) is given
  type: list
  elements: str
  sample: [api]
go_files:
  description:
    - With O(retire.go_timeout), the go file of each retire handed over; touching them tells those retires to
      begin their drain.
  returned: when O(retire.go_timeout) is given
  type: list
  elements: path
  sample: [/local/u1/myapp/prod/config/deploy/api.retiring.json.go]
  version_added: 0.7.0
certificates_checked:
  description:
    - The domains whose new certificate this run saw served by the edge over SNI (a handshake on the edge's HTTPS
      port from the server itself). A different certificate fails the run; an edge the server cannot reach on its
      own address is not checked.
  returned: with O(kind=edge) and O(https_port)
  type: list
  elements: str
  sample: [api.example.com]
certificates:
  description: The edge's domains of this tenant that are served over HTTPS.
  returned: with O(kind=edge) and O(https_port)
  type: list
  elements: str
  sample: [api.example.com]
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.apply import MESH_OPTIONS, MeshFailed, route
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client)


def main():
    module = AnsibleModule(
        argument_spec=MESH_OPTIONS,
        required_if=[('state', 'present', ('image',))],
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    try:
        client = get_client(p['docker_host'])
    except (FleetDockerError, DockerException) as exc:
        module.fail_json(msg='%s %s_%s_%s: %s' % (p['kind'], p['user'], p['project'], p['env'], exc))
    try:
        result = route(client, p, module.check_mode)
    except MeshFailed as exc:
        module.fail_json(msg=str(exc))
    diff = result.pop('diff')
    if module._diff and diff:
        result['diff'] = diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()
