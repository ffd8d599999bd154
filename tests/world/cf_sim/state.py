# SPDX-License-Identifier: GPL-3.0-or-later
"""What the Cloudflare simulator holds: an account, its zones, their DNS records; every write counted.

One lock guards it all; the HTTP threads call in. Nothing is kept on disk: a simulator lives as long as the test
that started it.
"""
import json
import logging
import threading
import urllib.request
import uuid

from . import model
from .balancing import Balancing

NAME_SERVERS = ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com']


def _id():
    return uuid.uuid4().hex     # Cloudflare's identifiers are 32 hex digits


class CfState:
    def __init__(self, zones=(), account_name='fleet test account'):
        self.lock = threading.RLock()
        self.account = {'id': _id(), 'name': account_name}
        self.zones = {}
        self.records = {}
        self.writes = []            # (method, path) of every API call that changed or tried to change something
        self.balancing = Balancing()
        self.prober = None          # prober.Prober, set by make_server
        self.front = None           # front.Front when the front listens
        self.authoritative = None   # pebble-challtestsrv's management URL: TXT records are served there
        for name in zones:
            self.add_zone(name)

    # -- zones
    def add_zone(self, name):
        with self.lock:
            now = model.now_iso()
            zone = {'id': _id(), 'name': name.lower().rstrip('.'), 'status': 'active', 'paused': False,
                    'type': 'full', 'development_mode': 0, 'name_servers': list(NAME_SERVERS),
                    'original_name_servers': None, 'original_registrar': None, 'original_dnshost': None,
                    'created_on': now, 'modified_on': now, 'activated_on': now,
                    'account': dict(self.account), 'owner': {'id': None, 'type': 'user', 'email': None},
                    'meta': {'cdn_only': False, 'custom_certificate_quota': 0, 'dns_only': False,
                             'foundation_dns': False, 'page_rule_quota': 3, 'phishing_detected': False, 'step': 2},
                    'permissions': ['#dns_records:edit', '#dns_records:read', '#zone:read'],
                    'plan': {'id': '0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 'name': 'Free Website', 'price': 0,
                             'currency': 'USD', 'frequency': '', 'is_subscribed': False, 'can_subscribe': False,
                             'legacy_id': 'free', 'legacy_discount': False, 'externally_managed': False}}
            self.zones[zone['id']] = zone
            self.records[zone['id']] = {}
            return zone

    def list_zones(self, query):
        with self.lock:
            found = sorted(self.zones.values(), key=lambda z: z['name'])
            name = query.get('name')
            if name:
                found = [z for z in found if z['name'] == name.lower().rstrip('.')]
            status = query.get('status')
            if status:
                found = [z for z in found if z['status'] == status]
            account = query.get('account.id')
            if account:
                found = [z for z in found if z['account']['id'] == account]
            return model.page(found, query, default_per_page=20, max_per_page=50)

    def zone(self, zone_id):
        with self.lock:
            found = self.zones.get(zone_id)
            if found is None:
                raise model.not_found(1001, 'Invalid zone identifier')
            return found

    # -- DNS records
    def _record_view(self, zone, record):
        return dict(record, zone_id=zone['id'], zone_name=zone['name'], meta={}, locked=False)

    def list_records(self, zone_id, query):
        with self.lock:
            zone = self.zone(zone_id)
            found = sorted(self.records[zone_id].values(), key=lambda r: (r['type'], r['name'], r['content'], r['id']))
            checks = []
            if query.get('type'):
                checks.append(lambda r: r['type'] == query['type'])
            if query.get('proxied') in ('true', 'false'):
                checks.append(lambda r: r['proxied'] == (query['proxied'] == 'true'))
            for field in ('name', 'content', 'comment'):
                for op, wanted in model.string_filters(query, field):
                    checks.append(lambda r, f=field, o=op, w=wanted: model.matches(r.get(f), o, w))
            if query.get('match', 'all') == 'any' and checks:
                found = [r for r in found if any(c(r) for c in checks)]
            else:
                found = [r for r in found if all(c(r) for c in checks)]
            if query.get('order') in ('type', 'name', 'content', 'ttl', 'proxied'):
                found.sort(key=lambda r: r[query['order']], reverse=query.get('direction') == 'desc')
            items, info = model.page(found, query)
            return [self._record_view(zone, r) for r in items], info

    def get_record(self, zone_id, record_id):
        with self.lock:
            zone = self.zone(zone_id)
            record = self.records[zone_id].get(record_id)
            if record is None:
                raise model.record_not_found()
            return self._record_view(zone, record)

    def create_record(self, zone_id, body):
        with self.lock:
            zone = self.zone(zone_id)
            wanted = model.check_record(body, zone['name'])
            error = model.conflict(wanted, self.records[zone_id].values())
            if error:
                raise error
            now = model.now_iso()
            record = dict(wanted, id=_id(), created_on=now, modified_on=now,
                          comment_modified_on=now if wanted['comment'] else None,
                          tags_modified_on=now if wanted['tags'] else None)
            self.records[zone_id][record['id']] = record
            self.publish(zone_id, record['name'])
            return self._record_view(zone, record)

    def change_record(self, zone_id, record_id, body, partial):
        """PUT (``partial`` False: the body is the whole record) or PATCH (only what the body names)."""
        with self.lock:
            zone = self.zone(zone_id)
            current = self.records[zone_id].get(record_id)
            if current is None:
                raise model.record_not_found()
            old_name = current['name']
            wanted = model.check_record(body, zone['name'], partial=current if partial else None)
            others = [r for r in self.records[zone_id].values() if r['id'] != record_id]
            error = model.conflict(wanted, others)
            if error:
                raise error
            now = model.now_iso()
            comment_changed = wanted['comment'] != current.get('comment')
            tags_changed = wanted['tags'] != current.get('tags')
            current.update(wanted, modified_on=now)
            if comment_changed:
                current['comment_modified_on'] = now
            if tags_changed:
                current['tags_modified_on'] = now
            for name in sorted(set([old_name, current['name']])):
                self.publish(zone_id, name)
            return self._record_view(zone, current)

    def delete_record(self, zone_id, record_id):
        with self.lock:
            self.zone(zone_id)
            gone = self.records[zone_id].pop(record_id, None)
            if gone is None:
                raise model.record_not_found()
            self.publish(zone_id, gone['name'])
            return {'id': record_id}

    # -- the zone's authoritative answers (TXT only: what DNS-01 needs), served by pebble-challtestsrv
    def publish(self, zone_id, name):
        """Serve the records of ``name`` as they are now on the authoritative server (when there is one): its TXT
        records (cleared, then set one by one: challtestsrv keeps a list per name), and its DNS-only A and AAAA
        records (a proxied name resolves to Cloudflare's edge, which challtestsrv's default address stands for)."""
        if not self.authoritative:
            return
        records = [r for r in self.records[zone_id].values() if r['name'] == name]
        host = name + '.'
        self._authoritative('clear-txt', {'host': host})
        for record in records:
            if record['type'] == 'TXT':
                self._authoritative('set-txt', {'host': host, 'value': record['content'].strip('"')})
        for kind, verb in (('A', 'a'), ('AAAA', 'aaaa')):
            addresses = [r['content'] for r in records if r['type'] == kind and not r.get('proxied')]
            self._authoritative('clear-%s' % verb, {'host': host})
            if addresses:
                self._authoritative('add-%s' % verb, {'host': host, 'addresses': addresses})

    def _authoritative(self, verb, body):
        try:
            urllib.request.urlopen('%s/%s' % (self.authoritative, verb), data=json.dumps(body).encode(),
                                   timeout=10).read()
        except OSError as exc:
            logging.getLogger('cf_sim').warning('the authoritative server did not take %s %s: %s', verb, body, exc)

    # -- load balancing (balancing.py)
    def account_of(self, account_id):
        if account_id != self.account['id']:
            raise model.not_found(7003, 'Could not route to /accounts/%s: the account does not exist' % account_id)

    def lb_call(self, name, *args, account_id=None, zone_id=None):
        """Run ``Balancing.name(*args)`` under the lock (the zone, when given, first), after the path's checks."""
        with self.lock:
            if account_id is not None:
                self.account_of(account_id)
            if zone_id is not None:
                args = (self.zone(zone_id),) + args
            return getattr(self.balancing, name)(*args)

    def list_lb(self, kind, account_id=None, zone_id=None, query=None):
        with self.lock:
            if zone_id is not None:
                zone = self.zone(zone_id)
                return [self.balancing.view_balancer(b) for b in self.balancing.zone_balancers(zone)]
            self.account_of(account_id)
            found = sorted(getattr(self.balancing, kind).values(), key=lambda o: (o.get('name') or '', o['id']))
            if kind == 'pools' and (query or {}).get('monitor'):
                found = [p for p in found if p.get('monitor') == query['monitor']]
            return found

    def get_lb(self, kind, obj_id, account_id=None, zone_id=None):
        with self.lock:
            if zone_id is not None:
                zone = self.zone(zone_id)
                found = self.balancing.balancers.get(obj_id)
                if found is None or found['zone_id'] != zone['id']:
                    raise model.not_found(1003, 'Load balancer not found')
                return self.balancing.view_balancer(found)
            self.account_of(account_id)
            found = getattr(self.balancing, kind).get(obj_id)
            if found is None:
                raise model.not_found(1000, '%s not found' % kind[:-1].capitalize())
            return found

    def pool_health(self, account_id, pool_id):
        pool = self.get_lb('pools', pool_id, account_id=account_id)
        return self.prober.pool_health(pool)

    # -- the simulator's own view
    def count_write(self, method, path):
        with self.lock:
            self.writes.append((method, path))

    def snapshot(self):
        with self.lock:
            return {'account': dict(self.account),
                    'zones': [dict(z) for z in sorted(self.zones.values(), key=lambda z: z['name'])],
                    'records': [self._record_view(self.zones[zid], r) for zid in sorted(self.records)
                                for r in sorted(self.records[zid].values(), key=lambda r: (r['name'], r['type']))],
                    'monitors': list(self.balancing.monitors.values()), 'pools': list(self.balancing.pools.values()),
                    'load_balancers': list(self.balancing.balancers.values()),
                    'front': dict(self.front.counts) if self.front else {},
                    'writes': len(self.writes)}
