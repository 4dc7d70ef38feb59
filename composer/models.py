"""Saved compositions with their revision history."""

from __future__ import annotations

from django.db import models, transaction
from django.urls import reverse

from composer.domain.model import Composition

# Autosave writes a revision per edit; older ones beyond this are pruned, in batches.
REVISIONS_KEPT = 200
PRUNE_EVERY = 50


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
            if self.revision % PRUNE_EVERY == 0:
                self.revisions.filter(number__lte=self.revision - REVISIONS_KEPT).delete()
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


class DeployRecord(models.Model):
    """One attempt to deploy, dry-run or undeploy a composition, whatever its outcome."""

    class Action(models.TextChoices):
        DEPLOY = "deploy", "Deploy"
        DRY_RUN = "dry-run", "Dry run"
        UNDEPLOY = "undeploy", "Undeploy"

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        PARTIAL = "partial", "Partly applied"

    composition = models.ForeignKey(
        SavedComposition, on_delete=models.SET_NULL, null=True, blank=True, related_name="deploys"
    )
    composition_name = models.CharField(max_length=200)
    revision = models.PositiveIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    context = models.CharField(max_length=253)
    namespace = models.CharField(max_length=63)
    user = models.CharField(max_length=150)
    # Exactly what was sent (or, for an undeploy, what was deleted).
    manifest_yaml = models.TextField()
    force = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    message = models.TextField(blank=True)
    error_kind = models.CharField(max_length=20, blank=True)
    results = models.JSONField(default=list)
    # The deploy an undeploy removed.
    undeploy_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.composition_name} r{self.revision} to {self.context}/{self.namespace}"

    def get_absolute_url(self) -> str:
        return reverse("composer:deployment", args=[self.pk])

    @property
    def succeeded(self) -> bool:
        return self.outcome == self.Outcome.SUCCEEDED
