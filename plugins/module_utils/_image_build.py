# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build one service's image in the seed's isolated temp layout (used by ``image_build``).

Flow: hash the source (context files, generated Dockerfile, base image); if an image
with that hash already carries the tag, stop (``changed=false``), if another tag has
it, re-tag it; otherwise copy the context to
``{build_root}/build_contexts/{user}/{project}-{env}-{service}/app/``, put the wheels
(downloaded on the controller, cached) beside it in ``.fleet-wheels/``, write the
Dockerfile to ``{build_root}/dockerfiles/{user}/Dockerfile.{project}-{env}-{service}.tmp``,
build with the Docker SDK and clean up.
"""

from __future__ import annotations

import fcntl
import fnmatch
import hashlib
import os
import shutil
import stat
import time

from ansible_collections.projectdeployer.fleet.plugins.module_utils import _naming as naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils import _wheels as wheels
from ansible_collections.projectdeployer.fleet.plugins.module_utils._dockerfile import (
    DEFAULT_SOURCE_DIR, DEFAULT_WHEELS_DIR, SOURCE_HASH_ARG, SOURCE_HASH_LABEL, DockerfileError, python_dockerfile)

try:
    from docker.errors import APIError, BuildError, DockerException, ImageNotFound
except ImportError:  # pragma: no cover - the module reports the missing library first
    class DockerException(Exception):
        pass

    APIError = BuildError = ImageNotFound = DockerException

HASH_SCHEME = 'fleet-image-build-v1'
HASH_LABEL = SOURCE_HASH_LABEL
SUPPORTED_TYPES = ('python',)
# Never part of an image: VCS data, caches, local virtualenvs, our own wheel dir.
DEFAULT_IGNORE = ('.git', '.hg', '.svn', '**/__pycache__', '**/*.pyc', '**/*.pyo', '.venv',
                  '.pytest_cache', '.mypy_cache', '.tox', DEFAULT_WHEELS_DIR)
LOG_TAIL_LINES = 20


class ImageBuildError(Exception):
    """One clear failure of an image build; the message names the object and the fix."""

    def __init__(self, msg, **details):
        super(ImageBuildError, self).__init__(msg)
        self.details = details


# ---------------------------------------------------------------- source files

def parse_ignore(text):
    """``.dockerignore`` lines as ``[(negated, pattern)]`` (comments and blanks dropped)."""
    rules = []
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        negated = line.startswith('!')
        if negated:
            line = line[1:].strip()
        pattern = os.path.normpath(line).lstrip('/')
        if pattern and pattern != '.':
            rules.append((negated, pattern))
    return rules


def _match(pattern, rel):
    """Whether ``pattern`` matches ``rel`` or one of its parent directories (Docker's rule)."""
    parts = rel.split('/')
    candidates = ['/'.join(parts[:i]) for i in range(1, len(parts) + 1)]
    for cand in candidates:
        if fnmatch.fnmatchcase(cand, pattern):
            return True
        if pattern.startswith('**/') and fnmatch.fnmatchcase(cand, pattern[3:]):
            return True
    return False


def is_ignored(rel, rules):
    """Docker's order: the last matching rule wins; ``!`` re-includes."""
    ignored = False
    for negated, pattern in rules:
        if _match(pattern, rel):
            ignored = not negated
    return ignored


def ignore_rules(src):
    """The default exclusions plus the context's own ``.dockerignore``."""
    rules = [(False, p) for p in DEFAULT_IGNORE]
    path = os.path.join(src, '.dockerignore')
    if os.path.isfile(path):
        with open(path, 'r') as handle:
            rules.extend(parse_ignore(handle.read()))
    return rules


def source_files(src, rules=None):
    """Sorted ``[(rel, kind)]`` of the context, kind ``d`` (dir), ``f`` (file) or ``l`` (symlink)."""
    rules = ignore_rules(src) if rules is None else rules
    has_negation = any(rule[0] for rule in rules)
    found = []
    for dirpath, dirnames, filenames in os.walk(src):
        rel_dir = os.path.relpath(dirpath, src)
        rel_dir = '' if rel_dir == '.' else rel_dir.replace(os.sep, '/')
        keep = []
        for name in sorted(dirnames):
            rel = rel_dir + '/' + name if rel_dir else name
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                filenames.append(name)
                continue
            ignored = is_ignored(rel, rules)
            if ignored and not has_negation:
                continue
            keep.append(name)
            if not ignored:
                found.append((rel, 'd'))
        dirnames[:] = keep
        for name in sorted(filenames):
            rel = rel_dir + '/' + name if rel_dir else name
            full = os.path.join(dirpath, name)
            if is_ignored(rel, rules):
                continue
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                found.append((rel, 'l'))
            elif stat.S_ISREG(mode):
                found.append((rel, 'f'))
    return sorted(found)


def _file_sha(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def source_hash(src, files, dockerfile, base_image_id):
    """sha256 over the context files (names, kinds, exec bits, contents), the Dockerfile and the base image."""
    digest = hashlib.sha256()
    for part in (HASH_SCHEME, base_image_id or '', dockerfile):
        digest.update(part.encode('utf-8') + b'\0')
    for rel, kind in files:
        full = os.path.join(src, rel)
        if kind == 'f':
            mode = os.stat(full).st_mode & 0o777
            content = _file_sha(full)
        elif kind == 'l':
            mode, content = 0, os.readlink(full)
        else:
            mode, content = os.stat(full).st_mode & 0o777, ''
        digest.update(('%s\0%s\0%o\0%s\0' % (rel, kind, mode, content)).encode('utf-8', 'surrogateescape'))
    return digest.hexdigest()


def copy_source(src, files, dest):
    """Copy the listed context files into the new directory ``dest``."""
    os.makedirs(dest, 0o755)
    for rel, kind in files:
        source = os.path.join(src, rel)
        target = os.path.join(dest, rel)
        parent = os.path.dirname(target)
        if not os.path.isdir(parent):
            os.makedirs(parent, 0o755)
        if kind == 'd':
            if not os.path.isdir(target):
                os.makedirs(target, 0o755)
            shutil.copymode(source, target)
        elif kind == 'l':
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)


# ---------------------------------------------------------------- build root

def ensure_private_dir(path):
    """Create ``path`` (0700) or check that this user owns it: /tmp is shared with others."""
    if not os.path.isdir(path):
        os.makedirs(path, 0o700)
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        raise ImageBuildError('build directory %s is not owned by this user (uid %d): choose another build_root'
                              % (path, os.getuid()))
    return path


def build_log_tail(log, lines=LOG_TAIL_LINES):
    """The last meaningful lines of a Docker build log (a list of the engine's JSON chunks)."""
    text = []
    for chunk in log or ():
        if not isinstance(chunk, dict):
            continue
        for key in ('stream', 'error'):
            if chunk.get(key):
                text.extend(chunk[key].splitlines())
        detail = chunk.get('errorDetail') or {}
        if detail.get('message') and detail.get('message') != chunk.get('error'):
            text.extend(detail['message'].splitlines())
    kept = [line.rstrip() for line in text if line.strip()]
    return kept[-lines:]


# ---------------------------------------------------------------- the builder

class PythonImageBuild(object):
    """One build of one Python service; ``run()`` returns the module result."""

    def __init__(self, client, params, run_command, pip_python, check_mode=False, clock=time.time):
        self.client = client
        self.p = params
        self.run_command = run_command
        self.pip_python = pip_python
        self.check_mode = check_mode
        self.clock = clock
        self.started = clock()

    # -- inputs
    def _validate(self):
        p = self.p
        try:
            naming.check_ids(user=p['user'], project=p['project'], env=p['env'], service=p['service'])
        except ValueError as exc:
            raise ImageBuildError(str(exc))
        if p.get('type', 'python') not in SUPPORTED_TYPES:
            raise ImageBuildError('type %r cannot be built yet: only %s' % (p['type'], ', '.join(SUPPORTED_TYPES)))
        ctx = p['build_context']
        if not ctx or not os.path.isdir(ctx):
            raise ImageBuildError('build_context %s does not exist or is not a directory: give the path of the '
                                  "service's code on the controller" % ctx, build_context=ctx)
        self.src = os.path.abspath(ctx)
        reqs = p.get('requirements_files')
        if reqs is None:
            reqs = ['requirements.txt'] if os.path.isfile(os.path.join(self.src, 'requirements.txt')) else []
        try:
            self.requirements, self.includes = wheels.requirement_closure(self.src, reqs)
        except wheels.WheelError as exc:
            raise ImageBuildError(str(exc))
        self.base_image = p.get('base_image') or 'python:%s-slim' % p.get('python_version', '3.11')
        try:
            self.dockerfile = python_dockerfile(self.base_image, self.requirements, p['command'], p.get('port'),
                                                wheels_dir=DEFAULT_WHEELS_DIR, health_path=p.get('health_path'),
                                                source_dir=DEFAULT_SOURCE_DIR, requirement_includes=self.includes,
                                                labels=self._labels())
        except DockerfileError as exc:
            raise ImageBuildError('%s: %s' % (p['service'], exc))
        self.image = naming.image_name(p.get('docker_hub_user'), p['user'], p['project'], p['env'], p['service'],
                                       p.get('version') or 'latest')
        self.paths = naming.build_paths(p['user'], p['project'], p['env'], p['service'], p.get('build_root'))
        self.build_root = p.get('build_root') or naming.DEFAULT_BUILD_ROOT

    def _labels(self):
        p = self.p
        return {'fleet.user': p['user'], 'fleet.project': p['project'], 'fleet.env': p['env'],
                'fleet.service': p['service'], 'fleet.build_type': 'python'}

    # -- engine lookups
    def _image(self, ref):
        try:
            return self.client.images.get(ref)
        except DockerException as exc:
            if isinstance(exc, ImageNotFound):
                return None
            raise ImageBuildError('cannot inspect image %s: %s' % (ref, exc))

    def _base_image_id(self):
        """The base image's id, pulled first when missing (not in check mode: then None)."""
        found = self._image(self.base_image)
        if found is None and not self.check_mode:
            try:
                found = self.client.images.pull(self.base_image)
            except DockerException as exc:
                raise ImageBuildError('base image %s is not on the Docker engine and cannot be pulled (%s): '
                                      'pull or load it, or set base_image' % (self.base_image, exc))
        return found.id if found is not None else None

    def _same_source_elsewhere(self, source_hash):
        p = self.p
        filters = {'label': ['%s=%s' % (HASH_LABEL, source_hash), 'fleet.user=%s' % p['user'],
                             'fleet.project=%s' % p['project'], 'fleet.env=%s' % p['env'],
                             'fleet.service=%s' % p['service']]}
        try:
            found = self.client.images.list(filters=filters)
        except APIError:
            return None
        return found[0] if found else None

    # -- the build
    def _wheels(self, ctx_root, base_id):
        """Fill ``ctx_root/.fleet-wheels`` from the cache (downloading on a miss)."""
        dest = os.path.join(ctx_root, DEFAULT_WHEELS_DIR)
        if not self.requirements:
            os.makedirs(dest, 0o755)
            return 'none', []
        req_sha = wheels.requirements_digest(self.src, self.requirements + self.includes)
        cache = wheels.WheelCache(ensure_private_dir(os.path.join(self.build_root, 'wheel_cache')))

        def fill(tmp_dir):
            probe = self._probe()
            files = wheels.download(self.run_command, self.pip_python, probe,
                                    [os.path.join(self.src, r) for r in self.requirements], tmp_dir)
            return {'requirements': self.requirements + self.includes, 'requirements_sha256': req_sha,
                    'base_image': self.base_image, 'base_image_id': base_id, 'probe': probe, 'wheels': files}

        try:
            cached, hit = cache.ensure(wheels.cache_key(req_sha, base_id), fill)
        except wheels.WheelError as exc:
            raise ImageBuildError('%s: %s' % (self.p['service'], exc))
        wheels.link_tree(cached, dest)
        return ('hit' if hit else 'miss'), sorted(os.listdir(dest))

    def _probe(self):
        """The base image's Python environment (markers, glibc), from a throwaway container."""
        try:
            out = self.client.containers.run(self.base_image, entrypoint=['python', '-c', wheels.PROBE_SCRIPT],
                                             command=[], remove=True, network_disabled=True, user='65534:65534',
                                             stdout=True, stderr=True)
        except DockerException as exc:
            raise wheels.WheelError('cannot run python in the base image %s to learn its platform: %s'
                                    % (self.base_image, exc))
        if isinstance(out, bytes):
            out = out.decode('utf-8', 'replace')
        return wheels.parse_probe(out)

    def _build(self, ctx_root, dockerfile_path, source_hash):
        try:
            image, log = self.client.images.build(
                path=ctx_root, dockerfile=dockerfile_path, tag=self.image, buildargs={SOURCE_HASH_ARG: source_hash},
                rm=True, forcerm=True, pull=False, nocache=bool(self.p.get('no_cache')),
                timeout=self.p.get('build_timeout') or 1800)
        except DockerException as exc:
            if isinstance(exc, BuildError):
                tail = build_log_tail(getattr(exc, 'build_log', None))
                raise ImageBuildError('building %s for %s failed: %s\nlast lines of the build output:\n%s'
                                      % (self.image, self.p['service'], getattr(exc, 'msg', exc), '\n'.join(tail)),
                                      build_log=tail)
            raise ImageBuildError('building %s for %s failed: the Docker engine said: %s'
                                  % (self.image, self.p['service'], exc))
        return image, build_log_tail(log)

    def run(self):
        self._validate()
        base_id = self._base_image_id()
        files = source_files(self.src)
        src_hash = source_hash(self.src, files, self.dockerfile, base_id)
        result = dict(changed=False, built=False, image=self.image, image_id=None, source_hash=src_hash,
                      dockerfile=self.dockerfile, base_image=self.base_image, wheel_cache='none', wheels=[],
                      build_context=None, image_size=None)

        current = self._image(self.image)
        if current is not None and (current.labels or {}).get(HASH_LABEL) == src_hash:
            result.update(image_id=current.id, image_size=current.attrs.get('Size'))
            return self._done(result)
        same = self._same_source_elsewhere(src_hash) if base_id else None
        if same is not None:
            if not self.check_mode:
                repo, tag = self.image.rsplit(':', 1)
                same.tag(repo, tag)
            result.update(changed=True, image_id=same.id, image_size=same.attrs.get('Size'), retagged=True)
            return self._done(result)
        result['changed'] = True
        if self.check_mode:
            return self._done(result)

        ensure_private_dir(self.build_root)
        for sub in ('dockerfiles', 'build_contexts'):
            ensure_private_dir(os.path.join(self.build_root, sub))
            ensure_private_dir(os.path.join(self.build_root, sub, self.p['user']))
        ctx_root = self.paths['build_context']
        dockerfile_path = self.paths['dockerfile']
        with open(ctx_root + '.lock', 'w') as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            shutil.rmtree(ctx_root, ignore_errors=True)
            try:
                copy_source(self.src, files, os.path.join(ctx_root, DEFAULT_SOURCE_DIR))
                result['wheel_cache'], result['wheels'] = self._wheels(ctx_root, base_id)
                with open(dockerfile_path, 'w') as handle:
                    handle.write(self.dockerfile)
                build_started = self.clock()
                image, tail = self._build(ctx_root, dockerfile_path, src_hash)
                result['build_seconds'] = round(self.clock() - build_started, 3)
            finally:
                if os.path.exists(dockerfile_path):
                    os.remove(dockerfile_path)
                if not self.p.get('keep_context'):
                    shutil.rmtree(ctx_root, ignore_errors=True)
        image.reload()
        result.update(built=True, image_id=image.id, image_size=image.attrs.get('Size'), build_log=tail,
                      build_context=ctx_root if self.p.get('keep_context') else None)
        return self._done(result)

    def _done(self, result):
        result['duration'] = round(self.clock() - self.started, 3)
        return result
