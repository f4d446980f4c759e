"""A decision on a case locks the case and its fund, and not the case's union: every row that
refers to the union (a new case, an event, a notice) checks its foreign key with a KEY SHARE
lock, which a union locked FOR UPDATE blocks; under load a payment and a case opened at the
same union deadlocked that way (bench/load.py found it)."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import OperationalError, connection, transaction

from unions.models import Unit
from welfare.cases import approvals
from welfare.models import Fund

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def try_lock(model, pk: int, mode: str) -> bool:
    """Whether this connection gets ``mode`` on the row at once (NOWAIT)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {model._meta.db_table} WHERE id = %s FOR {mode} NOWAIT", [pk]
            )
    except OperationalError:  # lock not available
        return False
    return True


def test_a_payment_in_progress_locks_its_fund_but_not_the_cases_union(world, make_case):
    case = make_case("approved")
    paid, finish = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def pay() -> None:
        try:
            with transaction.atomic():
                approvals.record_payment(
                    case=case,
                    by=world.users["treasurer"],
                    paid_on=datetime.date.today(),
                    method="cash",
                    receipt_reference="PC-LOCK",
                    received_by=case.member.full_name,
                )
                paid.set()
                finish.wait(60)  # the payment's transaction stays open meanwhile
        except BaseException as error:
            errors.append(error)
            paid.set()
        finally:
            connection.close()

    payer = threading.Thread(target=pay)
    payer.start()
    try:
        assert paid.wait(60) and not errors, errors
        # A foreign-key check on the case's union (and on the member's) gets its lock...
        assert try_lock(Unit, case.unit_id, "KEY SHARE")
        # ...while the money stays locked until the payment commits.
        assert not try_lock(Fund, case.fund_id, "UPDATE")
    finally:
        finish.set()
        payer.join()
    case.refresh_from_db()
    assert case.status == "paid"
