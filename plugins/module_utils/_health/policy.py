# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When a server heals one of its own containers (pure): docs/health.md "Healing a container".

The container that should serve (the recorded slot of a service, with the recorded configuration) is
observed as ``{'exists', 'status', 'restart_count', 'config_hash', 'healthy'}``; :func:`decide` turns that
and the service's heal state into one action:

- ``recreate`` (no container), ``start`` (exited, created or dead: Docker's restart policy does not start
  a killed or stopped container), ``restart`` (running but failing its check ``FAILED_CHECKS`` times in a
  row); each counts against the budget and waits its backoff (the first at once, then 10 s doubling to
  5 min after each);
- ``fail``: over the budget (``BUDGET`` restarts in ``BUDGET_WINDOW`` s, Docker's own restarts of a
  crashing container included): stop it, mark the service failed, open an incident; nothing more is
  done for it until a deploy gives it a new configuration (or the same one anew);
- ``wait`` (a backoff runs), ``none``.
"""

from __future__ import annotations

BACKOFF_START = 10
BACKOFF_MAX = 300
BUDGET = 5
BUDGET_WINDOW = 600
FAILED_CHECKS = 3
DOWN = ('exited', 'created', 'dead')


LIMITS = {'backoff_start': BACKOFF_START, 'backoff_max': BACKOFF_MAX, 'budget': BUDGET, 'window': BUDGET_WINDOW}


def backoff(restarts, limits=None):
    """Seconds to wait after the ``restarts``-th restart of a window before the next one."""
    limits = dict(LIMITS, **(limits or {}))
    if restarts <= 0:
        return 0
    return min(limits['backoff_start'] * 2 ** (restarts - 1), limits['backoff_max'])


def new_state(config_hash, deployed_at=None):
    return {'config_hash': config_hash, 'deployed_at': deployed_at, 'restarts': [], 'failed': False,
            'failed_checks': 0, 'docker_restarts': None, 'next_at': 0, 'reason': ''}


def _problem(observed, state):
    if not observed.get('exists'):
        return 'recreate', 'its container is missing'
    status = observed.get('status')
    if status in DOWN:
        return 'start', 'its container is %s' % status
    if status == 'running' and observed.get('healthy') is False and state['failed_checks'] >= FAILED_CHECKS:
        return 'restart', 'it failed its health check %d times in a row' % state['failed_checks']
    return None, ''


def decide(observed, state, now, expected_hash, deployed_at=None, limits=None):
    """``(action, reason, state)`` for the service whose recorded configuration is ``expected_hash``
    (``limits``: LIMITS to change, as the tests' shorter backoff)."""
    limits = dict(LIMITS, **(limits or {}))
    budget, window = limits['budget'], limits['window']
    if (state is None or state.get('config_hash') != expected_hash
            or (deployed_at and state.get('deployed_at') != deployed_at)):
        state = new_state(expected_hash, deployed_at)   # a deploy starts the budget over
    state = dict(state, restarts=[t for t in state['restarts'] if t > now - window])
    count = observed.get('restart_count')
    if observed.get('exists') and count is not None:
        seen = state.get('docker_restarts')
        if seen is not None and count > seen:
            state['restarts'] = state['restarts'] + [now] * min(count - seen, budget + 1)
        state['docker_restarts'] = count
    if observed.get('exists') and observed.get('status') == 'running':
        healthy = observed.get('healthy')
        state['failed_checks'] = state['failed_checks'] + 1 if healthy is False else 0
    if state['failed']:
        if observed.get('exists') and observed.get('status') in ('running', 'restarting'):
            return 'fail', state['reason'], state   # still crashing under Docker's policy: stop it again
        return 'none', state['reason'], state
    if observed.get('status') == 'restarting' and len(state['restarts']) > budget:
        reason = 'it crashed %d times in %d minutes' % (len(state['restarts']), window // 60)
        return 'fail', reason, dict(state, failed=True, reason=reason)
    action, reason = _problem(observed, state)
    if action is None:
        return 'none', '', state
    if len(state['restarts']) >= budget:
        reason = '%s after %d restarts in %d minutes' % (reason, len(state['restarts']), window // 60)
        return 'fail', reason, dict(state, failed=True, reason=reason)
    if now < state['next_at']:
        return 'wait', reason, state
    restarts = state['restarts'] + [now]
    return action, reason, dict(state, restarts=restarts, next_at=now + backoff(len(restarts), limits), failed_checks=0)
