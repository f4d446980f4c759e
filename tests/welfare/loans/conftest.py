import pytest

from .builders import build_loan


@pytest.fixture
def make_loan(world):
    def make(state: str = "current", **kw):
        return build_loan(world, state, **kw)

    return make


@pytest.fixture(autouse=True)
def lending_tallies_match_the_loans(request):
    """After every test of the loans, whatever it wrote: the yearly tallies of lending and
    each loan's overdue date are what the loans' records say."""
    yield
    if "django_db" not in request.keywords and "db" not in request.fixturenames:
        return
    from welfare.loans import tallies

    assert tallies.differences() == {}
    assert tallies.late_differences() == {}
