# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenSearch backups and restores through the snapshot API; pure (the engine runs them).

Backup: the server snapshots every index (hidden and system ones aside, no global
state) into a fresh ``fs`` repository under ``path.repo`` inside its container
(the deploy sets ``path.repo``), and that repository, packed as one tar, is the
backup file: one file, with the same checksum, manifest and atomic-write rules
as a postgres dump or a redis RDB, pruned and pulled the same way. The
repository is unregistered and removed afterwards, so nothing grows between
backups.

Restore: the tar is checked first (checksum, then :func:`check_archive`), put
into a second repository directory of the container (read-only registration)
and the server itself reads it: the snapshot must list as ``SUCCESS``. Only then
does anything live change: the indices the snapshot holds are closed and
restored over (their documents, mappings and settings), and the indices it does
not hold are deleted, so the service's data is the backup's, as a postgres
restore replaces the whole database.

Every call is ``curl`` inside the service's container to its own HTTP port on
loopback: nothing is published, and the bodies hold no secret.
"""

from __future__ import annotations

import json
import posixpath
import re

SNAPSHOTS_DIR = '/usr/share/opensearch/snapshots'  # the deploy sets it as path.repo (_spec/wiring)
BACKUP_REPO = 'fleet-backup'
RESTORE_REPO = 'fleet-restore'
BACKUP_DIR = SNAPSHOTS_DIR + '/backup'
RESTORE_DIR = SNAPSHOTS_DIR + '/restore'
LOCAL_URL = 'http://127.0.0.1:9200'
# every index a user made: hidden and system indices (a leading dot) belong to the server
USER_INDICES = '*,-.*'
_SNAP_DATA = re.compile(r'^snap-[A-Za-z0-9_-]+\.dat$')
_REPO_INDEX = re.compile(r'^index-[0-9]+$')


def curl(method, path, body=None, timeout=3600):
    """argv of one HTTP call to the server on loopback; the reply ends with a line of its status code."""
    argv = ['curl', '-sS', '--max-time', str(int(timeout)), '-X', method, '-w', '\n%{http_code}']
    if body is not None:
        argv += ['-H', 'Content-Type: application/json', '--data-binary', json.dumps(body, sort_keys=True)]
    return argv + [LOCAL_URL + path]


def parse_reply(text, what, ok=(200,)):
    """``(status, body)`` of a :func:`curl` reply; ValueError naming ``what`` unless the status is in ``ok``."""
    head, dummy, status = text.rstrip('\n').rpartition('\n')
    try:
        code = int(status)
    except ValueError:
        raise ValueError('%s: no HTTP status in the reply (%r)' % (what, text[-200:])) from None
    try:
        body = json.loads(head) if head.strip() else {}
    except ValueError:
        body = {'text': head[:500]}
    if code not in ok:
        raise ValueError('%s: HTTP %d %s' % (what, code, error_text(body)))
    return code, body


def error_text(body):
    """The one line that explains an OpenSearch error body."""
    error = body.get('error') if isinstance(body, dict) else None
    if isinstance(error, dict):
        cause = (error.get('root_cause') or [{}])[0] or error
        return '%s: %s' % (cause.get('type', error.get('type', 'error')), cause.get('reason', error.get('reason', '')))
    if error:
        return str(error)
    return json.dumps(body, sort_keys=True)[:300]


def repository_body(location, readonly=False):
    """The ``PUT _snapshot/{repo}`` body of an ``fs`` repository at ``location`` (under path.repo)."""
    return {'type': 'fs', 'settings': {'location': location, 'readonly': bool(readonly)}}


def snapshot_name(backup_name):
    """A snapshot name from a backup file name (``search_backup_20261201_040000.tar`` -> ``search-20261201-040000``)."""
    stem = backup_name.rsplit('.', 1)[0].replace('_backup_', '-').replace('_', '-')
    return re.sub(r'[^a-z0-9-]', '-', stem.lower())


def snapshot_body():
    """The ``PUT _snapshot/{repo}/{name}`` body: every user index, no cluster state."""
    return {'indices': USER_INDICES, 'include_global_state': False, 'ignore_unavailable': True}


def snapshot_result(body, name):
    """The snapshot of a finished ``wait_for_completion`` call: its indices; ValueError unless it succeeded."""
    snap = body.get('snapshot') or {}
    if snap.get('state') != 'SUCCESS':
        failures = snap.get('failures') or []
        reason = failures[0].get('reason') if failures and isinstance(failures[0], dict) else snap.get('state')
        raise ValueError('snapshot %s ended %s (%s)' % (name, snap.get('state') or 'without a state', reason))
    return sorted(snap.get('indices') or [])


def the_snapshot(body, backup):
    """The one successful snapshot a restored repository lists (``GET _snapshot/{repo}/_all``): name, indices."""
    snaps = [s for s in body.get('snapshots') or [] if isinstance(s, dict)]
    good = [s for s in snaps if s.get('state') == 'SUCCESS']
    if len(good) != 1:
        raise ValueError('%s holds %d successful snapshots (of %d), not one: it was not made by the fleet, or it '
                         'is damaged; use another backup' % (backup, len(good), len(snaps)))
    return good[0]['snapshot'], sorted(good[0].get('indices') or [])


def check_archive(members, backup):
    """Refuse a tar that is not one fs repository of one snapshot; ``members``: ``(name, kind)``, kind 'file'/'dir'/other.

    A repository holds ``index.latest``, ``index-N``, a ``snap-*.dat`` per snapshot
    and ``indices/``; a member that is a link, a device, absolute or climbing out
    (``..``) is refused too, as it could write outside the repository.
    """
    names = set()
    for name, kind in members:
        clean = posixpath.normpath(name)
        if kind not in ('file', 'dir'):
            raise ValueError('%s holds %s, which is neither a file nor a folder: not a fleet snapshot; use another '
                             'backup' % (backup, name))
        if name.startswith('/') or clean == '..' or clean.startswith('../'):
            raise ValueError('%s holds %s, outside its repository: not a fleet snapshot; use another backup'
                             % (backup, name))
        if kind == 'file':
            names.add(clean)
    missing = [what for what, found in (
        ('index.latest', 'index.latest' in names),
        ('index-N', any(_REPO_INDEX.match(n) for n in names)),
        ('snap-*.dat', any(_SNAP_DATA.match(n) for n in names)),
    ) if not found]
    if missing:
        raise ValueError('%s is not an OpenSearch snapshot repository (no %s in it): use another backup'
                         % (backup, ', '.join(missing)))
    return sorted(names)


def user_indices(cat_indices):
    """``GET _cat/indices?format=json``: ``{name: docs}`` of the user's indices (no leading dot)."""
    found = {}
    for row in cat_indices or []:
        name = row.get('index') or ''
        if name and not name.startswith('.'):
            docs = row.get('docs.count')
            found[name] = int(docs) if docs not in (None, '') else None
    return found


def restore_plan(live, in_snapshot):
    """``(close, delete)``: the live indices the restore replaces (closed first) and those it removes."""
    live, wanted = set(live), set(in_snapshot)
    return sorted(live & wanted), sorted(live - wanted)


def restore_body(indices):
    """The ``POST _snapshot/{repo}/{name}/_restore`` body: exactly the snapshot's user indices."""
    return {'indices': ','.join(indices), 'include_global_state': False, 'include_aliases': True}
