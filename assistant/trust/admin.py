"""The organizers' admin for agency facts, forums and residents' mistake reports.

Agency facts use the content workflow's admin (``VettedContentAdmin``): Editors write,
Reviewers publish, never their own change. Publishing and new drafts call this feature's
services, since a fact's identity and source differ from a guide's.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin
from simple_history.admin import SimpleHistoryAdmin

from assistant.content.admin import VettedContentAdmin
from assistant.trust import services
from assistant.trust.models import AgencyFact, Forum, MistakeReport


def _publish(*, obj, user):
    return services.agency_fact_publish(fact=obj, user=user)


def _new_draft(*, obj, user):
    return services.agency_fact_new_draft(fact=obj, user=user)


@admin.register(AgencyFact)
class AgencyFactAdmin(VettedContentAdmin):
    list_display = ["agency", "topic", "answer", "status", "verified_on", "review_due_on"]
    list_filter = ["status", "topic", "answer", "is_demo"]
    search_fields = ["agency__name", "detail_en", "source_title"]
    autocomplete_fields = ["agency"]

    def workflow_steps(self):
        steps = super().workflow_steps()
        steps["publish"] = (_("Publish"), _publish, _("published."))
        steps["new_draft"] = (steps["new_draft"][0], _new_draft, steps["new_draft"][2])
        return steps

    @admin.action(description=_("Publish (Reviewers)"))
    def publish(self, request, queryset):
        self._run(request, queryset, _publish, _("published."))

    @admin.action(description=_("Start a new draft of the published version"))
    def start_new_draft(self, request, queryset):
        self._run(
            request,
            queryset,
            _new_draft,
            _("a new draft is ready; the published version stays public until it is published."),
        )


@admin.register(Forum)
class ForumAdmin(SimpleHistoryAdmin, TranslationAdmin):
    list_display = ["title", "place", "starts_at", "time_zone", "agency", "is_cancelled"]
    list_filter = ["kind", "is_cancelled", "is_demo"]
    search_fields = ["title_en", "place__name", "venue"]
    autocomplete_fields = ["place", "agency"]
    readonly_fields = ["posted_by", "created_at", "updated_at"]
    date_hierarchy = "starts_at"

    def save_model(self, request, obj, form, change):
        services.forum_post(forum=obj, user=request.user)


@admin.register(MistakeReport)
class MistakeReportAdmin(admin.ModelAdmin):
    list_display = ["place", "created_at", "channel", "language", "short_text", "resolved_at"]
    list_filter = ["channel", "language", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["place__name", "text"]
    readonly_fields = ["place", "text", "language", "channel", "created_at", "resolved_at"]
    fields = readonly_fields + ["resolved_by"]
    actions = ["resolve"]

    @admin.display(description=_("what is wrong"))
    def short_text(self, obj):
        return obj.text[:80]

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "resolved_by"]

    @admin.action(description=_("Mark as resolved"))
    def resolve(self, request, queryset):
        for report in queryset.filter(resolved_at__isnull=True):
            services.mistake_report_resolve(report=report, user=request.user)
        self.message_user(request, _("Marked as resolved."), messages.SUCCESS)
