from django.apps import AppConfig


class SeedConfig(AppConfig):
    """The demo province and the province- and city-scale data sets: generators that call the
    domain services, kept out of the domain apps (``manage.py seed_demo`` / ``seed_scale``)."""

    name = "seed"
    verbose_name = "Demo and scale data"
