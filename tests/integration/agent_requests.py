# SPDX-License-Identifier: GPL-3.0-or-later
"""Signed (and badly signed) requests to a health agent from inside a simulated host's network namespace.

``requests_in(netns, address, port, requests)`` runs this file with ``ip netns exec`` (the agent listens on the
host's VPC address, which this machine cannot reach) and returns ``[(status, answer), ...]``. Each request is
a dict: ``key``, ``tenant``, ``method`` (GET), ``path`` (/health), ``body`` (JSON value or None), ``epoch``,
and at most one fault: ``unsigned``, ``stale`` (a timestamp 10 minutes old), ``replay`` (the headers of the
request before it, sent again).
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
COLLECTIONS = os.path.join(REPO, '.ansible', 'collections')


def requests_in(netns, address, port, requests, timeout=60):
    proc = subprocess.run(['ip', 'netns', 'exec', netns, sys.executable, __file__, address, str(port),
                           json.dumps(requests)], capture_output=True, text=True, timeout=timeout, check=False,
                          env=dict(os.environ, PYTHONPATH=COLLECTIONS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [tuple(pair) for pair in json.loads(proc.stdout)]


def _main(address, port, requests):
    import http.client
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import signing
    answers, last = [], {}
    for req in requests:
        method, path = req.get('method', 'GET'), req.get('path', '/health')
        body = json.dumps(req['body']).encode() if req.get('body') is not None else b''
        if req.get('replay'):
            headers = last
        elif req.get('unsigned'):
            headers = {}
        else:
            now = time.time() - (600 if req.get('stale') else 0)
            headers = signing.sign(req['key'], req['tenant'], method, path, body, now=now)
        if req.get('epoch') is not None:
            headers = dict(headers, **{signing.EPOCH: str(req['epoch'])})
        last = headers
        conn = http.client.HTTPConnection(address, port, timeout=30)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            resp = conn.getresponse()
            answers.append([resp.status, json.loads(resp.read().decode() or '{}')])
        except OSError as exc:
            answers.append([None, {'error': str(exc)}])
        finally:
            conn.close()
    print(json.dumps(answers))


if __name__ == '__main__':
    _main(sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]))
