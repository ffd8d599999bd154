# SPDX-License-Identifier: GPL-3.0-or-later
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.filter.async_results import async_results


def test_results_get_their_original_items_back():
    waited = [
        {'item': {'ansible_job_id': 'j1', 'item': 'api', 'ansible_loop_var': 'item'}, 'ansible_job_id': 'j1',
         'finished': 1, 'changed': True, 'action': 'started', 'active_slot': 'secondary', 'attempts': 3},
        {'item': {'ansible_job_id': 'j2', 'item': 'worker', 'ansible_loop_var': 'item'}, 'ansible_job_id': 'j2',
         'finished': 1, 'failed': True, 'msg': 'health check failed', 'error_lines': ['x']},
    ]
    assert async_results(waited) == [
        {'item': 'api', 'changed': True, 'action': 'started', 'active_slot': 'secondary'},
        {'item': 'worker', 'failed': True, 'msg': 'health check failed', 'error_lines': ['x']},
    ]


def test_ok_key_tells_the_failed_jobs_of_a_failed_when_false_wait():
    waited = [
        {'item': {'ansible_job_id': 'j1', 'item': 'api', 'ansible_loop_var': 'item'}, 'finished': 1,
         'failed': False, 'failed_when_result': False, 'action': 'started'},
        {'item': {'ansible_job_id': 'j2', 'item': 'worker', 'ansible_loop_var': 'item'}, 'finished': 1,
         'failed': False, 'failed_when_result': False, 'msg': 'worker: health check failed'},
    ]
    assert async_results(waited, ok_key='action') == [
        {'item': 'api', 'failed': False, 'action': 'started'},
        {'item': 'worker', 'failed': True, 'msg': 'worker: health check failed'},
    ]


def test_wrong_input_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match='async_status'):
        async_results([{'changed': True}])
