from django.forms.renderers import TemplatesSetting


class ProjectFormRenderer(TemplatesSetting):
    """Django's form rendering from the project's templates, with its own field template: label,
    input, then help and errors; a checkbox inside its label, so the help beside it is never read
    as the checkbox's label."""

    field_template_name = "common/field.html"
