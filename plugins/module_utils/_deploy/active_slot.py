# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which toggle slot serves: one small JSON file per service on the host.

Container labels say what each container is; they cannot say which of two running
containers the mesh points at (labels are fixed at creation), so the promotion
writes it down here, atomically.
"""

from __future__ import annotations

import json
import os
import tempfile


def _path(state_dir, service):
    return os.path.join(state_dir, '%s.json' % service)


def read_active(state_dir, service):
    """The recorded ``{'slot': ..., 'config_hash': ..., 'promoted_at': ...}`` or {}."""
    if not state_dir:
        return {}
    try:
        with open(_path(state_dir, service)) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_active(state_dir, service, record):
    """Record ``record`` for ``service``; returns True when the file changed."""
    if not state_dir:
        return False
    if read_active(state_dir, service) == record:
        return False
    if not os.path.isdir(state_dir):
        os.makedirs(state_dir, 0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % service, dir=state_dir)
    with os.fdopen(fd, 'w') as handle:
        json.dump(record, handle, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, _path(state_dir, service))
    return True


def remove_or_write_active(state_dir, service, record):
    """Put ``record`` back (an empty one: no record at all)."""
    if record:
        return write_active(state_dir, service, record)
    try:
        os.unlink(_path(state_dir, service))
        return True
    except FileNotFoundError:
        return False
