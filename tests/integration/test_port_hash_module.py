# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.port_hash by FQCN: check mode, real run, idempotency, collisions."""
import contextlib
import json
import os
import socket
import stat

import pytest

from helpers import run_playbook, task_results
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.ports import hashed_host_port

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: ports
      projectdeployer.fleet.port_hash:
        user: u1
        project: myapp
        env: prod
        service: api
        container_port: 8000
        state_file: "{{ state_file }}"
        avoid_bound: "{{ avoid | default(omit) }}"
"""


def _run(tmp_path, *args):
    play = tmp_path / 'play.yml'
    play.write_text(PLAY)
    proc = run_playbook(str(play), '-e', 'state_file=%s' % (tmp_path / 'state' / 'ports.json'), *args,
                        json_output=True)
    assert proc.returncode in (0, 2), proc.stderr
    return task_results(proc, 'ports')['localhost']


def test_check_then_real_then_idempotent(tmp_path):
    state = tmp_path / 'state' / 'ports.json'
    checked = _run(tmp_path, '--check')
    assert checked['changed'] is True and not state.exists()
    first = _run(tmp_path)
    assert first['changed'] is True
    assert first['host_port'] == hashed_host_port('u1', 'myapp', 'prod', 'api', 8000) == checked['host_port']
    assert first['secondary_port'] == first['host_port'] + 10000
    assert 5000 <= first['internal_port'] <= 5999 and first['collision'] is False
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state.parent).st_mode) == 0o700
    second = _run(tmp_path)
    assert second['changed'] is False
    assert (second['host_port'], second['internal_port']) == (first['host_port'], first['internal_port'])


def test_collision_is_resolved_and_kept(tmp_path):
    hashed = hashed_host_port('u1', 'myapp', 'prod', 'api', 8000)
    state = tmp_path / 'state' / 'ports.json'
    state.parent.mkdir(mode=0o700)
    state.write_text(json.dumps({'version': 1, 'host': {'u2_shop_prod_db_5432': hashed}, 'internal': {}}))
    first = _run(tmp_path)
    assert first['collision'] is True and first['host_port_hashed'] == hashed
    assert first['host_port'] == 8000 + (hashed - 8000 + 1) % 1000
    saved = json.loads(state.read_text())
    assert saved['host']['u2_shop_prod_db_5432'] == hashed
    assert saved['host']['u1_myapp_prod_api_8000'] == first['host_port']
    again = _run(tmp_path)
    assert again['changed'] is False and again['host_port'] == first['host_port']


def test_bad_id_is_one_clear_error(tmp_path):
    play = tmp_path / 'bad.yml'
    play.write_text(PLAY.replace('service: api', 'service: nginx'))
    proc = run_playbook(str(play), '-e', 'state_file=%s' % (tmp_path / 'p.json'), json_output=True)
    assert proc.returncode == 2
    res = task_results(proc, 'ports')['localhost']
    assert res['failed'] and 'reserved' in res['msg'] and 'Traceback' not in res.get('module_stderr', '')


def test_a_port_bound_on_the_host_is_skipped_by_a_new_reservation(tmp_path):
    """Another program, or another fleet root's tenant on the same engine, holds the hashed port: skip it."""
    hashed = hashed_host_port('u1', 'myapp', 'prod', 'api', 8000)
    with contextlib.closing(socket.socket()) as holder:
        try:
            holder.bind(('127.0.0.1', hashed))
        except OSError:
            pytest.skip('port %d is in use on this machine already' % hashed)
        holder.listen(1)
        first = _run(tmp_path, '-e', 'avoid=127.0.0.1')
    assert first['changed'] is True and first['host_port'] != hashed and first['collision'] is True
    # recorded: it stays, bound or not
    again = _run(tmp_path, '-e', 'avoid=127.0.0.1')
    assert again['changed'] is False and again['host_port'] == first['host_port']
