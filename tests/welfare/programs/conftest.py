"""A Tết program of province P on its social fund, driven through the real services.

Its batches: A1's (built by the grassroots officer; route commune A -> province P) and B1's
(built by an officer of B1).  Province staff approve, the province treasurer pays.
"""

from __future__ import annotations

import datetime

import pytest

from unions.models import Role
from welfare.cases.models import SupportType
from welfare.programs import services
from welfare.programs.models import Applies, Batch, Participant

from ...factories import MemberFactory, make_user

YEAR = datetime.date.today().year


@pytest.fixture
def tet(world, funds):
    """The program: 3.000.000 ₫ of budget, 500.000 ₫ a member, 1.000.000 ₫ a poor household."""
    world.users["b1_officer"] = make_user("b1_officer", Role.OFFICER, world.b1)
    program = services.create_program(
        unit=world.province,
        name=f"Tết Sum vầy {YEAR}",
        support_type=SupportType.TET_GIFT,
        fund=funds.social,
        year=YEAR,
        budget=3_000_000,
        levels=[("Đoàn viên", Applies.MEMBER, 500_000), ("Hộ nghèo", Applies.POOR, 1_000_000)],
        by=world.users["province"],
    )
    for unit in (world.a1, world.b1):
        services.add_participant(program=program, unit=unit, by=world.users["province"])
    return program


@pytest.fixture
def people(world):
    """Four more people at A1, one of them in a poor household."""
    return [
        MemberFactory(full_name=f"Người {n}", unit=world.a1, poor_household=(n == 0))
        for n in range(4)
    ]


@pytest.fixture
def make_batch(world, tet):
    """make_batch(unit, members, state): the unit's batch listing ``members`` at the program's
    standard amounts, driven to draft, submitted, approved or paid."""

    def build(unit=None, members=None, state="draft", take_out=None, unpaid=None):
        unit = unit or world.a1
        builder = world.users["grassroots" if unit == world.a1 else "b1_officer"]
        participant = Participant.objects.get(program=tet, unit=unit)
        batch = services.start_batch(participant=participant, by=builder)
        if members is None:
            members = [world.member_a1 if unit == world.a1 else world.member_b1]
        pks = [m.pk for m in members]
        services.add_people(
            batch=batch,
            members=type(members[0]).objects.filter(pk__in=pks),
            by=builder,
        )
        if state == "draft":
            return batch
        batch = services.submit_batch(batch=batch, by=builder)
        commune = world.users["commune"] if unit == world.a1 else None
        if commune is not None:
            batch = services.endorse_batch(batch=batch, by=commune)
        else:
            world.users.setdefault("b_staff", make_user("b_staff", Role.STAFF, world.commune_b))
            batch = services.endorse_batch(batch=batch, by=world.users["b_staff"])
        if state == "submitted":
            return batch
        batch = services.approve_batch(
            batch=batch, by=world.users["province"], take_out=take_out or {}
        )
        if state == "approved":
            return batch
        return services.record_batch_payment(
            batch=batch,
            by=world.users["treasurer"],
            paid_on=datetime.date.today(),
            receipt_reference="PC-TET-01",
            unpaid=unpaid or {},
        )

    return build


def reload(batch: Batch) -> Batch:
    return Batch.objects.select_related("fund").get(pk=batch.pk)
