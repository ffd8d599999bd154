# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Getting a container's logs even when it crashed before saying much.

The seed's multi-method retrieval, in order until one gives text: the standard
logs, the logs since the container started, the engine's json log file on disk,
error files inside the container, the state's own error message.
"""

from __future__ import annotations

import json

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import DockerException, exec_text
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.logs import clean, highlight


def _standard(container, lines):
    return container.logs(tail=lines, stdout=True, stderr=True).decode('utf-8', 'replace')


def _since_start(container, lines):
    return container.logs(stdout=True, stderr=True, timestamps=False).decode('utf-8', 'replace')


def _log_file(container, lines):
    path = container.attrs.get('LogPath')
    if not path:
        return ''
    out = []
    with open(path) as handle:
        for raw in handle:
            try:
                out.append(json.loads(raw).get('log', '').rstrip('\n'))
            except ValueError:
                continue
    return '\n'.join(out[-lines:])


def _error_files(container, lines):
    if not container.attrs.get('State', {}).get('Running'):
        return ''
    code, out = exec_text(container, ['sh', '-c', 'tail -n %d /tmp/*.log /var/log/*.log 2>/dev/null' % lines])
    return out if code == 0 else ''


TAIL = 8  # log lines shown when none is an error line

METHODS = (('docker logs', _standard), ('logs since start', _since_start), ('json log file', _log_file),
           ('error files in the container', _error_files))


def collect(container, lines=80, since=None):
    """``(method, [clean lines])`` from the first method that yields anything; ``since`` (Unix time): only the
    engine's own logs from then on (nothing there is an answer too)."""
    if since is not None:
        container.reload()
        text = container.logs(tail=lines, since=int(since), stdout=True, stderr=True).decode('utf-8', 'replace')
        return 'docker logs since %d' % int(since), clean(text)[-lines:]
    for name, method in METHODS:
        try:
            container.reload()
            text = method(container, lines)
        except (DockerException, OSError, ValueError):
            continue
        cleaned = clean(text)
        if cleaned:
            return name, cleaned[-lines:]
    return None, []


def failure_report(container, lines=80, seen_state=None):
    """State, exit code and error lines of a container that failed its health check.

    ``seen_state`` is the container's state when the check gave up: a container with a
    restart policy may be running again by now, with exit code 0, which says nothing.
    """
    try:
        container.reload()
        state = seen_state or container.attrs.get('State', {})
    except DockerException:
        state = seen_state or {}
    method, log_lines = collect(container, lines)
    report = {
        'state': state.get('Status'),
        'exit_code': state.get('ExitCode'),
        'oom_killed': state.get('OOMKilled', False),
        'restart_count': container.attrs.get('RestartCount', 0),
        'log_method': method,
        'logs': log_lines,
        'error_lines': highlight(log_lines),
    }
    if not report['error_lines'] and log_lines:
        # nothing looks like an error (a 400 for a Host header is often logged as a warning): the tail says why
        report['error_lines'] = [u'the last %d lines of its logs (none looks like an error):' % min(TAIL, len(log_lines))]
        report['error_lines'].extend(u'   %s' % line for line in log_lines[-TAIL:])
    if state.get('Error'):
        report['error_lines'].append(u'\u274c %s' % state['Error'])
    if not log_lines:
        report['error_lines'].append(u'\u274c no logs available: the container produced no output before it stopped')
    return report
