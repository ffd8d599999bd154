# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.tenant_remove: check mode touches nothing, diff lists before and after, one report."""
import os
import types

from ansible_collections.projectdeployer.fleet.plugins.modules import tenant_remove as mod


class Container(object):
    def __init__(self, engine, name, labels):
        self.engine, self.name, self.labels = engine, name, labels

    def stop(self, timeout=None):
        pass

    def remove(self, force=False, v=False):
        self.engine.items.remove(self)


class Engine(object):
    def __init__(self):
        self.items = []
        self.containers = self
        self.networks = types.SimpleNamespace(list=lambda **kwargs: [])
        self.volumes = types.SimpleNamespace(list=lambda **kwargs: [])

    def list(self, filters=None, **kwargs):
        labels = dict(label.split('=', 1) for label in (filters or {}).get('label', []))
        return [c for c in self.items if all(c.labels.get(k) == v for k, v in labels.items())]


def module(tmp_path, check_mode, **params):
    base = dict(user='u1', project='myapp', env='prod', state='pruned', services=['api'], volumes=[], purge=False,
                fleet_root=str(tmp_path / 'fleet'), cron_dir=str(tmp_path / 'cron'), port_state=None)
    base.update(params)
    return types.SimpleNamespace(params=base, check_mode=check_mode, _diff=True)


def world(tmp_path):
    engine = Engine()
    tenant = {'fleet.user': 'u1', 'fleet.project': 'myapp', 'fleet.env': 'prod'}
    engine.items = [Container(engine, 'u1_myapp_prod_api', dict(tenant, **{'fleet.service': 'api'})),
                    Container(engine, 'u1_myapp_prod_web', dict(tenant, **{'fleet.service': 'web'}))]
    os.makedirs(str(tmp_path / 'cron'))
    (tmp_path / 'cron' / 'fleet_u1_myapp_prod_web').write_text('x')
    return engine


def test_check_mode_lists_and_touches_nothing(tmp_path):
    engine = world(tmp_path)
    result = mod.run(module(tmp_path, True), engine)
    assert result['changed'] and result['services'] == ['web']
    assert result['removed'] == ['cron %s (service web, schedule)' % (tmp_path / 'cron' / 'fleet_u1_myapp_prod_web'),
                                 'container u1_myapp_prod_web (service web)']
    assert result['msg'] == 'u1_myapp_prod: would remove 2 things'
    assert 'container u1_myapp_prod_web' in result['diff']['before'] and result['diff']['after'] == ''
    assert len(engine.items) == 2 and os.path.exists(str(tmp_path / 'cron' / 'fleet_u1_myapp_prod_web'))


def test_run_removes_then_changes_nothing(tmp_path):
    engine = world(tmp_path)
    assert mod.run(module(tmp_path, False), engine)['changed']
    assert [c.name for c in engine.items] == ['u1_myapp_prod_api']
    assert os.listdir(str(tmp_path / 'cron')) == []
    again = mod.run(module(tmp_path, False), engine)
    assert not again['changed'] and again['msg'] == 'u1_myapp_prod: nothing to remove'
    assert not os.path.exists(str(tmp_path / 'fleet'))
