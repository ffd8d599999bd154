# SPDX-License-Identifier: GPL-3.0-or-later
"""The wait for a TXT record on the authoritative servers: against a real UDP DNS server made with dnspython."""
import os
import socket
import sys

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._cloudflare import propagation

WORLD_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), *(['..'] * 4 + ['world']))
if WORLD_DIR not in sys.path:
    sys.path.append(WORLD_DIR)

from cf_sim.authority import TinyAuthority  # noqa: E402


@pytest.fixture
def authority():
    server = TinyAuthority()
    yield server
    server.close()


def test_parse_server_forms():
    assert propagation.parse_server('ns1.example.test') == ('ns1.example.test', 53)
    assert propagation.parse_server('127.0.0.1:5353') == ('127.0.0.1', 5353)
    assert propagation.parse_server('[::1]:5353') == ('::1', 5353)
    assert propagation.parse_server('2001:db8::1') == ('2001:db8::1', 53)


def test_waits_until_the_record_is_answered_without_recursion(authority):
    ticks = {'n': 0}

    def sleep(_seconds):
        ticks['n'] += 1
        if ticks['n'] == 2:
            authority.records['_acme-challenge.api.example.test'] = ['token-1', 'other']

    waited = propagation.wait_for_txt({'_acme-challenge.api.example.test': ['token-1']},
                                      [('127.0.0.1', authority.port)], timeout=30, interval=0.01, sleep=sleep)
    assert waited >= 0 and ticks['n'] == 2 and authority.asked == 3
    assert authority.recursion == [False, False, False]


def test_the_wait_is_bounded_and_names_what_is_missing(authority):
    with pytest.raises(TimeoutError) as err:
        propagation.wait_for_txt({'_acme-challenge.api.example.test': ['token-1']}, [('127.0.0.1', authority.port)],
                                 timeout=0.3, interval=0.1)
    assert 'not answered after 0 s: _acme-challenge.api.example.test at 127.0.0.1' in str(err.value)
    assert 2 <= authority.asked <= 5


def test_a_server_that_does_not_answer_is_missing_not_an_error():
    quiet = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    quiet.bind(('127.0.0.1', 0))
    try:
        with pytest.raises(TimeoutError) as err:
            propagation.wait_for_txt({'x.example.test': ['v']}, [('127.0.0.1', quiet.getsockname()[1])], timeout=0.2,
                                     interval=0.1, query_timeout=0.1)
    finally:
        quiet.close()
    assert '(Timeout)' in str(err.value)
