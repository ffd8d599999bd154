# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One service's toggle deploy on its server: the states toggle_deploy runs, and the plan deploy_changes reads.

``ToggleDeployer(params, client, check_mode)`` takes toggle_deploy's parameters (``TOGGLE_OPTIONS``,
normalised) and a Docker client; each state is a method returning the module result.
"""

from __future__ import annotations

import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import health_check as health
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import retire
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DockerException, ImageNotFound, get_container)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import read_active, write_active
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.container_logs import failure_report
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggle import (
    choose_slots, config_hash, container_kwargs, secret_target, slot_port)


def read_env_file(path):
    """``KEY=VALUE`` lines of ``path`` (blank lines and ``#`` comments skipped); {} without a path."""
    if not path:
        return {}
    values = {}
    try:
        with open(path) as handle:
            for line in handle:
                line = line.rstrip('\n')
                if line.strip() and not line.lstrip().startswith('#') and '=' in line:
                    key, value = line.split('=', 1)
                    values[key.strip()] = value
    except (IOError, OSError) as exc:
        raise DeployError('env file %s cannot be read (%s)' % (path, exc.strerror))
    return values


def private_copy(source, service, uid):
    """Copy ``source`` to ``<its dir>/run/<service>/<name>``, owned by ``uid``, mode 0400."""
    directory = os.path.join(os.path.dirname(source), 'run', service)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700, exist_ok=True)
    target = os.path.join(directory, os.path.basename(source))
    tmp = target + '.tmp'
    with open(source, 'rb') as src:
        data = src.read()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
    with os.fdopen(fd, 'wb') as dst:
        dst.write(data)
    os.chown(tmp, uid, uid)
    os.chmod(tmp, 0o400)
    os.replace(tmp, target)
    return target


def now():
    return datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


class DeployError(Exception):
    """Raise deep, fail once: carries the one-line message and extra result keys."""

    def __init__(self, msg, **extra):
        super(DeployError, self).__init__(msg)
        self.extra = extra


class ToggleDeployer(object):
    def __init__(self, params, client, check_mode=False):
        self.check_mode = check_mode
        self.client = client
        self.p = dict(params)
        self.p['env_vars'] = dict(self.p['env_vars'] or {}, **read_env_file(self.p['env_file']))
        self.ids = (self.p['user'], self.p['project'], self.p['env'], self.p['service'])
        self.health = []

    def name(self, slot):
        return naming.container_name(*self.ids, slot=slot)

    def container(self, slot):
        return get_container(self.client, self.name(slot))

    # -- what is wanted -------------------------------------------------------------------
    def image_id(self):
        image = self.p['image']
        try:
            return self.client.images.get(image).id
        except ImageNotFound:
            if self.check_mode:
                return 'not-pulled:' + image
        try:
            return self.client.images.pull(image).id
        except DockerException as exc:
            raise DeployError('image %s is not on this host and cannot be pulled (%s); fix: build or push it first'
                              % (image, exc))

    def secret_digests(self):
        digests = {}
        for secret in self.p['secrets']:
            try:
                with open(secret['source'], 'rb') as handle:
                    digests[secret_target(secret)] = hashlib.sha256(handle.read()).hexdigest()
            except (IOError, OSError) as exc:
                raise DeployError('secret file %s cannot be read (%s); fix: run the secrets step first'
                                  % (secret['source'], exc.strerror))
        return digests

    def wanted_hash(self):
        return config_hash(self.p, self.image_id(), self.secret_digests())

    # -- container operations -------------------------------------------------------------
    def mounted_secrets(self):
        """Secrets as mounted: a copy owned by the reading uid where one is asked for."""
        mounted = []
        for secret in self.p['secrets']:
            secret = dict(secret, target=secret_target(secret))
            if secret.get('owner'):
                secret['source'] = private_copy(secret['source'], self.ids[3], secret['owner'])
            mounted.append(secret)
        return mounted

    def start(self, slot, chash, create_only=False):
        kwargs = container_kwargs(dict(self.p, secrets=self.mounted_secrets()), slot, slot_port(self.p, slot),
                                  chash, now())
        if self.p['data_path']:
            self.client.volumes.create(naming.volume_name(*self.ids, kind='data'),
                                       labels={'fleet.user': self.ids[0], 'fleet.project': self.ids[1],
                                               'fleet.env': self.ids[2], 'fleet.service': self.ids[3]})
        # Created straight on the tenant network (never the default bridge, which every tenant shares).
        container = self.client.containers.create(**kwargs)
        if not create_only:
            container.start()
        return container

    def remove(self, container, drain=0):
        if container is None:
            return False
        if drain:
            time.sleep(drain)
        try:
            container.stop(timeout=self.p['stop_timeout'])
        except DockerException:
            pass
        container.remove(force=True, v=True)
        return True

    def retiring(self, container):
        """Whether ``container`` is being retired in the background (O(retire=background)) within its deadline."""
        return container is not None and retire.is_retiring(self.p['state_dir'], self.ids[3], container.id)

    def await_retire(self, container):
        """A slot wanted back while its old container drains: wait (bounded) for the retire to end."""
        until = container and retire.retire_deadline(retire.read_marker(self.p['state_dir'], self.ids[3]), container.id)
        if until:
            retire.wait_gone(lambda: get_container(self.client, container.id) is not None, until)

    def check(self, container, slot):
        spec = self.p['health']
        kind = spec['type']
        if kind == 'none':
            return True
        host, port = self.p['bind_address'], slot_port(self.p, slot)
        probes = {
            'http': lambda: health.check_http(host, port, spec['path'], spec['timeout'], spec.get('host')),
            'redis': lambda: health.check_redis(host, port, spec['timeout']),
            'tcp': lambda: health.check_tcp(host, port, spec['timeout']),
            'postgres': lambda: health.check_postgres(container, spec['timeout']),
        }
        probe = probes.get(kind) or health.stable_probe(container, spec['stable_seconds'])
        ok, details = health.wait_healthy(container, probe, spec['retries'], spec['interval'], spec['start_period'])
        self.health.extend(details)
        return ok

    def fail_unhealthy(self, container, what):
        # The state the last check saw (container_state reloaded it), before anything else reads it again.
        seen = dict(container.attrs.get('State') or {})
        report = failure_report(container, self.p['log_lines'], seen_state=seen)
        last = self.health[-1] if self.health else 'no check ran'
        return DeployError('%s: health check failed for %s (%s); %s' % (self.ids[3], container.name, last, what),
                           error_lines=report.pop('error_lines'), container_state=report)

    # -- states ---------------------------------------------------------------------------
    def started(self):
        chash = self.wanted_hash()
        if self.p['data_path']:
            return self.recreate(chash)
        existing = {}
        for slot in naming.SLOTS:
            c = self.container(slot)
            if c is not None:
                existing[slot] = {'running': c.status == 'running', 'created': c.attrs.get('Created'),
                                  'hash': c.labels.get('fleet.config_hash'), 'container': c}
        recorded = read_active(self.p['state_dir'], self.ids[3]).get('slot')
        active, target = choose_slots(existing, recorded)
        if active and existing[active]['hash'] == chash:
            return self.result('none', active, existing[active]['container'], chash, previous=None, changed=False)
        candidate = existing.get(target)
        if candidate and candidate['hash'] == chash and candidate['running']:
            # An earlier run started this version and was interrupted before promoting it.
            if self.check(candidate['container'], target):
                # Nothing changes here; the promotion that follows records it.
                return self.result('resumed', target, candidate['container'], chash, previous=active, changed=False)
        if self.check_mode:
            return self.result('started', target, None, chash, previous=active, changed=True)
        if candidate:
            self.await_retire(candidate['container'])
            self.remove(self.container(target))
        new = self.start(target, chash)
        if not self.check(new, target):
            error = self.fail_unhealthy(new, 'the new version was removed and %s keeps serving'
                                        % (self.name(active) if active else 'nothing'))
            self.remove(new)
            raise error
        return self.result('started', target, new, chash, previous=active, changed=True)

    def recreate(self, chash):
        """Stateful: stop, start the new one on the same data, check; put the old one back on failure."""
        main_name, prev_name = self.name('primary'), self.name('primary') + '_previous'
        main, prev = get_container(self.client, main_name), get_container(self.client, prev_name)
        if prev is not None and main is None and not self.check_mode:
            prev.rename(main_name)     # an interrupted run left only the previous one: it is the service
            main, prev = prev, None
        if main is not None and main.status == 'running' and main.labels.get('fleet.config_hash') == chash:
            if prev is not None and not self.check_mode:
                self.remove(prev)
            return self.result('none', 'primary', main, chash, previous=None, changed=prev is not None)
        if self.check_mode:
            return self.result('recreated', 'primary', None, chash, previous='primary' if main else None, changed=True)
        if prev is not None:
            self.remove(prev)
        if main is not None:
            main.stop(timeout=max(self.p['stop_timeout'], 30))
            main.rename(prev_name)
        what = 'the previous version was started again on the same data' if main is not None else \
            'there was no previous version'
        try:
            new = self.start('primary', chash)
            if self.check(new, 'primary'):
                self.remove(get_container(self.client, prev_name))
                return self.result('recreated', 'primary', new, chash, previous='primary' if main else None,
                                   changed=True)
            error = self.fail_unhealthy(new, what)
        except DockerException as exc:
            # Whatever failed between stopping the old one and checking the new one, put the old one back.
            error = DeployError('%s: the new container could not be started (%s); %s' % (self.ids[3], exc, what))
        self.remove(get_container(self.client, main_name))
        if main is not None:
            main.rename(main_name)
            main.start()
        raise error

    def promoted(self):
        """Record the slot that serves now (the mesh is switched next; the old one still runs)."""
        slot = self.p['slot']
        active = self.container(slot)
        if active is None or active.status != 'running':
            raise DeployError('%s: cannot promote slot %s: its container %s is not running; fix: deploy again'
                              % (self.ids[3], slot, self.name(slot)))
        record = {'slot': slot, 'config_hash': active.labels.get('fleet.config_hash'),
                  'version': active.labels.get('fleet.version')}
        changed = read_active(self.p['state_dir'], self.ids[3]) != record
        if changed and not self.check_mode:
            write_active(self.p['state_dir'], self.ids[3], record)
        return self.result('promoted' if changed else 'none', slot, active, record['config_hash'],
                           previous=None, changed=changed)

    def cleaned(self):
        """Stop and remove the slot that does not serve, after the drain period: here and now (O(retire=wait)),
        or by a detached process on the server while the deploy goes on (O(retire=background), ``retire``)."""
        recorded, other = retire.old_slot(self.client, self.p['state_dir'], self.ids)
        background = self.p['retire'] == 'background'
        todo = other is not None
        if todo and not self.check_mode:
            if background:
                retire.hand_over(other, self.p['state_dir'], self.ids[3], self.p['drain_seconds'],
                                 self.p['stop_timeout'], self.p['docker_host'])
            else:
                self.remove(other, drain=self.p['drain_seconds'])
        active = self.container(recorded)
        return self.result(('retiring' if background else 'removed') if todo else 'none', recorded, active,
                           active.labels.get('fleet.config_hash') if active is not None else None,
                           previous=naming.other_slot(recorded) if todo else None, changed=todo)

    def created(self):
        chash = self.wanted_hash()
        current = self.container('primary')
        if current is not None and current.labels.get('fleet.config_hash') == chash:
            return self.result('none', 'primary', current, chash, previous=None, changed=False)
        if self.check_mode:
            return self.result('created', 'primary', None, chash, previous=None, changed=True)
        if current is not None and current.status == 'running':
            raise DeployError('%s: a scheduled run is in progress in %s; fix: deploy again when it has finished'
                              % (self.ids[3], current.name))
        self.remove(current)
        new = self.start('primary', chash, create_only=True)
        return self.result('created', 'primary', new, chash, previous=None, changed=True)

    def absent(self):
        names = [self.name('primary'), self.name('secondary'), self.name('primary') + '_previous']
        found = [c for c in (get_container(self.client, n) for n in names) if c is not None]
        if found and not self.check_mode:
            for c in found:
                self.remove(c)
        return {'changed': bool(found), 'action': 'removed' if found else 'none', 'health': []}

    def plan(self):
        """Why a deploy of this service (O(state) started or created) would act here, or ``''`` when it would
        not: the wanted image and configuration already run, recorded as serving, with no other slot or
        previous container left. Reads only; the deploy role skips a startup group none of whose services
        has a reason."""
        chash = self.wanted_hash()
        if self.p['state'] == 'created':
            current = self.container('primary')
            if current is None:
                return 'no container yet'
            return '' if current.labels.get('fleet.config_hash') == chash else 'a new image or configuration'
        if self.p['data_path']:
            if get_container(self.client, self.name('primary') + '_previous') is not None:
                return 'an interrupted run left its previous container'
            slot, active = 'primary', self.container('primary')
            if active is None or active.status != 'running':
                return 'not running'
        else:
            existing = {}
            for candidate in naming.SLOTS:
                c = self.container(candidate)
                if c is not None:
                    existing[candidate] = {'running': c.status == 'running', 'created': c.attrs.get('Created'),
                                           'container': c}
            slot = choose_slots(existing, read_active(self.p['state_dir'], self.ids[3]).get('slot'))[0]
            if slot is None:
                return 'not running'
            active = existing[slot]['container']
        if active.labels.get('fleet.config_hash') != chash:
            return 'a new image or configuration'
        if not self.settled('none', slot, active):
            return 'not recorded as serving, or its other slot still has a container'
        return ''

    def settled(self, action, slot, container):
        """Whether promoting and cleaning would do nothing: an unchanged service whose recorded slot is this
        container and whose other slot holds no container, or one being retired (the deploy role then skips both
        steps)."""
        if action != 'none' or container is None or self.p['state'] != 'started' or not self.p['state_dir']:
            return False
        record = {'slot': slot, 'config_hash': container.labels.get('fleet.config_hash'),
                  'version': container.labels.get('fleet.version')}
        other = self.container(naming.other_slot(slot))
        return read_active(self.p['state_dir'], self.ids[3]) == record and (other is None or self.retiring(other))

    def result(self, action, slot, container, chash, previous, changed):
        return {
            'changed': changed,
            'action': action,
            'settled': self.settled(action, slot, container),
            'active_slot': slot,
            'active_container': self.name(slot),
            'active_port': (self.p['host_port'] if self.p['data_path'] else slot_port(self.p, slot)),
            'previous_slot': previous,
            'config_hash': chash,
            'container_id': container.id if container is not None else None,
            'version': container.labels.get('fleet.version') if container is not None else self.p['version'],
            'image': self.p['image'] or (container.attrs.get('Config', {}).get('Image') if container is not None else None),
            'image_id': container.attrs.get('Image') if container is not None else None,
            'repo_digests': self.repo_digests(container),
            'health': self.health,
        }

    def repo_digests(self, container):
        """The registry digests (``repo@sha256:...``) of the image the container runs, when it came from one."""
        if container is None or not container.attrs.get('Image'):
            return []
        try:
            return list(self.client.images.get(container.attrs['Image']).attrs.get('RepoDigests') or [])
        except DockerException:
            return []


# toggle_deploy's options (its DOCUMENTATION describes them), also the shape of each of deploy_changes' services
TOGGLE_OPTIONS = dict(
    naming.tenant_argument_spec('required'),
    state=dict(type='str', default='started', choices=['started', 'promoted', 'cleaned', 'created', 'absent']),
    slot=dict(type='str', choices=['primary', 'secondary']),
    image=dict(type='str'),
    command=dict(type='raw'),
    env_vars=dict(type='dict', default={}),
    env_file=dict(type='path'),
    secrets=dict(type='list', elements='dict', default=[], no_log=False, options=dict(
        source=dict(type='path', required=True),
        target=dict(type='str'),
        owner=dict(type='int'),
        in_place=dict(type='bool', default=False),
    )),
    volumes=dict(type='list', elements='str', default=[]),
    data_path=dict(type='str'),
    container_port=dict(type='int'),
    host_port=dict(type='int'),
    secondary_port=dict(type='int'),
    bind_address=dict(type='str', default='127.0.0.1'),
    network=dict(type='str'),
    labels=dict(type='dict', default={}),
    version=dict(type='str', default='latest'),
    mem_limit=dict(type='str'),
    mem_reservation=dict(type='str'),
    cpus=dict(type='float'),
    shm_size=dict(type='str'),
    restart=dict(type='bool', default=True),
    health=dict(type='dict', default={}, options=dict(
        type=dict(type='str', default='running', choices=['http', 'postgres', 'redis', 'tcp', 'running', 'none']),
        path=dict(type='str', default='/'),
        host=dict(type='str'),
        retries=dict(type='int', default=6),
        interval=dict(type='float', default=10),
        start_period=dict(type='float', default=0),
        timeout=dict(type='float', default=5),
        stable_seconds=dict(type='float', default=5),
    )),
    state_dir=dict(type='path'),
    drain_seconds=dict(type='float', default=2),
    retire=dict(type='str', default='wait', choices=['wait', 'background']),
    stop_timeout=dict(type='int', default=10),
    log_lines=dict(type='int', default=80),
    docker_host=DOCKER_HOST_OPTION,
)


def run_one(params, client_factory, check_mode):
    """One service's state as a result dict (``item`` names the service, ``failed`` says how it went); a failure
    is a result too, with ``msg`` and the DeployError's extra keys, and ``action`` and ``settled`` of a service
    that did nothing."""
    item = {'item': params['service']}
    failure = dict(item, failed=True, changed=False, action='failed', settled=False)
    try:
        naming.check_ids(user=params['user'], project=params['project'], env=params['env'], service=params['service'])
        if params['state'] in ('started', 'created') and not params['image']:
            raise DeployError('%s: state %s needs image' % (params['service'], params['state']))
        if params['state'] == 'promoted' and not params['slot']:
            raise DeployError('%s: state promoted needs slot' % params['service'])
        if (params['container_port'] and not params['data_path'] and params['state'] == 'started'
                and not (params['host_port'] and params['secondary_port'])):
            raise DeployError('%s: a stateless service with a container port needs host_port and secondary_port'
                              % params['service'])
        result = getattr(ToggleDeployer(params, client_factory(), check_mode), params['state'])()
    except ValueError as exc:
        return dict(failure, msg=str(exc))
    except DeployError as exc:
        return dict(exc.extra, msg=str(exc), **failure)
    except DockerException as exc:
        return dict(failure, msg='%s: the Docker engine refused: %s' % (params['service'], exc))
    return dict(item, failed=False, **result)


def run_many(entries, client_factory, check_mode):
    """``run_one`` for each of ``entries`` (validated parameter dicts), side by side in threads, each with its own
    client: a group's services start and pass their health checks in parallel. Results in ``entries``' order."""
    if len(entries) <= 1:
        return [run_one(params, client_factory, check_mode) for params in entries]
    with ThreadPoolExecutor(max_workers=len(entries)) as pool:
        return list(pool.map(lambda params: run_one(params, client_factory, check_mode), entries))
