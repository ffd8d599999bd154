#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: toggle_deploy
short_description: Deploy one fleet service on one Docker host with zero downtime
version_added: 0.1.0
description:
  - Deploys one service of a user's project environment on the Docker host the task runs on.
  - B(Stateless) services toggle between the primary container C({user}_{project}_{env}_{service}) on the
    base host port and C(..._secondary) on the secondary port. With O(state=started) the new version is
    started in the free slot and health-checked while the old one keeps serving; the caller then
    records the new slot with O(state=promoted), switches the mesh, and calls O(state=cleaned), which
    removes the old container after a drain period. A new version that fails its health check is
    removed; the old one never stopped.
  - B(Stateful) services (O(data_path) set) never run twice on one data directory. They are recreated only
    when their image or configuration changed; if the new container fails its check it is removed and the
    previous one is started again on the same data.
  - B(Scheduled) services (O(state=created)) get their container created, not started; a timer starts it.
  - An unchanged image and configuration changes nothing and restarts nothing.
  - Failures report the container's state, exit code and its error lines marked with a cross, found by
    several log retrieval methods.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._tenant
  - projectdeployer.fleet._tenant.service
  - projectdeployer.fleet._tenant.docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  state:
    description:
      - V(started) starts the wanted version (toggling to the free slot for stateless services) and checks its health.
      - V(promoted) records O(slot) as the serving slot, once every sidecar and edge is about to point at it.
      - V(cleaned) stops and removes the container of the slot that does not serve, after O(drain_seconds).
      - V(created) creates the container of a scheduled service without starting it.
      - V(absent) removes the service's containers (never its volumes).
    type: str
    choices: [started, promoted, cleaned, created, absent]
    default: started
  slot:
    description: The slot to promote, as returned by O(state=started) in RV(active_slot).
    type: str
    choices: [primary, secondary]
  image:
    description: The image to run. Pulled when the host lacks it.
    type: str
  command:
    description: The command, as a string split like a shell would, or a list.
    type: raw
  env_vars:
    description:
      - Environment variables that are not secret (the wiring to dependencies, ports, names).
      - Values that may be secret go in O(env_file), so they never pass through the module's arguments.
    type: dict
    default: {}
  env_file:
    description:
      - A C(KEY=VALUE) file on the host (mode 0600) whose variables are added to O(env_vars); the user's own
        C(env_vars) from the spec arrive this way. Its content counts in the configuration hash.
    type: path
  secrets:
    description: Files on the host mounted read-only into the container.
    type: list
    elements: dict
    default: []
    suboptions:
      source:
        description: The file on the host.
        type: path
        required: true
      target:
        description: The path inside the container; default C(/run/secrets/<file name>).
        type: str
      owner:
        description:
          - The uid the container reads the file as, when it is not root (for example V(1000) for built apps,
            V(999) for the redis image). A copy owned by that uid, mode 0400, is mounted instead of the file;
            the source stays root's, 0600, in its 0700 directory.
        type: int
      in_place:
        description:
          - The file is a database's own password, which secret rotation (C(rotate_secrets.yml)) applies to the running
            server and writes in place. Its content then does not count in the container's configuration, so a
            rotation never recreates the database.
        type: bool
        default: false
  volumes:
    description: Extra mounts in Docker's C(source:target[:ro]) form.
    type: list
    elements: str
    default: []
  data_path:
    description: Where the service keeps its data inside the container. Setting it makes the service stateful, with the
      volume C({user}_{project}_{env}_data_{service}) mounted there.
    type: str
  container_port:
    description: The port the service listens on inside the container.
    type: int
  host_port:
    description: The base host port (primary slot, and the only one of a stateful service).
    type: int
  secondary_port:
    description: The host port of the secondary slot.
    type: int
  bind_address:
    description: The host address ports are published on (the server's private address).
    type: str
    default: 127.0.0.1
  network:
    description: The tenant's Docker network.
    type: str
  labels:
    description: Extra labels.
    type: dict
    default: {}
  version:
    description: The version recorded in the C(fleet.version) label.
    type: str
    default: latest
  mem_limit:
    description: Memory limit, for example V(512m).
    type: str
  mem_reservation:
    description: Memory reservation, for example V(256m).
    type: str
  cpus:
    description: CPU limit in cores, for example V(1.0).
    type: float
  shm_size:
    description:
      - Size of the container's C(/dev/shm) in Docker syntax, for example V(256m); Docker's 64 MiB when not set.
      - Part of the configuration hash only when set.
    type: str
    version_added: 0.2.0
  restart:
    description: Restart the container when it stops (policy C(unless-stopped)).
    type: bool
    default: true
  health:
    description: The health check of a new container.
    type: dict
    default: {}
    suboptions:
      type:
        description: V(http) asks O(health.path) on the host port; V(postgres) runs pg_isready; V(redis) sends PING;
          V(tcp) connects; V(running) waits O(health.stable_seconds) without a restart; V(none) skips the check.
        type: str
        choices: [http, postgres, redis, tcp, running, none]
        default: running
      path:
        description: The HTTP path.
        type: str
        default: /
      host:
        description:
          - The Host header of an HTTP check (the service's domain); without it C(ADDRESS:PORT).
        type: str
      retries:
        description: How many tries.
        type: int
        default: 6
      interval:
        description: Seconds between tries.
        type: float
        default: 10
      start_period:
        description: Seconds of grace before the first try.
        type: float
        default: 0
      timeout:
        description: Seconds each try may take.
        type: float
        default: 5
      stable_seconds:
        description: For V(running), how long the container must stay up without a restart.
        type: float
        default: 5
  state_dir:
    description: Directory on the host that records which slot serves, one file per service.
    type: path
  drain_seconds:
    description: Seconds between the switch and stopping the old container, for in-flight requests to finish.
    type: float
    default: 2
  stop_timeout:
    description: Seconds a container gets to stop before it is killed.
    type: int
    default: 10
  log_lines:
    description: How many log lines a failure report looks at.
    type: int
    default: 80
'''

EXAMPLES = r'''
- name: Start the new version of the api next to the old one
  projectdeployer.fleet.toggle_deploy:
    user: u1
    project: myapp
    env: prod
    service: api
    image: u1_myapp_prod_api:2
    container_port: 8000
    host_port: 8988
    secondary_port: 18988
    bind_address: 10.110.0.5
    network: u1_myapp_prod_net
    health: {type: http, path: /health}
    state_dir: /local/u1/myapp/prod/config/deploy
  register: api

- name: Record that it serves
  projectdeployer.fleet.toggle_deploy:
    user: u1
    project: myapp
    env: prod
    service: api
    state: promoted
    slot: "{{ api.active_slot }}"
    state_dir: /local/u1/myapp/prod/config/deploy

# ... switch every sidecar and edge with projectdeployer.fleet.nginx_mesh ...

- name: Stop the old version once in-flight requests are done
  projectdeployer.fleet.toggle_deploy:
    user: u1
    project: myapp
    env: prod
    service: api
    state: cleaned
    state_dir: /local/u1/myapp/prod/config/deploy
'''

RETURN = r'''
settled:
  description:
    - With O(state=started), true when the service was already serving this configuration, its slot is the recorded
      one and its other slot holds no container, so V(promoted) and V(cleaned) would do nothing.
  returned: always
  type: bool
  sample: true
action:
  description: What was done, one of V(none), V(started), V(resumed), V(recreated), V(promoted), V(created), V(removed).
  returned: always
  type: str
  sample: started
active_slot:
  description: The slot that serves (after O(state=started), the slot to promote).
  returned: success
  type: str
  sample: secondary
active_container:
  description: The name of that slot's container.
  returned: success
  type: str
  sample: u1_myapp_prod_api_secondary
active_port:
  description: The host port of that slot.
  returned: success
  type: int
  sample: 18988
previous_slot:
  description: The slot that served before, if any.
  returned: success
  type: str
  sample: primary
config_hash:
  description: The hash of the wanted image and configuration, also in the C(fleet.config_hash) label.
  returned: success
  type: str
container_id:
  description: The id of the active container.
  returned: success
  type: str
version:
  description: The version of the active container.
  returned: success
  type: str
image:
  description: The image of the active container.
  returned: success
  type: str
image_id:
  description: The id (content digest) of the image the active container runs; a rollback to this deploy runs it again.
  returned: success
  type: str
  sample: sha256:5fbc482abdf6c4a4...
repo_digests:
  description: The registry digests of that image, when it was pulled from or pushed to a registry.
  returned: success
  type: list
  elements: str
health:
  description: What each health try found.
  returned: always
  type: list
  elements: str
error_lines:
  description: On a failed health check, the container's error lines marked with a cross, error lines first.
  returned: failure
  type: list
  elements: str
'''

import hashlib
import os
import time
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import health_check as health
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, ImageNotFound,
    get_client, get_container)
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
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.p = dict(module.params)
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
            if self.module.check_mode:
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
        container.remove(force=True)
        return True

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
        if self.module.check_mode:
            return self.result('started', target, None, chash, previous=active, changed=True)
        if candidate:
            self.remove(candidate['container'])
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
        if prev is not None and main is None and not self.module.check_mode:
            prev.rename(main_name)     # an interrupted run left only the previous one: it is the service
            main, prev = prev, None
        if main is not None and main.status == 'running' and main.labels.get('fleet.config_hash') == chash:
            if prev is not None and not self.module.check_mode:
                self.remove(prev)
            return self.result('none', 'primary', main, chash, previous=None, changed=prev is not None)
        if self.module.check_mode:
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
        if changed and not self.module.check_mode:
            write_active(self.p['state_dir'], self.ids[3], record)
        return self.result('promoted' if changed else 'none', slot, active, record['config_hash'],
                           previous=None, changed=changed)

    def cleaned(self):
        """Stop and remove the slot that does not serve, after the drain period."""
        recorded = read_active(self.p['state_dir'], self.ids[3]).get('slot')
        if recorded not in naming.SLOTS:
            raise DeployError('%s: no promoted slot is recorded in %s; fix: deploy again'
                              % (self.ids[3], self.p['state_dir']))
        other = self.container(naming.other_slot(recorded))
        if other is not None and not self.module.check_mode:
            self.remove(other, drain=self.p['drain_seconds'])
        active = self.container(recorded)
        return self.result('removed' if other is not None else 'none', recorded, active,
                           active.labels.get('fleet.config_hash') if active is not None else None,
                           previous=naming.other_slot(recorded) if other is not None else None,
                           changed=other is not None)

    def created(self):
        chash = self.wanted_hash()
        current = self.container('primary')
        if current is not None and current.labels.get('fleet.config_hash') == chash:
            return self.result('none', 'primary', current, chash, previous=None, changed=False)
        if self.module.check_mode:
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
        if found and not self.module.check_mode:
            for c in found:
                self.remove(c)
        return {'changed': bool(found), 'action': 'removed' if found else 'none', 'health': []}

    def settled(self, action, slot, container):
        """Whether promoting and cleaning would do nothing: an unchanged service whose recorded slot is this
        container and whose other slot holds no container (the deploy role then skips both steps)."""
        if action != 'none' or container is None or self.p['state'] != 'started' or not self.p['state_dir']:
            return False
        record = {'slot': slot, 'config_hash': container.labels.get('fleet.config_hash'),
                  'version': container.labels.get('fleet.version')}
        return (read_active(self.p['state_dir'], self.ids[3]) == record
                and self.container(naming.other_slot(slot)) is None)

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


def main():
    module = AnsibleModule(
        argument_spec=dict(
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
            stop_timeout=dict(type='int', default=10),
            log_lines=dict(type='int', default=80),
            docker_host=DOCKER_HOST_OPTION,
        ),
        required_if=[
            ('state', 'started', ('image',)),
            ('state', 'created', ('image',)),
            ('state', 'promoted', ('slot',)),
        ],
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    try:
        naming.check_ids(user=p['user'], project=p['project'], env=p['env'], service=p['service'])
        if p['container_port'] and not p['data_path'] and p['state'] == 'started' and not (p['host_port'] and p['secondary_port']):
            raise DeployError('%s: a stateless service with a container port needs host_port and secondary_port'
                              % p['service'])
        deployer = ToggleDeployer(module, get_client(p['docker_host']))
        result = getattr(deployer, p['state'])()
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except DeployError as exc:
        module.fail_json(msg=str(exc), **exc.extra)
    except FleetDockerError as exc:
        module.fail_json(msg=str(exc))
    except DockerException as exc:
        module.fail_json(msg='%s: the Docker engine refused: %s' % (p['service'], exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
