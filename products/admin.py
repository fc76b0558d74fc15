from django import forms
from django.contrib import admin

from products import services
from products.models import Discipline, Person, Product, Team, TeamMembership


class MembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["person"]


@admin.register(Discipline)
class DisciplineAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "order"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "lifecycle_stage", "archived_at"]
    list_filter = ["lifecycle_stage"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["owners"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "formed_on", "archived_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["products"]
    inlines = [MembershipInline]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "discipline", "archived_at"]
    list_filter = ["discipline"]
    search_fields = ["name", "email"]
    list_select_related = ["discipline"]


class TeamMembershipAdminForm(forms.ModelForm):
    class Meta:
        model = TeamMembership
        fields = ["person", "team", "fte", "start_date", "end_date"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            # The 1-FTE rule of the services, shown as a form error (the save goes through the model).
            services.membership_check_capacity(self.instance, lock=False)
        return cleaned


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    form = TeamMembershipAdminForm
    list_display = ["person", "team", "fte", "start_date", "end_date"]
    list_select_related = ["person", "team"]
    autocomplete_fields = ["person", "team"]
