# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deployment history: one JSON object per line, appended under an exclusive lock."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import datetime, timezone

FIELDS = ('action', 'active_slot', 'active_container', 'version', 'config_hash', 'image', 'image_id', 'repo_digests')


def records_from_results(results, outcome, context):
    """History records from the loop results of toggle_deploy (failed ones included)."""
    at = datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    records = []
    for res in results:
        if not isinstance(res, dict) or res.get('skipped'):
            continue
        failed = bool(res.get('failed'))
        if not failed and res.get('action') in (None, 'none') and outcome != 'rolled_back':
            continue
        record = dict(context, at=at, service=res.get('item'), outcome='failed' if failed else outcome)
        record.update((k, res.get(k)) for k in FIELDS if res.get(k) is not None)
        if failed:
            record['message'] = res.get('msg')
            record['error_lines'] = res.get('error_lines') or []
        records.append(record)
    return records


def append_records(path, records):
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, 0o755, exist_ok=True)  # several hosts record at once (forks)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, 'a') as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        for record in records:
            handle.write(json.dumps(record, sort_keys=True) + '\n')
        handle.flush()
        os.fsync(handle.fileno())
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_records(path, service=None, limit=10):
    """The newest ``limit`` records (newest first), of one service if given."""
    try:
        with open(path) as handle:
            lines = handle.readlines()
    except (IOError, OSError):
        return []
    records = []
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if service and record.get('service') != service:
            continue
        records.append(record)
        if len(records) >= limit:
            break
    return records
