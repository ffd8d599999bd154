#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: vpc
short_description: Ensure the fleet's DigitalOcean VPC of a region
version_added: 0.2.0
description:
  - Ensures a user's VPC of a region, named C(fleet-{user}-{region}) (C(fleet-{region}) without O(user)) unless
    O(name) is given. The user's droplets in the region reach each other, and their services' host ports, over its
    private addresses; other users' droplets are in other VPCs and cannot.
  - An existing VPC of that name is reused; its IP range can never change (DigitalOcean does not allow it), so a
    different O(ip_range) is an error.
  - With O(state=absent) the VPC is deleted once it has no members (droplets destroyed a moment ago may take a
    while to leave it; the module waits up to O(wait_timeout) seconds). A region's default VPC cannot be deleted;
    it is left with a warning.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._digitalocean
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The VPC's name, region and range before and after.
  idempotent:
    support: full
options:
  region:
    description: The DigitalOcean region slug, for example V(lon1).
    type: str
    required: true
  user:
    description: The user whose VPC it is (C([a-z][a-z0-9]{0,15})); it names the VPC.
    type: str
  name:
    description: The VPC name; default C(fleet-{user}-{region}), or C(fleet-{region}) without O(user).
    type: str
  ip_range:
    description:
      - The private range of a new VPC in CIDR form, between C(/16) and C(/28), for example V(10.110.0.0/20).
      - Without it, DigitalOcean picks a C(/20) that does not overlap the account's other VPCs.
    type: str
  description:
    description:
      - The VPC's description. When given, an existing VPC's description is updated to it.
      - A new VPC without it is described as C(projectdeployer.fleet VPC of {region}).
    type: str
  state:
    description: Whether the VPC should exist.
    type: str
    choices: [present, absent]
    default: present
  wait_timeout:
    description: With O(state=absent), the most seconds to wait for the VPC to have no members.
    type: int
    default: 60
seealso:
  - module: projectdeployer.fleet.droplet
  - module: projectdeployer.fleet.firewall
'''

EXAMPLES = r'''
- name: u1's network in London
  projectdeployer.fleet.vpc:
    region: lon1
    user: u1
  register: fleet_vpc

- name: Servers in it
  projectdeployer.fleet.droplet:
    user: u1
    project: myapp
    env: prod
    service: api
    zone: lon1
    vpc_uuid: "{{ fleet_vpc.vpc.id }}"

- name: Remove it once its droplets are gone
  projectdeployer.fleet.vpc:
    region: lon1
    user: u1
    state: absent
'''

RETURN = r'''
vpc:
  description: The VPC (empty after O(state=absent); in check mode, a VPC about to be created has no id).
  returned: always
  type: dict
  contains:
    id:
      description: The VPC's UUID, for the O(projectdeployer.fleet.droplet#module:vpc_uuid) of droplets.
      type: str
      sample: 5a4981aa-9653-4bd1-bef5-d6bff52042e4
    name:
      description: The VPC's name.
      type: str
      sample: fleet-u1-lon1
    region:
      description: The region slug.
      type: str
      sample: lon1
    ip_range:
      description: The private range, the source of the firewall's internal rules.
      type: str
      sample: 10.110.0.0/20
    urn:
      description: The VPC's uniform resource name.
      type: str
      sample: do:vpc:5a4981aa-9653-4bd1-bef5-d6bff52042e4
    default:
      description: Whether it is the region's default VPC.
      type: bool
      sample: false
    description:
      description: The VPC's description.
      type: str
id:
  description: The VPC's UUID (the same as RV(vpc.id)); null when there is none.
  returned: always
  type: str
  sample: 5a4981aa-9653-4bd1-bef5-d6bff52042e4
ip_range:
  description: The VPC's range (the same as RV(vpc.ip_range)); null when there is none.
  returned: always
  type: str
  sample: 10.110.0.0/20
members:
  description: With O(state=absent), the VPC's members found before deleting it.
  returned: when O(state=absent)
  type: list
  elements: str
  sample: []
'''

import ipaddress
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.api import DOError, do_argument_spec, run_manager
from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.fleet import vpc_name
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import check_ids

NAME_RE = re.compile(r'^[a-zA-Z0-9.\-]{1,255}$')
REGION_RE = re.compile(r'^[a-z]{3}[0-9]$')
POLL_INTERVAL = 5.0
FIELDS = ('id', 'name', 'region', 'ip_range', 'urn', 'default', 'description', 'created_at')


def view(vpc):
    return dict((k, vpc.get(k)) for k in FIELDS) if vpc else {}


def check_ip_range(value):
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError('ip_range %r is not a network in CIDR form (%s); fix: use for example 10.110.0.0/20'
                         % (value, exc))
    if net.version != 4 or not net.is_private or not 16 <= net.prefixlen <= 28:
        raise ValueError('ip_range %s must be a private (RFC 1918) IPv4 network between /16 and /28' % value)
    return str(net)


class VpcManager(object):

    def __init__(self, api, params, check_mode=False, warn=None, poll_interval=POLL_INTERVAL):
        self.api = api
        self.client = api.client
        self.p = params
        self.name = params['name'] or vpc_name(params['region'], params['user'])
        self.check_mode = check_mode
        self.warn = warn or (lambda msg: None)
        self.poll_interval = poll_interval

    def find(self):
        found = [v for v in self.api.list_all(self.client.vpcs.list, 'vpcs', what='list VPCs')
                 if v.get('name') == self.name]
        if not found:
            return None
        here = [v for v in found if v.get('region') == self.p['region']]
        if not here:
            raise ValueError('a VPC named %s exists in region %s, not in %s; fix: give another name'
                             % (self.name, found[0].get('region'), self.p['region']))
        return here[0]

    def present(self):
        p = self.p
        vpc = self.find()
        wanted_range = check_ip_range(p['ip_range']) if p['ip_range'] else None
        before = dict(view(vpc)) if vpc else {}
        changed = False
        if vpc is None:
            changed = True
            body = dict(name=self.name, region=p['region'],
                        description=p['description'] or 'projectdeployer.fleet VPC of %s' % p['region'])
            if wanted_range:
                body['ip_range'] = wanted_range
            if self.check_mode:
                vpc = dict(body, ip_range=wanted_range)
            else:
                vpc = (self.api.call(self.client.vpcs.create, body=body, idempotent=False,
                                     what='create VPC %s in %s' % (self.name, p['region'])) or {}).get('vpc') or {}
        else:
            if wanted_range and vpc.get('ip_range') != wanted_range:
                raise ValueError('VPC %s has the range %s, not %s, and a VPC range cannot change; fix: leave ip_range '
                                 'out, or use another name' % (self.name, vpc.get('ip_range'), wanted_range))
            if p['description'] is not None and vpc.get('description') != p['description']:
                changed = True
                if self.check_mode:
                    vpc = dict(vpc, description=p['description'])
                else:
                    vpc = (self.api.call(self.client.vpcs.patch, vpc_id=vpc['id'],
                                         body=dict(description=p['description']),
                                         what='update VPC %s' % self.name) or {}).get('vpc') or vpc
        result = view(vpc)
        return dict(changed=changed, vpc=result, id=result.get('id'), ip_range=result.get('ip_range'),
                    diff=dict(before=before, after=result))

    def members(self, vpc_id):
        return self.api.list_all(self.client.vpcs.list_members, 'members', vpc_id=vpc_id,
                                 what='list the members of VPC %s' % self.name)

    def absent(self):
        vpc = self.find()
        result = dict(changed=False, vpc={}, id=None, ip_range=None, members=[],
                      diff=dict(before=view(vpc), after={}))
        if vpc is None:
            return result
        if vpc.get('default'):
            self.warn('VPC %s is the default VPC of %s, which DigitalOcean never deletes: it is left as it is'
                      % (self.name, vpc.get('region')))
            result.update(vpc=view(vpc), id=vpc.get('id'), ip_range=vpc.get('ip_range'), diff=dict(before={}, after={}))
            return result
        members = self.members(vpc['id'])
        result['members'] = [m.get('name') or m.get('urn') for m in members]
        result['changed'] = True
        if self.check_mode:
            return result
        if members:
            def probe():
                probe.left = self.members(vpc['id'])
                return True if not probe.left else None
            probe.left = members
            probe.pending = lambda: 'members left: %s' % ', '.join(
                str(m.get('name') or m.get('urn')) for m in probe.left)
            try:
                self.api.poll(probe, self.p['wait_timeout'], self.poll_interval,
                              what='waiting for VPC %s to be empty' % self.name)
            except DOError:
                raise DOError('VPC %s still has members after %d s, so it cannot be deleted: %s; fix: destroy them '
                              'first (projectdeployer.fleet.droplet state=absent), or raise wait_timeout'
                              % (self.name, self.p['wait_timeout'],
                                 ', '.join(str(m.get('name') or m.get('urn')) for m in probe.left)))
        self.api.call(self.client.vpcs.delete, vpc_id=vpc['id'], missing_ok=True, what='delete VPC %s' % self.name)
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            region=dict(type='str', required=True),
            user=dict(type='str'),
            name=dict(type='str'),
            ip_range=dict(type='str'),
            description=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            wait_timeout=dict(type='int', default=60),
            **do_argument_spec()
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not REGION_RE.match(p['region']):
        module.fail_json(msg='region %r is not a DigitalOcean region slug (for example lon1)' % p['region'])
    try:
        check_ids(user=p['user'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if p['name'] is not None and not NAME_RE.match(p['name']):
        module.fail_json(msg='VPC name %r may only have letters, digits, "-" and "."' % p['name'])
    run_manager(module, VpcManager)


if __name__ == '__main__':
    main()
