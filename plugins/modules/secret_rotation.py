#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: secret_rotation
short_description: Apply a new password to a running fleet database, and later retire the old one
version_added: 0.2.0
description:
  - The two database steps of C(rotate_secrets.yml); the dependents are redeployed between them, so no request
    fails and the old password stops working only once nothing uses it.
  - O(state=prepared) makes the password in O(password_file) work beside the current one. PostgreSQL has one
    password per role, so the clients' login role alternates between the owner role and C({owner}_alt) (a member
    of the owner whose sessions act as the owner); O(login) names the next one. Redis gets the new password added
    to its default user's ACL.
  - O(state=retired) makes the old password stop working. PostgreSQL - O(old_login)'s password is removed; refused
    while dependents still log in as it over the network (deploy them first). Redis - the new password becomes the
    only one, and the server's configuration file (mounted into the container) is rewritten in place, so a restart
    keeps it.
  - Passwords are read from files on the host and never leave it in clear; the database gets a SCRAM verifier
    (PostgreSQL) or a sha256 (Redis).
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
    support: partial
    details: O(state=prepared) sets the password again each run (a fresh salt); O(state=retired) is idempotent.
options:
  type:
    description: The service's type.
    type: str
    required: true
    choices: [postgres, redis]
  state:
    description: V(prepared) adds the new password, V(retired) removes the old one.
    type: str
    required: true
    choices: [prepared, retired]
  password_file:
    description: The file on the host holding the new password.
    type: path
    required: true
  login:
    description: PostgreSQL, O(state=prepared) - the role the clients will log in as with the new password.
    type: str
  old_login:
    description: PostgreSQL, O(state=retired) - the role whose password is retired.
    type: str
  fleet_root:
    description: The root of the fleet's directories on the host.
    type: path
    default: /local
'''

EXAMPLES = r'''
- name: Let the new postgres password work beside the old one
  projectdeployer.fleet.secret_rotation:
    user: u1
    project: myapp
    env: prod
    service: postgres
    type: postgres
    state: prepared
    login: u1_myapp_alt
    password_file: /local/u1/myapp/prod/secrets/postgres_password.next
'''

RETURN = r'''
login:
  description: PostgreSQL - the role given the new password (O(state=prepared)) or whose password was removed.
  returned: type is postgres
  type: str
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import engine
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._secrets import rotation
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, DockerException, FleetDockerError, get_client)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._secrets.formats import render


def read_secret(path):
    try:
        with open(path) as handle:
            value = handle.read().strip()
    except OSError as exc:
        raise ValueError('password file %s cannot be read (%s); fix: run rotate_secrets.yml, which writes it'
                         % (path, exc.strerror))
    if not value:
        raise ValueError('password file %s is empty; fix: remove it and run rotate_secrets.yml again' % path)
    return value


def rewrite_in_place(path, content):
    """Write ``content`` into the existing file (same inode, so a bind mount of it sees the change), owner and mode kept."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, 'w') as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def postgres(module, svc, password):
    p = module.params
    if p['state'] == 'prepared':
        if not p['login']:
            module.fail_json(msg='login is required to prepare a postgres rotation')
        rotation.next_login(svc.role, p['login'])  # one of the two roles, or a clear error
        if not module.check_mode:
            svc.psql(rotation.prepare_sql(svc.role, p['login'], rotation.scram_verifier(password)))
        module.exit_json(changed=True, login=p['login'])
    old = p['old_login']
    if not old:
        module.fail_json(msg='old_login is required to retire a postgres password')
    rotation.next_login(svc.role, old)
    sessions = int(svc.psql(rotation.sessions_sql(old)).strip() or 0)
    if sessions:
        module.fail_json(msg='%s: %d session(s) still log in as %s with the old password; fix: deploy the services '
                             'that depend on %s (deploy.yml), then retire again' % (svc.name, sessions, old, svc.name))
    has_password = svc.psql("SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = '%s'"
                            % old.replace("'", "''")).strip() == 't'
    if has_password and not module.check_mode:
        svc.psql(rotation.retire_sql(old))
    module.exit_json(changed=has_password, login=old)


def redis(module, svc, password):
    p = module.params
    if p['state'] == 'prepared':
        if not module.check_mode:
            svc.redis(*rotation.redis_prepare_args(password), what='redis-cli ACL SETUSER')
        module.exit_json(changed=True)
    conf = render(password, 'redis_conf')
    secrets_dir = svc.dirs['secrets']
    copies = [os.path.join(secrets_dir, '%s_redis.conf' % svc.name),
              os.path.join(secrets_dir, 'run', svc.name, '%s_redis.conf' % svc.name)]
    stale = [path for path in copies if os.path.exists(path) and open(path).read() != conf]
    if not module.check_mode:
        svc.redis(*rotation.redis_retire_args(password), what='redis-cli ACL SETUSER')
        for path in stale:
            rewrite_in_place(path, conf)
    module.exit_json(changed=True)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            naming.tenant_argument_spec('required'),
            type=dict(type='str', required=True, choices=['postgres', 'redis']),
            state=dict(type='str', required=True, choices=['prepared', 'retired']),
            password_file=dict(type='path', required=True, no_log=False),
            login=dict(type='str'),
            old_login=dict(type='str'),
            fleet_root=dict(type='path', default=naming.DEFAULT_FLEET_ROOT),
            docker_host=DOCKER_HOST_OPTION,
        ),
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    p = module.params
    try:
        password = read_secret(p['password_file'])
        svc = engine.Service(get_client(p['docker_host']), p['user'], p['project'], p['env'], p['service'], p['type'],
                             p['fleet_root'])
        if p['type'] == 'postgres':
            postgres(module, svc, password)
        redis(module, svc, password)
    except (ValueError, OSError) as exc:
        module.fail_json(msg=str(exc))
    except (FleetDockerError, DockerException) as exc:
        module.fail_json(msg='%s: %s' % (p['service'], exc))


if __name__ == '__main__':
    main()
