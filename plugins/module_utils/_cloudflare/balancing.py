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
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.text_table import text_table

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


def pool_health_view(pool, health):
    """One pool as status.yml shows it, from the pool and ``GET .../pools/{id}/health``'s result: ``{name, healthy,
    origins: [{address, healthy, reason}]}``. Cloudflare answers per data center (``pop_health``): the pool is
    healthy where a majority of them say so, an origin likewise; an origin no data center reports is unknown (None).
    """
    pops = list(((health or {}).get('pop_health') or {}).values())
    votes = [bool(p.get('healthy')) for p in pops]
    origins = []
    for origin in pool.get('origins') or []:
        seen = []
        for pop in pops:
            for entry in pop.get('origins') or []:
                if origin.get('address') in entry:
                    seen.append(entry[origin['address']] or {})
        healthy = None if not seen else sum(1 for s in seen if s.get('healthy')) * 2 > len(seen)
        reasons = sorted(set(s.get('failure_reason') for s in seen if not s.get('healthy') and s.get('failure_reason')))
        origins.append({'address': origin.get('address'), 'enabled': bool(origin.get('enabled', True)),
                        'healthy': healthy, 'reason': '; '.join(reasons)})
    return {'name': pool.get('name'), 'id': pool.get('id'),
            'healthy': None if not votes else sum(votes) * 2 > len(votes), 'origins': origins}


def _word(healthy):
    return 'unknown' if healthy is None else ('healthy' if healthy else 'DOWN')


def health_table(balancers):
    """Lines of a table: one row per pool of each load balancer, in order, with its origins' health."""
    rows = []
    for lb in balancers:
        for index, pool in enumerate(lb['pools']):
            origins = ', '.join('%s %s%s' % (o['address'], _word(o['healthy']) if o['enabled'] else 'disabled',
                                             ' (%s)' % o['reason'] if o['reason'] else '') for o in pool['origins'])
            rows.append((lb['hostname'] if index == 0 else '', pool['name'], _word(pool['healthy']),
                         'yes' if pool['name'] == lb['fallback_pool'] else '', origins))
    return text_table(('hostname', 'pool', 'pool health', 'fallback', 'origins'), rows) if rows else []
