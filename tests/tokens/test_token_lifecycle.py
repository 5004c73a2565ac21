from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from tokens import format as token_format
from tokens.audit import AuditEvent
from tokens.auth import WEBDAV, authenticate
from tokens.models import RECENT_USES, PersonalAccessToken, TokenError
from tokens.scopes import parse_scopes
from tokens.services import (
    send_expiry_reminders,
    token_create,
    token_delete,
    token_rotate,
    tokens_delete,
    tokens_prune,
)

check = PersonalAccessToken.objects.authenticate


@pytest.fixture
def frozen():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def create(demo, owner=None, **kwargs):
    kwargs.setdefault("label", lambda public_id: f"lifecycle {public_id}")
    kwargs.setdefault("expires_in", timedelta(days=30))
    kwargs.setdefault("via", "console")
    return token_create(owner=owner or demo.alice, **kwargs)


# Statuses


def test_never_used_then_in_use_then_idle(demo, frozen):
    token, raw = create(demo, expires_in=timedelta(days=90))
    assert token.usage == "Never used"
    token = check(raw)
    assert token.usage == ""
    frozen.shift(timedelta(days=30) - timedelta(seconds=1))
    assert token.usage == ""
    frozen.shift(timedelta(seconds=1))
    assert token.usage == "Idle"


def test_hard_limit_expiring_soon_boundary(demo, frozen):
    # 8 days: "Expiring soon" in its last quarter, 2 days; a long token at most a week ahead.
    token, _ = create(demo, expires_in=timedelta(days=8))
    frozen.shift(timedelta(days=6) - timedelta(seconds=1))
    assert token.status == "Active"
    frozen.shift(timedelta(seconds=1))
    assert token.status == "Expiring soon"
    frozen.shift(timedelta(days=2))
    assert token.status == "Expired"


def test_auto_refresh_expiring_soon_in_the_last_tenth_of_its_window(demo, frozen):
    token, _ = create(demo, expires_in=None, refresh_window=timedelta(hours=10))
    frozen.shift(timedelta(hours=9) - timedelta(seconds=1))
    assert token.status == "Active"
    frozen.shift(timedelta(seconds=1))
    assert token.status == "Expiring soon"


def test_auto_refresh_expiring_soon_near_its_absolute_end(demo, frozen):
    token, raw = create(demo, expires_in=timedelta(days=8), refresh_window=timedelta(days=2))
    for _day in range(5):
        frozen.shift(timedelta(days=1))
        assert check(raw).status == "Active"
    # Used every day, its window never runs low; its absolute end (8 days) does, in the last quarter.
    frozen.shift(timedelta(days=1, minutes=30))
    token = check(raw)
    assert token.status == "Expiring soon"


# Last use


def test_recent_uses_keep_distinct_combinations_with_first_and_last_seen(demo, frozen):
    token, raw = create(demo)
    check(raw, ip="192.0.2.1", protocol="REST", user_agent="curl/8")
    frozen.shift(timedelta(minutes=2))
    check(raw, ip="192.0.2.2", protocol="WebDAV", user_agent="rclone/v1.68")
    frozen.shift(timedelta(minutes=2))
    check(raw, ip="192.0.2.1", protocol="REST", user_agent="curl/8")
    token.refresh_from_db()
    assert [(use["ip"], use["protocol"]) for use in token.recent_uses] == [
        ("192.0.2.1", "REST"),
        ("192.0.2.2", "WebDAV"),
    ]
    assert token.recent_uses[0]["first_seen"] < token.recent_uses[0]["last_seen"]
    assert (token.last_used_ip, token.last_used_protocol, token.last_used_agent) == ("192.0.2.1", "REST", "curl/8")


def test_recent_uses_are_capped(demo, frozen):
    token, raw = create(demo)
    for index in range(RECENT_USES + 5):
        frozen.shift(timedelta(minutes=2))
        check(raw, ip=f"192.0.2.{index}", protocol="REST")
    token.refresh_from_db()
    assert len(token.recent_uses) == RECENT_USES
    assert token.recent_uses[0]["ip"] == f"192.0.2.{RECENT_USES + 4}"


# Audit trail


def test_create_delete_rotate_are_audited_with_actor(demo):
    token, _ = create(demo, actor=demo.admin)
    new, _, _ = token_rotate(token=token, actor=demo.admin, via="console")
    token_delete(token=new, actor=demo.alice, via="console", reason="no longer needed")
    events = list(AuditEvent.objects.order_by("id").values_list("event", "actor_label", "owner_login", "token_id"))
    assert events == [
        ("created", "admin", "alice", token.lookup_id),
        ("rotated", "admin", "alice", new.lookup_id),
        ("deleted", "alice", "alice", new.lookup_id),
    ]
    assert AuditEvent.objects.get(event="deleted").reason == "no longer needed"


def test_command_line_creation_is_audited_as_command_line(demo):
    call_command("user_token", "-u", "alice", "-e", "1d", "-q", stdout=io.StringIO())
    event = AuditEvent.objects.get()
    assert (event.event, event.actor_label, event.via) == ("created", "command line", "cli")


def test_refused_uses_are_aggregated_per_token_ip_and_minute(demo, frozen):
    token, raw = create(demo)
    token_delete(token=token, actor=demo.alice, via="console")
    for _ in range(5):
        assert check(raw, ip="203.0.113.9", protocol="REST") is None
    check(raw, ip="203.0.113.10", protocol="REST")
    frozen.shift(timedelta(minutes=1))
    check(raw, ip="203.0.113.9", protocol="REST")
    refused = AuditEvent.objects.filter(event="refused").order_by("id")
    assert [(event.ip, event.count) for event in refused] == [
        ("203.0.113.9", 5),
        ("203.0.113.10", 1),
        ("203.0.113.9", 1),
    ]
    assert all(event.token_id == token.lookup_id for event in refused)


def test_a_refusal_is_recorded_at_its_exact_time_never_before_the_tokens_creation(demo):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC), tick=False) as traveller:
        token, raw = create(demo)
        traveller.shift(timedelta(seconds=5))
        assert check(raw, login="bob", ip="192.0.2.1") is None
    event = AuditEvent.objects.get(event="refused")
    assert event.at == token.created_at + timedelta(seconds=5)


def test_aggregated_refusals_keep_the_exact_first_and_last_time_seen(demo):
    token, raw = create(demo)
    token_delete(token=token, actor=demo.alice, via="console")
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC), tick=False) as traveller:
        for _ in range(3):
            check(raw, ip="203.0.113.9")
            traveller.shift(timedelta(seconds=20))
    event = AuditEvent.objects.get(event="refused")
    assert (event.at, event.last_seen, event.count) == (
        datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 0, 45, tzinfo=UTC),
        3,
    )


def test_refusals_of_a_deleted_token_still_name_it_and_its_owner(demo):
    token, raw = create(demo, label="backup")
    token_uuid = token.uuid  # deleting the row clears its primary key
    token_delete(token=token, actor=demo.admin, via="console")
    assert check(raw, ip="203.0.113.9") is None
    event = AuditEvent.objects.get(event="refused")
    assert (event.token_id, event.token_uuid, event.token_label) == (token.lookup_id, token_uuid, "backup")
    assert (event.owner, event.owner_login) == (demo.alice, "alice")


def test_a_wrong_secret_is_recorded_against_the_token_its_public_id_names(demo):
    token, _raw = create(demo, label="backup")
    body = token_format.PREFIX + token.lookup_id + "x" * token_format.SECRET_LENGTH
    assert check(body + token_format._checksum(body), ip="203.0.113.9") is None
    event = AuditEvent.objects.get(event="refused")
    assert (event.token_label, event.owner_login, event.reason) == ("backup", "alice", "unknown token or wrong secret")


def test_an_unknown_public_id_is_recorded_without_a_name(demo):
    body = token_format.PREFIX + "A" * token_format.LOOKUP_LENGTH + "x" * token_format.SECRET_LENGTH
    assert check(body + token_format._checksum(body), ip="203.0.113.9") is None
    event = AuditEvent.objects.get(event="refused")
    assert (event.token_id, event.token_label, event.owner_login, event.owner) == ("A" * 12, "", "", None)


def test_expired_use_is_refused_and_recorded_with_its_owner(demo, frozen):
    _token, raw = create(demo, expires_in=timedelta(minutes=5))
    frozen.shift(timedelta(minutes=5))
    assert check(raw, ip="192.0.2.1") is None
    event = AuditEvent.objects.get(event="refused")
    assert (event.owner_login, event.reason) == ("alice", "expired")


def test_no_secret_anywhere_in_the_database(demo, frozen):
    token, raw = create(demo, actor=demo.admin)
    check(raw, ip="192.0.2.1", protocol="REST", user_agent="curl/8")
    new, new_raw, _ = token_rotate(token=token, actor=demo.admin, via="console")
    check(raw, ip="192.0.2.1", protocol="REST")  # refused: the old secret
    token_delete(token=new, actor=demo.admin, via="console")
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    for plain in (raw, new_raw):
        assert plain not in dump.getvalue()
        assert token_format.parse(plain).secret not in dump.getvalue()


# Rotation


def test_rotation_keeps_settings_and_swaps_the_secret(demo, frozen):
    alpha = demo.node("/common/projects/alpha")
    token, raw = create(
        demo,
        label="sync",
        expires_in=timedelta(days=10),
        refresh_window=timedelta(days=5),
        scopes=parse_scopes([f"node:{alpha.uuid}:rw"]),
    )
    frozen.shift(timedelta(days=3))
    new, new_raw, _ = token_rotate(token=token, actor=None, via="cli")
    assert check(raw) is None
    assert check(new_raw).pk == new.pk
    assert (new.label, new.expiration_model, new.refresh_window, new.scopes) == (
        "sync",
        "auto",
        timedelta(days=5),
        token.scopes,
    )
    assert new.absolute_end == timezone.now() + timedelta(days=10)


def test_rotation_within_the_maximum_says_nothing(demo, frozen):
    token, _ = create(demo, expires_in=timedelta(days=10))
    assert token_rotate(token=token, actor=None, via="cli").notice == ""


def test_rotation_past_a_lowered_maximum_is_clamped_to_it(demo, frozen, settings):
    token, _ = create(demo, expires_in=timedelta(hours=2))
    settings.TOKEN_MAX_LIFETIME = "1h"
    new, raw, notice = token_rotate(token=token, actor=None, via="cli")
    assert new.expires_at == timezone.now() + timedelta(hours=1)
    assert check(raw).pk == new.pk
    assert notice == (
        "This instance now lets a token live at most 1 hour, so the new token was shortened: "
        "it lives 1 hour instead of 2 hours."
    )


def test_rotation_past_a_lowered_maximum_clamps_the_refresh_window_and_the_absolute_end(demo, frozen, settings):
    token, _ = create(demo, expires_in=timedelta(days=5), refresh_window=timedelta(days=2))
    settings.TOKEN_MAX_LIFETIME = "1d"
    new, _raw, notice = token_rotate(token=token, actor=None, via="cli")
    assert (new.refresh_window, new.absolute_end) == (timedelta(days=1), timezone.now() + timedelta(days=1))
    assert "it lives 1 day instead of 5 days and its refresh window is 1 day instead of 2 days" in notice


def test_a_clamped_rotation_is_audited_with_the_notice(demo, frozen, settings):
    token, _ = create(demo, expires_in=timedelta(hours=2))
    settings.TOKEN_MAX_LIFETIME = "1h"
    _new, _raw, notice = token_rotate(token=token, actor=None, via="cli")
    assert AuditEvent.objects.get(event="rotated").reason.endswith(f"; {notice}")


def test_expired_token_cannot_be_rotated(demo, frozen):
    token, _ = create(demo, expires_in=timedelta(minutes=1))
    frozen.shift(timedelta(minutes=2))
    with pytest.raises(TokenError, match="expired"):
        token_rotate(token=token, actor=None, via="cli")


# Policy


@override_settings(TOKEN_MAX_LIFETIME="90d")
def test_lifetime_policy_refusal_is_explained_and_audited(demo):
    with pytest.raises(TokenError, match="at most 90 days"):
        create(demo, expires_in=timedelta(days=91), actor=demo.admin)
    event = AuditEvent.objects.get()
    assert (event.event, event.owner_login, event.actor_label) == ("policy_refused", "alice", "admin")
    assert "90 days" in event.reason
    assert not PersonalAccessToken.objects.exists()


@override_settings(TOKEN_MAX_LIFETIME="90d")
def test_auto_refresh_gets_an_absolute_end_within_the_maximum(demo, frozen):
    token, _ = create(demo, expires_in=None, refresh_window=timedelta(days=1))
    assert token.absolute_end == timezone.now() + timedelta(days=90)


@override_settings(TOKEN_MAX_PER_USER=2)
def test_tokens_per_user_limit(demo, frozen):
    create(demo)
    create(demo)
    with pytest.raises(TokenError, match="already has 2 live tokens"):
        create(demo)
    create(demo, owner=demo.bob)
    expired, _ = PersonalAccessToken.objects.filter(owner=demo.alice).first(), None
    expired.expires_at = timezone.now()
    expired.save()
    create(demo)  # expired tokens do not count


@override_settings(WEBDAV_ALLOW_PASSWORD=False)
def test_webdav_password_can_be_switched_off(demo):
    assert authenticate("demo-password-for-tests", login="alice", protocol=WEBDAV, allow_password=True) is None
    _token, raw = create(demo)
    assert authenticate(raw, login="alice", protocol=WEBDAV, allow_password=True).user == demo.alice


def test_webdav_password_works_by_default(demo):
    assert (
        authenticate("demo-password-for-tests", login="alice", protocol=WEBDAV, allow_password=True).user == demo.alice
    )


# Admin-issued tokens and reminders


def test_admin_issued_token_is_marked_and_its_owner_emailed(demo, mailoutbox):
    token, raw = create(demo, actor=demo.admin)
    assert token.issued_by_admin
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["alice@example.com"]
    assert "admin created" in mailoutbox[0].body and token.label in mailoutbox[0].body
    assert raw not in mailoutbox[0].body and token_format.parse(raw).secret not in mailoutbox[0].body


def test_own_token_is_not_emailed(demo, mailoutbox):
    token, _ = create(demo, actor=demo.alice)
    assert not token.issued_by_admin
    assert mailoutbox == []


def test_reminders_once_per_threshold(demo, frozen, mailoutbox):
    create(demo, label="deploy", expires_in=timedelta(days=10))
    assert send_expiry_reminders() == []
    frozen.shift(timedelta(days=3, minutes=1))  # 7 days left
    assert [days for _token, days in send_expiry_reminders()] == [7]
    assert send_expiry_reminders() == []
    frozen.shift(timedelta(days=6))  # less than 1 day left
    assert [days for _token, days in send_expiry_reminders()] == [1]
    assert send_expiry_reminders() == []
    assert len(mailoutbox) == 2


def test_token_first_seen_one_day_out_gets_one_reminder(demo, frozen, mailoutbox):
    create(demo, expires_in=timedelta(days=10))
    frozen.shift(timedelta(days=9, hours=4))  # 20 hours left: both thresholds passed unseen
    assert [days for _token, days in send_expiry_reminders()] == [1]
    assert send_expiry_reminders() == []
    assert len(mailoutbox) == 1


def test_the_reminder_states_the_time_left_not_the_threshold(demo, frozen, mailoutbox):
    create(demo, label="deploy", expires_in=timedelta(days=10))
    frozen.shift(timedelta(days=7))  # first seen 3 days out, within the 7-day threshold
    assert [days for _token, days in send_expiry_reminders()] == [7]
    assert mailoutbox[0].subject == 'Your personal access token "deploy" expires in 3 days'
    assert "stops working in 3 days, on " in mailoutbox[0].body


def test_the_reminder_counts_hours_and_minutes_too(demo, frozen, mailoutbox):
    create(demo, label="deploy", expires_in=timedelta(days=10))
    frozen.shift(timedelta(days=9, hours=5, minutes=30))
    send_expiry_reminders()
    assert mailoutbox[0].subject.endswith("expires in 18 hours, 30 minutes")


def test_a_token_living_less_than_a_day_is_never_reminded(demo, frozen, mailoutbox):
    create(demo, expires_in=timedelta(hours=1))
    assert send_expiry_reminders() == []
    frozen.shift(timedelta(minutes=59))
    assert send_expiry_reminders() == []
    assert mailoutbox == []


def test_a_token_living_three_days_skips_the_seven_day_reminder_only(demo, frozen, mailoutbox):
    create(demo, expires_in=timedelta(days=3))
    assert send_expiry_reminders() == []
    frozen.shift(timedelta(days=2, hours=1))
    assert [days for _token, days in send_expiry_reminders()] == [1]
    assert len(mailoutbox) == 1


def test_a_token_living_exactly_a_threshold_is_not_reminded_at_birth(demo, frozen, mailoutbox):
    create(demo, expires_in=timedelta(days=7))
    assert send_expiry_reminders() == []
    assert mailoutbox == []


def test_an_auto_refresh_token_capped_within_a_day_is_never_reminded(demo, frozen, mailoutbox):
    create(demo, expires_in=timedelta(hours=8), refresh_window=timedelta(minutes=10))
    assert send_expiry_reminders() == []
    assert mailoutbox == []


def test_no_reminder_for_auto_refresh_tokens_in_use(demo, frozen, mailoutbox):
    token, raw = create(demo, expires_in=None, refresh_window=timedelta(hours=12))
    token.absolute_end = None  # as tokens issued before the lifetime policy
    token.save()
    for _ in range(20):
        frozen.shift(timedelta(hours=6))
        assert check(raw) is not None
        assert send_expiry_reminders() == []
    assert mailoutbox == []


def test_auto_refresh_token_is_reminded_of_its_absolute_end(demo, frozen, mailoutbox):
    create(demo, expires_in=timedelta(days=10), refresh_window=timedelta(days=4))
    frozen.shift(timedelta(days=3, hours=1))
    assert [days for _token, days in send_expiry_reminders()] == [7]


# Prune


def test_prune_removes_only_long_expired_tokens(demo, frozen):
    old, _ = create(demo, expires_in=timedelta(days=1))
    recent, _ = create(demo, expires_in=timedelta(days=20))
    live, _ = create(demo, expires_in=timedelta(days=60))
    frozen.shift(timedelta(days=40))
    assert tokens_prune(older_than=timedelta(days=30), dry_run=True) == 1
    assert PersonalAccessToken.objects.count() == 3
    assert tokens_prune(older_than=timedelta(days=30)) == 1
    assert set(PersonalAccessToken.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert AuditEvent.objects.filter(event="deleted", token_id=old.lookup_id, reason__startswith="pruned").exists()


def test_admin_rotating_someone_elses_token_emails_the_owner(demo, mailoutbox, django_capture_on_commit_callbacks):
    token, _ = create(demo, actor=demo.alice)
    with django_capture_on_commit_callbacks(execute=True):
        new, raw, _ = token_rotate(token=token, actor=demo.admin, via="console")
    assert new.issued_by_admin
    assert [message.to for message in mailoutbox] == [["alice@example.com"]]
    assert raw not in mailoutbox[0].body


def test_an_admin_deleting_someone_elses_token_emails_the_owner(demo, mailoutbox, django_capture_on_commit_callbacks):
    token, raw = create(demo, label="backup")
    with django_capture_on_commit_callbacks(execute=True):
        token_delete(token=token, actor=demo.admin, via="console", reason="laptop lost")
    [message] = mailoutbox
    assert message.to == ["alice@example.com"]
    assert message.subject == 'Your personal access token "backup" was deleted'
    assert f'admin deleted your personal access token "backup" (id {token.lookup_id}).' in message.body
    assert "Reason given: laptop lost" in message.body
    assert raw not in message.body and token_format.parse(raw).secret not in message.body


def test_an_owner_deleting_their_own_token_is_not_emailed(demo, mailoutbox, django_capture_on_commit_callbacks):
    token, _raw = create(demo)
    with django_capture_on_commit_callbacks(execute=True):
        token_delete(token=token, actor=demo.alice, via="console")
    assert mailoutbox == []


def test_deleting_an_expired_token_emails_nobody(demo, frozen, mailoutbox, django_capture_on_commit_callbacks):
    token, _raw = create(demo, expires_in=timedelta(hours=1))
    frozen.shift(timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        token_delete(token=token, actor=demo.admin, via="console")
    assert mailoutbox == []


def test_a_deletion_of_several_tokens_emails_each_owner_once(demo, mailoutbox, django_capture_on_commit_callbacks):
    mine = [create(demo, label=label)[0] for label in ("one", "two")]
    bobs, _raw = create(demo, owner=demo.bob, label="three")
    with django_capture_on_commit_callbacks(execute=True):
        assert tokens_delete(tokens=[*mine, bobs], actor=None, via="cli") == 3
    assert sorted(message.to[0] for message in mailoutbox) == ["alice@example.com", "bob@example.com"]
    [to_alice] = [message for message in mailoutbox if message.to == ["alice@example.com"]]
    assert to_alice.subject == "2 of your personal access tokens were deleted"
    assert "an administrator deleted 2 of your personal access tokens from the command line:" in to_alice.body
    assert all(f'"{token.label}" (id {token.lookup_id})' in to_alice.body for token in mine)


def test_no_email_is_sent_for_a_deletion_that_is_rolled_back(demo, mailoutbox, django_capture_on_commit_callbacks):
    token, _raw = create(demo)

    def delete_then_fail() -> None:
        with transaction.atomic():
            token_delete(token=token, actor=demo.admin, via="console")
            raise RuntimeError("the surrounding work failed")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        delete_then_fail()
    assert mailoutbox == [] and PersonalAccessToken.objects.filter(lookup_id=token.lookup_id).exists()


def test_token_sent_with_another_login_is_refused_and_not_counted_as_a_use(demo):
    token, raw = create(demo)
    assert authenticate(raw, login="bob", protocol=WEBDAV, ip="192.0.2.5") is None
    token.refresh_from_db()
    assert token.last_used_at is None
    event = AuditEvent.objects.get(event="refused")
    assert (event.reason, event.owner_login) == ("sent with another login", "alice")
    assert authenticate(raw, login="ALICE", protocol=WEBDAV).user == demo.alice


@pytest.mark.parametrize(
    "label", ["two\nlines", "carriage\rreturn", "colour \x1b[31mred", "rtl \u202eevil", "sep\u2028x"]
)
def test_a_label_with_line_breaks_or_control_characters_is_refused(demo, label):
    with pytest.raises(TokenError, match="single line"):
        demo.token(demo.alice, label=label)


def test_a_label_may_hold_emoji_sequences(demo):
    token, _raw = demo.token(demo.alice, label="laptop \U0001f469\u200d\U0001f4bb")
    assert token.label.endswith("\U0001f4bb")


def test_a_stored_label_with_a_line_break_still_lets_its_owner_be_told(
    demo, mailoutbox, django_capture_on_commit_callbacks
):
    token, _raw = demo.token(demo.alice, label="old")
    PersonalAccessToken.objects.filter(pk=token.pk).update(label="from\nbefore")  # written before labels were checked
    token.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        token_delete(token=token, actor=demo.admin, via="console")
    assert [mail.subject for mail in mailoutbox] == ['Your personal access token "from before" was deleted']
