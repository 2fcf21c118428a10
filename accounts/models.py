"""Users live in DynamoDB; an email can belong to one user only, enforced by `UserEmail`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

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


class UsersByEmail(GlobalSecondaryIndex["User"]):
    """Login: find the user (and password hash) for an email in one Query."""

    class Meta:
        index_name = "UsersByEmail"
        projection = AllProjection()

    email = UnicodeAttribute(hash_key=True)


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
    # Bumped by every write: cached profiles compare it to never go backwards.
    revision = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    by_email = UsersByEmail()
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
