from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UtcDateTime, VersionedMixin, db, utcnow
from app.permissions import Permission, Role, permissions_for

project_member = Table(
    "project_member",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class UserRole(db.Model):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(30))


class User(VersionedMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(30))
    job_title: Mapped[str | None] = mapped_column(String(120))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the login cookie: rotating it ends every session of the user.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by an administrator's reset: the user must choose a new password at next login.
    is_password_temporary: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    organisation = relationship("Organisation", back_populates="users", lazy="joined")
    role_rows = relationship("UserRole", lazy="selectin", cascade="all, delete-orphan")
    projects = relationship(
        "Project", secondary=project_member, lazy="selectin", order_by="Project.name"
    )

    # --- Flask-Login -----------------------------------------------------------------
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    # --- roles and permissions ---------------------------------------------------------
    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.roles)

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def role_labels(self) -> str:
        return ", ".join(sorted(r.label for r in self.roles))

    @property
    def project_ids(self) -> set[int]:
        return {p.id for p in self.projects}

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
