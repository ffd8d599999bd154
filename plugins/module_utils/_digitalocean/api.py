# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A thin, careful layer over pydo (the official DigitalOcean client).

Everything that talks to the DigitalOcean API goes through :class:`DOApi`:

- :func:`client_kwargs` / :func:`make_client` build a ``pydo.Client`` from the
  module options (token, endpoint, CA bundle, timeouts) with azure-core's own
  retry policy switched off, so that the one retry policy is ours;
- :meth:`DOApi.call` runs one operation with a bounded retry (exponential
  backoff with jitter; ``Retry-After`` / ``ratelimit-reset`` honoured on 429)
  and turns every failure into one :class:`DOError` whose message is one line:
  what was being done, the HTTP status, DigitalOcean's error id and message,
  and what to fix;
- the 404-body trap (pydo's ``droplets.get``/``destroy`` and many others return
  ``{"id": "not_found", ...}`` instead of raising) is handled once, in
  :meth:`DOApi.call`: every operation is run with a ``cls`` hook that captures
  the HTTP status, and any status >= 400 becomes an error (``missing_ok=True``
  turns a 404 into ``None``);
- :meth:`DOApi.list_all` follows ``links.pages.next`` to the last page.

The module can be imported without pydo; :data:`HAS_PYDO` says whether it is there
(:data:`PYDO_TRACEBACK` why not).
"""

from __future__ import annotations

import email.utils
import json
import random
import time
import traceback

from urllib.parse import parse_qs, urlparse

try:
    from pydo import Client as _PydoClient
    from azure.core.exceptions import AzureError, HttpResponseError, ServiceResponseError
    from azure.core.pipeline.policies import HeadersPolicy
    HAS_PYDO = True
    PYDO_TRACEBACK = None
except ImportError:  # pragma: no cover - depends on the controller
    HAS_PYDO = False
    PYDO_TRACEBACK = traceback.format_exc()
    _PydoClient = None
    HeadersPolicy = None

    class AzureError(Exception):
        """Stand-in so that ``except AzureError`` works without azure-core."""

    class HttpResponseError(AzureError):
        """Stand-in."""

    class ServiceResponseError(AzureError):
        """Stand-in."""


DEFAULT_ENDPOINT = 'https://api.digitalocean.com'
TOKEN_ENV_VARS = ('DIGITALOCEAN_API_TOKEN', 'DIGITALOCEAN_TOKEN', 'DO_API_TOKEN')
ENDPOINT_ENV_VAR = 'DIGITALOCEAN_API_ENDPOINT'
USER_AGENT = 'projectdeployer.fleet'
PER_PAGE = 200          # the API's maximum page size
MAX_PAGES = 1000
LOOPBACK_HOSTS = ('127.0.0.1', 'localhost', '::1', '[::1]')

# DigitalOcean's error ids for the statuses pydo sometimes returns as a body.
_STATUS_OF_ERROR_ID = {
    'bad_request': 400, 'unauthorized': 401, 'forbidden': 403, 'not_found': 404,
    'conflict': 409, 'unprocessable_entity': 422, 'too_many_requests': 429,
    'server_error': 500, 'service_unavailable': 503,
}

_TOKEN_HINT = 'set api_token (or %s)' % ' / '.join(TOKEN_ENV_VARS)


def do_argument_spec():
    """The connection options every DigitalOcean module takes (doc fragment ``_digitalocean``)."""
    # Imported here so that plugins other than modules can use this file without AnsibleModule.
    from ansible.module_utils.basic import env_fallback
    return dict(
        api_token=dict(type='str', no_log=True, fallback=(env_fallback, list(TOKEN_ENV_VARS))),
        api_endpoint=dict(type='str', default=DEFAULT_ENDPOINT, fallback=(env_fallback, [ENDPOINT_ENV_VAR])),
        ca_bundle=dict(type='path'),
        validate_certs=dict(type='bool', default=True),
        request_timeout=dict(type='float', default=30),
        retry_max_attempts=dict(type='int', default=5),
        retry_max_seconds=dict(type='float', default=120),
    )


class DOError(Exception):
    """One failed DigitalOcean operation; ``str()`` is the one line to show the user."""

    def __init__(self, msg, status=None, error_id=None, request_id=None, retryable=False, wait=None):
        super(DOError, self).__init__(msg)
        self.msg = msg
        self.status = status
        self.error_id = error_id
        self.request_id = request_id
        self.retryable = retryable
        self.wait = wait     # seconds the server asked us to wait (429), or None

    def details(self):
        """Fields for ``fail_json`` next to ``msg``."""
        return dict((k, v) for k, v in (('status', self.status), ('error_id', self.error_id),
                                        ('request_id', self.request_id)) if v is not None)


class NotFound(DOError):
    """The object does not exist (HTTP 404)."""


def fix_for(status):
    """What the user should do about an HTTP ``status``: the end of every error line."""
    if status == 401:
        return 'fix: check api_token: it is missing, mistyped, expired or revoked (%s)' % _TOKEN_HINT
    if status == 403:
        return ('fix: give the token the scope this needs (a read-only or custom-scoped token cannot write), '
                'or the object is protected (for example a region\'s default VPC)')
    if status == 404:
        return 'fix: the object does not exist (any more); check the id, and that api_endpoint is right'
    if status == 409:
        return 'fix: the object is busy or in a conflicting state; run again once it settles'
    if status in (400, 422):
        return 'fix: correct the request as the message says (names, slugs, ids, CIDRs)'
    if status == 429:
        return ('fix: the API rate limit is exhausted; wait a minute and run again, run fewer tasks in parallel, '
                'or allow more retries: retry_max_attempts and retry_max_seconds (in the playbooks '
                '-e fleet_do_retry_max_attempts=N -e fleet_do_retry_max_seconds=S)')
    if status is not None and status >= 500:
        return 'fix: DigitalOcean failed on its side; run again later (https://status.digitalocean.com)'
    return 'fix: see the message'


def _header(headers, name):
    if not headers:
        return None
    try:
        value = headers.get(name)
        if value is None:
            value = headers.get(name.lower())
    except AttributeError:
        return None
    return value


def wait_hint(headers, now=None):
    """Seconds to wait before retrying a 429, from ``Retry-After`` or ``ratelimit-reset``; or None.

    ``Retry-After`` is seconds or an HTTP date; DigitalOcean's ``ratelimit-reset``
    is the Unix time at which the window frees up.
    """
    now = time.time() if now is None else now
    value = _header(headers, 'Retry-After')
    if value not in (None, ''):
        try:
            return max(0.0, float(value))
        except (TypeError, ValueError):
            try:
                parsed = email.utils.parsedate_to_datetime(str(value))
                return max(0.0, parsed.timestamp() - now)
            except (TypeError, ValueError, IndexError, OverflowError):
                pass
    value = _header(headers, 'ratelimit-reset')
    if value not in (None, ''):
        try:
            return max(0.0, float(value) - now)
        except (TypeError, ValueError):
            pass
    return None


def _parse_body(body):
    if isinstance(body, dict):
        return body
    if isinstance(body, bytes):
        body = body.decode('utf-8', 'replace')
    if isinstance(body, str) and body.strip():
        try:
            parsed = json.loads(body)
            return parsed if isinstance(parsed, dict) else {'message': body.strip()[:300]}
        except ValueError:
            return {'message': body.strip()[:300]}
    return {}


def is_error_body(body):
    """True for DigitalOcean's error shape ``{"id": "not_found", "message": ..., "request_id": ...}``."""
    return (isinstance(body, dict) and isinstance(body.get('id'), str) and isinstance(body.get('message'), str)
            and set(body) <= {'id', 'message', 'request_id'})


def error_line(what, status, body=None, attempts=1, elapsed=None, fix=None):
    """``DigitalOcean API: <what> failed: HTTP 401 unauthorized: Unable to ... ; fix: ...`` (one line)."""
    body = _parse_body(body)
    parts = ['HTTP %s' % status if status is not None else 'no response']
    if body.get('id'):
        parts.append(str(body['id']))
    line = 'DigitalOcean API: %s failed: %s' % (what, ' '.join(parts))
    message = body.get('message')
    if message:
        line += ': %s' % ' '.join(str(message).split())
    if body.get('request_id'):
        line += ' (request id %s)' % body['request_id']
    if attempts > 1:
        line += ' [after %d attempts%s]' % (attempts, ' over %.0f s' % elapsed if elapsed is not None else '')
    return '%s; %s' % (line, fix or fix_for(status))


def _capture(pipeline_response, deserialized, response_headers):
    """pydo's ``cls`` hook: keep the HTTP status next to the body (the 404-body trap)."""
    http = getattr(pipeline_response, 'http_response', None)
    return _Captured(getattr(http, 'status_code', None), deserialized, getattr(http, 'headers', None) or {})


class _Captured(object):
    __slots__ = ('status', 'body', 'headers')

    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers


def _op_name(op):
    name = getattr(op, '__name__', None) or 'request'
    owner = getattr(getattr(op, '__self__', None), '__class__', None)
    group = getattr(owner, '__name__', '') if owner else ''
    if group.endswith('Operations'):
        group = group[:-len('Operations')].lower()
        return '%s.%s' % (group, name)
    return name


def _exc_response(exc):
    """(status, headers, body) of an azure-core HttpResponseError (or a look-alike)."""
    response = getattr(exc, 'response', None)
    status = getattr(exc, 'status_code', None)
    if status is None and response is not None:
        status = getattr(response, 'status_code', None)
    headers = getattr(response, 'headers', None) if response is not None else None
    body = None
    if response is not None:
        try:
            body = response.text()
        except Exception:  # pylint: disable=broad-except  # no body is fine
            body = None
    return status, headers, body


def _transport_problem(exc):
    """(kind, fix) for a connection-level failure."""
    text = '%s %s' % (exc, getattr(exc, 'inner_exception', '') or '')
    if 'CERTIFICATE_VERIFY_FAILED' in text or 'SSLError' in text or 'certificate verify failed' in text:
        return 'tls', ('fix: the endpoint\'s TLS certificate is not trusted: set ca_bundle to the CA that '
                       'signed it (validate_certs=false only for a throw-away test endpoint)')
    if 'non-TLS' in text or 'non-https' in text:
        return 'http', 'fix: use an https:// api_endpoint'
    if isinstance(exc, ServiceResponseError) or 'timed out' in text.lower() or 'Timeout' in type(exc).__name__:
        return 'response', ('fix: no (complete) answer within request_timeout; raise request_timeout, '
                            'or run again later')
    return 'connect', 'fix: cannot connect; check api_endpoint, the network and any proxy settings'


class DOApi(object):
    """Runs pydo operations with one retry policy and one error shape.

    ``sleep``, ``clock`` (monotonic), ``wallclock`` (Unix time, for ``ratelimit-reset``)
    and ``rand`` (0 <= x < 1, for jitter) can be replaced in tests.
    """

    def __init__(self, client, max_attempts=5, max_seconds=120.0, base_delay=1.0, max_delay=30.0,
                 sleep=time.sleep, clock=time.monotonic, wallclock=time.time, rand=random.random):
        self.client = client
        self.max_attempts = max(1, int(max_attempts))
        self.max_seconds = max(0.0, float(max_seconds))
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.clock = clock
        self.wallclock = wallclock
        self.rand = rand
        self.requests = 0        # how many requests were sent, for tests and reports

    @classmethod
    def from_params(cls, params, **kwargs):
        """A DOApi over a new pydo client built from module options (see :func:`do_argument_spec`)."""
        attempts = params.get('retry_max_attempts')
        seconds = params.get('retry_max_seconds')
        return cls(make_client(params), max_attempts=5 if attempts is None else attempts,
                   max_seconds=120 if seconds is None else seconds, **kwargs)

    def backoff(self, attempt):
        """Delay before retry number ``attempt`` (1-based): exponential, capped, with equal jitter."""
        delay = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return delay / 2.0 + self.rand() * delay / 2.0

    def _error_from_status(self, what, status, body, headers, idempotent):
        parsed = _parse_body(body)
        error_cls = NotFound if status == 404 else DOError
        retryable = status == 429 or (status is not None and status >= 500 and idempotent)
        wait = wait_hint(headers, self.wallclock()) if status == 429 else None
        err = error_cls(error_line(what, status, parsed), status=status, error_id=parsed.get('id'),
                        request_id=parsed.get('request_id'), retryable=retryable, wait=wait)
        err.body = parsed
        return err

    def _error_from_exc(self, what, exc, idempotent):
        if isinstance(exc, DOError):
            return exc
        status, headers, body = _exc_response(exc)
        if status is not None and isinstance(exc, HttpResponseError):
            return self._error_from_status(what, status, body, headers, idempotent)
        kind, fix = _transport_problem(exc)
        # A request that never left (connect failure) is safe to repeat; one that may have
        # reached the API (read timeout, broken answer) only when the operation is idempotent.
        retryable = kind == 'connect' or (kind == 'response' and idempotent)
        detail = ' '.join(str(exc).split())[:300]
        return DOError('DigitalOcean API: %s failed: %s; %s' % (what, detail or type(exc).__name__, fix),
                       retryable=retryable)

    def call(self, op, *args, **kwargs):
        """Run ``op(*args, **kwargs)`` and return its JSON body (None for 204).

        Keywords of this method (not passed to ``op``):
          ``what`` -- words for the error line (default: the operation's name);
          ``idempotent`` -- False for creates: 5xx and read timeouts are then not retried,
          because the request may have been carried out (429 and connect failures still are);
          ``missing_ok`` -- return None instead of raising :class:`NotFound` on 404.
        """
        what = kwargs.pop('what', None) or _op_name(op)
        idempotent = kwargs.pop('idempotent', True)
        missing_ok = kwargs.pop('missing_ok', False)
        start = self.clock()
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                result = op(*args, cls=_capture, **kwargs)
                if isinstance(result, _Captured):
                    status, body, headers = result.status, result.body, result.headers
                else:          # an operation that ignores ``cls`` (a fake): look at the body
                    status, body, headers = None, result, {}
                    if is_error_body(body):
                        status = _STATUS_OF_ERROR_ID.get(body['id'], 400)
                if status is not None and status >= 400:
                    raise self._error_from_status(what, status, body, headers, idempotent)
                return body
            except (AzureError, DOError) as exc:
                err = self._error_from_exc(what, exc, idempotent)
            if isinstance(err, NotFound) and missing_ok:
                return None
            elapsed = self.clock() - start
            if not err.retryable or attempt >= self.max_attempts:
                raise self._final(err, attempt, elapsed)
            delay = err.wait if err.wait is not None else self.backoff(attempt)
            if elapsed + delay > self.max_seconds:
                raise self._final(err, attempt, elapsed)
            self.sleep(delay)

    @staticmethod
    def _final(err, attempts, elapsed):
        if attempts > 1:
            marker = '; fix:'
            head, sep, tail = err.msg.partition(marker)
            err.msg = '%s [after %d attempts over %.0f s]%s%s' % (head, attempts, elapsed, sep, tail)
            err.args = (err.msg,)
        err.attempts = attempts
        return err

    def list_all(self, op, key, per_page=PER_PAGE, max_pages=MAX_PAGES, **kwargs):
        """Every item of a paged list operation: follows ``links.pages.next`` to the end."""
        what = kwargs.pop('what', None) or _op_name(op)
        items = []
        page = 1
        for _count in range(max_pages):
            body = self.call(op, page=page, per_page=per_page, what=what, **kwargs) or {}
            items.extend(body.get(key) or [])
            nxt = next_page(body)
            if nxt is None:
                return items
            if nxt <= page:
                raise DOError('DigitalOcean API: %s failed: page %d links to page %d as next, which would '
                              'loop; fix: report this API answer as a bug' % (what, page, nxt))
            page = nxt
        raise DOError('DigitalOcean API: %s failed: more than %d pages; fix: filter the list (by tag)'
                      % (what, max_pages))

    def poll(self, probe, timeout, interval=5.0, what='waiting', fix=None):
        """Call ``probe()`` until it returns something other than None, every ``interval`` seconds and a
        last time when ``timeout`` seconds are over.

        Returns the value; raises DOError (with the last value of ``probe.pending()`` if it has one, and
        ``fix``, the end of the line).
        """
        start = self.clock()
        while True:
            value = probe()
            if value is not None:
                return value
            elapsed = self.clock() - start
            if elapsed >= timeout:
                pending = getattr(probe, 'pending', None)
                detail = (': %s' % pending()) if callable(pending) else ''
                raise DOError('DigitalOcean: %s did not finish within %d s%s; %s' % (
                    what, timeout, detail,
                    fix or 'fix: raise wait_timeout, or look at the objects in the DigitalOcean console'))
            self.sleep(min(interval, timeout - elapsed))


def next_page(body):
    """The page number of ``links.pages.next``, or None on the last page."""
    links = (body or {}).get('links') or {}
    pages = links.get('pages') or {}
    nxt = pages.get('next')
    if not nxt:
        return None
    values = parse_qs(urlparse(nxt).query).get('page')
    try:
        return int(values[0])
    except (TypeError, ValueError, IndexError):
        raise DOError('DigitalOcean API: cannot read the page number of the next page link %r; '
                      'fix: report this API answer as a bug' % (nxt,))


def _is_loopback(endpoint):
    host = urlparse(endpoint).hostname or ''
    return host in LOOPBACK_HOSTS or host.startswith('127.')


def client_kwargs(params):
    """(token, kwargs) for ``pydo.Client`` from the module options; ValueError with a fix line."""
    token = params.get('api_token')
    if not token:
        raise ValueError('no DigitalOcean API token; fix: %s' % _TOKEN_HINT)
    endpoint = (params.get('api_endpoint') or DEFAULT_ENDPOINT).rstrip('/')
    scheme = urlparse(endpoint).scheme
    if scheme not in ('https', 'http'):
        raise ValueError('api_endpoint %r is not an http(s) URL; fix: use for example %s' % (endpoint, DEFAULT_ENDPOINT))
    if params.get('validate_certs', True) is False:
        verify = False
    else:
        verify = params.get('ca_bundle') or True
    timeout = params.get('request_timeout') or 30
    kwargs = dict(
        endpoint=endpoint,
        # azure-core transport settings (RequestsTransport's ConnectionConfiguration):
        connection_verify=verify,
        connection_timeout=timeout,
        read_timeout=timeout,
        # azure-core's RetryPolicy would retry POSTs too and sleep on its own: ours does it.
        retry_total=0,
        user_agent=USER_AGENT,
    )
    if scheme == 'http':
        if not _is_loopback(endpoint):
            raise ValueError('api_endpoint %s is plain http: the token would travel in clear; fix: use https '
                             '(plain http is accepted only on loopback, for tests)' % endpoint)
        # azure-core refuses a bearer token over http; a loopback test API gets the header directly.
        kwargs['authentication_policy'] = HeadersPolicy({'Authorization': 'Bearer %s' % token})
    return token, kwargs


def make_client(params):
    """A ``pydo.Client`` for the module options; ValueError (one line) when they are unusable."""
    if not HAS_PYDO:
        raise ValueError('the pydo Python package is needed on the controller; fix: pip install pydo')
    token, kwargs = client_kwargs(params)
    return _PydoClient(token, **kwargs)


def module_api(module, **kwargs):
    """A :class:`DOApi` for an AnsibleModule whose argument spec includes :func:`do_argument_spec`.

    Fails the module (one line) when pydo is missing or the options are unusable.
    """
    from ansible.module_utils.basic import missing_required_lib
    if not HAS_PYDO:
        module.fail_json(msg=missing_required_lib('pydo'), exception=PYDO_TRACEBACK)
    try:
        return DOApi.from_params(module.params, **kwargs)
    except ValueError as exc:
        module.fail_json(msg=str(exc))


def run_manager(module, manager_class, **kwargs):
    """Run a state manager (its method named like ``state``: ``present()``, ``absent()``, ...) for a module and exit
    with its result.

    The manager gets the module's :class:`DOApi`, parameters, check mode and warn function; a
    ``ValueError`` or :class:`DOError` fails the module with its one line; ``diff`` is kept only in
    diff mode.
    """
    manager = manager_class(module_api(module, **kwargs), module.params, check_mode=module.check_mode,
                            warn=module.warn)
    try:
        result = getattr(manager, module.params['state'])()
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    except DOError as exc:
        module.fail_json(msg=str(exc), **exc.details())
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)
