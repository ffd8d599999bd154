# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading generated Dockerfiles in tests: instructions, stages, positions."""
import re


def instructions(text):
    """The logical instructions, joined as Docker does (escape and newline removed), comments dropped."""
    out, current = [], None
    for line in text.splitlines():
        if current is None and (not line.strip() or line.lstrip().startswith('#')):
            continue
        part = line[:-1] if line.endswith('\\') else line
        current = part if current is None else current + part
        if not line.endswith('\\'):
            out.append(current)
            current = None
    assert current is None, 'the text ends inside a continued instruction'
    return out


def stages(text):
    """{stage name: [instructions]} in order."""
    found, current = {}, None
    for line in instructions(text):
        m = re.match(r'^FROM (\S+) AS (\S+)$', line)
        if m:
            current = m.group(2)
            found[current] = [line]
        else:
            found[current].append(line)
    return found


def index(lines, prefix):
    for i, line in enumerate(lines):
        if line.startswith(prefix):
            return i
    raise AssertionError('no instruction starting with %r in:\n%s' % (prefix, '\n'.join(lines)))
