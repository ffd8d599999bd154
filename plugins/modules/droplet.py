#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: droplet
short_description: Ensure a fleet service has exactly its number of DigitalOcean droplets in a zone
version_added: 0.2.0
description:
  - Ensures that one service of a user's project environment has exactly O(count) droplets in O(zone).
  - The droplets are named C({user}-{project}-{env}-{service}-{zone}-{index}) (index from 1) and tagged
    C(fleet), C(fleet-user:{user}), C(fleet-project:{user}_{project}), C(fleet-env:{user}_{project}_{env}) and
    C(fleet-service:{user}_{project}_{env}_{service}). They are found by the service tag.
  - Existing droplets are reused (the lowest indexes first). Missing ones are created under the lowest free indexes,
    all in one multi-create request (ten names per request), and the module waits, at most O(wait_timeout) seconds,
    until they are active and have their addresses.
  - A droplet still V(new) O(wait_timeout) seconds after its creation (by the controller's clock) never booted, so
    nothing runs on it. It is destroyed and created again under its name, with a warning (RV(plan.stuck)). A younger
    V(new) droplet is reused and waited for.
  - Droplets beyond O(count) are surplus, highest index first, and so are the service's droplets in other zones (the
    service moved). They are destroyed only with O(remove_surplus=true); otherwise they are tagged C(fleet-surplus)
    and reported in RV(surplus), so that a deploy moves the services off them first (the deploy role leaves out a
    server whose host variable C(fleet_droplet_surplus) is true, and routes only to the others). A surplus droplet that
    is wanted again (the count went back up) loses the tag and is reused.
  - An existing droplet is never resized, rebuilt or moved; a different size is reported as a warning.
  - With O(state=absent), every droplet of the service (or, without O(service), of the whole project
    environment) is destroyed, in O(zone) or, without it, in every zone; with O(server), only that droplet.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._tenant
  - projectdeployer.fleet._digitalocean
attributes:
  check_mode:
    support: full
    details: Reports the plan (names to create, keep and destroy) and touches nothing.
  diff_mode:
    support: full
    details: The names of the service's droplets in the zone before and after.
  idempotent:
    support: full
options:
  service:
    description:
      - The service name, for example V(api).
      - Required with O(state=present). With O(state=absent) and no service, the droplets of the whole project
        environment are destroyed.
    type: str
  state:
    description:
      - Whether the droplets should exist.
      - V(fenced) (heal.yml) takes the one droplet O(server) out of the environment - powered off, or when the API
        cannot, firewalled off (RV(firewalled)); renamed C({name}-dead) so that its replacement takes its name,
        tagged C(fleet-dead), C(fleet-fenced:...) and C(fleet-surplus) so that deploys leave it out and
        O(state=present) creates its replacement. Destroy it afterwards with O(state=absent) and O(server)
        C({name}-dead).
    type: str
    choices: [present, absent, fenced]
    default: present
  zone:
    description:
      - The DigitalOcean region slug, for example V(lon1). Required with O(state=present).
    type: str
  keep_zones:
    description:
      - The service's other zones of a multi-zone deployment (C(fleet_zones)), each sized by its own call; its
        droplets there are not surplus. Without it, a droplet of the service in another zone than O(zone) is surplus.
    type: list
    elements: str
    default: []
  server:
    description:
      - With O(state=absent), destroy only this droplet of the project environment, given by its name or its public or
        private IPv4 address (the seed's C(destroy_server)). A droplet that is not the environment's is never touched;
        when none matches, the module fails and lists the environment's droplets.
    type: str
  count:
    description: How many droplets the service has in O(zone). V(0) with O(remove_surplus=true) removes them all.
    type: int
    default: 1
  cpu:
    description:
      - vCPUs of a new droplet; with O(memory), picks the Basic size (V(1) and V(1024) give V(s-1vcpu-1gb)).
      - Defaults to V(1). Cannot be combined with O(size).
    type: int
  memory:
    description:
      - Memory of a new droplet in MB; defaults to V(1024). Cannot be combined with O(size).
    type: int
  size:
    description: An explicit size slug, for example V(s-2vcpu-4gb), instead of O(cpu) and O(memory).
    type: str
  image:
    description: The image slug or id of a new droplet.
    type: str
    default: debian-12-x64
  ssh_keys:
    description:
      - Ids or MD5 fingerprints of account SSH keys put into C(root)'s authorized keys of a new droplet
        (see M(projectdeployer.fleet.ssh_key)).
    type: list
    elements: str
    default: []
  vpc_uuid:
    description: The VPC of a new droplet (see M(projectdeployer.fleet.vpc)); without it, the region's default VPC.
    type: str
  user_data:
    description: Cloud-init user data of a new droplet.
    type: str
  ipv6:
    description: Give a new droplet a public IPv6 address.
    type: bool
    default: false
  monitoring:
    description: Install the DigitalOcean metrics agent on a new droplet.
    type: bool
    default: false
  tags:
    description: Extra tags of a new droplet, besides the fleet's own.
    type: list
    elements: str
    default: []
  remove_surplus:
    description:
      - Destroy the surplus droplets (highest index first) instead of tagging them C(fleet-surplus) and reporting them.
    type: bool
    default: false
  wait:
    description:
      - Wait until new droplets are active with their addresses, and until destroyed droplets are gone.
    type: bool
    default: true
  wait_timeout:
    description:
      - The most seconds to wait.
      - Also the age after which a droplet still V(new) is replaced (see above).
    type: int
    default: 300
seealso:
  - module: projectdeployer.fleet.vpc
  - module: projectdeployer.fleet.firewall
  - module: projectdeployer.fleet.ssh_key
'''

EXAMPLES = r'''
- name: Three api servers in London
  projectdeployer.fleet.droplet:
    user: u1
    project: myapp
    env: prod
    service: api
    zone: lon1
    count: 3
    cpu: 1
    memory: 2048
    ssh_keys: ["{{ fleet_key.fingerprint }}"]
    vpc_uuid: "{{ fleet_vpc.vpc.id }}"
  register: api_servers

- name: Scale down to one, once the deploy has moved the service off the others
  projectdeployer.fleet.droplet:
    user: u1
    project: myapp
    env: prod
    service: api
    zone: lon1
    count: 1
    remove_surplus: true

- name: Set the token once for every fleet module
  module_defaults:
    group/projectdeployer.fleet.fleet:
      api_token: "{{ vault_do_token }}"
  block:
    - name: Tear down the whole uat environment
      projectdeployer.fleet.droplet:
        user: u1
        project: myapp
        env: uat
        state: absent
'''

RETURN = r'''
droplets:
  description: The service's droplets in the zone after the run, by index (in check mode, the existing ones kept).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The droplet id.
      type: int
      sample: 3164444
    name:
      description: The droplet name.
      type: str
      sample: u1-myapp-prod-api-lon1-1
    index:
      description: The index at the end of the name.
      type: int
      sample: 1
    public_ip:
      description: The public IPv4 address (null until the droplet has its networks).
      type: str
      sample: 203.0.113.10
    private_ip:
      description: The VPC (private) IPv4 address.
      type: str
      sample: 10.110.0.2
    public_ipv6:
      description: The public IPv6 address, with O(ipv6=true).
      type: str
    zone:
      description: The region slug.
      type: str
      sample: lon1
    size:
      description: The size slug.
      type: str
      sample: s-1vcpu-2gb
    status:
      description: V(new), V(active), V(off) or V(archive).
      type: str
      sample: active
    tags:
      description: The droplet's tags.
      type: list
      elements: str
    vpc_uuid:
      description: The droplet's VPC.
      type: str
    created_at:
      description: When the droplet was created.
      type: str
plan:
  description: What the run does (or would do, in check mode), by droplet name.
  returned: always
  type: dict
  contains:
    create:
      description: Names of the droplets created.
      type: list
      elements: str
      sample: [u1-myapp-prod-api-lon1-2]
    keep:
      description: Names of the existing droplets kept.
      type: list
      elements: str
      sample: [u1-myapp-prod-api-lon1-1]
    destroy:
      description: Names of the droplets destroyed.
      type: list
      elements: str
      sample: []
    stuck:
      description: Names of the droplets destroyed because they were still V(new) O(wait_timeout) seconds after
        their creation (their names are created again when the service still needs them).
      type: list
      elements: str
      sample: []
    mark:
      description: Names of the surplus droplets tagged C(fleet-surplus) by this run.
      type: list
      elements: str
      sample: [u1-myapp-prod-api-lon1-3]
    unmark:
      description: Names of the droplets wanted again, whose C(fleet-surplus) tag this run removed.
      type: list
      elements: str
      sample: []
surplus:
  description:
    - Surplus droplets left running and tagged C(fleet-surplus) (O(remove_surplus=false)), highest index first.
  returned: always
  type: list
  elements: dict
  sample: []
fenced:
  description: With O(state=fenced), the droplet as fenced (C(name) its new name, C(was) the name it had).
  returned: when state is fenced
  type: dict
power_off:
  description: With O(state=fenced), V(completed), or the error of a power-off the API could not do.
  returned: when state is fenced
  type: str
firewalled:
  description:
    - With O(state=fenced), when the API could not power the droplet off - the name of the environment's fence
      firewall (C(fleet-{user}-{project}-{env}-fence), no traffic in or out) it was put in, out of the
      environment's firewall; else null. Destroying the last fenced droplet deletes that firewall.
  returned: when state is fenced
  type: str
other_zones:
  description: Names of the service's droplets in other zones (with O(state=present) they are surplus).
  returned: always
  type: list
  elements: str
  sample: []
size:
  description: The size slug of new droplets.
  returned: when O(state=present)
  type: str
  sample: s-1vcpu-2gb
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.api import DOError, do_argument_spec, run_manager
from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.fleet import (
    DEAD_TAG, SURPLUS_TAG, batches, droplet_address, droplet_age, droplet_create_body, droplet_size, droplet_view, droplet_zone, env_tag,
    fence_firewall, fenced_tag, has_networks, mark_view, name_prefix, plan_droplets, service_tag, stuck_droplets, surplus_marks)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import (
    check_ids, droplet_tags, tenant_argument_spec)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.sizes import size_error, size_for, zone_error

POLL_INTERVAL = 5.0
TAG_RE = re.compile(r'^[a-zA-Z0-9_:\-]{1,255}$')


class DropletManager(object):
    """Look the droplets up once, plan, act unless in check mode, report."""

    def __init__(self, api, params, check_mode=False, warn=None, poll_interval=POLL_INTERVAL):
        self.api = api
        self.client = api.client
        self.p = params
        self.check_mode = check_mode
        self.warn = warn or (lambda msg: None)
        self.poll_interval = poll_interval

    # -- lookups
    def by_tag(self, tag):
        return self.api.list_all(self.client.droplets.list, 'droplets', tag_name=tag,
                                 what='list droplets tagged %s' % tag)

    def env_droplets(self):
        """The environment's droplets: those tagged ``fleet-env`` and the fenced ones that lost that tag."""
        p = self.p
        found = self.by_tag(env_tag(p['user'], p['project'], p['env']))
        ids = set(d.get('id') for d in found)
        return found + [d for d in self.by_tag(fenced_tag(p['user'], p['project'], p['env'])) if d.get('id') not in ids]

    def _prefix(self):
        p = self.p
        return name_prefix(p['user'], p['project'], p['env'], p['service'], p['zone'])

    def _views(self, droplets, by_index=True):
        prefix = self._prefix() if self.p.get('service') and self.p.get('zone') else None
        views = [droplet_view(d, prefix) for d in droplets]
        if not by_index:
            return views
        return sorted(views, key=lambda v: (v.get('index') or 0, v['name'] or ''))

    # -- present
    def size(self):
        p = self.p
        if p['size']:
            return p['size']
        cpu = 1 if p['cpu'] is None else p['cpu']
        memory = 1024 if p['memory'] is None else p['memory']
        size = size_for(cpu, memory)
        if size is None:
            raise ValueError(size_error(cpu, memory))
        return size['slug']

    def present(self):
        p = self.p
        size = self.size()
        tag = service_tag(p['user'], p['project'], p['env'], p['service'])
        # a fenced droplet (heal.yml) is not one of the service's any more: its replacement takes its place
        found = [d for d in self.by_tag(tag) if DEAD_TAG not in (d.get('tags') or [])]
        stuck = stuck_droplets(found, self.api.wallclock(), p['wait_timeout'])
        in_zone = [d for d in found if droplet_zone(d) == p['zone'] and d not in stuck]
        elsewhere = [d for d in found if droplet_zone(d) not in [p['zone']] + p['keep_zones'] and d not in stuck]
        plan = plan_droplets(in_zone, p['user'], p['project'], p['env'], p['service'], p['zone'], p['count'])
        surplus = elsewhere + plan['surplus']
        destroy = surplus if p['remove_surplus'] else []
        mark, unmark = surplus_marks(plan['keep'], [] if p['remove_surplus'] else surplus)
        for droplet in plan['keep']:
            if droplet_size(droplet) and droplet_size(droplet) != size:
                self.warn('droplet %s has size %s, not %s: it is kept as it is (resize it yourself, powered off)'
                          % (droplet.get('name'), droplet_size(droplet), size))
        result = dict(
            changed=bool(plan['create'] or destroy or mark or unmark or stuck),
            size=size,
            other_zones=sorted(d.get('name') for d in elsewhere),
            plan=dict(create=plan['create'], keep=[d.get('name') for d in plan['keep']],
                      destroy=[d.get('name') for d in destroy], mark=[d.get('name') for d in mark],
                      unmark=[d.get('name') for d in unmark], stuck=[d.get('name') for d in stuck]),
            surplus=[] if p['remove_surplus'] else self._views(surplus, by_index=False),
            diff=dict(before=dict(droplets=sorted(d.get('name') for d in found)),
                      after=dict(droplets=sorted([d.get('name') for d in plan['keep'] + surplus
                                                  if d not in destroy] + plan['create']))),
        )
        if self.check_mode:
            result['droplets'] = self._views(plan['keep'])
            return result
        for droplet in stuck:
            self.warn('droplet %s (%s) is still new %d s after its creation (wait_timeout is %d s): it never became '
                      'active, so it is destroyed and created again'
                      % (droplet.get('name'), droplet.get('id'), droplet_age(droplet, self.api.wallclock()),
                         p['wait_timeout']))
        self.destroy(stuck, tag)
        self.tag_surplus(unmark, add=False)
        created = self.create(plan['create'], size)
        wanted = plan['keep'] + created
        if self.p['wait'] and wanted:
            wanted = self.wait_ready(tag, [d['id'] for d in wanted])
        self.tag_surplus(mark, add=True)
        if mark:
            result['surplus'] = self._views([mark_view(d) if d in mark else d for d in surplus], by_index=False)
        self.destroy(destroy, tag)
        result['droplets'] = self._views(wanted)
        return result

    def tag_surplus(self, droplets, add, tag=SURPLUS_TAG):
        """Tag (or untag) ``droplets`` with ``fleet-surplus`` (or ``tag``), creating the tag first when needed."""
        if not droplets:
            return
        resources = dict(resources=[dict(resource_id=str(d['id']), resource_type='droplet') for d in droplets])
        names = ', '.join(str(d.get('name')) for d in droplets)
        if add:
            if self.api.call(self.client.tags.get, tag_id=tag, missing_ok=True, what='get tag %s' % tag) is None:
                self.api.call(self.client.tags.create, body=dict(name=tag), what='create tag %s' % tag)
            self.api.call(self.client.tags.assign_resources, tag_id=tag, body=resources,
                          what='tag %s %s' % (names, tag))
        else:
            self.api.call(self.client.tags.unassign_resources, tag_id=tag, body=resources,
                          what='untag %s %s' % (names, tag))

    def action(self, droplet, body, what):
        """Run a droplet action and wait (bounded) until it completed; DOError when it errored."""
        answer = self.api.call(self.client.droplet_actions.post, droplet_id=droplet['id'], body=body,
                               idempotent=False, what='%s droplet %s' % (what, droplet.get('name'))) or {}
        action_id = (answer.get('action') or {}).get('id')
        if action_id is None:
            raise DOError('DigitalOcean API: %s droplet %s answered no action; fix: run again'
                          % (what, droplet.get('name')))

        def probe():
            current = (self.api.call(self.client.actions.get, action_id=action_id,
                                     what='get action %s' % action_id) or {}).get('action') or {}
            if current.get('status') == 'errored':
                raise DOError('DigitalOcean: %s droplet %s errored' % (what, droplet.get('name')))
            return current if current.get('status') == 'completed' else None

        return self.api.poll(probe, self.p['wait_timeout'], min(self.poll_interval, 2.0),
                             what='%s droplet %s' % (what, droplet.get('name')))

    def fenced(self):
        """Fence the droplet of the environment named (or addressed) ``server`` for heal.yml: powered off, renamed
        ``{name}-dead`` (its replacement takes the name) and tagged ``fleet-dead`` and ``fleet-surplus`` (deploys
        leave it out; ``state=absent server={name}-dead`` destroys it once the replacement serves)."""
        p = self.p
        found = self.env_droplets()
        # by its name, an address, or (fenced already: a second run) the name it had
        doomed = [d for d in found if p['server'] in (d.get('name'), droplet_address(d, 'public'),
                                                      droplet_address(d, 'private'))
                  or (DEAD_TAG in (d.get('tags') or []) and d.get('name') == p['server'] + '-dead')]
        if len(doomed) != 1:
            raise ValueError('server: %s droplet of %s/%s/%s is named or addressed %s; fix: use one of %s' % (
                'no' if not doomed else 'more than one', p['user'], p['project'], p['env'], p['server'],
                ', '.join(sorted('%s (%s)' % (d.get('name'), droplet_address(d, 'public')) for d in found))
                or 'none: the environment has no droplets'))
        droplet = doomed[0]
        name = droplet.get('name')
        dead_name = name if DEAD_TAG in (droplet.get('tags') or []) else name + '-dead'
        result = dict(changed=DEAD_TAG not in (droplet.get('tags') or []), droplets=[], surplus=[], other_zones=[],
                      fenced=dict(droplet_view(droplet), name=dead_name, was=name[:-5] if name == dead_name else name),
                      power_off=None, firewalled=None, plan=dict(create=[], keep=[], destroy=[], mark=[], unmark=[]),
                      diff=dict(before=dict(droplet=name), after=dict(droplet=dead_name)))
        if self.check_mode or not result['changed']:
            return result
        try:
            if droplet.get('status') != 'off':
                self.action(droplet, dict(type='power_off'), 'power off')
            result['power_off'] = 'completed'
        except DOError as exc:
            # the API cannot stop it (its hypervisor is gone too): it is firewalled off and taken out of the fleet
            result['power_off'] = str(exc)
            result['firewalled'] = self.firewall_off(droplet)
            self.warn('%s could not be powered off (%s): it is firewalled off (%s: nothing in, nothing out), renamed '
                      'and tagged %s, so no deploy routes to it; it is destroyed once its replacement serves'
                      % (name, exc, result['firewalled'], DEAD_TAG))
        self.action(droplet, dict(type='rename', name=dead_name), 'rename')
        self.tag_surplus([droplet], add=True, tag=fenced_tag(p['user'], p['project'], p['env']))
        self.tag_surplus([droplet], add=True, tag=DEAD_TAG)
        self.tag_surplus([droplet], add=True)
        return result

    def firewall_off(self, droplet):
        """Cut a droplet off every network: into the environment's fence firewall (no traffic allowed) by its
        ``fleet-fenced`` tag, out of the environment's own firewall (it applies through ``fleet-env``, and
        DigitalOcean adds the rules of every firewall a droplet is in). Returns the fence firewall's name."""
        p = self.p
        body = fence_firewall(p['user'], p['project'], p['env'])
        self.tag_surplus([droplet], add=True, tag=fenced_tag(p['user'], p['project'], p['env']))
        existing = self.api.list_all(self.client.firewalls.list, 'firewalls', what='list firewalls')
        if not [f for f in existing if f.get('name') == body['name']]:
            self.api.call(self.client.firewalls.create, body=body, what='create firewall %s' % body['name'])
        self.tag_surplus([droplet], add=False, tag=env_tag(p['user'], p['project'], p['env']))
        return body['name']

    def destroy_fenced(self, doomed, tag, whole_env=False):
        """Destroy those of ``doomed`` that lost ``tag`` when fenced (found by their fleet-fenced tag), and the fence
        firewall once no fenced droplet is left - when one was among them, or always for the whole environment."""
        p = self.p
        self.destroy([d for d in doomed if tag not in (d.get('tags') or [])], fenced_tag(p['user'], p['project'], p['env']))
        if whole_env or any(DEAD_TAG in (d.get('tags') or []) for d in doomed):
            self.drop_fence_firewall()

    def drop_fence_firewall(self):
        """Delete the environment's fence firewall once no fenced droplet is left."""
        p = self.p
        if self.by_tag(fenced_tag(p['user'], p['project'], p['env'])):
            return
        name = fence_firewall(p['user'], p['project'], p['env'])['name']
        for firewall in self.api.list_all(self.client.firewalls.list, 'firewalls', what='list firewalls'):
            if firewall.get('name') == name:
                self.api.call(self.client.firewalls.delete, firewall_id=firewall['id'], missing_ok=True,
                              what='delete firewall %s' % name)

    def create(self, names, size):
        p = self.p
        tags = droplet_tags(p['user'], p['project'], p['env'], p['service'])
        tags += [t for t in p['tags'] if t not in tags]
        created = []
        for chunk in batches(names):
            body = droplet_create_body(chunk, p['zone'], size, p['image'], tags, ssh_keys=p['ssh_keys'],
                                       vpc_uuid=p['vpc_uuid'], user_data=p['user_data'], ipv6=p['ipv6'],
                                       monitoring=p['monitoring'])
            answer = self.api.call(self.client.droplets.create, body=body, idempotent=False,
                                   what='create droplets %s' % ', '.join(chunk)) or {}
            got = answer.get('droplets') or ([answer['droplet']] if answer.get('droplet') else [])
            if len(got) != len(chunk):
                raise DOError('DigitalOcean API: create droplets %s answered with %d droplets instead of %d; '
                              'fix: run again (existing droplets are reused)' % (', '.join(chunk), len(got), len(chunk)))
            created.extend(got)
        return created

    def wait_ready(self, tag, ids):
        """Poll the tag's droplets until all ``ids`` are past ``new`` and have addresses."""
        state = {'last': {}}

        def probe():
            current = dict((d.get('id'), d) for d in self.by_tag(tag))
            state['last'] = current
            if all(i in current and current[i].get('status') != 'new' and has_networks(current[i]) for i in ids):
                return [current[i] for i in ids]
            return None

        def pending():
            waiting = []
            for i in ids:
                d = state['last'].get(i)
                if d is None:
                    waiting.append('%s (not listed)' % i)
                elif d.get('status') == 'new' or not has_networks(d):
                    waiting.append('%s (%s%s)' % (d.get('name'), d.get('status'),
                                                  '' if has_networks(d) else ', no address yet'))
            return ', '.join(waiting)

        probe.pending = pending
        return self.api.poll(probe, self.p['wait_timeout'], self.poll_interval,
                             what='waiting for droplets to become active',
                             fix='fix: run again (a droplet still new wait_timeout seconds after its creation is then '
                                 'destroyed and created again), or raise wait_timeout (provision.yml: '
                                 '-e fleet_droplet_wait=SECONDS)')

    def destroy(self, droplets, tag):
        for droplet in droplets:
            self.api.call(self.client.droplets.destroy, droplet_id=droplet['id'], missing_ok=True,
                          what='destroy droplet %s (%s)' % (droplet.get('name'), droplet['id']))
        if droplets and self.p['wait']:
            self.wait_gone(tag, [d['id'] for d in droplets])

    def wait_gone(self, tag, ids):
        gone = set(ids)

        def probe():
            left = [d for d in self.by_tag(tag) if d.get('id') in gone]
            probe.left = left
            return True if not left else None

        probe.left = []
        probe.pending = lambda: 'still listed: %s' % ', '.join(str(d.get('name')) for d in probe.left)
        self.api.poll(probe, self.p['wait_timeout'], self.poll_interval, what='waiting for droplets to be destroyed')

    # -- absent
    def absent(self):
        p = self.p
        if p['server']:
            return self.absent_server()
        if p['service']:
            tag = service_tag(p['user'], p['project'], p['env'], p['service'])
            found = self.by_tag(tag)
        else:
            tag = env_tag(p['user'], p['project'], p['env'])
            found = self.env_droplets()
        doomed = [d for d in found if not p['zone'] or droplet_zone(d) == p['zone']]
        other = sorted(d.get('name') for d in found if d not in doomed)
        names = sorted(d.get('name') for d in doomed)
        result = dict(changed=bool(doomed), droplets=[], surplus=[], other_zones=other,
                      plan=dict(create=[], keep=[], destroy=names),
                      diff=dict(before=dict(droplets=names), after=dict(droplets=[])))
        if self.check_mode or not doomed:
            return result
        tagged = [d for d in doomed if tag in (d.get('tags') or [])]
        if p['zone']:
            self.destroy(tagged, tag)
        elif tagged:
            self.api.call(self.client.droplets.destroy_by_tag, tag_name=tag, what='destroy droplets tagged %s' % tag)
            if p['wait']:
                self.wait_gone(tag, [d['id'] for d in tagged])
        self.destroy_fenced(doomed, tag, whole_env=not p['service'] and not p['zone'])
        return result

    def absent_server(self):
        """Destroy the one droplet of the environment named (or addressed) ``server``."""
        p = self.p
        tag = env_tag(p['user'], p['project'], p['env'])
        found = self.env_droplets()
        doomed = [d for d in found if p['server'] in (d.get('name'), droplet_address(d, 'public'),
                                                      droplet_address(d, 'private'))]
        if not doomed:
            raise ValueError('server: no droplet of %s/%s/%s is named or addressed %s; fix: use one of %s'
                             % (p['user'], p['project'], p['env'], p['server'],
                                ', '.join(sorted('%s (%s)' % (d.get('name'), droplet_address(d, 'public'))
                                                 for d in found)) or 'none: the environment has no droplets'))
        names = [d.get('name') for d in doomed]
        result = dict(changed=True, droplets=[], surplus=[], other_zones=[],
                      plan=dict(create=[], keep=[], destroy=names, mark=[], unmark=[]),
                      diff=dict(before=dict(droplets=sorted(d.get('name') for d in found)),
                                after=dict(droplets=sorted(d.get('name') for d in found if d not in doomed))))
        if not self.check_mode:
            self.destroy([d for d in doomed if tag in (d.get('tags') or [])], tag)
            self.destroy_fenced(doomed, tag)
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            tenant_argument_spec('optional'),
            state=dict(type='str', choices=['present', 'absent', 'fenced'], default='present'),
            zone=dict(type='str'),
            keep_zones=dict(type='list', elements='str', default=[]),
            server=dict(type='str'),
            count=dict(type='int', default=1),
            cpu=dict(type='int'),
            memory=dict(type='int'),
            size=dict(type='str'),
            image=dict(type='str', default='debian-12-x64'),
            ssh_keys=dict(type='list', elements='str', default=[], no_log=False),
            vpc_uuid=dict(type='str'),
            user_data=dict(type='str'),
            ipv6=dict(type='bool', default=False),
            monitoring=dict(type='bool', default=False),
            tags=dict(type='list', elements='str', default=[]),
            remove_surplus=dict(type='bool', default=False),
            wait=dict(type='bool', default=True),
            wait_timeout=dict(type='int', default=300),
            **do_argument_spec()
        ),
        required_if=[('state', 'present', ['service', 'zone']), ('state', 'fenced', ['server'])],
        mutually_exclusive=[('size', 'cpu'), ('size', 'memory'), ('server', 'service'), ('server', 'zone')],
        supports_check_mode=True,
    )
    p = module.params
    try:
        check_ids(user=p['user'], project=p['project'], env=p['env'], service=p['service'])
        if p['zone'] is not None and zone_error(p['zone']):
            raise ValueError(zone_error(p['zone']))
        if p['count'] < 0:
            raise ValueError('count must be >= 0, got %d' % p['count'])
        for tag in p['tags']:
            if not TAG_RE.match(tag):
                raise ValueError('tag %r is not a DigitalOcean tag: use letters, digits, ":", "-" and "_"' % tag)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    run_manager(module, DropletManager)


if __name__ == '__main__':
    main()
