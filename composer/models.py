"""Saved compositions with their revision history."""

from __future__ import annotations

from django.db import models, transaction
from django.urls import reverse

from composer.domain.model import Composition

# Autosave writes a revision per edit; older ones beyond this are pruned.
REVISIONS_KEPT = 200


class SavedComposition(models.Model):
    name = models.CharField(max_length=200)
    data = models.JSONField()
    revision = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("composer:composition", args=[self.pk])

    def composition(self) -> Composition:
        return Composition.from_dict(self.data)

    @classmethod
    def create(cls, composition: Composition, message: str = "created") -> SavedComposition:
        with transaction.atomic():
            saved = cls.objects.create(name=composition.workload.name, data=composition.to_dict())
            saved.revisions.create(number=1, data=saved.data, message=message)
        return saved

    def record(self, composition: Composition, message: str) -> Revision:
        """Stores a new state of the composition as the next revision."""
        with transaction.atomic():
            self.data = composition.to_dict()
            self.name = composition.workload.name
            self.revision += 1
            self.save()
            revision = self.revisions.create(number=self.revision, data=self.data, message=message)
            stale = self.revisions.order_by("-number").values_list("pk", flat=True)[REVISIONS_KEPT:]
            Revision.objects.filter(pk__in=list(stale)).delete()
        return revision

    def restore(self, number: int) -> Revision:
        revision = self.revisions.get(number=number)
        return self.record(Composition.from_dict(revision.data), f"restored revision {number}")

    def duplicate(self) -> SavedComposition:
        copy = self.composition()
        return SavedComposition.create(copy, message=f"duplicated from '{self.name}' (#{self.pk})")


class Revision(models.Model):
    composition = models.ForeignKey(SavedComposition, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    data = models.JSONField()
    message = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["composition", "number"], name="unique_revision_number")]

    def __str__(self) -> str:
        return f"{self.composition.name} r{self.number}"
