from .scope import Capability, grants, has_capability


def scope(request):
    """The reader's roles and what menus to offer them (access itself is checked in queries)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "my_grants": grants(user),
        "can_manage_tree": has_capability(user, Capability.MANAGE_TREE),
        "can_manage_users": has_capability(user, Capability.MANAGE_USERS),
        "can_edit_members": has_capability(user, Capability.EDIT_MEMBERS),
    }
