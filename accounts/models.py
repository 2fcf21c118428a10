"""Users live in DynamoDB; an email can belong to one user only, enforced by `UserEmail`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from courseproject.dynamo.models import DynamoModel, TableMeta, table_name


class Role(StrEnum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    """Who is acting: `request.user` in the API (from the access token), or an admin in a command.

    Services take an Actor, never a request, so every entry point applies the same rules.
    """

    user_id: str
    role: str
    # False only for a student who has not confirmed their email yet (EMAIL_VERIFICATION_REQUIRED).
    email_verified: bool = True

    is_authenticated = True

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    @property
    def is_instructor(self) -> bool:
        return self.role == Role.INSTRUCTOR

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class UsersByRole(GlobalSecondaryIndex["User"]):
    """The admin's lists of instructors, admins or students, by email. Keys only, so password
    hashes are not copied into another index."""

    class Meta:
        index_name = "UsersByRole"
        projection = KeysOnlyProjection()

    role = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class User(DynamoModel):
    class Meta(TableMeta):
        table_name = table_name("Users")

    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute(default=Role.STUDENT.value)
    password_hash = UnicodeAttribute()
    is_active = BooleanAttribute(default=True)
    # Self-registered students confirm their email; users created by admins (and those created before
    # verification existed, which read the default) are verified.
    email_verified = BooleanAttribute(default=True)
    # Every token and admin session carries the version it was issued under; bumping it (password
    # change or reset, deactivation, role change, "sign out everywhere") ends them all.
    token_version = NumberAttribute(default=0)
    # Bumped by every write: cached profiles compare it to never go backwards.
    revision = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_role = UsersByRole()


class UserEmail(DynamoModel):
    """One item per email, written in the same transaction as its user.

    A GSI cannot enforce uniqueness (it is eventually consistent and has no conditions), so two
    concurrent registrations of one email race on this item's `attribute_not_exists` condition.
    """

    class Meta(TableMeta):
        table_name = table_name("UserEmails")

    email = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()


class SignInKind(StrEnum):
    API = "api"
    ADMIN = "admin"


class SignIn(DynamoModel):
    """One sign-in: an API refresh-token family or an admin session, revocable on its own.

    API refresh tokens rotate on every use: the item holds the current token's id and the one it
    replaced, so a reused older token is recognised (and revokes the user's tokens) while two tabs
    refreshing at once within the grace period both get the current one. DynamoDB's TTL removes the
    item after the longest the sign-in could live.
    """

    class Meta(TableMeta):
        table_name = table_name("SignIns")

    sign_in_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    token_version = NumberAttribute()
    refresh_jti = UnicodeAttribute(null=True)
    previous_jti = UnicodeAttribute(null=True)
    rotated_at = UTCDateTimeAttribute(null=True)
    client_address = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()
