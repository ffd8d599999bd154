#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: cloudflare_dns
short_description: Ensure a project's DNS records in Cloudflare, never touching anyone else's
version_added: 0.4.0
description:
  - "Ensures DNS records of one zone, matched by name, type and content. The records the module creates carry the
    comment C(managed by projectdeployer.fleet: OWNER); only those are ever changed or deleted."
  - A record someone else made that already says what is wanted is left as it is (RV(kept)); one that stands in
    the way (another address for the name, a CNAME where an address is wanted, or the reverse) fails the task with
    the fix, before any change, unless O(adopt=true), which lets the module replace it.
  - The zone is found from the names (the longest suffix that is a zone of the account) unless O(zone) names it.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._cloudflare
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The records of the names concerned before and after.
  idempotent:
    support: full
options:
  owner:
    description: Who the records belong to, C(user/project/env); it is written in their comment.
    type: str
    required: true
  records:
    description: The records.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The record's name, fully qualified or relative to the zone (V(@) is the zone's apex); a name that does
            not end with the zone's name is relative to it, as in Cloudflare.
        type: str
        required: true
      type:
        description: The record's type.
        type: str
        choices: [A, AAAA, CNAME, TXT]
        default: A
      content:
        description:
          - The content, or a list of contents (one record each, as the servers of a name).
          - Required with O(state=present); with O(state=absent), leaving it out takes all the module's own records of
            the name and type away.
        type: raw
      ttl:
        description: Seconds, or V(1) for Cloudflare's automatic TTL.
        type: int
        default: 1
      proxied:
        description: Whether Cloudflare proxies the name (A, AAAA and CNAME only).
        type: bool
        default: false
  zone:
    description: The zone's name; found from the first record's name when not given (then it must be fully qualified).
    type: str
  state:
    description: V(present) creates and updates the records (and deletes the module's own records of those names and
      types with another content); V(absent) deletes the module's own records that match.
    type: str
    choices: [present, absent]
    default: present
  adopt:
    description: Let the module change or delete records it did not create that stand in the way.
    type: bool
    default: false
  wait:
    description:
      - With O(state=present), wait until the zone's authoritative name servers answer the TXT records (an ACME
        DNS-01 challenge's), asked directly without recursion, for at most O(wait_timeout) seconds; the task fails
        naming what is missing where. Needs the Python library C(dnspython).
    type: bool
    default: false
  wait_timeout:
    description: How long O(wait) waits, in seconds.
    type: int
    default: 120
  name_servers:
    description:
      - The authoritative servers O(wait) asks (V(host) or V(host:port)); by default the zone's name servers as
        Cloudflare lists them.
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: The API's name points at both servers of lon1
  projectdeployer.fleet.cloudflare_dns:
    owner: u1/myapp/prod
    records:
      - name: api.example.com
        content: [203.0.113.7, 203.0.113.8]
        proxied: true

- name: An ACME challenge, then its removal
  projectdeployer.fleet.cloudflare_dns:
    owner: u1/myapp/prod
    records:
      - {name: _acme-challenge.api.example.com, type: TXT, content: "gfj9Xq...Rg85nM", ttl: 60}
    state: "{{ item }}"
  loop: [present, absent]
'''

RETURN = r'''
zone:
  description: The zone (C(id), C(name)).
  returned: success
  type: dict
created:
  description: The records created (C(name), C(type), C(content)).
  returned: success
  type: list
  elements: dict
updated:
  description: The records whose TTL, proxying or comment changed.
  returned: success
  type: list
  elements: dict
deleted:
  description: The records deleted.
  returned: success
  type: list
  elements: dict
kept:
  description: Records someone else made that were left as they are.
  returned: success
  type: list
  elements: dict
waited:
  description: With O(wait), the seconds until every authoritative server answered the TXT records.
  returned: when O(wait) waited
  type: float
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._cloudflare import api, dns, propagation


def existing_records(client, zone, names):
    found = []
    for name in sorted(names):
        records = api.call('list the DNS records of %s' % name,
                           lambda n=name: list(client.dns.records.list(zone_id=zone['id'], name={'exact': n})))
        found.extend({'id': r.id, 'name': r.name, 'type': r.type, 'content': r.content, 'ttl': r.ttl,
                      'proxied': bool(getattr(r, 'proxied', False)), 'comment': r.comment} for r in records)
    return found


def body(record):
    out = {'type': record['type'], 'name': record['name'], 'content': record['content'], 'ttl': record['ttl'],
           'comment': record['comment']}
    if record['type'] in dns.ADDRESS_OR_ALIAS:
        out['proxied'] = record['proxied']
    return out


def apply(client, zone, steps):
    for found in steps['delete']:
        api.call('delete %s %s %s' % (found['type'], found['name'], found['content']),
                 client.dns.records.delete, found['id'], zone_id=zone['id'])
    for record_id, record in steps['update']:
        api.call('update %s %s %s' % (record['type'], record['name'], record['content']),
                 client.dns.records.update, record_id, zone_id=zone['id'], **body(record))
    for record in steps['create']:
        api.call('create %s %s %s' % (record['type'], record['name'], record['content']),
                 client.dns.records.create, zone_id=zone['id'], **body(record))


def run(module):
    p = module.params
    client = api.make_client(p)
    first = p['records'][0]['name'] if p['records'] else ''
    if not p['zone'] and '.' not in first.strip('.'):
        raise api.CfApiError('records: %s is not a fully qualified name; fix: give the zone option, or the full name'
                             % (first or '(none)'))
    zone = api.find_zone(client, p['zone'] or first)
    for record in p['records']:
        if record['content'] is None and p['state'] == 'present':
            raise api.CfApiError('records: %s %s has no content; fix: give its content (an address, a name or a text)'
                                 % (record['type'], record['name']))
        if record['proxied'] and record['type'] not in dns.ADDRESS_OR_ALIAS:
            raise api.CfApiError('records: %s %s cannot be proxied; fix: proxied only on A, AAAA or CNAME'
                                 % (record['type'], record['name']))
    wanted = dns.wanted_records(p['records'], zone['name'], p['owner'])
    before = existing_records(client, zone, set(r['name'] for r in wanted))
    steps = dns.plan(wanted, before, p['owner'], state=p['state'], adopt=p['adopt'])
    if steps['conflicts']:
        raise api.CfApiError('; '.join(steps['conflicts']))
    changed = bool(steps['create'] or steps['update'] or steps['delete'])
    if changed and not module.check_mode:
        apply(client, zone, steps)
    result = dict(changed=changed, zone=zone, created=[dns.view(r) for r in steps['create']],
                  updated=[dns.view(r) for dummy, r in steps['update']], deleted=[dns.view(r) for r in steps['delete']],
                  kept=[dns.view(r) for r in steps['kept']])
    if p['wait'] and p['state'] == 'present' and not module.check_mode:
        txt = {}
        for record in wanted:
            if record['type'] == 'TXT':
                txt.setdefault(record['name'], []).append(record['content'])
        if txt:
            servers = [propagation.parse_server(s) for s in (p['name_servers'] or zone['name_servers'])]
            try:
                result['waited'] = propagation.wait_for_txt(txt, servers, p['wait_timeout'])
            except TimeoutError as exc:
                raise api.CfApiError('%s; fix: see that the zone is served by %s (or give name_servers)'
                                     % (exc, ', '.join(p['name_servers'] or zone['name_servers'])))
    if module._diff:
        gone = set(r['id'] for r in steps['delete'])
        after = [dns.view(r) for r in before if r['id'] not in gone] + result['created']
        result['diff'] = dict(before=dict(records=sorted((dns.view(r) for r in before), key=str)),
                              after=dict(records=sorted(after, key=str)))
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            owner=dict(type='str', required=True),
            records=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                type=dict(type='str', choices=list(dns.TYPES), default='A'),
                content=dict(type='raw'),
                ttl=dict(type='int', default=1),
                proxied=dict(type='bool', default=False),
            )),
            zone=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            adopt=dict(type='bool', default=False),
            wait=dict(type='bool', default=False),
            wait_timeout=dict(type='int', default=120),
            name_servers=dict(type='list', elements='str'),
            **api.argument_spec()
        ),
        supports_check_mode=True)
    if not api.HAS_CLOUDFLARE:
        module.fail_json(msg=missing_required_lib('cloudflare'), exception=api.CLOUDFLARE_TRACEBACK)
    if module.params['wait'] and not propagation.HAS_DNSPYTHON:
        module.fail_json(msg=missing_required_lib('dnspython'))
    try:
        module.exit_json(**run(module))
    except api.CfApiError as exc:
        module.fail_json(msg=str(exc))


if __name__ == '__main__':
    main()
