#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: backup_info
short_description: List (and verify) the backups of a fleet project environment on a host
version_added: 0.2.0
description:
  - Lists the backups in C({fleet_root}/{user}/{project}/{env}/backups/) on the host the task runs on, newest
    first per service, with size, time, server version and a status - V(ok), V(incomplete) (its checksum file or
    manifest is missing) or V(damaged) (its size differs from the manifest) - and the files left by interrupted
    backups. This is the seed's C(list_backups) and the data behind C(backups.yml).
  - With O(verify=true) every backup's checksum is checked too (every file is read).
  - Taking, pruning and restoring backups is M(projectdeployer.fleet.backup).
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._tenant
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  service:
    description: Only this service's backups.
    type: str
  fleet_root:
    description: The root of the fleet's directories on the host.
    type: path
    default: /local
  verify:
    description: Also check every backup's checksum.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: The backups of u1's myapp prod on this server, checked
  projectdeployer.fleet.backup_info:
    user: u1
    project: myapp
    env: prod
    verify: true
  register: listed
'''

RETURN = r'''
backups:
  description: One record per backup, service A-Z and newest first.
  returned: always
  type: list
  elements: dict
  sample:
    - name: postgres_backup_20261201_020000.dump
      path: /local/u1/myapp/prod/backups/postgres_backup_20261201_020000.dump
      service: postgres
      when: "2026-12-01T02:00:00Z"
      size: 1048576
      status: ok
      problem: null
      version: "15.8"
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
stray:
  description: Files left by interrupted backups (removed by the pruning of M(projectdeployer.fleet.backup) after a day).
  returned: always
  type: list
  elements: str
last_runs:
  description: The last scheduled run of each service's backup (from C(monitoring/backups/{service}.json)).
  returned: always
  type: dict
  sample:
    postgres: {status: ok, backup: postgres_backup_20261201_020000.dump, finished: "2026-12-01T02:00:01Z", error: null}
lines:
  description: The backups as a table, then the last scheduled run of each service, for people.
  returned: always
  type: list
  elements: str
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import files
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.text_table import text_table


def checked(record):
    """The listing record with its checksum verified (status damaged and the reason if it fails)."""
    if record['status'] != 'ok':
        return record
    try:
        files.verify(record['path'])
    except ValueError as exc:
        return dict(record, status='damaged', problem=str(exc))
    return dict(record, verified=True)


def human_size(size):
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if unit == 'B' and size < 1024:
            return '%d B' % size
        if round(size, 1) < 1024 or unit == 'GiB':
            return '%.1f %s' % (size, unit)
        size /= 1024.0


def table(backups, directory):
    """A table of the backups, then one line per backup with a problem."""
    if not backups:
        return ['no backups in %s' % directory]
    rows = [[b['name'], b['when'], human_size(b['size']), b.get('version') or '-', b['status']] for b in backups]
    problems = ['%s: %s' % (b['name'], b['problem']) for b in backups if b['problem']]
    return text_table(['backup', 'taken (UTC)', 'size', 'server', 'status'], rows) + problems


def last_runs(monitoring_dir, service=None):
    """The last scheduled run of each service's backup, as the backup program recorded it."""
    runs = {}
    directory = os.path.join(monitoring_dir, 'backups')
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return runs
    for name in names:
        if not name.endswith('.json') or (service and name != service + '.json'):
            continue
        try:
            with open(os.path.join(directory, name)) as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            continue
        if isinstance(record, dict):
            runs[name[:-len('.json')]] = record
    return runs


def run_lines(runs):
    lines = []
    for service in sorted(runs):
        run = runs[service]
        if run.get('status') == 'ok':
            lines.append('last scheduled backup of %s: ok at %s (%s)' % (service, run.get('finished'), run.get('backup')))
        else:
            lines.append('last scheduled backup of %s: FAILED at %s: %s' % (service, run.get('finished'), run.get('error')))
    return lines


def main():
    module = AnsibleModule(
        argument_spec=dict(
            naming.tenant_argument_spec('optional'),
            fleet_root=dict(type='path', default=naming.DEFAULT_FLEET_ROOT),
            verify=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        naming.check_ids(user=p['user'], project=p['project'], env=p['env'], service=p['service'])
        directory = files.backups_dir(p['fleet_root'], p['user'], p['project'], p['env'])
        backups = files.list_backups(directory, p['service'])
        if p['verify']:
            backups = [checked(record) for record in backups]
        stray = files.stray_files(directory)
        runs = last_runs(naming.project_dirs(p['fleet_root'], p['user'], p['project'], p['env'])['monitoring'],
                         p['service'])
    except (ValueError, OSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, backups=backups, stray=stray, last_runs=runs,
                     lines=table(backups, directory) + run_lines(runs))


if __name__ == '__main__':
    main()
