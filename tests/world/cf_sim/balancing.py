# SPDX-License-Identifier: GPL-3.0-or-later
"""Load balancing objects of the Cloudflare simulator: monitors and pools (account level), load balancers (zone).

Stored and validated as the API does for what the collection uses: a pool names an existing monitor, a load
balancer existing pools and a hostname inside its zone; a monitor in use by a pool, or a pool in use by a load
balancer, cannot be deleted (code 1002 and 1001, as the API says "in use"). Health (probing origins) and the
front that steers requests are not in this file.
"""
import ipaddress
import re
import uuid

from . import model

MONITOR_TYPES = ('http', 'https', 'tcp')
STEERING = ('off', 'geo', 'random', 'dynamic_latency', 'proximity', 'least_outstanding_requests',
            'least_connections', '')
# Cloudflare's region codes for region_pools (docs: "Region codes")
REGIONS = ('WNAM', 'ENAM', 'WEU', 'EEU', 'NSAM', 'SSAM', 'OC', 'ME', 'NAF', 'SAF', 'SAS', 'SEAS', 'NEAS')
POOL_NAME_RE = re.compile(r'^[A-Za-z0-9_-]{1,100}$')
MONITOR_DEFAULTS = {'type': 'http', 'method': 'GET', 'path': '/', 'header': {}, 'port': 0, 'timeout': 5,
                    'retries': 2, 'interval': 60, 'expected_codes': '200', 'expected_body': '',
                    'follow_redirects': False, 'allow_insecure': False, 'description': '', 'consecutive_up': 0,
                    'consecutive_down': 0, 'probe_zone': ''}
POOL_DEFAULTS = {'description': '', 'enabled': True, 'minimum_origins': 1, 'monitor': None, 'check_regions': None,
                 'notification_email': '', 'origin_steering': {'policy': 'random'}}
LB_DEFAULTS = {'description': '', 'enabled': True, 'proxied': False, 'ttl': 30, 'steering_policy': '',
               'region_pools': {}, 'country_pools': {}, 'pop_pools': {}, 'session_affinity': 'none'}


def _id():
    return uuid.uuid4().hex


def _bad(message, code=1002):
    return model.bad_request(code, message)


def check_monitor(body):
    monitor = dict(MONITOR_DEFAULTS, **{k: v for k, v in body.items() if k in MONITOR_DEFAULTS})
    if monitor['type'] not in MONITOR_TYPES:
        raise _bad('monitor type %r is not modelled (http, https, tcp)' % monitor['type'])
    if monitor['method'] not in ('GET', 'HEAD') and monitor['type'] != 'tcp':
        raise _bad('method must be GET or HEAD')
    for key, low, high in (('timeout', 1, 10), ('retries', 0, 5), ('interval', 1, 3600), ('port', 0, 65535)):
        value = monitor[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _bad('%s must be a whole number from %d to %d' % (key, low, high))
    if monitor['timeout'] >= monitor['interval']:
        raise _bad('timeout must be less than interval')
    if not isinstance(monitor['header'], dict) or not all(isinstance(v, list) for v in monitor['header'].values()):
        raise _bad('header must map names to lists of values')
    if monitor['type'] != 'tcp' and not re.match(r'^([1-5][0-9x]{2})( [1-5][0-9x]{2})*$', str(monitor['expected_codes'])):
        raise _bad('expected_codes must be codes like 200 or 2xx')
    return monitor


def check_pool(body, monitors):
    pool = dict(POOL_DEFAULTS, **{k: v for k, v in body.items() if k in POOL_DEFAULTS or k in ('name', 'origins')})
    if not POOL_NAME_RE.match(str(pool.get('name') or '')):
        raise _bad('pool name must be 1-100 letters, digits, - or _')
    origins = pool.get('origins')
    if not isinstance(origins, list) or not origins:
        raise _bad('a pool needs at least one origin')
    checked = []
    for origin in origins:
        address = str(origin.get('address') or '')
        try:
            ipaddress.ip_address(address)
        except ValueError:
            if not model.HOSTNAME_RE.match(address.lower()):
                raise _bad('origin address %r is not an IP address or host name' % address) from None
        checked.append({'name': str(origin.get('name') or address), 'address': address,
                        'enabled': bool(origin.get('enabled', True)), 'weight': float(origin.get('weight', 1)),
                        'header': origin.get('header') or {}, 'disabled_at': None})
    pool['origins'] = checked
    if pool['monitor'] is not None and pool['monitor'] not in monitors:
        raise _bad('monitor %s does not exist' % pool['monitor'])
    return pool


def check_load_balancer(body, zone, pools):
    lb = dict(LB_DEFAULTS, **{k: v for k, v in body.items() if k in LB_DEFAULTS or k in (
        'name', 'default_pools', 'fallback_pool')})
    lb['name'] = model.full_name(lb.get('name'), zone['name'])
    if not model.HOSTNAME_RE.match(lb['name']):
        raise _bad('load balancer name must be a host name in the zone', 1003)
    if lb['steering_policy'] not in STEERING:
        raise _bad('steering_policy %r is not one of %s' % (lb['steering_policy'], ', '.join(STEERING[:-1])))
    named = list(lb.get('default_pools') or [])
    if not named:
        raise _bad('default_pools needs at least one pool')
    if not lb.get('fallback_pool'):
        raise _bad('fallback_pool is required')
    for region, ids in lb['region_pools'].items():
        if region not in REGIONS:
            raise _bad('region_pools: %r is not a Cloudflare region code (%s)' % (region, ', '.join(REGIONS)))
        named.extend(ids)
    named.append(lb['fallback_pool'])
    missing = sorted(set(named) - set(pools))
    if missing:
        raise _bad('pool %s does not exist' % missing[0])
    return lb


class Balancing:
    """The account's monitors and pools and every zone's load balancers; the caller holds the state's lock."""

    def __init__(self):
        self.monitors, self.pools, self.balancers = {}, {}, {}

    @staticmethod
    def _stamped(obj, before=None):
        now = model.now_iso()
        return dict(obj, id=before['id'] if before else _id(), created_on=before['created_on'] if before else now,
                    modified_on=now)

    def _put(self, kind, store, obj_id, body, partial, check):
        current = store.get(obj_id)
        if current is None:
            raise model.not_found(1000 if kind != 'load balancer' else 1003, '%s not found' % kind.capitalize())
        base = {k: v for k, v in current.items() if k not in ('id', 'created_on', 'modified_on')} if partial else {}
        store[obj_id] = self._stamped(check(dict(base, **body)), current)
        return store[obj_id]

    # monitors
    def create_monitor(self, body):
        monitor = self._stamped(check_monitor(body))
        self.monitors[monitor['id']] = monitor
        return monitor

    def change_monitor(self, monitor_id, body, partial):
        return self._put('monitor', self.monitors, monitor_id, body, partial, check_monitor)

    def delete_monitor(self, monitor_id):
        if monitor_id not in self.monitors:
            raise model.not_found(1000, 'Monitor not found')
        users = sorted(p['name'] for p in self.pools.values() if p.get('monitor') == monitor_id)
        if users:
            raise _bad('monitor is in use by pool %s' % users[0], 1002)
        del self.monitors[monitor_id]
        return {'id': monitor_id}

    # pools
    def create_pool(self, body):
        if any(p['name'] == body.get('name') for p in self.pools.values()):
            raise _bad('a pool named %s already exists' % body.get('name'), 1002)
        pool = self._stamped(check_pool(body, self.monitors))
        self.pools[pool['id']] = pool
        return pool

    def change_pool(self, pool_id, body, partial):
        return self._put('pool', self.pools, pool_id, body, partial, lambda b: check_pool(b, self.monitors))

    def delete_pool(self, pool_id):
        if pool_id not in self.pools:
            raise model.not_found(1000, 'Pool not found')
        users = sorted(lb['name'] for lb in self.balancers.values()
                       if pool_id in lb['default_pools'] or lb['fallback_pool'] == pool_id
                       or any(pool_id in ids for ids in lb['region_pools'].values()))
        if users:
            raise _bad('pool is in use by load balancer %s' % users[0], 1001)
        del self.pools[pool_id]
        return {'id': pool_id}

    # load balancers
    def create_balancer(self, zone, body):
        lb = check_load_balancer(body, zone, self.pools)
        if any(b['name'] == lb['name'] for b in self.balancers.values()):
            raise _bad('a load balancer named %s already exists' % lb['name'], 1003)
        lb = self._stamped(dict(lb, zone_id=zone['id']))
        self.balancers[lb['id']] = lb
        return lb

    def change_balancer(self, zone, lb_id, body, partial):
        current = self.balancers.get(lb_id)
        if current is None or current['zone_id'] != zone['id']:
            raise model.not_found(1003, 'Load balancer not found')
        return self._put('load balancer', self.balancers, lb_id, body, partial,
                         lambda b: dict(check_load_balancer(b, zone, self.pools), zone_id=zone['id']))

    def delete_balancer(self, zone, lb_id):
        current = self.balancers.get(lb_id)
        if current is None or current['zone_id'] != zone['id']:
            raise model.not_found(1003, 'Load balancer not found')
        del self.balancers[lb_id]
        return {'id': lb_id}

    def zone_balancers(self, zone):
        return sorted((b for b in self.balancers.values() if b['zone_id'] == zone['id']), key=lambda b: b['name'])

    def view_balancer(self, lb):
        return {k: v for k, v in lb.items() if k != 'zone_id'}
