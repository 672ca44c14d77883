"""Review flags in the admin: a list organizers can work through, filtered and grouped by
state and place, dealt with one by one (with a note) or in bulk (a filtered selection only).
"""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from assistant.content.models import ReviewFlag
from assistant.content.review import review_flag_resolve
from assistant.places.models import Place

# Parameters that narrow the list; a bulk "dealt with" needs at least one.
NARROWING = ("state", "reason__exact", "age", "q")


class FlagOpenFilter(admin.SimpleListFilter):
    """Open flags unless the organizer asks for the others."""

    title = _("state of the flag")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("open")), ("no", _("dealt with")), ("all", _("all"))]

    def choices(self, changelist):
        value = self.value() or "yes"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "yes"
        if value == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if value == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class FlagPlaceStateFilter(admin.SimpleListFilter):
    title = _("U.S. state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            (p.pk, p.name)
            for p in Place.objects.filter(kind=Place.Kind.STATE).only("pk", "name").order_by("name")
        ]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(place__state_id=self.value()) | queryset.filter(
            place_id=self.value()
        )


class FlagAgeFilter(admin.SimpleListFilter):
    title = _("flagged")
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [
            ("week", _("in the last 7 days")),
            ("month", _("8 to 30 days ago")),
            ("older", _("more than 30 days ago")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        week, month = now - datetime.timedelta(days=7), now - datetime.timedelta(days=30)
        if self.value() == "week":
            return queryset.filter(created_at__gte=week)
        if self.value() == "month":
            return queryset.filter(created_at__lt=week, created_at__gte=month)
        if self.value() == "older":
            return queryset.filter(created_at__lt=month)
        return queryset


class DealtWithForm(ActionForm):
    note = forms.CharField(
        label=_("How it was dealt with"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"size": 40}),
    )


@admin.register(ReviewFlag)
class ReviewFlagAdmin(admin.ModelAdmin):
    list_display = ["state_name", "place", "reason", "changed_on", "flagged", "dealt_with"]
    list_display_links = ["place"]
    list_filter = [FlagOpenFilter, "reason", FlagPlaceStateFilter, FlagAgeFilter]
    search_fields = ["place__name", "detail"]
    list_select_related = ["place", "place__state", "resolved_by"]
    ordering = ["place__state__name", "place__name", "-created_at"]
    readonly_fields = [
        "place",
        "reason",
        "detail",
        "changed_on",
        "created_at",
        "resolved_at",
        "resolved_by",
        "resolution_note",
    ]
    fields = readonly_fields
    actions = ["resolve"]
    action_form = DealtWithForm
    list_per_page = 100
    change_form_template = "admin/assistant/reviewflag/change_form.html"
    change_list_template = "admin/assistant/reviewflag/change_list.html"

    @admin.display(description=_("U.S. state"), ordering="place__state__name")
    def state_name(self, obj):
        if obj.place is None:
            return "—"
        return obj.place.state.name if obj.place.state_id else obj.place.name

    @admin.display(description=_("flagged"), ordering="created_at")
    def flagged(self, obj):
        return _("%(time)s ago") % {"time": timesince(obj.created_at)}

    @admin.display(description=_("dealt with"), ordering="resolved_at")
    def dealt_with(self, obj):
        if obj.resolved_at is None:
            return _("open")
        return obj.resolution_note or _("yes")

    def has_add_permission(self, request):
        return False

    def view_on_site(self, obj):
        return obj.place.get_absolute_url() if obj.place_id else None

    def get_urls(self):
        return [
            path(
                "<int:flag_id>/dealt-with/",
                self.admin_site.admin_view(self.dealt_with_view),
                name="assistant_reviewflag_dealt_with",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        open_flags = ReviewFlag.objects.filter(resolved_at__isnull=True)
        by_state = (
            open_flags.exclude(place=None)
            .values("place__state_id", "place__state__name")
            .annotate(n=Count("pk"))
            .order_by("-n")
        )
        extra_context = {
            **(extra_context or {}),
            "open_total": open_flags.count(),
            "open_by_state": [
                (row["place__state__name"] or "—", row["place__state_id"], row["n"])
                for row in by_state
            ],
        }
        return super().changelist_view(request, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.resolved_at is None and self.has_change_permission(request, obj):
            context["dealt_with_url"] = reverse(
                "admin:assistant_reviewflag_dealt_with", args=[obj.pk]
            )
            context["is_answer_change"] = obj.reason == ReviewFlag.Reason.ANSWER_CHANGED
        if obj is not None and obj.place_id:
            context["place_url"] = reverse("admin:assistant_place_change", args=[obj.place_id])
            context["guides_url"] = (
                reverse("admin:assistant_guide_changelist") + f"?place__id__exact={obj.place_id}"
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def dealt_with_view(self, request, flag_id: int):
        """Close one flag from its page, with the organizer's short note."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        flag = get_object_or_404(ReviewFlag, pk=flag_id)
        if not self.has_change_permission(request, flag):
            raise PermissionDenied
        if "confirm" in request.POST:
            note = str(_("New answer confirmed against ICE's list."))
        else:
            note = request.POST.get("note", "").strip()
        if not note:
            self.message_user(
                request, _("Say in a few words how it was dealt with."), messages.ERROR
            )
            return HttpResponseRedirect(
                reverse("admin:assistant_reviewflag_change", args=[flag.pk])
            )
        review_flag_resolve(flag=flag, user=request.user, note=note)
        self.message_user(request, _("Marked as dealt with."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:assistant_reviewflag_changelist"))

    @admin.action(description=_("Mark the selected flags as dealt with"), permissions=["change"])
    def resolve(self, request, queryset):
        if not any(request.GET.get(name) for name in NARROWING):
            self.message_user(
                request,
                _(
                    "Filter the list first (by U.S. state, reason, age or a search): flags are "
                    "dealt with in bulk only for a filtered selection."
                ),
                messages.ERROR,
            )
            return
        note = request.POST.get("note", "").strip()
        if not note:
            self.message_user(
                request, _("Say in a few words how they were dealt with."), messages.ERROR
            )
            return
        closed = 0
        for flag in queryset.filter(resolved_at__isnull=True):
            review_flag_resolve(flag=flag, user=request.user, note=note)
            closed += 1
        self.message_user(
            request,
            _("%(count)d flags marked as dealt with.") % {"count": closed},
            messages.SUCCESS,
        )
