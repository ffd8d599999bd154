# SPDX-License-Identifier: GPL-3.0-or-later
"""A failed startup group as one block."""
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.failure import failure_lines, failure_summary

API_FAILED = {'item': 'api', 'failed': True,
              'msg': 'api: health check failed for u1_myapp_prod_api_secondary (GET http://172.17.0.1:18160/health '
                     'failed: [Errno 111] Connection refused); the new version was removed and u1_myapp_prod_api '
                     'keeps serving',
              'error_lines': [u'\u26a0\ufe0f  ERROR LINES DETECTED:', u'\u274c Traceback (most recent call last):',
                              u'\u274c RuntimeError: FAIL_ON_START=1']}
WORKER_DISCARDED = {'item': 'worker', 'failed': False, 'action': 'started', 'previous_slot': 'primary'}


def test_one_block_in_order():
    lines = failure_lines([API_FAILED, WORKER_DISCARDED], 2, ['api', 'worker'],
                          logs_hint='ansible-playbook playbooks/logs.yml -e fleet_service=SERVICE')
    assert lines == [
        'DEPLOY FAILED in startup group 2 (api, worker): no service of the group was switched',
        '- ' + API_FAILED['msg'],
        u'    \u26a0\ufe0f  ERROR LINES DETECTED:',
        u'    \u274c Traceback (most recent call last):',
        u'    \u274c RuntimeError: FAIL_ON_START=1',
        '- worker: started and passed its check, then discarded with its group; its previous version keeps serving',
        'fix: correct what the lines above show, then deploy again; all of a service\'s logs: '
        'ansible-playbook playbooks/logs.yml -e fleet_service=api',
    ]
    assert failure_summary([API_FAILED, WORKER_DISCARDED], 2) == (
        'startup group 2 failed: api (the block above says why and what serves)')


def test_a_first_deploy_says_nothing_serves():
    first = dict(WORKER_DISCARDED, previous_slot=None)
    lines = failure_lines([API_FAILED, first], 1)
    assert lines[-2].endswith('nothing served it before this deploy, so nothing serves it now')
    assert lines[-1] == 'fix: correct what the lines above show, then deploy again'


def test_a_broken_run_without_results():
    lines = failure_lines([], 3, ['api'], error='the wait for api timed out')
    assert lines == ['DEPLOY FAILED in startup group 3 (api): no service of the group was switched',
                     '- the wait for api timed out', 'fix: correct what the lines above show, then deploy again']
    assert failure_summary([], 3, 'the wait for api timed out') == 'startup group 3 failed: the wait for api timed out'
