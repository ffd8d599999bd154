# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulated account: droplets, actions, VPCs, firewalls, SSH keys and tags.

One ``State`` holds everything in memory under one lock and writes it to ``<state>/state.json``
after every change. Droplets are backed by hosts (``hosts.ShellHosts`` or ``hosts.FakeHosts``):

- create: the droplet is ``new`` with empty ``networks``; its host starts in the background
  (``host.sh up NAME PUBLIC_IP/16 --private fvpc-XXXXXXXX:PRIVATE_IP/LEN --authorized-key FILE``);
  when that succeeded the droplet is ``active`` with ``networks.v4`` (private and public entries)
  and its ``create`` action ``completed`` (``errored`` when the host failed to start; the droplet
  then stays ``new``).
- destroy: the droplet is gone from the API at once; ``host.sh down NAME`` runs in the
  background (after a start still in progress).
- shutdown / power_off: ``host.sh down NAME --keep-data``, then ``off``; power_on: ``host.sh up``
  again (a reboot of the same disk), then ``active``; power_cycle / reboot: both.
- resize: only when ``off`` (422 otherwise), changes size (and disk with ``disk: true``).

Every action is ``in-progress`` for at least ``action_seconds`` and until its host operation is
over, then ``completed`` (or ``errored``). A droplet with an action in progress refuses another
one (422 "Droplet already has a pending event.").

VPC peerings are ``PROVISIONING`` until ``host.sh peer BRIDGE_A:GW_A/LEN BRIDGE_B:GW_B/LEN
--router ID`` succeeded (router legs, forwarding rules, routes in the droplets up; droplets
started later get the routes from host.sh itself), then ``ACTIVE``; a delete makes them
``DELETING`` until ``host.sh unpeer`` removed all of it, then they are gone (404). GW is the .1
of each VPC range; ID is this simulator's router (``model.router_id``). Like VPCs, peerings
survive a restart: ``stop`` removes their routing (and the bridges), the next start sets it up
again (``resume``).
"""
import copy
import ipaddress
import json
import logging
import os
import threading
import time
import uuid

from . import catalog
from .model import (ApiError, FIREWALL_NAME_RE, PEERING_NAME_RE, PORTS_RE, VPC_NAME_RE, auto_vpc_range,
                    bad_request, check_droplet_name, check_tag_name, check_vpc_range, conflict, fingerprint,
                    forbidden, host_name_for, netmask, next_free_ip, normalize_public_key, not_found, paged,
                    peer_spec, router_id, server_error, unprocessable, utc_now, vpc_host_range)

LOG = logging.getLogger('do_sim.state')

DEFAULTS = {
    'droplet_limit': catalog.ACCOUNT['droplet_limit'],
    'action_seconds': 1.0,         # the shortest time an action stays in-progress
    'firewall_seconds': 1.0,       # a firewall change is "waiting" this long, then "succeeded"
    'public_first': '10.250.201.1',
    'public_last': '10.250.250.254',
    'public_prefix': 16,           # the public bridge fleetpub0 is 10.250.0.0/16
    'gateway': '10.250.0.1',
    'default_region': 'nyc3',
    'hosts_data_dir': os.environ.get('FLEET_HOSTS_DATA_DIR', '/var/lib/fleet-hosts'),
    'hosts_run_dir': os.environ.get('FLEET_HOSTS_RUN_DIR', '/run/fleet-hosts'),
    'max_actions': 5000,           # older actions are forgotten (GET then answers 404)
}

UNMODELED_ACTIONS = ('restore', 'password_reset', 'rebuild', 'change_kernel', 'enable_ipv6', 'snapshot',
                     'change_backup_policy', 'enable_private_networking')


class Faults:
    """Failures a test asks for through POST /_sim/faults."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.rate_limit_next = 0      # the next N API requests answer 429
        self.retry_after = 1          # Retry-After (seconds) of those 429s
        self.never_active = []        # name prefixes: such droplets stay "new", no host
        self.delay_seconds = 0.0      # every API request waits this long first
        self.fail_next_create = 0     # the next N POST /v2/droplets answer 500
        self.errored_actions = []     # droplet action types that end "errored", changing nothing (a lost hypervisor)

    def as_dict(self):
        return {'rate_limit_next': self.rate_limit_next, 'retry_after': self.retry_after,
                'never_active': list(self.never_active), 'delay_seconds': self.delay_seconds,
                'fail_next_create': self.fail_next_create, 'errored_actions': list(self.errored_actions)}

    def update(self, body):
        if not isinstance(body, dict):
            raise bad_request('faults: a JSON object is expected')
        unknown = set(body) - set(self.as_dict())
        if unknown:
            raise unprocessable('faults: unknown keys %s (known: %s)'
                                % (', '.join(sorted(unknown)), ', '.join(sorted(self.as_dict()))))
        for key in ('rate_limit_next', 'retry_after', 'fail_next_create'):
            if key in body:
                v = body[key]
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise unprocessable('faults: %s must be an integer >= 0' % key)
        if 'delay_seconds' in body:
            v = body['delay_seconds']
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 120:
                raise unprocessable('faults: delay_seconds must be a number from 0 to 120')
        if 'errored_actions' in body:
            v = body['errored_actions']
            if not isinstance(v, list) or not all(isinstance(k, str) and k for k in v):
                raise unprocessable('faults: errored_actions must be a list of droplet action types')
        if 'never_active' in body:
            v = body['never_active']
            if not isinstance(v, list) or not all(isinstance(p, str) and p for p in v):
                raise unprocessable('faults: never_active must be a list of non-empty name prefixes')
        for key, v in body.items():
            setattr(self, key, float(v) if key == 'delay_seconds' else v)

    def take(self, key):
        """True (and one less) when the counter ``key`` is above 0."""
        n = getattr(self, key)
        if n > 0:
            setattr(self, key, n - 1)
            return True
        return False


def _fresh_data():
    return {
        'version': 1,
        'next_droplet_id': 500000001,
        'next_action_id': 2000000001,
        'next_key_id': 41000001,
        'public_last_ip': None,
        'droplets': {},     # str(id) -> droplet record
        'actions': {},      # str(id) -> action record
        'vpcs': {},         # uuid -> vpc record
        'firewalls': {},    # uuid -> firewall record
        'keys': {},         # str(id) -> ssh key
        'tags': {},         # lower(name) -> {"name": canonical}
        'hosts': {},        # host name -> host record (this simulator's hosts, until down)
        'bridges': [],      # VPC bridges hosts were started on (or peered)
        'peerings': {},     # uuid -> VPC peering record
        'routed': [],       # [bridge_a, bridge_b] pairs host.sh peer was asked for, until unpeered
    }


class State:
    def __init__(self, backend, state_dir, config=None):
        self.cfg = dict(DEFAULTS)
        self.cfg['router_id'] = router_id(state_dir)
        self.cfg.update(config or {})
        self.backend = backend
        self.lock = threading.RLock()
        self.faults = Faults()
        self.state_dir = state_dir
        self.path = os.path.join(state_dir, 'state.json')
        self.keys_dir = os.path.join(state_dir, 'authorized_keys')
        os.makedirs(self.keys_dir, exist_ok=True)
        self._action_started = {}
        self.data = _fresh_data()
        if os.path.exists(self.path):
            with open(self.path, encoding='utf-8') as f:
                loaded = json.load(f)
            if loaded.get('version') == 1:
                self.data.update(loaded)
        for host in self.data['hosts'].values():
            host['state'] = 'stale'   # of an earlier run: teardown() takes it down

    # -----------------------------------------------------------------------------------------
    # persistence and life cycle

    def save(self):
        with self.lock:
            tmp = '%s.%d.tmp' % (self.path, os.getpid())
            with open(tmp, 'w', encoding='utf-8') as f:
                json.dump(self.data, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)

    def teardown(self, timeout=300, everything=False):
        """Destroy every droplet (hosts down, waited for, bounded), remove the peerings' routing
        (the peerings stay, PROVISIONING, for ``resume``), take the VPC bridges down; with
        ``everything`` also forget VPCs, peerings, firewalls, keys, tags, actions and faults.
        True when every host operation ended within ``timeout``."""
        with self.lock:
            for did in list(self.data['droplets']):
                self._destroy(self.data['droplets'][did])
            for name, host in list(self.data['hosts'].items()):
                # hosts of an earlier run, or whose down failed
                if host['state'] not in ('destroying',):
                    host['state'] = 'destroying'
                    self.backend.down(name, False, self._destroyed_cb(name, None))
            self.save()
        idle = self.backend.wait_idle(timeout)
        with self.lock:
            # the peerings' routing before the bridges (the records stay, unless everything)
            for a, b in list(self.data['routed']):
                self.backend.unpeer(self.cfg['router_id'], a, b, self._unpeered_cb(None, a, b))
            for p in list(self.data['peerings'].values()):
                if p['status'] == 'DELETING':
                    del self.data['peerings'][p['id']]
                else:
                    p['status'] = 'PROVISIONING'
            self.save()
        idle = self.backend.wait_idle(120) and idle
        with self.lock:
            for bridge in list(self.data['bridges']):
                self.backend.bridge_down(bridge, [])
            self.data['bridges'] = []
            if everything:
                for key in ('actions', 'vpcs', 'firewalls', 'keys', 'tags', 'peerings'):
                    self.data[key] = {}
                self.faults.reset()
            self.save()
        idle = self.backend.wait_idle(120) and idle
        if not idle:
            LOG.error('teardown: host operations still pending after the bounded wait')
        return idle

    def resume(self):
        """Set up the routing of the peerings kept from an earlier run (after ``teardown``)."""
        with self.lock:
            for p in self.data['peerings'].values():
                if p['status'] != 'DELETING':
                    p['status'] = 'PROVISIONING'
                    self._peer(p)
            self.save()

    # -----------------------------------------------------------------------------------------
    # lookups

    def _droplet(self, droplet_id):
        try:
            return self.data['droplets'].get(str(int(droplet_id)))
        except (TypeError, ValueError):
            return None

    def _get_droplet(self, droplet_id):
        d = self._droplet(droplet_id)
        if d is None:
            raise not_found()
        return d

    def _tag(self, name):
        return self.data['tags'].get(str(name).lower())

    def _ensure_tag(self, name):
        t = self._tag(name)
        if t is None:
            t = self.data['tags'][name.lower()] = {'name': name, 'created_at': utc_now()}
        return t['name']

    def _key(self, ref):
        ref = str(ref)
        if ref in self.data['keys']:
            return self.data['keys'][ref]
        for k in self.data['keys'].values():
            if k['fingerprint'] == ref:
                return k
        return None

    def _default_vpc(self, region):
        for v in self.data['vpcs'].values():
            if v['region'] == region and v['default']:
                return v
        return None

    def _new_id(self, counter):
        n = self.data[counter]
        self.data[counter] = n + 1
        return n

    def _host_exists(self, name):
        if name in self.data['hosts']:
            return True
        if getattr(self.backend, 'kind', '') != 'real':
            return False
        return any(os.path.exists(os.path.join(d, name))
                   for d in (self.cfg['hosts_data_dir'], self.cfg['hosts_run_dir']))

    def _ips_of_other_hosts(self):
        """Public IPs of every host.sh host on this machine (ours and others')."""
        ips = set()
        if getattr(self.backend, 'kind', '') != 'real':
            return ips
        try:
            names = os.listdir(self.cfg['hosts_data_dir'])
        except OSError:
            return ips
        for n in names:
            try:
                with open(os.path.join(self.cfg['hosts_data_dir'], n, 'host.env'), encoding='utf-8') as f:
                    for line in f:
                        if line.startswith('PUBLIC_IP='):
                            ips.add(line.strip().split('=', 1)[1])
            except OSError:
                continue
        return ips

    def _alloc_public_ip(self):
        used = {d['public_ip'] for d in self.data['droplets'].values()}
        used |= {h['public_ip'] for h in self.data['hosts'].values()}
        used |= self._ips_of_other_hosts()
        ip = next_free_ip(self.cfg['public_first'], self.cfg['public_last'], used, self.data['public_last_ip'])
        if ip is None:
            raise unprocessable('the simulator has no free public address left')
        self.data['public_last_ip'] = ip
        return ip

    def _alloc_private_ip(self, vpc):
        used = {d['private_ip'] for d in self.data['droplets'].values() if d['vpc_uuid'] == vpc['id']}
        used |= {h['private_ip'] for h in self.data['hosts'].values() if h.get('vpc_uuid') == vpc['id']}
        first, last = vpc_host_range(vpc['ip_range'])
        ip = next_free_ip(first, last, used, vpc.get('last_ip'))
        if ip is None:
            raise unprocessable('VPC %s has no free address left' % vpc['id'])
        vpc['last_ip'] = ip
        return ip

    # -----------------------------------------------------------------------------------------
    # rendering

    def _render_droplet(self, d):
        size = catalog.size_json(d['size'])
        vpc = self.data['vpcs'].get(d['vpc_uuid'])
        v4 = []
        if d.get('booted') and d['status'] in ('active', 'off'):
            prefix = ipaddress.ip_network(vpc['ip_range']).prefixlen if vpc else 20
            v4 = [
                {'ip_address': d['private_ip'], 'netmask': netmask(prefix), 'gateway': 'nil', 'type': 'private'},
                {'ip_address': d['public_ip'], 'netmask': netmask(self.cfg['public_prefix']),
                 'gateway': self.cfg['gateway'], 'type': 'public'},
            ]
        return {
            'id': d['id'],
            'name': d['name'],
            'memory': size['memory'],
            'vcpus': size['vcpus'],
            'disk': d['disk'],
            'disk_info': [{'type': 'local', 'size': {'amount': d['disk'], 'unit': 'gib'}}],
            'locked': False,
            'status': d['status'],
            'kernel': None,
            'created_at': d['created_at'],
            'features': list(d['features']),
            'backup_ids': [],
            'next_backup_window': None,
            'snapshot_ids': [],
            'image': catalog.image_json(d['image']),
            'volume_ids': [],
            'size': size,
            'size_slug': d['size'],
            'networks': {'v4': v4, 'v6': []},
            'region': catalog.region_json(d['region']),
            'tags': list(d['tags']),
            'vpc_uuid': d['vpc_uuid'],
        }

    def _render_action(self, a):
        out = dict(a)
        out['region'] = catalog.region_json(a['region_slug']) if a.get('region_slug') else None
        return out

    def _render_vpc(self, v):
        return {'id': v['id'], 'urn': 'do:vpc:' + v['id'], 'name': v['name'], 'description': v['description'],
                'region': v['region'], 'ip_range': v['ip_range'], 'default': v['default'],
                'created_at': v['created_at']}

    def _render_firewall(self, fw):
        waiting = time.time() - fw['changed_at'] < self.cfg['firewall_seconds']
        out = {k: copy.deepcopy(fw[k]) for k in ('id', 'name', 'created_at', 'inbound_rules', 'outbound_rules',
                                                 'droplet_ids', 'tags')}
        out['status'] = 'waiting' if waiting else 'succeeded'
        out['pending_changes'] = ([{'droplet_id': i, 'removing': False, 'status': 'waiting'}
                                   for i in fw['droplet_ids']] if waiting else [])
        return out

    def _render_tag(self, t, base_url):
        tagged = sorted(d['id'] for d in self.data['droplets'].values()
                        if t['name'].lower() in (x.lower() for x in d['tags']))
        droplets = {'count': len(tagged)}
        if tagged:
            droplets['last_tagged_uri'] = '%s/v2/droplets/%d' % (base_url, tagged[-1])
        res = {'count': len(tagged)}
        if tagged:
            res['last_tagged_uri'] = droplets['last_tagged_uri']
        res.update({'droplets': droplets, 'images': {'count': 0}, 'volumes': {'count': 0},
                    'volume_snapshots': {'count': 0}, 'databases': {'count': 0}})
        return {'name': t['name'], 'resources': res}

    # -----------------------------------------------------------------------------------------
    # actions

    def _new_action(self, d, kind, status='in-progress'):
        aid = self._new_id('next_action_id')
        a = {'id': aid, 'status': status, 'type': kind, 'started_at': utc_now(),
             'completed_at': utc_now() if status != 'in-progress' else None,
             'resource_id': d['id'] if d else None, 'resource_type': 'droplet' if d else 'backend',
             'region_slug': d['region'] if d else None}
        self.data['actions'][str(aid)] = a
        self._action_started[aid] = time.monotonic()
        if d is not None and status == 'in-progress':
            d['pending_action'] = aid
        over = len(self.data['actions']) - self.cfg['max_actions']
        if over > 0:
            for k in sorted(self.data['actions'], key=int)[:over]:
                del self.data['actions'][k]
        return a

    def _finish_action(self, aid, ok, effect=None):
        """Complete (or error) action ``aid`` once it is ``action_seconds`` old, running
        ``effect`` (under the lock) at that moment."""
        def apply():
            with self.lock:
                a = self.data['actions'].get(str(aid))
                if a is not None and a['status'] == 'in-progress':
                    a['status'] = 'completed' if ok else 'errored'
                    a['completed_at'] = utc_now()
                d = self._droplet(a['resource_id']) if a and a.get('resource_id') else None
                if d is not None and d.get('pending_action') == aid:
                    d['pending_action'] = None
                if effect is not None:
                    effect()
                self._action_started.pop(aid, None)
                self.save()
        started = self._action_started.get(aid, 0)
        delay = started + self.cfg['action_seconds'] - time.monotonic()
        if delay > 0:
            t = threading.Timer(delay, apply)
            t.daemon = True
            t.start()
        else:
            apply()

    def get_action(self, action_id):
        with self.lock:
            a = self.data['actions'].get(str(action_id))
            if a is None:
                raise not_found()
            return {'action': self._render_action(a)}

    def list_actions(self, query, base_url, path, droplet_id=None):
        with self.lock:
            if droplet_id is not None:
                self._get_droplet(droplet_id)
            acts = [a for a in self.data['actions'].values()
                    if droplet_id is None or a['resource_id'] == int(droplet_id)]
            acts.sort(key=lambda a: -a['id'])
            return paged('actions', [self._render_action(a) for a in acts], query, base_url, path)

    def get_droplet_action(self, droplet_id, action_id):
        with self.lock:
            self._get_droplet(droplet_id)
            a = self.data['actions'].get(str(action_id))
            if a is None or a['resource_id'] != int(droplet_id):
                raise not_found()
            return {'action': self._render_action(a)}

    # -----------------------------------------------------------------------------------------
    # hosts

    def _host_specs(self, host):
        return ('%s/%d' % (host['public_ip'], self.cfg['public_prefix']),
                ['%s:%s/%d' % (host['bridge'], host['private_ip'], host['private_prefix'])])

    def _start_host(self, host, callback):
        public, private = self._host_specs(host)
        if host['bridge'] not in self.data['bridges']:
            self.data['bridges'].append(host['bridge'])
        self.backend.up(host['name'], public, private, host['keys_file'], callback)

    def _destroyed_cb(self, name, keys_file):
        def cb(ok, err):
            with self.lock:
                host = self.data['hosts'].get(name)
                if ok:
                    self.data['hosts'].pop(name, None)
                    if keys_file and os.path.exists(keys_file):
                        os.unlink(keys_file)
                elif host is not None:
                    host['state'] = 'destroy-failed'
                    host['error'] = err
                self.save()
        return cb

    def _destroy(self, d):
        """Forget droplet ``d`` now; its host goes down in the background."""
        self.data['droplets'].pop(str(d['id']), None)
        for fw in self.data['firewalls'].values():
            if d['id'] in fw['droplet_ids']:
                fw['droplet_ids'].remove(d['id'])
        host = self.data['hosts'].get(d.get('host') or '')
        if host is not None and host.get('droplet_id') == d['id'] and host['state'] != 'destroying':
            host['state'] = 'destroying'
            self.backend.down(host['name'], False, self._destroyed_cb(host['name'], host['keys_file']))
        elif host is None and d.get('keys_file') and os.path.exists(d['keys_file']):
            os.unlink(d['keys_file'])

    def _on_create_up(self, droplet_id, name, aid, retried=False):
        def cb(ok, err):
            with self.lock:
                host = self.data['hosts'].get(name)
                d = self._droplet(droplet_id)
                if host is None or host.get('droplet_id') != droplet_id:
                    self._finish_action(aid, ok)
                    return
                if host['state'] == 'starting':
                    host['state'] = 'up' if ok else 'failed'
                    host['error'] = err
                if not ok and d is not None and not retried and err and 'belongs to running host' in err:
                    # another host (not ours) took the address meanwhile: take the next one
                    ip = self._alloc_public_ip()
                    LOG.warning('host %s: public IP %s is taken; retrying with %s', name, d['public_ip'], ip)
                    d['public_ip'] = host['public_ip'] = ip
                    host['state'] = 'starting'
                    self._start_host(host, self._on_create_up(droplet_id, name, aid, retried=True))
                    self.save()
                    return

                def effect():
                    dd = self._droplet(droplet_id)
                    if ok and dd is not None and host['state'] == 'up':
                        dd['status'] = 'active'
                        dd['booted'] = True
                self._finish_action(aid, ok, effect)
                self.save()
        return cb

    # -----------------------------------------------------------------------------------------
    # droplets

    def create_droplets(self, body, base_url):
        if not isinstance(body, dict):
            raise bad_request()
        with self.lock:
            if self.faults.take('fail_next_create'):
                raise server_error()
            name, names = body.get('name'), body.get('names')
            if name is not None and names is not None:
                raise unprocessable('Specify either name or names, not both.')
            multi = names is not None
            if multi:
                if not isinstance(names, list) or not names:
                    raise unprocessable('names must be a non-empty list of Droplet names.')
                if len(names) > 10:
                    raise unprocessable('You may only create up to 10 Droplets at a time.')
            else:
                names = [name]
            for n in names:
                check_droplet_name(n)

            vpc = None
            if body.get('vpc_uuid') not in (None, ''):
                vpc = self.data['vpcs'].get(str(body['vpc_uuid']))
                if vpc is None:
                    raise unprocessable('The VPC %s could not be found.' % body['vpc_uuid'])
            region = body.get('region')
            if region in (None, ''):
                region = vpc['region'] if vpc else self.cfg['default_region']
            if not isinstance(region, str) or not catalog.region_available(region):
                raise unprocessable('You specified an invalid region for Droplet creation.')
            if vpc is not None and vpc['region'] != region:
                raise unprocessable('The VPC %s is in region %s, not %s.' % (vpc['id'], vpc['region'], region))
            size = body.get('size')
            if not isinstance(size, str) or catalog.find_size(size) is None:
                raise unprocessable('You specified an invalid size for Droplet creation.')
            if region not in catalog.size_regions(size):
                raise unprocessable('Size is not available in this region.')
            image = catalog.find_image(body.get('image'))
            if image is None:
                raise unprocessable('You specified an invalid image for Droplet creation.')
            if image[5] > catalog.find_size(size)[3]:
                raise unprocessable('The image %s needs a disk of at least %d GB.' % (image[1], image[5]))
            keys = []
            ssh_keys = body.get('ssh_keys') or []
            if not isinstance(ssh_keys, list):
                raise unprocessable('ssh_keys must be a list of SSH key IDs or fingerprints.')
            for ref in ssh_keys:
                k = self._key(ref) if isinstance(ref, (int, str)) and not isinstance(ref, bool) else None
                if k is None:
                    raise unprocessable('The SSH key %s could not be found.' % (ref,))
                keys.append(k)
            tags = body.get('tags') or []
            if not isinstance(tags, list):
                raise unprocessable('tags must be a list of tag names.')
            for t in tags:
                check_tag_name(t)
            user_data = body.get('user_data')
            if user_data is not None and (not isinstance(user_data, str) or len(user_data.encode()) > 65536):
                raise unprocessable('user_data must be a string of at most 64 KiB.')
            if len(self.data['droplets']) + len(names) > self.cfg['droplet_limit']:
                raise unprocessable('creating this/these droplet(s) will exceed your droplet limit')

            if vpc is None:
                vpc = self._default_vpc(region) or self._make_vpc('default-' + region, region, None, '')
            canonical_tags = list(dict.fromkeys(self._ensure_tag(t) for t in tags))
            features = ['private_networking']
            for flag, feature in (('backups', 'backups'), ('ipv6', 'ipv6'), ('monitoring', 'monitoring')):
                if body.get(flag):
                    features.append(feature)
            never = [p for p in self.faults.never_active if any(n.startswith(p) for n in names)]
            created, links = [], []
            for n in names:
                did = self._new_id('next_droplet_id')
                taken = set(self.data['hosts']) | {d.get('host') for d in self.data['droplets'].values()}
                hname = host_name_for(n, did, taken)
                if hname == n and self._host_exists(n):
                    hname = 'd%d' % did
                if hname != n and (hname in taken or self._host_exists(hname)):
                    # another simulator on this machine numbers its droplets alike
                    hname = 'd%d-%s' % (did, self.cfg['router_id'])
                keys_file = os.path.join(self.keys_dir, '%d.pub' % did)
                with open(keys_file, 'w', encoding='utf-8') as f:
                    f.write(''.join(k['public_key'] + '\n' for k in keys))
                d = {
                    'id': did, 'name': n, 'region': region, 'size': size, 'image': image[1],
                    'disk': catalog.find_size(size)[3], 'created_at': utc_now(), 'tags': list(canonical_tags),
                    'vpc_uuid': vpc['id'], 'status': 'new', 'features': list(features),
                    'public_ip': self._alloc_public_ip(), 'private_ip': self._alloc_private_ip(vpc),
                    'host': hname, 'keys_file': keys_file, 'ssh_key_ids': [k['id'] for k in keys],
                    'user_data': user_data, 'booted': False, 'pending_action': None,
                    'never_active': any(n.startswith(p) for p in never),
                }
                self.data['droplets'][str(did)] = d
                a = self._new_action(d, 'create')
                links.append({'id': a['id'], 'rel': 'create', 'href': '%s/v2/actions/%d' % (base_url, a['id'])})
                if not d['never_active']:
                    host = {'name': hname, 'droplet_id': did, 'state': 'starting', 'error': None,
                            'public_ip': d['public_ip'], 'private_ip': d['private_ip'], 'vpc_uuid': vpc['id'],
                            'bridge': vpc['bridge'], 'private_prefix': ipaddress.ip_network(vpc['ip_range']).prefixlen,
                            'keys_file': keys_file}
                    self.data['hosts'][hname] = host
                    self._start_host(host, self._on_create_up(did, hname, a['id']))
                else:
                    LOG.info('droplet %s (%d) matches never_active: it stays new', n, did)
                created.append(d)
            self.save()
            rendered = [self._render_droplet(d) for d in created]
            if multi:
                return {'droplets': rendered, 'links': {'actions': links}}
            return {'droplet': rendered[0], 'links': {'actions': links}}

    def list_droplets(self, query, base_url, path):
        with self.lock:
            tag, name = query.get('tag_name'), query.get('name')
            if tag and name:
                raise unprocessable('tag_name can not be combined with name.')
            ds = sorted(self.data['droplets'].values(), key=lambda d: d['id'])
            if tag:
                ds = [d for d in ds if tag.lower() in (t.lower() for t in d['tags'])]
            if name:
                ds = [d for d in ds if d['name'].lower() == name.lower()]
            if query.get('type') == 'gpus':
                ds = []
            return paged('droplets', [self._render_droplet(d) for d in ds], query, base_url, path)

    def get_droplet(self, droplet_id):
        with self.lock:
            return {'droplet': self._render_droplet(self._get_droplet(droplet_id))}

    def destroy_droplet(self, droplet_id):
        with self.lock:
            self._destroy(self._get_droplet(droplet_id))
            self.save()

    def destroy_droplets_by_tag(self, tag):
        if not tag:
            raise unprocessable('tag_name is required.')
        with self.lock:
            if self._tag(tag) is None:
                raise not_found()
            for d in list(self.data['droplets'].values()):
                if tag.lower() in (t.lower() for t in d['tags']):
                    self._destroy(d)
            self.save()

    def droplet_action(self, droplet_id, body):
        if not isinstance(body, dict):
            raise bad_request()
        with self.lock:
            d = self._get_droplet(droplet_id)
            kind = body.get('type')
            if not isinstance(kind, str) or not kind:
                raise unprocessable('type is required.')
            if kind in UNMODELED_ACTIONS:
                raise unprocessable('The simulator does not model the %s action.' % kind)
            handler = getattr(self, '_action_' + kind, None)
            if handler is None:
                raise unprocessable('%s is not a valid action type.' % kind)
            if d.get('pending_action'):
                raise unprocessable('Droplet already has a pending event.')
            if kind in self.faults.errored_actions:
                a = self._new_action(d, kind)
                self._finish_action(a['id'], False)
                self.save()
                return {'action': self._render_action(a)}
            a = handler(d, body)
            self.save()
            return {'action': self._render_action(a)}

    def _host_of(self, d):
        host = self.data['hosts'].get(d.get('host') or '')
        if host is None or host.get('droplet_id') != d['id']:
            raise unprocessable('Droplet %d has no host (never active)' % d['id'])
        return host

    def _action_resize(self, d, body):
        if d['status'] != 'off':
            raise unprocessable('Droplet is currently on. Please power it off to run this event.')
        size = body.get('size')
        if not isinstance(size, str) or catalog.find_size(size) is None:
            raise unprocessable('You specified an invalid size for Droplet resize.')
        if size == d['size']:
            raise unprocessable('Droplet is already this size.')
        if d['region'] not in catalog.size_regions(size):
            raise unprocessable('Size is not available in this region.')
        disk = body.get('disk', False)
        new_disk = catalog.find_size(size)[3]
        if new_disk < d['disk']:
            raise unprocessable('This size is not available because it has a smaller disk.')
        a = self._new_action(d, 'resize')

        def effect():
            dd = self._droplet(d['id'])
            if dd is not None:
                dd['size'] = size
                if disk:
                    dd['disk'] = new_disk
        self._finish_action(a['id'], True, effect)
        return a

    def _power_down(self, d, kind):
        a = self._new_action(d, kind)
        if d['status'] == 'off':
            self._finish_action(a['id'], True)
            return a
        host = self._host_of(d)
        host['state'] = 'stopping'

        def cb(ok, err):
            with self.lock:
                if host['state'] == 'stopping':
                    host['state'] = 'off' if ok else 'failed'
                    host['error'] = err

                def effect():
                    dd = self._droplet(d['id'])
                    if ok and dd is not None:
                        dd['status'] = 'off'
                self._finish_action(a['id'], ok, effect)
        self.backend.down(host['name'], True, cb)
        return a

    def _power_up(self, d, kind, cycle=False):
        a = self._new_action(d, kind)
        if d['status'] == 'active' and not cycle:
            self._finish_action(a['id'], True)
            return a
        host = self._host_of(d)
        if d['status'] == 'active':
            host['state'] = 'stopping'
            self.backend.down(host['name'], True, None)
        host['state'] = 'starting'

        def cb(ok, err):
            with self.lock:
                if host['state'] == 'starting':
                    host['state'] = 'up' if ok else 'failed'
                    host['error'] = err

                def effect():
                    dd = self._droplet(d['id'])
                    if dd is not None:
                        dd['status'] = 'active' if ok else 'off'
                        dd['booted'] = dd['booted'] or ok
                self._finish_action(a['id'], ok, effect)
        self._start_host(host, cb)
        return a

    def _action_shutdown(self, d, body):
        return self._power_down(d, 'shutdown')

    def _action_power_off(self, d, body):
        return self._power_down(d, 'power_off')

    def _action_power_on(self, d, body):
        return self._power_up(d, 'power_on')

    def _action_power_cycle(self, d, body):
        return self._power_up(d, 'power_cycle', cycle=True)

    def _action_reboot(self, d, body):
        return self._power_up(d, 'reboot', cycle=True)

    def _action_rename(self, d, body):
        check_droplet_name(body.get('name'))
        a = self._new_action(d, 'rename')
        new = body['name']

        def effect():
            dd = self._droplet(d['id'])
            if dd is not None:
                dd['name'] = new
        self._finish_action(a['id'], True, effect)
        return a

    def _toggle_feature(self, d, kind, feature, on):
        a = self._new_action(d, kind)

        def effect():
            dd = self._droplet(d['id'])
            if dd is not None:
                if on and feature not in dd['features']:
                    dd['features'].append(feature)
                if not on and feature in dd['features']:
                    dd['features'].remove(feature)
        self._finish_action(a['id'], True, effect)
        return a

    def _action_enable_backups(self, d, body):
        return self._toggle_feature(d, 'enable_backups', 'backups', True)

    def _action_disable_backups(self, d, body):
        return self._toggle_feature(d, 'disable_backups', 'backups', False)

    # -----------------------------------------------------------------------------------------
    # VPCs

    def _make_vpc(self, name, region, ip_range, description):
        others = [v['ip_range'] for v in self.data['vpcs'].values()]
        if ip_range in (None, ''):
            ip_range = auto_vpc_range(catalog.default_vpc_range(region), others)
        else:
            ip_range = str(check_vpc_range(ip_range, others))
        vid = str(uuid.uuid4())
        v = {'id': vid, 'name': name, 'description': description or '', 'region': region, 'ip_range': ip_range,
             'default': self._default_vpc(region) is None, 'created_at': utc_now(),
             'bridge': 'fvpc-' + vid.replace('-', '')[:8], 'last_ip': None}
        self.data['vpcs'][vid] = v
        return v

    def _check_vpc_fields(self, body, vpc=None, full=False):
        if 'name' in body or full:
            name = body.get('name')
            if not isinstance(name, str) or not VPC_NAME_RE.match(name):
                raise unprocessable('name is required and may only contain alphanumeric characters, dashes, '
                                    'and periods.')
            for v in self.data['vpcs'].values():
                if v['name'] == name and v is not vpc:
                    raise unprocessable('A VPC with the name %s already exists.' % name)
        if 'description' in body and body['description'] is not None:
            if not isinstance(body['description'], str) or len(body['description']) > 255:
                raise unprocessable('description may be a maximum of 255 characters.')
        if 'default' in body and not isinstance(body['default'], bool):
            raise unprocessable('default must be a boolean.')

    def create_vpc(self, body):
        if not isinstance(body, dict):
            raise bad_request()
        with self.lock:
            self._check_vpc_fields(body, full=True)
            region = body.get('region')
            if not isinstance(region, str) or not catalog.region_available(region):
                raise unprocessable('region is required and must be an available region slug.')
            v = self._make_vpc(body['name'], region, body.get('ip_range'), body.get('description'))
            self.save()
            return {'vpc': self._render_vpc(v)}

    def list_vpcs(self, query, base_url, path):
        with self.lock:
            vs = sorted(self.data['vpcs'].values(), key=lambda v: v['created_at'])
            return paged('vpcs', [self._render_vpc(v) for v in vs], query, base_url, path)

    def _get_vpc(self, vpc_id):
        v = self.data['vpcs'].get(str(vpc_id))
        if v is None:
            raise not_found()
        return v

    def get_vpc(self, vpc_id):
        with self.lock:
            return {'vpc': self._render_vpc(self._get_vpc(vpc_id))}

    def update_vpc(self, vpc_id, body, full):
        if not isinstance(body, dict):
            raise bad_request()
        with self.lock:
            v = self._get_vpc(vpc_id)
            self._check_vpc_fields(body, v, full=full)
            if body.get('default') is False and v['default']:
                raise unprocessable('The default field cannot be unset from true; make another VPC the '
                                    'default instead.')
            if 'name' in body:
                v['name'] = body['name']
            if 'description' in body or full:
                v['description'] = body.get('description') or ''
            if body.get('default') is True and not v['default']:
                for other in self.data['vpcs'].values():
                    if other['region'] == v['region']:
                        other['default'] = False
                v['default'] = True
            self.save()
            return {'vpc': self._render_vpc(v)}

    def delete_vpc(self, vpc_id):
        with self.lock:
            v = self._get_vpc(vpc_id)
            if v['default']:
                raise forbidden('Can not delete the default VPC of a region.')
            if any(d['vpc_uuid'] == v['id'] for d in self.data['droplets'].values()):
                raise forbidden('Can not delete a VPC that still has members.')
            peered = sorted(p['id'] for p in self.data['peerings'].values() if v['id'] in p['vpc_ids'])
            if peered:
                raise unprocessable('Can not delete a VPC that is peered: delete its VPC peerings first (%s).'
                                    % ', '.join(peered))
            del self.data['vpcs'][v['id']]
            if v['bridge'] in self.data['bridges']:
                self.data['bridges'].remove(v['bridge'])
                hosts = [h['name'] for h in self.data['hosts'].values() if h.get('bridge') == v['bridge']]
                self.backend.bridge_down(v['bridge'], hosts)
            self.save()

    def vpc_members(self, vpc_id, query, base_url, path):
        with self.lock:
            v = self._get_vpc(vpc_id)
            ms = [{'urn': 'do:droplet:%d' % d['id'], 'name': d['name'], 'created_at': d['created_at']}
                  for d in sorted(self.data['droplets'].values(), key=lambda d: d['id'])
                  if d['vpc_uuid'] == v['id']]
            return paged('members', ms, query, base_url, path)

    # -----------------------------------------------------------------------------------------
    # VPC peerings

    def _render_peering(self, p):
        return {'id': p['id'], 'name': p['name'], 'vpc_ids': list(p['vpc_ids']), 'status': p['status'],
                'created_at': p['created_at']}

    def _get_peering(self, peering_id):
        p = self.data['peerings'].get(str(peering_id))
        if p is None:
            raise not_found()
        return p

    def _check_peering_name(self, name, peering=None):
        if not isinstance(name, str) or not name:
            raise unprocessable('name is required.')
        if not PEERING_NAME_RE.match(name):
            raise unprocessable('name may only contain alphanumeric characters, dashes, and periods.')
        for p in self.data['peerings'].values():
            if p['name'] == name and p is not peering:
                raise conflict('A VPC peering with the name %s already exists.' % name)

    def _peer(self, p):
        """Ask host.sh for the routing of peering ``p`` (its bridges come to exist)."""
        va, vb = (self.data['vpcs'][i] for i in p['vpc_ids'])
        pair = sorted([va['bridge'], vb['bridge']])
        for br in pair:
            if br not in self.data['bridges']:
                self.data['bridges'].append(br)
        if pair not in self.data['routed']:
            self.data['routed'].append(pair)
        pid = p['id']

        def cb(ok, err):
            with self.lock:
                q = self.data['peerings'].get(pid)
                if q is not None and q['status'] == 'PROVISIONING':
                    q['status'] = 'ACTIVE' if ok else 'PROVISIONING'
                    q['error'] = err
                    if not ok:
                        LOG.error('VPC peering %s stays PROVISIONING: %s', pid, err)
                    self.save()
        self.backend.peer(self.cfg['router_id'], peer_spec(va['bridge'], va['ip_range']),
                          peer_spec(vb['bridge'], vb['ip_range']), cb)

    def _unpeered_cb(self, pid, a, b):
        def cb(ok, err):
            with self.lock:
                if ok and sorted([a, b]) in self.data['routed']:
                    self.data['routed'].remove(sorted([a, b]))
                q = self.data['peerings'].get(pid) if pid else None
                if q is not None and q['status'] == 'DELETING':
                    if ok:
                        del self.data['peerings'][pid]
                    else:
                        q['error'] = err
                        LOG.error('VPC peering %s stays DELETING: %s', pid, err)
                self.save()
        return cb

    def _new_peering(self, name, vpc_ids):
        """Create a peering of the two VPCs ``vpc_ids`` (the lock is held, the name checked)."""
        if vpc_ids[0] == vpc_ids[1]:
            raise unprocessable('A VPC can not be peered with itself.')
        vpcs = []
        for vid in vpc_ids:
            v = self.data['vpcs'].get(vid)
            if v is None:
                raise ApiError(404, 'not_found', 'The VPC %s could not be found.' % vid)
            vpcs.append(v)
        net_a, net_b = (ipaddress.ip_network(v['ip_range']) for v in vpcs)
        if net_a.overlaps(net_b):
            raise unprocessable('The IP ranges of the VPCs overlap (%s: %s, %s: %s).'
                                % (vpcs[0]['id'], net_a, vpcs[1]['id'], net_b))
        for p in self.data['peerings'].values():
            if set(p['vpc_ids']) == set(vpc_ids):
                raise conflict('The VPCs %s and %s are already peered (VPC peering %s).'
                               % (vpc_ids[0], vpc_ids[1], p['id']))
        p = {'id': str(uuid.uuid4()), 'name': name, 'vpc_ids': list(vpc_ids), 'status': 'PROVISIONING',
             'created_at': utc_now(), 'created_ts': time.time(), 'error': None}
        self.data['peerings'][p['id']] = p
        self._peer(p)
        self.save()
        return p

    def create_peering(self, body):
        """POST /v2/vpc_peerings {name, vpc_ids: [a, b]}"""
        if not isinstance(body, dict):
            raise bad_request()
        with self.lock:
            self._check_peering_name(body.get('name'))
            ids = body.get('vpc_ids')
            if not isinstance(ids, list) or len(ids) != 2 or not all(isinstance(i, str) for i in ids):
                raise unprocessable('vpc_ids must list exactly two VPC IDs.')
            return {'vpc_peering': self._render_peering(self._new_peering(body['name'], ids))}

    def create_vpc_peering(self, vpc_id, body):
        """POST /v2/vpcs/{vpc_id}/peerings {name, vpc_id}"""
        with self.lock:
            v = self._get_vpc(vpc_id)
            if not isinstance(body, dict):
                raise bad_request()
            self._check_peering_name(body.get('name'))
            other = body.get('vpc_id')
            if not isinstance(other, str) or not other:
                raise unprocessable('vpc_id is required.')
            return {'peering': self._render_peering(self._new_peering(body['name'], [v['id'], other]))}

    def list_peerings(self, query, base_url, path, vpc_id=None):
        """GET /v2/vpc_peerings [?region=] ("vpc_peerings"), GET /v2/vpcs/{vpc_id}/peerings ("peerings")"""
        with self.lock:
            ps = sorted(self.data['peerings'].values(), key=lambda p: p['created_ts'])
            if vpc_id is not None:
                v = self._get_vpc(vpc_id)
                ps = [p for p in ps if v['id'] in p['vpc_ids']]
            region = query.get('region')
            if region:
                ps = [p for p in ps if any(self.data['vpcs'].get(i, {}).get('region') == region
                                           for i in p['vpc_ids'])]
            key = 'vpc_peerings' if vpc_id is None else 'peerings'
            return paged(key, [self._render_peering(p) for p in ps], query, base_url, path)

    def get_peering(self, peering_id):
        with self.lock:
            return {'vpc_peering': self._render_peering(self._get_peering(peering_id))}

    def update_peering(self, peering_id, body, vpc_id=None):
        """PATCH /v2/vpc_peerings/{id} or /v2/vpcs/{vpc_id}/peerings/{id} {name}"""
        with self.lock:
            v = self._get_vpc(vpc_id) if vpc_id is not None else None
            p = self._get_peering(peering_id)
            if v is not None and v['id'] not in p['vpc_ids']:
                raise not_found()
            if not isinstance(body, dict):
                raise bad_request()
            self._check_peering_name(body.get('name'), p)
            p['name'] = body['name']
            self.save()
            return {'vpc_peering' if vpc_id is None else 'peering': self._render_peering(p)}

    def delete_peering(self, peering_id):
        """DELETE /v2/vpc_peerings/{id}: 202 with the peering DELETING; gone once unpeered."""
        with self.lock:
            p = self._get_peering(peering_id)
            if p['status'] != 'DELETING':
                p['status'] = 'DELETING'
                p['error'] = None
                a, b = sorted(self.data['vpcs'][i]['bridge'] for i in p['vpc_ids'])
                self.backend.unpeer(self.cfg['router_id'], a, b, self._unpeered_cb(p['id'], a, b))
                self.save()
            return {'vpc_peering': self._render_peering(p)}

    # -----------------------------------------------------------------------------------------
    # firewalls (kept and shown, not enforced on the hosts)

    def _check_targets(self, targets, what):
        if not isinstance(targets, dict):
            raise bad_request('%s must be an object' % what)
        known = ('addresses', 'droplet_ids', 'load_balancer_uids', 'kubernetes_ids', 'tags')
        unknown = set(targets) - set(known)
        if unknown:
            raise bad_request('%s: unknown keys %s' % (what, ', '.join(sorted(unknown))))
        if not any(targets.get(k) for k in known):
            raise bad_request('%s must name at least one address, droplet, load balancer, cluster or tag' % what)
        for k in known:
            if targets.get(k) is not None and not isinstance(targets[k], list):
                raise bad_request('%s.%s must be a list' % (what, k))
        for a in targets.get('addresses') or []:
            try:
                ipaddress.ip_network(a, strict=False)
            except (TypeError, ValueError):
                raise bad_request('%s: %r is not an IP address or CIDR' % (what, a)) from None
        self._check_droplet_ids(targets.get('droplet_ids') or [])
        self._check_existing_tags(targets.get('tags') or [])

    def _check_droplet_ids(self, ids):
        if not isinstance(ids, list):
            raise bad_request('droplet_ids must be a list of integers')
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int) or self._droplet(i) is None:
                raise bad_request('droplet %r does not exist' % (i,))

    def _check_existing_tags(self, tags):
        if not isinstance(tags, list):
            raise bad_request('tags must be a list of tag names')
        for t in tags:
            if not isinstance(t, str) or self._tag(t) is None:
                raise bad_request('tag %r does not exist (tags must exist to be referenced)' % (t,))

    def _check_rules(self, rules, direction):
        if rules is None:
            return []
        if not isinstance(rules, list):
            raise bad_request('%s_rules must be a list' % direction)
        out = []
        for r in rules:
            if not isinstance(r, dict):
                raise bad_request('%s rule must be an object' % direction)
            proto = r.get('protocol')
            if proto not in ('tcp', 'udp', 'icmp'):
                raise bad_request('%s rule: protocol must be tcp, udp or icmp' % direction)
            ports = r.get('ports')
            if proto != 'icmp' or ports is not None:
                if not isinstance(ports, str) or not PORTS_RE.match(ports):
                    raise bad_request('%s rule: ports must be a port, a range "8000-9000", "0" or "all"' % direction)
                nums = [int(p) for p in ports.split('-')] if ports not in ('all', '0') else []
                if any(not 1 <= p <= 65535 for p in nums) or (len(nums) == 2 and nums[0] > nums[1]):
                    raise bad_request('%s rule: ports %s out of range' % (direction, ports))
            key = 'sources' if direction == 'inbound' else 'destinations'
            self._check_targets(r.get(key), '%s rule %s' % (direction, key))
            # the API answers "0" for all ports (also for "all" and for icmp without ports)
            rule = {'protocol': proto, 'ports': '0' if ports in (None, 'all') else ports}
            rule[key] = copy.deepcopy(r[key])
            out.append(rule)
        return out

    def _firewall_from(self, body, fw=None):
        if not isinstance(body, dict):
            raise bad_request()
        name = body.get('name')
        if not isinstance(name, str) or not FIREWALL_NAME_RE.match(name):
            raise bad_request('name must begin with an alphanumeric character and contain only alphanumeric '
                              'characters, periods and dashes')
        if body.get('inbound_rules') is None and body.get('outbound_rules') is None:
            raise bad_request('a firewall needs inbound_rules or outbound_rules')
        inbound = self._check_rules(body.get('inbound_rules'), 'inbound')
        outbound = self._check_rules(body.get('outbound_rules'), 'outbound')
        ids = body.get('droplet_ids') or []
        self._check_droplet_ids(ids)
        tags = body.get('tags') or []
        self._check_existing_tags(tags)
        fw = fw if fw is not None else {'id': str(uuid.uuid4()), 'created_at': utc_now()}
        fw.update({'name': name, 'inbound_rules': inbound, 'outbound_rules': outbound,
                   'droplet_ids': list(dict.fromkeys(ids)), 'tags': [self._tag(t)['name'] for t in tags],
                   'changed_at': time.time()})
        return fw

    def create_firewall(self, body):
        with self.lock:
            fw = self._firewall_from(body)
            self.data['firewalls'][fw['id']] = fw
            self.save()
            return {'firewall': self._render_firewall(fw)}

    def _get_firewall(self, fw_id):
        fw = self.data['firewalls'].get(str(fw_id))
        if fw is None:
            raise not_found()
        return fw

    def list_firewalls(self, query, base_url, path):
        with self.lock:
            fws = sorted(self.data['firewalls'].values(), key=lambda f: f['created_at'])
            return paged('firewalls', [self._render_firewall(f) for f in fws], query, base_url, path)

    def get_firewall(self, fw_id):
        with self.lock:
            return {'firewall': self._render_firewall(self._get_firewall(fw_id))}

    def update_firewall(self, fw_id, body):
        with self.lock:
            fw = self._get_firewall(fw_id)
            new = self._firewall_from(body, dict(fw))
            self.data['firewalls'][fw['id']] = new
            self.save()
            return {'firewall': self._render_firewall(new)}

    def delete_firewall(self, fw_id):
        with self.lock:
            fw = self._get_firewall(fw_id)
            del self.data['firewalls'][fw['id']]
            self.save()

    def firewall_droplets(self, fw_id, body, add):
        with self.lock:
            fw = self._get_firewall(fw_id)
            ids = body.get('droplet_ids') if isinstance(body, dict) else None
            if not isinstance(ids, list) or not ids:
                raise bad_request('droplet_ids must be a non-empty list')
            self._check_droplet_ids(ids)
            for i in ids:
                if add and i not in fw['droplet_ids']:
                    fw['droplet_ids'].append(i)
                if not add and i in fw['droplet_ids']:
                    fw['droplet_ids'].remove(i)
            fw['changed_at'] = time.time()
            self.save()

    def firewall_tags(self, fw_id, body, add):
        with self.lock:
            fw = self._get_firewall(fw_id)
            tags = body.get('tags') if isinstance(body, dict) else None
            if not isinstance(tags, list) or not tags:
                raise bad_request('tags must be a non-empty list')
            self._check_existing_tags(tags)
            for t in tags:
                canonical = self._tag(t)['name']
                if add and canonical not in fw['tags']:
                    fw['tags'].append(canonical)
                if not add and canonical in fw['tags']:
                    fw['tags'].remove(canonical)
            fw['changed_at'] = time.time()
            self.save()

    def firewall_rules(self, fw_id, body, add):
        with self.lock:
            fw = self._get_firewall(fw_id)
            if not isinstance(body, dict) or (body.get('inbound_rules') is None and body.get('outbound_rules') is None):
                raise bad_request('inbound_rules or outbound_rules are required')
            for direction in ('inbound', 'outbound'):
                rules = self._check_rules(body.get(direction + '_rules'), direction)
                have = fw[direction + '_rules']
                for r in rules:
                    if add and r not in have:
                        have.append(r)
                    if not add and r in have:
                        have.remove(r)
            fw['changed_at'] = time.time()
            self.save()

    # -----------------------------------------------------------------------------------------
    # SSH keys

    def create_key(self, body):
        if not isinstance(body, dict):
            raise bad_request()
        with self.lock:
            name = body.get('name')
            if not isinstance(name, str) or not name.strip():
                raise unprocessable('Name is required.')
            try:
                fp = fingerprint(body.get('public_key'))
                public_key = normalize_public_key(body['public_key'])
            except ValueError as exc:
                raise unprocessable(str(exc)) from None
            if any(k['fingerprint'] == fp for k in self.data['keys'].values()):
                raise unprocessable('SSH Key is already in use on your account')
            kid = self._new_id('next_key_id')
            k = {'id': kid, 'fingerprint': fp, 'public_key': public_key, 'name': name}
            self.data['keys'][str(kid)] = k
            self.save()
            return {'ssh_key': dict(k)}

    def list_keys(self, query, base_url, path):
        with self.lock:
            ks = sorted(self.data['keys'].values(), key=lambda k: k['id'])
            return paged('ssh_keys', [dict(k) for k in ks], query, base_url, path)

    def get_key(self, ref):
        with self.lock:
            k = self._key(ref)
            if k is None:
                raise not_found()
            return {'ssh_key': dict(k)}

    def update_key(self, ref, body):
        with self.lock:
            k = self._key(ref)
            if k is None:
                raise not_found()
            name = body.get('name') if isinstance(body, dict) else None
            if not isinstance(name, str) or not name.strip():
                raise unprocessable('Name is required.')
            k['name'] = name
            self.save()
            return {'ssh_key': dict(k)}

    def delete_key(self, ref):
        with self.lock:
            k = self._key(ref)
            if k is None:
                raise not_found()
            del self.data['keys'][str(k['id'])]
            self.save()

    # -----------------------------------------------------------------------------------------
    # tags

    def create_tag(self, body, base_url):
        if not isinstance(body, dict):
            raise bad_request()
        with self.lock:
            name = body.get('name')
            try:
                check_tag_name(name)
            except ApiError as exc:
                raise bad_request(exc.message) from None
            self._ensure_tag(name)
            self.save()
            return {'tag': self._render_tag(self._tag(name), base_url)}

    def list_tags(self, query, base_url, path):
        with self.lock:
            ts = sorted(self.data['tags'].values(), key=lambda t: t['name'].lower())
            return paged('tags', [self._render_tag(t, base_url) for t in ts], query, base_url, path)

    def get_tag(self, name, base_url):
        with self.lock:
            t = self._tag(name)
            if t is None:
                raise not_found()
            return {'tag': self._render_tag(t, base_url)}

    def delete_tag(self, name):
        with self.lock:
            t = self._tag(name)
            if t is None:
                raise not_found()
            for d in self.data['droplets'].values():
                d['tags'] = [x for x in d['tags'] if x.lower() != t['name'].lower()]
            for fw in self.data['firewalls'].values():
                fw['tags'] = [x for x in fw['tags'] if x.lower() != t['name'].lower()]
                for r in fw['inbound_rules'] + fw['outbound_rules']:
                    tgt = r.get('sources') or r.get('destinations') or {}
                    if tgt.get('tags'):
                        tgt['tags'] = [x for x in tgt['tags'] if x.lower() != t['name'].lower()]
            del self.data['tags'][t['name'].lower()]
            self.save()

    def tag_resources(self, name, body, add):
        with self.lock:
            t = self._tag(name)
            if t is None:
                raise not_found()
            res = body.get('resources') if isinstance(body, dict) else None
            if not isinstance(res, list) or not res:
                raise bad_request('resources must be a non-empty list')
            targets = []
            for r in res:
                if not isinstance(r, dict) or r.get('resource_type') != 'droplet':
                    raise unprocessable('the simulator tags droplets only')
                d = self._droplet(r.get('resource_id'))
                if d is None:
                    raise not_found()
                targets.append(d)
            for d in targets:
                has = t['name'].lower() in (x.lower() for x in d['tags'])
                if add and not has:
                    d['tags'].append(t['name'])
                if not add and has:
                    d['tags'] = [x for x in d['tags'] if x.lower() != t['name'].lower()]
            self.save()

    # -----------------------------------------------------------------------------------------
    # account and catalogue

    def account(self):
        acct = dict(catalog.ACCOUNT)
        acct['droplet_limit'] = self.cfg['droplet_limit']
        return {'account': acct}

    # -----------------------------------------------------------------------------------------
    # the simulator's own view (GET /_sim/state)

    def sim_state(self):
        with self.lock:
            return {
                'backend': getattr(self.backend, 'kind', '?'),
                'droplets': [{'id': d['id'], 'name': d['name'], 'region': d['region'], 'status': d['status'],
                              'host': d['host'],
                              'public_ip': d['public_ip'], 'private_ip': d['private_ip'],
                              'vpc_uuid': d['vpc_uuid'], 'tags': list(d['tags']),
                              'never_active': d['never_active']}
                             for d in sorted(self.data['droplets'].values(), key=lambda d: d['id'])],
                'hosts': copy.deepcopy(self.data['hosts']),
                'vpcs': [{'id': v['id'], 'name': v['name'], 'region': v['region'], 'ip_range': v['ip_range'],
                          'default': v['default'], 'bridge': v['bridge']} for v in self.data['vpcs'].values()],
                'bridges': list(self.data['bridges']),
                'peerings': [dict(self._render_peering(p), error=p.get('error'),
                                  bridges=sorted(self.data['vpcs'][i]['bridge'] for i in p['vpc_ids']))
                             for p in sorted(self.data['peerings'].values(), key=lambda p: p['created_ts'])],
                'routed': [list(pair) for pair in self.data['routed']],
                'router': self.cfg['router_id'],
                'faults': self.faults.as_dict(),
                'pending_host_operations': self.backend.pending(),
            }
