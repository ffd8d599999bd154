# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``cloudflare_lb`` wants (pure): one monitor per service, one pool per service and region, one load balancer
per hostname, named predictably and marked as the collection's in their description.

- monitor: HTTPS ``GET`` of the edge's domain health path (``/healthz``, 200 while the route has a peer) with the
  hostname as ``Host``, every 60 s; description ``managed by projectdeployer.fleet: OWNER SERVICE``;
- pool ``{user}-{project}-{env}-{service}-{region}`` (the DigitalOcean region slug), one origin per server address;
- load balancer ``HOSTNAME``: ``default_pools`` in the regions' order, ``region_pools`` by Cloudflare region
  (regions.py), ``fallback_pool`` the first region's (or the one named), ``steering_policy`` geo.

``differs`` compares only the fields the collection sets, so a second run with the same input writes nothing.
"""

from __future__ import annotations

from ansible_collections.projectdeployer.fleet.plugins.module_utils._cloudflare.regions import cloudflare_region

MARK = 'managed by projectdeployer.fleet: %s %s'
HEALTH_PATH = '/healthz'


def mark(owner, service):
    return MARK % (owner, service)


def pool_name(owner, service, region):
    return '%s-%s-%s' % (owner.replace('/', '-'), service, region)


def monitor_body(owner, service, hostname, monitor):
    return {'type': monitor.get('type') or 'https', 'method': 'GET', 'path': monitor.get('path') or HEALTH_PATH,
            'header': {'Host': [hostname]}, 'port': int(monitor.get('port') or 0),
            'expected_codes': str(monitor.get('expected_codes') or '200'), 'interval': int(monitor.get('interval') or 60),
            'timeout': int(monitor.get('timeout') or 5), 'retries': int(monitor.get('retries') or 2),
            'allow_insecure': bool(monitor.get('allow_insecure', False)), 'follow_redirects': False,
            'description': mark(owner, service)}


def pool_body(owner, service, region, addresses, monitor_id):
    return {'name': pool_name(owner, service, region), 'monitor': monitor_id, 'enabled': True, 'minimum_origins': 1,
            'description': mark(owner, service),
            'origins': [{'name': '%s-%d' % (region, i + 1), 'address': a, 'enabled': True, 'weight': 1.0}
                        for i, a in enumerate(addresses)]}


def balancer_body(owner, service, hostname, regions, pool_ids, fallback, steering, proxied):
    """``regions``: the DigitalOcean regions in order of preference; ``pool_ids``: {region: pool id}."""
    region_pools = {}
    for region in regions:
        region_pools.setdefault(cloudflare_region(region), []).append(pool_ids[region])
    return {'name': hostname, 'default_pools': [pool_ids[r] for r in regions],
            'fallback_pool': pool_ids[fallback or regions[0]], 'region_pools': region_pools,
            'steering_policy': steering, 'proxied': proxied, 'enabled': True, 'description': mark(owner, service)}


def _origins(origins):
    return [(o.get('address'), bool(o.get('enabled', True)), float(o.get('weight') or 1)) for o in origins or []]


def differs(current, wanted):
    """Whether ``current`` (as the API shows it) lacks anything of ``wanted`` (only the keys wanted names)."""
    for key, value in wanted.items():
        have = current.get(key)
        if key == 'origins':
            if _origins(have) != _origins(value):
                return True
        elif key == 'header':
            if {k.lower(): v for k, v in (have or {}).items()} != {k.lower(): v for k, v in value.items()}:
                return True
        elif key == 'weight' or isinstance(value, float):
            if float(have or 0) != value:
                return True
        elif (have if have is not None else ({} if isinstance(value, dict) else None)) != value:
            return True
    return False
