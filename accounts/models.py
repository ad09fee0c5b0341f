from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import otp_secrets


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a customer, or a member of staff. Email is the login."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    phone = models.CharField(max_length=20, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    previous_login = models.DateTimeField(null=True, blank=True, editable=False)
    # Part of the session auth hash: bumping it ends every session of the user at its next request, even one
    # the UserSession registry never saw (accounts/sessions.py: sessions_revoke).
    session_generation = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]
        permissions = [
            ("provision_staff_device", "Can give another member of staff an authenticator app"),
        ]

    def __str__(self) -> str:
        return self.email

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's HMAC of the password, with the session generation mixed in once it has been bumped
        (generation 0 keeps Django's own hash, so sessions made before this field existed stay valid).
        Django checks it on every request (and with SECRET_KEY_FALLBACKS through this same method)."""
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Account(models.Model):
    """A bank account. Its balance is kept here, in paise, and changed only by the ledger service."""

    class Kind(models.TextChoices):
        SAVINGS = "savings", "Savings"
        CURRENT = "current", "Current"
        INTERNAL = "internal", "Internal"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        FROZEN = "frozen", "Frozen"
        CLOSED = "closed", "Closed"

    owner = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        help_text="Empty for the bank's own internal accounts.",
    )
    number = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=60, help_text="A name the customer recognises, e.g. 'Salary savings'.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    currency = models.CharField(max_length=3, default="INR", editable=False)
    balance = models.BigIntegerField(default=0, help_text="Paise.")
    overdraft_limit = models.BigIntegerField(default=0, help_text="Paise the balance may go below zero.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    opened_on = models.DateField(default=timezone.localdate)
    # Bumped by every posting: a cache key for anything derived from this account's ledger.
    ledger_version = models.BigIntegerField(default=0, editable=False)
    # The time of the account's newest entry (empty before the first), written by the posting's own UPDATE
    # of the locked account. A posting is never dated before it (transactions/services.py `_post`), so an
    # account's history order (created, id) is the order of its postings and of `balance_after`.
    # PostgreSQL keeps it true and never lets it go back (transactions migration 0013).
    posted_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="internal") | Q(balance__gte=-F("overdraft_limit")),
                name="account_balance_within_overdraft",
                violation_error_message="Balance would go below the overdraft limit.",
            ),
            models.CheckConstraint(
                condition=Q(overdraft_limit__gte=0), name="account_overdraft_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind="internal", owner__isnull=True)
                | (~Q(kind="internal") & Q(owner__isnull=False)),
                name="account_owner_matches_kind",
            ),
            models.CheckConstraint(condition=Q(currency="INR"), name="account_currency_inr"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked_number})"

    @property
    def masked_number(self) -> str:
        return "••" + self.number[-4:]

    @property
    def is_internal(self) -> bool:
        return self.kind == self.Kind.INTERNAL

    def allows_balance(self, balance: int) -> bool:
        """The overdraft rule (the CHECK above), for Python: the ledger's services and the demo planner
        ask it. A customer balance stays at or above minus its overdraft limit; the bank's own accounts
        may go anywhere."""
        return self.is_internal or balance >= -self.overdraft_limit


class Payee(models.Model):
    """Someone a customer pays: an account at this bank or at another, named by its number and IFSC.

    A payee with SecureBank's IFSC (`settings.BANK_IFSC`) is an account in our own ledger (`account`) and is
    credited there; any other is paid through the settlement accounts as an outward payment. Payees are
    never deleted: removing one sets `removed_at` (transfers made to it still name it). A new payee is
    cooling off (`settings.PAYEE_COOLING_OFF`: nothing can be sent to it), then capped for
    `settings.PAYEE_NEW_PERIOD` (at most `settings.PAYEE_NEW_DAILY_PAISE` a day)."""

    owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="payees",
        db_index=False,  # payee_owner_account leads
    )
    name = models.CharField(max_length=100, help_text="What the customer calls this payee.")
    account_number = models.CharField(max_length=18)
    ifsc = models.CharField("IFSC", max_length=11)
    bank_name = models.CharField(max_length=100)
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The SecureBank account paid, when the payee banks with us.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # One active payee per (customer, account); a removed one may be added again.
            models.UniqueConstraint(
                fields=["owner", "account_number", "ifsc"],
                condition=Q(removed_at__isnull=True),
                name="payee_owner_account_unique",
            ),
            models.CheckConstraint(
                condition=Q(account_number__regex=r"^[0-9]{9,18}$"), name="payee_account_number_digits"
            ),
            models.CheckConstraint(
                condition=Q(ifsc__regex=r"^[A-Z]{4}0[A-Z0-9]{6}$"), name="payee_ifsc_format"
            ),
        ]
        indexes = [models.Index(fields=["owner", "name"], name="payee_owner_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.masked_account_number})"

    @property
    def masked_account_number(self) -> str:
        return "••" + self.account_number[-4:]

    @property
    def is_internal(self) -> bool:
        """Banks with SecureBank: credited in our ledger rather than paid out."""
        return self.account_id is not None


class UserSession(models.Model):
    """One sign-in: the registry behind the security page (recent sign-ins, active sessions).

    It holds no session key (a database reader could not take over a session with it); the session holds
    this row's id instead. Ending sessions is done by the user's `session_generation`, so the registry only
    has to be right for display. `device_hash` is the sha256 of the browser's device cookie.
    """

    class EndReason(models.TextChoices):
        LOGOUT = "logout", "Signed out"
        IDLE = "idle", "Timed out (inactive)"
        ABSOLUTE = "absolute", "Timed out (12 hours)"
        REVOKED = "revoked", "Signed out everywhere"
        COMPROMISE = "compromise", "Reported as not you"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=10, choices=EndReason.choices, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    device = models.CharField(max_length=80, blank=True, help_text="e.g. 'Chrome on Android', from the UA.")
    device_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at"], name="usersession_user_created"),
            models.Index(
                fields=["user", "-last_seen_at"],
                name="usersession_user_open",
                condition=Q(ended_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.device or 'an unknown device'} since {self.created_at:%Y-%m-%d %H:%M}"


class AuthenticatorApp(TOTPDevice):
    """django-otp's TOTPDevice (same table, same checks) whose seed is encrypted at rest: `key` holds the
    sealed seed (accounts/otp_secrets.py), sealed on save for the device's user, opened only by `bin_key`,
    which is where django-otp's code check and the otpauth:// address read it. Every authenticator app is
    used through this model; a seed left in clear (not written through it), or sealed for another user (a
    row moved or copied in the database), is refused, never used."""

    class Meta:
        proxy = True
        verbose_name = "authenticator app"

    @property
    def bin_key(self) -> bytes:
        return otp_secrets.seed_open(self.key, user_id=self.user_id)

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not otp_secrets.seed_is_sealed(self.key):
            self.key = otp_secrets.seed_seal(self.key, user_id=self.user_id)
        super().save(*args, **kwargs)
