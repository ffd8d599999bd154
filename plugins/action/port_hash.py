# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""port_hash: on the controller itself (a local connection, as the deploy role's internal ports) the same code
runs in this process, without starting a module; on a server the module runs there."""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.port_reservation import (
    PORT_HASH_CONSTRAINTS, PORT_HASH_OPTIONS, port_hash)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.ports import PortExhaustedError


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        if self._connection.transport != 'local':
            result.update(self._execute_module(module_name='projectdeployer.fleet.port_hash',
                                               module_args=self._task.args, task_vars=task_vars))
            return result
        checked = ArgumentSpecValidator(PORT_HASH_OPTIONS, **PORT_HASH_CONSTRAINTS).validate(dict(self._task.args))
        if checked.error_messages:
            result.update(failed=True, msg='port_hash: %s' % '; '.join(checked.error_messages))
            return result
        params = checked.validated_parameters
        try:
            result.update(port_hash(params, self._task.check_mode))
        except (ValueError, PortExhaustedError) as exc:
            result.update(failed=True, msg=str(exc))
        except OSError as exc:
            result.update(failed=True, msg='cannot use port state file %s: %s' % (params['state_file'], exc))
        return result
