# SPDX-License-Identifier: GPL-3.0-or-later
"""A small stateful stand-in for ``pydo.Client`` (droplets, vpcs, firewalls, tags, ssh_keys).

It keeps pydo's habits that matter: operations take ``cls`` and call it with
(pipeline_response, body, headers); ``get``/``destroy``/``delete`` of a missing
object answer the 404 body instead of raising; lists are paged with
``links.pages.next`` -- at most ``page_cap`` items per page (2 by default, so
that paging is always exercised); a new droplet is ``new`` without networks
until it has been listed ``activate_after`` times.
"""
import base64
import copy
import hashlib
import itertools
import uuid

NOT_FOUND = {'id': 'not_found', 'message': 'The resource you were accessing could not be found.'}


class _Http(object):
    def __init__(self, status):
        self.status_code = status
        self.headers = {}


class _PipelineResponse(object):
    def __init__(self, status):
        self.http_response = _Http(status)


def _answer(status, body, kwargs):
    cls = kwargs.get('cls')
    if cls:
        return cls(_PipelineResponse(status), body, {})
    return body


def _public(d):
    return copy.deepcopy(dict((k, v) for k, v in d.items() if not k.startswith('_')))


class _Group(object):
    def __init__(self, world):
        self.world = world

    def _log(self, op, **what):
        self.world.calls.append((type(self).__name__.lower(), op, what))


def _paged(world, key, items, page, per_page, path):
    size = min(per_page, world.page_cap)
    start = (page - 1) * size
    body = {key: items[start:start + size], 'meta': {'total': len(items)}, 'links': {'pages': {}}}
    if start + size < len(items):
        body['links']['pages']['next'] = 'https://api.test/v2/%s?page=%d&per_page=%d' % (path, page + 1, size)
    return body


class Droplets(_Group):
    def list(self, per_page=20, page=1, tag_name=None, **kwargs):
        self._log('list', tag_name=tag_name, page=page)
        items = [_public(d) for d in sorted(self.world.droplets_db.values(), key=lambda d: d['id'])]
        if tag_name:
            items = [d for d in items if tag_name in d['tags']]
        if page == 1:
            self.world.tick()
        return _answer(200, _paged(self.world, 'droplets', items, page, per_page, 'droplets'), kwargs)

    def create(self, body=None, **kwargs):
        self._log('create', names=list(body.get('names') or [body.get('name')]), body=body)
        if self.world.fail_create:
            return _answer(422, {'id': 'unprocessable_entity', 'message': self.world.fail_create}, kwargs)
        made = [self.world.new_droplet(name, body) for name in (body.get('names') or [body['name']])]
        if 'names' in body:
            return _answer(202, {'droplets': made, 'links': {'actions': []}}, kwargs)
        return _answer(202, {'droplet': made[0], 'links': {'actions': []}}, kwargs)

    def get(self, droplet_id, **kwargs):
        d = self.world.droplets_db.get(droplet_id)
        return _answer(200, {'droplet': _public(d)}, kwargs) if d else _answer(404, dict(NOT_FOUND), kwargs)

    def destroy(self, droplet_id, **kwargs):
        self._log('destroy', droplet_id=droplet_id)
        if self.world.droplets_db.pop(droplet_id, None) is None:
            return _answer(404, dict(NOT_FOUND), kwargs)
        return _answer(204, None, kwargs)

    def destroy_by_tag(self, tag_name, **kwargs):
        self._log('destroy_by_tag', tag_name=tag_name)
        for key in [k for k, d in self.world.droplets_db.items() if tag_name in d['tags']]:
            del self.world.droplets_db[key]
        return _answer(204, None, kwargs)


class Vpcs(_Group):
    def list(self, per_page=20, page=1, **kwargs):
        items = sorted(self.world.vpcs_db.values(), key=lambda v: v['created_at'])
        return _answer(200, _paged(self.world, 'vpcs', items, page, per_page, 'vpcs'), kwargs)

    def create(self, body, **kwargs):
        self._log('create', body=body)
        vpc_id = str(uuid.UUID(int=len(self.world.vpcs_db) + 1))
        vpc = dict(id=vpc_id, urn='do:vpc:%s' % vpc_id, name=body['name'], region=body['region'],
                   description=body.get('description', ''), ip_range=body.get('ip_range') or '10.%d.0.0/20'
                   % (110 + len(self.world.vpcs_db)), default=False, created_at='2026-01-0%dT00:00:00Z'
                   % (len(self.world.vpcs_db) + 1))
        self.world.vpcs_db[vpc_id] = vpc
        return _answer(201, {'vpc': vpc}, kwargs)

    def patch(self, vpc_id, body, **kwargs):
        self._log('patch', vpc_id=vpc_id, body=body)
        vpc = self.world.vpcs_db.get(vpc_id)
        if not vpc:
            return _answer(404, dict(NOT_FOUND), kwargs)
        vpc.update(body)
        return _answer(200, {'vpc': vpc}, kwargs)

    def delete(self, vpc_id, **kwargs):
        self._log('delete', vpc_id=vpc_id)
        if self.world.vpcs_db.pop(vpc_id, None) is None:
            return _answer(404, dict(NOT_FOUND), kwargs)
        return _answer(204, None, kwargs)

    def list_members(self, vpc_id, per_page=20, page=1, **kwargs):
        self.world.tick()
        members = [dict(urn='do:droplet:%d' % d['id'], name=d['name']) for d in self.world.droplets_db.values()
                   if d.get('vpc_uuid') == vpc_id]
        return _answer(200, _paged(self.world, 'members', members, page, per_page, 'vpcs/x/members'), kwargs)


class Firewalls(_Group):
    def list(self, per_page=20, page=1, **kwargs):
        items = list(self.world.firewalls_db.values())
        return _answer(200, _paged(self.world, 'firewalls', items, page, per_page, 'firewalls'), kwargs)

    def _store(self, fw_id, body):
        missing = [t for t in body.get('tags') or [] if t not in self.world.tags_db]
        if missing:
            return None, {'id': 'not_found', 'message': 'tag %s not found' % missing[0]}
        fw = dict(body, id=fw_id, status='succeeded', created_at='2026-01-01T00:00:00Z', pending_changes=[],
                  droplet_ids=list(body.get('droplet_ids') or []))
        # The API spells "all ports" "0" and ICMP ports "0".
        for key in ('inbound_rules', 'outbound_rules'):
            fw[key] = [dict(r, ports=r.get('ports', '0')) for r in body.get(key) or []]
        self.world.firewalls_db[fw_id] = fw
        return fw, None

    def create(self, body=None, **kwargs):
        self._log('create', body=body)
        fw, err = self._store('fw-%d' % (len(self.world.firewalls_db) + 1), body)
        return _answer(202, {'firewall': fw}, kwargs) if fw else _answer(400, err, kwargs)

    def update(self, firewall_id, body=None, **kwargs):
        self._log('update', firewall_id=firewall_id, body=body)
        if firewall_id not in self.world.firewalls_db:
            return _answer(404, dict(NOT_FOUND), kwargs)
        fw, err = self._store(firewall_id, body)
        return _answer(200, {'firewall': fw}, kwargs) if fw else _answer(400, err, kwargs)

    def delete(self, firewall_id, **kwargs):
        self._log('delete', firewall_id=firewall_id)
        if self.world.firewalls_db.pop(firewall_id, None) is None:
            return _answer(404, dict(NOT_FOUND), kwargs)
        return _answer(204, None, kwargs)


class Tags(_Group):
    def get(self, tag_id, **kwargs):
        if tag_id in self.world.tags_db:
            return _answer(200, {'tag': {'name': tag_id}}, kwargs)
        return _answer(404, dict(NOT_FOUND), kwargs)

    def create(self, body, **kwargs):
        self._log('create', name=body['name'])
        self.world.tags_db.add(body['name'])
        return _answer(201, {'tag': {'name': body['name']}}, kwargs)

    def _resources(self, tag_id, body, add, kwargs):
        self._log('assign' if add else 'unassign', tag_id=tag_id, body=body)
        if tag_id not in self.world.tags_db:
            return _answer(404, dict(NOT_FOUND), kwargs)
        for res in body['resources']:
            tags = self.world.droplets_db[int(res['resource_id'])]['tags']
            if add and tag_id not in tags:
                tags.append(tag_id)
            elif not add and tag_id in tags:
                tags.remove(tag_id)
        return _answer(204, None, kwargs)

    def assign_resources(self, tag_id, body, **kwargs):
        return self._resources(tag_id, body, True, kwargs)

    def unassign_resources(self, tag_id, body, **kwargs):
        return self._resources(tag_id, body, False, kwargs)


def md5_fingerprint(public_key):
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ':'.join(digest[i:i + 2] for i in range(0, 32, 2))


class SshKeys(_Group):
    def list(self, per_page=20, page=1, **kwargs):
        items = sorted(self.world.keys_db.values(), key=lambda k: k['id'])
        return _answer(200, _paged(self.world, 'ssh_keys', items, page, per_page, 'account/keys'), kwargs)

    def create(self, body, **kwargs):
        self._log('create', body=body)
        fingerprint = md5_fingerprint(body['public_key'])
        if any(k['fingerprint'] == fingerprint for k in self.world.keys_db.values()):
            return _answer(422, {'id': 'unprocessable_entity', 'message': 'SSH Key is already in use on your account'},
                           kwargs)
        key = dict(id=next(self.world.ids), fingerprint=fingerprint, public_key=body['public_key'], name=body['name'])
        self.world.keys_db[key['id']] = key
        return _answer(201, {'ssh_key': key}, kwargs)

    def update(self, ssh_key_identifier, body, **kwargs):
        self._log('update', id=ssh_key_identifier, body=body)
        self.world.keys_db[ssh_key_identifier].update(body)
        return _answer(200, {'ssh_key': self.world.keys_db[ssh_key_identifier]}, kwargs)

    def delete(self, ssh_key_identifier, **kwargs):
        self._log('delete', id=ssh_key_identifier)
        if self.world.keys_db.pop(ssh_key_identifier, None) is None:
            return _answer(404, dict(NOT_FOUND), kwargs)
        return _answer(204, None, kwargs)


class DropletActions(_Group):
    """power_off and rename, completed at once (``fail_power_off``: errored, as for a machine whose hypervisor died)."""

    def post(self, droplet_id, body=None, **kwargs):
        self._log('post', droplet_id=droplet_id, body=body)
        d = self.world.droplets_db.get(droplet_id)
        if d is None:
            return _answer(404, {'id': 'not_found', 'message': 'The resource you were accessing could not be found.'},
                           kwargs)
        action_id = next(self.world.ids)
        status = 'completed'
        if body['type'] == 'power_off':
            if self.world.fail_power_off:
                status = 'errored'
            else:
                d['status'] = 'off'
        elif body['type'] == 'rename':
            d['name'] = body['name']
        self.world.actions_db[action_id] = {'id': action_id, 'status': status, 'type': body['type'],
                                            'resource_id': droplet_id}
        return _answer(201, {'action': self.world.actions_db[action_id]}, kwargs)


class Actions(_Group):
    def get(self, action_id, **kwargs):
        self._log('get', action_id=action_id)
        return _answer(200, {'action': self.world.actions_db[action_id]}, kwargs)


class FakeDO(object):
    def __init__(self, page_cap=2, activate_after=2):
        self.page_cap = page_cap
        self.activate_after = activate_after
        self.ids = itertools.count(1000)
        self.droplets_db = {}
        self.vpcs_db = {}
        self.firewalls_db = {}
        self.tags_db = set()
        self.keys_db = {}
        self.calls = []
        self.fail_create = None
        self.droplets = Droplets(self)
        self.vpcs = Vpcs(self)
        self.firewalls = Firewalls(self)
        self.tags = Tags(self)
        self.ssh_keys = SshKeys(self)
        self.actions_db = {}
        self.fail_power_off = False
        self.droplet_actions = DropletActions(self)
        self.actions = Actions(self)

    def new_droplet(self, name, body, status='new', networks=False, created_at=None):
        droplet_id = next(self.ids)
        d = dict(id=droplet_id, name=name, status=status, region={'slug': body['region']},
                 size_slug=body['size'], size={'slug': body['size']}, tags=list(body.get('tags') or []),
                 vpc_uuid=body.get('vpc_uuid'), networks={'v4': [], 'v6': []},
                 created_at=created_at or '2026-01-01T00:00:%02dZ' % (droplet_id % 60), _age=0)
        if networks:
            self._network(d)
        for tag in d['tags']:
            self.tags_db.add(tag)
        self.droplets_db[droplet_id] = d
        return _public(d)

    @staticmethod
    def _network(d):
        n = d['id'] % 250
        d['networks'] = {'v4': [{'ip_address': '10.110.0.%d' % n, 'type': 'private', 'netmask': '255.255.240.0'},
                                {'ip_address': '203.0.113.%d' % n, 'type': 'public', 'netmask': '255.255.255.0',
                                 'gateway': '203.0.113.1'}], 'v6': []}

    def tick(self):
        """One list call: new droplets age and, after ``activate_after`` lists, are active with networks."""
        if self.activate_after is None:
            return
        for d in self.droplets_db.values():
            if d['status'] == 'new':
                d['_age'] += 1
                if d['_age'] >= self.activate_after:
                    d['status'] = 'active'
                    self._network(d)

    def ops(self, group=None, op=None):
        return [c for c in self.calls if (group is None or c[0] == group) and (op is None or c[1] == op)]


# ---------------------------------------------------------------- running a module

class ModuleExit(Exception):
    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result.get('msg'))
        self.result = result
        self.failed = failed


def run_module(module, args, fake, monkeypatch, check_mode=False, diff=False, clock=None):
    """Run ``module.main()`` with ``args`` against ``fake``; return the result dict (``failed`` set on failure)."""
    from ansible.module_utils import basic
    from ansible.module_utils.testing import patch_module_args
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean import api as _do
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.api import DOApi

    clock = clock or FakeClock()

    def fake_api(mod, **kwargs):
        return DOApi(fake, max_attempts=2, max_seconds=5, sleep=clock.sleep, clock=clock.clock, rand=lambda: 0.5)

    def exit_json(self, **result):
        raise ModuleExit(result, False)

    def fail_json(self, msg, **result):
        result['msg'] = msg
        raise ModuleExit(result, True)

    monkeypatch.setattr(_do, 'module_api', fake_api)  # used by _do.run_manager
    if hasattr(module, 'module_api'):
        monkeypatch.setattr(module, 'module_api', fake_api)
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: warnings.append(msg))
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    args.setdefault('api_token', 'test-token')
    with patch_module_args(args):
        try:
            module.main()
        except ModuleExit as done:
            result = dict(done.result)
            result['failed'] = done.failed
            result['warnings'] = warnings
            return result
    raise AssertionError('the module neither exited nor failed')


class FakeClock(object):
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now
