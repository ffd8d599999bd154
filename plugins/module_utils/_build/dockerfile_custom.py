# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The user's own Dockerfiles (``type: custom``) and the fleet LABEL step every image gets.

A custom service brings its Dockerfile either as a file in its source
(``dockerfile``, a path relative to the build context, which
:func:`dockerfile_in_context` resolves and keeps inside the context) or inline as
the seed's numbered lines (``dockerfile_content``, rendered by
:func:`dockerfile_from_content`)::

    dockerfile_content:
      "1": FROM python:3.11-slim
      "2": WORKDIR /app

Either way :func:`with_fleet_labels` appends the step that marks the image as the
fleet's: ``ARG FLEET_SOURCE_HASH=`` and one ``LABEL`` with the fleet labels and
``fleet.source_hash``. Appended at the end, it lands in the final stage. The hash
comes from the build argument because it covers the Dockerfile text itself.

Everything here is pure text except :func:`dockerfile_in_context`, which resolves
symbolic links (it reads no file).
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile import (
    LABEL_KEY_RE, SOURCE_HASH_ARG, SOURCE_HASH_LABEL, DockerfileError)

# A parser directive (``# escape=`` `` ` ``): only before the first instruction, comment or blank line.
DIRECTIVE_RE = re.compile(r'^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$')
FROM_LINE_RE = re.compile(r'^\s*FROM\s', re.IGNORECASE)


def fleet_label_lines(labels):
    """The final step of a fleet image: ``ARG FLEET_SOURCE_HASH=`` and one sorted ``LABEL`` line.

    ``labels`` (a dict) are plain labels: keys of letters, digits, ``.``, ``_`` and
    ``-``; values without ``$`` or newlines (a ``LABEL`` expands ``$``).
    ``fleet.source_hash`` comes last, from the build argument.
    """
    label_items = sorted((str(k), str(v)) for k, v in (labels or {}).items())
    for key, value in label_items:
        if not LABEL_KEY_RE.match(key) or any(c in value for c in '\n\r$'):
            raise DockerfileError('label %s=%r is not a plain label (key: letters, digits, . _ -; value without $ '
                                  'or newlines)' % (key, value))
        if key == SOURCE_HASH_LABEL:
            raise DockerfileError('label %s is set by the build from the argument %s: remove it from the labels'
                                  % (SOURCE_HASH_LABEL, SOURCE_HASH_ARG))
    label_items.append((SOURCE_HASH_LABEL, '${%s}' % SOURCE_HASH_ARG))
    return [
        'ARG %s=' % SOURCE_HASH_ARG,
        'LABEL %s' % ' '.join('%s=%s' % (key, json.dumps(value)) for key, value in label_items),
    ]


def _line_number(key):
    if isinstance(key, bool):
        raise DockerfileError('dockerfile_content key %r is not a line number: use "1", "2", ...' % (key,))
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.strip().isdigit():
        return int(key.strip())
    raise DockerfileError('dockerfile_content key %r is not a line number: use "1", "2", ...' % (key,))


def dockerfile_from_content(content):
    """The Dockerfile text of the seed's ``dockerfile_content``: ``{line number: line}``.

    Keys are line numbers as strings or ints, put in numeric order (gaps are fine,
    ``"10"`` comes after ``"9"``); each value is one line of text (a value with
    newlines is kept as it is, so a continued ``RUN`` can be one value). The text
    ends with a newline and must have a ``FROM`` line.
    """
    if not isinstance(content, dict) or not content:
        raise DockerfileError('dockerfile_content must be a mapping of line numbers to Dockerfile lines, such as '
                              '{"1": "FROM python:3.11-slim", "2": "WORKDIR /app"}')
    lines = {}
    for key, value in content.items():
        number = _line_number(key)
        if number in lines:
            raise DockerfileError('dockerfile_content has line %d twice (keys %r): give each line its own number'
                                  % (number, [k for k in content if _line_number(k) == number]))
        if value is None:
            value = ''
        if not isinstance(value, str):
            raise DockerfileError('dockerfile_content line %d must be a string, got %s: quote it'
                                  % (number, type(value).__name__))
        lines[number] = value.replace('\r\n', '\n').replace('\r', '\n')
    text = '\n'.join(lines[number] for number in sorted(lines))
    if not any(FROM_LINE_RE.match(line) for line in text.splitlines()):
        raise DockerfileError('dockerfile_content has no FROM line: its first instruction must be FROM <image>')
    return text.rstrip('\n') + '\n'


def dockerfile_in_context(context_dir, dockerfile):
    """The absolute path of the user's ``dockerfile`` (relative to ``context_dir``, or absolute inside it).

    Symbolic links are resolved first, so a link that points outside the context
    is refused like ``../Dockerfile``. The file itself is not read or required to exist.
    """
    return path_in_context(context_dir, dockerfile, 'dockerfile', 'Dockerfile or docker/Dockerfile.prod')


def path_in_context(context_dir, relative, key, examples):
    """The absolute path of the file the spec's ``key`` names, which must lie inside ``context_dir``."""
    if not isinstance(context_dir, str) or not context_dir:
        raise DockerfileError('the build context directory is not set: give build_context or git_repo')
    if not isinstance(relative, str) or not relative.strip():
        raise DockerfileError('%s must be a path inside the build context, such as %s' % (key, examples))
    if '\0' in relative:
        raise DockerfileError('%s %r contains a NUL character' % (key, relative))
    context = os.path.realpath(context_dir)
    path = os.path.realpath(os.path.join(context, relative.strip()))
    if path == context or os.path.commonpath([context, path]) != context:
        raise DockerfileError('%s %r is outside the build context %s: give a path inside it, relative to it '
                              '(such as %s)' % (key, relative, context, examples))
    return path


def _escape_char(text):
    """The line-continuation character: ``\\`` unless a ``# escape=`` parser directive says otherwise."""
    for line in text.splitlines():
        match = DIRECTIVE_RE.match(line.strip())
        if not match:
            break
        if match.group(1).lower() == 'escape' and match.group(2) in ('\\', '`'):
            return match.group(2)
    return '\\'


def with_fleet_labels(text, labels):
    """``text`` (a whole Dockerfile) with the fleet label step appended to its final stage.

    Refused when the Dockerfile has no ``FROM`` or its last instruction is left
    continued (ends with the escape character), which would swallow the step.
    """
    if not isinstance(text, str) or not any(FROM_LINE_RE.match(line) for line in text.splitlines()):
        raise DockerfileError('the Dockerfile has no FROM line: a custom Dockerfile must start its stages with FROM')
    body = text.replace('\r\n', '\n').rstrip()
    last = body.splitlines()[-1].strip()
    if not last.startswith('#') and last.endswith(_escape_char(body)):
        raise DockerfileError('the Dockerfile ends with a line continuation (%s): finish or remove its last '
                              'instruction' % _escape_char(body))
    return '\n'.join([body, '', '# Added by projectdeployer.fleet: the fleet labels.'] + fleet_label_lines(labels)) \
        + '\n'
