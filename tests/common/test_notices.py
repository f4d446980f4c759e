"""Notices: stored for the inbox, e-mailed after the commit to those with an address; the inbox
and the bell show the reader their own notices only."""

from __future__ import annotations

import datetime
import smtplib

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from common import notices
from common.models import Notice

pytestmark = pytest.mark.django_db


class FailingBackend:
    """A mail server that refuses every message."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("the mail server went away")


def notice_for(user, subject="Hồ sơ số 7 được phê duyệt", url="/cases/7/", **extra) -> Notice:
    return Notice.objects.create(recipient=user, subject=subject, url=url, **extra)


def bell(user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = engines["django"].from_string('{% include "includes/notice_bell.html" %}')
    return template.render({"user": user, "request": request})


# --- notify ----------------------------------------------------------------------------------


def test_notify_stores_the_notice_and_mails_it_once_committed(
    world, settings, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    settings.PORTAL_URL = "https://congdoan.example.vn"
    officer = world.users["grassroots"]
    with django_capture_on_commit_callbacks(execute=True):
        notice = notices.notify(
            recipient=officer, subject="Hồ sơ số 7", body="Nguyễn Văn An", url="/cases/7/"
        )
        assert mailoutbox == []  # nothing leaves before the commit
    assert Notice.objects.get() == notice and not notice.is_read
    [message] = mailoutbox
    assert message.to == [officer.email]
    assert message.subject == "Hồ sơ số 7"
    assert "Nguyễn Văn An" in message.body
    assert "https://congdoan.example.vn/cases/7/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert 'href="https://congdoan.example.vn/cases/7/"' in html
    notice.refresh_from_db()
    assert notice.emailed_at is not None


def test_a_broker_that_is_down_is_logged_and_the_notice_kept(
    world, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    """The e-mail is queued after the commit, robustly: a queue that cannot be reached (the
    demo's folder missing, Redis down) is logged by the hook's name and breaks nothing."""
    from common import tasks

    def unreachable(*args, **kwargs):
        raise OSError("broker down")

    monkeypatch.setattr(tasks.email_notice, "delay", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        notices.notify(recipient=world.users["grassroots"], subject="S", body="B", url="/cases/7/")
    assert Notice.objects.get().emailed_at is None
    assert any("notify.<locals>.send" in record.getMessage() for record in caplog.records)


def test_a_user_without_email_still_finds_the_notice_in_the_inbox(
    world, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    officer = world.users["grassroots"]
    officer.email = ""
    officer.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notices.notify(recipient=officer, subject="Hồ sơ số 7", body="", url="/cases/7/")
    assert callbacks == [] and mailoutbox == []
    assert Notice.objects.filter(recipient=officer).count() == 1


def test_a_step_rolled_back_leaves_no_notice_and_sends_nothing(
    world, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notices.notify(recipient=world.users["grassroots"], subject="x", body="", url="/")
        raise RuntimeError("the step is refused")
    assert not Notice.objects.exists()
    assert mailoutbox == []


def test_a_notice_is_mailed_once_however_often_the_task_runs(world, mailoutbox):
    notice = notice_for(world.users["grassroots"])
    assert notices.send_email(notice.pk) is True
    assert notices.send_email(notice.pk) is False
    assert len(mailoutbox) == 1


def test_a_failing_mail_server_keeps_the_notice_unsent_for_a_retry(
    world, settings, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.common.test_notices.FailingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        notice = notices.notify(
            recipient=world.users["grassroots"], subject="Hồ sơ số 7", body="", url="/cases/7/"
        )
    notice.refresh_from_db()
    assert notice.emailed_at is None and not notice.is_read


def test_a_notice_links_only_inside_the_portal(world):
    for url in ("https://evil.example.com/", "//evil.example.com/", "cases/7/"):
        with pytest.raises(ValueError):
            notices.notify(recipient=world.users["grassroots"], subject="x", body="", url=url)
    assert not Notice.objects.exists()


# --- the inbox -------------------------------------------------------------------------------


def test_the_inbox_lists_only_my_notices_newest_first_unread_marked(client_for, world):
    me = world.users["grassroots"]
    now = timezone.now()
    old = notice_for(me, subject="Hồ sơ số 1 bị trả lại", read_at=now)
    new = notice_for(me, subject="Hồ sơ số 2 được phê duyệt")
    Notice.objects.filter(pk=old.pk).update(created_at=now - datetime.timedelta(days=1))
    notice_for(world.users["commune"], subject="Hồ sơ số 3 của người khác")
    page = client_for("grassroots").get(reverse("notices:list"))
    assert [n.pk for n in page.context["page"]] == [new.pk, old.pk]
    html = page.content.decode()
    assert "Hồ sơ số 3" not in html
    assert html.count('class="list-group-item p-0 notice-unread"') == 1
    assert reverse("notices:read_all") in html  # something is unread


def test_an_empty_inbox_says_so(client_for, world):
    page = client_for("grassroots").get(reverse("notices:list"))
    assert 'id="no-notices"' in page.content.decode()
    assert reverse("notices:read_all") not in page.content.decode()


def test_the_inbox_pages_by_keyset_at_a_fixed_cost(
    client_for, world, settings, django_assert_max_num_queries
):
    settings.PAGE_SIZE = 5
    me = world.users["grassroots"]
    Notice.objects.bulk_create(Notice(recipient=me, subject=f"Hồ sơ số {n}") for n in range(12))
    client = client_for("grassroots")
    client.get(reverse("notices:list"))
    # session, user, the scope's grants, the page, "anything unread", the bell
    with django_assert_max_num_queries(8):
        first = client.get(reverse("notices:list"))
    assert len(first.context["page"]) == 5
    with django_assert_max_num_queries(8):
        second = client.get(reverse("notices:list") + "?" + first.context["page"].next_query)
    seen = {n.pk for n in first.context["page"]} | {n.pk for n in second.context["page"]}
    assert len(seen) == 10


def test_opening_a_notice_marks_it_read_and_goes_to_its_page(client_for, world):
    notice = notice_for(world.users["grassroots"], url="/cases/7/")
    response = client_for("grassroots").post(reverse("notices:open", args=[notice.pk]))
    assert response.status_code == 302 and response["Location"] == "/cases/7/"
    notice.refresh_from_db()
    first_read = notice.read_at
    assert first_read is not None
    client_for("grassroots").post(reverse("notices:open", args=[notice.pk]))
    notice.refresh_from_db()
    assert notice.read_at == first_read  # the first reading is kept


def test_someone_elses_notice_is_not_found_and_stays_unread(client_for, world):
    notice = notice_for(world.users["commune"])
    response = client_for("grassroots").post(reverse("notices:open", args=[notice.pk]))
    assert response.status_code == 404
    notice.refresh_from_db()
    assert not notice.is_read
    with pytest.raises(Http404):
        notices.mark_read(notice=notice, by=world.users["grassroots"])
    with pytest.raises(PermissionDenied):
        notices.mark_read(notice=notice, by=AnonymousUser())


def test_opening_a_notice_is_a_post(client_for, world):
    notice = notice_for(world.users["grassroots"])
    response = client_for("grassroots").get(reverse("notices:open", args=[notice.pk]))
    assert response.status_code == 405
    notice.refresh_from_db()
    assert not notice.is_read


def test_mark_all_read_marks_only_mine(client_for, world):
    mine = [notice_for(world.users["grassroots"]) for _ in range(3)]
    theirs = notice_for(world.users["commune"])
    response = client_for("grassroots").post(reverse("notices:read_all"))
    assert response.status_code == 302
    assert all(n.is_read for n in Notice.objects.filter(pk__in=[n.pk for n in mine]))
    theirs.refresh_from_db()
    assert not theirs.is_read
    assert notices.unread_count(world.users["grassroots"]) == 0


# --- the bell --------------------------------------------------------------------------------


def test_the_bell_counts_my_unread_notices_in_one_query(world, django_assert_num_queries):
    me = world.users["grassroots"]
    notice_for(me)
    notice_for(me)
    notice_for(me, read_at=timezone.now())
    notice_for(world.users["commune"])
    with django_assert_num_queries(1):
        html = bell(me)
    assert 'data-unread="2"' in html
    assert 'class="position-absolute' in html


def test_the_bell_stops_counting_at_99(world, django_assert_num_queries):
    me = world.users["grassroots"]
    Notice.objects.bulk_create(Notice(recipient=me, subject="x") for _ in range(120))
    with django_assert_num_queries(1):
        assert 'data-unread="99+"' in bell(me)
    Notice.objects.filter(pk__in=Notice.objects.values("pk")[:21]).delete()
    assert 'data-unread="99"' in bell(me)


def test_the_bell_has_no_badge_when_all_is_read(world):
    notice_for(world.users["grassroots"], read_at=timezone.now())
    html = bell(world.users["grassroots"])
    assert 'data-unread="0"' in html and "badge" not in html


def test_a_visitor_gets_no_bell_and_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert bell(AnonymousUser()).strip() == ""


def test_every_page_shows_the_bell_with_my_count(client_for, world):
    notice_for(world.users["grassroots"])
    html = client_for("grassroots").get(reverse("home")).content.decode()
    assert f'href="{reverse("notices:list")}"' in html and 'data-unread="1"' in html
