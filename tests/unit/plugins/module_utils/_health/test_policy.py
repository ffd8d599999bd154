# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import policy

RUNNING = {'exists': True, 'status': 'running', 'restart_count': 0, 'healthy': True}
GONE = {'exists': False}


def test_backoff_doubles_from_ten_seconds_to_five_minutes():
    assert [policy.backoff(n) for n in range(7)] == [0, 10, 20, 40, 80, 160, 300]


def test_healthy_container_needs_nothing():
    action, reason, state = policy.decide(RUNNING, None, 100, 'h1')
    assert (action, reason) == ('none', '') and state['restarts'] == []


def test_missing_container_is_recreated_at_once_then_with_backoff():
    action, reason, state = policy.decide(GONE, None, 100, 'h1')
    assert (action, reason) == ('recreate', 'its container is missing')
    assert policy.decide(GONE, state, 105, 'h1')[0] == 'wait'
    action, dummy, state = policy.decide(GONE, state, 110, 'h1')
    assert action == 'recreate' and state['next_at'] == 130


def test_killed_container_is_started():
    action, reason, dummy = policy.decide(dict(RUNNING, status='exited'), None, 0, 'h1')
    assert (action, reason) == ('start', 'its container is exited')


def test_three_failed_checks_in_a_row_restart_it():
    state = None
    actions = []
    for t in range(4):
        action, dummy, state = policy.decide(dict(RUNNING, healthy=False), state, t, 'h1')
        actions.append(action)
    assert actions == ['none', 'none', 'restart', 'none']
    # a good check in between starts the count over
    state = policy.decide(dict(RUNNING, healthy=False), None, 0, 'h1')[2]
    state = policy.decide(RUNNING, state, 1, 'h1')[2]
    assert state['failed_checks'] == 0


def test_budget_stops_restarting_and_a_deploy_starts_it_over():
    state, now = None, 0
    for dummy in range(policy.BUDGET):
        action, dummy_reason, state = policy.decide(dict(RUNNING, status='exited'), state, now, 'h1')
        assert action == 'start'
        now = state['next_at']
    action, reason, state = policy.decide(dict(RUNNING, status='exited'), state, now, 'h1')
    assert action == 'fail' and state['failed'] and '5 restarts in 10 minutes' in reason
    assert policy.decide(dict(RUNNING, status='exited'), state, now + 1, 'h1')[0] == 'none'
    assert policy.decide(dict(RUNNING, status='exited'), state, now + 1, 'h2')[0] == 'start'


def test_docker_restarts_of_a_crash_loop_count_against_the_budget():
    state = policy.decide(dict(RUNNING, restart_count=3), None, 0, 'h1')[2]
    action, reason, state = policy.decide(dict(RUNNING, status='restarting', restart_count=9), state, 5, 'h1')
    assert action == 'fail' and reason == 'it crashed 6 times in 10 minutes'
    # Docker restarts it again before it was stopped: stop it again, no new incident
    assert policy.decide(dict(RUNNING, status='restarting', restart_count=10), state, 6, 'h1')[0] == 'fail'


def test_restarts_leave_the_window():
    state = policy.decide(dict(RUNNING, status='exited'), None, 0, 'h1')[2]
    state = policy.decide(RUNNING, state, policy.BUDGET_WINDOW + 1, 'h1')[2]
    assert state['restarts'] == []
