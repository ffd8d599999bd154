# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Redis backups and restores as commands and scripts; pure (the engine runs them).

Backup: ``BGSAVE`` (a fork writes one point-in-time RDB while the server keeps
serving), wait until ``INFO persistence`` shows it finished after it began, then
stream the finished RDB out of the container. Redis writes a save to a temp file
and renames it, so the file read is always a whole one.

Restore: the RDB is checked with ``redis-check-rdb`` in a helper container first.
The service is stopped (a dataset cannot be swapped under a running server), a
helper moves the current files aside into ``.fleet-previous/`` and puts the
backup in place, and the service starts again. With ``appendonly yes`` (how the
fleet runs redis) the server loads its append-only directory, not ``dump.rdb``,
so the backup becomes the *base* of a fresh multi-part AOF: the RDB as
``{appendfilename}.1.base.rdb`` and a manifest naming it (Redis 7's format; it
adds the incremental file itself). If the server does not come back with the
data, the previous files go back.
"""

from __future__ import annotations

SECRETS_CONF = '/run/secrets/redis.conf'
PREVIOUS_DIR = '.fleet-previous'
INCOMING_DIR = '.fleet-restore'


def cli(*args):
    """argv of redis-cli in the service's container, authenticated from its mounted config.

    The password is read inside the container into REDISCLI_AUTH: it never
    appears on a command line or leaves the container.
    """
    script = ('pw=$(sed -n "s/^requirepass //p" %s 2>/dev/null); '
              'if [ -n "$pw" ]; then export REDISCLI_AUTH="$pw"; fi; '
              'exec redis-cli --no-auth-warning "$@"' % SECRETS_CONF)
    return ['sh', '-c', script, 'redis-cli'] + [str(a) for a in args]


def parse_info(text):
    """``INFO`` output as a dict of str (section headers and blank lines skipped)."""
    info = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#') or ':' not in line:
            continue
        key, value = line.split(':', 1)
        info[key] = value
    return info


def bgsave_state(info, started_at):
    """``'done'``, ``'running'`` or an error text, for a BGSAVE begun at unix time ``started_at``."""
    if info.get('rdb_bgsave_in_progress') == '1':
        return 'running'
    try:
        last = int(info.get('rdb_last_save_time', '0'))
    except ValueError:
        last = 0
    if last < started_at:
        return 'running'
    if info.get('rdb_last_bgsave_status', 'ok') != 'ok':
        return 'the background save failed (rdb_last_bgsave_status:%s; see the redis log: disk full?)' \
            % info.get('rdb_last_bgsave_status')
    return 'done'


def parse_config_get(text):
    """``CONFIG GET a b`` output (name and value on alternate lines) as a dict."""
    lines = text.splitlines()
    return dict(zip(lines[0::2], lines[1::2]))


def data_layout(config):
    """Where the server keeps its data, from ``CONFIG GET dir dbfilename appendonly appenddirname appendfilename``."""
    return {
        'dir': config.get('dir') or '/data',
        'dbfilename': config.get('dbfilename') or 'dump.rdb',
        'appendonly': config.get('appendonly') == 'yes',
        'appenddirname': config.get('appenddirname') or 'appendonlydir',
        'appendfilename': config.get('appendfilename') or 'appendonly.aof',
    }


def aof_manifest(appendfilename):
    """A multi-part AOF manifest whose only file is the base RDB (the incremental file Redis adds)."""
    return 'file %s.1.base.rdb seq 1 type b\n' % appendfilename


def _q(text):
    return "'%s'" % text.replace("'", "'\\''")


def place_script(layout, source):
    """sh script for a helper with the data volume at ``layout['dir']``: move the current files aside, put ``source`` in.

    The previous files end in ``.fleet-previous/`` (emptied first), so
    :func:`rollback_script` can put them back; the new files take the data
    directory's owner.
    """
    d = layout['dir']
    lines = [
        'set -eu',
        'cd %s' % _q(d),
        'owner=$(stat -c %u:%g .)',
        'rm -rf %s %s' % (INCOMING_DIR, PREVIOUS_DIR),
        'mkdir %s %s' % (INCOMING_DIR, PREVIOUS_DIR),
        'cp %s %s/%s' % (_q(source), INCOMING_DIR, _q(layout['dbfilename'])),
    ]
    if layout['appendonly']:
        aof_dir = '%s/%s' % (INCOMING_DIR, layout['appenddirname'])
        lines += [
            'mkdir %s' % _q(aof_dir),
            'cp %s %s/%s' % (_q(source), _q(aof_dir), _q(layout['appendfilename'] + '.1.base.rdb')),
            'printf %%s %s > %s/%s' % (_q(aof_manifest(layout['appendfilename'])), _q(aof_dir),
                                       _q(layout['appendfilename'] + '.manifest')),
        ]
    lines += [
        'chown -R "$owner" %s' % INCOMING_DIR,
        'sync',
        'for f in %s %s; do if [ -e "$f" ]; then mv "$f" %s/; fi; done'
        % (_q(layout['dbfilename']), _q(layout['appenddirname']), PREVIOUS_DIR),
        'mv %s/* .' % INCOMING_DIR,
        'rmdir %s' % INCOMING_DIR,
        'sync',
    ]
    return '\n'.join(lines) + '\n'


def rollback_script(layout):
    """sh script putting ``.fleet-previous/`` back in place of a restore that did not come up."""
    return '\n'.join([
        'set -eu',
        'cd %s' % _q(layout['dir']),
        'if [ -d %s ]; then' % PREVIOUS_DIR,
        '  rm -rf %s %s' % (_q(layout['dbfilename']), _q(layout['appenddirname'])),
        '  for f in %s/* ; do if [ -e "$f" ]; then mv "$f" .; fi; done' % PREVIOUS_DIR,
        '  rmdir %s' % PREVIOUS_DIR,
        'fi',
        'sync',
    ]) + '\n'


def cleanup_script(layout):
    """sh script dropping ``.fleet-previous/`` once the restored data serves."""
    return 'set -eu\ncd %s\nrm -rf %s %s\n' % (_q(layout['dir']), PREVIOUS_DIR, INCOMING_DIR)
