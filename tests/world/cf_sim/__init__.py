# SPDX-License-Identifier: GPL-3.0-or-later
"""A Cloudflare API simulator for the test world (issue 17): the network stops here, the SDK does not.

It answers the v4 API at ``https://HOST:PORT/client/v4`` the way the real one does for what the collection uses,
so that the real ``cloudflare`` Python SDK (5.x; ``Cloudflare(api_token=..., base_url=...)``) drives it:

- bearer tokens (``Authorization: Bearer``; anything else is 401 with code 10000);
- the envelope ``{success, errors[{code, message}], messages, result, result_info}``; paging with ``page`` and
  ``per_page`` where a page past the last is empty (the SDK's iterator asks until it gets one);
- zones (given at start: ``--zone example.test``), listed by ``name``, ``status``, ``account.id``;
- DNS records: create, list with the SDK's filters (``type``, ``name.exact`` and the other string operators,
  ``content.*``, ``comment.*`` with ``present``/``absent``, ``proxied``, ``match=any``), get, PUT, PATCH, delete;
  validation of type, name (inside the zone; ``@`` is the apex), content (IPv4, IPv6, host names), TTL (1 =
  automatic, 30-86400), proxied (A, AAAA, CNAME only), comment (100 characters, the Free plan's limit), tags
  (``name:value``); duplicates as the API refuses them: an identical A/AAAA/CNAME 81058, an identical record of
  another type 81057, a CNAME beside an A/AAAA/CNAME of the same name (or the reverse) 81053; a missing record
  81044;
- load balancer monitors and pools (account level) and load balancers (zone level), stored and validated
  (balancing.py): a pool names an existing monitor, a load balancer existing pools (``default_pools``,
  ``fallback_pool``, ``region_pools`` by Cloudflare's region codes) and a name in its zone; what is in use cannot
  be deleted;
- every write call counted (``GET /_sim/state`` -> ``writes``), so a test can assert that a second run made none.

Its answers are checked against Cloudflare's published API schema as the SDK carries it: the SDK's models are
generated from that OpenAPI schema, and tests/unit/world/test_cf_sim_unit.py drives the simulator with
``_strict_response_validation=True``, so an answer missing a required field or of the wrong type fails.

- the monitors at work (prober.py): each pool's origins probed on the monitor's schedule, its interval scaled by
  ``--interval-scale`` for tests; origin and pool health follow, ``GET .../pools/{id}/health`` shows them.

- the front (front.py, ``--front-port``): plays Cloudflare's edge for load-balanced hostnames - the pool by the
  load balancer's steering and pool health for the client region a test header names, an origin of it, the
  request proxied there and counted by pool and origin (HTTPS towards clients, with the simulator's CA).

- authoritative answers (``--authoritative URL``, pebble-challtestsrv's management API): every change of a
  record is published there - TXT records (``clear-txt`` then ``set-txt``), so pebble validates DNS-01 against what
  was created through the API and the collection waits for it on that server; DNS-only A and AAAA records
  (``clear-a``/``add-a``), so pebble's HTTP-01 request for a name goes to the servers its records name.

Not modelled (yet): answers for proxied names (challtestsrv's default address stands for Cloudflare's edge), CNAME
and the other types, plans other than
Free, rate limits, API keys (``X-Auth-Key``), record types beyond A, AAAA, CNAME, TXT, MX, NS, CAA, SRV.

Run: ``PYTHONPATH=tests/world python -m cf_sim --state-dir DIR --zone example.test [--port P]``; it writes
``DIR/env`` (``CF_SIM_URL``, ``CF_SIM_CA``, ``CF_SIM_TOKEN``) once it listens.
"""
import argparse
import logging
import os
import secrets


def make_server(state_dir, zones=(), port=0, host='127.0.0.1', token=None, interval_scale=1.0, front_port=None,
                origin_scheme='https', origin_port=None, authoritative=None, trust=None):
    """(server, state, info) ready to ``serve_forever``; info: url (the SDK's base_url), ca, token, port. Its
    prober (``state.prober``) runs from now on; ``interval_scale`` multiplies the monitors' intervals. With
    ``front_port`` (0: any) the front (front.py) listens too, HTTPS with a certificate of the simulator's CA for the
    zones' names (``*.zone``): info['front'] is its URL. ``trust``: a
    CA bundle the monitors trust instead of the system's roots (the test world's public CA)."""
    from do_sim import tls
    from .prober import Prober
    from .server import API, SimServer
    from .state import CfState
    os.makedirs(state_dir, exist_ok=True)
    # the front answers for the zones' names over HTTPS as Cloudflare's edge does (one wildcard level)
    ca, cert, key = tls.ensure(state_dir, [host] + [n for z in zones for n in (z, '*.' + z)])
    token = token or secrets.token_urlsafe(30)
    state = CfState(zones)
    state.authoritative = authoritative
    state.prober = Prober(state, interval_scale, trust).start()
    server = SimServer((host, port), state, [token], cert, key)
    real_port = server.server_address[1]
    info = {'url': 'https://%s:%d%s' % (host, real_port, API), 'ca': ca, 'token': token, 'port': real_port,
            'pid': os.getpid(), 'state_dir': state_dir}
    if front_port is not None:
        import threading
        from .front import Front, FrontServer
        state.front = Front(state, origin_scheme, origin_port)
        front = FrontServer((host, front_port), state.front, cert, key)
        threading.Thread(target=front.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True).start()
        info['front'] = 'https://%s:%d' % (host, front.server_address[1])
        server.front_server = front
    return server, state, info


def main(argv=None):
    parser = argparse.ArgumentParser(prog='cf_sim', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('--zone', action='append', default=[], help='a zone of the account (repeatable)')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--interval-scale', type=float, default=1.0,
                        help="multiplies the monitors' intervals (0.05: a 60 s monitor probes every 3 s)")
    parser.add_argument('--front-port', type=int, help="the front's port (front.py; HTTPS)")
    parser.add_argument('--origin-scheme', choices=('https', 'http'), default='https')
    parser.add_argument('--origin-port', type=int)
    parser.add_argument('--trust', help="a CA bundle the monitors trust (the test world's public CA)")
    parser.add_argument('--authoritative', help="pebble-challtestsrv's management URL (TXT records served there)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(name)s %(message)s')
    server, _state, info = make_server(args.state_dir, args.zone, args.port, args.host,
                                       interval_scale=args.interval_scale, front_port=args.front_port,
                                       origin_scheme=args.origin_scheme, origin_port=args.origin_port,
                                       authoritative=args.authoritative, trust=args.trust)
    path = os.path.join(args.state_dir, 'env')
    with open(path + '.tmp', 'w', encoding='utf-8') as handle:
        handle.write('CF_SIM_URL=%s\nCF_SIM_CA=%s\nCF_SIM_TOKEN=%s\nCF_SIM_PID=%d\nCF_SIM_FRONT=%s\n'
                     % (info['url'], info['ca'], info['token'], info['pid'], info.get('front', '')))
    os.chmod(path + '.tmp', 0o600)
    os.replace(path + '.tmp', path)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0
