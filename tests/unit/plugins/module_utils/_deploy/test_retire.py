# SPDX-License-Identifier: GPL-3.0-or-later
"""Retiring the old slot in the background (toggle_deploy retire=background): the marker, the bounded wait, and
what cleaned, plan and started make of a container being retired."""
import os
import subprocess
import sys
import time

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import NotFound
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import retire, toggler
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import write_active


class Clock(object):
    def __init__(self, now=1000.0):
        self.now = now

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class Container(object):
    def __init__(self, name, labels):
        self.name, self.labels, self.status, self.id = name, labels, 'running', 'id-' + name
        self.attrs = {'Created': '2026-12-06T00:00:00Z', 'Image': 'sha256:img'}
        self.stopped = self.removed = False

    def stop(self, timeout=None):
        self.stopped = True

    def remove(self, force=False, v=False):
        self.removed = 'with its anonymous volumes' if v else 'leaving its anonymous volumes'


class Images(object):
    def get(self, name):
        raise NotFound('no such image')


class Client(object):
    """Containers by name or id; ``vanish_after`` lookups by id, the container is gone (its retire ended)."""

    def __init__(self, containers, vanish_after=None):
        self.found, self.vanish_after, self.lookups = dict((c.name, c) for c in containers), vanish_after, 0
        self.containers, self.images = self, Images()

    def get(self, key):
        for container in list(self.found.values()):
            if key == container.id:
                self.lookups += 1
                if self.vanish_after is not None and self.lookups > self.vanish_after:
                    del self.found[container.name]
                    break
                return container
            if key == container.name:
                return container
        raise NotFound('no such container')


def params(tmp_path, **given):
    base = {'user': 'u1', 'project': 'myapp', 'env': 'prod', 'service': 'api', 'state': 'cleaned',
            'image': 'u1_myapp_prod_api:2', 'container_port': 8000, 'host_port': 8357, 'secondary_port': 18357,
            'state_dir': str(tmp_path), 'version': '2', 'retire': 'background', 'drain_seconds': 1}
    base.update(given)
    return ArgumentSpecValidator(toggler.TOGGLE_OPTIONS).validate(base).validated_parameters


def serving_and_old(tmp_path):
    new = Container('u1_myapp_prod_api_secondary', {'fleet.config_hash': 'h2', 'fleet.version': '2'})
    old = Container('u1_myapp_prod_api', {'fleet.config_hash': 'h1', 'fleet.version': '1'})
    write_active(str(tmp_path), 'api', {'slot': 'secondary', 'config_hash': 'h2', 'version': '2'})
    return new, old


def test_the_marker_names_one_container_until_its_deadline(tmp_path):
    clock = Clock()
    assert not retire.is_retiring(str(tmp_path), 'api', 'c1', clock)
    retire.write_marker(str(tmp_path), 'api', 'c1', retire.deadline(1, 10, clock))
    assert retire.read_marker(str(tmp_path), 'api') == {'container_id': 'c1', 'until': 1000.0 + 1 + 10 + 30}
    assert retire.is_retiring(str(tmp_path), 'api', 'c1', clock)
    assert not retire.is_retiring(str(tmp_path), 'api', 'c2', clock)      # another container of the slot
    assert not retire.is_retiring(str(tmp_path), 'worker', 'c1', clock)
    clock.now += 41
    assert not retire.is_retiring(str(tmp_path), 'api', 'c1', clock)      # outlived: a deploy retires it again
    (tmp_path / 'api.retiring.json').write_text('not json')
    assert retire.read_marker(str(tmp_path), 'api') == {}


def test_the_wait_for_a_retire_is_bounded():
    clock, left = Clock(), [3]

    def exists():
        left[0] -= 1
        return left[0] > 0
    assert retire.wait_gone(exists, clock.now + 5, clock)
    assert not retire.wait_gone(lambda: True, clock.now + 5, clock)
    assert clock.now >= 1005


def test_cleaned_hands_the_old_container_to_a_detached_retire_and_returns(tmp_path, monkeypatch):
    spawned = []
    monkeypatch.setattr(retire, 'spawn', lambda *args, **kwargs: spawned.append(args))
    new, old = serving_and_old(tmp_path)
    result = toggler.ToggleDeployer(params(tmp_path), Client([new, old]), False).cleaned()
    assert result['action'] == 'retiring' and result['changed'] and result['previous_slot'] == 'primary'
    assert not old.stopped and not old.removed                       # nothing stopped in the module run
    assert spawned == [(old.id, 1.0, 10, params(tmp_path)['docker_host'], str(tmp_path / 'api.retiring.json'))]
    assert retire.read_marker(str(tmp_path), 'api')['container_id'] == old.id
    # a deploy meanwhile: nothing to do, and the service counts as settled
    again = toggler.ToggleDeployer(params(tmp_path), Client([new, old]), False).cleaned()
    assert again['action'] == 'none' and not again['changed'] and len(spawned) == 1
    assert toggler.ToggleDeployer(params(tmp_path, state='started'), Client([new, old]), True).settled(
        'none', 'secondary', new)


def test_cleaned_with_retire_wait_stops_and_removes_in_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(toggler.time, 'sleep', lambda seconds: None)
    new, old = serving_and_old(tmp_path)
    result = toggler.ToggleDeployer(params(tmp_path, retire='wait'), Client([new, old]), False).cleaned()
    assert result['action'] == 'removed' and old.stopped and old.removed == 'with its anonymous volumes'
    assert retire.read_marker(str(tmp_path), 'api') == {}


def test_a_retire_past_its_deadline_is_an_old_slot_again(tmp_path, monkeypatch):
    new, old = serving_and_old(tmp_path)
    retire.write_marker(str(tmp_path), 'api', old.id, 5.0)              # long past
    assert not toggler.ToggleDeployer(params(tmp_path, state='started'), Client([new, old]), True).settled(
        'none', 'secondary', new)
    spawned = []
    monkeypatch.setattr(retire, 'spawn', lambda *args, **kwargs: spawned.append(args))
    assert toggler.ToggleDeployer(params(tmp_path), Client([new, old]), False).cleaned()['changed']
    assert len(spawned) == 1


def test_a_toggle_that_needs_the_slot_back_waits_for_its_retire(tmp_path, monkeypatch):
    new, old = serving_and_old(tmp_path)
    retire.write_marker(str(tmp_path), 'api', old.id, retire.deadline(1, 10))
    client = Client([new, old], vanish_after=2)
    waits = []
    monkeypatch.setattr(retire.time, 'sleep', waits.append)
    deployer = toggler.ToggleDeployer(params(tmp_path, state='started'), client, False)
    deployer.await_retire(old)
    assert waits and 'u1_myapp_prod_api' not in client.found             # waited until the retire removed it


def test_the_routing_run_retires_the_old_slots_it_is_given(tmp_path, monkeypatch):
    """nginx_mesh's retire (a server alone in the play): each given service's old slot is handed over once; a
    service without an old slot, or already retiring, is left; none in check mode; no recorded slot is an error."""
    spawned = []
    monkeypatch.setattr(retire, 'spawn', lambda *args, **kwargs: spawned.append(args))
    new, old = serving_and_old(tmp_path)
    worker = Container('u1_myapp_prod_worker', {'fleet.config_hash': 'w1', 'fleet.version': '2'})
    write_active(str(tmp_path), 'worker', {'slot': 'primary', 'config_hash': 'w1', 'version': '2'})
    client = Client([new, old, worker])
    ids = ('u1', 'myapp', 'prod')
    assert retire.retire_old_slots(client, ids, ['api', 'worker'], str(tmp_path), 1, 10, None, check_mode=True) == ['api']
    assert spawned == [] and retire.read_marker(str(tmp_path), 'api') == {}
    assert retire.retire_old_slots(client, ids, ['api', 'worker'], str(tmp_path), 1, 10, None) == ['api']
    assert spawned == [(old.id, 1.0, 10, None, str(tmp_path / 'api.retiring.json'))]
    assert retire.read_marker(str(tmp_path), 'api')['container_id'] == old.id
    assert retire.retire_old_slots(client, ids, ['api'], str(tmp_path), 1, 10, None) == [] and len(spawned) == 1
    try:
        retire.retire_old_slots(client, ids, ['redis'], str(tmp_path), 1, 10, None)
    except ValueError as exc:
        assert 'redis: no promoted slot is recorded' in str(exc) and 'fix: deploy again' in str(exc)
    else:
        raise AssertionError('a service without a recorded slot must be refused')


def run_detached_retire(tmp_path, go_timeout, before_wait=None):
    """The real detached program, for a container on an engine that is not there (so it stops nothing): returns
    when it ended (bounded)."""
    marker = retire.marker_path(str(tmp_path), 'api')
    retire.write_marker(str(tmp_path), 'api', 'c1', 2000000000.0)
    proc = subprocess.Popen([sys.executable, '-c', retire.PROGRAM, 'c1', '0', '1', 'unix:///nonexistent/docker.sock',
                             marker, retire.go_path(str(tmp_path), 'api'), str(go_timeout)])
    if before_wait:
        before_wait()
    proc.wait(timeout=30)
    return marker


def test_a_retire_that_waits_to_be_told_goes_on_when_its_go_file_is_touched(tmp_path):
    go = tmp_path / 'api.retiring.json.go'
    marker = run_detached_retire(tmp_path, 20, before_wait=go.touch)
    assert not go.exists() and not os.path.exists(marker)          # told: it went on (and took the go file)


def test_a_retire_never_told_leaves_the_container_and_an_old_go_file_is_no_go(tmp_path):
    go = tmp_path / 'api.retiring.json.go'
    go.touch()
    os.utime(str(go), (time.time() - 60, time.time() - 60))       # left by an earlier run
    started = time.monotonic()
    marker = run_detached_retire(tmp_path, 0.5)
    assert time.monotonic() - started >= 0.5                       # it waited, bounded
    assert go.exists() and not os.path.exists(marker)              # not told: the marker goes, the slot stays


def test_a_retire_handed_over_to_wait_for_its_go_has_a_later_deadline(tmp_path, monkeypatch):
    spawned = []
    monkeypatch.setattr(retire, 'spawn', lambda *args, **kwargs: spawned.append((args, kwargs)))
    monkeypatch.setattr(retire.time, 'time', lambda: 1000.0)
    new, old = serving_and_old(tmp_path)
    assert retire.retire_old_slots(Client([new, old]), ('u1', 'myapp', 'prod'), ['api'], str(tmp_path), 1, 10, None,
                                   go_timeout=300) == ['api']
    assert retire.read_marker(str(tmp_path), 'api') == {'container_id': old.id, 'until': 1000.0 + 1 + 10 + 30 + 300}
    assert spawned[0][1] == {'go': str(tmp_path / 'api.retiring.json.go'), 'go_timeout': 300}
