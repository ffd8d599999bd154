# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import replacement

SERVERS = [{'name': 'a', 'address': '10.0.0.2'}, {'name': 'b', 'address': '10.0.0.3'},
           {'name': 'c', 'address': '10.0.0.4', 'stateful': []}]
C_DEAD = {'dead': ['10.0.0.4'], 'alive': ['10.0.0.2', '10.0.0.3'], 'leader': '10.0.0.2'}
ALL_UP = {'a': True, 'b': True, 'c': True}


def decide(verdicts, reachable, history=(), servers=None, **kw):
    return replacement.decide(servers or SERVERS, verdicts, reachable, {'c': 'active'}, list(history), 10 ** 6, **kw)


def test_a_dead_server_confirmed_by_the_controller_is_replaced():
    out = decide({'a': C_DEAD, 'b': C_DEAD, 'c': None}, dict(ALL_UP, c=False))
    assert out['action'] == 'replace' and out['server'] == 'c', out


def test_the_controller_reaching_it_means_a_partition_alert_only():
    out = decide({'a': C_DEAD, 'b': C_DEAD, 'c': {'dead': []}}, ALL_UP)
    assert out['action'] == 'alert' and 'partition' in out['reason']


def test_an_isolated_servers_verdict_replaces_nobody():
    isolated = {'dead': [], 'alive': ['10.0.0.4'], 'leader': '10.0.0.4'}
    # seen from the controller: c answers, a and b too (only the VPC between them is cut); c condemns nobody
    assert decide({'a': {'dead': []}, 'b': {'dead': []}, 'c': isolated}, ALL_UP)['action'] == 'none'


def test_two_dead_at_once_alert_only_and_brakes():
    # two of three lost at once: the survivor's quorum judges nobody, the controller sees two silent servers
    out = decide({'a': {'dead': []}, 'b': None, 'c': None}, {'a': True, 'b': False, 'c': False})
    assert out['action'] == 'alert' and '2 of 3 servers do not answer' in out['reason'], out
    two = [{'name': 'a', 'address': '10.0.0.2'}, {'name': 'b', 'address': '10.0.0.3'}]
    out = decide({'a': {'dead': ['10.0.0.3']}, 'b': None}, {'a': True, 'b': False}, servers=two)
    assert out['action'] == 'alert' and '1 of 2 servers' in out['reason'], out
    assert decide({'a': C_DEAD, 'b': C_DEAD}, dict(ALL_UP, c=False), in_flight=True)['action'] == 'none'
    history = [{'time': 10 ** 6 - 100, 'server': 'x'}] * 3
    assert 'the cap' in decide({'a': C_DEAD, 'b': C_DEAD}, dict(ALL_UP, c=False), history)['reason']


def test_a_stateful_service_is_not_recreated_empty_unless_it_opted_in_and_has_a_backup():
    servers = SERVERS[:2] + [{'name': 'c', 'address': '10.0.0.4', 'stateful': ['postgres', 'redis']}]
    backup = {'file': '/ctl/backups/10.0.0.4/postgres_backup_20261201_020000.dump', 'taken': 10 ** 6 - 3 * 3600 - 120,
              'taken_iso': '2026-12-01T02:00:00Z'}
    out = decide({'a': C_DEAD, 'b': C_DEAD}, dict(ALL_UP, c=False), servers=servers, backups={'postgres': backup},
                 restore_command=lambda service, path: 'restore.yml -e fleet_service=%s -e backup_pulled=%s' % (service, path))
    assert out['action'] == 'alert' and out['reason'] == ('c runs postgres, redis, whose data is on it: not re-created '
                                                          'empty; not replaced')
    assert ('postgres: its newest backup on the controller is %s, taken 2026-12-01T02:00:00Z (3 h 2 min old)' % backup['file']
            in out['detail'])
    assert 'restore.yml -e fleet_service=postgres -e backup_pulled=%s' % backup['file'] in out['detail']
    assert 'redis: no backup of it was pulled to the controller' in out['detail']
    assert 'set heal: restore_latest_backup on postgres, redis' in out['detail']
    # opted in, but one has no backup on the controller: still alert only
    servers[2]['restore'] = ['postgres', 'redis']
    out = decide({'a': C_DEAD, 'b': C_DEAD}, dict(ALL_UP, c=False), servers=servers, backups={'postgres': backup})
    assert out['action'] == 'alert' and 'opted in to heal: restore_latest_backup, but no backup' in out['reason']
    assert out['reason'].startswith('c runs redis,')
    servers[2]['stateful'] = ['postgres']
    out = decide({'a': C_DEAD, 'b': C_DEAD}, dict(ALL_UP, c=False), servers=servers, backups={'postgres': backup})
    assert out['action'] == 'replace'
    assert out['restore'] == [dict(backup, service='postgres', age='3 h 2 min')]
    assert 'postgres: restoring %s, taken 2026-12-01T02:00:00Z (3 h 2 min old); data written after it is lost' % (
        backup['file']) == out['detail']


def test_ages_read_well():
    assert [replacement.age_text(s) for s in (59, 420, 5 * 3600 + 720, 3 * 86400 + 4 * 3600 + 5)] == [
        '0 min', '7 min', '5 h 12 min', '3 d 4 h']
