"""The organizers' admin: places, agencies and agreements to look up; content to vet.

Every workflow step is an admin action that calls ``assistant.content.services``; each
refusal is shown as an error message and changes nothing.
"""

import datetime
from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin
from modeltranslation.utils import build_localized_fieldname
from simple_history.admin import SimpleHistoryAdmin

from assistant.content import services as content_services
from assistant.content.admin_history import ReadableHistoryMixin, version_changes
from assistant.content.models import (
    Guide,
    HelpOrganization,
    PolicyNote,
    Source,
    TranslationRecord,
    TranslationState,
    TranslatorLanguage,
    VettedContent,
)
from assistant.content.selectors import translation_states
from assistant.places.models import Agency, Agreement, Place
from assistant.places.selectors import place_answer

admin.site.index_template = "admin/organizer_index.html"


# --- places, agencies, agreements ----------------------------------------------------------


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"
    place_path = "place"

    def lookups(self, request, model_admin):
        return [
            (p.pk, p.name) for p in Place.objects.filter(kind=Place.Kind.STATE).only("pk", "name")
        ]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        path = self.place_path
        return queryset.filter(
            Q(**{f"{path}__state_id": self.value()}) | Q(**{f"{path}_id": self.value()})
        )


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "state", "county", "fips"]
    list_filter = ["kind", ("state", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "fips", "abbreviation", "state__name", "state__abbreviation"]
    list_select_related = ["state", "county"]
    autocomplete_fields = ["state", "county"]
    readonly_fields = ["computed_answer"]

    @admin.display(description=_("287(g) answer (computed from the agreements)"))
    def computed_answer(self, obj):
        if not obj.pk:
            return "—"
        answer = place_answer(place=obj)
        if not answer.has_agreement:
            return _("No active 287(g) agreement covers this place.")
        return ", ".join(f"{f.agency_name}: {f.model_label}" for f in answer.active)


@admin.register(Agency)
class AgencyAdmin(ReadableHistoryMixin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "state", "place", "ice_name", "match_problem"]
    list_filter = ["kind", ("state", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "ice_name", "place__name"]
    autocomplete_fields = ["state", "place"]
    list_select_related = ["state", "place"]

    def view_on_site(self, obj):
        place = obj.place or obj.state
        return place.get_absolute_url() if place else None


class AgreementStateFilter(StateFilter):
    place_path = "agency__place"


@admin.register(Agreement)
class AgreementAdmin(ReadableHistoryMixin, SimpleHistoryAdmin):
    """Read-mostly: the import of ICE's lists owns agreements."""

    list_display = [
        "agency",
        "enforcement_model",
        "status",
        "signed_on",
        "first_seen_on",
        "last_seen_on",
        "changed_on",
    ]
    list_filter = ["status", "enforcement_model", AgreementStateFilter, "changed_on"]
    search_fields = ["agency__name", "agency__ice_name"]
    list_select_related = ["agency"]
    date_hierarchy = "changed_on"

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return []
        return [f.name for f in Agreement._meta.concrete_fields]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# --- vetted content -------------------------------------------------------------------------


class ReviewDueFilter(admin.SimpleListFilter):
    title = _("review due")
    parameter_name = "review_due"

    def lookups(self, request, model_admin):
        return [("overdue", _("overdue")), ("soon", _("due within 30 days"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(review_due_on__lt=today)
        if self.value() == "soon":
            return queryset.filter(review_due_on__lte=today + datetime.timedelta(days=30))
        return queryset


class TranslationStateFilter(admin.SimpleListFilter):
    title = _("translation")
    parameter_name = "translation"

    def lookups(self, request, model_admin):
        return [
            (TranslationState.STALE, _("some translation is stale")),
            (TranslationState.MISSING, _("some translation is missing")),
            (TranslationState.UNREVIEWED, _("some translation is not reviewed")),
        ]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        ids = [obj.pk for obj in queryset if self.value() in translation_states(obj).values()]
        return queryset.filter(pk__in=ids)


def agreements_changed_since_verified():
    """Return a condition: an agreement covering the guide's place changed after verification."""
    covering = Agreement.objects.filter(
        Q(agency__place=OuterRef("place"))
        | Q(agency__place=OuterRef("place__state"))
        | Q(agency__place=OuterRef("place__county"))
        | Q(agency__place__county=OuterRef("place")),
        changed_on__isnull=False,
    ).filter(Q(changed_on__gt=OuterRef("last_verified_on")))
    return Exists(covering)


class AgreementsChangedFilter(admin.SimpleListFilter):
    title = _("agreements")
    parameter_name = "agreements_changed"

    def lookups(self, request, model_admin):
        return [("yes", _("changed since last verified"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(
                Q(agreements_changed_since_verified()) | Q(last_verified_on__isnull=True)
            )
        return queryset


class SourceInline(admin.TabularInline):
    model = Source
    extra = 1
    fields = ["section", "url", "title", "accessed_on"]

    def _editable(self, request, obj):
        if obj is None:
            return True
        return obj.status == VettedContent.Status.DRAFT and (
            request.user.is_superuser
            or request.user.has_perm(f"assistant.add_{obj._meta.model_name}")
        )

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj)


class GuideSourceInline(SourceInline):
    fk_name = "guide"
    exclude = ["policy_note", "help_organization"]


class NoteSourceInline(SourceInline):
    fk_name = "policy_note"
    exclude = ["guide", "help_organization"]
    fields = ["url", "title", "accessed_on"]


class OrganizationSourceInline(SourceInline):
    fk_name = "help_organization"
    exclude = ["guide", "policy_note"]
    fields = ["url", "title", "accessed_on"]


class VettedContentAdmin(ReadableHistoryMixin, SimpleHistoryAdmin, TranslationAdmin):
    """Shared admin for content that goes draft → in review → published."""

    actions = [
        "submit_for_review",
        "publish",
        "send_back",
        "start_new_draft",
        "approve_my_translations",
    ]
    workflow_readonly = [
        "status",
        "replaces",
        "created_by",
        "last_edited_by",
        "submitted_at",
        "published_at",
        "published_by",
        "translation_summary",
        "changes_from_published",
    ]

    def _hidden_columns(self, request) -> set[str]:
        """Translated columns of languages this organizer does not work in."""
        working = set(content_services.working_languages(request.user))
        return {
            build_localized_fieldname(field, code)
            for field in self.model.TEXT_FIELDS
            for code in settings.MODELTRANSLATION_LANGUAGES
            if code not in working
        }

    def get_exclude(self, request, obj=None):
        return [*(super().get_exclude(request, obj) or ()), *sorted(self._hidden_columns(request))]

    def get_fieldsets(self, request, obj=None):
        hidden = self._hidden_columns(request)
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in super().get_fieldsets(request, obj)
        ]

    # Each user sees the fields they may not change as read-only text.
    def get_readonly_fields(self, request, obj=None):
        model = self.model
        probe = obj if obj is not None else model()
        allowed = content_services.editable_fields(user=request.user, obj=probe)
        names = [
            f.name
            for f in model._meta.get_fields()
            if ((getattr(f, "editable", False) and f.concrete) or f.many_to_many)
            and not f.auto_created
            and f.name not in model.TEXT_FIELDS
            and f.name not in content_services.WORKFLOW_FIELDS
        ]
        hidden = self._hidden_columns(request)
        return [
            *self.workflow_readonly,
            *(n for n in names if n not in allowed and n not in hidden),
        ]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != VettedContent.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status in (
            VettedContent.Status.PUBLISHED,
            VettedContent.Status.RETIRED,
        ):
            return False
        return request.user.is_superuser

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        user = request.user

        class CheckedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                target = self.instance
                try:
                    content_services.content_check_edit(
                        user=user, obj=target, changed=set(self.changed_data)
                    )
                except content_services.ContentRefused as refusal:
                    raise forms.ValidationError(refusal.message) from None
                return cleaned

        return CheckedForm

    def save_model(self, request, obj, form, change):
        content_services.content_save(obj=obj, user=request.user)

    @admin.display(description=_("translations"))
    def translation_summary(self, obj):
        if not obj.pk:
            return "—"
        states = translation_states(obj)
        names = dict(settings.LANGUAGES)
        return format_html_join(
            "",
            "<div>{}: {}</div>",
            ((names[code], TranslationState(state).label) for code, state in states.items()),
        )

    @admin.display(description=_("changes from the published version"))
    def changes_from_published(self, obj):
        if not obj.pk or not obj.replaces_id:
            return _("This is not a new version of published content.")
        rows = version_changes(obj)
        if not rows:
            return _("No changes yet.")
        return format_html_join(
            "",
            '<dt>{}</dt><dd class="history-text">{}</dd>',
            (
                (row["field"], row.get("text") or format_html("{} → {}", row["old"], row["new"]))
                for row in rows
            ),
        )

    change_form_template = "admin/assistant/vetted_change_form.html"

    def workflow_steps(self):
        """Return the workflow buttons on the change page: (step, label, service, done)."""
        return {
            "submit": (
                _("Send for review"),
                content_services.content_submit,
                _("sent for review."),
            ),
            "publish": (_("Publish"), content_services.content_publish, _("published.")),
            "send_back": (
                _("Send back to draft"),
                content_services.content_send_back,
                _("back to draft."),
            ),
            **{
                f"approve-{code}": (
                    _("Approve the %(language)s translation") % {"language": name},
                    None,
                    _("translation approved."),
                )
                for code, name in settings.LANGUAGES
                if code != settings.LANGUAGE_CODE
            },
            "publish_translation": (
                _("Approve and publish the translation (English unchanged)"),
                content_services.content_publish_translation,
                _("translation approved and published."),
            ),
            "new_draft": (
                _("Start a new draft"),
                content_services.content_new_draft,
                _(
                    "a new draft is ready; the published version stays public until it is "
                    "published."
                ),
            ),
        }

    def get_urls(self):
        from django.urls import path

        opts = self.model._meta
        return [
            path(
                "<int:object_id>/workflow/<str:step>/",
                self.admin_site.admin_view(self.workflow_view),
                name=f"{opts.app_label}_{opts.model_name}_workflow",
            ),
            *super().get_urls(),
        ]

    def workflow_view(self, request, object_id, step):
        """Run one workflow step from the change page's buttons, then show the result."""
        from django.http import HttpResponseNotAllowed
        from django.shortcuts import get_object_or_404, redirect

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = get_object_or_404(self.model, pk=object_id)
        if not self.has_view_permission(request, obj) or step not in (
            steps := self.workflow_steps()
        ):
            return redirect("admin:index")
        _label, service, done = steps[step]
        if step.startswith("approve-"):
            language = step.removeprefix("approve-")
            service = partial(content_services.translation_approve, language=language)
        try:
            result = service(obj=obj, user=request.user)
        except content_services.ContentRefused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            result = obj
        else:
            if not isinstance(result, VettedContent):
                result = obj
            self.message_user(request, f"{result}: {done}", messages.SUCCESS)
        opts = self.model._meta
        return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", result.pk)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            allowed = {
                VettedContent.Status.DRAFT: ["submit"],
                VettedContent.Status.IN_REVIEW: ["publish", "send_back"],
                VettedContent.Status.PUBLISHED: ["new_draft"],
            }.get(obj.status, [])
            user = request.user
            mine = content_services.assigned_languages(user) - {settings.LANGUAGE_CODE}
            if user.is_superuser:
                mine &= set(content_services.working_languages(user))
            allowed = list(allowed)
            if (
                obj.status in (VettedContent.Status.DRAFT, VettedContent.Status.IN_REVIEW)
                and mine
                and set(content_services.translation_only_languages(obj) or ["-"]) <= mine
            ):
                allowed.append("publish_translation")
            states = translation_states(obj)
            allowed += [
                f"approve-{code}"
                for code in sorted(mine)
                if states.get(code) in (TranslationState.UNREVIEWED, TranslationState.STALE)
            ]
            steps = self.workflow_steps()
            opts = self.model._meta
            context["workflow_buttons"] = [
                (
                    reverse(
                        f"admin:{opts.app_label}_{opts.model_name}_workflow", args=[obj.pk, step]
                    ),
                    steps[step][0],
                )
                for step in allowed
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _run(self, request, queryset, service, done_message):
        for obj in queryset:
            try:
                service(obj=obj, user=request.user)
            except content_services.ContentRefused as refusal:
                self.message_user(request, f"{obj}: {refusal.message}", messages.ERROR)
            else:
                self.message_user(request, f"{obj}: {done_message}", messages.SUCCESS)

    @admin.action(description=_("Send for review"))
    def submit_for_review(self, request, queryset):
        self._run(request, queryset, content_services.content_submit, _("sent for review."))

    @admin.action(description=_("Publish (Reviewers)"))
    def publish(self, request, queryset):
        self._run(request, queryset, content_services.content_publish, _("published."))

    @admin.action(description=_("Send back to draft (Reviewers)"))
    def send_back(self, request, queryset):
        self._run(request, queryset, content_services.content_send_back, _("back to draft."))

    @admin.action(description=_("Start a new draft of the published version"))
    def start_new_draft(self, request, queryset):
        self._run(
            request,
            queryset,
            content_services.content_new_draft,
            _("a new draft is ready; the published version stays public until it is published."),
        )

    @admin.action(description=_("Approve my languages' translations"))
    def approve_my_translations(self, request, queryset):
        languages = sorted(
            content_services.assigned_languages(request.user)
            - {settings.MODELTRANSLATION_DEFAULT_LANGUAGE}
        )
        if not languages:
            self.message_user(
                request,
                _("You are not assigned any language, so you cannot approve translations."),
                messages.ERROR,
            )
            return
        for obj in queryset:
            for language in languages:
                if not any(
                    getattr(obj, build_localized_fieldname(f, language)) for f in obj.TEXT_FIELDS
                ):
                    continue
                try:
                    content_services.translation_approve(
                        obj=obj, language=language, user=request.user
                    )
                except content_services.ContentRefused as refusal:
                    self.message_user(request, f"{obj}: {refusal.message}", messages.ERROR)
                else:
                    self.message_user(
                        request,
                        f"{obj}: {dict(settings.LANGUAGES)[language]} — "
                        f"{TranslationState.REVIEWED.label}",
                        messages.SUCCESS,
                    )


class GuideStateFilter(StateFilter):
    place_path = "place"


# Which version of a place's guide stands for it in the list: the public one, else the newest.
VERSION_ORDER = Case(
    When(status=VettedContent.Status.PUBLISHED, then=Value(0)),
    When(status=VettedContent.Status.IN_REVIEW, then=Value(1)),
    When(status=VettedContent.Status.DRAFT, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


class AllVersionsFilter(admin.SimpleListFilter):
    title = _("versions")
    parameter_name = "versions"

    def lookups(self, request, model_admin):
        return [("all", _("every version, one row each"))]

    def queryset(self, request, queryset):
        return queryset


@admin.register(Guide)
class GuideAdmin(VettedContentAdmin):
    list_display = [
        "place",
        "status",
        "open_draft",
        "last_verified_on",
        "review_due_on",
        "translation_problems",
        "is_demo",
        "updated_at",
    ]
    list_filter = [
        "status",
        GuideStateFilter,
        ReviewDueFilter,
        TranslationStateFilter,
        AgreementsChangedFilter,
        "is_demo",
        AllVersionsFilter,
    ]
    search_fields = ["place__name", "place__state__name", "meaning_here_en", "your_rights_en"]
    list_select_related = ["place", "place__state"]
    autocomplete_fields = ["place"]
    inlines = [GuideSourceInline]
    workflow_readonly = [*VettedContentAdmin.workflow_readonly, "computed_answer", "versions"]

    def view_on_site(self, obj):
        return obj.place.get_absolute_url()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if (
            match is None
            or not match.url_name.endswith("_changelist")
            or request.GET.get(AllVersionsFilter.parameter_name) == "all"
        ):
            return queryset
        # One row per place: its published guide, else its newest version.
        head = (
            Guide.objects.filter(place=OuterRef("place"))
            .order_by(VERSION_ORDER, "-updated_at", "-pk")
            .values("pk")[:1]
        )
        return queryset.filter(pk=Subquery(head))

    @admin.display(description=_("new version"))
    def open_draft(self, obj):
        draft = (
            Guide.objects.filter(
                place_id=obj.place_id,
                status__in=[VettedContent.Status.DRAFT, VettedContent.Status.IN_REVIEW],
            )
            .exclude(pk=obj.pk)
            .first()
        )
        if draft is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:assistant_guide_change", args=[draft.pk]),
            draft.get_status_display(),
        )

    @admin.display(description=_("versions of this place's guide"))
    def versions(self, obj):
        if not obj.pk:
            return "—"
        rows = Guide.objects.filter(place_id=obj.place_id).order_by(VERSION_ORDER, "-updated_at")
        return format_html_join(
            "",
            '<div><a href="{}">{}</a>{}</div>',
            (
                (
                    reverse("admin:assistant_guide_change", args=[g.pk]),
                    g.get_status_display(),
                    _(" (this one)") if g.pk == obj.pk else "",
                )
                for g in rows
            ),
        )

    @admin.display(description=_("287(g) answer (computed from the agreements)"))
    def computed_answer(self, obj):
        return PlaceAdmin.computed_answer(self, obj.place) if obj.pk else "—"

    @admin.display(description=_("translations needing work"))
    def translation_problems(self, obj):
        states = translation_states(obj)
        stale = [code for code, s in states.items() if s == TranslationState.STALE]
        missing = [code for code, s in states.items() if s == TranslationState.MISSING]
        parts = []
        names = dict(settings.LANGUAGES)
        if stale:
            parts.append(
                f"{TranslationState.STALE.label}: {', '.join(str(names[c]) for c in stale)}"
            )
        if missing:
            parts.append(
                f"{TranslationState.MISSING.label}: {', '.join(str(names[c]) for c in missing)}"
            )
        return "; ".join(parts) or "—"


class NoteStateFilter(StateFilter):
    place_path = "places"


@admin.register(PolicyNote)
class PolicyNoteAdmin(VettedContentAdmin):
    list_display = ["title", "key", "status", "is_demo", "updated_at"]
    list_filter = ["status", NoteStateFilter, TranslationStateFilter, "is_demo"]
    search_fields = ["title_en", "key", "places__name"]
    autocomplete_fields = ["places"]
    inlines = [NoteSourceInline]


@admin.register(HelpOrganization)
class HelpOrganizationAdmin(VettedContentAdmin):
    list_display = ["name", "phone", "language_names", "status", "is_demo"]
    list_filter = ["status", NoteStateFilter, "is_demo"]
    search_fields = ["name", "key", "places__name"]
    autocomplete_fields = ["places"]
    inlines = [OrganizationSourceInline]

    @admin.display(description=HelpOrganization._meta.get_field("languages_spoken").verbose_name)
    def language_names(self, obj):
        names = dict(settings.LANGUAGES)
        return ", ".join(str(names.get(code, code)) for code in obj.language_codes) or "—"


@admin.register(TranslatorLanguage)
class TranslatorLanguageAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]


@admin.register(TranslationRecord)
class TranslationRecordAdmin(admin.ModelAdmin):
    list_display = ["content_object", "language", "reviewed_by", "reviewed_at"]
    list_filter = ["language", "content_type"]
    readonly_fields = [f.name for f in TranslationRecord._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
