# SPDX-License-Identifier: GPL-3.0-or-later
# -*- coding: utf-8 -*-
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import logs as _logs

CRASH = """Collecting flask
  Downloading flask-3.0.0-py3-none-any.whl (99 kB)
Successfully installed flask-3.0.0
starting api on 0.0.0.0:8000
Traceback (most recent call last):
  File "/app/api.py", line 30, in <module>
    host = ResourceResolver.get_service_host(project, env, "postgres")
TypeError: ResourceResolver.get_service_host() missing 1 required positional argument
"""


def test_noise_is_filtered():
    lines = _logs.clean(CRASH)
    assert not any(line.startswith(('Collecting', '  Downloading', 'Successfully')) for line in lines)
    assert 'starting api on 0.0.0.0:8000' in lines


def test_traceback_is_highlighted_whole_under_the_seed_header():
    out = _logs.highlight(_logs.clean(CRASH), prefix='[localhost] ')
    assert out[0] == u'[localhost] \u26a0\ufe0f  ERROR LINES DETECTED:'
    assert out[1] == u'[localhost] \u274c Traceback (most recent call last):'
    assert out[2].endswith(u'\u274c   File "/app/api.py", line 30, in <module>')
    assert out[-1].endswith('TypeError: ResourceResolver.get_service_host() missing 1 required positional argument')
    assert not any('starting api' in line for line in out)


def test_no_errors_no_header():
    assert _logs.highlight(['all good', 'listening on 8000']) == []


def test_mark_keeps_every_line():
    marked = _logs.mark(['ok', 'FATAL: database "x" does not exist'])
    assert marked[0] == '   ok' and marked[1].startswith(u'\u274c ')


def test_escape_codes_removed():
    assert _logs.clean('\x1b[31mERROR\x1b[0m boom') == ['ERROR boom']


def test_interleaved_output_does_not_join_a_traceback():
    lines = ['Traceback (most recent call last):', '  File "<string>", line 5, in <module>', 'starting v3',
             '  File "<string>", line 3, in connect', 'RuntimeError: cannot reach the database at db:5432']
    errors = _logs.error_lines(lines)
    assert 'starting v3' not in errors
    assert errors[0].startswith('Traceback') and errors[-1].startswith('RuntimeError')


def test_exception_line_without_message_ends_a_traceback():
    lines = ['Traceback (most recent call last):', '  File "a.py", line 1, in <module>', 'KeyboardInterrupt', 'bye']
    assert _logs.error_lines(lines) == lines[:3]


def test_frames_of_a_cut_traceback_are_not_shown_before_a_traceback_line():
    # the tail of the logs starts inside the first crash's traceback; the restart crashed again
    lines = ['  File "/app/app.py", line 170, in <module>', '    raise RuntimeError("FAIL_ON_START=1")',
             'RuntimeError: FAIL_ON_START=1', 'example api starting',
             'Traceback (most recent call last):', '  File "/app/app.py", line 170, in <module>',
             '    raise RuntimeError("FAIL_ON_START=1")', 'RuntimeError: FAIL_ON_START=1']
    assert _logs.error_lines(lines) == ['RuntimeError: FAIL_ON_START=1'] + lines[4:]
    assert _logs.highlight(lines)[1] == u'\u274c RuntimeError: FAIL_ON_START=1'
    assert _logs.highlight(lines)[2] == u'\u274c Traceback (most recent call last):'


def test_a_traceback_repeated_by_a_crash_loop_is_shown_once():
    crash = ['Traceback (most recent call last):', '  File "/app/app.py", line 154, in main',
             'RuntimeError: FAIL_ON_START=1']
    lines = ['starting'] + crash + ['starting'] + crash + ['starting'] + crash + ['ERROR another thing']
    assert _logs.highlight(lines)[1:] == [u'\u274c ' + line for line in crash] + [
        u'\u274c (the traceback above came 3 times)', u'\u274c ERROR another thing']


def test_health_check_requests_are_recognised_and_left_out():
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.logs import (
        is_health_line, without_health_lines)
    lines = [
        '172.17.0.1 - - [06/Dec/2026 06:00:00] "GET /health HTTP/1.1" 200 -',
        '127.0.0.1 - - [06/Dec/2026 06:00:01] "GET /health?probe=1 HTTP/1.1" 200 -',
        '10.0.0.5 - - [06/Dec/2026 06:00:02] "GET /healthz HTTP/1.1" 404 -',
        '10.0.0.5 - - [06/Dec/2026 06:00:03] "POST /items HTTP/1.1" 201 -',
        'INFO:     127.0.0.1:51234 - "HEAD /health HTTP/1.1" 200 OK',
    ]
    kept, hidden = without_health_lines(lines, '/health')
    assert hidden == 3 and kept == lines[2:4]
    # "/" is asked by visitors too: only the image's own check (from 127.0.0.1) is a health line
    assert is_health_line('127.0.0.1 - - "GET / HTTP/1.1" 200', '/')
    assert not is_health_line('10.0.0.5 - - "GET / HTTP/1.1" 200', '/')
    assert without_health_lines(lines, None) == (lines, 0)
