# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recording a group's new slots as serving, all or none.

``toggle_deploy``'s O(promote) does it in the start's run (a server alone in the play); ``nginx_mesh``'s
O(promote) does it in the routing run, right before the routes switch (once every server's group passed): the
promotion needs no module run of its own.
"""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import (
    read_active, remove_or_write_active)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggler import TOGGLE_OPTIONS, run_one


def promote_each(entries, client_factory):
    """Record each of ``entries`` (``(toggle parameters, slot)``) as its service's serving slot, in order; returns
    ``(failed, changed)``: the services whose record changed, and None or, when one cannot be recorded (its
    container no longer runs), that one's failed result (``item``, ``msg``). All or none: after a failure the
    records written are put back."""
    before, changed = [], []
    for params, slot in entries:
        before.append((params, read_active(params['state_dir'], params['service'])))
        promoted = run_one(dict(params, state='promoted', slot=slot), client_factory, False)
        if promoted['failed']:
            for done, record in before:
                remove_or_write_active(done['state_dir'], done['service'], record)
            return promoted, []
        if promoted['changed']:
            changed.append(params['service'])
    return None, changed


def promotion_params(ids, service, state_dir, docker_host):
    """``toggle_deploy``'s parameters for the promotion of ``service`` of the env ``ids`` (user, project, env)."""
    checked = ArgumentSpecValidator(TOGGLE_OPTIONS).validate(dict(
        user=ids[0], project=ids[1], env=ids[2], service=service, state='promoted', state_dir=state_dir,
        docker_host=docker_host))
    if checked.error_messages:
        raise ValueError('promote: %s: %s' % (service, '; '.join(checked.error_messages)))
    return checked.validated_parameters
