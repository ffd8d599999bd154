#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: project_host
short_description: Prepare a project environment on its server in one step
version_added: 0.3.0
description:
  - Everything a deploy needs on a server before its containers, in one idempotent module run (each of these was a
    task, or a task per item, before; a deploy that changes nothing now costs one run here). It makes
  - the project's directories with their modes (as M(projectdeployer.fleet.project_dirs));
  - the database passwords pushed from the controller and the client files derived from them (C(pgpass),
    C(redis.conf)), each 0600 under the 0700 C(secrets/);
  - each service's own environment file C(secrets/{service}.env), 0600;
  - the tenant's Docker networks;
  - the address the host ports bind to (O(address), or the Docker bridge's own) and the host ports of every
    service with a container port, reserved in O(port_state_file) (as M(projectdeployer.fleet.port_hash)).
  - The tenant's host firewall (O(firewall)) over those ports.
  - Which of the images a deploy needs here the engine lacks (O(images)), so that the delivery sends only those
    without a query of its own.
  - A file is written only when its content or mode differs; nothing is ever printed of a secret or an
    environment file.
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
  path:
    description: The project environment's directory, C({fleet_root}/{user}/{project}/{env}).
    type: path
    required: true
  databases:
    description:
      - The project's database services and their type, V(postgres) or V(redis). Each gets
        C(secrets/{service}_password) from O(passwords) and its client file, C({service}_pgpass) (postgres) or
        C({service}_redis.conf) (redis), in the formats of M(projectdeployer.fleet.secret).
    type: dict
    default: {}
  passwords:
    description: Each database service's password, as the controller keeps it (never logged).
    type: dict
    default: {}
  env_files:
    description: Each service's own variables, written to C(secrets/{service}.env).
    type: dict
    default: {}
  certificates:
    description:
      - The certificates of the project's HTTPS domains, as the controller keeps them (private key and full
        chain in one PEM text per domain, never logged), written to C(tls/{domain}.pem) (0600, directory 0700),
        where the edge takes them from (the O(projectdeployer.fleet.nginx_mesh#module:certificates_dir) of M(projectdeployer.fleet.nginx_mesh)).
    type: dict
    default: {}
    version_added: 0.3.0
  networks:
    description: Docker networks to create when missing (never recreated).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The network's name.
        type: str
        required: true
      labels:
        description: Its labels.
        type: dict
        default: {}
  address:
    description:
      - The server's address the host ports bind to. Empty means the address of O(bridge_interface), the embedded
        default's private address.
    type: str
    default: ''
  bridge_interface:
    description: The Docker bridge whose address stands in for an empty O(address).
    type: str
    default: docker0
  host_ports:
    description: The services with a container port and that port; their host ports are reserved on this server.
    type: dict
    default: {}
  port_state_file:
    description: The server's port reservations (required with O(host_ports)).
    type: path
  firewall:
    description:
      - The tenant's host firewall, as M(projectdeployer.fleet.host_firewall) makes it, for the host ports of
        O(host_ports) (both slots); left out, the firewall is not touched.
    type: dict
    suboptions:
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
    version_added: 0.3.0
  images:
    description:
      - Image ids (C(sha256:...)) the deploy needs on this server; RV(images_missing) lists those the engine lacks.
        Only looked up, never pulled or removed.
    type: list
    elements: str
    default: []
    version_added: 0.3.0
  look:
    description:
      - Also tell, at the end of this run, what a deploy would change on this server, changing nothing. The deploy
        role gives it for a deploy of the whole env, which then needs no M(projectdeployer.fleet.deploy_changes)
        run. Returned as RV(look).
      - The options of M(projectdeployer.fleet.deploy_changes) (its O(projectdeployer.fleet.deploy_changes#module:services),
        O(projectdeployer.fleet.deploy_changes#module:cron_jobs), O(projectdeployer.fleet.deploy_changes#module:state_dir),
        O(projectdeployer.fleet.deploy_changes#module:prune), O(projectdeployer.fleet.deploy_changes#module:backup),
        O(projectdeployer.fleet.deploy_changes#module:health), O(projectdeployer.fleet.deploy_changes#module:firewall)).
        Each service's C(bind_address), C(host_port) and C(secondary_port) are the address and the host ports this
        run reserved.
      - Its C(firewall) (whether M(projectdeployer.fleet.host_firewall) would change nothing here) is for a server
        with others in the play, whose firewall waits for their ports; C(ports) is left out (the host ports this
        run reserved) and so may each peer's C(ports) be (the same ports, since every server of the env reserves the
        same ones unless one was taken there). RV(look) then has C(firewall_peers), the peers looked with, to
        compare with the ports the other servers did reserve. Not with O(firewall), which makes the firewall.
    type: dict
    version_added: 0.7.0
'''

EXAMPLES = r'''
- name: Prepare the host
  projectdeployer.fleet.project_host:
    user: u1
    project: myapp
    env: prod
    path: /local/u1/myapp/prod
    databases: {postgres: postgres}
    passwords:
      postgres: "{{ lookup('ansible.builtin.file', '/controller/u1/myapp/prod/secrets/postgres_password', rstrip=false) }}"
    env_files:
      api: {LOG_LEVEL: info}
    networks:
      - {name: u1_myapp_prod_net, labels: {fleet.user: u1}}
    host_ports: {api: 8000}
    port_state_file: /local/.fleet/ports.json
  no_log: true
  register: deploy_host
'''

RETURN = r'''
address:
  description: The address the host ports bind to.
  returned: always
  type: str
  sample: 172.17.0.1
host_ports:
  description: Per service of O(host_ports), its ports (as M(projectdeployer.fleet.port_hash) returns them).
  returned: always
  type: dict
  sample: {api: {host_port: 8357, secondary_port: 18357}}
written:
  description: The names of the files of C(secrets/) that were written (never their content).
  returned: always
  type: list
  elements: str
firewall_changed:
  description: Whether the tenant's firewall rules were changed.
  returned: always
  type: bool
created:
  description: The directories and networks that were made.
  returned: always
  type: list
  elements: str
images_missing:
  description: The ids of O(images) the server's engine lacks, in the order given.
  returned: always
  type: list
  elements: str
  sample: ["sha256:4b1e..."]
look:
  description:
    - With O(look), what M(projectdeployer.fleet.deploy_changes) returns for the same options (C(changes),
      C(services), and C(prune), C(backup_current), C(cron_present), C(health_current) when asked).
  returned: when O(look) is set
  type: dict
  sample: {changes: {api: a new image or configuration}, services: {}}
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import directories
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, ensure_network,
    get_client, missing_images)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import changes as deploy_look
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.host_files import (
    ensure_file, env_file_text, interface_address)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggler import DeployError
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall import rules
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall.iptables import Iptables
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall.tenant import converge_tenant
from ansible_collections.projectdeployer.fleet.plugins.module_utils._secrets.formats import render
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.mesh import DOMAIN_RE
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.ports import PortExhaustedError
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.port_reservation import reserve
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.port_state import locked_state

# a database service's client file in secrets/ and its format
CLIENT_FILES = {'postgres': ('%s_pgpass', 'pgpass'), 'redis': ('%s_redis.conf', 'redis_conf')}


def firewall_with_ports(p, ports):
    """O(look) with its firewall's ports (and each peer's left out) the host ports reserved here (``ports``)."""
    look = dict(p['look'])
    firewall = look.get('firewall')
    if firewall is None:
        return look
    exposed = sorted(entry[key] for entry in ports.values() for key in ('host_port', 'secondary_port'))
    if not isinstance(firewall, dict) or not isinstance(firewall.get('peers', []), list) \
            or not all(isinstance(peer, dict) for peer in firewall.get('peers', [])):
        raise ValueError('look: firewall: give networks and peers, a list of {address, ports}')
    look['firewall'] = dict(firewall, ports=firewall.get('ports') or exposed,
                            peers=[dict(peer, ports=sorted(peer.get('ports') or exposed))
                                   for peer in firewall.get('peers', [])])
    return look


def prepare(p, check_mode, iptables=None, module=None):
    """Do it all; return (changed, result fields). ``iptables(argv, data=None)`` runs iptables (with O(firewall));
    ``module`` runs it for O(look)'s firewall."""
    if p['firewall'] is not None and (p['look'] or {}).get('firewall') is not None:
        raise ValueError('look: firewall is not looked at where this run makes it; fix: give one of firewall and '
                         'look.firewall')
    created, written = [], []
    todo = directories.plan(p['path'], directories.PROJECT_LAYOUT)
    if todo and not check_mode:
        directories.apply(todo)
    created.extend(path for path, dummy, action in todo if action == 'create')
    changed = bool(todo)
    secrets_dir = os.path.join(p['path'], 'secrets')
    for service, kind in sorted(p['databases'].items()):
        naming.check_ids(service=service)
        if kind not in CLIENT_FILES:
            raise ValueError("databases: %s: type '%s' is not postgres or redis" % (service, kind))
        if service not in p['passwords']:
            raise ValueError('passwords: %s has no password; fix: generate it on the controller first' % service)
        password = p['passwords'][service]
        client_name, fmt = CLIENT_FILES[kind]
        for name, text in (('%s_password' % service, password),
                           (client_name % service, render(password.strip(), fmt))):
            if ensure_file(os.path.join(secrets_dir, name), text, check_mode=check_mode):
                written.append(name)
    for service, variables in sorted(p['env_files'].items()):
        naming.check_ids(service=service)
        name = '%s.env' % service
        if ensure_file(os.path.join(secrets_dir, name), env_file_text(service, variables), check_mode=check_mode):
            written.append(name)
    for domain, pem in sorted(p['certificates'].items()):
        if not DOMAIN_RE.match(domain or ''):
            raise ValueError('certificates: %r is not a domain name' % domain)
        if ensure_file(os.path.join(p['path'], 'tls', '%s.pem' % domain), pem, check_mode=check_mode):
            written.append('tls/%s.pem' % domain)
    clients = []

    def engine():
        """One client for the run, made when first needed."""
        if not clients:
            clients.append(get_client(p['docker_host']))
        return clients[0]

    if p['networks']:
        client = engine()
        for net in p['networks']:
            if check_mode:
                if not client.networks.list(names=[net['name']]):
                    created.append(net['name'])
                continue
            if ensure_network(client, net['name'], net['labels'])[1]:
                created.append(net['name'])
    address = p['address'] or interface_address(p['bridge_interface'])
    ports = {}
    if p['host_ports']:
        if not p['port_state_file']:
            raise ValueError('host_ports needs port_state_file; fix: name the server\'s port state file')
        with locked_state(p['port_state_file'], write=not check_mode) as state:
            for service, container_port in sorted(p['host_ports'].items()):
                naming.check_ids(service=service)
                ports[service] = reserve(state, p['user'], p['project'], p['env'], service, int(container_port),
                                         address)
    new_ports = bool([entry for entry in ports.values() if entry.pop('new')])
    firewall_changed = False
    if p['firewall'] is not None:
        exposed = [entry[key] for entry in ports.values() for key in ('host_port', 'secondary_port')]
        firewall_changed = converge_tenant(iptables, engine(), (p['user'], p['project'], p['env']), exposed,
                                           p['firewall']['networks'], p['firewall']['peers'], check_mode)
    changed = changed or bool(written) or bool(created) or new_ports or firewall_changed
    lacking = missing_images(engine(), p['images']) if p['images'] else []
    result = dict(address=address, host_ports=ports, written=written, created=created,
                  firewall_changed=firewall_changed, images_missing=lacking)
    if p['look'] is not None:
        top = dict(deploy_look.look_params(firewall_with_ports(p, ports)), user=p['user'], project=p['project'], env=p['env'],
                   docker_host=p['docker_host'])
        top['services'] = deploy_look.with_host_ports(top['services'], address, ports)
        result['look'] = deploy_look.look(module, engine(), top)
        if top['firewall'] is not None:
            result['look']['firewall_peers'] = top['firewall']['peers']
    return changed, result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            naming.tenant_argument_spec(None),
            path=dict(type='path', required=True),
            databases=dict(type='dict', default={}),
            passwords=dict(type='dict', default={}, no_log=True),
            env_files=dict(type='dict', default={}),
            certificates=dict(type='dict', default={}, no_log=True),
            networks=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                labels=dict(type='dict', default={}),
            )),
            address=dict(type='str', default=''),
            bridge_interface=dict(type='str', default='docker0'),
            host_ports=dict(type='dict', default={}),
            port_state_file=dict(type='path'),
            firewall=dict(type='dict', options=dict(
                networks=dict(type='list', elements='str', required=True),
                peers=dict(type='list', elements='dict', default=[]),
            )),
            images=dict(type='list', elements='str', default=[]),
            look=dict(type='dict'),
            docker_host=DOCKER_HOST_OPTION,
        ),
        supports_check_mode=True,
    )
    p = module.params
    if (p['networks'] or p['images'] or p['look'] is not None) and not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    try:
        naming.check_ids(user=p['user'], project=p['project'], env=p['env'])
        changed, result = prepare(p, module.check_mode, Iptables(module) if p['firewall'] is not None else None,
                                  module)
    except (ValueError, PortExhaustedError, FleetDockerError, DeployError, rules.FirewallError) as exc:
        module.fail_json(msg=str(exc))
    except DockerException as exc:
        module.fail_json(msg='the Docker engine refused: %s' % exc)
    except OSError as exc:
        module.fail_json(msg='cannot prepare %s: %s' % (p['path'], exc))
    module.exit_json(changed=changed, **result)


if __name__ == '__main__':
    main()
