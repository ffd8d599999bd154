# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether a server's health agent is installed as the deploy wants it, looked at without its inputs.

The health_agent module takes the agent's settings and the project env's secrets; a deploy asks deploy_changes,
which must not carry them, whether that module would change anything. So the controller makes a stamp of
everything it gives health_agent (the ``inputs_stamp`` filter: an HMAC keyed by the env's agent key, so it
tells nothing of the secrets in it), health_agent records it with the sha256 of every file it installed
(``{project_dir}/config/health.stamp.json``, 0600), and the agent is current when the recorded stamp is the
wanted one, every file is as installed, and the agent answers on its port.
"""

from __future__ import annotations

import json
import os
import socket

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import read_json_dict, write_atomic
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.program_zip import current_sha256


def stamp_path(project_dir):
    return os.path.join(project_dir, 'config', 'health.stamp.json')


def record(project_dir, stamp, paths, check_mode=False):
    """Record ``stamp`` and the digest of each of ``paths`` as they are now; whether the record changed."""
    wanted = {'stamp': stamp, 'files': dict((path, current_sha256(path)) for path in sorted(paths))}
    changed = read_json_dict(stamp_path(project_dir)) != wanted
    if changed and not check_mode:
        write_atomic(stamp_path(project_dir), json.dumps(wanted, sort_keys=True), mode=0o600, dir_mode=0o755)
    return changed


def listening(address, port, timeout=1.0):
    """Whether something accepts a TCP connection on ``address``:``port``."""
    try:
        with socket.create_connection((address, int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def is_current(project_dir, stamp, address, port, connect=listening):
    """Whether health_agent given inputs of ``stamp`` would change nothing here and the agent answers."""
    recorded = read_json_dict(stamp_path(project_dir))
    files = recorded.get('files')
    if not stamp or recorded.get('stamp') != stamp or not isinstance(files, dict) or not files:
        return False
    if any(current_sha256(path) != digest for path, digest in files.items()):
        return False
    return connect(address, port)
