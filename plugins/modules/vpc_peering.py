#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: vpc_peering
short_description: Ensure a DigitalOcean VPC peering between two of the fleet's VPCs
version_added: 0.2.0
description:
  - Ensures that two VPCs (for example the fleet's VPCs of two regions) are peered, so that droplets in one reach
    the private addresses of droplets in the other.
  - A peering is found by the two VPCs it joins, in either order, not by its name. A new peering is created under
    O(name), and the module waits until DigitalOcean reports it C(ACTIVE).
  - A peering of the two VPCs that is still being deleted is waited for until it is gone, then created again.
  - An existing peering is renamed only when O(name) is given.
  - With O(state=absent) the peering of the two VPCs is deleted, and the module waits until it is gone.
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
    details: The peering's id, name, VPCs and status before and after.
  idempotent:
    support: full
options:
  vpc_ids:
    description:
      - The UUIDs of the two VPCs to peer, in any order (what M(projectdeployer.fleet.vpc) returns as
        RV(projectdeployer.fleet.vpc#module:id)).
      - Exactly two, and two different ones.
    type: list
    elements: str
    required: true
  name:
    description:
      - The name of the peering, unique in the account; letters, digits and V(-) only, for example
        V(fleet-u1-lon1-nyc1).
      - When given, an existing peering of the two VPCs with another name is renamed to it.
      - When not given, a new peering is named C(fleet-peering-) followed by 12 hex digits derived from the two
        VPC UUIDs (the same in either order), and an existing peering keeps its name.
    type: str
  state:
    description: Whether the two VPCs should be peered.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Whether to wait until a new peering is C(ACTIVE) (O(state=present)), or until a deleted one is gone
        (O(state=absent)).
      - A peering of the same two VPCs that is being deleted is always waited for before the new one is created.
    type: bool
    default: true
  wait_timeout:
    description:
      - The most seconds to wait in all, polling every 5 seconds.
    type: int
    default: 300
notes:
  - DigitalOcean answers a create and a delete with C(202 Accepted) and does the work afterwards; the peering is
    C(PROVISIONING), then C(ACTIVE), and C(DELETING) before it disappears.
seealso:
  - module: projectdeployer.fleet.vpc
'''

EXAMPLES = r'''
- name: The fleet's networks in London and New York
  projectdeployer.fleet.vpc:
    region: "{{ item }}"
  loop: [lon1, nyc1]
  register: fleet_vpcs

- name: Peered, so that the services in both regions reach each other privately
  projectdeployer.fleet.vpc_peering:
    name: fleet-u1-lon1-nyc1
    vpc_ids: "{{ fleet_vpcs.results | map(attribute='vpc.id') | list }}"
  register: peering

- name: Unpeered again (found by the two VPCs, in either order)
  projectdeployer.fleet.vpc_peering:
    vpc_ids:
      - "{{ fleet_vpcs.results[1].vpc.id }}"
      - "{{ fleet_vpcs.results[0].vpc.id }}"
    state: absent
'''

RETURN = r'''
vpc_peering:
  description:
    - The peering (empty after O(state=absent)).
    - In check mode, a peering about to be created has no id and no status.
  returned: always
  type: dict
  contains:
    id:
      description: The peering's UUID.
      type: str
      sample: 5a4981aa-9653-4bd1-bef5-d6bff52042e4
    name:
      description: The peering's name.
      type: str
      sample: fleet-u1-lon1-nyc1
    vpc_ids:
      description: The UUIDs of the two peered VPCs, sorted.
      type: list
      elements: str
      sample: [997615ce-132d-4bae-9270-9ee21b395e5d, e51aed59-3bb1-4a6a-8de0-9d1329e9c997]
    status:
      description:
        - V(ACTIVE) once the VPCs are peered; V(PROVISIONING) right after a create with O(wait=false).
      type: str
      sample: ACTIVE
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.api import DOError, do_argument_spec, run_manager
from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.fleet import (
    check_peering_name,
    find_peering,
    peering_name,
    peering_name_taken,
    peering_pair,
    peering_view,
    peerings_of_pair,
)

POLL_INTERVAL = 5.0
ACTIVE = 'ACTIVE'
PROVISIONING = 'PROVISIONING'
DELETING = 'DELETING'


class _ProbeFailed(Exception):
    """Carries an error raised while polling out of ``DOApi.poll`` (which turns only its timeout into DOError)."""

    def __init__(self, error):
        super(_ProbeFailed, self).__init__(str(error))
        self.error = error


class VpcPeeringManager(object):

    def __init__(self, api, params, check_mode=False, warn=None, poll_interval=POLL_INTERVAL):
        self.api = api
        self.client = api.client
        self.p = params
        self.pair = peering_pair(params['vpc_ids'])
        self.explicit_name = params['name'] is not None
        self.name = params['name'] if self.explicit_name else peering_name(self.pair)
        self.check_mode = check_mode
        self.warn = warn or (lambda msg: None)
        self.poll_interval = poll_interval
        self.started = None

    def label(self, peering=None):
        name = (peering or {}).get('name') or self.name
        return 'VPC peering %s (%s and %s)' % (name, self.pair[0], self.pair[1])

    # ------------------------------------------------------------ API

    def list(self):
        return self.api.list_all(self.client.vpc_peerings.list, 'vpc_peerings', what='list VPC peerings')

    def get(self, peering):
        body = self.api.call(self.client.vpc_peerings.get, vpc_peering_id=peering['id'], missing_ok=True,
                             what='read %s' % self.label(peering))
        return (body or {}).get('vpc_peering') if body is not None else None

    def create(self):
        body = dict(name=self.name, vpc_ids=list(self.pair))
        answer = self.api.call(self.client.vpc_peerings.create, body=body, idempotent=False,
                               what='create %s' % self.label())
        peering = (answer or {}).get('vpc_peering') or {}
        if not peering.get('id'):
            raise DOError('DigitalOcean API: create %s failed: the answer has no peering id; fix: run again (the '
                          'peering is found by its VPCs if it was made)' % self.label())
        return peering

    def rename(self, peering):
        answer = self.api.call(self.client.vpc_peerings.patch, vpc_peering_id=peering['id'],
                               body=dict(name=self.name), what='rename %s to %s' % (self.label(peering), self.name))
        return (answer or {}).get('vpc_peering') or dict(peering, name=self.name)

    def delete(self, peering):
        self.api.call(self.client.vpc_peerings.delete, vpc_peering_id=peering['id'], missing_ok=True,
                      what='delete %s' % self.label(peering))

    # ------------------------------------------------------------ waiting

    def _wait(self, peering, check, goal):
        """Poll the peering with ``check(current)`` (None: not yet) within what is left of ``wait_timeout``."""
        last = dict(status=peering.get('status'))

        def probe():
            try:
                current = self.get(peering)
                last['status'] = (current or {}).get('status')
                return check(current)
            except (DOError, ValueError) as exc:
                raise _ProbeFailed(exc)

        timeout = self.p['wait_timeout']
        left = max(0.0, timeout - (self.api.clock() - self.started))
        try:
            return self.api.poll(probe, left, self.poll_interval, what='waiting for %s' % self.label(peering))
        except _ProbeFailed as failed:
            raise failed.error
        except DOError:
            raise DOError('DigitalOcean: %s is still %s, not %s, after wait_timeout (%d s); fix: raise wait_timeout, '
                          'or look at the peering in the DigitalOcean console'
                          % (self.label(peering), last['status'], goal, timeout))

    def wait_active(self, peering, gone_ok=False):
        """The peering once ACTIVE (or None when ``gone_ok`` and it disappeared)."""
        def check(current):
            if current is None:
                if gone_ok:
                    return False
                raise DOError('DigitalOcean: %s disappeared while it was being set up; fix: check that both VPCs '
                              'exist and that their IP ranges do not overlap, then run again' % self.label(peering))
            status = current.get('status')
            if status == ACTIVE:
                return current
            if status == PROVISIONING:
                return None
            raise DOError('DigitalOcean: %s went to status %s instead of ACTIVE; fix: look at the peering in the '
                          'DigitalOcean console, then run again' % (self.label(peering), status))
        return self._wait(peering, check, ACTIVE) or None

    def wait_gone(self, peering):
        self._wait(peering, lambda current: True if current is None else None, 'gone')

    # ------------------------------------------------------------ states

    def present(self):
        self.started = self.api.clock()
        peerings = self.list()
        found = find_peering(peerings, self.pair)
        live = [m for m in peerings_of_pair(peerings, self.pair) if m.get('status') != DELETING]
        if len(live) > 1:
            self.warn('%d VPC peerings join %s and %s (%s); using %s' % (
                len(live), self.pair[0], self.pair[1], ', '.join(str(m.get('name')) for m in live), found.get('name')))
        creating = found is None or found.get('status') == DELETING
        if creating or (self.explicit_name and found.get('name') != self.name):
            taken = peering_name_taken(peerings, self.name, self.pair)
            if taken:
                raise ValueError('the name %s is already taken by the VPC peering %s of the VPCs %s; fix: give '
                                 'another name' % (self.name, taken.get('id'),
                                                   ' and '.join(sorted(taken.get('vpc_ids') or []))))
        before = peering_view(found)
        changed = False
        if creating:
            changed = True
            if self.check_mode:
                peering = dict(id=None, name=self.name, vpc_ids=list(self.pair), status=None)
            else:
                if found is not None:
                    self.wait_gone(found)
                peering = self.create()
                if self.p['wait'] and peering.get('status') != ACTIVE:
                    peering = self.wait_active(peering)
        else:
            peering = found
            if self.p['wait'] and peering.get('status') == PROVISIONING and not self.check_mode:
                peering = self.wait_active(peering)
            if self.explicit_name and peering.get('name') != self.name:
                changed = True
                peering = dict(peering, name=self.name) if self.check_mode else self.rename(peering)
        after = peering_view(peering)
        return dict(changed=changed, vpc_peering=after, diff=dict(before=before, after=after))

    def absent(self):
        self.started = self.api.clock()
        matches = peerings_of_pair(self.list(), self.pair)
        live = [m for m in matches if m.get('status') != DELETING]
        result = dict(changed=bool(live), vpc_peering={},
                      diff=dict(before=peering_view(matches[0]) if matches else {}, after={}))
        if not matches or self.check_mode:
            return result
        for peering in live:
            if peering.get('status') == PROVISIONING and self.p['wait']:
                # A peering being set up may not be deletable yet: let it settle first.
                if self.wait_active(peering, gone_ok=True) is None:
                    continue
            self.delete(peering)
        if self.p['wait']:
            for peering in matches:
                self.wait_gone(peering)
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vpc_ids=dict(type='list', elements='str', required=True),
            name=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            wait=dict(type='bool', default=True),
            wait_timeout=dict(type='int', default=300),
            **do_argument_spec()
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        peering_pair(p['vpc_ids'])
        if p['name'] is not None:
            check_peering_name(p['name'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if p['wait_timeout'] < 0:
        module.fail_json(msg='wait_timeout must be 0 or more seconds, got %d' % p['wait_timeout'])
    run_manager(module, VpcPeeringManager)


if __name__ == '__main__':
    main()
