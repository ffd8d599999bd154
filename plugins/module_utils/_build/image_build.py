# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build one service's image in the seed's isolated temp layout (used by ``image_build``).

Flow: take the source (a local ``build_context``, or a checkout of ``git_repo`` in
``{build_root}/git_repos/{user}/...``); make the :mod:`recipe <.image_recipe>`;
hash the source (context files, Dockerfile, base images); if an image with that hash
already carries the tag, stop (``changed=false``), if another tag has it, re-tag it;
otherwise copy the source to ``{build_root}/build_contexts/{user}/{project}-{env}-{service}/``
(under ``app/`` for generated Dockerfiles), put the wheels of a Python service beside
it in ``.fleet-wheels/``, write the Dockerfile to
``{build_root}/dockerfiles/{user}/Dockerfile.{project}-{env}-{service}.tmp``, build
with BuildKit (``buildkit.py``) with the build secrets, run the scan command, and
clean up (Dockerfile, copied context and checkout).
"""

from __future__ import annotations

import fcntl
import fnmatch
import hashlib
import os
import shlex
import shutil
import stat
import time

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build import buildkit
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build import git_source
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build import registry_errors, wheels
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile import (
    DEFAULT_WHEELS_DIR, SOURCE_HASH_ARG, SOURCE_HASH_LABEL, DockerfileError)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile_custom import path_in_context
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.image_recipe import RecipeError, recipe_for
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import split_git_repo
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import write_atomic
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import DOCKER_HOST_OPTION

try:
    from docker.errors import APIError, DockerException, ImageNotFound
except ImportError:  # pragma: no cover - the module reports the missing library first
    class DockerException(Exception):
        pass

    APIError = ImageNotFound = DockerException

HASH_SCHEME = 'fleet-image-build-v2'
HASH_LABEL = SOURCE_HASH_LABEL
# Never part of an image: VCS data, caches, local virtualenvs and node_modules (dependencies are
# installed in the build), our own wheel dir.
DEFAULT_IGNORE = ('.git', '.hg', '.svn', '**/__pycache__', '**/*.pyc', '**/*.pyo', '.venv',
                  '.pytest_cache', '.mypy_cache', '.tox', '**/node_modules', DEFAULT_WHEELS_DIR)


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


# ---------------------------------------------------------------- the builder

SECRET_OPTIONS = (('ca_bundle', 'fleet_ca'), ('npmrc', 'fleet_npmrc'), ('pip_conf', 'fleet_pipconf'))


def build_secrets(p):
    """BuildKit secret id -> file path, from ca_bundle/npmrc/pip_conf and build_secrets; each must be readable."""
    secrets = dict((name, p[option]) for option, name in SECRET_OPTIONS if p.get(option))
    for name, path in sorted((p.get('build_secrets') or {}).items()):
        secrets[str(name)] = path
    for name, path in sorted(secrets.items()):
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            option = next((o for o, n in SECRET_OPTIONS if n == name), 'build_secrets.%s' % name)
            raise ImageBuildError('%s: %s is not a readable file; fix: give the path of the file on the controller'
                                  % (option, path))
    return secrets


def pip_environment(p):
    """The controller pip's environment for the build's index settings (the CA bundle, a pip.conf)."""
    env = {'PIP_DISABLE_PIP_VERSION_CHECK': '1'}
    if p.get('ca_bundle'):
        env['PIP_CERT'] = p['ca_bundle']
    if p.get('pip_conf'):
        env['PIP_CONFIG_FILE'] = p['pip_conf']
    return env


def scan_argv(command, image):
    """``scan_command`` as argv with ``{image}`` replaced (no shell); the image is appended when absent."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ImageBuildError('scan_command %r cannot be split into arguments: %s' % (command, exc))
    if not argv:
        raise ImageBuildError('scan_command is empty; fix: give a command such as "trivy image --exit-code 1 {image}"')
    if not any('{image}' in arg for arg in argv):
        argv.append('{image}')
    return [arg.replace('{image}', image) for arg in argv]


class ImageBuild(object):
    """One build of one service's image; ``run()`` returns the module result."""

    def __init__(self, client, params, run_command, pip_python, check_mode=False, clock=time.time):
        self.client = client
        self.p = params
        self.run_command = run_command
        self.pip_python = pip_python
        self.check_mode = check_mode
        self.clock = clock
        self.started = clock()
        self.checkout = None
        self.commit = None

    # -- inputs
    def _validate(self):
        p = self.p
        try:
            naming.check_ids(user=p['user'], project=p['project'], env=p['env'], service=p['service'])
        except ValueError as exc:
            raise ImageBuildError(str(exc))
        if not p.get('build_context') and not p.get('git_repo'):
            raise ImageBuildError('%s: set build_context (a directory on the controller) or git_repo (URL@ref)'
                                  % p['service'])
        if p.get('build_context') and not p.get('git_repo'):
            ctx = os.path.expanduser(p['build_context'])
            if not os.path.isdir(ctx):
                raise ImageBuildError('build_context %s does not exist or is not a directory: give the path of the '
                                      "service's code on the controller" % ctx, build_context=ctx)
            self.src = os.path.abspath(ctx)
        self.secrets = build_secrets(p)
        self.build_root = p.get('build_root') or naming.DEFAULT_BUILD_ROOT
        self.paths = naming.build_paths(p['user'], p['project'], p['env'], p['service'], self.build_root,
                                        git_url=self._git_url())

    def _git_url(self):
        if not self.p.get('git_repo'):
            return None
        try:
            return split_git_repo(self.p['git_repo'])[0]
        except ValueError as exc:
            raise ImageBuildError('git_repo: %s; fix: write URL@ref, e.g. https://github.com/user/api.git@main' % exc)

    def _checkout(self):
        """Clone ``git_repo`` into the temp layout (0700 parents); removed after the build."""
        p = self.p
        for sub in ('', 'git_repos', os.path.join('git_repos', p['user'])):
            ensure_private_dir(os.path.join(self.build_root, sub) if sub else self.build_root)
        dest = self.paths['git_repo']
        shutil.rmtree(dest, ignore_errors=True)
        self.checkout = dest
        try:
            found = git_source.checkout(self.run_command, p['git_repo'], p.get('git_token'), dest,
                                        timeout=p.get('git_timeout') or 300)
        except git_source.GitSourceError as exc:
            raise ImageBuildError('%s: git_repo: %s' % (p['service'], exc))
        self.src = dest
        self.commit = found['commit']
        if p.get('build_context'):
            # a monorepo: build one directory of the checkout
            try:
                self.src = path_in_context(dest, p['build_context'], 'build_context', 'services/api')
            except DockerfileError as exc:
                raise ImageBuildError('%s: %s' % (p['service'], exc))
            if not os.path.isdir(self.src):
                raise ImageBuildError('%s: build_context %s is not a directory of %s at commit %s; fix: give the '
                                      'directory of the service\'s code, relative to the repository\'s root'
                                      % (p['service'], p['build_context'], self._git_url(), self.commit[:12]))

    def _remove_checkout(self):
        if self.checkout:
            git_source.remove_checkout(self.checkout)

    def _version(self):
        if self.p.get('version'):
            return self.p['version']
        if self.commit:
            return git_source.version_from_commit(self.commit)
        return 'latest'

    # -- engine lookups
    def _image(self, ref):
        try:
            return self.client.images.get(ref)
        except DockerException as exc:
            if isinstance(exc, ImageNotFound):
                return None
            raise ImageBuildError('cannot inspect image %s: %s' % (ref, exc))

    def _base_image_id(self, ref):
        """A base image's id, pulled first when missing (not in check mode: then None)."""
        found = self._image(ref)
        if found is None and not self.check_mode:
            try:
                found = self.client.images.pull(ref)
            except DockerException as exc:
                raise ImageBuildError('base image %s is not on the Docker engine and cannot be pulled (%s): '
                                      'pull or load it, or set base_image' % (ref, exc))
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
        recipe = self.recipe
        if not recipe.needs_wheels:
            if recipe.build_type == 'python':
                os.makedirs(dest, 0o755)
            return 'none', []
        req_sha = wheels.requirements_digest(self.src, recipe.requirements + recipe.includes)
        cache = wheels.WheelCache(ensure_private_dir(os.path.join(self.build_root, 'wheel_cache')))
        pip_env = pip_environment(self.p)

        def run_pip(argv):
            return self.run_command(argv, environ_update=pip_env)

        def fill(tmp_dir):
            probe = self._probe(recipe.base_images[0])
            files = wheels.download(run_pip, self.pip_python, probe,
                                    [os.path.join(self.src, r) for r in recipe.requirements], tmp_dir)
            return {'requirements': recipe.requirements + recipe.includes, 'requirements_sha256': req_sha,
                    'base_image': recipe.base_images[0], 'base_image_id': base_id, 'probe': probe, 'wheels': files}

        try:
            cached, hit = cache.ensure(wheels.cache_key(req_sha, base_id), fill)
        except wheels.WheelError as exc:
            raise ImageBuildError('%s: %s' % (self.p['service'], exc))
        wheels.link_tree(cached, dest)
        return ('hit' if hit else 'miss'), sorted(os.listdir(dest))

    def _probe(self, base_image):
        """The base image's Python environment (markers, glibc), from a throwaway container."""
        try:
            out = self.client.containers.run(base_image, entrypoint=['python', '-c', wheels.PROBE_SCRIPT],
                                             command=[], remove=True, network_disabled=True, user='65534:65534',
                                             stdout=True, stderr=True)
        except DockerException as exc:
            raise wheels.WheelError('cannot run python in the base image %s to learn its platform: %s'
                                    % (base_image, exc))
        if isinstance(out, bytes):
            out = out.decode('utf-8', 'replace')
        return wheels.parse_probe(out)

    def _build(self, ctx_root, dockerfile_path, source_hash, workdir):
        try:
            cli = buildkit.find_cli(self.run_command, self.p.get('docker_cli'))
            image_id, output = buildkit.run_build(
                self.run_command, cli, ctx_root, dockerfile_path, self.image, workdir,
                docker_host=self.p.get('docker_host'), buildargs={SOURCE_HASH_ARG: source_hash},
                secrets=self.secrets, no_cache=bool(self.p.get('no_cache')), network=self.p.get('build_network'),
                timeout=self.p.get('build_timeout') or 1800)
        except buildkit.BuildKitError as exc:
            registry = (registry_errors.registry_failure(self.p.get('package_manager') or 'npm', '\n'.join(exc.log_tail))
                        if self.recipe.build_type in ('nodejs', 'react') else None)
            if registry:
                raise ImageBuildError('%s: %s' % (self.p['service'], registry), build_log=exc.log_tail)
            raise ImageBuildError('building %s for %s failed: %s\nlast lines of the build output:\n%s'
                                  % (self.image, self.p['service'], exc, '\n'.join(exc.log_tail)),
                                  build_log=exc.log_tail)
        return image_id, output

    def _say(self, what):
        """What the build does now, for whoever shows its progress (the module's action, every 30 s)."""
        path = self.p.get('progress_file')
        if path and not self.check_mode:
            try:
                write_atomic(path, what, 0o600)
            except OSError:
                pass  # progress is a courtesy: never a reason to fail a build

    def _scan(self, result):
        """Run ``scan_command``; on failure the tag is removed (so the next run scans again) and the build fails."""
        command = self.p.get('scan_command')
        if not command:
            return
        self._say('scanning the image')
        argv = scan_argv(command, self.image)
        started = self.clock()
        rc, out, err = self.run_command(argv)
        output = [line for line in ('%s\n%s' % (out or '', err or '')).splitlines() if line.strip()][-20:]
        result['scan'] = {'command': argv, 'rc': rc, 'seconds': round(self.clock() - started, 3), 'output': output}
        if rc != 0:
            try:
                self.client.images.remove(self.image, noprune=True)
            except DockerException:
                pass
            raise ImageBuildError('%s: the scan of %s failed (scan_command exit code %d); the image was untagged so '
                                  'it is not deployed; fix what the scan reports, or change scan_command:\n%s'
                                  % (self.p['service'], self.image, rc, '\n'.join(output)), scan=result['scan'])

    def run(self):
        self._validate()
        try:
            if self.p.get('git_repo'):
                self._say('cloning %s' % self._git_url())
                self._checkout()
            return self._run()
        finally:
            self._remove_checkout()

    def _run(self):
        p = self.p
        try:
            self.recipe = recipe_for(p, self.src)
        except RecipeError as exc:
            raise ImageBuildError(str(exc))
        self.image = naming.image_name(p.get('docker_hub_user'), p['user'], p['project'], p['env'], p['service'],
                                       self._version())
        base_ids = [self._base_image_id(ref) for ref in self.recipe.base_images]
        known = all(base_ids)
        files = source_files(self.src)
        src_hash = source_hash(self.src, files, self.recipe.dockerfile, '+'.join(i or '?' for i in base_ids))
        result = dict(changed=False, built=False, image=self.image, image_id=None, source_hash=src_hash,
                      dockerfile=self.recipe.dockerfile, build_type=self.recipe.build_type,
                      base_image=self.recipe.base_images[0] if self.recipe.base_images else None,
                      base_images=self.recipe.base_images, wheel_cache='none', wheels=[], build_context=None,
                      image_size=None, version=self._version(), commit=self.commit)

        current = self._image(self.image)
        if current is not None and (current.labels or {}).get(HASH_LABEL) == src_hash:
            result.update(image_id=current.id, image_size=current.attrs.get('Size'))
            return self._done(result)
        same = self._same_source_elsewhere(src_hash) if known else None
        if same is not None:
            if not self.check_mode:
                repo, tag = self.image.rsplit(':', 1)
                same.tag(repo, tag)
            result.update(changed=True, image_id=same.id, image_size=same.attrs.get('Size'), retagged=True)
            if not self.check_mode:
                self._scan(result)
            return self._done(result)
        result['changed'] = True
        if self.check_mode:
            return self._done(result)

        ensure_private_dir(self.build_root)
        for sub in ('dockerfiles', 'build_contexts'):
            ensure_private_dir(os.path.join(self.build_root, sub))
            ensure_private_dir(os.path.join(self.build_root, sub, p['user']))
        ctx_root = self.paths['build_context']
        dockerfile_path = self.paths['dockerfile']
        workdir = os.path.dirname(dockerfile_path)
        with open(ctx_root + '.lock', 'w') as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            shutil.rmtree(ctx_root, ignore_errors=True)
            try:
                code = os.path.join(ctx_root, self.recipe.code_dir) if self.recipe.code_dir else ctx_root
                copy_source(self.src, files, code)
                for rel, text in self.recipe.files.items():
                    os.makedirs(os.path.dirname(os.path.join(ctx_root, rel)), 0o755, exist_ok=True)
                    with open(os.path.join(ctx_root, rel), 'w') as handle:
                        handle.write(text)
                if self.recipe.needs_wheels:
                    self._say('downloading the Python dependencies (pip, on the controller)')
                result['wheel_cache'], result['wheels'] = self._wheels(ctx_root, base_ids[0] if base_ids else None)
                with open(dockerfile_path, 'w') as handle:
                    handle.write(self.recipe.dockerfile)
                build_started = self.clock()
                self._say('building the image (BuildKit)')
                image_id, output = self._build(ctx_root, dockerfile_path, src_hash, workdir)
                result['build_seconds'] = round(self.clock() - build_started, 3)
                result['cached_steps'] = buildkit.cached_steps(output)
            finally:
                if os.path.exists(dockerfile_path):
                    os.remove(dockerfile_path)
                if not p.get('keep_context'):
                    shutil.rmtree(ctx_root, ignore_errors=True)
        image = self._image(image_id) or self._image(self.image)
        result.update(built=True, image_id=image.id if image else image_id,
                      image_size=image.attrs.get('Size') if image else None, build_log=buildkit.log_tail(output),
                      build_context=ctx_root if p.get('keep_context') else None)
        self._scan(result)
        return self._done(result)

    def _done(self, result):
        result['duration'] = round(self.clock() - self.started, 3)
        return result


# image_build's options (its DOCUMENTATION describes them; its action checks builds on the controller with them)
IMAGE_BUILD_OPTIONS = dict(
    naming.tenant_argument_spec('required'),
    type=dict(type='str', default='python', choices=['python', 'nodejs', 'react', 'custom']),
    build_context=dict(type='str'),
    git_repo=dict(type='str'),
    git_token=dict(type='str', no_log=True),
    git_timeout=dict(type='int', default=300),
    python_version=dict(type='str', default='3.11'),
    node_version=dict(type='str', default='18'),
    package_manager=dict(type='str', default='npm', choices=['npm', 'yarn', 'pnpm']),
    build_command=dict(type='str'),
    output_dir=dict(type='str', default='build'),
    nginx_config=dict(type='str'),
    nginx_image=dict(type='str', default='nginx:stable'),
    dockerfile=dict(type='str'),
    dockerfile_content=dict(type='dict'),
    requirements_files=dict(type='list', elements='str'),
    command=dict(type='raw'),
    port=dict(type='int'),
    health_path=dict(type='str'),
    base_image=dict(type='str'),
    docker_hub_user=dict(type='str', default=''),
    version=dict(type='str'),
    ca_bundle=dict(type='path'),
    npmrc=dict(type='path'),
    pip_conf=dict(type='path'),
    build_secrets=dict(type='dict', no_log=False),  # secret id -> file path, no values
    build_network=dict(type='str'),
    scan_command=dict(type='str'),
    docker_cli=dict(type='path'),
    build_root=dict(type='path', default=naming.DEFAULT_BUILD_ROOT),
    keep_context=dict(type='bool', default=False),
    resolver_source=dict(type='str'),
    no_cache=dict(type='bool', default=False),
    pip_interpreter=dict(type='path'),
    build_timeout=dict(type='int', default=1800),
    progress_file=dict(type='path'),
    docker_host=DOCKER_HOST_OPTION,
)
IMAGE_BUILD_CONSTRAINTS = dict(
    required_one_of=[('build_context', 'git_repo')],
    mutually_exclusive=[('dockerfile', 'dockerfile_content')],
    required_if=[('type', 'python', ('command',)), ('type', 'nodejs', ('command',))],
)
