from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.forms import apply_service_errors
from common.http import AuthenticatedHttpRequest
from common.text import normalise

from . import accounts, second_factor, tree
from .forms import (
    DissolveUnitForm,
    MergeUnitForm,
    MoveUnitForm,
    NewUnitForm,
    NewUserForm,
    RoleAssignmentForm,
    TemporaryPasswordForm,
    UnitForm,
    UserForm,
)
from .history import recent_changes
from .middleware import SESSION_KEY, forget_password_change
from .models import RoleAssignment, Unit, UnitEvent, UnitKind
from .scope import Capability, can, can_anywhere, get_unit_for_user
from .widgets import unit_label


def _require(user, capability: Capability) -> None:
    if not can_anywhere(user, capability):
        raise PermissionDenied


def _tree_date(request: HttpRequest) -> tuple[datetime.date | None, str]:
    """The date of ``?on=`` (None for today's tree) and the text when it is not a date."""
    on_text = request.GET.get("on", "")
    try:
        on = parse_date(on_text) if on_text else None
    except ValueError:
        on = None
    return on, (on_text if on_text and on is None else "")


def _children_query(on: datetime.date | None, show_closed: bool) -> str:
    """The query that makes a node's units load as the page shows the tree."""
    if on is not None:
        return f"?{urlencode({'on': on.isoformat()})}"
    return "?closed=1" if show_closed else ""


def unit_tree(request: HttpRequest) -> HttpResponse:
    """The tree down to the units right under the reader's roots; deeper levels load on
    demand from ``unit_children``, so the page does not grow with the grassroots level."""
    on, bad_date = _tree_date(request)
    if bad_date:
        messages.error(request, _("The date %(date)s is not valid.") % {"date": bad_date})
    show_closed = request.GET.get("closed") == "1" or on is not None
    roots = tree.tree_top(request.user, on, show_closed=show_closed)
    return render(
        request,
        "unions/tree.html",
        {
            "nodes": roots,
            "query": _children_query(on, show_closed),
            "on": on,
            "show_closed": show_closed,
            "examples": [datetime.date(2021, 12, 31), datetime.date(2025, 6, 30)],
        },
    )


def unit_children(request: HttpRequest, pk: int) -> HttpResponse:
    """The rows of the units right under one unit of the tree page, a batch at a time
    (``?from=``), as that page asks."""
    unit = get_unit_for_user(request.user, pk)
    on, _bad_date = _tree_date(request)
    show_closed = request.GET.get("closed") == "1" or on is not None
    try:
        start = max(int(request.GET.get("from", 0)), 0)
    except ValueError:
        start = 0
    nodes, more_from = tree.tree_children(
        request.user, unit, on, show_closed=show_closed, start=start
    )
    return render(
        request,
        "unions/tree_children.html",
        {
            "nodes": nodes,
            "unit": unit,
            "more_from": more_from,
            "first_batch": start == 0,
            "query": _children_query(on, show_closed),
        },
    )


# At most this many answers to a typed search of a filter (includes/search_choice.html).
SEARCH_CHOICES = 20


def unit_search(request: HttpRequest) -> JsonResponse:
    """Units in the user's scope whose name contains ``q`` with or without diacritics, for
    the lists' unit filters and the forms' unit fields (unions.widgets.UnitSearchSelect):
    ``{"results": [{"id": 1, "label": "…"}]}``, at most 20, the levels nearest the top first.
    ``for`` narrows them to the units where the user holds a capability, ``kind`` to one kind
    of unit, ``active=1`` to the units not closed."""
    text = normalise(request.GET.get("q", ""))
    try:
        capability = Capability(request.GET["for"]) if request.GET.get("for") else None
    except ValueError:
        capability = None
    rows: Iterable[tuple[int, str, str | None]] = ()
    if text:
        units = Unit.objects.visible_to(request.user, capability).filter(search_name__contains=text)
        if request.GET.get("kind") in UnitKind.values:
            units = units.filter(kind=request.GET["kind"])
        if request.GET.get("active") == "1":
            units = units.active()
        rows = units.order_by("depth", "search_name", "pk").values_list(
            "pk", "name", "parent__name"
        )[:SEARCH_CHOICES]
    return JsonResponse(
        {"results": [{"id": pk, "label": unit_label(name, parent)} for pk, name, parent in rows]}
    )


def unit_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require(request.user, Capability.MANAGE_TREE)
    initial = {"parent": request.GET.get("parent")} if request.GET.get("parent") else {}
    form = NewUnitForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            unit = tree.create_unit(by=request.user, **data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Unit %(unit)s was created.") % {"unit": unit.name})
            return redirect("units:detail", pk=unit.pk)
    return render(request, "unions/unit_form.html", {"form": form, "title": _("New unit")})


def unit_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    unit = get_unit_for_user(request.user, pk, capability=Capability.MANAGE_TREE)
    form = UnitForm(request.POST or None, instance=unit)
    if request.method == "POST" and form.is_valid():
        tree.update_unit(unit=form.save(commit=False), by=request.user)
        messages.success(request, _("The unit was saved."))
        return redirect("units:detail", pk=unit.pk)
    return render(
        request,
        "unions/unit_form.html",
        {"form": form, "unit": unit, "title": _("Edit %(unit)s") % {"unit": unit.name}},
    )


def _reorganise(request, pk, form_class, action, title, success, **form_kwargs):
    unit = get_unit_for_user(request.user, pk, capability=Capability.MANAGE_TREE)
    kwargs = {"user": request.user, "unit": unit} if form_kwargs.get("with_target") else {}
    form = form_class(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            action(unit=unit, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, success % {"unit": unit.name})
            return redirect("units:detail", pk=unit.pk)
    return render(
        request,
        "unions/reorganise.html",
        {"form": form, "unit": unit, "title": title % {"unit": unit.name}},
    )


def unit_move(request: HttpRequest, pk: int) -> HttpResponse:
    return _reorganise(
        request,
        pk,
        MoveUnitForm,
        tree.move_unit,
        _("Move %(unit)s"),
        _("%(unit)s was moved with all its units."),
        with_target=True,
    )


def unit_merge(request: HttpRequest, pk: int) -> HttpResponse:
    return _reorganise(
        request,
        pk,
        MergeUnitForm,
        tree.merge_unit,
        _("Merge %(unit)s into another unit"),
        _("%(unit)s was merged."),
        with_target=True,
    )


def unit_dissolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _reorganise(
        request,
        pk,
        DissolveUnitForm,
        tree.dissolve_unit,
        _("Dissolve %(unit)s"),
        _("%(unit)s was dissolved. It stays in the history of the tree."),
    )


def user_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, Capability.MANAGE_USERS)
    query = request.GET.get("q", "").strip()
    users = accounts.users_visible_to(request.user).order_by("username")
    if query:
        users = users.filter(username__icontains=query) | users.filter(last_name__icontains=query)
    page = Paginator(users, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    assignments = RoleAssignment.objects.visible_to(request.user).select_related("unit")
    users_on_page = (
        accounts.users_visible_to(request.user)
        .filter(pk__in=[user.pk for user in page.object_list])
        .prefetch_related(Prefetch("role_assignments", queryset=assignments))
        .order_by("username")
    )
    return render(
        request, "unions/user_list.html", {"page": page, "users": users_on_page, "q": query}
    )


def user_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require(request.user, Capability.MANAGE_USERS)
    form = NewUserForm(request.POST or None, manager=request.user)
    if request.method == "POST" and form.is_valid():
        user = accounts.create_user_with_role(
            form=form,
            unit=form.cleaned_data["unit"],
            role=form.cleaned_data["role"],
            by=request.user,
        )
        messages.success(request, _("Account %(user)s was created.") % {"user": user.username})
        return redirect("accounts:user", pk=user.pk)
    return render(request, "unions/user_form.html", {"form": form, "title": _("New account")})


def user_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Capability.MANAGE_USERS)
    account = accounts.get_user_for_manager(request.user, pk)
    form = UserForm(request.POST or None, instance=account, prefix="user")
    role_form = RoleAssignmentForm(user=request.user, prefix="role")
    if request.method == "POST" and form.is_valid():
        accounts.update_account(form=form, by=request.user)
        messages.success(request, _("The account was saved."))
        return redirect("accounts:user", pk=account.pk)
    assignments = (
        RoleAssignment.objects.visible_to(request.user, Capability.MANAGE_USERS)
        .filter(user=account)
        .select_related("unit")
    )
    return render(
        request,
        "unions/user_detail.html",
        {
            "account": account,
            "form": form,
            "role_form": role_form,
            "assignments": assignments,
            "locked_out": accounts.is_locked_out(account),
            "second_factor_app": second_factor.authenticator(account),
            "second_factor_needed": second_factor.needs_second_factor(account),
        },
    )


def user_password(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """An administrator sets a temporary password on an account in their scope, for one who
    forgot theirs and has no e-mail; its owner must change it at the next login."""
    _require(request.user, Capability.MANAGE_USERS)
    account = accounts.get_user_for_manager(request.user, pk)
    form = TemporaryPasswordForm(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.set_temporary_password(
            user=account, password=form.cleaned_data["new_password1"], by=request.user
        )
        messages.success(
            request,
            _("A temporary password was set. %(user)s must change it at the next login.")
            % {"user": account.username},
        )
        return redirect("accounts:user", pk=account.pk)
    return render(request, "unions/user_password.html", {"account": account, "form": form})


@require_POST
def user_unlock(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """An administrator lifts the lockout left by repeated failed logins to an account."""
    _require(request.user, Capability.MANAGE_USERS)
    account = accounts.get_user_for_manager(request.user, pk)
    accounts.unlock_account(user=account, by=request.user)
    messages.success(request, _("%(user)s can log in again.") % {"user": account.get_username()})
    return redirect("accounts:user", pk=account.pk)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's change-password page; a password of one's own lifts the forced change."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["forced"] = bool(self.request.session.get(SESSION_KEY))
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        accounts.password_changed(form.user)
        forget_password_change(self.request)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link of the reset e-mail: the password chosen there is the owner's own too."""

    def form_valid(self, form):
        response = super().form_valid(form)
        accounts.password_changed(form.user)
        return response


@require_POST
def role_grant(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Capability.MANAGE_USERS)
    account = accounts.get_user_for_manager(request.user, pk)
    role_form = RoleAssignmentForm(request.POST, user=request.user, prefix="role")
    role_form.instance.user = account
    if role_form.is_valid():
        try:
            accounts.grant_role(
                user=account,
                unit=role_form.cleaned_data["unit"],
                role=role_form.cleaned_data["role"],
                by=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The role was granted."))
    else:
        messages.error(
            request, " ".join(str(e) for errors in role_form.errors.values() for e in errors)
        )
    return redirect("accounts:user", pk=account.pk)


@require_POST
def role_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require(request.user, Capability.MANAGE_USERS)
    assignment = accounts.get_assignment_for_manager(request.user, pk)
    try:
        accounts.revoke_role(assignment=assignment, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The role was removed."))
    return redirect("accounts:user", pk=assignment.user_id)


def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A unit's page: its place in the tree, officers, child units, members and history (the
    member figures come from the members app's ``unit_members`` tags)."""
    unit = get_unit_for_user(request.user, pk)
    subtree = Unit.objects.in_subtree_of(unit)
    visible_ancestors = unit.ancestors().filter(pk__in=Unit.objects.visible_to(request.user))
    return render(
        request,
        "unions/unit_detail.html",
        {
            "unit": unit,
            "ancestors": visible_ancestors,
            "children": unit.children.order_by("status", "kind", "name"),
            "officers": RoleAssignment.objects.filter(unit=unit).select_related("user"),
            "subtree_units": subtree.active().count() - 1,
            "events": UnitEvent.objects.filter(unit=unit).select_related(
                "old_parent", "new_parent", "other_unit", "by"
            ),
            "changes": recent_changes(unit.history),
            "can_manage": can(request.user, Capability.MANAGE_TREE, unit),
        },
    )
