# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``python3 fleet-health.zip agent --config FILE`` (systemd runs it) and ``... monitor`` (cron, every minute)."""

from __future__ import annotations

import argparse
import json
import sys

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import program_zip
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import agent, monitor

MAIN = '''# The health agent and monitor of projectdeployer.fleet (see the health_agent module).
import sys
from %s import main
raise SystemExit(main(sys.argv[1:]))
''' % __name__


def sources():
    """(path in the zip, text) of every file of the program (``fleet-health.zip``)."""
    return program_zip.sources([sys.modules[__name__]], MAIN)


def sources_digest():
    """The digest ``program_zip.build_zip`` writes in the program's zip comment."""
    return program_zip.sources_digest(sources())


def parser():
    p = argparse.ArgumentParser(prog='fleet-health', description='The fleet health agent and monitor.')
    sub = p.add_subparsers(dest='command', required=True)
    run_agent = sub.add_parser('agent', help='serve the signed HTTP API and heal on Docker events')
    run_agent.add_argument('--config', required=True, help='the agent settings (JSON)')
    run_monitor = sub.add_parser('monitor', help='one monitor round over every project env of this server')
    run_monitor.add_argument('--fleet-root', default='/local')
    run_monitor.add_argument('--docker-host', default='unix:///var/run/docker.sock')
    return p


def main(argv):
    args = parser().parse_args(argv)
    if args.command == 'agent':
        try:
            with open(args.config) as handle:
                settings = json.load(handle)
        except (OSError, ValueError) as exc:
            sys.stderr.write('fleet-agent: cannot read %s: %s\n' % (args.config, exc))
            return 2
        return agent.serve(settings)
    for line in monitor.run(args.fleet_root, args.docker_host):
        sys.stdout.write(line + '\n')
    return 0
