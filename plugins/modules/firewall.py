#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: firewall
short_description: Ensure the DigitalOcean cloud firewall of a fleet project environment
version_added: 0.2.0
description:
  - Ensures one DigitalOcean cloud firewall per user's project environment, named C(fleet-{user}-{project}-{env})
    unless O(name) is given, applied by tag to every droplet of the environment
    (C(fleet-env:{user}_{project}_{env})), so droplets created later are covered at once.
  - "Inbound: SSH (TCP 22) only from O(controller_addresses); the O(public_ports) (HTTP and HTTPS) from anywhere
    (C(0.0.0.0/0) and C(::/0)); every other TCP and UDP port and ICMP only from the VPC ranges O(vpc_ranges), which
    is how services reach each other's host ports. Outbound: everything."
  - An existing firewall whose rules or tags differ is updated in place (one C(PUT) with the whole firewall);
    droplets assigned to it by id stay assigned. Rules that mean the same (C(all) and C(0) ports, C(1.2.3.4) and
    C(1.2.3.4/32), any order) are equal.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._tenant
  - projectdeployer.fleet._digitalocean
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The firewall's name, rules and tags before and after, in canonical form.
  idempotent:
    support: full
options:
  controller_addresses:
    description:
      - The addresses or CIDRs SSH is allowed from (the Ansible controller, a bastion), for example V(203.0.113.7/32).
      - Required with O(state=present). An empty list closes SSH to everything but the VPC.
    type: list
    elements: str
  vpc_ranges:
    description:
      - The private ranges of the fleet's VPCs (RV(projectdeployer.fleet.vpc#module:ip_range)), from which every port
        is open.
      - Required with O(state=present). An empty list opens nothing internally.
    type: list
    elements: str
  public_ports:
    description: The TCP ports open to the world.
    type: list
    elements: int
    default: [80, 443]
  name:
    description: The firewall's name; default C(fleet-{user}-{project}-{env}).
    type: str
  state:
    description: Whether the firewall should exist.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: projectdeployer.fleet.vpc
  - module: projectdeployer.fleet.droplet
'''

EXAMPLES = r'''
- name: Firewall of u1's myapp prod
  projectdeployer.fleet.firewall:
    user: u1
    project: myapp
    env: prod
    controller_addresses: ["{{ ansible_default_ipv4.address }}/32"]
    vpc_ranges: ["{{ fleet_vpc.ip_range }}"]

- name: A worker-only environment with no public ports
  projectdeployer.fleet.firewall:
    user: u1
    project: jobs
    env: prod
    controller_addresses: [203.0.113.7/32]
    vpc_ranges: [10.110.0.0/20]
    public_ports: []

- name: Remove it
  projectdeployer.fleet.firewall:
    user: u1
    project: myapp
    env: uat
    state: absent
'''

RETURN = r'''
firewall:
  description: The firewall as the API returned it (in check mode, as it would be); empty after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: The firewall's id (null in check mode before it exists).
      type: str
      sample: bb4b2611-3d72-467b-8602-280330ecd65c
    name:
      description: The firewall's name.
      type: str
      sample: fleet-u1-myapp-prod
    status:
      description: V(waiting), V(succeeded) or V(failed).
      type: str
      sample: succeeded
    inbound_rules:
      description: The inbound rules, in API form.
      type: list
      elements: dict
    outbound_rules:
      description: The outbound rules, in API form.
      type: list
      elements: dict
    tags:
      description: The tags it applies to.
      type: list
      elements: str
      sample: ["fleet-env:u1_myapp_prod"]
    droplet_ids:
      description: Droplets assigned by id.
      type: list
      elements: int
id:
  description: The firewall's id (the same as RV(firewall.id)).
  returned: always
  type: str
  sample: bb4b2611-3d72-467b-8602-280330ecd65c
tag:
  description: The tag the firewall applies to.
  returned: always
  type: str
  sample: fleet-env:u1_myapp_prod
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.api import do_argument_spec, run_manager
from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.fleet import (
    env_tag, firewall_body, firewall_name, firewall_rules, firewall_state)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import check_ids, tenant_argument_spec

NAME_RE = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9.\-]{1,254}$')


class FirewallManager(object):

    def __init__(self, api, params, check_mode=False, warn=None):
        self.api = api
        self.client = api.client
        self.p = params
        self.name = params['name'] or firewall_name(params['user'], params['project'], params['env'])
        self.tag = env_tag(params['user'], params['project'], params['env'])
        self.check_mode = check_mode
        self.warn = warn or (lambda msg: None)

    def find(self):
        found = [f for f in self.api.list_all(self.client.firewalls.list, 'firewalls', what='list firewalls')
                 if f.get('name') == self.name]
        if len(found) > 1:
            self.warn('%d firewalls are named %s; the fleet manages the first (%s)'
                      % (len(found), self.name, found[0].get('id')))
        return found[0] if found else None

    def ensure_tag(self):
        """A firewall can only name a tag that exists; droplets created later carry it."""
        if self.api.call(self.client.tags.get, tag_id=self.tag, missing_ok=True, what='get tag %s' % self.tag) is None:
            self.api.call(self.client.tags.create, body=dict(name=self.tag), what='create tag %s' % self.tag)

    def present(self):
        p = self.p
        inbound, outbound = firewall_rules(p['controller_addresses'], p['vpc_ranges'], p['public_ports'])
        current = self.find()
        wanted = firewall_body(self.name, [self.tag], inbound, outbound,
                               droplet_ids=(current or {}).get('droplet_ids'))
        before = firewall_state(current) if current else {}
        after = firewall_state(wanted)
        changed = before != after
        firewall = current
        if changed:
            if self.check_mode:
                firewall = dict(current or {}, **wanted)
            else:
                self.ensure_tag()
                if current is None:
                    answer = self.api.call(self.client.firewalls.create, body=wanted, idempotent=False,
                                           what='create firewall %s' % self.name)
                else:
                    answer = self.api.call(self.client.firewalls.update, firewall_id=current['id'], body=wanted,
                                           what='update firewall %s' % self.name)
                firewall = (answer or {}).get('firewall') or dict(current or {}, **wanted)
        return dict(changed=changed, firewall=firewall, id=firewall.get('id'), tag=self.tag,
                    diff=dict(before=before, after=after))

    def absent(self):
        current = self.find()
        result = dict(changed=current is not None, firewall={}, id=None, tag=self.tag,
                      diff=dict(before=firewall_state(current) if current else {}, after={}))
        if current is not None and not self.check_mode:
            self.api.call(self.client.firewalls.delete, firewall_id=current['id'], missing_ok=True,
                          what='delete firewall %s' % self.name)
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            tenant_argument_spec(None),
            controller_addresses=dict(type='list', elements='str'),
            vpc_ranges=dict(type='list', elements='str'),
            public_ports=dict(type='list', elements='int', default=[80, 443]),
            name=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            **do_argument_spec()
        ),
        required_if=[('state', 'present', ['controller_addresses', 'vpc_ranges'])],
        supports_check_mode=True,
    )
    p = module.params
    try:
        check_ids(user=p['user'], project=p['project'], env=p['env'])
        if p['name'] is not None and not NAME_RE.match(p['name']):
            raise ValueError('firewall name %r must start with a letter or digit, then letters, digits, "." or "-"'
                             % p['name'])
        if p['state'] == 'present':
            firewall_rules(p['controller_addresses'], p['vpc_ranges'], p['public_ports'])   # validates
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    run_manager(module, FirewallManager)


if __name__ == '__main__':
    main()
