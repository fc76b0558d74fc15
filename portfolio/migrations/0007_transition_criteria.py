"""The product model's activities for each of the five stages, as editable criteria, and who may
write transition data: executives and portfolio managers record assessments; portfolio managers
edit the criteria; everyone reads."""

from django.db import migrations

# stage, text, evidence key (a figure portfolio.evidence computes from live data; "" for none)
CRITERIA = (
    (1, "Compelling reasons for the change are written down", ""),
    (1, "The expected business outcomes are stated", "outcomes_stated"),
    (1, "An executive sponsor is named", ""),
    (1, "The why of the change has been communicated", ""),
    (2, "Pilot product teams are formed", "durable_teams"),
    (2, "A few high-impact pilot products are chosen", "products_owned"),
    (2, "Feedback loops are established", "products_measured"),
    (2, "Early successes are shown", "key_results_on_track"),
    (3, "Product teams are formed across more areas", "value_streams_with_teams"),
    (3, "Product-management practice is consistent", "products_owned"),
    (3, "Customer feedback arrives faster", "flow_time_trend"),
    (4, "Value streams are mapped and optimised", "value_streams_mapped"),
    (4, "The funding model is refined", "funding_by_capacity"),
    (4, "Product-management practice is embedded", "products_measured"),
    (4, "Flow is improving", "flow_time_trend"),
    (5, "Learning is continuous", "hypotheses_tested"),
    (5, "Market needs are reassessed regularly", ""),
    (5, "The operating model itself evolves", ""),
)

ASSESS_MODELS = ("transitionassessment", "assessmentanswer", "transitionunit")
EDIT_MODELS = ("transitioncriterion",)


def add_defaults(apps, schema_editor):
    Criterion = apps.get_model("portfolio", "TransitionCriterion")
    if Criterion.objects.exists():
        return
    order: dict[int, int] = {}
    for stage, text, evidence in CRITERIA:
        order[stage] = order.get(stage, 0) + 1
        Criterion.objects.create(stage=stage, text=text, evidence=evidence, order=order[stage])


def grant_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(
        content_type__app_label="portfolio",
        content_type__model__in=ASSESS_MODELS + EDIT_MODELS,
    )
    views = perms.filter(codename__startswith="view_")
    assess = perms.filter(content_type__model__in=ASSESS_MODELS, codename__regex=r"^(add|change)_")
    edit = perms.filter(content_type__model__in=EDIT_MODELS).exclude(codename__startswith="view_")
    for role in ("executive", "portfolio_manager", "product_owner", "finance"):
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*views)
        if role in ("executive", "portfolio_manager"):
            group.permissions.add(*assess)
        if role == "portfolio_manager":
            group.permissions.add(*edit)


def both(apps, schema_editor):
    add_defaults(apps, schema_editor)
    grant_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("portfolio", "0006_transition")]

    operations = [migrations.RunPython(both, migrations.RunPython.noop)]
