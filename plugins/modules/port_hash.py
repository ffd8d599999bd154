#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: port_hash
short_description: Compute and reserve the three-tier ports of a fleet service
version_added: 0.1.0
description:
  - Computes the seed's three-tier ports of one service of a user's project environment.
  - The host port is C(sha256("{user}_{project}_{env}_{service}_{container_port}") % 1000 + 8000)
    and the secondary (toggle) slot is host port + 10000.
  - The internal port, where the tenant's nginx sidecar listens, is
    C(sha256("{user}_{project}_{env}_{service}_internal") % 1000 + 5000).
  - With O(state_file), ports are allocated rather than only hashed, under an exclusive lock.
    A port already assigned in the state is returned unchanged, forever. A new key whose hashed
    port is taken gets the next free port by deterministic linear probing, and the assignment is
    recorded. Host ports are unique per state file (one per server); internal ports are
    unique per user/project/env inside it.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._tenant
attributes:
  check_mode:
    support: full
    details: In check mode the ports are computed and probed but nothing is recorded.
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
      - Several services at once, in one run and one lock of O(state_file); the result is then RV(ports).
    type: list
    elements: dict
    version_added: 0.3.0
    suboptions:
      service:
        description: The service name.
        type: str
        required: true
      container_port:
        description: As O(container_port).
        type: int
  container_port:
    description:
      - The port the service listens on inside its container.
      - Leave it out for services without a port (workers, scheduled jobs); they get an internal port only.
    type: int
  state_file:
    description:
      - Path of the JSON file that records assignments on the target host.
      - Without it, the module only computes the hashed ports; it cannot see collisions with other services.
    type: path
  avoid_bound:
    description:
      - An address of the host. A new host port reservation skips ports (and their secondary slot) that cannot
        be bound on it now, because another program, or a tenant of another fleet root on the same engine,
        holds them. A port already recorded in O(state_file) never moves.
    type: str
'''

EXAMPLES = r'''
- name: Show the ports of u1's api
  projectdeployer.fleet.port_hash:
    user: u1
    project: myapp
    env: prod
    service: api
    container_port: 8000
  register: api_ports

- name: Reserve the ports on the server, resolving collisions for good
  projectdeployer.fleet.port_hash:
    user: u1
    project: myapp
    env: prod
    service: postgres
    container_port: 5432
    state_file: /local/.fleet/ports.json
'''

RETURN = r'''
ports:
  description: With O(services), the fields below per service.
  returned: when O(services) is given
  type: dict
  sample: {api: {host_port: 8357, secondary_port: 18357, internal_port: 5234}}
host_port:
  description: The base host port (8000-8999), bound on the server's private address. Null without O(container_port).
  returned: with O(service)
  type: int
  sample: 8357
secondary_port:
  description: The host port of the other toggle slot (18000-18999). Null without O(container_port).
  returned: with O(service)
  type: int
  sample: 18357
internal_port:
  description: The stable internal port (5000-5999) the tenant's sidecar listens on; apps connect to C(nginx:internal_port).
  returned: with O(service)
  type: int
  sample: 5234
host_port_hashed:
  description: The host port the hash alone gives, before collision resolution.
  returned: with O(service)
  type: int
  sample: 8357
internal_port_hashed:
  description: The internal port the hash alone gives, before collision resolution.
  returned: with O(service)
  type: int
  sample: 5234
collision:
  description: Whether a collision moved this service off its hashed ports.
  returned: with O(service)
  type: bool
  sample: false
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.port_reservation import (
    PORT_HASH_CONSTRAINTS, PORT_HASH_OPTIONS, port_hash)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.ports import PortExhaustedError


def main():
    module = AnsibleModule(argument_spec=PORT_HASH_OPTIONS, supports_check_mode=True, **PORT_HASH_CONSTRAINTS)
    try:
        result = port_hash(module.params, module.check_mode)
    except (ValueError, PortExhaustedError) as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg='cannot use port state file %s: %s' % (module.params['state_file'], exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
