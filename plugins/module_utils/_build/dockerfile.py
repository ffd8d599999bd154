# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Dockerfiles the collection generates (pure text, no I/O).

Python services get the FleetManager multi-stage build: a builder stage makes a
virtual environment in ``/opt/venv`` from wheels that were downloaded beforehand
(on the controller, see ``wheels.py``), so the build itself needs no network;
the runtime stage copies that venv and the code and runs as ``appuser`` (uid 1000).

Build context layout expected by :func:`python_dockerfile`::

    <context>/
      .fleet-wheels/        the downloaded wheels (builder stage only)
      app/                  the user's code (runtime stage), requirements files inside

Dependencies are copied and installed before the code, so a change to the code
reuses the dependency layers.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex

APP_UID = 1000
APP_USER = 'appuser'
APP_DIR = '/app'
VENV = '/opt/venv'
LIBRARY_DIR = '/opt/fleet/lib'
LIBRARY_CONTEXT_DIR = 'fleet-lib'
REQUIREMENTS_DIR = '/tmp/fleet-requirements'
WHEELS_IN_IMAGE = '/tmp/fleet-wheels'
DEFAULT_SOURCE_DIR = 'app'
DEFAULT_WHEELS_DIR = '.fleet-wheels'
SOURCE_HASH_ARG = 'FLEET_SOURCE_HASH'
SOURCE_HASH_LABEL = 'fleet.source_hash'
LABEL_KEY_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')


class DockerfileError(ValueError):
    """A parameter that cannot make a valid Dockerfile."""


def command_list(command):
    """The exec form of ``command``: a shell-like string is split with :func:`shlex.split`."""
    if isinstance(command, (list, tuple)):
        argv = [str(arg) for arg in command]
    elif isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise DockerfileError('command %r cannot be split into arguments: %s' % (command, exc))
    else:
        raise DockerfileError('command must be a string or a list, got %s' % type(command).__name__)
    if not argv:
        raise DockerfileError('command is empty: give the program to run, for example "python -u app.py"')
    return argv


def _context_path(path, what):
    """A relative, normalised POSIX path inside the build context."""
    if not isinstance(path, str) or not path.strip():
        raise DockerfileError('%s must be a non-empty relative path' % what)
    norm = posixpath.normpath(path.strip().replace('\\', '/'))
    if norm.startswith('/') or norm == '..' or norm.startswith('../') or norm == '.':
        raise DockerfileError('%s %r must be a relative path inside the build context' % (what, path))
    if any(c in norm for c in '\n\r"'):
        raise DockerfileError('%s %r contains a character a Dockerfile cannot carry' % (what, path))
    return norm


# The image's own health check (what `docker ps` and status.yml show), not the deploy's: every 30 s, so it stays
# cheap and out of the way of the app's logs and counters (logs.yml leaves its lines out); the deploy checks a new
# version itself, at the spec's health_interval.
HEALTHCHECK_OPTIONS = '--interval=30s --timeout=5s --start-period=30s --retries=3'


def _health_cmd(port, health_path):
    """The exec-form HEALTHCHECK command: an HTTP GET with the image's own Python, healthy below 400."""
    path = health_path or '/'
    if not path.startswith('/'):
        path = '/' + path
    code = ('import http.client, sys; c = http.client.HTTPConnection("127.0.0.1", %d, timeout=4); '
            'c.request("GET", %s); sys.exit(0 if c.getresponse().status < 400 else 1)' % (port, json.dumps(path)))
    return json.dumps(['python', '-c', code])


def python_dockerfile(python_image, requirements_files, command, port, wheels_dir=DEFAULT_WHEELS_DIR,
                      health_path=None, source_dir=DEFAULT_SOURCE_DIR, requirement_includes=None, labels=None,
                      library=None):
    """Return the text of the multi-stage Dockerfile of a Python service.

    ``requirements_files`` are paths relative to the code (``source_dir``) that
    ``pip install -r`` reads; ``requirement_includes`` are further files they
    include with ``-r``/``-c`` (copied beside them, not installed directly).
    ``command`` is a shell-like string or a list; ``port`` may be None (workers):
    then there is no EXPOSE and no HEALTHCHECK. ``labels`` go into one final
    LABEL step together with ``fleet.source_hash``, which comes from the build
    argument ``FLEET_SOURCE_HASH`` (the hash covers this text, so it cannot be in it). ``library``
    (``(context dir, sha256)``): modules the fleet gives every Python app (the ResourceResolver), copied to
    :data:`LIBRARY_DIR` on ``PYTHONPATH``; their digest is in the text, so a new version rebuilds.
    """
    if not isinstance(python_image, str) or not python_image.strip() or any(c.isspace() for c in python_image):
        raise DockerfileError('python_image must be an image reference such as python:3.11-slim, got %r'
                              % (python_image,))
    if port is not None:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise DockerfileError('port %r is not a TCP port: use 1-65535' % (port,))
    if health_path is not None and (not isinstance(health_path, str) or any(c.isspace() for c in health_path)):
        raise DockerfileError('health_path %r must be a URL path without spaces, such as /health' % (health_path,))
    source_dir = _context_path(source_dir, 'source_dir')
    wheels_dir = _context_path(wheels_dir, 'wheels_dir')
    argv = command_list(command)
    requirements = [_context_path(f, 'requirements file') for f in (requirements_files or [])]
    includes = [_context_path(f, 'requirements include') for f in (requirement_includes or [])
                if _context_path(f, 'requirements include') not in requirements]

    label_items = sorted((str(k), str(v)) for k, v in (labels or {}).items())
    for key, value in label_items:
        if not LABEL_KEY_RE.match(key) or any(c in value for c in '\n\r$'):
            raise DockerfileError('label %s=%r is not a plain label (key: letters, digits, . _ -; value without $ '
                                  'or newlines)' % (key, value))
    label_items.append((SOURCE_HASH_LABEL, '${%s}' % SOURCE_HASH_ARG))
    lines = [
        '# Generated by projectdeployer.fleet (image_build): multi-stage Python build.',
        '# Stage 1: a virtual environment from pre-downloaded wheels (no network needed).',
        'FROM %s AS builder' % python_image,
        'ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1',
        'RUN python -m venv %s' % VENV,
    ]
    if requirements:
        lines.append('COPY %s' % json.dumps(['%s/' % wheels_dir, '%s/' % WHEELS_IN_IMAGE]))
        for req in requirements + includes:
            lines.append('COPY %s' % json.dumps(['%s/%s' % (source_dir, req), '%s/%s' % (REQUIREMENTS_DIR, req)]))
        install = ' '.join('-r %s' % shlex.quote('%s/%s' % (REQUIREMENTS_DIR, req)) for req in requirements)
        lines.append('RUN %s/bin/pip install --no-index --find-links %s %s' % (VENV, WHEELS_IN_IMAGE, install))
    lines += [
        '',
        '# Stage 2: the runtime, without build inputs, as a non-root user.',
        'FROM %s AS runtime' % python_image,
        'RUN groupadd --gid %d %s && useradd --uid %d --gid %d --create-home --shell /usr/sbin/nologin %s'
        % (APP_UID, APP_USER, APP_UID, APP_UID, APP_USER),
        'COPY --from=builder %s %s' % (VENV, VENV),
        'ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 VIRTUAL_ENV=%s PATH=%s/bin:$PATH' % (VENV, VENV),
    ]
    if library:   # before the code: a code-only change rebuilds the code's layer alone
        library_dir, digest = _context_path(library[0], 'library'), library[1]
        lines += ['# The fleet\'s ResourceResolver (import projectdeployer_resolver), sha256 %s' % digest,
                  'COPY %s' % json.dumps(['%s/' % library_dir, '%s/' % LIBRARY_DIR]),
                  'ENV PYTHONPATH=%s' % LIBRARY_DIR]
    lines += [
        'WORKDIR %s' % APP_DIR,
        'COPY --chown=%d:%d %s' % (APP_UID, APP_UID, json.dumps(['%s/' % source_dir, '%s/' % APP_DIR])),
    ]
    if port is not None:
        lines.append('EXPOSE %d' % port)
        lines.append('HEALTHCHECK %s CMD %s' % (HEALTHCHECK_OPTIONS, _health_cmd(port, health_path)))
    lines += [
        'USER %s' % APP_USER,
        'CMD %s' % json.dumps(argv),
        'ARG %s=' % SOURCE_HASH_ARG,
        'LABEL %s' % ' '.join('%s=%s' % (key, json.dumps(value)) for key, value in label_items),
        '',
    ]
    return '\n'.join(lines)
