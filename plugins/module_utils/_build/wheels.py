# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Python dependencies as wheels, downloaded where pip has network, for builds that have none.

A Python image is built from wheels that ``pip download`` fetched on the controller
(where pip trusts the system CA bundle and its own configuration) for the image's
interpreter and platform: ``--only-binary=:all: --platform ... --python-version ...
--implementation cp --abi cpXY``. Pure-Python wheels (``py3-none-any``) match any
target.

One pip limitation is handled here: ``pip download --python-version`` picks wheels for
the target but still evaluates environment markers (``; python_full_version <
"3.11.3"``) against the interpreter pip runs on, so a dependency the target needs can
be missing. The target's marker environment is therefore probed once from the base
image (:data:`PROBE_SCRIPT`) and pip is run through :data:`PIP_SHIM`, which evaluates
markers for the target.

Downloads are cached under the build root by the sha256 of the requirements files
and the base image, so a rebuild with only application code changed downloads
nothing. Everything here takes its command runner as an argument (a module's
``run_command``), so it is unit-testable without pip or Docker.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import posixpath
import re
import shutil

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.registry_errors import (
    PIP_NETWORK_ARGS, registry_failure)

CACHE_SCHEME = 'fleet-wheels-v1'

# Runs inside the base image (stdlib only) and prints what pip needs to know about it.
PROBE_SCRIPT = r'''
import json, os, platform, sys
def fmt(info):
    version = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version
markers = {
    "implementation_name": sys.implementation.name,
    "implementation_version": fmt(sys.implementation.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
try:
    libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
except (AttributeError, ValueError, OSError):
    libc = ""
print(json.dumps({"markers": markers, "libc": libc, "version": list(sys.version_info[:2])}))
'''

# ``python -c PIP_SHIM '<markers json>' download ...``: pip with the target's markers.
PIP_SHIM = r'''
import json, runpy, sys
target = json.loads(sys.argv.pop(1))
try:
    from pip._vendor.packaging import markers as _markers
    _default = _markers.default_environment
    def _target_environment():
        env = _default()
        env.update(target)
        return env
    _markers.default_environment = _target_environment
except (ImportError, AttributeError):
    pass
sys.argv[0] = "pip"
runpy.run_module("pip", run_name="__main__", alter_sys=True)
'''

_INCLUDE_RE = re.compile(r'^\s*(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+)(\S+)')
MANYLINUX_LEGACY = {'manylinux2014': (2, 17), 'manylinux2010': (2, 12), 'manylinux1': (2, 5)}


class WheelError(Exception):
    """A dependency download that cannot be done; the message names the fix."""


def _inside(root, rel):
    norm = posixpath.normpath(rel)
    return not (norm.startswith('/') or norm == '..' or norm.startswith('../')), norm


def requirement_closure(root, files):
    """``(files, includes)``: the requirements files and every file they pull in with -r/-c.

    All paths are relative to ``root`` (the code) and must stay inside it.
    """
    seen = []
    includes = []
    top = []
    pending = [(f, None) for f in files]
    while pending:
        rel, parent = pending.pop(0)
        ok, norm = _inside(root, rel.replace('\\', '/'))
        if not ok:
            raise WheelError('requirements file %r%s is outside the build context %s'
                             % (rel, ' (included by %s)' % parent if parent else '', root))
        path = os.path.join(root, norm)
        if not os.path.isfile(path):
            raise WheelError('requirements file %s%s does not exist in the build context %s'
                             % (norm, ' (included by %s)' % parent if parent else '', root))
        if norm in seen:
            continue
        seen.append(norm)
        (includes if parent else top).append(norm)
        with open(path, 'r') as handle:
            for line in handle:
                match = _INCLUDE_RE.match(line)
                if match:
                    pending.append((posixpath.join(posixpath.dirname(norm), match.group(1)), norm))
    return top, [f for f in includes if f not in top]


def requirements_digest(root, files):
    """sha256 over the names and contents of the requirements files (order-independent)."""
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(rel.encode('utf-8') + b'\0')
        with open(os.path.join(root, rel), 'rb') as handle:
            digest.update(hashlib.sha256(handle.read()).hexdigest().encode('ascii') + b'\0')
    return digest.hexdigest()


def cache_key(requirements_sha, base_image_id):
    """The cache entry of one set of requirements for one base image."""
    return hashlib.sha256(('%s\0%s\0%s' % (CACHE_SCHEME, requirements_sha, base_image_id)).encode('utf-8')).hexdigest()


def parse_probe(output):
    """The JSON line :data:`PROBE_SCRIPT` printed, as a dict (raises WheelError)."""
    for line in reversed((output or '').strip().splitlines()):
        line = line.strip()
        if line.startswith('{'):
            try:
                data = json.loads(line)
            except ValueError:
                break
            if isinstance(data, dict) and 'markers' in data:
                return data
    raise WheelError('cannot read the Python environment of the base image (got %r); '
                     'fix: use a base image with python on its PATH' % (output or '')[-300:])


def platform_tags(probe):
    """The ``--platform`` values whose wheels run on the probed image."""
    machine = probe['markers']['platform_machine']
    libc = probe.get('libc') or ''
    match = re.match(r'^glibc (\d+)\.(\d+)', libc)
    if not match:
        return ['musllinux_1_2_%s' % machine, 'musllinux_1_1_%s' % machine]
    major, minor = int(match.group(1)), int(match.group(2))
    tags = ['manylinux_%d_%d_%s' % (major, m, machine) for m in range(minor, 4, -1)]
    for legacy, (lmaj, lmin) in sorted(MANYLINUX_LEGACY.items(), key=lambda i: i[1], reverse=True):
        if (major, minor) >= (lmaj, lmin) and (legacy == 'manylinux2014' or machine in ('x86_64', 'i686')):
            tags.append('%s_%s' % (legacy, machine))
    return tags


def download_args(probe, requirement_paths, dest):
    """The ``pip download`` arguments for the probed target."""
    major, minor = probe['version'][:2]
    args = ['download', '--dest', dest, '--only-binary=:all:', '--no-input', '--progress-bar', 'off',
            '--python-version', '%d.%d' % (major, minor)] + PIP_NETWORK_ARGS
    if probe['markers'].get('implementation_name') == 'cpython':
        args += ['--implementation', 'cp', '--abi', 'cp%d%d' % (major, minor)]
    for tag in platform_tags(probe):
        args += ['--platform', tag]
    for path in requirement_paths:
        args += ['-r', path]
    return args


def _tail(text, lines=15):
    kept = [line for line in (text or '').splitlines() if line.strip()]
    return '\n'.join(kept[-lines:])


class WheelCache(object):
    """``{build_root}/wheel_cache/{key}/``: complete downloads only, shared by parallel builds."""

    def __init__(self, root):
        self.root = root

    def path(self, key):
        return os.path.join(self.root, key)

    def get(self, key):
        """The wheels directory of a complete entry, or None."""
        entry = self.path(key)
        if os.path.isfile(os.path.join(entry, '.complete')):
            return os.path.join(entry, 'wheels')
        return None

    def ensure(self, key, fill):
        """Return ``(wheels_dir, hit)``; on a miss ``fill(tmp_wheels_dir)`` downloads into a temp dir.

        Parallel builds of services that share requirements wait on one lock, and
        the second finds the first one's entry.
        """
        found = self.get(key)
        if found:
            return found, True
        _makedirs(self.root)
        with open(os.path.join(self.root, '.%s.lock' % key), 'w') as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            found = self.get(key)
            if found:
                return found, True
            entry = self.path(key)
            tmp = '%s.tmp-%d' % (entry, os.getpid())
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(entry, ignore_errors=True)
            os.makedirs(os.path.join(tmp, 'wheels'), 0o700)
            try:
                info = fill(os.path.join(tmp, 'wheels'))
                with open(os.path.join(tmp, 'info.json'), 'w') as handle:
                    json.dump(info or {}, handle, indent=1, sort_keys=True)
                with open(os.path.join(tmp, '.complete'), 'w') as handle:
                    handle.write('ok\n')
                os.rename(tmp, entry)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        return os.path.join(entry, 'wheels'), False


def _makedirs(path):
    try:
        os.makedirs(path, 0o700)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise


def download(run, python, probe, requirement_paths, dest):
    """Download the wheels of ``requirement_paths`` for the probed target into ``dest``.

    ``run(argv)`` returns ``(rc, stdout, stderr)`` (a module's ``run_command``).
    """
    argv = [python, '-c', PIP_SHIM, json.dumps(probe['markers'], sort_keys=True)]
    argv += download_args(probe, requirement_paths, dest)
    rc, out, err = run(argv)
    if rc != 0:
        text = (err or '') + '\n' + (out or '')
        if re.search(r'No module named pip\b', text):
            raise WheelError('pip is not available for %s on the controller: install it (python3-pip) '
                             'or set pip_interpreter to a Python that has pip' % python)
        registry = registry_failure('pip', text)
        if registry:
            raise WheelError(registry)
        hint = ''
        if 'from versions: none' in text or 'No matching distribution' in text:
            hint = (' (every dependency must have a wheel for %s on %s: pin versions that publish '
                    'one, or build the wheel yourself and serve it with --find-links)'
                    % ('cp%d%d' % tuple(probe['version'][:2]), probe['markers']['platform_machine']))
        raise WheelError('pip download of %s failed (rc=%s)%s:\n%s'
                         % (', '.join(requirement_paths), rc, hint, _tail(text)))
    return sorted(f for f in os.listdir(dest) if f.endswith('.whl'))


def link_tree(src, dest):
    """Put the files of ``src`` into the new directory ``dest`` (hard links when possible)."""
    os.makedirs(dest, 0o755)
    for name in sorted(os.listdir(src)):
        source = os.path.join(src, name)
        target = os.path.join(dest, name)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
