"""Access-matrix entries for the inbox.  A notice is "in scope" for its own recipient only:
inside, the role's own notice; outside, the outsider's, which must answer 404 and stay unread."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from common.models import Notice

from ..access import ALL_OK, ROLES, Effect, Entry, each


def notice_args(world, role, inside):
    recipient = world.users[role if inside else "outsider"]
    return [Notice.objects.create(recipient=recipient, subject="Hồ sơ số 1", url="/cases/")]


def notice_state(notice, client) -> dict:
    notice.refresh_from_db()
    return {"read": notice.read_at is not None}


def inbox_state(obj, client) -> dict:
    """Everyone's unread notices, the reader's and the others': one unread notice each is
    given to every account the first time the state is read (the URL names no object)."""
    users = get_user_model().objects.all()
    if not Notice.objects.exists():
        Notice.objects.bulk_create(Notice(recipient=user, subject="Hồ sơ số 1") for user in users)
    reader = client.session.get("_auth_user_id")
    unread = Notice.objects.unread()
    return {
        "mine": unread.filter(recipient_id=reader).count() if reader else None,
        "others": unread.exclude(recipient_id=reader).count() if reader else unread.count(),
    }


ENTRIES: dict[str, Entry] = {
    # Only the reader's own notices are listed: tests/common/test_notices.py.
    "notices:list": Entry(inside=ALL_OK),
    # Opening a notice marks it read and goes where it links.
    "notices:open": Entry(
        inside=dict.fromkeys(ROLES, 302),
        args=notice_args,
        method="post",
        effect=Effect(notice_state, done=each(ROLES, read=True)),
    ),
    # Marks the reader's own notices read, nobody else's.
    "notices:read_all": Entry(
        inside=dict.fromkeys(ROLES, 302),
        method="post",
        effect=Effect(inbox_state, done=each(ROLES, mine=0)),
    ),
}
