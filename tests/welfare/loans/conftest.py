import pytest

from .builders import build_loan


@pytest.fixture
def make_loan(world):
    def make(state: str = "current", **kw):
        return build_loan(world, state, **kw)

    return make
