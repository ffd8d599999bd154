# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The scheduled backup of one service, as cron runs it on a server.

cron cannot run an Ansible module, so ``backup_schedule`` installs this code (with
the module_utils it needs) as one zip on the server, run as
``python3 {fleet_root}/.fleet/lib/fleet-backup.zip --user u1 ... --service postgres``.
It takes the backup and prunes exactly as the ``backup`` module does, and keeps the
result where status and monitoring read it:

* ``monitoring/backups/{service}.json``: the last run (written atomically, replaced);
* ``monitoring/backup_runs.jsonl``: one line per run, appended;
* one line on stdout (cron appends it to ``logs/backup/{service}.log``).

A failure is one line (no traceback) and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import engine
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import files
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DockerException, FleetDockerError, get_client)

RESULT_DIR = 'backups'
RUNS_FILE = 'backup_runs.jsonl'


def parser():
    p = argparse.ArgumentParser(prog='fleet-backup', description='Back up one fleet database service and prune.')
    p.add_argument('--fleet-root', default=naming.DEFAULT_FLEET_ROOT)
    for name in ('user', 'project', 'env', 'service'):
        p.add_argument('--' + name, required=True)
    p.add_argument('--type', required=True, choices=['postgres', 'redis', 'opensearch'])
    p.add_argument('--keep', type=int, default=7)
    p.add_argument('--keep-days', type=float)
    p.add_argument('--timeout', type=int, default=3600)
    p.add_argument('--docker-host', default=DOCKER_HOST_OPTION['default'])
    return p


def _write_json(path, record):
    directory = os.path.dirname(path)
    os.makedirs(directory, 0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.result.', dir=directory)
    with os.fdopen(fd, 'w') as handle:
        json.dump(record, handle, sort_keys=True, indent=1)
        handle.write('\n')
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def record_result(monitoring_dir, record):
    """Keep the run's record as the service's last result and append it to the runs log."""
    _write_json(os.path.join(monitoring_dir, RESULT_DIR, '%s.json' % record['service']), record)
    with open(os.path.join(monitoring_dir, RUNS_FILE), 'a') as handle:
        handle.write(json.dumps(record, sort_keys=True) + '\n')


def summary(record):
    if record['status'] == 'ok':
        return '%s %s: backed up %s (%d bytes, %.1f s); pruned %d' % (
            record['finished'], record['service'], record['backup'], record['size'], record['duration_s'],
            len(record['pruned']))
    return '%s %s: backup FAILED: %s' % (record['finished'], record['service'], record['error'])


def run(args, clock=None):
    """Back up and prune; the run's record (status ``ok`` or ``failed`` with ``error``)."""
    clock = clock or (lambda: datetime.now(timezone.utc))
    started, begun = clock(), time.monotonic()
    record = {'service': args.service, 'kind': args.type, 'started': files.iso(started), 'status': 'failed',
              'backup': None, 'size': None, 'sha256': None, 'pruned': [], 'error': None}
    try:
        naming.check_ids(user=args.user, project=args.project, env=args.env, service=args.service)
        directory = files.backups_dir(args.fleet_root, args.user, args.project, args.env)
        svc = engine.Service(get_client(args.docker_host), args.user, args.project, args.env, args.service,
                             args.type, args.fleet_root)
        taken = engine.take_backup(svc, args.timeout, clock)
        record.update(status='ok', backup=taken['name'], size=taken['size'], sha256=taken['sha256'])
        record['pruned'] = files.prune(directory, args.service, args.keep, args.keep_days, clock())
    except (FleetDockerError, DockerException, ValueError, OSError) as exc:
        record['error'] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    record.update(finished=files.iso(clock()), duration_s=round(time.monotonic() - begun, 3))
    return record


def main(argv=None):
    args = parser().parse_args(argv)
    record = run(args)
    try:
        record_result(naming.project_dirs(args.fleet_root, args.user, args.project, args.env)['monitoring'], record)
    except (OSError, ValueError) as exc:
        sys.stdout.write('%s: cannot record the result in monitoring/: %s\n' % (args.service, exc))
        return 1
    sys.stdout.write(summary(record) + '\n')
    return 0 if record['status'] == 'ok' else 1
