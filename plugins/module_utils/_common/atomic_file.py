# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Replace a small file atomically: a reader sees the old content or the new, never a part; and read a small
JSON state file back."""

from __future__ import annotations

import json
import os
import tempfile


def read_json_dict(path):
    """The JSON object in the file at ``path``; {} when it is missing, unreadable or not an object."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_atomic(path, content, mode=0o600, dir_mode=0o700):
    """Write ``content`` (text or bytes) to ``path`` through a fsynced temp file in the same directory,
    then rename it over ``path``. The temp file is created 0600 (so a secret is never readable by others,
    not even for a moment), then given ``mode``; a missing directory is created ``dir_mode``."""
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        os.makedirs(directory, dir_mode, exist_ok=True)  # another process may make it meanwhile
    data = content.encode('utf-8') if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
