# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.vpc_peering against the stateful fake pydo client, with VPC peerings added."""
import uuid

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.fleet import peering_name
from ansible_collections.projectdeployer.fleet.plugins.modules import vpc_peering as mod

from do_fake import NOT_FOUND, FakeClock, FakeDO, _answer, _Group, _paged, _public, run_module

NAME = 'fleet-u1-lon1-nyc1'


class VpcPeerings(_Group):
    """pydo's ``vpc_peerings``: 202 on create and delete; PROVISIONING -> ACTIVE, DELETING -> gone as it is read."""

    def _log(self, op, **what):
        self.world.calls.append(('vpc_peerings', op, what))

    def list(self, per_page=20, page=1, region=None, **kwargs):
        items = [_public(p) for p in sorted(self.world.peerings_db.values(), key=lambda p: p['created_at'])]
        return _answer(200, _paged(self.world, 'vpc_peerings', items, page, per_page, 'vpc_peerings'), kwargs)

    def get(self, vpc_peering_id, **kwargs):
        self._log('get', id=vpc_peering_id)
        self.world.peering_tick()
        p = self.world.peerings_db.get(vpc_peering_id)
        return _answer(200, {'vpc_peering': _public(p)}, kwargs) if p else _answer(404, dict(NOT_FOUND), kwargs)

    def _conflict(self, name, pair, own_id=None):
        for p in self.world.peerings_db.values():
            if p['id'] != own_id and (p['name'] == name or (pair and sorted(p['vpc_ids']) == sorted(pair))):
                return {'id': 'conflict', 'message': 'a VPC peering with this name or these VPCs already exists'}
        return None

    def create(self, body, **kwargs):
        self._log('create', body=body)
        missing = [v for v in body['vpc_ids'] if v not in self.world.vpcs_db]
        if missing:
            return _answer(404, {'id': 'not_found', 'message': 'vpc %s not found' % missing[0]}, kwargs)
        conflict = self._conflict(body['name'], body['vpc_ids'])
        if conflict:
            return _answer(409, conflict, kwargs)
        peering_id = str(uuid.UUID(int=0xbeef0000 + len(self.world.calls)))
        p = dict(id=peering_id, name=body['name'], vpc_ids=list(body['vpc_ids']), status='PROVISIONING',
                 created_at='2026-02-01T00:00:%02dZ' % (len(self.world.peerings_db) % 60), _age=0)
        self.world.peerings_db[peering_id] = p
        return _answer(202, {'vpc_peering': _public(p)}, kwargs)

    def patch(self, vpc_peering_id, body, **kwargs):
        self._log('patch', id=vpc_peering_id, body=body)
        p = self.world.peerings_db.get(vpc_peering_id)
        if not p:
            return _answer(404, dict(NOT_FOUND), kwargs)
        conflict = self._conflict(body['name'], None, own_id=vpc_peering_id)
        if conflict:
            return _answer(409, conflict, kwargs)
        p['name'] = body['name']
        return _answer(200, {'vpc_peering': _public(p)}, kwargs)

    def delete(self, vpc_peering_id, **kwargs):
        self._log('delete', id=vpc_peering_id)
        p = self.world.peerings_db.get(vpc_peering_id)
        if not p:
            return _answer(404, dict(NOT_FOUND), kwargs)
        if p['status'] == 'PROVISIONING':
            return _answer(409, {'id': 'conflict', 'message': 'the VPC peering is being provisioned'}, kwargs)
        p.update(status='DELETING', _age=0)
        return _answer(202, {'vpc_peering': _public(p)}, kwargs)


class FakePeeringDO(FakeDO):
    """FakeDO with two VPCs (lon1, nyc1) and VPC peerings; ``peering_after`` reads to settle (None: never)."""

    def __init__(self, peering_after=2, **kwargs):
        super(FakePeeringDO, self).__init__(**kwargs)
        self.peering_after = peering_after
        self.peerings_db = {}
        self.vpc_peerings = VpcPeerings(self)
        self.lon1 = self.vpcs.create(dict(name='fleet-lon1', region='lon1'))['vpc']['id']
        self.nyc1 = self.vpcs.create(dict(name='fleet-nyc1', region='nyc1'))['vpc']['id']
        self.fra1 = self.vpcs.create(dict(name='fleet-fra1', region='fra1'))['vpc']['id']
        self.calls = []

    def peering_tick(self):
        if self.peering_after is None:
            return
        for key, p in list(self.peerings_db.items()):
            if p['status'] in ('PROVISIONING', 'DELETING'):
                p['_age'] += 1
                if p['_age'] >= self.peering_after:
                    if p['status'] == 'DELETING':
                        del self.peerings_db[key]
                    else:
                        p['status'] = 'ACTIVE'

    def add_peering(self, a, b, name, status='ACTIVE'):
        peering_id = str(uuid.UUID(int=0xfeed0000 + len(self.peerings_db)))
        self.peerings_db[peering_id] = dict(id=peering_id, name=name, vpc_ids=[a, b], status=status, _age=0,
                                            created_at='2026-01-01T00:00:%02dZ' % len(self.peerings_db))
        return peering_id


def args(fake, reverse=False, **extra):
    ids = [fake.nyc1, fake.lon1] if reverse else [fake.lon1, fake.nyc1]
    return dict(dict(vpc_ids=ids), **extra)


def pair(fake):
    return sorted([fake.lon1, fake.nyc1])


# ---------------------------------------------------------------- present

def test_created_waiting_through_provisioning_then_reused_in_the_other_order(monkeypatch):
    fake = FakePeeringDO()
    fake.add_peering(fake.lon1, fake.fra1, 'other-1')
    fake.add_peering(fake.nyc1, fake.fra1, 'other-2')
    fake.add_peering(fake.fra1, fake.lon1.upper(), 'other-3')    # not ours, and the list has two pages
    check = run_module(mod, args(fake, name=NAME), fake, monkeypatch, check_mode=True, diff=True)
    assert check['changed'] is True and not fake.ops('vpc_peerings', 'create')
    assert check['vpc_peering'] == dict(id=None, name=NAME, vpc_ids=pair(fake), status=None)
    assert check['diff'] == dict(before={}, after=check['vpc_peering'])

    clock = FakeClock()
    result = run_module(mod, args(fake, name=NAME), fake, monkeypatch, diff=True, clock=clock)
    assert result['changed'] is True and not result['failed']
    peering = result['vpc_peering']
    assert peering['name'] == NAME and peering['status'] == 'ACTIVE' and peering['vpc_ids'] == pair(fake)
    assert peering['id'] in fake.peerings_db and fake.peerings_db[peering['id']]['status'] == 'ACTIVE'
    assert fake.ops('vpc_peerings', 'create')[0][2]['body'] == dict(name=NAME, vpc_ids=pair(fake))
    assert len(fake.ops('vpc_peerings', 'get')) == 2 and clock.sleeps == [5.0]     # waited through PROVISIONING
    assert result['diff']['before'] == {} and result['diff']['after'] == peering
    assert 'diff' not in run_module(mod, args(fake, name=NAME), fake, monkeypatch)

    again = run_module(mod, args(fake, reverse=True, name=NAME), fake, monkeypatch, diff=True)
    assert again['changed'] is False and again['vpc_peering'] == peering
    assert again['diff']['before'] == again['diff']['after']
    assert len(fake.ops('vpc_peerings', 'create')) == 1 and not fake.ops('vpc_peerings', 'patch')


def test_default_name_is_derived_from_the_sorted_pair(monkeypatch):
    fake = FakePeeringDO()
    result = run_module(mod, args(fake, reverse=True), fake, monkeypatch)
    assert result['changed'] is True and result['vpc_peering']['name'] == peering_name(pair(fake))
    assert result['vpc_peering']['name'].startswith('fleet-peering-')
    assert run_module(mod, args(fake), fake, monkeypatch)['changed'] is False


def test_renamed_only_when_a_name_is_given(monkeypatch):
    fake = FakePeeringDO()
    peering_id = fake.add_peering(fake.nyc1, fake.lon1, 'hand-made')
    kept = run_module(mod, args(fake), fake, monkeypatch)
    assert kept['changed'] is False and kept['vpc_peering']['name'] == 'hand-made'
    assert kept['vpc_peering']['id'] == peering_id and not fake.ops('vpc_peerings', 'patch')

    check = run_module(mod, args(fake, name=NAME), fake, monkeypatch, check_mode=True, diff=True)
    assert check['changed'] is True and check['vpc_peering']['name'] == NAME
    assert check['diff']['before']['name'] == 'hand-made' and not fake.ops('vpc_peerings', 'patch')

    renamed = run_module(mod, args(fake, name=NAME), fake, monkeypatch)
    assert renamed['changed'] is True and renamed['vpc_peering']['id'] == peering_id
    assert fake.ops('vpc_peerings', 'patch')[0][2] == dict(id=peering_id, body=dict(name=NAME))
    assert fake.peerings_db[peering_id]['name'] == NAME and len(fake.peerings_db) == 1
    assert run_module(mod, args(fake, name=NAME), fake, monkeypatch)['changed'] is False


def test_wait_false_returns_while_provisioning(monkeypatch):
    fake = FakePeeringDO()
    clock = FakeClock()
    result = run_module(mod, args(fake, name=NAME, wait=False), fake, monkeypatch, clock=clock)
    assert result['changed'] is True and result['vpc_peering']['status'] == 'PROVISIONING'
    assert not fake.ops('vpc_peerings', 'get') and clock.sleeps == []


def test_an_existing_provisioning_peering_is_waited_for(monkeypatch):
    fake = FakePeeringDO(peering_after=3)
    peering_id = fake.add_peering(fake.lon1, fake.nyc1, NAME, status='PROVISIONING')
    check = run_module(mod, args(fake, name=NAME), fake, monkeypatch, check_mode=True)
    assert check['changed'] is False and check['vpc_peering']['status'] == 'PROVISIONING'
    assert not fake.ops('vpc_peerings', 'get')
    result = run_module(mod, args(fake, reverse=True, name=NAME), fake, monkeypatch)
    assert result['changed'] is False and result['vpc_peering']['status'] == 'ACTIVE'
    assert result['vpc_peering']['id'] == peering_id and len(fake.ops('vpc_peerings', 'get')) == 3


def test_a_deleting_peering_of_the_pair_is_waited_out_then_created_again(monkeypatch):
    fake = FakePeeringDO()
    old_id = fake.add_peering(fake.nyc1, fake.lon1, NAME, status='DELETING')
    check = run_module(mod, args(fake, name=NAME), fake, monkeypatch, check_mode=True, diff=True)
    assert check['changed'] is True and check['vpc_peering']['id'] is None
    assert check['diff']['before']['status'] == 'DELETING'
    assert not fake.ops('vpc_peerings', 'get') and not fake.ops('vpc_peerings', 'create')
    result = run_module(mod, args(fake, name=NAME, wait=False), fake, monkeypatch)   # the old one is waited for
    assert result['changed'] is True and result['vpc_peering']['id'] != old_id and old_id not in fake.peerings_db
    ops = [c[1] for c in fake.ops('vpc_peerings')]
    assert ops == ['get', 'get', 'create']


def test_a_name_used_by_another_pair_is_refused(monkeypatch):
    fake = FakePeeringDO()
    other = fake.add_peering(fake.lon1, fake.fra1, NAME)
    result = run_module(mod, args(fake, name=NAME), fake, monkeypatch)
    assert result['failed'] and not fake.ops('vpc_peerings', 'create')
    assert result['msg'].startswith('the name %s is already taken by the VPC peering %s' % (NAME, other))
    assert 'fix: give another name' in result['msg']
    fake.add_peering(fake.lon1, fake.nyc1, 'mine')
    rename = run_module(mod, args(fake, name=NAME), fake, monkeypatch)
    assert rename['failed'] and 'already taken' in rename['msg'] and not fake.ops('vpc_peerings', 'patch')


# ---------------------------------------------------------------- absent

def test_absent_deletes_and_waits_until_gone(monkeypatch):
    fake = FakePeeringDO()
    run_module(mod, args(fake, name=NAME), fake, monkeypatch)
    peering_id = list(fake.peerings_db)[0]
    check = run_module(mod, args(fake, reverse=True, state='absent'), fake, monkeypatch, check_mode=True, diff=True)
    assert check['changed'] is True and check['vpc_peering'] == {} and peering_id in fake.peerings_db
    assert check['diff']['before']['id'] == peering_id and check['diff']['after'] == {}
    assert not fake.ops('vpc_peerings', 'delete')
    gone = run_module(mod, args(fake, reverse=True, state='absent'), fake, monkeypatch)
    assert gone['changed'] is True and gone['vpc_peering'] == {} and fake.peerings_db == {}
    assert fake.ops('vpc_peerings', 'delete')[0][2] == dict(id=peering_id)
    again = run_module(mod, args(fake, state='absent'), fake, monkeypatch)
    assert again['changed'] is False and len(fake.ops('vpc_peerings', 'delete')) == 1


def test_absent_without_wait_and_of_a_peering_already_deleting(monkeypatch):
    fake = FakePeeringDO()
    peering_id = fake.add_peering(fake.lon1, fake.nyc1, NAME)
    result = run_module(mod, args(fake, state='absent', wait=False), fake, monkeypatch)
    assert result['changed'] is True and fake.peerings_db[peering_id]['status'] == 'DELETING'
    assert not fake.ops('vpc_peerings', 'get')
    deleting = run_module(mod, args(fake, state='absent'), fake, monkeypatch)
    assert deleting['changed'] is False and fake.peerings_db == {}
    assert len(fake.ops('vpc_peerings', 'delete')) == 1


def test_absent_lets_a_provisioning_peering_settle_before_deleting(monkeypatch):
    fake = FakePeeringDO()
    fake.add_peering(fake.lon1, fake.nyc1, NAME, status='PROVISIONING')
    result = run_module(mod, args(fake, state='absent'), fake, monkeypatch)
    assert result['changed'] is True and not result['failed'] and fake.peerings_db == {}


# ---------------------------------------------------------------- errors and bounds

@pytest.mark.parametrize('extra, words', [
    (dict(vpc_ids=['00000000-0000-0000-0000-000000000001']), 'vpc_ids must be exactly two VPC UUIDs, got 1'),
    (dict(vpc_ids=['00000000-0000-0000-0000-000000000001'] * 2), 'vpc_ids names the VPC'),
    (dict(vpc_ids=['fleet-lon1', 'fleet-nyc1']), "vpc_ids: 'fleet-lon1' is not a VPC UUID"),
    (dict(name='fleet.lon1.nyc1'), "name 'fleet.lon1.nyc1' is not a VPC peering name"),
    (dict(name='fleet_u1'), "name 'fleet_u1' is not a VPC peering name"),
    (dict(wait_timeout=-1), 'wait_timeout must be 0 or more seconds'),
])
def test_bad_input_is_refused_in_one_line_before_any_request(monkeypatch, extra, words):
    fake = FakePeeringDO()
    result = run_module(mod, args(fake, **extra), fake, monkeypatch)
    assert result['failed'] and words in result['msg'] and '\n' not in result['msg']
    assert fake.calls == []


def test_wait_is_bounded_by_wait_timeout(monkeypatch):
    fake = FakePeeringDO(peering_after=None)        # never settles
    clock = FakeClock()
    result = run_module(mod, args(fake, name=NAME, wait_timeout=20), fake, monkeypatch, clock=clock)
    assert result['failed'] and '\n' not in result['msg']
    assert 'is still PROVISIONING, not ACTIVE, after wait_timeout (20 s); fix: raise wait_timeout' in result['msg']
    assert NAME in result['msg'] and clock.now <= 20 and len(fake.ops('vpc_peerings', 'get')) == 5


def test_one_budget_for_waiting_out_a_deletion_and_the_new_peering(monkeypatch):
    fake = FakePeeringDO(peering_after=None)
    fake.add_peering(fake.lon1, fake.nyc1, NAME, status='DELETING')
    clock = FakeClock()
    stuck = run_module(mod, args(fake, name=NAME, wait_timeout=12), fake, monkeypatch, clock=clock)
    assert stuck['failed'] and 'is still DELETING, not gone, after wait_timeout (12 s)' in stuck['msg']
    assert clock.now <= 12 and not fake.ops('vpc_peerings', 'create')

    fake = FakePeeringDO(peering_after=2)
    fake.add_peering(fake.lon1, fake.nyc1, NAME, status='DELETING')
    clock = FakeClock()
    orig = fake.peering_tick

    def slow_create_tick():     # the old one goes after 2 reads; the new one never settles
        orig()
        fake.peering_after = None if fake.ops('vpc_peerings', 'create') else 2
    monkeypatch.setattr(fake, 'peering_tick', slow_create_tick)
    both = run_module(mod, args(fake, name=NAME, wait_timeout=12), fake, monkeypatch, clock=clock)
    assert both['failed'] and 'still PROVISIONING' in both['msg'] and fake.ops('vpc_peerings', 'create')
    assert clock.now <= 12


def test_api_errors_are_one_line_with_the_fix(monkeypatch):
    fake = FakePeeringDO()
    missing = '11111111-2222-3333-4444-555555555555'
    result = run_module(mod, dict(vpc_ids=[fake.lon1, missing], name=NAME), fake, monkeypatch)
    assert result['failed'] and result['status'] == 404 and '\n' not in result['msg']
    assert result['msg'].startswith('DigitalOcean API: create VPC peering %s' % NAME)
    assert 'vpc %s not found' % missing in result['msg'] and '; fix: ' in result['msg']
    assert len(fake.ops('vpc_peerings', 'create')) == 1       # a create is never repeated blindly


def test_a_peering_that_vanishes_while_provisioning_is_an_error(monkeypatch):
    fake = FakePeeringDO(peering_after=None)
    orig = fake.vpc_peerings.create

    def create_then_vanish(body, **kwargs):
        answer = orig(body, **kwargs)
        fake.peerings_db.clear()
        return answer
    monkeypatch.setattr(fake.vpc_peerings, 'create', create_then_vanish)
    result = run_module(mod, args(fake, name=NAME), fake, monkeypatch)
    assert result['failed'] and 'disappeared while it was being set up' in result['msg']


def test_in_the_fleet_action_group():
    import os
    import yaml
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, '..', '..', '..', '..', 'meta', 'runtime.yml')) as handle:
        runtime = yaml.safe_load(handle)
    assert 'vpc_peering' in runtime['action_groups']['fleet']
