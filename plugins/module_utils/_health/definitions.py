# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deploy state a server heals from: each service's container definitions, by configuration hash.

``toggle_deploy`` keeps, for every service it started (or found already running) and checked, the
options it started it with in ``config/health/{service}.json`` (0600): ``{config_hash: options}``, at most
the recorded serving one and the newest. The healer recreates a removed container from the entry of the
hash ``config/deploy/{service}.json`` records as serving, with the same code the deploy used, so the
container it makes is the deploy's (same name, slot, port, labels, mounts). Secrets are files named by
path, never copied here.
"""

from __future__ import annotations

import json
import os

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import read_json_dict, write_atomic
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import read_active

DIRECTORY = os.path.join('config', 'health')
# what is run-specific, not the container's definition
DROPPED = ('state', 'slot', 'drain_seconds', 'docker_host')


def path_of(project_dir, service):
    return os.path.join(project_dir, DIRECTORY, '%s.json' % service)


def read(project_dir, service):
    return read_json_dict(path_of(project_dir, service))


def remember(project_dir, service, config_hash, options, serving_hash=None, check_mode=False):
    """Keep ``options`` under ``config_hash`` (and the serving hash's entry); True when the file changed."""
    current = read(project_dir, service)
    kept = dict((h, o) for h, o in current.items() if h == serving_hash and h != config_hash)
    kept[config_hash] = dict((k, v) for k, v in sorted(options.items()) if k not in DROPPED)
    if kept == current:
        return False
    if not check_mode:
        write_atomic(path_of(project_dir, service), json.dumps(kept, sort_keys=True, indent=1) + '\n',
                     mode=0o600, dir_mode=0o700)
    return True


def services(project_dir):
    """The services with a definition here."""
    try:
        names = os.listdir(os.path.join(project_dir, DIRECTORY))
    except OSError:
        return []
    return sorted(n[:-len('.json')] for n in names if n.endswith('.json') and not n.startswith('.'))


def serving(project_dir, state_dir, service):
    """``(record, options)``: the deploy's record of the service's serving slot ({} when none) and the kept
    definition of the recorded configuration (None when it is not kept)."""
    record = read_active(state_dir, service)
    return record, read(project_dir, service).get(record.get('config_hash') or '')


def recorded(project_dir, state_dir):
    """``(service, record, options)`` of :func:`serving` for every service with a definition here."""
    for service in services(project_dir):
        record, options = serving(project_dir, state_dir, service)
        yield service, record, options
