# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.vpc and projectdeployer.fleet.firewall against a stateful fake pydo client."""
from ansible_collections.projectdeployer.fleet.plugins.modules import firewall as fw_mod
from ansible_collections.projectdeployer.fleet.plugins.modules import vpc as vpc_mod

from do_fake import FakeDO, run_module

TENANT = dict(user='u1', project='myapp', env='prod')
RULES = dict(controller_addresses=['203.0.113.7/32'], vpc_ranges=['10.110.0.0/20'])


# ---------------------------------------------------------------- vpc

def test_vpc_created_once_per_region(monkeypatch):
    fake = FakeDO()
    check = run_module(vpc_mod, dict(region='lon1'), fake, monkeypatch, check_mode=True)
    assert check['changed'] is True and check['vpc']['name'] == 'fleet-lon1' and fake.vpcs_db == {}
    result = run_module(vpc_mod, dict(region='lon1'), fake, monkeypatch, diff=True)
    assert result['changed'] is True
    assert result['id'] == result['vpc']['id'] and result['ip_range'] == '10.110.0.0/20'
    assert result['diff']['before'] == {} and result['diff']['after']['name'] == 'fleet-lon1'
    body = fake.ops('vpcs', 'create')[0][2]['body']
    assert body == dict(name='fleet-lon1', region='lon1', description='projectdeployer.fleet VPC of lon1')
    again = run_module(vpc_mod, dict(region='lon1'), fake, monkeypatch)
    assert again['changed'] is False and again['id'] == result['id']
    other = run_module(vpc_mod, dict(region='fra1', ip_range='10.120.0.0/20'), fake, monkeypatch)
    assert other['id'] != result['id'] and other['ip_range'] == '10.120.0.0/20'
    assert len(fake.ops('vpcs', 'create')) == 2


def test_each_user_has_a_vpc_of_their_own(monkeypatch):
    fake = FakeDO()
    u1 = run_module(vpc_mod, dict(region='lon1', user='u1'), fake, monkeypatch)
    u2 = run_module(vpc_mod, dict(region='lon1', user='u2'), fake, monkeypatch)
    assert (u1['vpc']['name'], u2['vpc']['name']) == ('fleet-u1-lon1', 'fleet-u2-lon1')
    assert u1['id'] != u2['id'] and u1['ip_range'] != u2['ip_range']
    bad = run_module(vpc_mod, dict(region='lon1', user='U_1'), fake, monkeypatch)
    assert bad['failed'] and 'user' in bad['msg']


def test_vpc_range_cannot_change(monkeypatch):
    fake = FakeDO()
    run_module(vpc_mod, dict(region='lon1', ip_range='10.110.0.0/20'), fake, monkeypatch)
    result = run_module(vpc_mod, dict(region='lon1', ip_range='10.111.0.0/20'), fake, monkeypatch)
    assert result['failed'] and 'a VPC range cannot change' in result['msg']
    bad = run_module(vpc_mod, dict(region='lon1', ip_range='8.8.8.0/24'), FakeDO(), monkeypatch)
    assert bad['failed'] and 'private' in bad['msg']


def test_vpc_description_is_updated_when_given(monkeypatch):
    fake = FakeDO()
    run_module(vpc_mod, dict(region='lon1'), fake, monkeypatch)
    result = run_module(vpc_mod, dict(region='lon1', description='shared'), fake, monkeypatch)
    assert result['changed'] is True and result['vpc']['description'] == 'shared'
    assert run_module(vpc_mod, dict(region='lon1', description='shared'), fake, monkeypatch)['changed'] is False


def test_vpc_absent_waits_for_members_then_deletes(monkeypatch):
    fake = FakeDO()
    vpc = run_module(vpc_mod, dict(region='lon1'), fake, monkeypatch)
    fake.new_droplet('d-1', dict(region='lon1', size='s', vpc_uuid=vpc['id']), status='active')
    busy = run_module(vpc_mod, dict(region='lon1', state='absent', wait_timeout=10), fake, monkeypatch)
    assert busy['failed'] and 'still has members after 10 s' in busy['msg'] and 'd-1' in busy['msg']
    assert vpc['id'] in fake.vpcs_db
    fake.droplets_db.clear()
    check = run_module(vpc_mod, dict(region='lon1', state='absent'), fake, monkeypatch, check_mode=True)
    assert check['changed'] is True and vpc['id'] in fake.vpcs_db
    gone = run_module(vpc_mod, dict(region='lon1', state='absent'), fake, monkeypatch)
    assert gone['changed'] is True and fake.vpcs_db == {}
    assert run_module(vpc_mod, dict(region='lon1', state='absent'), fake, monkeypatch)['changed'] is False


def test_default_vpc_is_left_with_a_warning(monkeypatch):
    fake = FakeDO()
    vpc = run_module(vpc_mod, dict(region='lon1'), fake, monkeypatch)
    fake.vpcs_db[vpc['id']]['default'] = True
    result = run_module(vpc_mod, dict(region='lon1', state='absent'), fake, monkeypatch)
    assert result['changed'] is False and fake.vpcs_db
    assert any('default VPC' in w for w in result['warnings'])


# ---------------------------------------------------------------- firewall

def test_firewall_created_by_tag_with_the_fleet_rules(monkeypatch):
    fake = FakeDO()
    check = run_module(fw_mod, dict(TENANT, **RULES), fake, monkeypatch, check_mode=True, diff=True)
    assert check['changed'] is True and fake.firewalls_db == {} and not fake.ops('tags', 'create')
    assert check['diff']['before'] == {} and check['diff']['after']['name'] == 'fleet-u1-myapp-prod'
    result = run_module(fw_mod, dict(TENANT, **RULES), fake, monkeypatch)
    assert result['changed'] is True and result['tag'] == 'fleet-env:u1_myapp_prod'
    assert fake.ops('tags', 'create')[0][2]['name'] == 'fleet-env:u1_myapp_prod'     # it must exist first
    body = fake.ops('firewalls', 'create')[0][2]['body']
    assert body['name'] == 'fleet-u1-myapp-prod' and body['tags'] == ['fleet-env:u1_myapp_prod']
    ssh = [r for r in body['inbound_rules'] if r.get('ports') == '22']
    assert ssh == [{'protocol': 'tcp', 'ports': '22', 'sources': {'addresses': ['203.0.113.7/32']}}]
    again = run_module(fw_mod, dict(TENANT, **RULES), fake, monkeypatch)
    assert again['changed'] is False and again['id'] == result['id']
    assert not fake.ops('firewalls', 'update')


def test_firewall_updated_in_place_keeping_assigned_droplets(monkeypatch):
    fake = FakeDO()
    first = run_module(fw_mod, dict(TENANT, **RULES), fake, monkeypatch)
    fake.firewalls_db[first['id']]['droplet_ids'] = [42]
    moved = dict(RULES, controller_addresses=['198.51.100.9/32'])
    check = run_module(fw_mod, dict(TENANT, **moved), fake, monkeypatch, check_mode=True, diff=True)
    assert check['changed'] is True and not fake.ops('firewalls', 'update')
    before = [r for r in check['diff']['before']['inbound_rules'] if r['ports'] == '22']
    after = [r for r in check['diff']['after']['inbound_rules'] if r['ports'] == '22']
    assert before[0]['sources']['addresses'] == ['203.0.113.7/32']
    assert after[0]['sources']['addresses'] == ['198.51.100.9/32']
    result = run_module(fw_mod, dict(TENANT, **moved), fake, monkeypatch)
    assert result['changed'] is True and result['id'] == first['id']
    update = fake.ops('firewalls', 'update')[0][2]
    assert update['firewall_id'] == first['id'] and update['body']['droplet_ids'] == [42]
    assert len(fake.firewalls_db) == 1
    assert run_module(fw_mod, dict(TENANT, **moved), fake, monkeypatch)['changed'] is False


def test_firewall_absent(monkeypatch):
    fake = FakeDO()
    run_module(fw_mod, dict(TENANT, **RULES), fake, monkeypatch)
    args = dict(TENANT, state='absent')
    assert run_module(fw_mod, args, fake, monkeypatch, check_mode=True)['changed'] is True and fake.firewalls_db
    assert run_module(fw_mod, args, fake, monkeypatch)['changed'] is True and fake.firewalls_db == {}
    assert run_module(fw_mod, args, fake, monkeypatch)['changed'] is False


def test_firewall_refuses_bad_addresses(monkeypatch):
    result = run_module(fw_mod, dict(TENANT, controller_addresses=['laptop'], vpc_ranges=['10.0.0.0/16']),
                        FakeDO(), monkeypatch)
    assert result['failed'] and "'laptop' is not an IP address or CIDR" in result['msg']
