# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validate a project spec on the controller and return it normalised, with its plan."""

from __future__ import annotations

import os

from ansible import context
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.plugins.action import ActionBase

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.plan import build_plan, render_plan
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import SSL_MODES, SpecError, check_selected, validate_project
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.zones import ZonesError, check_zones, read_remembered, zones_file

SPEC_KEYS = ('fleet_user', 'fleet_project', 'docker_hub_user', 'fleet_version', 'services')
# Variables of the collection's playbooks and roles that may sit in a spec file beside the spec.
RUN_KEYS = ('fleet_env', 'fleet_root', 'fleet_images', 'fleet_service', 'fleet_build_root', 'fleet_zones')
REDACTED = '<redacted>'


def spec_file_from_cli():
    """The ``-e @file`` that holds the spec, so that errors can name it."""
    for item in context.CLIARGS.get('extra_vars') or ():
        item = to_text(item)
        if not item.startswith('@'):
            continue
        path = item[1:]
        try:
            with open(path, 'rb') as handle:
                data = AnsibleLoader(handle.read()).get_single_data()
        except (OSError, AnsibleError):
            continue
        if isinstance(data, dict) and ('services' in data or 'fleet_project' in data):
            return path, data
    return None, None


def redact(spec):
    """Values that may be secret never leave the action: env var values and git tokens."""
    for svc in spec['services'].values():
        if svc.get('git_token'):
            svc['git_token'] = REDACTED
        if svc.get('env_vars'):
            svc['env_vars'] = dict((k, REDACTED) for k in svc['env_vars'])
    return spec


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('spec', 'env', 'source', 'images', 'fleet_root', 'ssl_mode', 'zones', 'controller_root',
                             'service'))

    def _zones_file(self, spec, args, task_vars):
        root = args.get('controller_root') or self._templar.template(
            task_vars.get('fleet_controller_root') or task_vars.get('fleet_root') or '/local')
        return zones_file(root, spec['user'], spec['project'], spec['env'])

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        source = args.get('source')
        raw = args.get('spec')
        if raw is None:
            path, file_data = spec_file_from_cli()
            source = source or (os.path.relpath(path) if path else 'extra vars')
            raw = dict((k, task_vars[k]) for k in SPEC_KEYS if k in task_vars)
            for key in (file_data or {}):
                if key not in SPEC_KEYS and key not in RUN_KEYS:
                    raw[key] = file_data[key]
            try:
                raw = self._templar.template(raw)
            except AnsibleError as exc:
                result.update(failed=True, msg='%s: a spec value could not be templated (%s); fix: define the '
                              'variable it uses, for example in a vault file passed with -e @vault.yml'
                              % (source, to_text(exc).splitlines()[0]))
                return result
        env = args.get('env', task_vars.get('fleet_env'))
        if not env:
            result.update(failed=True, msg='%s: fleet_env is not set; fix: choose the environment with '
                          '-e fleet_env=prod (or uat, dev, ...)' % (source or '<spec>'))
            return result
        try:
            spec = validate_project(raw, source=source or '<spec>', env=env)
            check_selected(spec, self._templar.template(args.get('service')), source=source or '<spec>')
        except SpecError as exc:
            result.update(failed=True, msg=str(exc), error_path=exc.path)
            return result
        spec['fleet_root'] = args.get('fleet_root')
        zones = self._templar.template(args.get('zones', task_vars.get('fleet_zones')))
        remembered = zones is None
        if remembered:    # the zones of the last run that named them (deploy.yml and provision.yml keep them)
            zones = read_remembered(self._zones_file(spec, args, task_vars))
        try:
            spec['zones'] = check_zones(zones)
        except ZonesError as exc:
            result.update(failed=True, msg='%s%s' % (
                str(exc), ' (remembered in %s)' % self._zones_file(spec, args, task_vars) if remembered else ''),
                error_path='fleet_zones')
            return result
        result['zones_file'] = self._zones_file(spec, args, task_vars)
        ssl_mode = args.get('ssl_mode') or 'none'
        if ssl_mode not in SSL_MODES:
            result.update(failed=True, msg='fleet_ssl_mode: %r is not a TLS mode; fix: use one of %s'
                          % (ssl_mode, ', '.join(SSL_MODES)))
            return result
        for svc in spec['services'].values():
            if svc.get('domain') and not svc.get('ssl_mode'):
                svc['ssl_mode'] = ssl_mode  # the run's default (fleet_ssl_mode)
        for svc in spec['services'].values():
            # A relative build_context is relative to where ansible-playbook was started; with git_repo it is
            # a directory of the checkout and stays relative.
            if svc.get('build_context') and not svc.get('git_repo'):
                svc['build_context'] = os.path.abspath(svc['build_context'])
        plan = build_plan(spec, args.get('images'))
        result.update(changed=False, spec=redact(spec), plan=plan, plan_text=render_plan(spec, plan),
                      warnings=list(spec.get('warnings') or []) or None, source=source)
        if result['warnings'] is None:
            del result['warnings']
        return result
