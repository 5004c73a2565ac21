from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        # Logins are unique regardless of case; "Alice" signs in as alice.
        return self.get(login__iexact=username)

    def create_user(self, login: str, password: str | None = None, **fields: Any) -> User:
        if not login:
            raise ValueError("A user needs a login.")
        user = self.model(login=login, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, login: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_admin", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(login, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person of the platform. ``login`` is unique case-insensitively and is the WebDAV user name."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    login = models.CharField(max_length=150, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    is_admin = models.BooleanField(default=False)
    date_joined = models.DateTimeField(auto_now_add=True)
    #: The IANA zone the console shows times in for this person (``Europe/Paris``); empty: the instance's.
    time_zone = models.CharField(max_length=64, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "login"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["email"]

    class Meta:
        ordering = ["login"]
        constraints = [
            models.UniqueConstraint(Lower("login"), name="people_user_login_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.login

    @property
    def is_staff(self) -> bool:
        return self.is_admin

    def get_full_name(self) -> str:
        return self.display_name or self.login

    def get_short_name(self) -> str:
        return self.login
