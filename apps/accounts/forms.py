from django import forms
from django.contrib.auth.forms import AuthenticationForm

from apps.accounts.backends import login_identities
from apps.accounts.throttle import TooManyFailures, failures_check


class ThrottledLoginForm(AuthenticationForm):
    """The login form, saying when sign-ins are refused for a while instead of "wrong password"."""

    def clean(self):
        try:
            failures_check("login", login_identities(self.request, self.data.get("username")))
        except TooManyFailures as error:
            raise forms.ValidationError(error.message, code="throttled") from None
        return super().clean()
