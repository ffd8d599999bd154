# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every name and path the collection derives from user/project/env/service.

One place, pure functions, no I/O.  Ids are checked here once
(:func:`check_ids`); every other function assumes valid ids, so nothing
that has not passed these patterns ever reaches a path, a container name
or a shell (DESIGN.md section 3).
"""

from __future__ import annotations

import hashlib
import posixpath
import re

USER_RE = re.compile(r'^[a-z][a-z0-9]{0,15}$')
ENV_RE = re.compile(r'^[a-z][a-z0-9]{0,15}$')
PROJECT_RE = re.compile(r'^[a-z][a-z0-9-]{0,30}$')
SERVICE_RE = PROJECT_RE

ID_RULES = {
    'user': (USER_RE, 'a lowercase letter, then up to 15 lowercase letters or digits'),
    'env': (ENV_RE, 'a lowercase letter, then up to 15 lowercase letters or digits'),
    'project': (PROJECT_RE, 'a lowercase letter, then up to 30 lowercase letters, digits or "-"'),
    'service': (SERVICE_RE, 'a lowercase letter, then up to 30 lowercase letters, digits or "-"'),
}

# Service names the collection uses itself: the sidecar alias, the shared
# edge proxy and the health agent.
RESERVED_SERVICE_NAMES = frozenset(['nginx', 'edge', 'agent'])

SLOTS = ('primary', 'secondary')
SECRET_DIRS = ('secrets',)
PROJECT_DIRS = ('config', 'secrets', 'files', 'data', 'logs', 'backups', 'monitoring')
DEFAULT_FLEET_ROOT = '/local'
DEFAULT_BUILD_ROOT = '/tmp/deployment_infra'


def id_error(kind, value):
    """Return a one-line reason why ``value`` is not a valid ``kind`` id, or None."""
    pattern, rule = ID_RULES[kind]
    if not isinstance(value, str):
        return '%s must be a string (%s), got %s' % (kind, rule, type(value).__name__)
    if not pattern.match(value):
        return '%s %r is not a valid id: use %s' % (kind, value, rule)
    if kind == 'service' and value in RESERVED_SERVICE_NAMES:
        return 'service name %r is reserved by the collection (%s): choose another name' % (
            value, ', '.join(sorted(RESERVED_SERVICE_NAMES)))
    return None


def check_ids(**ids):
    """Raise ValueError naming the first invalid id among user/project/env/service."""
    for kind in ('user', 'project', 'env', 'service'):
        if kind in ids and ids[kind] is not None:
            err = id_error(kind, ids[kind])
            if err:
                raise ValueError(err)


def prefix(user, project, env):
    """``u1_myapp_prod``: the tenant namespace of one project environment."""
    return '%s_%s_%s' % (user, project, env)


def container_name(user, project, env, service, slot='primary'):
    """``u1_myapp_prod_api`` or, for the other toggle slot, ``u1_myapp_prod_api_secondary``."""
    if slot not in SLOTS:
        raise ValueError('slot must be one of %s, got %r' % (', '.join(SLOTS), slot))
    base = '%s_%s' % (prefix(user, project, env), service)
    return base if slot == 'primary' else base + '_secondary'


def other_slot(slot):
    return 'secondary' if slot == 'primary' else 'primary'


def volume_name(user, project, env, service, kind='data'):
    """``u1_myapp_prod_data_postgres`` / ``u1_myapp_prod_logs_api``."""
    if kind not in ('data', 'logs'):
        raise ValueError('volume kind must be data or logs, got %r' % (kind,))
    return '%s_%s_%s' % (prefix(user, project, env), kind, service)


def edge_network_name(edge_container=None):
    """The edge's own bridge network (no other container joins it): ``fleet_edge_net``."""
    return (edge_container or EDGE_CONTAINER) + '_net'


def network_name(user, project, env):
    """The tenant's own Docker network: ``u1_myapp_prod_net``."""
    return prefix(user, project, env) + '_net'


def sidecar_name(user, project, env):
    """The tenant's nginx sidecar container; its network alias is ``nginx``."""
    return prefix(user, project, env) + '_nginx'


SIDECAR_ALIAS = 'nginx'
EDGE_CONTAINER = 'fleet_edge'


def image_repository(docker_hub_user, user, project, env, service):
    """``myusername/u1_myapp_prod_api``; without a registry user, a local-only name."""
    name = '%s_%s' % (prefix(user, project, env), service)
    if docker_hub_user:
        return '%s/%s' % (docker_hub_user.rstrip('/'), name)
    return name


def image_name(docker_hub_user, user, project, env, service, version='latest'):
    """The seed's image naming: ``{docker_hub_user}/{user}_{project}_{env}_{service}:{version}``."""
    return '%s:%s' % (image_repository(docker_hub_user, user, project, env, service), version)


def project_dir(fleet_root, user, project, env):
    """``{fleet_root}/{user}/{project}/{env}``."""
    return posixpath.join(fleet_root or DEFAULT_FLEET_ROOT, user, project, env)


def project_dirs(fleet_root, user, project, env):
    """Mapping of each seed sub-directory (config, secrets, ...) to its path."""
    base = project_dir(fleet_root, user, project, env)
    return dict((name, posixpath.join(base, name)) for name in PROJECT_DIRS)


def secret_path(fleet_root, user, project, env, service, name='password'):
    """``{project_dir}/secrets/{service}_{name}``."""
    return posixpath.join(project_dir(fleet_root, user, project, env), 'secrets',
                          '%s_%s' % (service, name))


def build_paths(user, project, env, service, build_root=None, git_url=None):
    """The seed's isolated temp build layout for one service.

    ``{root}/dockerfiles/{user}/Dockerfile.{project}-{env}-{service}.tmp``,
    ``{root}/build_contexts/{user}/{project}-{env}-{service}/`` and
    ``{root}/git_repos/{user}/{project}-{service}-{hash}/`` where hash is the
    first 12 hex digits of the sha256 of the repository URL (without token).
    """
    root = build_root or DEFAULT_BUILD_ROOT
    stem = '%s-%s-%s' % (project, env, service)
    repo_hash = hashlib.sha256((git_url or stem).encode('utf-8')).hexdigest()[:12]
    return {
        'dockerfile': posixpath.join(root, 'dockerfiles', user, 'Dockerfile.%s.tmp' % stem),
        'build_context': posixpath.join(root, 'build_contexts', user, stem),
        'git_repo': posixpath.join(root, 'git_repos', user, '%s-%s-%s' % (project, service, repo_hash)),
    }


def droplet_name(user, project, env, service, zone, index):
    """DigitalOcean refuses ``_`` in droplet names: ``u1-myapp-prod-api-lon1-1``."""
    return '%s-%s-%s-%s-%s-%d' % (user, project, env, service, zone, index)


def droplet_tags(user, project, env, service=None):
    """Tags that let the fleet find its droplets (letters, digits, ``:``, ``-``, ``_`` only)."""
    tags = ['fleet', 'fleet-user:%s' % user, 'fleet-project:%s_%s' % (user, project),
            'fleet-env:%s' % prefix(user, project, env)]
    if service:
        tags.append('fleet-service:%s_%s' % (prefix(user, project, env), service))
    return tags


def container_labels(user, project, env, service, slot, version, config_hash, deployed_at):
    """The labels every fleet container carries; they are the source of truth for state."""
    return {
        'fleet.user': user,
        'fleet.project': project,
        'fleet.env': env,
        'fleet.service': service,
        'fleet.slot': slot,
        'fleet.version': str(version),
        'fleet.config_hash': config_hash,
        'fleet.deployed_at': deployed_at,
    }


def _sql_ident(value):
    return value.replace('-', '_')


def db_name(user, project, env, service='postgres'):
    """The seed's ``get_db_name``: ``{project}_{env}`` as a SQL identifier (``-`` becomes ``_``)."""
    return _sql_ident('%s_%s' % (project, env))


def db_user(user, project, service='postgres'):
    """The seed's ``get_db_user``: ``{user}_{project}`` as a SQL identifier."""
    return _sql_ident('%s_%s' % (user, project))


def tenant_argument_spec(service='required'):
    """Argument spec of the options naming a tenant, and a service (``required``, ``optional`` or None)."""
    spec = dict(user=dict(type='str', required=True), project=dict(type='str', required=True),
                env=dict(type='str', required=True))
    if service:
        spec['service'] = dict(type='str', required=service == 'required')
    return spec
