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

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import read_json_dict, write_atomic


def _path(state_dir, service):
    return os.path.join(state_dir, '%s.json' % service)


def read_active(state_dir, service):
    """The recorded ``{'slot': ..., 'config_hash': ..., 'promoted_at': ...}`` or {}."""
    return read_json_dict(_path(state_dir, service)) if state_dir else {}


def write_active(state_dir, service, record):
    """Record ``record`` for ``service``; returns True when the file changed."""
    if not state_dir:
        return False
    if read_active(state_dir, service) == record:
        return False
    write_atomic(_path(state_dir, service), json.dumps(record, sort_keys=True), mode=0o644, dir_mode=0o755)
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
