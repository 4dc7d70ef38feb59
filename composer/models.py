"""Saved compositions with their revision history."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from composer.domain.model import Composition

# Autosave writes a revision per edit; older ones beyond this are pruned, in batches.
REVISIONS_KEPT = 200
PRUNE_EVERY = 50
# Field edits of the same fields this close together are one burst of typing: one revision, not one per change.
COALESCE_SECONDS = 90


DELETED_OWNER = "deleted-owner"


def deleted_owner():
    """Who owns the compositions of a deleted user: an inactive account that cannot log in, so they
    stay private (superusers still see them and can hand them on in the admin)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        **{user_model.USERNAME_FIELD: DELETED_OWNER}, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


class StaleRevision(Exception):
    """An edit made on a revision that is no longer the newest: someone (another tab, another person)
    saved since. Nothing was stored; the message says what to do."""

    def __init__(self, name: str, edited: int, current: int) -> None:
        self.name, self.edited, self.current = name, edited, current
        self.message = (f"'{name}' was changed elsewhere while you edited it: your edit was made on revision {edited}, "
                        f"the newest is revision {current}. Nothing was saved: reload to see the newest revision, "
                        "then make your edit again.")
        super().__init__(self.message)


class SavedComposition(models.Model):
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET(deleted_owner), null=True, blank=True,
        related_name="compositions",
    )
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
    def create(cls, composition: Composition, message: str = "created", owner=None) -> SavedComposition:
        with transaction.atomic():
            saved = cls.objects.create(name=composition.workload.name, data=composition.to_dict(), owner=owner)
            saved.revisions.create(number=1, data=saved.data, message=message)
        return saved

    def record(self, composition: Composition, message: str, based_on: int | None = None,
               coalesce: bool = False) -> Revision:
        """Stores a new state of the composition as the next revision, if the stored one is still the
        revision the edit was made on: ``based_on`` when the client says which one it showed, and in
        any case the one loaded here to compute the edit. Otherwise StaleRevision, and nothing changes:
        an edit made on an old revision would silently undo what was saved since.

        With ``coalesce`` (a field edit), an edit of the same fields as the newest revision's, soon after
        it and with no deploy of it in between, replaces that revision's content and takes the new number:
        typing in a field makes one revision, and undo goes back to before the burst."""
        loaded = self.revision
        if based_on is not None and based_on != loaded:
            raise StaleRevision(self.name, based_on, loaded)
        data, name, now = composition.to_dict(), composition.workload.name, timezone.now()
        burst = f"{message}|{','.join(changed_paths(self.data, data))}"[:200] if coalesce else ""
        with transaction.atomic():
            # A conditional UPDATE, not read-then-save: of two edits made on the same revision, in two
            # server processes at once, exactly one matches (the other waits for the row, then finds
            # the revision moved on), so neither is lost and no revision number is taken twice.
            saved = SavedComposition.objects.filter(pk=self.pk, revision=loaded).update(
                data=data, name=name, revision=loaded + 1, updated=now)
            if not saved:
                current = SavedComposition.objects.filter(pk=self.pk).values_list("revision", flat=True).first()
                if current is None:
                    raise SavedComposition.DoesNotExist(f"composition {self.pk} was deleted")
                raise StaleRevision(self.name, loaded, current)
            self.data, self.name, self.revision, self.updated = data, name, loaded + 1, now
            if burst and self._continues_burst(loaded, burst, now):
                self.revisions.filter(number=loaded).update(number=self.revision, data=data, created=now)
                revision = self.revisions.get(number=self.revision)
            else:
                revision = self.revisions.create(number=self.revision, data=data, message=message, burst=burst)
            if self.revision % PRUNE_EVERY == 0:
                self.revisions.filter(number__lte=self.revision - REVISIONS_KEPT).delete()
        return revision

    def _continues_burst(self, number: int, burst: str, now) -> bool:
        last = self.revisions.filter(number=number).values("burst", "created").first()
        if last is None or last["burst"] != burst or (now - last["created"]).total_seconds() > COALESCE_SECONDS:
            return False
        return number > 1 and not self.deploys.filter(revision=number).exists()

    def restore(self, number: int, based_on: int | None = None) -> Revision:
        revision = self.revisions.get(number=number)
        return self.record(Composition.from_dict(revision.data), f"restored revision {number}", based_on)

    def duplicate(self, owner=None) -> SavedComposition:
        copy = self.composition()
        return SavedComposition.create(copy, message=f"duplicated from '{self.name}' (#{self.pk})", owner=owner)


def changed_paths(old: Any, new: Any, path: str = "", depth: int = 4) -> list[str]:
    """Where two saved compositions differ, as paths (`app.image`, `helpers.0.params.log_dir`)."""
    if depth and isinstance(old, dict) and isinstance(new, dict):
        return [p for key in sorted(set(old) | set(new), key=str)
                for p in changed_paths(old.get(key), new.get(key), f"{path}.{key}" if path else str(key), depth - 1)]
    if depth and isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [p for index, (a, b) in enumerate(zip(old, new, strict=True))
                for p in changed_paths(a, b, f"{path}.{index}", depth - 1)]
    return [] if old == new else [path]


class Revision(models.Model):
    composition = models.ForeignKey(SavedComposition, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    data = models.JSONField()
    message = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)
    # For a field edit: its message and the fields it changed; the next edit of the same fields may join it.
    burst = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["composition", "number"], name="unique_revision_number")]

    def __str__(self) -> str:
        return f"{self.composition.name} r{self.number}"


class DeployRecord(models.Model):
    """One attempt to deploy, dry-run, diff or undeploy a composition, whatever its outcome."""

    class Action(models.TextChoices):
        DEPLOY = "deploy", "Deploy"
        DRY_RUN = "dry-run", "Dry run"
        DIFF = "diff", "Diff"
        UNDEPLOY = "undeploy", "Undeploy"

    # A result (one object of the deploy) that left the object in the cluster.
    APPLIED_OUTCOMES = ("created", "configured", "unchanged")

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

    @property
    def applied_nothing(self) -> bool:
        """A deploy that left nothing in the cluster: every object failed or was never sent."""
        return not any(result.get("outcome") in self.APPLIED_OUTCOMES for result in self.results or [])


class ApiToken(models.Model):
    """A token for scripts (Authorization: Bearer …). Only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to tell tokens apart.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"


class ContextPermission(models.Model):
    """What a group may do in the clusters whose context name matches a pattern (team mode)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="context_permissions")
    context_pattern = models.CharField(
        max_length=253, help_text="A context name, or a shell pattern such as 'staging-*' or '*'."
    )
    namespace_pattern = models.CharField(
        max_length=253, blank=True, default="",
        help_text="The namespaces this rule covers: a name or a shell pattern such as 'team-a-*'; empty means all.",
    )
    can_view = models.BooleanField(default=True, help_text="See the context and watch its Pods and logs.")
    can_dry_run = models.BooleanField(default=True, help_text="Dry runs and diffs.")
    can_deploy = models.BooleanField(default=False)
    can_undeploy = models.BooleanField(default=False, help_text="Also needed to delete and recreate a Pod.")
    can_create_namespace = models.BooleanField(
        default=False, help_text="Create a namespace (matching the namespace pattern) while deploying."
    )
    can_run_privileged = models.BooleanField(
        default=False,
        help_text="Deploy privileged containers, hostPID/hostNetwork/hostIPC, host ports, hostPath volumes and "
        "added capabilities beyond the baseline list.",
    )

    def __str__(self) -> str:
        rights = [n for n, on in (("view", self.can_view), ("dry-run", self.can_dry_run),
                                   ("deploy", self.can_deploy), ("undeploy", self.can_undeploy),
                                   ("create namespaces", self.can_create_namespace),
                                   ("privileged", self.can_run_privileged)) if on]
        where = f"{self.context_pattern}/{self.namespace_pattern or '*'}"
        return f"{self.group} on {where}: {', '.join(rights) or 'nothing'}"
