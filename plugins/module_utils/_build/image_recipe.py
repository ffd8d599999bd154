# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What to build for one service: the Dockerfile, its base images and the context layout.

A :class:`Recipe` is computed from the ``image_build`` parameters and the source
directory (a local ``build_context`` or a git checkout) without touching Docker:

* ``python``: the generated multi-stage Dockerfile over pre-downloaded wheels
  (``dockerfile.py``, ``wheels.py``); code under ``app/`` in the context.
* ``nodejs`` and ``react``: generated multi-stage Dockerfiles (``dockerfile_node.py``);
  code under ``app/``; dependencies installed in the build with the CA bundle and
  the npm configuration as BuildKit secrets.
* ``custom``: the user's ``dockerfile`` (a path inside the source) or
  ``dockerfile_content`` (the seed's numbered lines); the context is the source
  itself, as the user's Dockerfile expects; the fleet labels are appended.
"""

from __future__ import annotations

import hashlib
import os
import re

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build import wheels
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile import (
    DEFAULT_SOURCE_DIR, DEFAULT_WHEELS_DIR, LIBRARY_CONTEXT_DIR, DockerfileError, python_dockerfile)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile_custom import (
    dockerfile_from_content, dockerfile_in_context, path_in_context, with_fleet_labels)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile_node import (
    nodejs_dockerfile, react_dockerfile)

BUILD_TYPES = ('python', 'nodejs', 'react', 'custom')
LOCKFILES = ('package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml')
FROM_RE = re.compile(r'^\s*FROM\s+(?:--platform=\S+\s+)?(?P<image>\S+)(?:\s+AS\s+(?P<stage>\S+))?\s*$',
                     re.IGNORECASE | re.MULTILINE)


class RecipeError(ValueError):
    """A parameter that cannot make a build; the message names the key and the fix."""


class Recipe(object):
    """The Dockerfile text, its base images, where the code goes in the context, what else is needed."""

    def __init__(self, build_type, dockerfile, base_images, code_dir, requirements=None, includes=None, files=None):
        self.files = files or {}          # {path in the context: text} written beside the code
        self.build_type = build_type
        self.dockerfile = dockerfile
        self.base_images = list(base_images)
        self.code_dir = code_dir          # '' = the context root is the code (custom Dockerfiles)
        self.requirements = requirements or []
        self.includes = includes or []

    @property
    def needs_wheels(self):
        return self.build_type == 'python' and bool(self.requirements)


def from_images(dockerfile):
    """The external images a Dockerfile starts from (not its own stages, not ``$ARG`` references)."""
    stages, found = set(), []
    for match in FROM_RE.finditer(dockerfile):
        image = match.group('image')
        if image.lower() not in stages and '$' not in image and image.lower() != 'scratch' and image not in found:
            found.append(image)
        if match.group('stage'):
            stages.add(match.group('stage').lower())
    return found


def lockfiles(src):
    return [name for name in LOCKFILES if os.path.isfile(os.path.join(src, name))]


def labels(p, build_type):
    return {'fleet.user': p['user'], 'fleet.project': p['project'], 'fleet.env': p['env'],
            'fleet.service': p['service'], 'fleet.build_type': build_type}


def recipe_for(p, src):
    """The :class:`Recipe` of the parameters ``p`` for the source directory ``src``."""
    build_type = p.get('type') or 'python'
    try:
        if build_type == 'python':
            return _python(p, src)
        if build_type in ('nodejs', 'react'):
            return _node(p, src, build_type)
        if build_type == 'custom':
            return _custom(p, src)
    except DockerfileError as exc:
        raise RecipeError('%s: %s' % (p['service'], exc))
    raise RecipeError('type %r cannot be built: use one of %s' % (build_type, ', '.join(BUILD_TYPES)))


def _python(p, src):
    reqs = p.get('requirements_files')
    if reqs is None:
        reqs = ['requirements.txt'] if os.path.isfile(os.path.join(src, 'requirements.txt')) else []
    try:
        requirements, includes = wheels.requirement_closure(src, reqs)
    except wheels.WheelError as exc:
        raise RecipeError(str(exc))
    base = p.get('base_image') or 'python:%s-slim' % (p.get('python_version') or '3.11')
    files, library = {}, None
    if p.get('resolver_source'):
        files['%s/projectdeployer_resolver/__init__.py' % LIBRARY_CONTEXT_DIR] = p['resolver_source']
        library = (LIBRARY_CONTEXT_DIR, hashlib.sha256(p['resolver_source'].encode('utf-8')).hexdigest())
    text = python_dockerfile(base, requirements, p['command'], p.get('port'), wheels_dir=DEFAULT_WHEELS_DIR,
                             health_path=p.get('health_path'), source_dir=DEFAULT_SOURCE_DIR,
                             requirement_includes=includes, labels=labels(p, 'python'), library=library)
    return Recipe('python', text, [base], DEFAULT_SOURCE_DIR, requirements, includes, files)


def nginx_server_text(p, src):
    """The react site's ``nginx_config``: the text of a ``server {}`` block, or a file of the build context
    that holds one (docs/spec.md); None for the generated one."""
    value = p.get('nginx_config')
    if value is None or '{' in value or '\n' in value.strip():
        return value
    path = path_in_context(src, value, 'nginx_config', 'deploy/nginx.conf')
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as exc:
        raise RecipeError('%s: nginx_config %s cannot be read from the build context (%s); fix: add the file (a '
                          'server { ... } block) or give the block\'s text' % (p['service'], value, exc.strerror))


def _node(p, src, build_type):
    if not os.path.isfile(os.path.join(src, 'package.json')):
        raise RecipeError('%s: the source has no package.json (a %s service needs one); fix: point build_context or '
                          'git_repo at the directory that holds package.json' % (p['service'], build_type))
    node = p.get('base_image') or 'node:%s-slim' % (p.get('node_version') or '18')
    manager = p.get('package_manager') or 'npm'
    locks = lockfiles(src)
    if build_type == 'nodejs':
        text = nodejs_dockerfile(node, manager, p['command'], p.get('port'), build_command=p.get('build_command'),
                                 health_path=p.get('health_path'), source_dir=DEFAULT_SOURCE_DIR,
                                 labels=labels(p, build_type), lockfiles=locks)
        return Recipe(build_type, text, [node], DEFAULT_SOURCE_DIR)
    nginx = p.get('nginx_image') or 'nginx:stable'
    text = react_dockerfile(node, nginx, manager, build_command=p.get('build_command') or '%s run build' % manager,
                            output_dir=p.get('output_dir') or 'build', port=p.get('port') or 80,
                            nginx_config=nginx_server_text(p, src), source_dir=DEFAULT_SOURCE_DIR,
                            labels=labels(p, build_type), lockfiles=locks)
    return Recipe(build_type, text, [node, nginx], DEFAULT_SOURCE_DIR)


def _custom(p, src):
    if p.get('dockerfile_content'):
        text = dockerfile_from_content(p['dockerfile_content'])
    elif p.get('dockerfile'):
        path = dockerfile_in_context(src, p['dockerfile'])
        with open(path) as handle:
            text = handle.read()
    else:
        raise RecipeError('%s: a custom service to build needs dockerfile (a path in the source) or '
                          'dockerfile_content; fix: set one, or set image to deploy a ready image' % p['service'])
    text = with_fleet_labels(text, labels(p, 'custom'))
    return Recipe('custom', text, from_images(text), '')
