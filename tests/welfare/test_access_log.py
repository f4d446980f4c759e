"""The access log administrators read (welfare/privacy/): case files and members' personal
data opened in their units, filtered, paged, and pruned after the retention period."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from members.access_log import record_member_access
from members.models import MemberAccess
from welfare.cases.access_log import record_case_access
from welfare.models import CaseAccess
from welfare.privacy import access_log

pytestmark = pytest.mark.django_db

URL = "/access-log/"


@pytest.fixture
def reads(world, make_case, funds):
    """The leader of P opened a case of A1 and A1's member; Q's officer opened a case of Q1 and
    Q1's member; a province officer exported full ID numbers."""
    mine = make_case("submitted")
    theirs = make_case("submitted", fund=funds.other, member=world.member_q1)
    record_case_access(case=mine, by=world.users["leader"], what=CaseAccess.What.PAGE)
    record_case_access(case=theirs, by=world.users["q_officer"], what=CaseAccess.What.PAGE)
    record_member_access(
        member=world.member_a1, by=world.users["leader"], what=MemberAccess.What.REVEAL
    )
    record_member_access(
        member=world.member_q1, by=world.users["q_officer"], what=MemberAccess.What.PAGE
    )
    record_member_access(
        member=None, by=world.users["province"], what=MemberAccess.What.EXPORT, detail="csv: "
    )
    return mine, theirs


def test_the_log_lists_only_the_administrators_units(client_for, world, reads):
    mine, theirs = reads
    cases = client_for("admin").get(URL).content.decode()
    assert reverse("cases:detail", args=[mine.pk]) in cases
    assert reverse("cases:detail", args=[theirs.pk]) not in cases
    members = client_for("admin").get(URL, {"log": "members"}).content.decode()
    assert world.member_a1.full_name in members and world.member_q1.full_name not in members
    assert "csv: " in members  # the export by one of P's users
    # Q's administrator sees Q's, and not P's export
    other = client_for("outsider").get(URL, {"log": "members"}).content.decode()
    assert world.member_q1.full_name in other and world.member_a1.full_name not in other
    assert "csv: " not in other


def test_only_administrators_read_the_log(client_for, reads):
    for role in ("province", "commune", "grassroots", "treasurer", "leader"):
        assert client_for(role).get(URL).status_code == 403


def test_filters_by_action_user_and_dates(client_for, world, reads):
    client = client_for("admin")
    today = timezone.localdate().isoformat()
    found = client.get(URL, {"log": "members", "what": "reveal", "user": "lead"})
    assert world.member_a1.full_name in found.content.decode()
    none = client.get(URL, {"log": "members", "what": "page"}).content.decode()
    assert world.member_a1.full_name not in none and 'id="no-access"' in none
    dated = client.get(URL, {"log": "cases", "since": today, "until": today}).content.decode()
    assert reverse("cases:detail", args=[reads[0].pk]) in dated
    backwards = client.get(URL, {"since": today, "until": "2020-01-01"})
    assert 'id="no-access"' in backwards.content.decode()


def test_the_log_pages_at_a_fixed_cost(client_for, world, reads, django_assert_max_num_queries):
    client = client_for("admin")
    client.get(URL)  # the session and grants, read once
    with django_assert_max_num_queries(8):
        client.get(URL)
    for _ in range(30):
        record_member_access(
            member=world.member_a1, by=world.users["leader"], what=MemberAccess.What.PAGE
        )
    with django_assert_max_num_queries(8):
        client.get(URL, {"log": "members"})


def test_records_past_the_retention_period_are_pruned(world, reads, settings):
    settings.PERSONAL_DATA_LOG_DAYS = 30
    old = timezone.now() - datetime.timedelta(days=31)
    CaseAccess.objects.filter(case=reads[0]).update(at=old)
    MemberAccess.objects.filter(member=world.member_a1).update(at=old)
    assert access_log.prune() == 2
    assert not CaseAccess.objects.filter(case=reads[0]).exists()
    assert CaseAccess.objects.filter(case=reads[1]).exists()
    assert MemberAccess.objects.count() == 2
    assert access_log.prune() == 0


def test_the_daily_task_prunes(world, reads, settings):
    from welfare.tasks import prune_access_log

    settings.PERSONAL_DATA_LOG_DAYS = 0
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    assert prune_access_log() == 0  # nothing older than today
    CaseAccess.objects.update(at=tomorrow - datetime.timedelta(days=3))
    assert prune_access_log() == 2
