from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError

from . import roles


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=())

    def __init__(self, *args, actor_role=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.slug, r.label) for r in roles.assignable_by(actor_role)]
        self.fields["role"].initial = roles.MEMBER


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles.choices()


class InvitationSignupForm(forms.Form):
    """An account for the invited address (the link proves it is theirs)."""

    username = forms.CharField(max_length=150)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.user_model = get_user_model()
        if self.user_model.USERNAME_FIELD == "email":
            del self.fields["username"]

    def clean_username(self):
        username = self.cleaned_data["username"]
        field = self.user_model.USERNAME_FIELD
        if self.user_model._default_manager.filter(**{f"{field}__iexact": username}).exists():
            raise ValidationError("That username is taken.")
        return username

    def clean(self):
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            raise ValidationError("The two passwords differ.")
        if data.get("password1"):
            user = self.user_model(email=self.email)
            password_validation.validate_password(data["password1"], user)
        return data

    def save(self):
        fields = {"email": self.email}
        if "username" in self.fields:
            fields[self.user_model.USERNAME_FIELD] = self.cleaned_data["username"]
        return self.user_model._default_manager.create_user(
            password=self.cleaned_data["password1"], **fields
        )
