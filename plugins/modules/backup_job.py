#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: backup_job
short_description: Install the program that cron runs for scheduled backups on a fleet server
version_added: 0.2.0
description:
  - cron cannot run an Ansible module, so scheduled backups run a small program on the server. This module
    writes it as one zip, O(path) (C({fleet_root}/.fleet/lib/fleet-backup.zip) by default), built from the same
    code as M(projectdeployer.fleet.backup) (the module's own module_utils, carried to the server with it), and
    returns the command that runs it with the Python that runs Ansible's modules there (which has the Docker SDK).
  - The zip's bytes depend only on that code, so a second run changes nothing; a new collection version
    replaces it.
  - The program backs up one service and prunes exactly as the module does, and records each run in the
    project's C(monitoring/backups/{service}.json) (the last run) and C(monitoring/backup_runs.jsonl).
  - The C(deploy) role schedules it with M(ansible.builtin.cron) for each postgres, redis and opensearch service.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  path:
    description: Where the program goes.
    type: path
    default: /local/.fleet/lib/fleet-backup.zip
  schedules:
    description:
      - Database services whose backups cron runs, by name, each with its spec keys C(type) (V(postgres), V(redis) or
        V(opensearch)), C(backup_schedule) (a cron schedule) and C(backup_keep) (default 7); other keys are ignored.
      - Each gets C(/etc/cron.d/fleet_{user}_{project}_{env}_{service}_backup) (as M(ansible.builtin.cron) would
        write it, one entry), rewritten only when it differs. The deploy role gives every postgres, redis and opensearch
        service of the server, so one module run installs the program and all the schedules.
    type: dict
    default: {}
    version_added: 0.3.0
  user:
    description: The tenant's user (with O(schedules)).
    type: str
    version_added: 0.3.0
  project:
    description: The project (with O(schedules)).
    type: str
    version_added: 0.3.0
  env:
    description: The environment (with O(schedules)).
    type: str
    version_added: 0.3.0
  fleet_root:
    description: The fleet root on the server (with O(schedules)).
    type: path
    version_added: 0.3.0
  docker_host:
    description: The Docker engine the backups talk to.
    type: str
    default: unix:///var/run/docker.sock
    version_added: 0.3.0
  cron_dir:
    description: Where cron files go.
    type: path
    default: /etc/cron.d
    version_added: 0.3.0
requirements:
  - docker (the Docker SDK for Python) on the host, for the program to run
'''

EXAMPLES = r'''
- name: Install the scheduled backup program
  projectdeployer.fleet.backup_job:
    path: /local/.fleet/lib/fleet-backup.zip
  register: job

- name: Back up u1's postgres every night at 02:00
  ansible.builtin.cron:
    name: fleet u1_myapp_prod_postgres backup
    cron_file: fleet_u1_myapp_prod_postgres_backup
    user: root
    minute: "0"
    hour: "2"
    job: "{{ job.command }} --user u1 --project myapp --env prod --service postgres --type postgres"
'''

RETURN = r'''
command:
  description: The program's command line up to its arguments (the Python, then the zip); add C(--help) to see them.
  returned: always
  type: str
  sample: /usr/bin/python3 /local/.fleet/lib/fleet-backup.zip
sha256:
  description: The sha256 of the zip.
  returned: always
  type: str
cron_files:
  description: The cron files of O(schedules) that were written.
  returned: always
  type: list
  elements: str
cron_present:
  description: Whether C(/usr/sbin/cron) is on the server (the role installs cron when it is not).
  returned: always
  type: bool
'''

import os
import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import installed, program
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import program_zip
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.host_files import ensure_file
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import cron


def install_schedules(p, command, check_mode):
    """Write each schedule's cron file that differs; their paths."""
    written = []
    for path, content in installed.schedule_files(p['schedules'], command, p['user'], p['project'], p['env'],
                                                  p['fleet_root'], p['docker_host'], p['cron_dir']):
        if ensure_file(path, content, mode=installed.CRON_FILE_MODE, check_mode=check_mode):
            written.append(path)
    return written


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/local/.fleet/lib/fleet-backup.zip'),
            schedules=dict(type='dict', default={}),
            user=dict(type='str'),
            project=dict(type='str'),
            env=dict(type='str'),
            fleet_root=dict(type='path'),
            docker_host=dict(type='str', default='unix:///var/run/docker.sock'),
            cron_dir=dict(type='path', default='/etc/cron.d'),
        ),
        supports_check_mode=True)
    path = module.params['path']
    try:
        changed, digest = program_zip.install(path, program_zip.build_zip(program.sources()), module.check_mode)
    except OSError as exc:
        module.fail_json(msg='cannot write the backup program to %s: %s' % (path, exc))
    command = '%s %s' % (sys.executable, path)
    cron_files = []
    if module.params['schedules']:
        missing = [key for key in ('user', 'project', 'env', 'fleet_root') if not module.params[key]]
        if missing:
            module.fail_json(msg='schedules need %s; fix: name the tenant and its fleet root' % ', '.join(missing))
        try:
            cron_files = install_schedules(module.params, command, module.check_mode)
        except (ValueError, cron.CronError) as exc:
            module.fail_json(msg=str(exc))
        except OSError as exc:
            module.fail_json(msg='cannot write the backup schedule: %s' % exc)
    module.exit_json(changed=changed or bool(cron_files), command=command, sha256=digest, cron_files=cron_files,
                     cron_present=os.path.exists('/usr/sbin/cron'))


if __name__ == '__main__':
    main()
