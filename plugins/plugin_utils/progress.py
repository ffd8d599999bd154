# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Progress lines while a long module run goes on (a build, a group's start and health checks).

A module's output comes when it ends; the action that starts it runs it in a thread and says every
``EVERY`` seconds what it is doing and for how long (``api: building the image, 1m30s``), so a long
wait reads as waiting and a stuck one is seen as stuck.
"""

from __future__ import annotations

import threading
import time

from ansible import constants as C
from ansible.utils.display import Display

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.report import shows_text

EVERY = 30.0

display = Display()


def elapsed(seconds):
    """``45s``, ``1m30s``, ``1h02m``."""
    seconds = int(seconds)
    if seconds < 60:
        return '%ds' % seconds
    if seconds < 3600:
        return '%dm%02ds' % divmod(seconds, 60)
    return '%dh%02dm' % (seconds // 3600, seconds % 3600 // 60)


def shown(task_vars):
    """Whether progress lines may be printed: not under a stdout callback that writes a document for programs
    (JSON), which a second writer would break."""
    return shows_text(C.config.get_config_value('DEFAULT_STDOUT_CALLBACK', variables=task_vars))


def run_with_progress(run, describe, every=EVERY, show=None, clock=time.monotonic):
    """``run()``'s result; every ``every`` seconds until it returns, ``describe(seconds)`` is shown (a line, or
    nothing when it returns None). An exception of ``run()`` is raised here."""
    show = show or display.display
    outcome = {}

    def target():
        try:
            outcome['result'] = run()
        except BaseException as exc:  # pylint: disable=broad-exception-caught  # raised again below
            outcome['error'] = exc

    worker = threading.Thread(target=target, daemon=True)
    started = clock()
    worker.start()
    while True:
        worker.join(every)
        if not worker.is_alive():
            break
        line = describe(clock() - started)
        if line:
            show(line)
    if 'error' in outcome:
        raise outcome['error']
    return outcome['result']
