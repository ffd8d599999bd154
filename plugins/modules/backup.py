#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: backup
short_description: Take, prune and restore backups of a fleet database service
version_added: 0.2.0
description:
  - Runs on the Docker host that runs the service. Backups live in C({fleet_root}/{user}/{project}/{env}/backups/)
    (0700, files 0600) as C({service}_backup_{YYYYmmdd_HHMMSS}.{dump|rdb}), each with a C(.sha256) file in
    C(sha256sum) format and a C(.json) manifest (service, kind, server version, size, checksum, duration, source
    container and image).
  - O(state=present) takes a backup. PostgreSQL is dumped with C(pg_dump --format=custom) (one consistent
    snapshot, compressed); Redis with C(BGSAVE) and a copy of the finished RDB. The data is streamed to a hidden
    temp file, fsynced and checksummed, and only then given its final name, so a listed backup is always whole.
  - O(state=absent) prunes the service's backups - the newest O(keep) always stay, older ones are deleted once
    older than O(keep_days) (or at once without it), and the newest good backup is never deleted - and removes
    files left by interrupted backups after a day.
  - O(state=restored) restores O(backup_file) into the running service (or into O(target_service) of the same
    type). The checksum is verified first and the archive read by the database's own tool; a damaged, truncated
    or foreign file is refused before anything changes. A backup of the current data is taken first
    (O(safety_backup)). PostgreSQL is restored into a fresh database that replaces the live one only when
    complete (sessions of the old one are ended); Redis is stopped, its files are replaced and it is started
    again, and the previous files come back if it does not serve the restored data. Either way a failed
    restore leaves the current data as it was.
  - Listing and verifying are M(projectdeployer.fleet.backup_info).
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._tenant
  - projectdeployer.fleet._tenant.service
  - projectdeployer.fleet._tenant.docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Every O(state=present) run takes a new backup, every O(state=restored) run restores; O(state=absent)
      is idempotent.
options:
  type:
    description: The service's type.
    type: str
    required: true
    choices: [postgres, redis, opensearch]
  state:
    description: V(present) takes a backup, V(absent) prunes old ones, V(restored) restores O(backup_file).
    type: str
    choices: [present, absent, restored]
    default: present
  fleet_root:
    description: The root of the fleet's directories on the host.
    type: path
    default: /local
  backup_file:
    description:
      - With O(state=restored), the backup to restore - a name in the project's backups folder (as
        M(projectdeployer.fleet.backup_info) lists it) or an absolute path on the host.
    type: str
  target_service:
    description: With O(state=restored), restore into this service (same type) instead of O(service).
    type: str
  safety_backup:
    description: With O(state=restored), back the current data up first.
    type: bool
    default: true
  keep:
    description: With O(state=absent), how many of the newest backups always stay (the spec's C(backup_keep)).
    type: int
    default: 7
  keep_days:
    description: With O(state=absent), backups younger than this many days also stay.
    type: float
  timeout:
    description: Seconds each step (the dump, the archive check, the restore) may take.
    type: int
    default: 3600
'''

EXAMPLES = r'''
- name: Back up u1's postgres
  projectdeployer.fleet.backup:
    user: u1
    project: myapp
    env: prod
    service: postgres
    type: postgres
  register: taken

- name: Keep the newest 7 redis backups
  projectdeployer.fleet.backup:
    user: u1
    project: myapp
    env: prod
    service: redis
    type: redis
    state: absent
    keep: 7

- name: Restore a postgres backup
  projectdeployer.fleet.backup:
    user: u1
    project: myapp
    env: prod
    service: postgres
    type: postgres
    state: restored
    backup_file: postgres_backup_20261201_020000.dump
'''

RETURN = r'''
backup:
  description: With O(state=present), the manifest of the new backup and its O(ignore:path).
  returned: state is present and not check mode
  type: dict
  sample:
    name: postgres_backup_20261201_020000.dump
    path: /local/u1/myapp/prod/backups/postgres_backup_20261201_020000.dump
    service: postgres
    kind: postgres
    format: pg_dump-custom
    version: "15.8"
    size: 1048576
    sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    duration_s: 1.25
deleted:
  description: With O(state=absent), the backups (and stray files) removed.
  returned: state is absent
  type: list
  elements: str
restore:
  description: With O(state=restored), what was restored where.
  returned: state is restored and not check mode
  type: dict
  sample:
    restored_from: postgres_backup_20261201_020000.dump
    target: postgres
    container: u1_myapp_prod_postgres
    safety_backup: postgres_backup_20261202_101500.dump
    tables: 4
    duration_s: 3.2
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import engine
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import files
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client)


def prune(module, directory):
    p = module.params
    deleted = files.prune(directory, p['service'], p['keep'], p['keep_days'], dry_run=module.check_mode)
    module.exit_json(changed=bool(deleted), deleted=deleted)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            naming.tenant_argument_spec('required'),
            type=dict(type='str', required=True, choices=['postgres', 'redis', 'opensearch']),
            state=dict(type='str', default='present', choices=['present', 'absent', 'restored']),
            fleet_root=dict(type='path', default=naming.DEFAULT_FLEET_ROOT),
            backup_file=dict(type='str'),
            target_service=dict(type='str'),
            safety_backup=dict(type='bool', default=True),
            keep=dict(type='int', default=7),
            keep_days=dict(type='float'),
            timeout=dict(type='int', default=3600),
            docker_host=DOCKER_HOST_OPTION,
        ),
        required_if=[('state', 'restored', ['backup_file'])],
        supports_check_mode=True,
    )
    p = module.params
    try:
        naming.check_ids(user=p['user'], project=p['project'], env=p['env'], service=p['service'])
        directory = files.backups_dir(p['fleet_root'], p['user'], p['project'], p['env'])
        if p['state'] == 'absent':
            prune(module, directory)
        if not HAS_DOCKER:
            module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
        if p['state'] == 'restored':
            path = engine.resolve_backup(directory, p['backup_file'])
            if module.check_mode:  # a real restore verifies inside engine.restore, hashing once
                engine.check_kind(files.verify(path), path, p['type'])
        if module.check_mode:
            module.exit_json(changed=True)
        client = get_client(p['docker_host'])
        if p['state'] == 'present':
            svc = engine.Service(client, p['user'], p['project'], p['env'], p['service'], p['type'], p['fleet_root'])
            module.exit_json(changed=True, backup=engine.take_backup(svc, p['timeout']))
        target = p['target_service'] or p['service']
        svc = engine.Service(client, p['user'], p['project'], p['env'], target, p['type'], p['fleet_root'])
        module.exit_json(changed=True, restore=engine.restore(svc, path, p['safety_backup'], p['timeout']))
    except (ValueError, OSError) as exc:
        module.fail_json(msg=str(exc))
    except (FleetDockerError, DockerException) as exc:
        module.fail_json(msg='%s: %s' % (p['service'], exc))


if __name__ == '__main__':
    main()
