# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``fleet`` prints: results on stdout (a table, or JSON with --json), progress and failures on stderr,
colour only on a terminal."""

from __future__ import annotations

import json
import sys

RED, DIM, RESET = '\033[31m', '\033[2m', '\033[0m'


def table(headers, rows):
    """Columns padded to their widest cell, headers first."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    return '\n'.join('  '.join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in [headers] + list(rows))


class Printer(object):
    """``result`` for the answer, ``echo`` for the playbook's output (-v), ``step`` and ``failure`` for people."""

    def __init__(self, json_mode=False, verbose=0, out=None, err=None):
        self.json_mode, self.verbose = json_mode, verbose
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.colour = self.err.isatty()
        self.tasks = 0

    def _paint(self, colour, text):
        return '%s%s%s' % (colour, text, RESET) if self.colour else text

    def echo(self, text):
        """The playbook's output as it comes: all of it with -v, else one progress line per task."""
        if self.verbose:
            self.err.write(text + '\n')
        elif text.lstrip().startswith('TASK ['):
            self.tasks += 1
            name = text.strip().split('\n')[0].strip('*').strip()
            self.err.write(self._paint(DIM, '  %3d %s' % (self.tasks, name[6:-1] if name.endswith(']') else name)) + '\n')
        else:
            return
        self.err.flush()

    def step(self, text):
        self.err.write('%s\n' % text)
        self.err.flush()

    def note(self, text):
        self.err.write('fleet: %s\n' % text)

    def line(self, text):
        self.out.write(text + '\n')
        self.out.flush()

    def result(self, data, text):
        if self.json_mode:
            self.out.write(json.dumps(data, indent=2, sort_keys=True, default=str) + '\n')
        elif text:
            self.out.write(text.rstrip('\n') + '\n')
        self.out.flush()

    def failure(self, error):
        if self.json_mode:
            self.out.write(json.dumps({'error': str(error), 'exit_code': error.exit_code, 'key': error.key}) + '\n')
        self.err.write(self._paint(RED, 'fleet: %s' % error) + '\n')
        self.err.flush()
