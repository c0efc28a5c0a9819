"""Two small health models shaped like the real ones the product will have.

``PrivateNote`` has a random UUID key (as private objects do), a required encrypted body and an
``owner``; ``Reflection`` has an integer key, an optional encrypted answer with a length limit,
and its owner under another name (``author``), so the tests cover both shapes of key and owner.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from rapport.core.fields import EncryptedTextField


class PrivateNote(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=100, blank=True)
    body = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)

    # Spelled out because the type checker loads development settings, where this app is absent.
    objects: ClassVar[models.Manager[PrivateNote]] = models.Manager()

    class Meta:
        ordering = ("created_at",)

    def __str__(self) -> str:
        return f"Private note {self.pk}"


class Reflection(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    answer = EncryptedTextField(null=True, blank=True, max_length=200)

    objects: ClassVar[models.Manager[Reflection]] = models.Manager()

    def __str__(self) -> str:
        return f"Reflection {self.pk}"
