"""Building blocks other apps' models share."""

from __future__ import annotations

from typing import Any

from django.db import models


class TermManager(models.Manager[Any]):
    """Lets fixtures refer to terms by slug: loading them twice updates instead of duplicating."""

    def get_by_natural_key(self, slug: str) -> Any:
        return self.get(slug=slug)


class Term(models.Model):
    """A taxonomy entry (a concern, a modality, a language …) kept as data, edited in the admin.

    ``slug`` is the stable key used in URLs, fixtures and the API; ``name`` is what people read
    and may be reworded at any time.
    """

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(
        default=True, help_text="Inactive terms stay on profiles but are not offered as filters."
    )

    objects = TermManager()

    class Meta:
        abstract = True
        ordering = ("sort_order", "name")

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class Jurisdiction(models.Model):
    """A province, territory or state (ISO 3166-2). Rows come from a migration, not the admin:
    a foreign key to this table is how the database itself refuses a made-up jurisdiction."""

    code = models.CharField(max_length=6, primary_key=True)
    name = models.CharField(max_length=60)
    country_code = models.CharField(max_length=2)

    class Meta:
        ordering = ("country_code", "name")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(country_code__in=("CA", "US")),
                name="core_jurisdiction_served_country",
            ),
        ]

    def __str__(self) -> str:
        return self.name
