# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure helpers of the Cloudflare simulator: the v4 envelope, errors, paging, list filters, DNS record rules.

Nothing here does I/O, so tests/unit exercises it without a server.
"""
import datetime
import ipaddress
import re

DEFAULT_PER_PAGE = 100          # dns_records; zones use 20
MAX_PER_PAGE = 5000000          # the schema's maximum for dns_records (zones: 50)
RECORD_TYPES = ('A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS', 'CAA', 'SRV')
PROXIABLE = ('A', 'AAAA', 'CNAME')
ADDRESS_OR_ALIAS = ('A', 'AAAA', 'CNAME')
COMMENT_MAX = 100               # characters on the Free plan
TTL_AUTO = 1
HOSTNAME_RE = re.compile(r'^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
STRING_OPS = ('exact', 'contains', 'startswith', 'endswith')


class CfError(Exception):
    """An error answer: HTTP status and the envelope's ``errors[{code, message}]``."""

    def __init__(self, status, code, message):
        super().__init__('%s %s: %s' % (status, code, message))
        self.status, self.code, self.message = status, code, message

    def body(self):
        return envelope(None, success=False, errors=[{'code': self.code, 'message': self.message}])


def envelope(result, success=True, errors=(), messages=(), result_info=None):
    body = {'success': success, 'errors': list(errors), 'messages': list(messages), 'result': result}
    if result_info is not None:
        body['result_info'] = result_info
    return body


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def bad_request(code, message):
    return CfError(400, code, message)


def invalid_token():
    return CfError(401, 10000, 'Authentication error')


def not_found(code=7003, message='Could not route to the resource, perhaps your object identifier is invalid?'):
    return CfError(404, code, message)


def record_not_found():
    return CfError(404, 81044, 'Record does not exist.')


def page(items, query, default_per_page=DEFAULT_PER_PAGE, max_per_page=MAX_PER_PAGE):
    """``(items of the page, result_info)``; a page past the last is empty (the SDK's iterator stops there)."""
    try:
        number = int(float(query.get('page', 1)))
        per_page = int(float(query.get('per_page', default_per_page)))
    except ValueError:
        raise bad_request(1004, 'DNS Validation Error: page and per_page must be numbers') from None
    if number < 1 or per_page < 1 or per_page > max_per_page:
        raise bad_request(1004, 'page must be 1 or more and per_page from 1 to %d' % max_per_page)
    start = (number - 1) * per_page
    chunk = items[start:start + per_page]
    total_pages = (len(items) + per_page - 1) // per_page
    return chunk, {'page': number, 'per_page': per_page, 'count': len(chunk), 'total_count': len(items),
                   'total_pages': total_pages}


def string_filters(query, field):
    """The ``field.op=value`` filters of a query (and a plain ``field=value``, which means exact):
    ``[(op, value)]``; Cloudflare's name filters are case-insensitive, so are these."""
    found = []
    if field in query:
        found.append(('exact', query[field]))
    for op in STRING_OPS + ('present', 'absent'):
        key = '%s.%s' % (field, op)
        if key in query:
            found.append((op, query[key]))
    return found


def matches(value, op, wanted):
    value, wanted = (value or '').lower(), (wanted or '').lower()
    if op == 'exact':
        return value == wanted
    if op == 'contains':
        return wanted in value
    if op == 'startswith':
        return value.startswith(wanted)
    if op == 'endswith':
        return value.endswith(wanted)
    if op == 'present':
        return bool(value)
    if op == 'absent':
        return not value
    return False


def full_name(name, zone):
    """A record name as the API stores it: fully qualified, lower case (``@`` is the apex)."""
    name = (name or '').strip().rstrip('.').lower()
    if name in ('', '@'):
        return zone
    if name == zone or name.endswith('.' + zone):
        return name
    return '%s.%s' % (name, zone)


def check_record(body, zone, partial=None):
    """The record a create (``partial`` None), a PUT or a PATCH (``partial``: the current record) asks for,
    normalized, or a CfError like the API's (code 9000-9999 family for validation, 1004 generic)."""
    current = partial or {}
    merged = dict(current, **{k: v for k, v in body.items() if v is not None}) if partial else dict(body)
    kind = merged.get('type')
    if kind not in RECORD_TYPES:
        raise bad_request(9020, 'Invalid DNS record type.' if kind else 'DNS record type is required.')
    name = full_name(merged.get('name'), zone)
    if name != zone and not name.endswith('.' + zone):
        raise bad_request(9007, 'Content for %s record is invalid. Must be inside the zone.' % kind)
    if not HOSTNAME_RE.match(name):
        raise bad_request(9005, 'DNS name is invalid.')
    content = merged.get('content')
    if not isinstance(content, str) or not content:
        raise bad_request(9021, 'Invalid or missing content for %s record.' % kind)
    if kind == 'A':
        _address(content, 4)
    elif kind == 'AAAA':
        _address(content, 6)
    elif kind == 'CNAME':
        content = content.rstrip('.').lower()
        if not HOSTNAME_RE.match(content):
            raise bad_request(9007, 'Content for CNAME record is invalid.')
    elif kind == 'TXT' and len(content) > 4096:
        raise bad_request(9100, 'DNS record content is too long.')
    ttl = merged.get('ttl', TTL_AUTO)
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not (ttl == TTL_AUTO or 30 <= ttl <= 86400):
        raise bad_request(9003, 'Invalid TTL. Must be between 30 and 86400 seconds, or 1 for Automatic.')
    proxied = bool(merged.get('proxied', False))
    if proxied and kind not in PROXIABLE:
        raise bad_request(9004, 'This record type cannot be proxied.')
    comment = merged.get('comment')
    if comment is not None and (not isinstance(comment, str) or len(comment) > COMMENT_MAX):
        raise bad_request(9101, 'DNS record comment is invalid or too long (%d characters at most).' % COMMENT_MAX)
    tags = merged.get('tags') or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and ':' in t for t in tags):
        raise bad_request(9102, 'DNS record tags must be a list of "name:value".')
    return {'type': kind, 'name': name, 'content': content, 'ttl': int(ttl), 'proxied': proxied,
            'proxiable': kind in PROXIABLE, 'comment': comment or None, 'tags': list(tags),
            'settings': dict(merged.get('settings') or {})}


def _address(content, version):
    try:
        parsed = ipaddress.ip_address(content)
    except ValueError:
        parsed = None
    if parsed is None or parsed.version != version:
        raise bad_request(9005 if version == 4 else 9006, 'Content for %s record is invalid. Must be a valid IPv%d '
                          'address.' % ('A' if version == 4 else 'AAAA', version))


def conflict(new, existing):
    """The API's error when ``new`` may not stand beside ``existing`` records of the zone (None: it may).

    Identical address or alias records (same type, name and content) -> 81058; an identical record of another
    type -> 81057; a CNAME beside any A, AAAA or CNAME of the same name, or one of those beside a CNAME -> 81053.
    """
    for other in existing:
        if other['name'] != new['name']:
            continue
        if other['type'] == new['type'] and other['content'] == new['content']:
            if new['type'] in ADDRESS_OR_ALIAS:
                return bad_request(81058, 'An identical record already exists.')
            return bad_request(81057, 'Record already exists.')
        if 'CNAME' in (other['type'], new['type']) and other['type'] in ADDRESS_OR_ALIAS \
                and new['type'] in ADDRESS_OR_ALIAS:
            return bad_request(81053, 'An A, AAAA, or CNAME record with that host already exists. For more details, '
                               'refer to <https://developers.cloudflare.com/dns/manage-dns-records/troubleshooting/'
                               'records-with-same-name/>.')
    return None
