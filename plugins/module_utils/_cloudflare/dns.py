# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``cloudflare_dns`` changes (pure): the wanted records against those the zone has.

Records are matched by name, type and content. The collection marks the records it creates with a comment,
``managed by projectdeployer.fleet: OWNER`` (OWNER is ``user/project/env``), and only ever changes or deletes
records with its own mark: a record someone else made is left alone even where it says what is wanted (reported
as ``kept``), and one that stands in the way (another address for the name, a CNAME where an address is wanted)
is a conflict with its fix, unless ``adopt`` is set: then it is taken over (marked, changed, or deleted).
"""

from __future__ import annotations

MARK = 'managed by projectdeployer.fleet: %s'
ADDRESS_OR_ALIAS = ('A', 'AAAA', 'CNAME')
TYPES = ('A', 'AAAA', 'CNAME', 'TXT')


def mark(owner):
    return MARK % owner


def full_name(name, zone):
    name = name.strip().rstrip('.').lower()
    if name in ('', '@'):
        return zone
    return name if name == zone or name.endswith('.' + zone) else '%s.%s' % (name, zone)


def wanted_records(records, zone, owner):
    """The module's ``records`` option as one dict per record (a list of contents gives several), with the mark.

    A record without content (None) stands for every content: ``state=absent`` then takes all the module's own
    records of that name and type away."""
    out = []
    for record in records:
        contents = record['content'] if isinstance(record['content'], list) else [record['content']]
        for content in contents:
            out.append({'name': full_name(record['name'], zone), 'type': record['type'],
                        'content': content.rstrip('.').lower() if record['type'] == 'CNAME' and content else content,
                        'ttl': record.get('ttl') or 1, 'proxied': bool(record.get('proxied')),
                        'comment': mark(owner)})
    return out


def _key(record):
    return (record['name'], record['type'])


def _same(existing, wanted):
    return (existing.get('ttl') == wanted['ttl'] and bool(existing.get('proxied')) == wanted['proxied']
            and existing.get('comment') == wanted['comment'])


def view(record):
    return {'name': record['name'], 'type': record['type'], 'content': record['content']}


def plan(wanted, existing, owner, state='present', adopt=False):
    """``{'create': [record], 'update': [(id, record)], 'delete': [existing], 'kept': [existing],
    'conflicts': [text]}`` that bring the zone's ``existing`` records (dicts with id, name, type, content, ttl,
    proxied, comment) of the wanted names to ``wanted`` (``state=absent``: take the wanted ones away)."""
    ours = mark(owner)
    result = {'create': [], 'update': [], 'delete': [], 'kept': [], 'conflicts': []}
    names = set(r['name'] for r in wanted)
    relevant = [r for r in existing if r['name'] in names]
    if state == 'absent':
        for record in wanted:
            for found in relevant:
                if _key(found) == _key(record) and record['content'] in (None, found['content']):
                    if found in result['delete'] or found in result['kept']:
                        continue
                    if found.get('comment') == ours or adopt:
                        result['delete'].append(found)
                    else:
                        result['kept'].append(found)
        return result
    wanted_keys = set(_key(r) for r in wanted)
    for found in relevant:
        mine = found.get('comment') == ours
        same_key = _key(found) in wanted_keys
        wanted_here = same_key and any(_key(w) == _key(found) and w['content'] == found['content'] for w in wanted)
        alias_clash = (not same_key and found['type'] in ADDRESS_OR_ALIAS
                       and any(w['name'] == found['name'] and w['type'] in ADDRESS_OR_ALIAS
                               and 'CNAME' in (w['type'], found['type']) for w in wanted))
        in_the_way = (same_key and not wanted_here and found['type'] in ADDRESS_OR_ALIAS) or alias_clash
        if wanted_here:
            continue
        if mine and (same_key or alias_clash):
            result['delete'].append(found)
        elif in_the_way and adopt:
            result['delete'].append(found)
        elif in_the_way:
            result['conflicts'].append(
                '%s %s %s was not made by the collection and stands in the way of %s; fix: delete it in '
                'Cloudflare, or set adopt: true to let the collection replace it' % (
                    found['type'], found['name'], found['content'],
                    ', '.join(sorted('%s %s' % (w['type'], w['content']) for w in wanted if w['name'] == found['name']))))
    for record in wanted:
        match = [f for f in relevant if _key(f) == _key(record) and f['content'] == record['content']]
        if not match:
            result['create'].append(record)
            continue
        found = match[0]
        if found.get('comment') != ours and not adopt:
            result['kept'].append(found)
        elif not _same(found, record):
            result['update'].append((found['id'], record))
    return result
