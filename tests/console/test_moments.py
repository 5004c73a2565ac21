"""Every time the console shows names its zone, in the zone that is active for the viewer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from console.templatetags.console import moment
from tests.support.html_text import text_of

WINTER = datetime(2027, 1, 3, 13, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 12, 30, 5, tzinfo=UTC)


def test_a_moment_names_the_instance_zone():
    assert moment(WINTER) == (
        '<time class="moment" datetime="2027-01-03T13:00:00+00:00">'
        '<span class="nowrap">2027-01-03</span> <span class="nowrap">13:00 UTC</span></time>'
    )


@pytest.mark.parametrize(
    ("value", "text", "iso"),
    [
        (WINTER, "2027-01-03 14:00 CET", "2027-01-03T14:00:00+01:00"),
        (SUMMER, "2026-07-01 14:30 CEST", "2026-07-01T14:30:05+02:00"),
    ],
)
def test_a_moment_reads_in_the_active_zone_with_its_offset(value, text, iso):
    with timezone.override("Europe/Paris"):
        html = moment(value)
    assert f'datetime="{iso}"' in html and text_of(html) == text


@pytest.mark.parametrize(
    ("style", "text"),
    [("seconds", "2026-07-01 12:30:05 UTC"), ("time", "12:30:05 UTC"), ("date", "2026-07-01")],
)
def test_the_styles_of_a_moment(style, text):
    assert text_of(moment(SUMMER, style)) == text


def test_a_relative_moment_keeps_the_absolute_time_with_its_zone_as_tooltip():
    with time_machine.travel(WINTER - timedelta(days=3), tick=False):
        html = moment(WINTER, "relative")
    assert 'title="2027-01-03 13:00 UTC">in 3 days</time>' in html


def test_no_moment_renders_nothing():
    assert moment(None) == ""
