# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A program the server runs outside Ansible (cron's backups, the health agent and monitor), as one zip.

The zip holds the collection's module_utils files the program imports (found by following their
``from ansible_collections.projectdeployer.fleet.plugins.module_utils...`` imports from the given
modules) and a ``__main__.py``; ``python3 program.zip ARGS`` runs it. Its bytes depend only on that code
(fixed times and modes), so installing it again changes nothing.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import re
import sys
import zipfile

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import write_atomic

PACKAGE = 'ansible_collections.projectdeployer.fleet.plugins.module_utils'
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_IMPORT = re.compile(r'^from (%s(?:\.\w+)+) import (?:\(([^)]*)\)|([^\n(]+))' % re.escape(PACKAGE), re.M)


def imported(module):
    """The collection's module_utils modules that ``module`` imports."""
    found = []
    for source, grouped, single in _IMPORT.findall(inspect.getsource(module)):
        for name in (grouped or single).split(','):
            name = name.split('#')[0].split()[0] if name.split('#')[0].strip() else ''
            if not name:
                continue
            candidate = sys.modules.get('%s.%s' % (source, name))
            target = candidate if candidate is not None and inspect.ismodule(candidate) else sys.modules.get(source)
            if target is not None and target not in found and hasattr(target, '__file__'):
                found.append(target)
    return found


def closure(modules):
    """``modules`` and everything of the collection they import, in a stable order."""
    seen, todo = {}, list(modules)
    while todo:
        module = todo.pop()
        if module.__name__ in seen:
            continue
        seen[module.__name__] = module
        todo.extend(imported(module))
    return [seen[name] for name in sorted(seen)]


def sources(modules, main):
    """(path in the zip, text) of every file: the package __init__ files, the modules, ``__main__.py``."""
    parts = PACKAGE.split('.')
    library = closure(modules)
    entries = [('/'.join(parts[:depth] + ['__init__.py']), '') for depth in range(1, len(parts) + 1)]
    for package in sorted(set(module.__name__.split('.')[len(parts)] for module in library)):
        entries.append(('/'.join(parts + [package, '__init__.py']), ''))
    for module in library:
        entries.append(('/'.join(module.__name__.split('.')) + '.py', inspect.getsource(module)))
    entries.append(('__main__.py', main))
    return entries


COMMENT_PREFIX = b'fleet sources sha256 '


def sources_digest(entries):
    """The sha256 of the entries (paths and texts): what the zip is made of, whatever zlib compresses it to."""
    digest = hashlib.sha256()
    for path, text in entries:
        for part in (path, text):
            data = part.encode('utf-8')
            digest.update(b'%d:' % len(data))
            digest.update(data)
    return digest.hexdigest()


def installed_sources_digest(path):
    """The sources digest in the comment of the zip at ``path`` (``build_zip`` writes it); None when the file is
    missing, no zip or has none. Lets a controller that built the same entries tell, without the zip's bytes
    (which depend on the server's zlib), that the program there is current."""
    try:
        with zipfile.ZipFile(path) as archive:
            comment = archive.comment
    except (OSError, zipfile.BadZipFile):
        return None
    return comment[len(COMMENT_PREFIX):].decode('ascii', 'replace') if comment.startswith(COMMENT_PREFIX) else None


def build_zip(entries):
    """The zip's bytes: entries in order, fixed times and modes, so the same code gives the same bytes; its
    comment holds ``sources_digest(entries)``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.comment = COMMENT_PREFIX + sources_digest(entries).encode('ascii')
        for path, text in entries:
            info = zipfile.ZipInfo(path, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode('utf-8'))
    return buffer.getvalue()


def current_sha256(path):
    try:
        with open(path, 'rb') as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except FileNotFoundError:
        return None


def install(path, data, check_mode=False):
    """Write ``data`` to ``path`` (0644) when it differs; ``(changed, sha256)``."""
    digest = hashlib.sha256(data).hexdigest()
    changed = current_sha256(path) != digest
    if changed and not check_mode:
        write_atomic(path, data, mode=0o644, dir_mode=0o755)
    return changed, digest
