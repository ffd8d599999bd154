# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""image_build: on the controller itself (a local connection, as the deploy role's builds) an image that is
already up to date is found in this process, the module's own check in check mode (source hash against the
image's label), without starting a module; anything else (a build, a re-tag, a git checkout, a server) runs
the module."""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.image_build import (
    IMAGE_BUILD_CONSTRAINTS, IMAGE_BUILD_OPTIONS, ImageBuild, ImageBuildError)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    HAS_DOCKER, DockerException, FleetDockerError, get_client)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        current = self._up_to_date()
        if current is not None:
            result.update(current)
            return result
        result.update(self._execute_module(module_name='projectdeployer.fleet.image_build',
                                           module_args=self._task.args, task_vars=task_vars))
        return result

    def _up_to_date(self):
        """The module's result when the image is current (nothing to do), else None (the module decides)."""
        args = dict(self._task.args)
        if self._connection.transport != 'local' or not HAS_DOCKER or args.get('git_repo') or args.get('no_cache'):
            return None
        checked = ArgumentSpecValidator(IMAGE_BUILD_OPTIONS, **IMAGE_BUILD_CONSTRAINTS).validate(args)
        if checked.error_messages:
            return None  # the module says what is wrong, in its words
        params = checked.validated_parameters
        try:
            client = get_client(params['docker_host'], timeout=60)
            found = ImageBuild(client, params, run_command=None, pip_python=None, check_mode=True).run()
        except (ImageBuildError, FleetDockerError, DockerException, OSError):
            return None
        return found if not found.get('changed') else None
