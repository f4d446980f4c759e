from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WelfareConfig(AppConfig):
    name = "welfare"
    verbose_name = _("Welfare")

    def ready(self) -> None:
        from members.signals import memberships_changed
        from unions.signals import tree_changed

        from .reports import unlisted
        from .reports.tallies import recount_after_reorganisation

        tree_changed.connect(recount_after_reorganisation, dispatch_uid="welfare_tree_changed")
        memberships_changed.connect(
            unlisted.memberships_changed, dispatch_uid="welfare_memberships_changed"
        )
        post_migrate.connect(count_missing_tallies, sender=self, dispatch_uid="welfare_tallies")


def count_missing_tallies(**kwargs) -> None:
    """A database migrated to the tallies holds paid records and no tallies yet: count them
    once, so that the dashboard and the report never read zeros (``rebuild_tallies`` does the
    same by hand).  Once any tally exists this is one query."""
    from .cases.models import Case, CaseStatus
    from .funds.models import EntryKind, LedgerEntry, RaisedYear
    from .reports import tallies
    from .reports.models import SupportTally

    using = kwargs.get("using", "default")
    if using != "default":
        return
    if not SupportTally.objects.exists() and Case.objects.filter(status=CaseStatus.PAID).exists():
        tallies.rebuild()
    from .loans import tallies as loan_tallies
    from .loans.models import DISBURSED, Loan, LoanYear

    if not LoanYear.objects.exists() and Loan.objects.filter(status__in=DISBURSED).exists():
        loan_tallies.rebuild()
    from members.counters import rebuild_membership_years
    from members.models import Membership, MembershipYearCounted

    if not MembershipYearCounted.objects.exists() and Membership.objects.exists():
        rebuild_membership_years()
    contributions = LedgerEntry.objects.filter(kind=EntryKind.CONTRIBUTION)
    if not RaisedYear.objects.exists() and contributions.exists():
        tallies.rebuild_raised()
