# SPDX-License-Identifier: GPL-3.0-or-later
"""A DigitalOcean API v2 simulator whose droplets are real hosts of the test world.

Start it with ``tests/world/do_sim.sh start [--port 8743] [--state-dir DIR] [--token T]``
(or ``PYTHONPATH=tests/world python -m do_sim serve --port P --state-dir DIR``): an HTTPS server
on 127.0.0.1 whose certificate is signed by a test CA made once in ``DIR/tls/ca.pem``. It writes
``DIR/env`` (DO_SIM_URL, DO_SIM_CA, DO_SIM_TOKEN, DO_SIM_PID) for its callers.

The real pydo client talks to it with::

    from pydo import Client
    client = Client(token, endpoint='https://127.0.0.1:8743', connection_verify=ca_path)

(``connection_verify`` goes through azure-core to requests' ``verify``; alternatively leave it
out and set ``REQUESTS_CA_BUNDLE=ca_path`` in the environment - azure-core's requests session
trusts the environment). pydo (azure-core) refuses to send a bearer token over plain http.

Things to know about pydo against this server (and the real API):
- Operations whose OpenAPI entry lists a 404 answer return the 404 body instead of raising:
  ``client.droplets.get(gone_id)`` -> ``{"id": "not_found", "message": "The resource you were
  accessing could not be found."}``, and ``droplets.destroy``, ``vpcs.get``, ``ssh_keys.get``,
  ``firewalls.get``, ``actions.get`` ... do the same. Check ``body.get("id") == "not_found"``.
- azure-core's retry policy retries 429s honouring Retry-After (up to 3 times by default) and
  retries POST/PATCH on 500/503/504, so a single fault is invisible to a default client; pass
  ``retry_total=0`` (to the Client or to one call) to see it.
- 401 raises ``azure.core.exceptions.ClientAuthenticationError``; 422/403/400 raise
  ``HttpResponseError`` whose ``.response.json()`` is the error body.

What it models: account, regions, sizes, images (read only), droplets (create one or many,
list with tag_name/name filters and paging, get, destroy, destroy by tag), droplet actions
(shutdown, power_off, power_on, power_cycle, reboot, resize, rename, enable/disable_backups),
actions, VPCs (+ members), VPC peerings, firewalls (+ droplets, tags), SSH keys, tags (+ resources).
Every list is paged like the API (per_page default 20, max 200; links.pages first/prev/next/last;
meta.total).

VPC peerings (``/v2/vpc_peerings``, ``/v2/vpcs/{id}/peerings``; pydo ``vpc_peerings.*``,
``vpcs.list_peerings/create_peerings/patch_peerings``) really route: the droplets of two peered
VPCs reach each other's private addresses, through a router network namespace of this simulator
whose legs carry the .1 of each VPC range (droplets get .2 onwards) and which forwards between
peered pairs only (not transitively), and a route ``PEER_RANGE via .1`` in each droplet of the
two VPCs, also in droplets created later (see tests/world/host.sh peer). A create answers 202
``PROVISIONING``, ``ACTIVE`` once the routing is in place (fake hosts: after the boot delay); a
delete answers 202 ``DELETING``, then 404 once the routing is gone. Errors: unknown VPC 404; not
exactly two VPCs, the same VPC twice, overlapping ranges, a bad name (alphanumerics, dashes,
periods) 422; a pair already peered or a name in use 409 ``conflict``; deleting a VPC that is
still peered 422.

What it does not model: firewall rules are stored, not enforced on the hosts; IPv6, volumes,
snapshots, backups, reserved IPs, load balancers, projects, monitoring; user_data is stored, never
run (the hosts boot no cloud-init); the image is always this machine's Debian userland; a resize
changes the API's numbers, not the host's CPU/memory; the per-minute rate limit (only the faults
answer 429). Droplets do not survive a restart of the simulator (``stop`` takes every host down);
keys, VPCs, VPC peerings (their routing is set up again), tags and firewalls do
(``DIR/state.json``).
"""
import argparse
import json
import logging
import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
WORLD_DIR = os.path.dirname(HERE)
HOST_SH = os.path.join(WORLD_DIR, 'host.sh')
DEFAULT_TOKEN = 'fleet-do-sim-token'
DEFAULT_PORT = 8743


def _config_tokens(state_dir, extra):
    """The accepted tokens: DIR/config.json's "tokens" plus ``extra`` (saved there)."""
    path = os.path.join(state_dir, 'config.json')
    cfg = {}
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            cfg = json.load(f)
    tokens = list(dict.fromkeys(list(cfg.get('tokens') or []) + [t for t in extra if t]))
    if not tokens:
        tokens = [DEFAULT_TOKEN]
    if tokens != cfg.get('tokens'):
        cfg['tokens'] = tokens
        tmp = path + '.tmp'
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(cfg, f, indent=1)
        os.replace(tmp, path)
    return tokens


def make_backend(kind, boot_seconds=1.0, max_parallel=4, images=()):
    from .hosts import FakeHosts, ShellHosts
    if kind == 'fake':
        return FakeHosts(boot_seconds)
    return ShellHosts(HOST_SH, max_parallel=max_parallel, images=images)


def make_server(state_dir, port=0, host='127.0.0.1', tokens=(), backend='real', boot_seconds=1.0,
                action_seconds=1.0, droplet_limit=None, max_parallel=4, tls_names=(), public_range=None, images=()):
    """(server, state, info) ready to ``serve_forever``; info: url, ca, token, port.
    ``public_range``: (first, last) public address of droplets, inside 10.250.0.0/16; ``images``: images of this
    machine's engine every new droplet has before it is active (as a real one pulls them from a registry)."""
    from . import tls
    from .server import SimServer
    from .state import State
    os.makedirs(state_dir, exist_ok=True)
    ca, cert, key = tls.ensure(state_dir, [host] + list(tls_names))
    tokens = _config_tokens(state_dir, list(tokens))
    cfg = {'action_seconds': action_seconds}
    if public_range:
        cfg['public_first'], cfg['public_last'] = public_range
    if droplet_limit is not None:
        cfg['droplet_limit'] = droplet_limit
    state = State(make_backend(backend, boot_seconds, max_parallel, images), state_dir, cfg)
    if state.data['hosts'] or state.data['droplets'] or state.data['routed']:
        logging.getLogger('do_sim').info('taking down the droplets (and peering routes) of an earlier run first')
        state.teardown(timeout=200)
    state.resume()
    server = SimServer((host, port), state, tokens, cert, key)
    real_port = server.server_address[1]
    shown = host if ':' not in host else '[%s]' % host
    info = {'url': 'https://%s:%d' % (shown, real_port), 'ca': ca, 'token': tokens[0], 'port': real_port,
            'pid': os.getpid(), 'state_dir': state_dir}
    return server, state, info


def _public_range(text):
    """``FIRST-LAST`` -> (first, last), both inside the public bridge's 10.250.0.0/16 and not its .0.1."""
    if not text:
        return None
    import ipaddress
    try:
        first, last = (ipaddress.ip_address(part.strip()) for part in text.split('-'))
    except ValueError:
        raise SystemExit('--public-range: %r is not FIRST-LAST (two IPv4 addresses)' % text) from None
    bridge = ipaddress.ip_network('10.250.0.0/16')
    if first not in bridge or last not in bridge or first > last or int(first) <= int(bridge[1]):
        raise SystemExit('--public-range: %s must lie in 10.250.0.2-10.250.255.254, first <= last' % text)
    return str(first), str(last)


def _write_env(state_dir, info):
    path = os.path.join(state_dir, 'env')
    with open(path + '.tmp', 'w', encoding='utf-8') as f:
        f.write('DO_SIM_URL=%s\nDO_SIM_CA=%s\nDO_SIM_TOKEN=%s\nDO_SIM_PORT=%d\nDO_SIM_PID=%d\n'
                % (info['url'], info['ca'], info['token'], info['port'], info['pid']))
    os.replace(path + '.tmp', path)


def _serve(args):
    tokens = list(args.token or [])
    if os.environ.get('DO_SIM_TOKEN'):
        tokens.append(os.environ['DO_SIM_TOKEN'])
    server, state, info = make_server(
        os.path.abspath(args.state_dir), args.port, args.host, tokens, args.hosts, args.fake_boot_seconds,
        args.action_seconds, args.droplet_limit, args.max_parallel, args.tls_name or (),
        _public_range(args.public_range), [i for i in (args.droplet_images or '').split(',') if i])
    log = logging.getLogger('do_sim')
    stopping = threading.Event()

    def on_signal(signum, frame):
        if not stopping.is_set():
            stopping.set()
            log.info('signal %d: stopping', signum)
            threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _write_env(info['state_dir'], info)
    log.info('serving %s (backend %s, state %s, CA %s)', info['url'], args.hosts, info['state_dir'], info['ca'])
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        log.info('taking every host down')
        idle = state.teardown(timeout=args.stop_timeout)
        try:
            os.unlink(os.path.join(info['state_dir'], 'env'))
        except OSError:
            pass
        log.info('stopped (%s)', 'clean' if idle else 'host operations still pending')
    return 0 if idle else 1


def _teardown(args):
    from .state import State
    state = State(make_backend(args.hosts), os.path.abspath(args.state_dir))
    n = len(state.data['hosts'])
    idle = state.teardown(timeout=args.stop_timeout)
    logging.getLogger('do_sim').info('teardown of %d host(s): %s', n, 'done' if idle else 'INCOMPLETE')
    return 0 if idle else 1


def main(argv=None):
    p = argparse.ArgumentParser(prog='python -m do_sim', description=__doc__.split('\n', maxsplit=1)[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('serve', help='run the HTTPS server (foreground)')
    s.add_argument('--port', type=int, default=DEFAULT_PORT)
    s.add_argument('--host', default='127.0.0.1')
    s.add_argument('--state-dir', required=True)
    s.add_argument('--token', action='append', help='an accepted bearer token (repeatable; also $DO_SIM_TOKEN)')
    s.add_argument('--hosts', choices=('real', 'fake'), default='real',
                   help='real: droplets are host.sh hosts; fake: no hosts, active after --fake-boot-seconds')
    s.add_argument('--fake-boot-seconds', type=float, default=1.0)
    s.add_argument('--action-seconds', type=float, default=1.0)
    s.add_argument('--droplet-limit', type=int)
    s.add_argument('--max-parallel', type=int, default=4, help='host starts at once')
    s.add_argument('--tls-name', action='append', help='another name for the server certificate')
    s.add_argument('--stop-timeout', type=float, default=240)
    s.add_argument('--droplet-images', metavar='IMAGE,...',
                   help='images of this machine\'s engine loaded into every new droplet before it is active (what a '
                        'real droplet pulls from a registry; the test world has none the droplets reach)')
    s.add_argument('--public-range', metavar='FIRST-LAST',
                   help='public addresses of droplets (default 10.250.201.1-10.250.250.254); simulators running '
                        'at once are given ranges of their own')
    t = sub.add_parser('teardown', help='take down every host a (stopped) simulator left in its state dir')
    t.add_argument('--state-dir', required=True)
    t.add_argument('--hosts', choices=('real', 'fake'), default='real')
    t.add_argument('--stop-timeout', type=float, default=240)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format='%(asctime)s do_sim[%(process)d] %(levelname)s %(name)s: %(message)s')
    if args.cmd == 'serve':
        return _serve(args)
    return _teardown(args)
