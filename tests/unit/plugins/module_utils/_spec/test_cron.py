# SPDX-License-Identifier: GPL-3.0-or-later
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import cron


@pytest.mark.parametrize('expr', [
    '* * * * *',
    '*/5 * * * *',
    '0 2 * * *',
    '0 3 * * *',
    '1-30/2 * * * *',
    '0,15,30,45 8-18 * * 1-5',
    '0 0 1 jan *',
    '0 0 * JAN-Jun mon-fri',
    '0 0 * * 7',
    '0 0 * * sun,SAT',
    '59 23 31 12 0',
    '0 12 29 2 *',
    '  0 0 * * *  ',
    '@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually', '@DAILY',
])
def test_valid(expr):
    assert cron.cron_error(expr) is None


@pytest.mark.parametrize('expr,words', [
    ('', ['empty']),
    ('* * * *', ['4 fields', 'minute hour day-of-month month day-of-week']),
    ('0 * * * * *', ['6 fields', 'no seconds']),
    ('60 * * * *', ['minute', "'60'", '0-59']),
    ('* 24 * * *', ['hour', '0-23']),
    ('* * 0 * *', ['day-of-month', '1-31']),
    ('* * 32 * *', ['day-of-month', '1-31']),
    ('* * * 13 *', ['month', '1-12 or jan-dec']),
    ('* * * * 8', ['day-of-week', '0-7 or sun-sat']),
    ('* * * foo *', ['month', "'foo'", 'jan-dec']),
    ('* * * * jan', ['day-of-week', "'jan'", 'sun-sat']),
    ('* * * mon *', ['month', "'mon'"]),
    ('x * * * *', ['minute', 'not a number', '0-59']),
    ('*/0 * * * *', ['minute', 'step', '1 to 59']),
    ('*/60 * * * *', ['minute', 'step']),
    ('*/x * * * *', ['minute', 'step']),
    ('5/10 * * * *', ['minute', 'step without a range', '5-59/10']),
    ('30-10 * * * *', ['minute', 'backwards']),
    ('1,,2 * * * *', ['minute', 'empty list item']),
    ('1-2-3 * * * *', ['minute']),
    ('* * * * -1', ['day-of-week']),
    ('0 0 31 2 *', ['never', 'day-of-month', '1-29']),
    ('0 0 31 4,6 *', ['never']),
    ('@reboot', ['@reboot', 'boot']),
    ('@dayly', ['unknown macro', '@daily']),
])
def test_invalid_names_field_and_range(expr, words):
    err = cron.cron_error(expr)
    assert err, expr
    assert '\n' not in err
    for word in words:
        assert word in err, (word, err)


def test_day_31_with_a_weekday_is_not_never():
    # with a day-of-week cron runs on either, so the day-of-month check does not apply
    assert cron.cron_error('0 0 31 2 mon') is None


@pytest.mark.parametrize('value', [None, 5, ['*'] * 5, True])
def test_not_a_string(value):
    assert 'must be a string' in cron.cron_error(value)


def test_fields_expand_macros():
    assert cron.cron_fields('@daily') == ['0', '0', '*', '*', '*']
    assert cron.cron_fields('@midnight') == cron.cron_fields('@daily')
    assert cron.cron_fields('@hourly') == ['0', '*', '*', '*', '*']
    assert cron.cron_fields('@weekly') == ['0', '0', '*', '*', '0']
    assert cron.cron_fields('@monthly') == ['0', '0', '1', '*', '*']
    assert cron.cron_fields('@yearly') == cron.cron_fields('@annually') == ['0', '0', '1', '1', '*']
    assert cron.cron_fields(' */5  *  * * * ') == ['*/5', '*', '*', '*', '*']
    with pytest.raises(cron.CronError):
        cron.cron_fields('@reboot')
    with pytest.raises(ValueError):
        cron.cron_fields('* *')


def test_parse_values():
    minute, hour, dom, month, dow = cron.parse('1-30/10 */6 1,15 jan-mar mon-fri')
    assert minute == [1, 11, 21]
    assert hour == [0, 6, 12, 18]
    assert dom == [1, 15]
    assert month == [1, 2, 3]
    assert dow == [1, 2, 3, 4, 5]
    assert cron.parse('* * * * 7')[4] == [7]
