# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Alert mails over SMTP (smtplib): docs/health.md "Alerts".

Settings (``alerts`` of the env's ``config/health.json``, from the run's ``fleet_alert_*`` variables):
``to`` (the seed's ADMIN_EMAIL), ``from``, ``smtp_host``, ``smtp_port`` (587), ``starttls`` (true), ``user``;
the password is the file ``secrets/alert_smtp_password`` (0600), never in the JSON. A send that fails
returns its error (the incidents stay due; healing goes on).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

TIMEOUT = 15


def configured(settings):
    return bool(settings and settings.get('to') and settings.get('smtp_host'))


def message(settings, subject, body):
    msg = EmailMessage()
    msg['From'] = settings.get('from') or 'fleet-health@%s' % settings.get('smtp_host')
    msg['To'] = settings['to']
    msg['Subject'] = subject
    msg['Date'] = formatdate(localtime=False, usegmt=True)
    msg['Message-ID'] = make_msgid(domain='fleet.invalid')
    msg.set_content(body)
    return msg


def send(settings, password, subject, body, cafile=None):
    """Send one mail; None when it went, else the error as one line."""
    try:
        with smtplib.SMTP(settings['smtp_host'], int(settings.get('smtp_port') or 587), timeout=TIMEOUT) as smtp:
            smtp.ehlo()
            if settings.get('starttls', True):
                smtp.starttls(context=ssl.create_default_context(cafile=cafile or settings.get('ca_file') or None))
                smtp.ehlo()
            if settings.get('user'):
                smtp.login(settings['user'], password or '')
            smtp.send_message(message(settings, subject, body))
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        return 'mail to %s via %s:%s failed: %s' % (settings.get('to'), settings.get('smtp_host'),
                                                    settings.get('smtp_port'), exc)
    return None
