# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading container logs the way the seed's troubleshooting section describes.

Pure text helpers: noise filtering (package installation and build output), error
detection with tracebacks kept whole, and the ❌ highlighting that puts error lines
first.
"""

from __future__ import annotations

import re

ERROR_MARK = u'\u274c'
WARNING_HEADER = u'\u26a0\ufe0f  ERROR LINES DETECTED:'

ERROR_RE = re.compile(
    r'(Traceback \(most recent call last\)|^\s*File ".*", line \d+|\b\w*(Error|Exception)\b:|'
    r'\bFATAL\b|\bPANIC\b|\bpanic:|\bERROR\b|\bCRITICAL\b|\bSegmentation fault\b|'
    r'\bcommand not found\b|\bNo such file or directory\b|\bpermission denied\b|\bexited with code\b|'
    r'\baddress already in use\b|\bcould not\b|\bcannot\b|\bunable to\b|\bfailed\b)',
    re.IGNORECASE)
NOISE_RE = re.compile(
    r'^\s*(Collecting |Downloading |Using cached |Requirement already satisfied|Installing collected packages|'
    r'Successfully installed|Building wheel|Created wheel|Stored in directory|'
    r'Get:\d+ |Hit:\d+ |Ign:\d+ |Fetched \d|Reading package lists|Building dependency tree|'
    r'Reading state information|Selecting previously unselected|Preparing to unpack|Unpacking |Setting up |'
    r'Processing triggers|npm (notice|http fetch|timing)|added \d+ packages|'
    r'[\u2500-\u259f\s]+$|\s*\d+%\s*\|)')


def clean(text):
    """Split container output into lines without noise, blank lines or terminal escapes."""
    lines = []
    for line in re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', text or '').splitlines():
        line = line.rstrip()
        if line and not NOISE_RE.match(line):
            lines.append(line)
    return lines


def is_error(line):
    return bool(ERROR_RE.search(line))


FRAME_RE = re.compile(r'^\s+File ".*", line \d+')
# The last line of a Python traceback: ``ValueError: ...``, ``pkg.mod.Error``, ``KeyboardInterrupt``.
EXCEPTION_LINE_RE = re.compile(r'^[A-Za-z_][\w.]*(:.*)?$')


def error_lines(lines):
    """The lines that say what went wrong; a traceback is kept whole.

    Inside a traceback, indented lines and the final exception line belong to it;
    any other line (output of another stream interleaved by the engine) ends it and
    is judged on its own.
    """
    found = []
    in_traceback = orphan = False
    for line in lines:
        if line.startswith('Traceback (most recent call last)'):
            in_traceback, orphan = True, False
            found.append(line)
            continue
        if not in_traceback and (orphan or FRAME_RE.match(line)) and line.startswith((' ', '\t')):
            # the frames of a traceback whose first lines are not in the logs we have (cut by the tail):
            # shown without their Traceback line they read backwards; its exception line still counts
            orphan = True
            continue
        orphan = False
        if in_traceback:
            if line.startswith((' ', '\t')):
                found.append(line)
                continue
            in_traceback = False
            if EXCEPTION_LINE_RE.match(line):
                found.append(line)
                continue
        if is_error(line):
            found.append(line)
    return found


def _once(errors):
    """``errors`` with each repeated traceback kept once (a crash loop prints the same one per restart),
    followed by a line that says how often it came."""
    blocks, current = [], None
    for line in errors:
        if line.startswith('Traceback (most recent call last)'):
            current = [line]
            blocks.append(current)
        elif current is not None:
            current.append(line)
            if not line.startswith((' ', '\t')):
                current = None  # the exception line ends the traceback
        else:
            blocks.append([line])
    counts, order = {}, []
    for index, block in enumerate(blocks):
        # tracebacks are compared by their text; other lines are kept as they come
        key = tuple(block) if block[0].startswith('Traceback') else (index,) + tuple(block)
        if key not in counts:
            order.append(key)
        counts[key] = counts.get(key, 0) + 1
    out = []
    for key in order:
        out.extend(key if isinstance(key[0], str) else key[1:])
        if counts[key] > 1:
            out.append('(the traceback above came %d times)' % counts[key])
    return out


def highlight(lines, prefix=''):
    """Error lines first, each marked ❌, under the seed's header; empty if there are none.

    A traceback that repeats (a container restarting in a loop) is shown once, with how often it came.
    """
    errors = _once(error_lines(lines))
    if not errors:
        return []
    out = [u'%s%s' % (prefix, WARNING_HEADER)]
    out.extend(u'%s%s %s' % (prefix, ERROR_MARK, line) for line in errors)
    return out


def mark(lines):
    """Every line, with ❌ in front of the error lines (for logs.yml)."""
    errors = set(error_lines(lines))
    return [(u'%s %s' % (ERROR_MARK, line)) if line in errors else (u'   ' + line) for line in lines]


def is_health_line(line, health_path):
    """Whether ``line`` is an access-log line of a health check: a GET or HEAD of ``health_path`` (with or without a
    query). For the path ``/``, which real visitors ask too, only the image's own check counts: a request from
    127.0.0.1 inside the container."""
    if not health_path:
        return False
    pattern = r'"?\b(?:GET|HEAD) %s(?:\?\S*)? HTTP/' % re.escape(health_path)
    if not re.search(pattern, line):
        return False
    return health_path != '/' or '127.0.0.1' in line


def without_health_lines(lines, health_path):
    """``(lines without the health-check requests, how many were left out)``."""
    kept = [line for line in lines if not is_health_line(line, health_path)]
    return kept, len(lines) - len(kept)


SINCE_RE = re.compile(r'^(\d+)([smhd])$')
SINCE_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400}


def since_epoch(value, now):
    """The Unix time ``value`` names: a relative age (``30s``, ``10m``, ``2h``, ``1d``) before ``now``, or a Unix time.

    Raises ValueError with the fix for anything else.
    """
    text = str(value).strip()
    relative = SINCE_RE.match(text)
    if relative:
        return int(now) - int(relative.group(1)) * SINCE_UNITS[relative.group(2)]
    if text.isdigit():
        return int(text)
    raise ValueError('since: %r is not an age or a Unix time; fix: use for example 30s, 10m, 2h, 1d or 1764000000' % text)
