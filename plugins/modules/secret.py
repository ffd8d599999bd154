#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: secret
short_description: Generate a strong secret file, or a file derived from one, without ever showing it
version_added: 0.1.0
description:
  - Ensures the file O(path) holds a strong random secret (letters and digits, so it is safe in URLs and
    configuration files). An existing secret is kept; it is never returned, printed or logged.
  - With O(source), writes a file derived from the secret in O(source) in the given O(format) instead,
    for example the C(requirepass) line of a Redis configuration.
  - Files are written atomically with mode 0600 (or O(mode)) in a directory created 0700.
  - With O(vault=true) the secret is kept encrypted with ansible-vault (the password or vault ID the play
    was given, C(--vault-password-file), C(--vault-id) or C(--ask-vault-pass)), for the controller's
    secrets at rest. M(ansible.builtin.copy) and the C(file) lookup decrypt such files on their way.
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
    description: The secret file.
    type: path
    required: true
  length:
    description: Length of a generated secret.
    type: int
    default: 40
  source:
    description: Derive O(path) from the secret in this file instead of generating one.
    type: path
  format:
    description:
      - V(raw) is the secret itself.
      - V(redis_conf) is a Redis configuration file setting C(requirepass) to the secret.
      - V(pgpass) is a libpq password file (C(PGPASSFILE)) giving the secret for every server, database and role.
    type: str
    choices: [raw, redis_conf, pgpass]
    default: raw
  mode:
    description: The file mode.
    type: raw
    default: '0600'
  vault:
    description:
      - Keep the secret encrypted with ansible-vault. Only for the controller's own files (the task runs
        there, usually with C(delegate_to=localhost)) and only for generated secrets (not with O(source) or
        a O(format) other than V(raw)).
      - An existing secret in plain text is encrypted in place, its value kept; an encrypted one is
        kept as it is once it is shown to open with the vault password given.
      - Fails, before writing anything, when the play has no vault password.
    type: bool
    default: false
    version_added: 0.2.0
  state:
    description: V(present) ensures the file, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
'''

EXAMPLES = r'''
- name: A password kept encrypted on the controller (run with --vault-password-file or --ask-vault-pass)
  projectdeployer.fleet.secret:
    path: /local/u1/myapp/prod/secrets/postgres_password
    vault: true
  delegate_to: localhost

- name: A password for u1's postgres, generated once on the controller
  projectdeployer.fleet.secret:
    path: /local/u1/myapp/prod/secrets/postgres_password
  delegate_to: localhost

- name: The redis server's configuration with its password
  projectdeployer.fleet.secret:
    path: /local/u1/myapp/prod/secrets/redis.conf
    source: /local/u1/myapp/prod/secrets/redis_password
    format: redis_conf
'''

RETURN = r'''
vaulted:
  description: Whether the file is encrypted with ansible-vault.
  returned: always
  type: bool
path:
  description: The secret file. Its content is never returned.
  returned: always
  type: str
created:
  description: Whether a new secret was generated.
  returned: always
  type: bool
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import write_atomic
from ansible_collections.projectdeployer.fleet.plugins.module_utils._secrets.formats import generate, length_error, render


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            length=dict(type='int', default=40, no_log=False),
            source=dict(type='path'),
            format=dict(type='str', default='raw', choices=['raw', 'redis_conf', 'pgpass']),
            mode=dict(type='raw', default='0600'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            vault=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    mode = int(str(p['mode']), 8)
    if p['vault']:
        module.fail_json(msg='vault: true is done by the action on the controller; fix: run the task through '
                             'projectdeployer.fleet.secret in a play, not as a bare module')
    current = read(p['path'])
    if p['state'] == 'absent':
        if current is not None and not module.check_mode:
            os.unlink(p['path'])
        module.exit_json(changed=current is not None, path=p['path'], created=False, vaulted=False)
    if length_error(p['length']):
        module.fail_json(msg=length_error(p['length']))
    created = False
    if p['source']:
        secret = read(p['source'])
        if secret is None:
            module.fail_json(msg='secret source %s does not exist; fix: generate it first' % p['source'])
        wanted = render(secret.strip(), p['format'])
    elif current is not None and current.strip():
        wanted = current
    else:
        wanted = render(generate(p['length']), p['format'])
        created = True
    changed = wanted != current or (current is not None and (os.stat(p['path']).st_mode & 0o7777) != mode)
    if changed and not module.check_mode:
        write_atomic(p['path'], wanted, mode)
    module.exit_json(changed=changed, path=p['path'], created=created, vaulted=False)


if __name__ == '__main__':
    main()
