import datetime
import itertools

import factory
from django.utils import timezone

from accounts.models import Account, Payee, User

PASSWORD = "correct-horse-battery-staple"

_numbers = itertools.count(100000000001)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    full_name = factory.Faker("name", locale="en_IN")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    password = factory.django.Password(PASSWORD)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    owner = factory.SubFactory(UserFactory)
    number = factory.LazyFunction(lambda: str(next(_numbers)))
    name = "Savings"
    kind = Account.Kind.SAVINGS


class PayeeFactory(factory.django.DjangoModelFactory):
    """A payee at another bank, added long enough ago to be past its cooling-off and new-payee cap
    (pass created_at for a newer one, account= for a SecureBank account)."""

    class Meta:
        model = Payee

    owner = factory.SubFactory(UserFactory)
    name = "Ravi Kumar"
    account_number = factory.Sequence(lambda n: f"5010{n:08d}")
    ifsc = "HDFC0001234"
    bank_name = "HDFC Bank"
    created_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=30))
