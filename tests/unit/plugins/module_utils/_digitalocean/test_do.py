# SPDX-License-Identifier: GPL-3.0-or-later
"""The pydo layer: client options, the 404-body trap, retries, paging and error lines.

Most tests run the real pydo client and azure-core pipeline over a fake
``requests`` adapter (no network): what is tested is what runs.
"""
import email.utils
import json
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean import api as _do

pydo = pytest.importorskip('pydo')
from azure.core.pipeline.transport import RequestsTransport  # noqa: E402  (after the importorskip)

ENDPOINT = 'https://api.test'


class FakeAdapter(BaseAdapter):
    """Answers requests from a queue of (status, body, headers) or exceptions; records what was asked."""

    def __init__(self, answers):
        super().__init__()
        self.answers = list(answers)
        self.seen = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.seen.append(dict(method=request.method, url=request.url, verify=verify, timeout=timeout,
                              body=json.loads(request.body) if request.body else None,
                              auth=request.headers.get('Authorization')))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = (answer + (None,))[:3] if len(answer) == 2 else answer
        response = requests.Response()
        response.status_code = status
        response.reason = 'Test'
        response.headers = CaseInsensitiveDict(headers or {})
        if body is not None:
            response.headers.setdefault('Content-Type', 'application/json')
            response._content = json.dumps(body).encode()
        else:
            response._content = b''
        response.url = request.url
        response.request = request
        response.raw = _Raw()
        return response

    def close(self):
        pass


class _Raw(object):
    enforce_content_length = False


class Clock(object):
    """Monotonic and wall clocks that advance only when the code sleeps."""

    def __init__(self, wall=1700000000.0):
        self.now = 0.0
        self.wall0 = wall
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now

    def wallclock(self):
        return self.wall0 + self.now


def make_api(answers, max_attempts=5, max_seconds=120, rand=lambda: 0.5, **params):
    params = dict(dict(api_token='secret-token', api_endpoint=ENDPOINT), **params)
    token, kwargs = _do.client_kwargs(params)
    adapter = FakeAdapter(answers)
    session = requests.Session()
    session.mount('https://', adapter)
    session.mount('http://', adapter)
    transport = RequestsTransport(session=session, session_owner=False, connection_verify=kwargs['connection_verify'],
                                  connection_timeout=kwargs['connection_timeout'], read_timeout=kwargs['read_timeout'])
    client = pydo.Client(token, transport=transport, **kwargs)
    clock = Clock()
    api = _do.DOApi(client, max_attempts=max_attempts, max_seconds=max_seconds, sleep=clock.sleep,
                    clock=clock.clock, wallclock=clock.wallclock, rand=rand)
    return api, adapter, clock


NOT_FOUND = {'id': 'not_found', 'message': 'The resource you were accessing could not be found.'}
DROPLET = {'id': 7, 'name': 'u1-myapp-prod-api-lon1-1', 'status': 'active'}


# ---------------------------------------------------------------- client options

def test_client_kwargs_map_module_options_to_azure_core():
    token, kwargs = _do.client_kwargs(dict(api_token='t', api_endpoint='https://api.test/', ca_bundle='/ca.pem',
                                           validate_certs=True, request_timeout=12))
    assert token == 't'
    assert kwargs['endpoint'] == 'https://api.test'
    assert kwargs['connection_verify'] == '/ca.pem'
    assert kwargs['connection_timeout'] == kwargs['read_timeout'] == 12
    assert kwargs['retry_total'] == 0          # one retry policy: ours
    kwargs = _do.client_kwargs(dict(api_token='t', ca_bundle='/ca.pem', validate_certs=False))[1]
    assert kwargs['connection_verify'] is False
    kwargs = _do.client_kwargs(dict(api_token='t'))[1]
    assert kwargs['connection_verify'] is True and kwargs['endpoint'] == _do.DEFAULT_ENDPOINT


def test_missing_token_and_plain_http_are_refused_with_a_fix():
    with pytest.raises(ValueError, match='no DigitalOcean API token; fix: set api_token .*DIGITALOCEAN_API_TOKEN'):
        _do.client_kwargs(dict(api_token=None))
    with pytest.raises(ValueError, match='plain http'):
        _do.client_kwargs(dict(api_token='t', api_endpoint='http://api.example.com'))
    with pytest.raises(ValueError, match='not an http'):
        _do.client_kwargs(dict(api_token='t', api_endpoint='ftp://x'))


def test_loopback_http_gets_the_token_as_a_header():
    api, adapter, _clock = make_api([(200, {'droplet': DROPLET})], api_endpoint='http://127.0.0.1:8443')
    assert api.call(api.client.droplets.get, droplet_id=7)['droplet']['id'] == 7
    assert adapter.seen[0]['auth'] == 'Bearer secret-token'
    assert adapter.seen[0]['url'].startswith('http://127.0.0.1:8443/v2/droplets/7')


def test_make_client_configures_the_real_transport():
    client = _do.make_client(dict(api_token='t', api_endpoint='https://api.test', ca_bundle='/tmp/ca.pem',
                                  request_timeout=7))
    transport = client._client._pipeline._transport
    assert transport.connection_config.verify == '/tmp/ca.pem'
    assert transport.connection_config.timeout == 7 and transport.connection_config.read_timeout == 7
    assert client._client._base_url == 'https://api.test'


def test_token_env_vars_are_the_fallback():
    spec = _do.do_argument_spec()
    assert spec['api_token']['no_log'] is True
    assert list(spec['api_token']['fallback'][1]) == ['DIGITALOCEAN_API_TOKEN', 'DIGITALOCEAN_TOKEN', 'DO_API_TOKEN']


def test_verify_and_timeout_reach_requests():
    api, adapter, _clock = make_api([(200, {'droplet': DROPLET})], ca_bundle='/etc/test-ca.pem', request_timeout=9)
    api.call(api.client.droplets.get, droplet_id=7)
    assert adapter.seen[0]['verify'] == '/etc/test-ca.pem'
    assert adapter.seen[0]['timeout'] == (9, 9)
    assert adapter.seen[0]['auth'] == 'Bearer secret-token'


# ---------------------------------------------------------------- the 404-body trap

def test_droplets_get_404_body_raises_not_found():
    api, _adapter, _clock = make_api([(404, NOT_FOUND)])
    with pytest.raises(_do.NotFound) as info:
        api.call(api.client.droplets.get, droplet_id=7, what='get droplet 7')
    assert info.value.status == 404 and info.value.error_id == 'not_found'
    assert str(info.value).startswith('DigitalOcean API: get droplet 7 failed: HTTP 404 not_found: The resource')


def test_missing_ok_turns_404_into_none_for_get_and_destroy():
    api, _adapter, _clock = make_api([(404, NOT_FOUND), (404, NOT_FOUND), (204, None)])
    assert api.call(api.client.droplets.get, droplet_id=7, missing_ok=True) is None
    assert api.call(api.client.droplets.destroy, droplet_id=7, missing_ok=True) is None
    assert api.call(api.client.droplets.destroy, droplet_id=8) is None      # 204: done


def test_firewall_400_body_is_an_error_too():
    body = {'id': 'bad_request', 'message': 'invalid port range', 'request_id': 'r-1'}
    api, _adapter, _clock = make_api([(400, body)])
    with pytest.raises(_do.DOError) as info:
        api.call(api.client.firewalls.create, body={'name': 'x'}, idempotent=False)
    assert 'HTTP 400 bad_request: invalid port range (request id r-1); fix: correct the request' in str(info.value)


def test_operation_ignoring_cls_is_still_checked():
    def fake_get(droplet_id, **kwargs):
        return dict(NOT_FOUND)
    api = _do.DOApi(None)
    with pytest.raises(_do.NotFound):
        api.call(fake_get, droplet_id=1)
    assert api.call(fake_get, droplet_id=1, missing_ok=True) is None
    assert _do.is_error_body(NOT_FOUND)
    assert not _do.is_error_body({'id': 3, 'name': 'x'})
    assert not _do.is_error_body({'id': 'abc', 'message': 'x', 'name': 'a real object'})


# ---------------------------------------------------------------- errors

def test_401_says_check_the_token():
    api, adapter, _clock = make_api([(401, {'id': 'unauthorized', 'message': 'Unable to authenticate you'})])
    with pytest.raises(_do.DOError) as info:
        api.call(api.client.droplets.list)
    line = str(info.value)
    assert '\n' not in line
    assert 'droplets.list failed: HTTP 401 unauthorized: Unable to authenticate you; fix: check api_token' in line
    assert 'secret-token' not in line
    assert len(adapter.seen) == 1            # never retried


def test_403_and_5xx_fixes():
    assert 'scope' in _do.fix_for(403)
    assert 'status.digitalocean.com' in _do.fix_for(502)
    assert 'rate limit' in _do.fix_for(429)
    line = _do.error_line('create VPC fleet-lon1', 422, '{"id": "unprocessable_entity", "message": "bad\\nrange"}')
    assert line == ('DigitalOcean API: create VPC fleet-lon1 failed: HTTP 422 unprocessable_entity: bad range; '
                    'fix: correct the request as the message says (names, slugs, ids, CIDRs)')


def test_tls_failure_is_not_retried_and_names_ca_bundle():
    err = requests.exceptions.SSLError('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')
    api, adapter, clock = make_api([err])
    with pytest.raises(_do.DOError) as info:
        api.call(api.client.droplets.list)
    assert 'ca_bundle' in str(info.value)
    assert len(adapter.seen) == 1 and clock.sleeps == []


# ---------------------------------------------------------------- retries

def test_429_waits_as_retry_after_says():
    api, adapter, clock = make_api([(429, {'id': 'too_many_requests', 'message': 'slow down'}, {'Retry-After': '7'}),
                                    (200, {'droplet': DROPLET})])
    assert api.call(api.client.droplets.get, droplet_id=7)['droplet'] == DROPLET
    assert clock.sleeps == [7.0]
    assert len(adapter.seen) == 2


def test_429_waits_until_ratelimit_reset():
    clock_wall = 1700000000
    api, _adapter, clock = make_api([(429, {'id': 'too_many_requests', 'message': 'x'},
                                      {'ratelimit-reset': str(clock_wall + 12)}),
                                     (200, {'droplet': DROPLET})])
    api.call(api.client.droplets.get, droplet_id=7)
    assert clock.sleeps == [12.0]


def test_429_is_retried_even_for_a_create():
    api, adapter, clock = make_api([(429, {'id': 'too_many_requests', 'message': 'x'}, {'Retry-After': '1'}),
                                    (202, {'droplets': [DROPLET]})])
    body = api.call(api.client.droplets.create, body={'names': ['a'], 'region': 'lon1', 'size': 's', 'image': 'i'},
                    idempotent=False)
    assert body['droplets'][0]['id'] == 7 and len(adapter.seen) == 2


def test_5xx_retries_with_exponential_backoff_then_gives_up():
    answers = [(503, {'id': 'service_unavailable', 'message': 'try later'})] * 4
    api, adapter, clock = make_api(answers, max_attempts=4, rand=lambda: 1.0)
    with pytest.raises(_do.DOError) as info:
        api.call(api.client.droplets.list)
    assert clock.sleeps == [1.0, 2.0, 4.0]           # base 1 s, doubling, rand()=1 -> full delay
    assert len(adapter.seen) == 4
    assert '[after 4 attempts over 7 s]; fix: DigitalOcean failed on its side' in str(info.value)


def test_jitter_keeps_at_least_half_the_delay_and_is_capped():
    api = _do.DOApi(None, rand=lambda: 0.0, max_delay=30)
    assert api.backoff(1) == 0.5 and api.backoff(3) == 2.0
    assert api.backoff(20) == 15.0
    api.rand = lambda: 0.999999
    assert api.backoff(20) <= 30.0


def test_5xx_of_a_create_is_not_retried():
    api, adapter, clock = make_api([(500, {'id': 'server_error', 'message': 'oops'})])
    with pytest.raises(_do.DOError) as info:
        api.call(api.client.droplets.create, body={'names': ['a']}, idempotent=False)
    assert len(adapter.seen) == 1 and clock.sleeps == []
    assert info.value.status == 500


def test_retry_budget_in_seconds_is_respected():
    answers = [(429, {'id': 'too_many_requests', 'message': 'x'}, {'Retry-After': '50'})] * 5
    api, adapter, clock = make_api(answers, max_attempts=5, max_seconds=120)
    with pytest.raises(_do.DOError) as info:
        api.call(api.client.droplets.list)
    assert clock.sleeps == [50.0, 50.0]               # a third wait would end after 120 s
    assert len(adapter.seen) == 3
    assert 'after 3 attempts over 100 s' in str(info.value)


def test_connection_errors_are_retried_read_timeouts_only_when_idempotent():
    refused = requests.exceptions.ConnectionError('Connection refused')
    api, adapter, clock = make_api([refused, (200, {'droplet': DROPLET})])
    assert api.call(api.client.droplets.get, droplet_id=7)['droplet']['id'] == 7
    assert len(clock.sleeps) == 1

    slow = requests.exceptions.ReadTimeout('read timed out')
    api, adapter, clock = make_api([slow, (200, {'droplet': DROPLET})])
    assert api.call(api.client.droplets.get, droplet_id=7)['droplet']['id'] == 7

    api, adapter, clock = make_api([slow])
    with pytest.raises(_do.DOError) as info:
        api.call(api.client.droplets.create, body={'names': ['a']}, idempotent=False)
    assert len(adapter.seen) == 1 and 'request_timeout' in str(info.value)

    api, adapter, clock = make_api([refused] * 3, max_attempts=3)
    with pytest.raises(_do.DOError) as info:
        api.call(api.client.droplets.list)
    assert 'check api_endpoint' in str(info.value) and 'after 3 attempts' in str(info.value)


def test_wait_hint_reads_both_headers():
    assert _do.wait_hint({'Retry-After': '3'}, now=0) == 3.0
    date = email.utils.formatdate(1700000030, usegmt=True)
    assert _do.wait_hint({'Retry-After': date}, now=1700000000) == pytest.approx(30.0)
    assert _do.wait_hint({'ratelimit-reset': '1700000005'}, now=1700000000) == 5.0
    assert _do.wait_hint({'ratelimit-reset': '1600000000'}, now=1700000000) == 0.0
    assert _do.wait_hint({}, now=0) is None


# ---------------------------------------------------------------- paging

def _page(items, page, last):
    body = {'droplets': items, 'meta': {'total': 5}, 'links': {'pages': {}}}
    if page < last:
        body['links']['pages']['next'] = '%s/v2/droplets?page=%d&per_page=2&tag_name=x' % (ENDPOINT, page + 1)
        body['links']['pages']['last'] = '%s/v2/droplets?page=%d&per_page=2&tag_name=x' % (ENDPOINT, last)
    return (200, body)


def test_list_all_follows_next_links():
    api, adapter, _clock = make_api([_page([{'id': 1}, {'id': 2}], 1, 3), _page([{'id': 3}, {'id': 4}], 2, 3),
                                     _page([{'id': 5}], 3, 3)])
    items = api.list_all(api.client.droplets.list, 'droplets', tag_name='fleet-service:u1_myapp_prod_api')
    assert [d['id'] for d in items] == [1, 2, 3, 4, 5]
    assert [parse_qs(urlparse(s['url']).query)['page'] for s in adapter.seen] == [['1'], ['2'], ['3']]
    assert all('per_page=200' in s['url'] and 'tag_name=fleet-service' in s['url'] for s in adapter.seen)


def test_list_all_refuses_a_next_link_that_loops():
    loop = (200, {'droplets': [{'id': 1}], 'links': {'pages': {'next': ENDPOINT + '/v2/droplets?page=1'}}})
    api, _adapter, _clock = make_api([loop])
    with pytest.raises(_do.DOError, match='loop'):
        api.list_all(api.client.droplets.list, 'droplets')


def test_next_page():
    assert _do.next_page({'links': {}}) is None
    assert _do.next_page({}) is None
    assert _do.next_page({'links': {'pages': {'next': 'https://a/v2/x?per_page=20&page=4'}}}) == 4
    with pytest.raises(_do.DOError):
        _do.next_page({'links': {'pages': {'next': 'https://a/v2/x'}}})


# ---------------------------------------------------------------- polling

def test_poll_is_bounded_and_reports_what_is_pending():
    clock = Clock()
    api = _do.DOApi(None, sleep=clock.sleep, clock=clock.clock)
    calls = []

    def probe():
        calls.append(1)
        return 'done' if len(calls) == 3 else None
    assert api.poll(probe, timeout=60, interval=5) == 'done'
    assert clock.sleeps == [5, 5]

    def never():
        return None
    never.pending = lambda: 'u1-myapp-prod-api-lon1-2 (new)'
    clock.sleeps = []
    with pytest.raises(_do.DOError, match=r'within 20 s: u1-myapp-prod-api-lon1-2 \(new\); fix: raise wait_timeout'):
        api.poll(never, timeout=20, interval=5, what='waiting')
    assert clock.sleeps == [5, 5, 5, 5]         # the last look is at the timeout itself
    clock.sleeps = []
    with pytest.raises(_do.DOError, match=r'within 12 s: u1-myapp-prod-api-lon1-2 \(new\); fix: do this$'):
        api.poll(never, timeout=12, interval=5, what='waiting', fix='fix: do this')
    assert clock.sleeps == [5, 5, 2]


def test_from_params_takes_the_retry_options():
    api = _do.DOApi.from_params(dict(api_token='t', retry_max_attempts=0, retry_max_seconds=0))
    assert api.max_attempts == 1 and api.max_seconds == 0.0
    api = _do.DOApi.from_params(dict(api_token='t'))
    assert api.max_attempts == 5 and api.max_seconds == 120.0
