# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import incidents, monitor

CONFIG = {'servers': [{'name': 'a', 'address': '10.0.0.2'}, {'name': 'b', 'address': '10.0.0.3'},
                      {'name': 'c', 'address': '10.0.0.4'}]}


def test_only_the_leader_opens_and_any_server_resolves():
    dead = {'dead': ['10.0.0.4'], 'alive': ['10.0.0.2', '10.0.0.3'], 'leader': '10.0.0.2'}
    follower, leader = {}, {}
    monitor.server_incidents(follower, CONFIG, dead, {}, 100, leader=False)
    monitor.server_incidents(leader, CONFIG, dead, {}, 100, leader=True)
    assert follower == {} and incidents.open_keys(leader) == ['server:c']
    assert 'server c (10.0.0.4) is down' == leader['server:c']['summary']
    back = {'dead': [], 'alive': ['10.0.0.2', '10.0.0.3', '10.0.0.4'], 'leader': '10.0.0.2'}
    monitor.server_incidents(leader, CONFIG, back, {}, 200, leader=False)   # no longer the leader: still resolves
    assert incidents.open_keys(leader) == []


def test_a_silent_monitor_and_a_dead_engine_are_incidents():
    alive = {'dead': [], 'alive': ['10.0.0.2', '10.0.0.3', '10.0.0.4'], 'leader': '10.0.0.2'}
    answers = {'10.0.0.3': {'answered': True, 'monitor_at': 0, 'docker': False}}
    found = {}
    monitor.server_incidents(found, CONFIG, alive, answers, monitor.SILENT_SECONDS + 1, leader=True)
    assert incidents.open_keys(found) == ['docker:b', 'monitor:b']
