# SPDX-License-Identifier: GPL-3.0-or-later
"""A tiny authoritative DNS server for TXT records, for unit tests (the integration tests use pebble-challtestsrv).

UDP on 127.0.0.1 (dnspython builds the answers); it answers TXT questions from ``records`` and counts them, and
takes pebble-challtestsrv's management calls (``POST /set-txt {host, value}``, ``POST /clear-txt {host}``) on
``management`` so the simulator can publish to it as it does to challtestsrv.
"""
import http.server
import json
import socket
import threading

import dns.message
import dns.rrset


class TinyAuthority(object):
    def __init__(self):
        self.records, self.asked, self.recursion = {}, 0, []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve_dns, daemon=True).start()
        self.http = http.server.ThreadingHTTPServer(('127.0.0.1', 0), self._handler())
        threading.Thread(target=self.http.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True).start()
        self.management = 'http://127.0.0.1:%d' % self.http.server_address[1]

    def _serve_dns(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            self.asked += 1
            self.recursion.append(bool(query.flags & 0x0100))
            response = dns.message.make_response(query)
            values = self.records.get(query.question[0].name.to_text().rstrip('.')) or []
            if values:
                response.answer.append(dns.rrset.from_text(query.question[0].name, 60, 'IN', 'TXT',
                                                           *['"%s"' % v for v in values]))
            self.sock.sendto(response.to_wire(), peer)

    def _handler(self):
        authority = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get('Content-Length') or 0)) or b'{}')
                host = body['host'].rstrip('.')
                if self.path == '/set-txt':
                    authority.records.setdefault(host, []).append(body['value'])
                elif self.path == '/clear-txt':
                    authority.records.pop(host, None)
                self.send_response(200)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, fmt, *args):  # noqa: A003
                pass
        return Handler

    def close(self):
        self.sock.close()
        self.http.shutdown()
        self.http.server_close()
