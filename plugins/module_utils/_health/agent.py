# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The health agent: one always-running process per server (docs/health.md "The agent").

- An HTTP API on the server's VPC address only (``fleet_agent_port``, 9999): it refuses to start on a
  wildcard or public address. Every request is signed for one project env (signing.py); the env then
  scopes it. Verbs: ``GET /health`` (this server as its peers see it), ``GET /view`` (the env's latest
  verdicts, incidents and heal actions), ``GET /metrics`` (CPU and memory per container of the env),
  ``POST /restart`` ``{"service": NAME}`` (the serving container of a service of the env: started,
  restarted or recreated; needs the leader's epoch, ``X-Fleet-Epoch``, not lower than the highest seen).
  No exec, no image, no path: a service name is checked against the env's recorded services.
- Healing: it watches Docker's events for fleet-labelled containers (an exit or a removal is acted on
  within a second or two) and runs a heal round over every env every ``sweep_seconds`` (0: on events
  only). With ``events`` off and no sweep it heals nothing: the every-minute monitor does.
- Mails: due incident mails are sent after each round (alerts.py).
- Peer watch: every ``peer_watch_seconds`` (1; 0: off) it knocks on each peer's agent port; the connections
  of this server's edge and sidecars to a peer gone silent are cut, so nginx retries elsewhere at once
  (peer_watch.py).
"""

from __future__ import annotations

import ipaddress
import json
import os
import queue
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import DockerException, get_client
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import (
    alerts, definitions, healer, peer_watch, signing, store, tenant as tenants)

VERSION = '1'
MAX_BODY = 65536
EVENT_RETRY_MAX = 30


def log(message):
    sys.stderr.write('%s fleet-agent: %s\n' % (time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), message))
    sys.stderr.flush()


def check_address(address, refused=()):
    """None when the agent may listen on ``address``, else why not."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return 'address %r is not an IP address' % address
    if ip.is_unspecified:
        return 'address %s is a wildcard: the agent listens on the VPC address only' % address
    if ip.is_global or address in refused:
        return 'address %s is public: the agent listens on the VPC address only' % address
    return None


def monitor_at(fleet_root):
    try:
        with open(os.path.join(fleet_root, '.fleet', 'agent', 'monitor_at')) as handle:
            return float(handle.read().strip() or 0)
    except (OSError, ValueError):
        return None


def services_summary(client, tenant):
    """``[{service, slot, status, version}]`` of the env's recorded services here."""
    out = []
    heal = store.load(tenant.project_dir, 'heal.json')
    for service, record, dummy in definitions.recorded(tenant.project_dir, tenant.state_dir):
        if not record.get('slot'):
            continue
        name = naming.container_name(*(tenant.ids + (service,)), slot=record['slot'])
        status = 'missing'
        try:
            container = client.containers.get(name)
            status = container.status
        except DockerException:
            pass
        state = heal.get(service) or {}
        out.append({'service': service, 'slot': record['slot'], 'version': record.get('version'),
                    'container': name, 'status': 'failed' if state.get('failed') else status,
                    'restarts': len(state.get('restarts') or [])})
    return out


class Agent(object):
    def __init__(self, settings):
        self.settings = settings
        self.fleet_root = settings['fleet_root']
        self.docker_host = settings.get('docker_host') or 'unix:///var/run/docker.sock'
        self.nonces = signing.NonceCache()
        self.lock = threading.Lock()
        self.nonce_lock = threading.Lock()
        self.wake = queue.Queue()
        self.stopping = threading.Event()
        self._client = None

    def client(self):
        """One Docker client for the agent's calls (a new one after the engine failed)."""
        with self.lock:
            if self._client is not None:
                try:
                    self._client.ping()
                    return self._client
                except DockerException:
                    self._client.close()
            self._client = None
            self._client = get_client(self.docker_host, timeout=30)
            return self._client

    # -- requests -------------------------------------------------------------------------
    def keys_of(self, name):
        found = tenants.find(self.fleet_root, name)
        return found.keys() if found else []

    def refuse(self, name, reason, method, path, peer):
        log('refused %s %s from %s: %s' % (method, path, peer, reason))
        record = {'time': time.time(), 'from': peer, 'method': method, 'path': path, 'reason': reason}
        found = tenants.find(self.fleet_root, name) if name and signing.TENANT_RE.match(name) else None
        if found:
            store.append(found.project_dir, 'refused.jsonl', record)
        else:
            directory = os.path.join(self.fleet_root, '.fleet', 'agent')
            os.makedirs(directory, 0o700, exist_ok=True)
            with open(os.path.join(directory, 'refused.jsonl'), 'a') as handle:
                handle.write(json.dumps(record, sort_keys=True) + '\n')

    def handle(self, method, path, headers, body, peer):
        """``(status, answer dict)`` of one request."""
        with self.nonce_lock:
            name, reason = signing.verify(headers, method, path, body, self.keys_of, self.nonces)
        if name is None:
            self.refuse(headers.get(signing.TENANT), reason, method, path, peer)
            return 401, {'error': reason}
        tenant = tenants.find(self.fleet_root, name)
        route = {('GET', '/health'): self.health, ('GET', '/view'): self.view, ('GET', '/metrics'): self.metrics,
                 ('POST', '/restart'): self.restart}.get((method, path))
        if route is None:
            return 404, {'error': 'no such verb: %s %s' % (method, path)}
        try:
            return route(tenant, headers, body, peer)
        except DockerException as exc:
            return 503, {'error': 'the Docker engine did not answer: %s' % exc}

    def health(self, tenant, headers, body, peer):
        try:
            client = self.client()
            docker_ok, services = True, services_summary(client, tenant)
        except DockerException:
            docker_ok, services = False, []
        status = store.load(tenant.project_dir, 'status.json')
        config = tenant.config
        return 200, {'server': config.get('server'), 'address': config.get('address'), 'time': time.time(),
                     'agent': VERSION, 'docker': docker_ok, 'monitor_at': monitor_at(self.fleet_root),
                     'view': store.load(tenant.project_dir, 'peers.json'), 'verdict': status.get('verdict') or {},
                     'services': services}

    def view(self, tenant, headers, body, peer):
        return 200, {'status': store.load(tenant.project_dir, 'status.json'),
                     'incidents': store.load(tenant.project_dir, 'incidents.json'),
                     'actions': store.read_lines(tenant.project_dir, 'actions.jsonl', 50),
                     'mails': store.read_lines(tenant.project_dir, 'mails.jsonl', 20)}

    def metrics(self, tenant, headers, body, peer):
        client = self.client()
        out = []
        filters = {'label': ['fleet.user=%s' % tenant.ids[0], 'fleet.project=%s' % tenant.ids[1],
                             'fleet.env=%s' % tenant.ids[2]]}
        for container in client.containers.list(filters=filters):
            stats = container.stats(stream=False)
            cpu, pre = stats.get('cpu_stats') or {}, stats.get('precpu_stats') or {}
            delta = (cpu.get('cpu_usage') or {}).get('total_usage', 0) - (pre.get('cpu_usage') or {}).get('total_usage', 0)
            system = cpu.get('system_cpu_usage', 0) - pre.get('system_cpu_usage', 0)
            cpus = cpu.get('online_cpus') or 1
            memory = stats.get('memory_stats') or {}
            out.append({'container': container.name, 'service': container.labels.get('fleet.service'),
                        'cpu_percent': round(100.0 * delta / system * cpus, 2) if system > 0 else 0.0,
                        'memory_bytes': memory.get('usage', 0), 'memory_limit_bytes': memory.get('limit', 0)})
        return 200, {'containers': out}

    def restart(self, tenant, headers, body, peer):
        try:
            asked = json.loads(body.decode('utf-8') or '{}')
        except ValueError:
            return 400, {'error': 'the body is not JSON'}
        service = asked.get('service') if isinstance(asked, dict) else None
        if not isinstance(service, str) or not naming.SERVICE_RE.match(service):
            return 400, {'error': 'service: give a service name'}
        epoch = headers.get(signing.EPOCH) or ''
        if not epoch.isdigit():
            return 409, {'error': 'a healing request carries the leader\'s epoch (%s)' % signing.EPOCH}
        with store.locked(tenant.project_dir):
            seen = store.load(tenant.project_dir, 'epoch.json').get('epoch', 0)
            if int(epoch) < seen:
                return 409, {'error': 'epoch %s is older than %d: another leader acts now' % (epoch, seen)}
            store.save(tenant.project_dir, 'epoch.json', {'epoch': int(epoch), 'time': time.time()})
        record, options = definitions.serving(tenant.project_dir, tenant.state_dir, service)
        if not record.get('slot') or not options:
            return 404, {'error': 'no service %s of %s is recorded on this server' % (service, tenant.name)}
        client = self.client()
        observed, container = healer.observe(client, tenant.ids, service, record, options)
        action = 'recreate' if not observed['exists'] else ('restart' if observed['status'] == 'running' else 'start')
        error = healer.act(client, action, tenant.ids, service, record, options, container)
        entry = {'time': time.time(), 'server': tenant.config.get('server'), 'service': service, 'action': action,
                 'reason': 'asked by %s (epoch %s)' % (peer, epoch), 'slot': record['slot'], 'ok': error is None,
                 'error': error}
        store.append(tenant.project_dir, 'actions.jsonl', entry)
        return (200 if error is None else 500), entry

    # -- healing --------------------------------------------------------------------------
    def heal_all(self):
        """A round over every env; the time of the next round a backoff asks for (None: none)."""
        waits = []
        try:
            client = self.client()
        except DockerException as exc:
            log('the Docker engine does not answer: %s' % exc)
            return None
        for tenant in tenants.tenants(self.fleet_root):
            try:
                done = healer.heal_round(client, tenant, server=tenant.config.get('server') or '', waits=waits)
                for entry in done or []:
                    log('%s %s: %s (%s)%s' % (tenant.name, entry['service'], entry['action'], entry['reason'],
                                              '' if entry['ok'] else ' FAILED: %s' % entry['error']))
                sent, error = alerts.flush(tenant)
                if sent:
                    log('%s: mailed "%s"' % (tenant.name, sent))
                elif error:
                    log('%s: %s' % (tenant.name, error))
            except (DockerException, OSError, ValueError) as exc:
                log('%s: heal round failed: %s' % (tenant.name, exc))
        return min(waits) if waits else None

    def watch_events(self):
        """Wake the heal loop on each exit, kill, removal or health change of a fleet container (reconnects, bounded
        backoff, while the agent runs)."""
        delay = 1
        while not self.stopping.is_set():
            try:
                client = get_client(self.docker_host, timeout=None)   # its own: the stream blocks
                delay = 1
                for event in client.events(decode=True, filters={'type': 'container', 'label': 'fleet.user',
                                                                 'event': ['die', 'destroy', 'stop', 'kill',
                                                                           'health_status', 'oom']}):
                    self.wake.put(event.get('Action') or event.get('status'))
                    if self.stopping.is_set():
                        return
            except (DockerException, OSError) as exc:
                log('event stream: %s; reconnecting in %d s' % (exc, delay))
            self.stopping.wait(delay)
            delay = min(delay * 2, EVENT_RETRY_MAX)

    def peer_loop(self):
        """Knock on every peer once a round; cut this server's nginx connections to the silent ones."""
        every = float(self.settings.get('peer_watch_seconds', 1))
        silent = peer_watch.SilentPeers()
        while not self.stopping.wait(every):
            peers = peer_watch.peer_addresses([t.config for t in tenants.tenants(self.fleet_root)])
            silent.forget_others([a for a, dummy in peers])
            for address, port in peers:
                was = address in silent.silent
                if not silent.observe(address, peer_watch.knock(address, port)):
                    if was:
                        log('peer %s answers again' % address)
                    continue
                try:
                    done, errors = peer_watch.cut(self.client(), address)
                except (DockerException, OSError) as exc:
                    done, errors = {}, [str(exc)]
                if not was or done or errors:
                    log('peer %s silent: connections cut %s%s' % (
                        address, done or 'none', ('; errors: %s' % '; '.join(errors)) if errors else ''))

    def heal_loop(self):
        sweep = float(self.settings.get('sweep_seconds') or 0)   # 0: events only (the monitor is the safety net)
        due = None   # a backoff that ends: a round then, event or not
        while not self.stopping.is_set():
            timeout = sweep or 3600
            if due is not None:
                timeout = min(timeout, max(0.1, due - time.time() + 0.05))
            try:
                self.wake.get(timeout=timeout)
                time.sleep(0.5)       # let a burst of events (kill, die, stop) settle into one round
                while not self.wake.empty():
                    self.wake.get_nowait()
            except queue.Empty:
                pass
            if self.settings.get('events', True) or sweep:
                due = self.heal_all()
            else:
                due = None


class Handler(BaseHTTPRequestHandler):
    agent = None
    server_version = 'fleet-agent/' + VERSION
    sys_version = ''

    def log_message(self, fmt, *args):  # requests are logged when refused, not one line each
        pass

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        if length > MAX_BODY:
            status, answer = 413, {'error': 'body too large'}
        else:
            body = self.rfile.read(length) if length else b''
            status, answer = self.agent.handle(self.command, self.path, self.headers, body, self.client_address[0])
        data = json.dumps(answer, sort_keys=True).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _answer
    do_POST = _answer


def serve(settings):
    """Run the agent until killed; a refused address exits 2 with the reason."""
    address, port = settings.get('address') or '', int(settings.get('port') or 9999)
    reason = check_address(address, settings.get('refuse') or ())
    if reason:
        log('not starting: %s; fix: set fleet_private_address to the server\'s VPC address' % reason)
        return 2
    agent = Agent(settings)
    Handler.agent = agent
    httpd = ThreadingHTTPServer((address, port), Handler)
    httpd.daemon_threads = True
    threads = [threading.Thread(target=agent.heal_loop, daemon=True)]
    if settings.get('events', True):
        threads.append(threading.Thread(target=agent.watch_events, daemon=True))
    if float(settings.get('peer_watch_seconds', 1)) > 0:
        threads.append(threading.Thread(target=agent.peer_loop, daemon=True))
    for thread in threads:
        thread.start()
    log('listening on %s:%d (events %s, heal round every %s)' % (
        address, port, 'on' if settings.get('events', True) else 'off', ('%s s' % settings['sweep_seconds']) if settings.get('sweep_seconds') else 'never'))
    try:
        httpd.serve_forever()
    finally:
        agent.stopping.set()
    return 0
