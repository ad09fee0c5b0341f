"""`manage.py enrol_totp staff@example.com`: give a member of staff an authenticator app from the shell.

Staff enter the admin only with two-factor auth (accounts/admin_site.py), and get it only out of band: from
this command, or from a verified colleague holding `accounts.provision_staff_device` (the admin's staff-device
page); the customer's /security/2fa/ refuses staff. The command turns two-factor auth on and prints the setup
key, the otpauth:// address (as a QR code in the terminal too) and ten backup codes. Like every 2FA change it
ends every session of the person and tells them by email. Whoever can run it can already change the
database, so it asks for no step-up.
"""

from typing import Any

import segno
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import otp, services
from accounts.models import User


class Command(BaseCommand):
    help = "Turn on two-factor auth for a staff member and print the secret, its QR code and backup codes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--replace", action="store_true", help="Replace an authenticator app the person already has."
        )
        parser.add_argument("--no-qr", action="store_true", help="Do not draw the QR code in the terminal.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None or not user.is_staff:
            raise CommandError(f"No staff member with the email {options['email']!r}.")
        if otp.has_two_factor(user) and not options["replace"]:
            raise CommandError("Two-factor auth is already on for them; add --replace to give a new secret.")
        device, codes = services.two_factor_enrol_by_operator(user=user)
        self.stdout.write(f"Two-factor auth is on for {user.email}. Add this to their authenticator app:")
        self.stdout.write(f"  Setup key:   {otp.secret_display(device)}")
        self.stdout.write(f"  otpauth URI: {device.config_url}")
        if not options["no_qr"]:
            segno.make(device.config_url, error="m").terminal(out=self.stdout, compact=True)
        shown = ", ".join(otp.backup_code_display(code) for code in codes)
        self.stdout.write(f"  Backup codes (each works once): {shown}")
