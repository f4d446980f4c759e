"""Test data: units are made through the tree services so their placements are real."""

from __future__ import annotations

import datetime
import itertools

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from members.models import Dependant, Member, MemberKind, Membership, MemberStatus, Sex
from members.national_id import make_national_id
from unions.models import Role, RoleAssignment, Unit, UnitKind
from unions.tree import create_unit

PASSWORD = "test-password-123"
FOUNDED = datetime.date(2015, 1, 1)
_codes = itertools.count(1)


def system_user():
    """The superuser that stands for the system, as a seed does: it builds the test world
    before any role exists (the only account that may create a province)."""
    user, _created = get_user_model().objects.get_or_create(
        username="system", defaults={"is_superuser": True, "is_staff": True}
    )
    return user


def make_unit(name: str, kind: str = UnitKind.GRASSROOTS, parent: Unit | None = None, **kw):
    return create_unit(
        parent=parent,
        code=kw.pop("code", f"U{next(_codes)}"),
        name=name,
        kind=kind,
        founded_on=kw.pop("founded_on", FOUNDED),
        by=kw.pop("by", None) or system_user(),
        **kw,
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Văn"
    last_name = "Nguyễn"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.vn")
    password = factory.django.Password(PASSWORD)


def make_user(username: str, role: str | None = None, unit: Unit | None = None):
    user = UserFactory(username=username)
    if role and unit:
        RoleAssignment.objects.create(user=user, unit=unit, role=role)
    return user


_serials = itertools.count(1)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    full_name = "Nguyễn Văn An"
    sex = Sex.MALE
    date_of_birth = datetime.date(1985, 3, 14)
    national_id = factory.LazyAttribute(
        lambda m: make_national_id("020", m.date_of_birth, m.sex, next(_serials))
    )
    kind = MemberKind.MEMBER
    unit = None
    joined_on = datetime.date(2010, 5, 1)
    status = MemberStatus.ACTIVE

    # A person made as left, transferred out or deceased left a year after joining (long before
    # the tests' reorganisations), unless told otherwise.
    left_on = factory.LazyAttribute(
        lambda m: (
            None
            if m.status == MemberStatus.ACTIVE
            else min((m.joined_on or FOUNDED) + datetime.timedelta(days=365), timezone.localdate())
        )
    )

    @factory.post_generation
    def membership(obj, create, extracted, **kwargs):
        if create:
            Membership.objects.create(
                member=obj,
                unit=obj.unit,
                valid_from=obj.joined_on or FOUNDED,
                valid_to=obj.left_on,
                reason="joined",
            )


class DependantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dependant

    full_name = "Nguyễn Minh Khôi"
    sex = Sex.MALE
    date_of_birth = datetime.date(2015, 6, 1)


ROLES = {
    "admin": Role.ADMINISTRATOR,
    "province": Role.PROVINCE_STAFF,
    "commune": Role.STAFF,
    "grassroots": Role.OFFICER,
    "treasurer": Role.TREASURER,
    "leader": Role.LEADER,
}
