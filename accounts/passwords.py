"""Password rules beyond Django's own: refuse passwords that attackers try first.

The list is shipped in the repository (accounts/data/common-passwords.txt.gz, its sources and licences in
accounts/data/README.md), never fetched at run time: a bank's login must not depend on a third party.
"""

from pathlib import Path

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.utils.translation import gettext as _

COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


class BreachedPasswordValidator(CommonPasswordValidator):
    """Django's CommonPasswordValidator on our larger list (Django's 20,000 plus zxcvbn's 30,000), with a
    message that says why the password is refused."""

    def __init__(self, password_list_path: Path | str = COMMON_PASSWORDS) -> None:
        super().__init__(password_list_path=password_list_path)

    def get_error_message(self) -> str:
        return _(
            "This password is on a list of common or leaked passwords that attackers try first. "
            "Choose one that is not."
        )

    def get_help_text(self) -> str:
        return _("Your password can't be a common or leaked password.")
