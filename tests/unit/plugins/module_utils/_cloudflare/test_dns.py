# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.module_utils._cloudflare import dns

OWNER = 'u1/myapp/prod'
MINE = dns.mark(OWNER)


def rec(rid, kind, content, comment=MINE, name='api.example.test', ttl=1, proxied=False):
    return {'id': rid, 'name': name, 'type': kind, 'content': content, 'ttl': ttl, 'proxied': proxied, 'comment': comment}


def test_wanted_records_are_one_per_content_fully_named_and_marked():
    wanted = dns.wanted_records([{'name': '@', 'type': 'A', 'content': ['192.0.2.1', '192.0.2.2'], 'ttl': 1,
                                  'proxied': True},
                                 {'name': 'WWW', 'type': 'CNAME', 'content': 'Example.Test.', 'ttl': 300,
                                  'proxied': False}], 'example.test', OWNER)
    assert [(w['name'], w['type'], w['content']) for w in wanted] == [
        ('example.test', 'A', '192.0.2.1'), ('example.test', 'A', '192.0.2.2'), ('www.example.test', 'CNAME', 'example.test')]
    assert all(w['comment'] == 'managed by projectdeployer.fleet: u1/myapp/prod' for w in wanted)


def test_our_cname_gives_way_to_our_addresses():
    wanted = dns.wanted_records([{'name': 'api', 'type': 'A', 'content': '192.0.2.1'}], 'example.test', OWNER)
    steps = dns.plan(wanted, [rec('1', 'CNAME', 'lb.example.test')], OWNER)
    assert [r['id'] for r in steps['delete']] == ['1'] and len(steps['create']) == 1 and not steps['conflicts']


def test_foreign_txt_beside_ours_is_no_conflict_and_ttl_changes_update():
    wanted = dns.wanted_records([{'name': 'api', 'type': 'TXT', 'content': 'ours', 'ttl': 60}], 'example.test', OWNER)
    steps = dns.plan(wanted, [rec('1', 'TXT', 'theirs', comment=None), rec('2', 'TXT', 'ours', ttl=120)], OWNER)
    assert steps['create'] == [] and steps['delete'] == [] and not steps['conflicts']
    assert [rid for rid, dummy in steps['update']] == ['2']


def test_absent_deletes_only_ours_unless_adopted():
    wanted = dns.wanted_records([{'name': 'api', 'type': 'A', 'content': ['192.0.2.1', '192.0.2.2']}],
                                'example.test', OWNER)
    existing = [rec('1', 'A', '192.0.2.1'), rec('2', 'A', '192.0.2.2', comment='by hand')]
    steps = dns.plan(wanted, existing, OWNER, state='absent')
    assert [r['id'] for r in steps['delete']] == ['1'] and [r['id'] for r in steps['kept']] == ['2']
    steps = dns.plan(wanted, existing, OWNER, state='absent', adopt=True)
    assert [r['id'] for r in steps['delete']] == ['1', '2']


def test_absent_without_content_takes_all_our_records_of_the_name_and_type():
    wanted = dns.wanted_records([{'name': 'api', 'type': 'A', 'content': None}], 'example.test', OWNER)
    existing = [rec('1', 'A', '192.0.2.1'), rec('2', 'A', '192.0.2.2'), rec('3', 'A', '192.0.2.3', comment='by hand'),
                rec('4', 'TXT', 'hello')]
    steps = dns.plan(wanted, existing, OWNER, state='absent')
    assert [r['id'] for r in steps['delete']] == ['1', '2'] and [r['id'] for r in steps['kept']] == ['3']
