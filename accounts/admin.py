"""Users in the admin: lists by role (the UsersByRole index), lookup by email or id, changing name,
role and active flag, and adding instructors and admins, all through the account services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse

from accounts import services
from accounts.admin_sign_in import AdminLoginForm, actor_of, sign_in, sign_out
from accounts.models import Role, User
from accounts.selectors import user_by_email_or_id, user_by_id, users_with_role
from accounts.serializers import ProfileUpdateSerializer, RegisterSerializer
from courseproject.adminsite.forms import FormPage, after_save, form_page
from courseproject.adminsite.lists import FilterGroup, ListPage, Row, choice, filter_errors_as_messages, render_list
from courseproject.adminsite.pages import missing_object_redirect
from courseproject.adminsite.params import cursor_param, text_param
from courseproject.adminsite.site import Section, admin_site
from courseproject.adminsite.urls import admin_path, admin_url
from courseproject.api.pagination import Page

PAGE_SIZE = 50
ROLE_CHOICES = [(role.value, role.value.capitalize()) for role in Role]


def _row(user: User) -> Row:
    links = [("History", admin_url("audit_auditrecord_changelist", query={"entity": f"user:{user.user_id}"}))]
    if user.role == Role.STUDENT:
        links.insert(
            0, ("Enrollments", admin_url("enrollments_enrollment_changelist", query={"student": user.user_id}))
        )
    if user.role == Role.INSTRUCTOR:
        links.insert(0, ("Courses", admin_url("courses_course_changelist", query={"instructor": user.user_id})))
    return Row(
        cells=[user.email, user.name, user.role, "yes" if user.is_active else "no", user.created_at],
        url=admin_url("accounts_user_change", user.user_id),
        links=links,
    )


def user_list(request: HttpRequest) -> HttpResponse:
    search = text_param(request, "q")
    role = text_param(request, "role", max_length=16) or Role.INSTRUCTOR.value
    cursor = cursor_param(request)
    page: Page[User] = Page(items=[], next_cursor=None)
    if search:
        found = user_by_email_or_id(email_or_id=search)
        page = Page(items=[found] if found else [], next_cursor=None)
        description = f"with the email or id “{search}”"
    elif role not in {value for value, _ in ROLE_CHOICES}:
        messages.error(request, f"Role must be one of {', '.join(value for value, _ in ROLE_CHOICES)}.")
        description = "of no role"
    else:
        with filter_errors_as_messages(request):
            page = users_with_role(role=role, limit=PAGE_SIZE, cursor=cursor)
        description = f"with the role {role}, by email"
    list_page = ListPage(
        columns=["Email", "Name", "Role", "Active", "Created"],
        rows=[_row(user) for user in page.items],
        next_cursor=page.next_cursor,
        filter_groups=[
            FilterGroup(
                title="role",
                choices=[
                    choice(request, label, not search and role == value, role=value, q=None)
                    for value, label in ROLE_CHOICES
                ],
            )
        ],
        search_value=search,
        search_help="Find a user by email or user id.",
        object_tools=[("Add user", admin_url("accounts_user_add"))],
        empty_message=f"No users {description}.",
        notice=f"Users {description}.",
    )
    return render_list(
        request,
        title="Select user to change",
        breadcrumbs=[("Accounts", admin_url("app_list", "accounts"))],
        page=list_page,
    )


class UserChangeForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"class": "vTextField"}))
    role = forms.ChoiceField(
        choices=ROLE_CHOICES, help_text="Promoting to instructor lets them own courses; admins can use this site."
    )
    is_active = forms.BooleanField(
        label="Active", required=False, help_text="Inactive users cannot sign in or refresh their tokens."
    )


class UserAddForm(UserChangeForm):
    email = forms.EmailField(max_length=254)
    password1 = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="Password confirmation",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Enter the same password as before, for verification.",
    )
    field_order = ["email", "name", "role", "password1", "password2"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["is_active"]  # new users are active

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", "The two password fields didn’t match.")
        return cleaned


def _breadcrumbs() -> list[tuple[str, str]]:
    return [("Accounts", admin_url("app_list", "accounts")), ("Users", admin_url("accounts_user_changelist"))]


def user_add(request: HttpRequest) -> HttpResponse:
    form = UserAddForm(request.POST or None, initial={"role": Role.INSTRUCTOR.value})
    return form_page(
        request,
        form=form,
        # The API's rules for a new account (lengths, control characters), on the admin's form.
        api_serializer=lambda cleaned: RegisterSerializer(
            data={"email": cleaned["email"], "password": cleaned["password1"], "name": cleaned["name"]}
        ),
        service=lambda account: services.register_user(
            **account, role=Role(form.cleaned_data["role"]), actor_id=actor_of(request).user_id
        ),
        field_map={"email_taken": "email", "password": "password1"},
        on_saved=lambda user: after_save(
            request,
            message=f"The {user.role} “{user.email}” was added successfully.",
            list_url=admin_url("accounts_user_changelist", query={"role": user.role}),
            change_url=admin_url("accounts_user_change", user.user_id),
            add_url=admin_url("accounts_user_add"),
        ),
        page=FormPage(title="Add user", breadcrumbs=_breadcrumbs(), can_add_another=True),
    )


def user_change(request: HttpRequest, user_id: str) -> HttpResponse:
    user = user_by_id(user_id=user_id)
    if user is None:
        return missing_object_redirect(
            request, name="User", object_id=user_id, list_url=admin_url("accounts_user_changelist")
        )
    form = UserChangeForm(
        request.POST or None, initial={"name": user.name, "role": user.role, "is_active": bool(user.is_active)}
    )
    return form_page(
        request,
        form=form,
        # The API's rules for a name, on the admin's form.
        api_serializer=lambda cleaned: ProfileUpdateSerializer(data={"name": cleaned["name"]}),
        service=lambda profile: services.change_user(
            actor=actor_of(request),
            user_id=user_id,
            name=profile["name"],
            role=Role(form.cleaned_data["role"]),
            is_active=form.cleaned_data["is_active"],
        ),
        on_saved=lambda changed: after_save(
            request,
            message=f"The user “{changed.email}” was changed successfully.",
            list_url=admin_url("accounts_user_changelist", query={"role": changed.role}),
            change_url=admin_url("accounts_user_change", user_id),
        ),
        page=FormPage(
            title=user.email,
            breadcrumbs=_breadcrumbs(),
            readonly=[
                ("User id", user.user_id),
                ("Email", user.email),
                ("Created", user.created_at),
                ("Updated", user.updated_at),
            ],
            object_tools=[
                *_row(user).links,
                ("Their actions", admin_url("audit_auditrecord_changelist", query={"actor": user.user_id})),
            ],
        ),
    )


admin_site.use_sign_in(form_class=AdminLoginForm, sign_in=sign_in, sign_out=sign_out)
admin_site.register_section(
    Section(
        app_label="accounts",
        object_name="User",
        name="Users",
        changelist_url_name="accounts_user_changelist",
        add_url_name="accounts_user_add",
        urls=[
            admin_path("accounts/user/", user_list, "accounts_user_changelist"),
            admin_path("accounts/user/add/", user_add, "accounts_user_add"),
            admin_path("accounts/user/<id:user_id>/change/", user_change, "accounts_user_change"),
        ],
    )
)
