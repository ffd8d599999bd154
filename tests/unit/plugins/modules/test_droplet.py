# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.droplet against a stateful fake pydo client (no network)."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.modules import droplet as mod

from do_fake import FakeDO, run_module

BASE = dict(user='u1', project='myapp', env='prod', service='api', zone='lon1')
TAG = 'fleet-service:u1_myapp_prod_api'


def run(fake, monkeypatch, **args):
    check = args.pop('check_mode', False)
    diff = args.pop('diff', False)
    return run_module(mod, dict(BASE, **args), fake, monkeypatch, check_mode=check, diff=diff)


def seed(fake, indexes, zone='lon1', service='api', status='active'):
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import droplet_name, droplet_tags
    for i in indexes:
        fake.new_droplet(droplet_name('u1', 'myapp', 'prod', service, zone, i),
                         dict(region=zone, size='s-1vcpu-1gb', tags=droplet_tags('u1', 'myapp', 'prod', service)),
                         status=status, networks=True)


def test_check_mode_reports_the_plan_and_touches_nothing(monkeypatch):
    fake = FakeDO()
    result = run(fake, monkeypatch, count=3, check_mode=True, diff=True)
    assert result['changed'] is True and not result['failed']
    names = ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-api-lon1-2', 'u1-myapp-prod-api-lon1-3']
    assert result['plan'] == dict(create=names, keep=[], destroy=[], mark=[], unmark=[], stuck=[])
    assert result['diff']['before'] == {'droplets': []}
    assert len(result['diff']['after']['droplets']) == 3
    assert fake.droplets_db == {} and not fake.ops('droplets', 'create')


def test_creates_all_in_one_request_waits_and_is_idempotent(monkeypatch):
    fake = FakeDO(activate_after=3)
    result = run(fake, monkeypatch, count=3, cpu=1, memory=2048, ssh_keys=['512189'], vpc_uuid='vpc-1')
    assert result['changed'] is True, result
    creates = fake.ops('droplets', 'create')
    assert len(creates) == 1
    body = creates[0][2]['body']
    assert body['names'] == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-api-lon1-2', 'u1-myapp-prod-api-lon1-3']
    assert body['size'] == 's-1vcpu-2gb' and body['region'] == 'lon1' and body['image'] == 'debian-12-x64'
    assert body['ssh_keys'] == [512189] and body['vpc_uuid'] == 'vpc-1'
    assert body['tags'] == ['fleet', 'fleet-user:u1', 'fleet-project:u1_myapp', 'fleet-env:u1_myapp_prod', TAG]
    assert [d['name'] for d in result['droplets']] == body['names']
    for d in result['droplets']:
        assert d['status'] == 'active' and d['public_ip'].startswith('203.0.113.')
        assert d['private_ip'].startswith('10.110.0.') and d['zone'] == 'lon1' and d['size'] == 's-1vcpu-2gb'
        assert TAG in d['tags']
    assert [d['index'] for d in result['droplets']] == [1, 2, 3]

    calls = len(fake.calls)
    again = run(fake, monkeypatch, count=3, cpu=1, memory=2048)
    assert again['changed'] is False
    assert again['plan'] == dict(create=[], keep=body['names'], destroy=[], mark=[], unmark=[], stuck=[])
    assert not [c for c in fake.calls[calls:] if c[1] != 'list']


def test_more_than_ten_are_created_ten_per_request(monkeypatch):
    fake = FakeDO()
    result = run(fake, monkeypatch, count=12, wait=False)
    assert [len(c[2]['names']) for c in fake.ops('droplets', 'create')] == [10, 2]
    assert len(result['droplets']) == 12


def test_missing_ones_fill_the_gaps(monkeypatch):
    fake = FakeDO()
    seed(fake, [1, 3])
    result = run(fake, monkeypatch, count=3)
    assert result['plan']['create'] == ['u1-myapp-prod-api-lon1-2']
    assert result['plan']['keep'] == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-api-lon1-3']


def test_surplus_is_tagged_and_reported_not_destroyed_by_default(monkeypatch):
    fake = FakeDO()
    seed(fake, [1, 2, 3])
    check = run(fake, monkeypatch, count=1, check_mode=True)
    assert check['changed'] is True and not fake.ops('tags', 'assign')
    assert check['plan']['mark'] == ['u1-myapp-prod-api-lon1-3', 'u1-myapp-prod-api-lon1-2']
    result = run(fake, monkeypatch, count=1)
    assert result['changed'] is True
    assert [d['name'] for d in result['surplus']] == ['u1-myapp-prod-api-lon1-3', 'u1-myapp-prod-api-lon1-2']
    assert all('fleet-surplus' in d['tags'] for d in result['surplus'])
    assert len(fake.droplets_db) == 3 and not fake.ops('droplets', 'destroy')
    tagged = sorted(d['name'] for d in fake.droplets_db.values() if 'fleet-surplus' in d['tags'])
    assert tagged == ['u1-myapp-prod-api-lon1-2', 'u1-myapp-prod-api-lon1-3']
    assert 'fleet-surplus' in fake.tags_db
    again = run(fake, monkeypatch, count=1)
    assert again['changed'] is False and again['plan']['mark'] == []


def test_a_surplus_droplet_wanted_again_is_untagged_and_reused(monkeypatch):
    fake = FakeDO()
    seed(fake, [1, 2, 3])
    run(fake, monkeypatch, count=1)
    result = run(fake, monkeypatch, count=2)
    assert result['changed'] is True and result['plan']['create'] == []
    assert result['plan']['unmark'] == ['u1-myapp-prod-api-lon1-2']
    assert [d['name'] for d in result['droplets']] == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-api-lon1-2']
    assert all('fleet-surplus' not in d['tags'] for d in result['droplets'])
    assert [d['name'] for d in result['surplus']] == ['u1-myapp-prod-api-lon1-3']
    assert run(fake, monkeypatch, count=2)['changed'] is False


def test_remove_surplus_destroys_highest_index_first(monkeypatch):
    fake = FakeDO()
    seed(fake, [1, 2, 3])
    ids = dict((d['name'], i) for i, d in fake.droplets_db.items())
    check = run(fake, monkeypatch, count=1, remove_surplus=True, check_mode=True)
    assert check['changed'] is True and len(fake.droplets_db) == 3
    assert check['plan']['destroy'] == ['u1-myapp-prod-api-lon1-3', 'u1-myapp-prod-api-lon1-2']
    result = run(fake, monkeypatch, count=1, remove_surplus=True)
    assert result['changed'] is True and result['surplus'] == []
    assert [c[2]['droplet_id'] for c in fake.ops('droplets', 'destroy')] == [ids['u1-myapp-prod-api-lon1-3'],
                                                                             ids['u1-myapp-prod-api-lon1-2']]
    assert [d['name'] for d in fake.droplets_db.values()] == ['u1-myapp-prod-api-lon1-1']
    assert run(fake, monkeypatch, count=1, remove_surplus=True)['changed'] is False


def test_a_service_moved_to_another_zone_leaves_surplus_behind(monkeypatch):
    fake = FakeDO()
    seed(fake, [1], zone='fra1')
    seed(fake, [1], service='web')
    result = run(fake, monkeypatch, count=1)
    assert result['other_zones'] == ['u1-myapp-prod-api-fra1-1']
    assert result['plan']['create'] == ['u1-myapp-prod-api-lon1-1']
    assert [d['name'] for d in result['surplus']] == ['u1-myapp-prod-api-fra1-1']
    gone = run(fake, monkeypatch, count=1, remove_surplus=True)
    assert gone['plan']['destroy'] == ['u1-myapp-prod-api-fra1-1']
    left = sorted(d['name'] for d in fake.droplets_db.values())
    assert left == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-web-lon1-1']


def test_size_mismatch_is_a_warning_not_a_resize(monkeypatch):
    fake = FakeDO()
    seed(fake, [1])
    result = run(fake, monkeypatch, count=1, size='s-2vcpu-4gb')
    assert result['changed'] is False
    assert any('s-1vcpu-1gb, not s-2vcpu-4gb' in w for w in result['warnings'])


def test_absent_by_env_tag_destroys_the_whole_environment(monkeypatch):
    fake = FakeDO()
    seed(fake, [1, 2])
    seed(fake, [1], service='web', zone='fra1')
    args = dict(user='u1', project='myapp', env='prod', state='absent')
    check = run_module(mod, args, fake, monkeypatch, check_mode=True)
    assert check['changed'] is True and len(check['plan']['destroy']) == 3 and len(fake.droplets_db) == 3
    result = run_module(mod, args, fake, monkeypatch)
    assert result['changed'] is True and fake.droplets_db == {}
    assert fake.ops('droplets', 'destroy_by_tag')[0][2]['tag_name'] == 'fleet-env:u1_myapp_prod'
    assert run_module(mod, args, fake, monkeypatch)['changed'] is False


def test_absent_in_one_zone_destroys_one_by_one(monkeypatch):
    fake = FakeDO()
    seed(fake, [1, 2])
    seed(fake, [1], zone='fra1')
    result = run(fake, monkeypatch, state='absent')
    assert result['plan']['destroy'] == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-api-lon1-2']
    assert result['other_zones'] == ['u1-myapp-prod-api-fra1-1']
    assert [d['name'] for d in fake.droplets_db.values()] == ['u1-myapp-prod-api-fra1-1']
    assert not fake.ops('droplets', 'destroy_by_tag')


def test_waiting_is_bounded_and_names_the_laggards(monkeypatch):
    fake = FakeDO(activate_after=None)           # never becomes active
    result = run(fake, monkeypatch, count=1, wait_timeout=20)
    assert result['failed']
    assert 'did not finish within 20 s: u1-myapp-prod-api-lon1-1 (new, no address yet)' in result['msg']
    assert 'fix: run again' in result['msg'] and 'fleet_droplet_wait' in result['msg'] and '\n' not in result['msg']


def _utc(seconds_ago):
    import time
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(time.time() - seconds_ago))


def test_a_droplet_stuck_in_new_is_replaced_and_a_young_one_waited_for(monkeypatch):
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import droplet_tags
    fake = FakeDO(activate_after=2)
    body = dict(region='lon1', size='s-1vcpu-1gb', tags=droplet_tags('u1', 'myapp', 'prod', 'api'))
    stuck = fake.new_droplet('u1-myapp-prod-api-lon1-1', body, created_at=_utc(400))
    young = fake.new_droplet('u1-myapp-prod-api-lon1-2', body, created_at=_utc(30))
    check = run(fake, monkeypatch, count=2, check_mode=True)
    assert check['changed'] and check['plan']['stuck'] == ['u1-myapp-prod-api-lon1-1']
    assert check['plan']['create'] == ['u1-myapp-prod-api-lon1-1'] and len(fake.droplets_db) == 2

    result = run(fake, monkeypatch, count=2)       # wait_timeout 300: the 400 s old one is stuck
    assert result['changed'] and not result['failed'], result
    assert result['plan']['stuck'] == ['u1-myapp-prod-api-lon1-1']
    assert result['plan']['keep'] == ['u1-myapp-prod-api-lon1-2'] and result['plan']['destroy'] == []
    assert [c[2]['droplet_id'] for c in fake.ops('droplets', 'destroy')] == [stuck['id']]
    assert fake.ops('droplets', 'create')[0][2]['body']['names'] == ['u1-myapp-prod-api-lon1-1']
    assert [(d['name'], d['status']) for d in result['droplets']] == [
        ('u1-myapp-prod-api-lon1-1', 'active'), ('u1-myapp-prod-api-lon1-2', 'active')]
    assert young['id'] in fake.droplets_db and stuck['id'] not in fake.droplets_db
    assert len(result['warnings']) == 1 and 'u1-myapp-prod-api-lon1-1 (%d) is still new' % stuck['id'] \
        in result['warnings'][0] and 'destroyed and created again' in result['warnings'][0]
    assert run(fake, monkeypatch, count=2)['changed'] is False


@pytest.mark.parametrize('args, message', [
    (dict(cpu=3, memory=1024), 'no DigitalOcean Basic droplet has 3 vCPU'),
    (dict(zone='lon2'), "did you mean 'lon1'"),
    (dict(service='nginx'), 'reserved'),
    (dict(count=-1), 'count must be >= 0'),
    (dict(tags=['bad tag']), 'not a DigitalOcean tag'),
])
def test_bad_arguments_fail_with_one_line(monkeypatch, args, message):
    result = run(FakeDO(), monkeypatch, **args)
    assert result['failed'] and message in result['msg'] and '\n' not in result['msg']


def test_api_errors_fail_with_one_line(monkeypatch):
    fake = FakeDO()
    fake.fail_create = 'Region is not available'
    result = run(fake, monkeypatch, count=1)
    assert result['failed'] and result['status'] == 422
    assert result['msg'].startswith('DigitalOcean API: create droplets u1-myapp-prod-api-lon1-1 failed: HTTP 422 '
                                    'unprocessable_entity: Region is not available; fix:')
    assert len(fake.ops('droplets', 'create')) == 1     # a create is never repeated on a 4xx


def test_absent_server_destroys_one_droplet_by_name_or_address(monkeypatch):
    fake = FakeDO()
    seed(fake, [1, 2])
    seed(fake, [1], service='web')
    by_name = dict((d['name'], d) for d in fake.droplets_db.values())
    target = by_name['u1-myapp-prod-api-lon1-2']
    address = [n['ip_address'] for n in target['networks']['v4'] if n['type'] == 'private'][0]
    tenant = dict(user='u1', project='myapp', env='prod', state='absent')
    check = run_module(mod, dict(tenant, server=address), fake, monkeypatch, check_mode=True)
    assert check['changed'] and check['plan']['destroy'] == ['u1-myapp-prod-api-lon1-2'] and len(fake.droplets_db) == 3
    result = run_module(mod, dict(tenant, server=address), fake, monkeypatch)
    assert result['changed'] and result['plan']['destroy'] == ['u1-myapp-prod-api-lon1-2']
    left = sorted(d['name'] for d in fake.droplets_db.values())
    assert left == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-web-lon1-1']
    by_name_run = run_module(mod, dict(tenant, server='u1-myapp-prod-web-lon1-1'), fake, monkeypatch)
    assert by_name_run['plan']['destroy'] == ['u1-myapp-prod-web-lon1-1']


def test_absent_server_never_touches_another_environment(monkeypatch):
    fake = FakeDO()
    seed(fake, [1])
    result = run_module(mod, dict(user='u1', project='myapp', env='uat', state='absent',
                                  server='u1-myapp-prod-api-lon1-1'), fake, monkeypatch)
    assert result['failed'] and len(fake.droplets_db) == 1
    assert result['msg'].startswith('server: no droplet of u1/myapp/uat is named or addressed u1-myapp-prod-api-lon1-1')
    present = run_module(mod, dict(user='u1', project='myapp', env='prod', server='x'), fake, monkeypatch)
    assert present['failed'] and 'missing: service, zone' in present['msg'] and len(fake.droplets_db) == 1


def fence(fake, monkeypatch, **args):
    return run_module(mod, dict(user='u1', project='myapp', env='prod', **args), fake, monkeypatch)


def test_fenced_powers_off_renames_and_tags_and_its_replacement_takes_the_name(monkeypatch):
    fake = FakeDO()
    seed(fake, [1, 2, 3])
    result = fence(fake, monkeypatch, state='fenced', server='u1-myapp-prod-api-lon1-3')
    assert result['changed'] and not result['failed'], result
    assert result['fenced']['name'] == 'u1-myapp-prod-api-lon1-3-dead' and result['power_off'] == 'completed'
    dead = [d for d in fake.droplets_db.values() if d['name'].endswith('-dead')][0]
    assert dead['status'] == 'off' and 'fleet-dead' in dead['tags'] and 'fleet-surplus' in dead['tags']
    # a second run finds it by the name it had: nothing more to do
    again = fence(fake, monkeypatch, state='fenced', server='u1-myapp-prod-api-lon1-3')
    assert again['changed'] is False and not again['failed'], again
    # the service's plan leaves the fenced droplet out and creates its replacement under the free name
    fake.activate_after = 1
    replaced = run(fake, monkeypatch, count=3)
    assert replaced['plan']['create'] == ['u1-myapp-prod-api-lon1-3'] and not replaced['failed'], replaced
    # then it is destroyed by its new name
    gone = fence(fake, monkeypatch, state='absent', server='u1-myapp-prod-api-lon1-3-dead')
    assert gone['changed'] and dead['id'] not in fake.droplets_db


def test_fenced_when_the_api_cannot_power_it_off_still_takes_it_out(monkeypatch):
    fake = FakeDO()
    seed(fake, [1, 2])
    fake.fail_power_off = True
    result = fence(fake, monkeypatch, state='fenced', server='u1-myapp-prod-api-lon1-2')
    assert not result['failed'] and 'errored' in result['power_off'], result
    assert any('could not be powered off' in w for w in result['warnings'])
    assert [d['name'] for d in fake.droplets_db.values() if 'fleet-dead' in d['tags']] == ['u1-myapp-prod-api-lon1-2-dead']
    # firewalled off: out of the env's firewall (its fleet-env tag gone), into a fence firewall that lets nothing through
    dead = [d for d in fake.droplets_db.values() if 'fleet-dead' in d['tags']][0]
    assert result['firewalled'] == 'fleet-u1-myapp-prod-fence'
    assert 'fleet-env:u1_myapp_prod' not in dead['tags'] and 'fleet-fenced:u1_myapp_prod' in dead['tags']
    (fence_fw,) = [f for f in fake.firewalls_db.values() if f['name'] == 'fleet-u1-myapp-prod-fence']
    assert fence_fw['tags'] == ['fleet-fenced:u1_myapp_prod'] and fence_fw['inbound_rules'] == []
    assert fence_fw['outbound_rules'] == [{'protocol': 'tcp', 'ports': '9', 'destinations': {'addresses': ['192.0.2.1/32']}}]
    # a second run still finds it (by its fleet-fenced tag); destroying it by its new name drops the fence firewall
    again = fence(fake, monkeypatch, state='fenced', server='u1-myapp-prod-api-lon1-2')
    assert again['changed'] is False and not again['failed'], again
    gone = fence(fake, monkeypatch, state='absent', server='u1-myapp-prod-api-lon1-2-dead')
    assert gone['changed'] and not gone['failed'] and dead['id'] not in fake.droplets_db, gone
    assert not [f for f in fake.firewalls_db.values() if f['name'] == 'fleet-u1-myapp-prod-fence']


def test_removing_the_environment_takes_its_firewalled_droplet_and_fence_firewall_too(monkeypatch):
    fake = FakeDO()
    seed(fake, [1, 2])
    fake.fail_power_off = True
    assert fence(fake, monkeypatch, state='fenced', server='u1-myapp-prod-api-lon1-2')['firewalled']
    gone = fence(fake, monkeypatch, state='absent')
    assert gone['changed'] and not gone['failed'], gone
    assert gone['plan']['destroy'] == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-api-lon1-2-dead']
    assert fake.droplets_db == {} and not fake.firewalls_db


def test_keep_zones_sizes_one_zone_and_leaves_the_others_alone(monkeypatch):
    fake = FakeDO()
    seed(fake, [1, 2], zone='nyc3')
    result = run(fake, monkeypatch, count=2, keep_zones=['nyc3'])
    assert result['plan']['create'] == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-api-lon1-2']
    assert result['surplus'] == [] and result['plan']['mark'] == []
    again = run(fake, monkeypatch, count=2, zone='nyc3', keep_zones=['lon1'])
    assert again['changed'] is False
    # the zone leaves fleet_zones: its droplets are surplus on the next run
    left = run(fake, monkeypatch, count=2)
    assert sorted(d['name'] for d in left['surplus']) == ['u1-myapp-prod-api-nyc3-1', 'u1-myapp-prod-api-nyc3-2']
