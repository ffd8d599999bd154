# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure helpers of the simulator: errors, paging, SSH key fingerprints, name rules, addresses.

Nothing here does I/O, so tests/unit exercises it without a server.
"""
import base64
import binascii
import datetime
import hashlib
import ipaddress
import os
import re
import struct
import urllib.parse

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200

# The real API: a Droplet name is a hostname ("Only valid hostname characters are allowed").
DROPLET_NAME_RE = re.compile(r'^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,253}[a-zA-Z0-9])?$')
TAG_RE = re.compile(r'^[a-zA-Z0-9_\-:]{1,255}$')
VPC_NAME_RE = re.compile(r'^[a-zA-Z0-9\-.]{1,255}$')
# "may only contain alphanumeric characters, dashes, and periods" (POST /v2/vpcs/{id}/peerings;
# the schema of /v2/vpc_peerings says alphanumerics and dashes only)
PEERING_NAME_RE = re.compile(r'^[a-zA-Z0-9\-.]{1,255}$')
FIREWALL_NAME_RE = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9.-]{0,254}$')
# tests/world/host.sh's rule for host names
HOST_NAME_RE = re.compile(r'^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$')
PORTS_RE = re.compile(r'^(all|0|[0-9]{1,5}|[0-9]{1,5}-[0-9]{1,5})$')

SSH_KEY_TYPES = ('ssh-rsa', 'ssh-dss', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384',
                 'ecdsa-sha2-nistp521', 'sk-ssh-ed25519@openssh.com',
                 'sk-ecdsa-sha2-nistp256@openssh.com')

# Address space of the test world that a VPC must not overlap (the hosts' public bridge and
# Docker's default bridge).
RESERVED_NETS = (ipaddress.ip_network('10.250.0.0/16'), ipaddress.ip_network('172.17.0.0/16'))


class ApiError(Exception):
    """An error answer of the API: HTTP status plus the body {"id": ..., "message": ...}."""

    def __init__(self, status, error_id, message, headers=None):
        super().__init__('%s %s: %s' % (status, error_id, message))
        self.status = status
        self.error_id = error_id
        self.message = message
        self.headers = headers or {}

    def body(self):
        return {'id': self.error_id, 'message': self.message}


def not_found():
    return ApiError(404, 'not_found', 'The resource you were accessing could not be found.')


def unauthorized():
    return ApiError(401, 'unauthorized', 'Unable to authenticate you.')


def unprocessable(message):
    return ApiError(422, 'unprocessable_entity', message)


def bad_request(message='error parsing request body'):
    return ApiError(400, 'bad_request', message)


def forbidden(message='You do not have permission to perform this action.'):
    return ApiError(403, 'forbidden', message)


def conflict(message='The request could not be completed due to a conflict.'):
    return ApiError(409, 'conflict', message)


def server_error():
    return ApiError(500, 'server_error', 'Unexpected server-side error')


def too_many_requests():
    return ApiError(429, 'too_many_requests', 'API Rate limit exceeded.')


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


# ---------------------------------------------------------------------------------------------
# paging

def _int_param(query, name, default):
    raw = query.get(name)
    if raw is None or raw == '':
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise unprocessable('%s must be an integer' % name) from None


def parse_paging(query):
    """(page, per_page) from the query: per_page 1..200 (default 20; more is capped), page >= 1."""
    per_page = _int_param(query, 'per_page', DEFAULT_PER_PAGE)
    page = _int_param(query, 'page', 1)
    if per_page < 1:
        per_page = DEFAULT_PER_PAGE
    per_page = min(per_page, MAX_PER_PAGE)
    if page < 1:
        page = 1
    return page, per_page


def page_links(base_url, path, page, per_page, total, query=None):
    """The ``links`` object of a list answer: {} on a single page, else {"pages": {...}} with
    first/prev (not on page 1) and last/next (not on the last page), like the real API. Other
    query parameters (e.g. tag_name) are kept in the links."""
    last = max(1, -(-total // per_page))
    extra = [(k, v) for k, v in sorted((query or {}).items()) if k not in ('page', 'per_page')]

    def url(p):
        return '%s%s?%s' % (base_url, path, urllib.parse.urlencode([('page', p), ('per_page', per_page)] + extra))

    pages = {}
    if page > 1:
        pages['first'] = url(1)
        pages['prev'] = url(min(page - 1, last))
    if page < last:
        pages['last'] = url(last)
        pages['next'] = url(page + 1)
    return {'pages': pages} if pages else {}


def paged(key, items, query, base_url, path):
    """The body of a list answer: {key: [...], "links": ..., "meta": {"total": N}}."""
    page, per_page = parse_paging(query)
    start = (page - 1) * per_page
    return {
        key: items[start:start + per_page],
        'links': page_links(base_url, path, page, per_page, len(items), query),
        'meta': {'total': len(items)},
    }


# ---------------------------------------------------------------------------------------------
# SSH keys

def parse_public_key(text):
    """(type, blob bytes, comment) of an OpenSSH public key line, or ValueError."""
    if not isinstance(text, str):
        raise ValueError('the public key must be a string')
    parts = text.strip().split(None, 2)
    if len(parts) < 2 or parts[0] not in SSH_KEY_TYPES:
        raise ValueError('Key invalid, key should be of the format `type key [comment]`')
    try:
        blob = base64.b64decode(parts[1].encode('ascii'), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError('Key invalid, the key data is not valid base64') from None
    # the blob starts with the length-prefixed key type
    if len(blob) < 4:
        raise ValueError('Key invalid, the key data is truncated')
    (n,) = struct.unpack('>I', blob[:4])
    if blob[4:4 + n].decode('ascii', 'replace') != parts[0]:
        raise ValueError('Key invalid, the key data does not match the key type %s' % parts[0])
    return parts[0], blob, parts[2] if len(parts) > 2 else ''


def fingerprint(public_key):
    """The MD5 fingerprint the API shows (aa:bb:...: MD5 of the decoded key blob)."""
    _type, blob, _comment = parse_public_key(public_key)
    digest = hashlib.md5(blob).hexdigest()  # noqa: S324 - the API's fingerprint format
    return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


def normalize_public_key(public_key):
    """'type blob [comment]' with the whitespace of the line normalised."""
    t, blob, comment = parse_public_key(public_key)
    line = '%s %s' % (t, base64.b64encode(blob).decode('ascii'))
    return line + (' ' + comment if comment else '')


# ---------------------------------------------------------------------------------------------
# names

def check_droplet_name(name):
    if not isinstance(name, str) or not name:
        raise unprocessable('Name is required.')
    if not DROPLET_NAME_RE.match(name):
        raise unprocessable('Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)')


def check_tag_name(tag):
    if not isinstance(tag, str) or not TAG_RE.match(tag):
        raise unprocessable('tag-name "%s" contains invalid characters (letters, numbers, colons, dashes '
                            'and underscores, at most 255)' % (tag,))


def host_name_for(droplet_name, droplet_id, taken):
    """The host.sh name of a droplet: its name when host.sh accepts it and nobody has it, else
    ``d<id>`` (``State.create_droplets`` makes that ``d<id>-<router id>`` when a host of another
    simulator has it)."""
    if HOST_NAME_RE.match(droplet_name) and droplet_name not in taken:
        return droplet_name
    return 'd%d' % droplet_id


# ---------------------------------------------------------------------------------------------
# addresses

def netmask(prefixlen):
    return str(ipaddress.ip_network('0.0.0.0/%d' % prefixlen).netmask)


def check_vpc_range(ip_range, others):
    """The ip_network of a VPC's ip_range, or ApiError 422: RFC 1918, /16 to /28, no overlap
    with the other VPCs (``others``: ranges) nor with the test world's own networks."""
    try:
        net = ipaddress.ip_network(ip_range, strict=True)
    except (TypeError, ValueError):
        raise unprocessable('ip_range %r is not a valid IPv4 CIDR network' % (ip_range,)) from None
    if net.version != 4:
        raise unprocessable('ip_range must be an IPv4 network')
    rfc1918 = [ipaddress.ip_network(n) for n in ('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16')]
    if not any(net.subnet_of(n) for n in rfc1918):
        raise unprocessable('ip_range must be within the private address space (RFC 1918)')
    if not 16 <= net.prefixlen <= 28:
        raise unprocessable('ip_range may not be smaller than /28 nor larger than /16')
    for n in RESERVED_NETS:
        if net.overlaps(n):
            raise unprocessable('ip_range %s overlaps %s, which the test world uses' % (net, n))
    for other in others:
        if net.overlaps(ipaddress.ip_network(other)):
            raise unprocessable('ip_range %s overlaps the range %s of another VPC' % (net, other))
    return net


def auto_vpc_range(preferred, others):
    """A free /20: ``preferred`` (the region's default range) when free, else the first free
    10.N.M.0/20 from 10.100.0.0 upwards (10.250/16 is never used)."""
    taken = [ipaddress.ip_network(o) for o in others]
    candidates = [ipaddress.ip_network(preferred)] if preferred else []
    for second in range(100, 250):
        for third in range(0, 256, 16):
            candidates.append(ipaddress.ip_network('10.%d.%d.0/20' % (second, third)))
    for c in candidates:
        if not any(c.overlaps(t) for t in taken) and not any(c.overlaps(r) for r in RESERVED_NETS):
            return str(c)
    raise unprocessable('no free /20 network range left for a VPC')


def next_free_ip(first, last, used, after=None):
    """The first address in [first, last] after ``after`` (round robin, wrapping) that is not in
    ``used`` and is neither a .0 nor a .255; None when all are taken."""
    lo, hi = int(ipaddress.ip_address(first)), int(ipaddress.ip_address(last))
    used_ints = {int(ipaddress.ip_address(u)) for u in used}
    start = lo if after is None else int(ipaddress.ip_address(after)) + 1
    if not lo <= start <= hi:
        start = lo
    span = hi - lo + 1
    for i in range(span):
        n = lo + (start - lo + i) % span
        if n & 0xff in (0, 255) or n in used_ints:
            continue
        return str(ipaddress.ip_address(n))
    return None


def vpc_gateway(ip_range):
    """The gateway of a VPC range, GW/LEN: its first address (droplets start at the second)."""
    net = ipaddress.ip_network(ip_range)
    return '%s/%d' % (net.network_address + 1, net.prefixlen)


def peer_spec(bridge, ip_range):
    """A side of ``host.sh peer``: BRIDGE:GW/LEN."""
    return '%s:%s' % (bridge, vpc_gateway(ip_range))


def router_id(state_dir):
    """The ``host.sh peer --router`` id of a simulator: 8 hex digits of its state directory's path
    (two simulators never share a router, as their VPC ranges may overlap)."""
    return hashlib.sha1(os.path.abspath(state_dir).encode('utf-8')).hexdigest()[:8]  # noqa: S324 - a name


def vpc_host_range(ip_range):
    """(first, last) usable droplet addresses of a VPC range: from .2, the last but one."""
    net = ipaddress.ip_network(ip_range)
    return str(net.network_address + 2), str(net.broadcast_address - 1)
