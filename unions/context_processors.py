from django.conf import settings

from .scope import Capability, can_anywhere, grants
from .second_factor import is_verified, needs_second_factor


def scope(request):
    """The reader's roles and what menus to offer them (access itself is checked in queries)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "my_grants": grants(user),
        "can_manage_tree": can_anywhere(user, Capability.MANAGE_TREE),
        "can_manage_users": can_anywhere(user, Capability.MANAGE_USERS),
        "can_edit_members": can_anywhere(user, Capability.EDIT_MEMBERS),
        # Until the code is given the menu offers nothing: every page leads to the code page.
        "second_factor_pending": settings.PORTAL_SECOND_FACTOR
        and not is_verified(user)
        and needs_second_factor(user),
    }
