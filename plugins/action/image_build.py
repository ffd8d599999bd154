# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""image_build: on the controller itself (a local connection, as the deploy role's builds) an image that is
already up to date is found in this process, the module's own check in check mode (source hash against the
image's label), without starting a module; anything else (a build, a re-tag, a git checkout, a server) runs
the module, and while it runs the action says every 30 s what it does and for how long (``api: building the
image (BuildKit), 1m30s``)."""

from __future__ import annotations

import os

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.image_build import (
    IMAGE_BUILD_CONSTRAINTS, IMAGE_BUILD_OPTIONS, ImageBuild, ImageBuildError)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    HAS_DOCKER, DockerException, FleetDockerError, get_client)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import DEFAULT_BUILD_ROOT
from ansible_collections.projectdeployer.fleet.plugins.plugin_utils.progress import elapsed, run_with_progress, shown


# the resolver every Python app gets (projectdeployer-resolver's source, in the collection's resolver/)
RESOLVER = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        'resolver', 'projectdeployer_resolver', '__init__.py')


def with_resolver(args):
    """``args`` with ``resolver_source`` for a Python build (unless it says otherwise or the file is missing)."""
    if (args.get('type') or 'python') != 'python' or 'resolver_source' in args or not os.path.isfile(RESOLVER):
        return args
    with open(RESOLVER) as handle:
        return dict(args, resolver_source=handle.read())


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (OSError, TypeError):
        return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = with_resolver(dict(self._task.args))
        current = self._up_to_date(args)
        if current is not None:
            result.update(current)
            return result
        service = args.get('service') or 'the image'
        progress = None
        if self._connection.transport == 'local' and not self._task.check_mode:
            progress = os.path.join(args.get('build_root') or DEFAULT_BUILD_ROOT, 'progress',
                                    '%s_%s_%s_%s' % tuple(str(args.get(k)) for k in ('user', 'project', 'env', 'service')))
            try:
                os.makedirs(os.path.dirname(progress), 0o700, exist_ok=True)
                args['progress_file'] = progress
            except OSError:
                progress = None

        def describe(seconds):
            return '%s: %s, %s' % (service, _read(progress) or 'building', elapsed(seconds))

        try:
            result.update(run_with_progress(
                lambda: self._execute_module(module_name='projectdeployer.fleet.image_build', module_args=args,
                                             task_vars=task_vars),
                describe if shown(task_vars) else (lambda seconds: None)))
        finally:
            if progress and os.path.exists(progress):
                os.unlink(progress)
        return result

    def _up_to_date(self, args):
        """The module's result when the image is current (nothing to do), else None (the module decides)."""
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
