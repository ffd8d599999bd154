# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure parts of a toggle deploy: the config hash, the container definition, the slot choice."""

from __future__ import annotations

import hashlib
import json

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming

# Where secret files appear inside containers (read-only).
SECRETS_MOUNT = '/run/secrets'


def config_hash(desired, image_id, secret_digests):
    """sha256 of everything that makes a container what it is, slot and time excluded.

    ``secret_digests`` maps each secret's target path to the sha256 of its content,
    so a rotated secret changes the hash without the secret itself being hashed in
    anything that is shown.
    """
    material = {
        'image_id': image_id,
        'command': desired.get('command'),
        'env_vars': desired.get('env_vars') or {},
        'volumes': sorted(desired.get('volumes') or []),
        # a secret that rotation changes in place (a database's own password) is not part of what the
        # container is: its new content is applied to the running server, never by recreating it
        'secrets': sorted((secret_target(s), 'in-place' if s.get('in_place') else secret_digests.get(secret_target(s), ''))
                          for s in desired.get('secrets') or []),
        'container_port': desired.get('container_port'),
        'data_path': desired.get('data_path'),
        'network': desired.get('network'),
        'mem_limit': desired.get('mem_limit'),
        'mem_reservation': desired.get('mem_reservation'),
        'cpus': desired.get('cpus'),
        'restart': desired.get('restart'),
        'version': desired.get('version'),
        'labels': desired.get('labels') or {},
    }
    if desired.get('shm_size'):  # only when set: containers deployed before it existed keep their hash
        material['shm_size'] = desired['shm_size']
    blob = json.dumps(material, sort_keys=True, separators=(',', ':'), default=str)
    return hashlib.sha256(blob.encode('utf-8')).hexdigest()[:16]


def secret_target(secret):
    return secret.get('target') or '%s/%s' % (SECRETS_MOUNT, secret['source'].rstrip('/').rsplit('/', 1)[-1])


def _memory(value):
    return value or None


def container_kwargs(desired, slot, host_port, chash, deployed_at):
    """Keyword arguments for ``client.containers.create`` for one slot."""
    user, project, env, service = (desired['user'], desired['project'], desired['env'], desired['service'])
    labels = dict(desired.get('labels') or {})
    labels.update(naming.container_labels(user, project, env, service, slot, desired.get('version') or 'latest',
                                          chash, deployed_at))
    mounts = []
    for secret in desired.get('secrets') or []:
        mounts.append('%s:%s:ro' % (secret['source'], secret_target(secret)))
    if desired.get('data_path'):
        mounts.append('%s:%s' % (naming.volume_name(user, project, env, service, 'data'), desired['data_path']))
    mounts.extend(desired.get('volumes') or [])
    kwargs = {
        'name': naming.container_name(user, project, env, service, slot),
        'image': desired['image'],
        'command': desired.get('command') or None,
        'environment': dict(desired.get('env_vars') or {}),
        'labels': labels,
        'volumes': mounts,
        'network': desired.get('network'),
        'restart_policy': {'Name': 'unless-stopped'} if desired.get('restart', True) else {'Name': 'no'},
        'mem_limit': _memory(desired.get('mem_limit')),
        'mem_reservation': _memory(desired.get('mem_reservation')),
        'shm_size': desired.get('shm_size') or None,
        'log_config': {'Type': 'json-file', 'Config': {'max-size': '10m', 'max-file': '3'}},
        'hostname': service,
    }
    if desired.get('cpus'):
        kwargs['nano_cpus'] = int(float(desired['cpus']) * 1e9)
    if desired.get('container_port') and host_port:
        kwargs['ports'] = {'%d/tcp' % desired['container_port']: (desired['bind_address'], host_port)}
    return dict((k, v) for k, v in kwargs.items() if v is not None)


def slot_port(desired, slot):
    return desired.get('host_port') if slot == 'primary' else desired.get('secondary_port')


def choose_slots(existing, recorded_active):
    """Which slot serves now and which one the new version goes to.

    ``existing`` maps slot -> ``{'running': bool, 'created': str}`` for the slots that
    have a container.  ``recorded_active`` is the slot the last promotion wrote down
    (None when unknown).  Returns ``(active, target)``: ``active`` is None on a first
    deploy; ``target`` is always the other slot (primary on a first deploy).
    """
    running = [s for s in naming.SLOTS if existing.get(s, {}).get('running')]
    if recorded_active in running:
        active = recorded_active
    elif len(running) == 1:
        active = running[0]
    elif running:
        # Both run and nothing says which serves: the older one was there first and
        # is the one the mesh still points at after an interrupted deploy.
        active = min(running, key=lambda s: existing[s].get('created') or '')
    else:
        active = None
    target = naming.other_slot(active) if active else 'primary'
    return active, target
