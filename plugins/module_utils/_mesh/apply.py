# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One routing run of a tenant on a server (the nginx_mesh module, and toggle_deploy's ``mesh``): the record of new
slots as serving (``promote``), the sidecar or the edge, the edge beside the sidecar (``edge``), then the retire of
the old slots (``retire``). Its options are nginx_mesh's (MESH_OPTIONS)."""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.deploy_lock import LockBusy, held
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.promote import promote_each, promotion_params
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.retire import go_path, retire_old_slots
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.running import running_services
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import nginx as _nginx
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import check_ids, tenant_argument_spec
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_HOST_OPTION, DockerException, FleetDockerError, get_client)


MESH_OPTIONS = dict(
    tenant_argument_spec(None),
    kind=dict(type='str', required=True, choices=['sidecar', 'edge']),
    routes=dict(type='list', elements='dict', default=[], options=dict(
        service=dict(type='str', required=True),
        protocol=dict(type='str', default='http', choices=['tcp', 'http']),
        listen=dict(type='int'),
        domain=dict(type='str'),
        upstreams=dict(type='list', elements='str', default=[]),
        tls=dict(type='bool', default=False),
        hsts=dict(type='bool', default=False),
    )),
    image=dict(type='str'),
    config_dir=dict(type='path', required=True),
    network=dict(type='str'),
    http_port=dict(type='int', default=80),
    bind_address=dict(type='str', default='0.0.0.0'),
    https_port=dict(type='int'),
    certificates_dir=dict(type='path'),
    container_name=dict(type='str'),
    reload_timeout=dict(type='int', default=30),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    edge=dict(type='dict'),
    promote=dict(type='dict', options=dict(
        services=dict(type='list', elements='dict', required=True, options=dict(
            service=dict(type='str', required=True),
            slot=dict(type='str', required=True, choices=['primary', 'secondary']),
        )),
        state_dir=dict(type='path', required=True),
    )),
    retire=dict(type='dict', options=dict(
        services=dict(type='list', elements='str', required=True),
        state_dir=dict(type='path', required=True),
        drain_seconds=dict(type='float', default=2),
        stop_timeout=dict(type='int', default=10),
        go_timeout=dict(type='float'),
    )),
    docker_host=DOCKER_HOST_OPTION,
)
EDGE_KEYS = ('routes', 'config_dir', 'http_port', 'bind_address', 'https_port', 'certificates_dir', 'container_name')


class MeshFailed(Exception):
    """A step of a routing run failed; the text is the one line to show (the step, what went wrong, a fix)."""


def checked(given, spec=None):
    """``given`` checked against MESH_OPTIONS (or ``spec``), with its defaults filled in; ValueError when wrong."""
    result = ArgumentSpecValidator(spec or MESH_OPTIONS).validate(given)
    if result.error_messages:
        raise ValueError('; '.join(result.error_messages))
    return result.validated_parameters


def edge_params(p):
    """The edge's parameters from O(edge), checked like a task of its own."""
    given = dict((key, value) for key, value in p['edge'].items() if key in EDGE_KEYS)
    unknown = sorted(set(p['edge']) - set(EDGE_KEYS))
    if unknown:
        raise ValueError('edge: unknown keys %s; fix: use %s' % (', '.join(unknown), ', '.join(EDGE_KEYS)))
    try:
        params = checked(given, dict((key, value) for key, value in MESH_OPTIONS.items() if key in EDGE_KEYS))
    except ValueError as exc:
        raise ValueError('edge: %s' % exc)
    if not params['config_dir']:
        raise ValueError('edge: config_dir is required')
    return dict(p, kind='edge', network=None, edge=None, **params)


def promote(p, ids, check_mode):
    """Record O(promote)'s slots as serving (all or none, under the env's deploy lock); the services whose record
    changed; ValueError when one cannot be recorded."""
    r = p['promote']
    entries = [(promotion_params(ids, entry['service'], r['state_dir'], p['docker_host']), entry['slot'])
               for entry in r['services']]
    if check_mode or not entries:
        return [entry['service'] for entry in r['services']]
    with held(r['state_dir']):
        failed, changed = promote_each(entries, lambda: get_client(p['docker_host']))
    if failed is not None:
        raise ValueError('%s; nothing was recorded and no route changed' % failed['msg'])
    return changed


def only_with_sidecar(p, option):
    if p['kind'] != 'sidecar' or p['state'] != 'present':
        raise ValueError('%s: only with kind=sidecar and state=present' % option)


def route(client, p, check_mode):
    """One routing run of checked parameters ``p`` (MESH_OPTIONS); its result (with ``diff``, the configuration
    files before and after). MeshFailed names the step that failed."""
    ids = (p['user'], p['project'], p['env'])
    what = '%s %s_%s_%s' % ((p['kind'],) + ids)
    try:
        check_ids(user=p['user'], project=p['project'], env=p['env'])
        if p['promote'] is not None:
            only_with_sidecar(p, 'promote')
            what = 'promotion of %s_%s_%s' % ids
            promoted = promote(p, ids, check_mode)
            what = '%s %s_%s_%s' % ((p['kind'],) + ids)
        apply = _nginx.sidecar if p['kind'] == 'sidecar' else _nginx.edge
        result = apply(client, p, check_mode)
        if p['edge'] is not None:
            only_with_sidecar(p, 'edge')
            what = 'edge %s_%s_%s' % ids
            edge = _nginx.edge(client, edge_params(p), check_mode)
            edge.pop('diff')
            result['edge'] = edge
            result['changed'] = result['changed'] or edge['changed']
        if p['retire'] is not None:
            only_with_sidecar(p, 'retire')
            what = 'retire of %s_%s_%s' % ids
            r = p['retire']
            result['retiring'] = retire_old_slots(client, ids, r['services'], r['state_dir'], r['drain_seconds'],
                                                  r['stop_timeout'], p['docker_host'], check_mode, r['go_timeout'])
            if r['go_timeout']:
                result['go_files'] = [go_path(r['state_dir'], service) for service in result['retiring']]
            result['changed'] = result['changed'] or bool(result['retiring'])
        if p['promote'] is not None:
            result['services'] = running_services(client, p['user'], p['project'], p['env'], p['promote']['state_dir'])
            result['changed'] = result['changed'] or bool(promoted)
    except LockBusy as exc:
        raise MeshFailed('%s: %s; fix: wait for the other deploy to finish' % (what, exc))
    except (ValueError, FleetDockerError, DockerException, OSError) as exc:
        raise MeshFailed('%s: %s' % (what, exc))
    return result
