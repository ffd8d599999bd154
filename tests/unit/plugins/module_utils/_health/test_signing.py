# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import signing

KEY, OTHER = 'k' * 43, 'o' * 43
TENANT = 'u1/myapp/prod'


def keys_of(tenant):
    return [KEY] if tenant == TENANT else []


def check(headers, now=1000, method='POST', path='/restart', body=b'{"service": "api"}', nonces=None):
    return signing.verify(headers, method, path, body, keys_of, nonces or signing.NonceCache(), now=now)


def test_good_request_is_accepted_once():
    nonces = signing.NonceCache()
    headers = signing.sign(KEY, TENANT, 'POST', '/restart', b'{"service": "api"}', now=1000)
    assert check(headers, nonces=nonces) == (TENANT, None)
    assert check(headers, nonces=nonces) == (None, 'replayed nonce')


def test_refusals_name_their_reason():
    good = signing.sign(KEY, TENANT, 'POST', '/restart', b'{"service": "api"}', now=1000)
    assert check({})[1] == 'unsigned'
    assert check(signing.sign(OTHER, TENANT, 'POST', '/restart', b'{"service": "api"}', now=1000))[1] == 'bad signature'
    assert check(good, now=1000 + signing.WINDOW + 1)[1].startswith('stale timestamp')
    assert check(good, now=1000 - signing.WINDOW - 1)[1].startswith('stale timestamp')
    assert check(good, body=b'{"service": "db"}')[1] == 'bad signature'
    assert check(good, path='/recreate')[1] == 'bad signature'
    assert check(dict(good, **{signing.TENANT: 'u2/myapp/prod'}))[1] == 'unknown tenant u2/myapp/prod'
    assert check(dict(good, **{signing.TENANT: '../x'}))[1] == 'malformed signature headers'


def test_second_key_is_valid_during_rotation():
    headers = signing.sign(OTHER, TENANT, 'GET', '/health', now=50)
    assert signing.verify(headers, 'GET', '/health', b'', lambda t: [KEY, OTHER], signing.NonceCache(), now=60)[0] == TENANT


def test_nonce_cache_forgets_after_window_and_stays_bounded():
    cache = signing.NonceCache(window=10, limit=4)
    for i in range(4):
        assert cache.fresh('n%d' % i, i)
    assert cache.fresh('n9', 100)
    assert len(cache.seen) <= 4
    assert not cache.fresh('n9', 101)
