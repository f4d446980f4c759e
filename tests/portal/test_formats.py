from django.template import Context, Template
from django.utils import translation

COUNT = Template("{% load humanize %}{{ n|intcomma }} · {{ n }}")


def test_counts_are_grouped_by_thousands_the_vietnamese_way():
    with translation.override("vi"):
        assert COUNT.render(Context({"n": 100000})) == "100.000 · 100000"
        assert COUNT.render(Context({"n": 2040})) == "2.040 · 2040"
    with translation.override("en"):
        assert COUNT.render(Context({"n": 100000})) == "100,000 · 100000"
