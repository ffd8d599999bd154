# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import quorum

A, B, C = '10.0.0.2', '10.0.0.3', '10.0.0.10'
OK, MISS3 = {'misses': 0}, {'misses': 3}


def test_probes_count_misses_in_a_row():
    view = {}
    for ok in (False, False, True, False):
        view = quorum.probed(view, B, ok, 1)
    assert view[B]['misses'] == 1 and view[B]['last_ok'] == 1


def test_dead_needs_a_strict_majority_of_peers():
    views = {A: {B: OK, C: MISS3}, B: {A: OK, C: MISS3}}
    assert quorum.judge([A, B, C], views, me=A, now=10 ** 6) == {'dead': [C], 'alive': [A, B], 'leader': A}
    # one observer is not enough, and a view that cannot be had counts as not dead
    assert quorum.judge([A, B, C], {A: {B: OK, C: MISS3}}, now=10 ** 6)['dead'] == []


def test_isolated_server_condemns_nobody_and_is_not_leader():
    views = {C: {A: MISS3, B: MISS3}}
    assert quorum.judge([A, B, C], views, me=C, now=10 ** 6) == {'dead': [], 'alive': [C], 'leader': C}
    assert quorum.judge([A, B, C], views, now=10 ** 6) == {'dead': [], 'alive': [], 'leader': None}


def test_leader_is_lowest_address_seen_alive_by_a_majority():
    views = {B: {A: MISS3, C: OK}, C: {A: MISS3, B: OK}}
    assert quorum.judge([C, B, A], views, now=10 ** 6) == {'dead': [A], 'alive': [B, C], 'leader': B}
    assert quorum.judge([A], {}, me=A, now=0) == {'dead': [], 'alive': [A], 'leader': A}
    # two servers, one gone: the other judges it dead (its one peer) and leads
    assert quorum.judge([A, B], {A: {B: MISS3}}, me=A, now=10 ** 6) == {'dead': [B], 'alive': [A], 'leader': A}


def test_new_server_has_a_grace_period():
    views = {A: {C: MISS3}, B: {C: MISS3}}
    assert quorum.judge([A, B, C], views, joined={C: 1000}, now=1000 + quorum.GRACE_SECONDS - 1)['dead'] == []
