"""Close the memberships of people marked left, transferred out or deceased before the
services closed them, and give those people the date they left (``Member.left_on``).

The date, for each such person: the day their status last changed from active, read from
their history (the first version of their latest run of non-active versions, in local time);
when the history holds no such version, today. A membership never closes before it began: a
date earlier than its start closes it on its start. A person already without an open
membership gets the end of their latest membership.
"""

from django.db import migrations
from django.db.models import Max
from django.utils import timezone

ENDED = ("transferred", "left", "deceased")
BATCH = 2000


def _left_dates(HistoricalMember, ids: list[int]) -> dict[int, object]:
    """member id -> the local date of the first version of their latest non-active run."""
    dates = {}
    rows = (
        HistoricalMember.objects.filter(id__in=ids)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "status", "history_date")
    )
    for member_id, status, when in rows.iterator():
        if status not in ENDED:
            dates.pop(member_id, None)
        elif member_id not in dates:
            dates[member_id] = timezone.localtime(when).date() if when else None
    return dates


def close_ended_memberships(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    HistoricalMember = apps.get_model("members", "HistoricalMember")
    Membership = apps.get_model("members", "Membership")
    today = timezone.localdate()
    ids = list(
        Member.objects.filter(status__in=ENDED, left_on__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        history = _left_dates(HistoricalMember, batch)
        open_rows = {
            row.member_id: row
            for row in Membership.objects.filter(member_id__in=batch, valid_to__isnull=True)
        }
        last_end = dict(
            Membership.objects.filter(member_id__in=batch, valid_to__isnull=False)
            .values("member_id")
            .annotate(end=Max("valid_to"))
            .values_list("member_id", "end")
        )
        closing, members = [], []
        for member_id in batch:
            row = open_rows.get(member_id)
            if row is not None:
                day = max(history.get(member_id) or today, row.valid_from)
                row.valid_to = day
                closing.append(row)
            else:
                day = last_end.get(member_id) or history.get(member_id) or today
            members.append(Member(pk=member_id, left_on=day))
        Membership.objects.bulk_update(closing, ["valid_to"])
        Member.objects.bulk_update(members, ["left_on"])


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0008_member_left_on"),
    ]

    operations = [
        migrations.RunPython(close_ended_memberships, migrations.RunPython.noop),
    ]
