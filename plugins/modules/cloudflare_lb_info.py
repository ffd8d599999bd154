#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudflare_lb_info
short_description: The Cloudflare load balancers of hostnames, their pools and what the monitors see
version_added: 0.7.0
description:
  - For each hostname, its load balancer (steering, fallback pool) and each of its pools in order with the health
    Cloudflare's monitors report (C(GET .../pools/{id}/health)) - the pool's and each origin's, with the reason of a
    failure. C(playbooks/status.yml) shows it.
  - Reads only.
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
  hostnames:
    description: The load-balanced hostnames.
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: What the load balancer of api.example.com sees
  projectdeployer.fleet.cloudflare_lb_info:
    hostnames: [api.example.com]
  register: lb
'''

RETURN = r'''
load_balancers:
  description:
    - One per hostname that has a load balancer - C(hostname), C(steering_policy), C(fallback_pool) (its name),
      C(pools) (in order - C(name), C(healthy), C(origins) with C(address), C(enabled), C(healthy) and C(reason)).
    - A hostname without a load balancer is left out.
  returned: success
  type: list
  elements: dict
table:
  description: The same as lines of a table a person reads (one row per pool).
  returned: success
  type: list
  elements: str
'''

import json

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._cloudflare import api, balancing


def pool_health(client, account, pool_id):
    """The raw JSON result (the SDK's model of pop_health does not fit the API's per-data-center map)."""
    raw = api.call('read the health of pool %s' % pool_id, client.load_balancers.pools.health.with_raw_response.get,
                   pool_id, account_id=account)
    return json.loads(raw.http_response.text).get('result') or {}


def describe(client, hostname):
    zone = api.find_zone(client, hostname)
    listed = api.call('list load balancers', lambda: list(client.load_balancers.list(zone_id=zone['id'])))
    found = [api.dump(b) for b in listed if b.name == hostname]
    if not found:
        return None
    balancer = found[0]
    account = api.call('read zone %s' % zone['name'], client.zones.get, zone_id=zone['id']).account.id
    pools = []
    names = {}
    for pool_id in balancer.get('default_pools') or []:
        pool = api.dump(api.call('read pool %s' % pool_id, client.load_balancers.pools.get, pool_id, account_id=account))
        names[pool_id] = pool.get('name')
        pools.append(balancing.pool_health_view(pool, pool_health(client, account, pool_id)))
    return {'hostname': hostname, 'steering_policy': balancer.get('steering_policy'),
            'fallback_pool': names.get(balancer.get('fallback_pool'), balancer.get('fallback_pool')), 'pools': pools}


def main():
    module = AnsibleModule(argument_spec=dict(hostnames=dict(type='list', elements='str', required=True),
                                              **api.argument_spec()),
                           supports_check_mode=True)
    if not api.HAS_CLOUDFLARE:
        module.fail_json(msg=missing_required_lib('cloudflare'), exception=api.CLOUDFLARE_TRACEBACK)
    try:
        client = api.make_client(module.params)
        found = [describe(client, h.lower().rstrip('.')) for h in module.params['hostnames']]
    except api.CfApiError as exc:
        module.fail_json(msg=str(exc))
    found = [f for f in found if f]
    module.exit_json(changed=False, load_balancers=found, table=balancing.health_table(found))


if __name__ == '__main__':
    main()
