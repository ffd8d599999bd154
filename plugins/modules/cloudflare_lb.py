#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudflare_lb
short_description: Ensure a Cloudflare load balancer over a service's servers in several regions
version_added: 0.4.0
description:
  - Ensures, for one service of a project env and one hostname, a health monitor, one pool per DigitalOcean region
    with that region's servers as origins, and a load balancer with geo steering (each region's pool for the
    Cloudflare region it is in, the others after it) and a fallback pool.
  - "Names are predictable - pools C({user}-{project}-{env}-{service}-{region}), the load balancer the hostname - and
    every object carries C(managed by projectdeployer.fleet: OWNER SERVICE) in its description."
  - Converges create, then update, then delete - a region that left loses its pool only after the load balancer
    stopped sending to it - so no request is steered to a pool that is gone, and a second identical run makes
    no API write.
  - The DigitalOcean region to Cloudflare region map and its sources are in C(module_utils/_cloudflare/regions.py).
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._cloudflare
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  owner:
    description: The project env, C(user/project/env).
    type: str
    required: true
  service:
    description: The service the hostname serves.
    type: str
    required: true
  hostname:
    description: The load-balanced hostname (in a zone of the account).
    type: str
    required: true
  regions:
    description:
      - "The service's servers by DigitalOcean region, in order of preference - C({lon1: [203.0.113.7, 203.0.113.8],
        nyc3: [198.51.100.7]}). A region missing from a later run loses its pool (after the load balancer left it)."
    type: dict
    default: {}
  fallback_region:
    description: The region whose pool serves when every pool is unhealthy (the first region by default).
    type: str
  steering_policy:
    description: Cloudflare's steering policy.
    type: str
    choices: [geo, 'off', random, dynamic_latency, proximity]
    default: geo
  proxied:
    description: Whether Cloudflare proxies the hostname.
    type: bool
    default: true
  monitor:
    description:
      - The health monitor - C(type) (V(https)), C(path) (V(/healthz), which the fleet's edge answers with 200 while
        the hostname's route has a peer in its route table), C(port), C(expected_codes), C(interval)
        (seconds, 60), C(timeout), C(retries), C(allow_insecure).
    type: dict
    default: {}
  state:
    description: V(absent) removes the load balancer, the pools and the monitor (the collection's own only).
    type: str
    choices: [present, absent]
    default: present
'''

EXAMPLES = r'''
- name: api.example.com over lon1 and nyc3
  projectdeployer.fleet.cloudflare_lb:
    owner: u1/myapp/prod
    service: api
    hostname: api.example.com
    regions:
      lon1: [203.0.113.7, 203.0.113.8]
      nyc3: [198.51.100.7, 198.51.100.8]
'''

RETURN = r'''
load_balancer:
  description: The load balancer as the API shows it after the run (absent - null).
  returned: success
  type: dict
pools:
  description: The pools by region (C(id), C(name), C(origins)).
  returned: success
  type: dict
writes:
  description: What the run changed, in order (C(create pool u1-myapp-prod-api-lon1), ...).
  returned: success
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._cloudflare import api, balancing, regions


class Converger(object):
    def __init__(self, module, client, zone, account):
        self.module, self.client, self.zone, self.account = module, client, zone, account
        self.p = module.params
        self.writes = []

    def write(self, what, function, *args, **kwargs):
        self.writes.append(what)
        if self.module.check_mode:
            return None
        return api.call(what, function, *args, **kwargs)

    def mine(self, items):
        wanted = balancing.mark(self.p['owner'], self.p['service'])
        return [i for i in items if i.get('description') == wanted]

    @staticmethod
    def sdk_monitor(wanted):
        """The monitor body as the SDK's keyword arguments: its ``timeout`` is the HTTP request's, the monitor's is
        ``load_balancer_monitor_timeout``."""
        args = dict(wanted)
        args['load_balancer_monitor_timeout'] = args.pop('timeout')
        return args

    def monitor(self):
        lb = self.client.load_balancers
        wanted = balancing.monitor_body(self.p['owner'], self.p['service'], self.p['hostname'], self.p['monitor'])
        found = self.mine([api.dump(m) for m in api.call('list monitors', lambda: list(lb.monitors.list(account_id=self.account)))])
        if not found:
            made = self.write('create monitor for %s' % self.p['hostname'], lb.monitors.create,
                              account_id=self.account, **self.sdk_monitor(wanted))
            return made.id if made else 'check-mode-monitor'
        if balancing.differs(found[0], wanted):
            self.write('update monitor for %s' % self.p['hostname'], lb.monitors.update, found[0]['id'],
                       account_id=self.account, **self.sdk_monitor(wanted))
        return found[0]['id']

    def pools(self, monitor_id):
        lb = self.client.load_balancers
        existing = self.mine([api.dump(p) for p in api.call('list pools', lambda: list(lb.pools.list(account_id=self.account)))])
        by_name = dict((p['name'], p) for p in existing)
        ids = {}
        for region, addresses in self.p['regions'].items():
            wanted = balancing.pool_body(self.p['owner'], self.p['service'], region, list(addresses), monitor_id)
            current = by_name.get(wanted['name'])
            if current is None:
                made = self.write('create pool %s' % wanted['name'], lb.pools.create, account_id=self.account, **wanted)
                ids[region] = made.id if made else 'check-mode-%s' % region
            else:
                if balancing.differs(current, wanted):
                    self.write('update pool %s' % wanted['name'], lb.pools.update, current['id'],
                               account_id=self.account, **wanted)
                ids[region] = current['id']
        names = set(balancing.pool_name(self.p['owner'], self.p['service'], r) for r in self.p['regions'])
        return ids, [p for p in existing if p['name'] not in names]

    def balancer(self, pool_ids):
        lbs = self.client.load_balancers
        found = [api.dump(b) for b in api.call('list load balancers', lambda: list(lbs.list(zone_id=self.zone['id'])))
                 if b.name == self.p['hostname']]
        if found and found[0].get('description') != balancing.mark(self.p['owner'], self.p['service']):
            raise api.CfApiError('load balancer %s was not made by the collection for %s %s; fix: delete it in '
                                 'Cloudflare or use another hostname' % (self.p['hostname'], self.p['owner'], self.p['service']))
        if self.p['state'] == 'absent' or not self.p['regions']:
            if found:
                self.write('delete load balancer %s' % self.p['hostname'], lbs.delete, found[0]['id'], zone_id=self.zone['id'])
            return None
        regions = list(self.p['regions'])
        wanted = balancing.balancer_body(self.p['owner'], self.p['service'], self.p['hostname'], regions, pool_ids,
                                         self.p['fallback_region'], self.p['steering_policy'], self.p['proxied'])
        if not found:
            made = self.write('create load balancer %s' % self.p['hostname'], lbs.create, zone_id=self.zone['id'], **wanted)
            return api.dump(made) if made else wanted
        if balancing.differs(found[0], wanted):
            made = self.write('update load balancer %s' % self.p['hostname'], lbs.update, found[0]['id'],
                              zone_id=self.zone['id'], **wanted)
            return api.dump(made) if made else wanted
        return found[0]

    def run(self):
        lb = self.client.load_balancers
        if self.p['state'] == 'absent':
            self.p['regions'] = {}
        monitor_id = self.monitor() if self.p['regions'] else None
        pool_ids, stale = self.pools(monitor_id) if self.p['regions'] else ({}, self.mine(
            [api.dump(p) for p in api.call('list pools', lambda: list(lb.pools.list(account_id=self.account)))]))
        balancer = self.balancer(pool_ids)
        for pool in stale:                       # after the load balancer left them
            self.write('delete pool %s' % pool['name'], lb.pools.delete, pool['id'], account_id=self.account)
        if not self.p['regions']:
            for monitor in self.mine([api.dump(m) for m in api.call(
                    'list monitors', lambda: list(lb.monitors.list(account_id=self.account)))]):
                self.write('delete monitor for %s' % self.p['hostname'], lb.monitors.delete, monitor['id'],
                           account_id=self.account)
        return dict(changed=bool(self.writes), writes=self.writes, load_balancer=balancer,
                    pools=dict((r, {'id': i, 'name': balancing.pool_name(self.p['owner'], self.p['service'], r),
                                    'origins': list(self.p['regions'][r])}) for r, i in pool_ids.items()))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            owner=dict(type='str', required=True),
            service=dict(type='str', required=True),
            hostname=dict(type='str', required=True),
            regions=dict(type='dict', default={}),
            fallback_region=dict(type='str'),
            steering_policy=dict(type='str', choices=['geo', 'off', 'random', 'dynamic_latency', 'proximity'],
                                 default='geo'),
            proxied=dict(type='bool', default=True),
            monitor=dict(type='dict', default={}),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            **api.argument_spec()
        ),
        supports_check_mode=True)
    if not api.HAS_CLOUDFLARE:
        module.fail_json(msg=missing_required_lib('cloudflare'), exception=api.CLOUDFLARE_TRACEBACK)
    p = module.params
    p['hostname'] = p['hostname'].lower().rstrip('.')
    try:
        for region in p['regions']:
            regions.cloudflare_region(region)
        if p['fallback_region'] and p['fallback_region'] not in p['regions']:
            raise ValueError('fallback_region: %s is not one of the regions (%s); fix: name one of them'
                             % (p['fallback_region'], ', '.join(p['regions'])))
        client = api.make_client(p)
        zone = api.find_zone(client, p['hostname'])
        account = api.call('read zone %s' % zone['name'], client.zones.get, zone_id=zone['id']).account.id
        module.exit_json(**Converger(module, client, zone, account).run())
    except (ValueError, api.CfApiError) as exc:
        module.fail_json(msg=str(exc))


if __name__ == '__main__':
    main()
