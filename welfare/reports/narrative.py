"""A short narrative in the confederations' own style, generated from the figures.

The leader may edit it before the final PDF; the edited text is kept on the report.
"""

from __future__ import annotations

import datetime

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from unions.models import UnitKind

from ..cases.models import SupportType
from .figures import AnnualFigures
from .words import number, short_dong

# Every kind of support the year holds, always in this order (the confederations' reports go
# from the visits and gifts most members receive to the larger, rarer support).
SPOKEN_ORDER = [
    SupportType.VISIT,
    SupportType.TET_GIFT,
    SupportType.GRANT,
    SupportType.SHELTER,
    SupportType.SAVINGS_BOOK,
    SupportType.SCHOLARSHIP,
    SupportType.OTHER,
]


def narrative(figures: AnnualFigures) -> str:
    with translation.override("vi"):
        return "\n\n".join(_paragraphs(figures))


def _paragraphs(figures: AnnualFigures) -> list[str]:
    totals, previous = figures.totals, figures.prev_totals
    union = figures.union.name
    # A grassroots union has no unions under it; a year in progress has no "end of the year".
    has_children = figures.union.kind != UnitKind.GRASSROOTS
    in_progress = figures.as_of < datetime.date(figures.year, 12, 31)
    opening = (
        _(
            "In %(year)s, %(union)s and the unions under it supported %(people)s union members "
            "and workers in difficult circumstances with %(turns)s support turns and a total of "
            "%(amount)s."
        )
        if has_children
        else _(
            "In %(year)s, %(union)s supported %(people)s union members and workers in difficult "
            "circumstances with %(turns)s support turns and a total of %(amount)s."
        )
    )
    paragraphs = [
        opening
        % {
            "year": figures.year,
            "union": union,
            "people": number(totals.people),
            "turns": number(totals.turns),
            "amount": short_dong(totals.amount),
        }
    ]
    if totals.people_without_membership:
        # Said beside the people counted, so the support and the member list never disagree
        # unspoken (people supported after leaving, or listed without a membership).
        paragraphs[0] += " " + ngettext(
            "Of them, %(count)s person was not in the member list of that year.",
            "Of them, %(count)s people were not in the member list of that year.",
            totals.people_without_membership,
        ) % {"count": number(totals.people_without_membership)}
    if previous.amount:
        change = totals.amount - previous.amount
        if in_progress:  # so far this year, against the whole of the year before
            key = (
                _("an increase of %(amount)s on the whole of %(year)s")
                if change >= 0
                else _("a decrease of %(amount)s on the whole of %(year)s")
            )
        else:
            key = (
                _("an increase of %(amount)s on %(year)s")
                if change >= 0
                else _("a decrease of %(amount)s on %(year)s")
            )
        paragraphs[0] += " " + _("This is %(change)s.") % {
            "change": key % {"amount": short_dong(abs(change)), "year": figures.year - 1}
        }
    by_type = {row.key: row for row in figures.by_type}
    parts = [
        _part(key, row)
        for key, row in ((key, by_type.get(key)) for key in SPOKEN_ORDER)
        if row is not None and row.cases
    ]
    if parts:
        paragraphs.append(_("Among them: %(parts)s.") % {"parts": "; ".join(parts)})
    paragraphs.extend(shelters(figures))
    funds = [
        _("%(fund)s, %(amount)s for %(people)s people")
        % {"fund": row.label, "amount": short_dong(row.amount), "people": number(row.people)}
        for row in figures.by_fund
        if row.amount and row.people
    ]
    if funds:
        paragraphs.append(_("By fund: %(funds)s.") % {"funds": "; ".join(funds)})
    paragraphs.extend(_organisations(figures))
    if has_children and figures.by_child:
        top = figures.by_child[0]
        if top.amount:
            paragraphs.append(
                _("The largest share went through %(unit)s: %(amount)s for %(cases)s cases.")
                % {"unit": top.label, "amount": short_dong(top.amount), "cases": number(top.cases)}
            )
    paragraphs.extend(_programs(figures))
    paragraphs.extend(_loans(figures, in_progress))
    paragraphs.extend(_contributions(figures))
    paragraphs.extend(_campaigns(figures))
    organisation = figures.organisation
    if organisation is None:
        return paragraphs
    if has_children and in_progress:
        text = _(
            "On %(date)s the union had %(members)s members and %(workers)s non-member workers "
            "in %(units)s grassroots unions; %(joined)s joined since the start of %(year)s."
        )
    elif has_children:
        text = _(
            "At the end of %(year)s the union had %(members)s members and %(workers)s "
            "non-member workers in %(units)s grassroots unions; %(joined)s joined in %(year)s."
        )
    elif in_progress:
        text = _(
            "On %(date)s the grassroots union had %(members)s members and %(workers)s "
            "non-member workers; %(joined)s joined since the start of %(year)s."
        )
    else:
        text = _(
            "At the end of %(year)s the grassroots union had %(members)s members and "
            "%(workers)s non-member workers; %(joined)s joined in %(year)s."
        )
    paragraphs.append(
        text
        % {
            "year": figures.year,
            "date": figures.as_of.strftime("%d/%m/%Y"),
            "members": number(organisation.members),
            "workers": number(organisation.workers),
            "units": number(organisation.grassroots_units),
            "joined": number(organisation.joined),
        }
    )
    return paragraphs


def shelters(figures: AnnualFigures) -> list[str]:
    """The shelters among the year's support, from their records: how many built and repaired
    and whose money paid for them (also printed under the report's table of shelters)."""
    if figures.shelters is None or not figures.shelters.now.count:
        return []
    now = figures.shelters.now
    text = _(
        "Union shelters: %(built)s built and %(repaired)s repaired, at an estimated cost of "
        "%(cost)s, of which the unions gave %(union)s and other contributors %(others)s."
    ) % {
        "built": number(now.built),
        "repaired": number(now.repaired),
        "cost": short_dong(now.cost),
        "union": short_dong(now.union),
        "others": short_dong(now.others),
    }
    before = figures.shelters.before
    if before.count:
        text += " " + _("In %(year)s: %(count)s shelters.") % {
            "year": figures.year - 1,
            "count": number(before.count),
        }
    return [text]


def _lowered(label: str) -> str:
    return label[:1].lower() + label[1:]


def _part(key: str, row) -> str:
    """One kind of support in the year's list: visits by their turns and people (many bring
    no money), a child's support by the children it went to, the rest by count and amount."""
    values = {
        "count": number(row.cases),
        "what": _lowered(str(SupportType(key).label)),
        "amount": short_dong(row.amount),
        "people": number(row.people),
        "children": number(row.children),
    }
    if key == SupportType.VISIT:
        if row.amount:
            return _("visits to %(people)s members and workers in %(count)s turns, %(amount)s") % (
                values
            )
        return _("visits to %(people)s members and workers in %(count)s turns") % values
    # Past records may not say which child: then only the children named are told.
    named = row.children and row.children < row.cases
    if key == SupportType.SAVINGS_BOOK and named:
        return _("%(count)s savings books, %(amount)s (%(children)s children named)") % values
    if key == SupportType.SAVINGS_BOOK and row.children:
        return _("%(count)s savings books for %(children)s children, %(amount)s") % values
    if key == SupportType.SCHOLARSHIP and named:
        return _("%(count)s scholarships, %(amount)s (%(children)s children named)") % values
    if key == SupportType.SCHOLARSHIP and row.children:
        return _("%(count)s scholarships for %(children)s children, %(amount)s") % values
    return _("%(count)s %(what)s worth %(amount)s") % values


def _organisations(figures: AnnualFigures) -> list[str]:
    """The support given to organisations and groups, which the people supported leave out;
    nothing when there was none in the year."""
    row = figures.organisations
    if row is None or not row.cases:
        return []
    return [
        ngettext(
            "Besides the people, the unions supported %(count)s organisation or group with "
            "%(amount)s in %(turns)s records.",
            "Besides the people, the unions supported %(count)s organisations and groups with "
            "%(amount)s in %(turns)s records.",
            row.people,
        )
        % {
            "count": number(row.people),
            "amount": short_dong(row.amount),
            "turns": number(row.cases),
        }
    ]


def _programs(figures: AnnualFigures) -> list[str]:
    """The programs paid in the year, the largest named; nothing when none was."""
    rows = [row for row in figures.programs if row.cases]
    if not rows:
        return []
    top = rows[0]
    text = (
        _(
            "Through %(count)s programs, %(turns)s support turns worth %(amount)s were paid; "
            "the largest, %(program)s, gave %(top_amount)s to %(top_people)s people."
        )
        if len(rows) > 1
        else _(
            "Through the program %(program)s, %(turns)s support turns worth %(amount)s were "
            "paid to %(top_people)s people."
        )
    )
    return [
        text
        % {
            "count": number(len(rows)),
            "turns": number(sum(row.cases for row in rows)),
            "amount": short_dong(sum(row.amount for row in rows)),
            "program": top.label,
            "top_amount": short_dong(top.amount),
            "top_people": number(top.people),
        }
    ]


def _loans(figures: AnnualFigures, in_progress: bool) -> list[str]:
    """What the loan fund lent and got back in the year, and what was outstanding and overdue
    at its end; nothing when no loan was out in either year."""
    loans = figures.loans
    if loans is None or not loans.any:
        return []
    now = loans.now
    values = {
        "year": figures.year,
        "date": figures.as_of.strftime("%d/%m/%Y"),
        "loans": number(now.disbursed_loans),
        "disbursed": short_dong(now.disbursed),
        "repaid": short_dong(now.principal_repaid),
        "borrowers": number(now.borrowers),
        "outstanding": short_dong(now.outstanding),
        "overdue": short_dong(now.overdue),
        "overdue_loans": number(now.overdue_loans),
    }
    lent = (
        _(
            "In %(year)s the fund for supporting poor workers lent %(disbursed)s in "
            "%(loans)s loans and was repaid %(repaid)s."
        )
        if now.disbursed_loans
        else _(
            "In %(year)s the fund for supporting poor workers made no new loan and was repaid "
            "%(repaid)s."
        )
    )
    if not now.outstanding:
        standing = (
            _("On %(date)s no loan was outstanding.")
            if in_progress
            else _("At the end of %(year)s no loan was outstanding.")
        )
    else:
        standing = (
            _("On %(date)s, %(outstanding)s was outstanding from %(borrowers)s borrowers")
            if in_progress
            else _(
                "At the end of %(year)s, %(outstanding)s was outstanding from %(borrowers)s "
                "borrowers"
            )
        )
        if now.overdue:
            standing += _(", of which %(overdue)s in %(overdue_loans)s overdue loans.")
        else:
            standing += _(", none of it overdue.")
    return [(lent + " " + standing) % values]


def _contributions(figures: AnnualFigures) -> list[str]:
    """The money contributed to the funds covered, as the ledgers record it, in the year and
    the year before; nothing when neither year has any."""
    rows = figures.contributions
    amount, count = sum(row.amount for row in rows), sum(row.cases for row in rows)
    prev_amount = sum(row.prev_amount for row in rows)
    if not amount and not prev_amount:
        return []
    if amount:
        text = _(
            "In %(year)s the funds received %(count)s contributions totalling %(amount)s, "
            "as recorded in their ledgers (%(prev_amount)s in %(prev_year)s)."
        )
    else:
        text = _(
            "No contribution was recorded in the funds' ledgers in %(year)s "
            "(%(prev_amount)s in %(prev_year)s)."
        )
    return [
        text
        % {
            "year": figures.year,
            "prev_year": figures.year - 1,
            "count": number(count),
            "amount": short_dong(amount),
            "prev_amount": short_dong(prev_amount),
        }
    ]


def _campaigns(figures: AnnualFigures) -> list[str]:
    """The campaign that raised the most in the year and how many raised money; nothing
    when no campaign raised money in the year."""
    rows = [row for row in figures.campaigns if row.amount > 0]
    if not rows:
        return []
    top = rows[0]
    amount = sum(row.amount for row in rows)
    text = ngettext(
        "Of this, %(amount)s was raised by %(count)s campaign: %(top)s (%(top_amount)s).",
        "Of this, %(amount)s was raised by %(count)s campaigns, the most by %(top)s "
        "(%(top_amount)s).",
        len(rows),
    )
    return [
        text
        % {
            "amount": short_dong(amount),
            "count": number(len(rows)),
            "top": top.label,
            "top_amount": short_dong(top.amount),
        }
    ]
