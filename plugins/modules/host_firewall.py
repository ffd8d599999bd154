#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: host_firewall
short_description: Keep a tenant's host ports reachable only from its own network, the edge and its other servers
version_added: 0.2.0
description:
  - Manages the iptables rules (filter table) that close a tenant's host ports to every other source on the
    server it runs on, the host firewall of docs/security.md.
  - A connection to one of the tenant's host ports, whether it reaches C(docker-proxy) through C(INPUT) (from a
    container on this server) or is DNAT-ed through C(DOCKER-USER) (from another server), is let through only
    from the host itself, the tenant's own Docker network, the networks in O(networks) (the edge's) and the
    env's other servers O(peers); any other Docker bridge, the default bridge included, is dropped.
    Connections leaving this server's other bridges for the tenant's host ports on a peer are dropped too, so
    another tenant here cannot borrow this server's address to reach the tenant there.
  - The collection's chains are C(FLEET-PORTS-IN) (jumped to first from C(INPUT)), C(FLEET-PORTS-FWD) (first in
    C(DOCKER-USER)) and one C(FLEET-T-<hash>) per tenant; each rule carries the comment
    C(fleet {user}_{project}_{env}). Rules the collection did not create are never touched, and an allowed
    connection is RETURNed, not accepted, so the operator's own rules still apply to it.
  - A change is one C(iptables-restore --noflush) transaction. Rules live in the kernel only; they survive a
    Docker daemon restart (Docker keeps C(DOCKER-USER)), and a reboot loses them until the next deploy applies
    them again.
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
    details: The diff shows the tenant's rules before and after, as C(iptables -S) lines.
  idempotent:
    support: full
options:
  ports:
    description:
      - The tenant's host ports on this server, both toggle slots. Without ports only the peers' rules remain.
    type: list
    elements: int
    default: []
  networks:
    description:
      - The Docker networks whose containers may connect, the tenant network first (its bridge also marks the
        connections DNAT-ed to the tenant's containers), then the edge's network when the tenant has domains.
      - Defaults to the tenant network C({user}_{project}_{env}_net). Every network must exist and be a bridge.
    type: list
    elements: str
  peers:
    description:
      - The env's other servers, each with its private address and its host ports of this tenant (they may differ
        from this server's when ports were probed).
    type: list
    elements: dict
    default: []
    suboptions:
      address:
        description: The server's private (VPC) IPv4 address.
        type: str
        required: true
      ports:
        description: The tenant's host ports on that server.
        type: list
        elements: int
        default: []
  state:
    description:
      - V(present) makes the tenant's rules exactly these; V(absent) removes them, and the collection's chains with
        the last tenant.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Needs root on the server, and the C(iptables) the Docker engine uses (the two must agree on iptables-nft or
    iptables-legacy; Debian's C(docker.io) pulls in the same alternative).
  - IPv4 only; Docker networks here are IPv4.
seealso:
  - module: projectdeployer.fleet.nginx_mesh
  - module: projectdeployer.fleet.port_hash
'''

EXAMPLES = r'''
- name: Only u1's network, the edge and the other server reach u1's host ports
  projectdeployer.fleet.host_firewall:
    user: u1
    project: myapp
    env: prod
    ports: [8120, 18120, 8357, 18357]
    networks: [u1_myapp_prod_net, fleet_edge_net]
    peers:
      - {address: 10.110.0.6, ports: [8120, 18120]}

- name: Remove u1's rules
  projectdeployer.fleet.host_firewall:
    user: u1
    project: myapp
    env: prod
    state: absent
'''

RETURN = r'''
chain:
  description: The tenant's own chain.
  returned: always
  type: str
  sample: FLEET-T-3f9a1c2b7d4e
rules:
  description: The tenant's rules after the run (in check mode, as they would be), as C(iptables -S) lines.
  returned: always
  type: list
  elements: str
  sample: ['-A FLEET-PORTS-IN -p tcp -m multiport --dports 8120,18120 -m comment --comment "fleet u1_myapp_prod" -j FLEET-T-3f9a1c2b7d4e']
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall import rules as _rules
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall.iptables import Iptables
from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall.tenant import bridge_of, converge
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import (
    check_ids, network_name, tenant_argument_spec)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            tenant_argument_spec(service=None),
            ports=dict(type='list', elements='int', default=[]),
            networks=dict(type='list', elements='str'),
            peers=dict(type='list', elements='dict', default=[], options=dict(
                address=dict(type='str', required=True),
                ports=dict(type='list', elements='int', default=[]))),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            docker_host=DOCKER_HOST_OPTION,
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        check_ids(user=p['user'], project=p['project'], env=p['env'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    tenant = _rules.tenant_name(p['user'], p['project'], p['env'])
    iptables = Iptables(module)
    try:
        bridges = []
        if p['state'] == 'present':
            if not HAS_DOCKER:
                module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
            client = get_client(p['docker_host'])
            networks = p['networks'] or [network_name(p['user'], p['project'], p['env'])]
            bridges = [bridge_of(client, name, module.check_mode) for name in networks]
        changed, wanted, before = converge(iptables, iptables.save, iptables.restore, tenant, p['ports'], bridges,
                                           p['peers'], p['state'] == 'present', module.check_mode)
    except (FleetDockerError, _rules.FirewallError) as exc:
        module.fail_json(msg=str(exc))
    except DockerException as exc:
        module.fail_json(msg='Docker engine error: %s' % exc)
    result = dict(changed=changed, chain=_rules.tenant_chain(tenant), rules=_rules.show(wanted))
    if module._diff:
        result['diff'] = dict(before='\n'.join(_rules.show(before)) + '\n', after='\n'.join(result['rules']) + '\n',
                              before_header='iptables (%s)' % tenant, after_header='iptables (%s)' % tenant)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
