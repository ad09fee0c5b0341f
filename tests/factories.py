import itertools

import factory

from accounts.models import Account, User

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
