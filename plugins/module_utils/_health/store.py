# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a server keeps a project env's health state: ``{project_dir}/monitoring/health/``.

- ``heal.json``: each service's heal state (module_utils/_health/policy);
- ``incidents.json``: the incidents and their mails (incidents);
- ``peers.json``: this server's view of its peers (quorum); ``status.json``: the monitor's last round;
- ``actions.jsonl``: one line per heal action, appended; ``refused.jsonl``: requests the agent refused.
The agent and the monitor change them only under ``locked`` (flock on ``.lock``), so the two never send
a mail twice or lose an update. pull.yml brings monitoring/ to the controller.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import write_atomic
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.deploy_lock import try_flock

DIRECTORY = os.path.join('monitoring', 'health')
MAX_LOG_BYTES = 4 * 1024 * 1024


def health_dir(project_dir):
    return os.path.join(project_dir, DIRECTORY)


def load(project_dir, name, default=None):
    try:
        with open(os.path.join(health_dir(project_dir), name)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {} if default is None else default


def save(project_dir, name, data):
    write_atomic(os.path.join(health_dir(project_dir), name), json.dumps(data, sort_keys=True, indent=1) + '\n',
                 mode=0o644, dir_mode=0o755)


def append(project_dir, name, record):
    """Append one JSON line (the file is started over, keeping its last half, past MAX_LOG_BYTES)."""
    directory = health_dir(project_dir)
    os.makedirs(directory, 0o755, exist_ok=True)
    path = os.path.join(directory, name)
    try:
        if os.path.getsize(path) > MAX_LOG_BYTES:
            with open(path, 'rb') as handle:
                handle.seek(-MAX_LOG_BYTES // 2, os.SEEK_END)
                tail = handle.read().split(b'\n', 1)[-1]
            write_atomic(path, tail, mode=0o644, dir_mode=0o755)
    except OSError:
        pass
    with open(path, 'a') as handle:
        handle.write(json.dumps(record, sort_keys=True) + '\n')


def read_lines(project_dir, name, limit=50):
    try:
        with open(os.path.join(health_dir(project_dir), name)) as handle:
            lines = handle.readlines()[-limit:]
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


@contextlib.contextmanager
def locked(project_dir):
    directory = health_dir(project_dir)
    os.makedirs(directory, 0o755, exist_ok=True)
    fd = os.open(os.path.join(directory, '.lock'), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def exclusive(project_dir, name):
    """A context giving True holding the flock ``name`` (in this directory), or False at once when another process
    holds it."""
    directory = health_dir(project_dir)
    os.makedirs(directory, 0o755, exist_ok=True)
    return try_flock(os.path.join(directory, name))
