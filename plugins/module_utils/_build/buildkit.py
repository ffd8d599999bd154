# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one BuildKit build with the docker CLI (used by ``image_build``).

BuildKit is what makes build secrets possible (``RUN --mount=type=secret``: a CA
bundle or a registry credential is visible to one step and never stored in a
layer) and cache mounts for package managers. The Docker SDK for Python only
drives the classic builder, so builds go through the CLI, in one of two forms:

* ``docker buildx build --load`` when the client has the buildx plugin (Docker 23 and
  newer, Docker Desktop);
* ``DOCKER_BUILDKIT=1 docker build`` with a 18.09-22.x client, whose BuildKit
  support is built in (Debian bookworm's ``docker.io`` 20.10 is one).

Secrets are passed as ``--secret id=NAME,src=FILE``: only the file's path is on
the command line, never its content. The image id comes back through ``--iidfile``.
"""

from __future__ import annotations

import os
import re
import shutil

VERSION_RE = re.compile(r'version\s+v?(\d+)\.(\d+)', re.IGNORECASE)
LAST_BUILTIN_BUILDKIT_MAJOR = 22
DEFAULT_CANDIDATES = ('docker', '/usr/bin/docker', '/usr/local/bin/docker')
LOG_TAIL_LINES = 25
# BuildKit's plain progress lines: "#7 0.253 text" -> "text"; "#7 DONE 0.3s" and sha lines are noise.
TIMESTAMP_RE = re.compile(r'^#\d+\s+\d+\.\d+\s')
NOISE_RE = re.compile(r'^#\d+\s+(?:sha256:[0-9a-f]+|DONE\b.*|CACHED\b.*|\.\.\.)\s*$')


class BuildKitError(Exception):
    """No BuildKit-capable docker CLI, or a failed build (with the last lines of its output)."""

    def __init__(self, msg, log_tail=None):
        super(BuildKitError, self).__init__(msg)
        self.log_tail = log_tail or []


def client_major(version_text):
    """The major version in ``docker --version`` output ("Docker version 20.10.24+dfsg1, ...") or None."""
    match = VERSION_RE.search(version_text or '')
    return int(match.group(1)) if match else None


def find_cli(run_command, preferred=None, which=shutil.which):
    """``(argv_prefix, environ)`` of the first candidate CLI that builds with BuildKit.

    ``preferred`` (a path or a name on PATH) is the only candidate when given.
    """
    candidates = [preferred] if preferred else list(DEFAULT_CANDIDATES)
    seen, tried = set(), []
    for candidate in candidates:
        path = which(candidate) if os.sep not in candidate else (candidate if os.access(candidate, os.X_OK) else None)
        if not path or os.path.realpath(path) in seen:
            continue
        seen.add(os.path.realpath(path))
        rc, out, err = run_command([path, 'buildx', 'version'])
        if rc == 0:
            return [path, 'buildx', 'build', '--load'], {}
        rc, out, err = run_command([path, '--version'])
        major = client_major(out) if rc == 0 else None
        if major is not None and major <= LAST_BUILTIN_BUILDKIT_MAJOR:
            return [path, 'build'], {'DOCKER_BUILDKIT': '1'}
        tried.append('%s (%s)' % (path, 'version %s without buildx' % major if major else 'not a docker client'))
    raise BuildKitError(
        'no docker client that builds with BuildKit (tried: %s); fix: install the buildx plugin '
        '(docker-buildx-plugin or docker-buildx), or set docker_cli to a 20.10-22.x client such as '
        "Debian bookworm's /usr/bin/docker" % (', '.join(tried) or 'none found on PATH'))


def build_argv(prefix, context, dockerfile, tag, iidfile, buildargs=None, secrets=None, no_cache=False,
               network=None, timeout=None):
    """The build command line. ``secrets`` maps a secret id to a file path (never the content)."""
    argv = ['timeout', '--kill-after=15', str(int(timeout))] if timeout else []
    argv += list(prefix) + ['--progress', 'plain', '--file', dockerfile, '--tag', tag, '--iidfile', iidfile]
    for key in sorted(buildargs or {}):
        argv += ['--build-arg', '%s=%s' % (key, buildargs[key])]
    for name in sorted(secrets or {}):
        argv += ['--secret', 'id=%s,src=%s' % (name, secrets[name])]
    if no_cache:
        argv.append('--no-cache')
    if network:
        argv += ['--network', network]
    argv.append(context)
    return argv


def log_tail(text, lines=LOG_TAIL_LINES):
    """The last meaningful lines of BuildKit's plain progress output."""
    kept = []
    for line in (text or '').splitlines():
        line = line.rstrip()
        if not line.strip() or NOISE_RE.match(line):
            continue
        kept.append(TIMESTAMP_RE.sub('', line))
    return kept[-lines:]


def cached_steps(text):
    """The build steps BuildKit served from its cache, as ``[stage n/m] INSTRUCTION`` (spaces squeezed)."""
    names, cached = {}, []
    for line in (text or '').splitlines():
        match = re.match(r'^#(\d+)\s+(\[.*)$', line.strip())
        if match and match.group(1) not in names:
            names[match.group(1)] = ' '.join(match.group(2).split())
            continue
        match = re.match(r'^#(\d+)\s+CACHED\s*$', line.strip())
        if match and match.group(1) in names and names[match.group(1)] not in cached:
            cached.append(names[match.group(1)])
    return cached


def run_build(run_command, cli, context, dockerfile, tag, workdir, docker_host=None, buildargs=None,
              secrets=None, no_cache=False, network=None, timeout=1800):
    """Build ``tag``; returns ``(image_id, output_text)`` or raises :class:`BuildKitError`."""
    prefix, environ = cli
    iidfile = os.path.join(workdir, 'iid')
    if os.path.exists(iidfile):
        os.remove(iidfile)
    env = dict(environ)
    env['BUILDKIT_PROGRESS'] = 'plain'
    if docker_host:
        env['DOCKER_HOST'] = docker_host
    argv = build_argv(prefix, context, dockerfile, tag, iidfile, buildargs, secrets, no_cache, network, timeout)
    rc, out, err = run_command(argv, environ_update=env)
    output = '\n'.join(part for part in (out, err) if part)
    if rc != 0:
        why = 'it took longer than %d s (build_timeout)' % timeout if rc in (124, 137) else 'exit code %d' % rc
        raise BuildKitError('the build failed: %s' % why, log_tail(output))
    try:
        with open(iidfile) as handle:
            image_id = handle.read().strip()
    except OSError:
        raise BuildKitError('the build ended without an image id (%s missing)' % iidfile, log_tail(output))
    return image_id, output
