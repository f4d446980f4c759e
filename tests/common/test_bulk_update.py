"""``common.bulk.update_each``: each object's own values saved in one statement."""

import datetime

import pytest

from common.bulk import update_each
from unions.models import Unit, UnitKind
from welfare.models import Fund, FundKind

pytestmark = pytest.mark.django_db


def test_each_object_keeps_its_own_values_in_one_statement(world, django_assert_num_queries):
    funds = [
        Fund.objects.create(unit=world.province, name=f"Quỹ {n}", kind=FundKind.SOCIAL)
        for n in range(3)
    ]
    others = Fund.objects.create(unit=world.province, name="Quỹ khác", kind=FundKind.SOCIAL)
    for n, fund in enumerate(funds):
        fund.name = f"Quỹ đổi tên {n}"
        fund.is_active = n != 1  # a boolean, a text and a foreign key (to none)
        fund.unit = world.commune_a if n == 2 else world.province
    with django_assert_num_queries(1):
        assert update_each(funds, ["name", "is_active", "unit"]) == 3
    saved = {
        f.pk: (f.name, f.is_active, f.unit_id)
        for f in Fund.objects.filter(pk__in=[f.pk for f in funds])
    }
    assert saved == {
        funds[0].pk: ("Quỹ đổi tên 0", True, world.province.pk),
        funds[1].pk: ("Quỹ đổi tên 1", False, world.province.pk),
        funds[2].pk: ("Quỹ đổi tên 2", True, world.commune_a.pk),
    }
    others.refresh_from_db()
    assert others.name == "Quỹ khác"  # only the objects given
    assert update_each([], ["name"]) == 0


def test_an_object_assigned_before_it_was_saved_is_saved_by_its_key(world):
    fund = Fund.objects.create(unit=world.province, name="Quỹ", kind=FundKind.SOCIAL)
    unit = Unit(
        name="CĐCS mới",
        code="NEW",
        kind=UnitKind.GRASSROOTS,
        parent=world.province,
        founded_on=datetime.date(2020, 1, 1),
    )
    fund.unit = unit  # assigned unsaved, saved after, as a batch's ledger entry is
    unit.save()
    update_each([fund], ["unit"])
    assert Fund.objects.get(pk=fund.pk).unit_id == unit.pk
