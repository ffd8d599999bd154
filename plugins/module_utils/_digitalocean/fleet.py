# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet's DigitalOcean objects as pure data: droplet plans, firewall rules, VPC, peering and key names.

No I/O, no pydo: the modules fetch, these functions decide.  Shapes are those
of the DigitalOcean v2 API (``droplet.networks.v4[].type``, ``region.slug``,
``size_slug``, firewall ``inbound_rules[].sources`` ...).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import ipaddress
import json
import re

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import droplet_name, droplet_tags

ANYWHERE = ('0.0.0.0/0', '::/0')
ALL_PORTS = '0'
PEERING_NAME_RE = re.compile(r'^[a-zA-Z0-9-]{1,255}$')     # the API's pattern for a VPC peering name
UUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
PEERING_STATUS_RANK = {'ACTIVE': 0, 'PROVISIONING': 1}      # any other status (DELETING) ranks last
MULTI_CREATE_MAX = 10   # the API creates at most ten droplets per request
SURPLUS_TAG = 'fleet-surplus'  # a droplet whose services are moving off it; removed by remove_surplus
DEAD_TAG = 'fleet-dead'  # a droplet heal.yml fenced (powered off, renamed {name}-dead): replaced, then destroyed
_TARGET_KEYS = ('addresses', 'tags', 'droplet_ids', 'load_balancer_uids', 'kubernetes_ids')


# ---------------------------------------------------------------- names and tags

def vpc_name(region, user=None):
    """``fleet-u1-lon1``: a user's VPC of a region (``fleet-lon1`` without a user).

    VPC names allow letters, digits, ``-`` and ``.``; user ids are ``[a-z][a-z0-9]*``.
    """
    return 'fleet-%s-%s' % (user, region) if user else 'fleet-%s' % region


def fenced_tag(user, project, env):
    """``fleet-fenced:u1_myapp_prod``: a droplet of the environment that heal.yml fenced (it keeps it after it lost
    ``fleet-env``, so the environment still finds it to destroy it)."""
    return 'fleet-fenced:%s' % env_tag(user, project, env).split(':', 1)[1]


def fence_firewall(user, project, env):
    """The POST body of ``fleet-u1-myapp-prod-fence``: the firewall of the environment's fenced droplets that the
    API could not power off. DigitalOcean wants one rule; its only one lets TCP out to 192.0.2.1 port 9
    (TEST-NET-1, RFC 5737: never routed), so nothing comes in and nothing goes out."""
    return firewall_body('%s-fence' % firewall_name(user, project, env), [fenced_tag(user, project, env)], [],
                         [_rule('tcp', 9, ['192.0.2.1/32'], 'destinations')])


def firewall_name(user, project, env):
    """``fleet-u1-myapp-prod``: the firewall of one project environment."""
    return 'fleet-%s-%s-%s' % (user, project, env)


def ssh_key_name(user):
    """``fleet-u1``: the name of a user's key in the DigitalOcean account."""
    return 'fleet-%s' % user


def env_tag(user, project, env):
    """``fleet-env:u1_myapp_prod``: every droplet of the project environment carries it."""
    return droplet_tags(user, project, env)[3]


def service_tag(user, project, env, service):
    """``fleet-service:u1_myapp_prod_api``: every droplet of the service carries it."""
    return droplet_tags(user, project, env, service)[4]


# ---------------------------------------------------------------- droplets

def droplet_zone(droplet):
    region = droplet.get('region')
    if isinstance(region, dict):
        return region.get('slug')
    return region


def droplet_size(droplet):
    size = droplet.get('size_slug')
    if not size and isinstance(droplet.get('size'), dict):
        size = droplet['size'].get('slug')
    return size


def droplet_address(droplet, kind, version='v4'):
    """The first ``public``/``private`` address of a droplet, or None (new droplets have no networks)."""
    for net in ((droplet.get('networks') or {}).get(version) or []):
        if net.get('type') == kind and net.get('ip_address'):
            return net['ip_address']
    return None


def has_networks(droplet):
    return bool((droplet.get('networks') or {}).get('v4'))


def droplet_age(droplet, now):
    """Seconds from the droplet's ``created_at`` (``2026-01-31T12:00:00Z``) to the Unix time ``now``, or None."""
    m = re.match(r'^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)', str(droplet.get('created_at') or ''))
    if not m:
        return None
    return now - calendar.timegm(tuple(int(g) for g in m.groups()) + (0, 0, 0))


def stuck_droplets(droplets, now, max_age):
    """The droplets still ``new`` at least ``max_age`` seconds after their creation (by the clock ``now``).

    Such a droplet never booted, so nothing runs on it and replacing it loses nothing."""
    stuck = []
    for droplet in droplets:
        age = droplet_age(droplet, now)
        if droplet.get('status') == 'new' and age is not None and age >= max_age:
            stuck.append(droplet)
    return stuck


def droplet_index(name, name_prefix):
    """The index at the end of ``{name_prefix}{index}``, or None when the name does not have that form."""
    if not isinstance(name, str) or not name.startswith(name_prefix):
        return None
    rest = name[len(name_prefix):]
    if not re.match(r'^[0-9]{1,6}$', rest) or int(rest) < 1:
        return None
    return int(rest)


def droplet_view(droplet, name_prefix=None):
    """What the modules return about a droplet."""
    view = dict(
        id=droplet.get('id'),
        name=droplet.get('name'),
        status=droplet.get('status'),
        zone=droplet_zone(droplet),
        size=droplet_size(droplet),
        public_ip=droplet_address(droplet, 'public'),
        private_ip=droplet_address(droplet, 'private'),
        public_ipv6=droplet_address(droplet, 'public', 'v6'),
        vpc_uuid=droplet.get('vpc_uuid'),
        tags=sorted(droplet.get('tags') or []),
        created_at=droplet.get('created_at'),
    )
    if name_prefix is not None:
        view['index'] = droplet_index(droplet.get('name'), name_prefix)
    return view


def name_prefix(user, project, env, service, zone):
    """``u1-myapp-prod-api-lon1-``: what every droplet name of the service in the zone starts with."""
    return droplet_name(user, project, env, service, zone, 1)[:-1]


def plan_droplets(existing, user, project, env, service, zone, count):
    """Decide which droplets to keep, which names to create and which droplets are surplus.

    ``existing`` are the service's droplets in ``zone`` (API objects).  The ``count``
    lowest-indexed well-named droplets are kept (any other droplet with the service's
    tag -- a duplicate name, a foreign name -- ranks after them); the missing ones are
    created under the lowest free indexes; the rest is surplus, highest index first
    (foreign names and duplicates first of all).  Returns a dict with ``keep`` (droplets,
    by index), ``create`` (names) and ``surplus`` (droplets, in removal order).
    """
    if not isinstance(count, int) or count < 0:
        raise ValueError('count must be a whole number >= 0, got %r' % (count,))
    prefix = name_prefix(user, project, env, service, zone)
    good, other, seen = [], [], set()
    for droplet in sorted(existing, key=lambda d: (str(d.get('created_at') or ''), d.get('id') or 0)):
        index = droplet_index(droplet.get('name'), prefix)
        if index is None or index in seen:
            other.append(droplet)
        else:
            seen.add(index)
            good.append((index, droplet))
    good.sort(key=lambda item: item[0])
    ranked = [d for _index, d in good] + other
    keep = ranked[:count]
    surplus = list(reversed(ranked[count:]))
    used = set(droplet_index(d.get('name'), prefix) for d in keep)
    create, index = [], 0
    while len(keep) + len(create) < count:
        index += 1
        if index not in used:
            create.append(droplet_name(user, project, env, service, zone, index))
    return dict(keep=keep, create=create, surplus=surplus)


def is_surplus(droplet):
    """Whether ``droplet`` carries the ``fleet-surplus`` tag."""
    return SURPLUS_TAG in (droplet.get('tags') or [])


def surplus_marks(keep, surplus):
    """``(mark, unmark)``: the ``surplus`` droplets still to tag, the ``keep`` ones still tagged."""
    return [d for d in surplus if not is_surplus(d)], [d for d in keep if is_surplus(d)]


def mark_view(droplet):
    """A copy of the API object ``droplet`` as it is once tagged ``fleet-surplus``."""
    return dict(droplet, tags=list(droplet.get('tags') or []) + [SURPLUS_TAG])


def batches(items, size=MULTI_CREATE_MAX):
    """``items`` in consecutive lists of at most ``size``."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def droplet_create_body(names, zone, size, image, tags, ssh_keys=None, vpc_uuid=None, user_data=None,
                        ipv6=False, monitoring=False):
    """The ``POST /v2/droplets`` body that creates all ``names`` at once (multi-create)."""
    body = dict(names=list(names), region=zone, size=size, image=image, tags=list(tags), ipv6=bool(ipv6),
                monitoring=bool(monitoring))
    if ssh_keys:
        body['ssh_keys'] = [int(k) if isinstance(k, str) and k.isdigit() else k for k in ssh_keys]
    if vpc_uuid:
        body['vpc_uuid'] = vpc_uuid
    if user_data:
        body['user_data'] = user_data
    return body


# ---------------------------------------------------------------- firewall

def cidr(value):
    """An address or network as DigitalOcean takes it; ValueError with a fix line otherwise."""
    try:
        ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise ValueError('%r is not an IP address or CIDR; fix: use for example 203.0.113.7/32 or 10.110.0.0/20'
                         % (value,))
    return str(value)


def _norm_address(value):
    try:
        return ipaddress.ip_network(str(value), strict=False).with_prefixlen
    except ValueError:
        return str(value)


def _norm_ports(protocol, ports):
    if protocol == 'icmp':
        return ALL_PORTS
    ports = str(ports if ports is not None else '').strip().lower()
    if ports in ('', 'all', '0', '1-65535', '0-65535'):
        return ALL_PORTS
    if '-' in ports:
        low, _sep, high = ports.partition('-')
        if low == high:
            return low
    return ports


def _rule(protocol, ports, addresses, key):
    rule = {'protocol': protocol, key: {'addresses': list(addresses)}}
    if protocol != 'icmp':        # ICMP has no ports (the API answers "0")
        rule['ports'] = str(ports)
    return rule


def firewall_rules(controller_addresses, vpc_ranges, public_ports=(80, 443)):
    """The fleet's rules: (inbound_rules, outbound_rules) in API form.

    Inbound: SSH (22) only from the controller's addresses; the public ports
    (80/443) from anywhere; every other TCP and UDP port and ICMP only from the
    VPC ranges.  Outbound: everything.
    """
    controllers = [cidr(a) for a in controller_addresses or []]
    ranges = [cidr(r) for r in vpc_ranges or []]
    inbound = []
    if controllers:
        inbound.append(_rule('tcp', 22, controllers, 'sources'))
    for port in sorted(set(int(p) for p in public_ports or [])):
        if not 1 <= port <= 65535:
            raise ValueError('public port %d is not a TCP port; fix: use 1-65535' % port)
        inbound.append(_rule('tcp', port, ANYWHERE, 'sources'))
    if ranges:
        for protocol in ('tcp', 'udp', 'icmp'):
            inbound.append(_rule(protocol, ALL_PORTS, ranges, 'sources'))
    outbound = [_rule(protocol, ALL_PORTS, ANYWHERE, 'destinations') for protocol in ('tcp', 'udp', 'icmp')]
    return inbound, outbound


def canonical_rules(rules, key):
    """Rules in a form that compares equal when DigitalOcean means the same thing: sorted, normalised."""
    out = []
    for rule in rules or []:
        protocol = str(rule.get('protocol', '')).lower()
        target = rule.get(key) or {}
        canon = {'protocol': protocol, 'ports': _norm_ports(protocol, rule.get('ports'))}
        for name in _TARGET_KEYS:
            values = target.get(name) or []
            if name == 'addresses':
                values = [_norm_address(v) for v in values]
            if values:
                canon.setdefault(key, {})[name] = sorted(set(values), key=str)
        canon.setdefault(key, {})
        out.append(canon)
    unique = dict((json.dumps(r, sort_keys=True), r) for r in out)
    return [unique[k] for k in sorted(unique)]


def firewall_state(firewall):
    """The parts of a firewall the fleet manages, canonical (for comparison and for the diff)."""
    firewall = firewall or {}
    return dict(
        name=firewall.get('name'),
        inbound_rules=canonical_rules(firewall.get('inbound_rules'), 'sources'),
        outbound_rules=canonical_rules(firewall.get('outbound_rules'), 'destinations'),
        tags=sorted(firewall.get('tags') or []),
    )


def firewall_body(name, tags, inbound, outbound, droplet_ids=None):
    """The POST/PUT body. PUT resets what it does not name, so droplets already assigned are carried over."""
    body = dict(name=name, inbound_rules=inbound, outbound_rules=outbound, tags=list(tags))
    if droplet_ids:
        body['droplet_ids'] = list(droplet_ids)
    return body


# ---------------------------------------------------------------- ssh keys

def ssh_fingerprint(public_key):
    """DigitalOcean's fingerprint of an OpenSSH public key line: MD5 of the key blob, ``aa:bb:...``."""
    fields = str(public_key or '').split()
    if len(fields) < 2:
        raise ValueError('not an OpenSSH public key line (want "ssh-ed25519 AAAA... comment")')
    try:
        blob = base64.b64decode(fields[1].encode('ascii'), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError('the key data of the public key is not base64')
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()  # the format DigitalOcean uses
    return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


# ---------------------------------------------------------------- vpc peerings

def peering_pair(vpc_ids):
    """The two VPC UUIDs of a peering, lower case and sorted; ValueError naming ``vpc_ids`` otherwise.

    A peering is the same whatever order its VPCs are given in, so this pair is its identity.
    """
    if not isinstance(vpc_ids, (list, tuple)) or len(vpc_ids) != 2:
        count = len(vpc_ids) if isinstance(vpc_ids, (list, tuple)) else 'a %s' % type(vpc_ids).__name__
        raise ValueError('vpc_ids must be exactly two VPC UUIDs, got %s; fix: give the ids of the two VPCs to '
                         'peer (the ids the vpc module returns)' % count)
    pair = []
    for value in vpc_ids:
        text = str(value if value is not None else '').strip()
        if not UUID_RE.match(text):
            raise ValueError('vpc_ids: %r is not a VPC UUID; fix: use the id the vpc module returns, for example '
                             '5a4981aa-9653-4bd1-bef5-d6bff52042e4' % (value,))
        pair.append(text.lower())
    if pair[0] == pair[1]:
        raise ValueError('vpc_ids names the VPC %s twice; fix: a peering joins two different VPCs' % pair[0])
    return tuple(sorted(pair))


def peering_name(vpc_ids):
    """``fleet-peering-{12 hex}``: the default name of the peering of two VPCs, the same in either order.

    From a digest of the sorted pair, because VPC UUIDs can share their first characters.
    """
    pair = peering_pair(vpc_ids)
    return 'fleet-peering-%s' % hashlib.sha256(','.join(pair).encode('ascii')).hexdigest()[:12]


def check_peering_name(name):
    """``name`` if DigitalOcean takes it as a VPC peering name; ValueError naming ``name`` otherwise."""
    if not isinstance(name, str) or not PEERING_NAME_RE.match(name):
        raise ValueError('name %r is not a VPC peering name; fix: use only letters, digits and "-" '
                         '(at most 255), for example fleet-u1-lon1-nyc1' % (name,))
    return name


def _same_pair(peering, pair):
    ids = peering.get('vpc_ids') or []
    return len(ids) == 2 and tuple(sorted(str(i).lower() for i in ids)) == pair


def peerings_of_pair(peerings, vpc_ids):
    """The peerings (API objects) that join exactly these two VPCs, the live ones first.

    ACTIVE before PROVISIONING before anything else (DELETING); the order of ``vpc_ids`` does not matter.
    """
    pair = peering_pair(vpc_ids)
    found = [p for p in peerings or [] if _same_pair(p, pair)]
    return sorted(found, key=lambda p: (PEERING_STATUS_RANK.get(p.get('status'), 2), str(p.get('created_at') or ''),
                                        str(p.get('id') or '')))


def find_peering(peerings, vpc_ids):
    """The peering of these two VPCs (a live one if there is one), or None."""
    found = peerings_of_pair(peerings, vpc_ids)
    return found[0] if found else None


def peering_name_taken(peerings, name, vpc_ids):
    """A peering of other VPCs that already has ``name`` (names are unique in an account), or None."""
    pair = peering_pair(vpc_ids)
    for peering in peerings or []:
        if peering.get('name') == name and not _same_pair(peering, pair):
            return peering
    return None


def peering_view(peering):
    """What the vpc_peering module returns about a peering: id, name, the VPC ids sorted, status."""
    if not peering:
        return {}
    return dict(id=peering.get('id'), name=peering.get('name'),
                vpc_ids=sorted(str(i).lower() for i in peering.get('vpc_ids') or []), status=peering.get('status'))
