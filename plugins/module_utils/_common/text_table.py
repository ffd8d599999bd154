# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixed-width text tables for the plan and the status (what a person reads in a terminal)."""

from __future__ import annotations


def text_table(headers, rows):
    """Lines of a table: the headers, a rule, then one line per row; columns two spaces apart."""
    widths = [max([len(str(h))] + [len(str(r[i])) for r in rows]) for i, h in enumerate(headers)]
    fmt = '  '.join('%%-%ds' % w for w in widths)
    lines = [fmt % tuple(headers), fmt % tuple('-' * w for w in widths)]
    lines.extend(fmt % tuple(str(c) for c in r) for r in rows)
    return [line.rstrip() for line in lines]
