# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The secret module, and with ``vault: true`` the controller's secrets kept encrypted with ansible-vault.

Encryption needs the play's vault secrets, which only the controller process holds, so a vaulted
secret is generated (or an existing plain one encrypted, its value kept) here rather than in the module.
"""

from __future__ import annotations

import os

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.parsing.vault import VaultLib, is_encrypted, match_encrypt_secret
from ansible.plugins.action import ActionBase

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import write_atomic
from ansible_collections.projectdeployer.fleet.plugins.module_utils._secrets.formats import generate, length_error
NO_PASSWORD = ('vault: true needs the vault password to encrypt %s; fix: run ansible-playbook with '
               '--vault-password-file FILE (or --vault-id, or --ask-vault-pass), or set fleet_vault_secrets=false')


def _read(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        vault = boolean(args.pop('vault', False), strict=False)
        if not vault or args.get('state', 'present') == 'absent':
            result.update(self._execute_module(module_name='projectdeployer.fleet.secret', module_args=args,
                                               task_vars=task_vars))
            return result
        try:
            result.update(self._vaulted(args))
        except AnsibleError as exc:
            result.update(failed=True, msg=str(exc))
        return result

    def _vaulted(self, args):
        path = args.get('path')
        if not path:
            raise AnsibleError('secret: path is required')
        path = os.path.expanduser(path)
        if args.get('source') or args.get('format', 'raw') != 'raw':
            raise AnsibleError('vault: true keeps generated secrets only; fix: drop source and format, or vault')
        if self._connection.transport != 'local':
            raise AnsibleError('vault: true is for the controller\'s own files (%s); fix: delegate_to: localhost' % path)
        mode = int(str(args.get('mode', '0600')), 8)
        length = int(args.get('length', 40))
        if length_error(length):
            raise AnsibleError(length_error(length))
        vault_secrets = getattr(self._loader, '_vault', None) and self._loader._vault.secrets or []
        current = _read(path)
        if current is not None and is_encrypted(current):
            try:
                VaultLib(vault_secrets).decrypt(current)
            except AnsibleError:
                raise AnsibleError('%s is encrypted with another vault password than this play\'s; fix: run with '
                                   'the vault password it was made with (ansible-vault rekey changes it)' % path) from None
            changed = (os.stat(path).st_mode & 0o7777) != mode
            if changed and not self._task.check_mode:
                os.chmod(path, mode)
            return dict(changed=changed, path=path, created=False, vaulted=True)
        created = current is None or not current.strip()
        plain = current if not created else to_bytes(generate(length))
        try:
            found = match_encrypt_secret(vault_secrets, C.DEFAULT_VAULT_ENCRYPT_IDENTITY) if vault_secrets else None
        except AnsibleError:  # an --encrypt-vault-id the play was not given
            found = None
        if not found:
            raise AnsibleError(NO_PASSWORD % path)
        vault_id, secret = found
        if not self._task.check_mode:
            write_atomic(path, VaultLib(vault_secrets).encrypt(plain, secret=secret, vault_id=vault_id), mode)
        return dict(changed=True, path=path, created=created, vaulted=True)
