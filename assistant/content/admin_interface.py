from django.contrib import admin

from assistant.content.interface_translation import (
    can_review_interface_translation,
    interface_translation_approve,
    interface_translation_withdraw,
)
from assistant.content.models import InterfaceTranslationReview


@admin.register(InterfaceTranslationReview)
class InterfaceTranslationReviewAdmin(admin.ModelAdmin):
    list_display = ["language", "reviewed_by", "reviewed_at"]
    fields = ["language", "note", "reviewed_by", "reviewed_at"]
    readonly_fields = ["reviewed_by", "reviewed_at"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return can_review_interface_translation(request.user)

    def has_change_permission(self, request, obj=None):
        return can_review_interface_translation(request.user)

    def has_delete_permission(self, request, obj=None):
        return can_review_interface_translation(request.user)

    def save_model(self, request, obj, form, change):
        review = interface_translation_approve(
            language=obj.language, reviewer=request.user, note=obj.note
        )
        obj.pk, obj.reviewed_by, obj.reviewed_at = review.pk, review.reviewed_by, review.reviewed_at

    def delete_model(self, request, obj):
        interface_translation_withdraw(language=obj.language)

    def delete_queryset(self, request, queryset):
        for review in queryset:
            interface_translation_withdraw(language=review.language)
