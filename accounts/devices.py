"""Devices: a readable name for a user agent, and the browser's device cookie.

The name is approximate on purpose ("Chrome on Android"): a customer recognises their own devices by it, and
a user agent is whatever the client says. It is worked out once, at sign-in, and stored with the session
(accounts.models.UserSession.device), so no page parses user agents. A dozen ordered rules cover the browsers
and systems our customers use; a parsing library (ua-parser) would add hundreds of regexes for model names
we do not show.
"""

import hashlib
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

# First match wins: Edge, Opera and Samsung Internet also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)

_DEVICE_SALT = "accounts.devices.cookie"


def describe_user_agent(user_agent: str) -> str:
    """'Chrome on Android', 'Safari on iPhone', 'Firefox', 'Windows', or 'Unknown device'."""
    browser = next((name for token, name in _BROWSERS if token in user_agent), "")
    system = next((name for token, name in _SYSTEMS if token in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


def device_id(request: HttpRequest) -> str | None:
    """The device id from the browser's signed device cookie, or None (no cookie, or a forged one)."""
    return request.get_signed_cookie(settings.DEVICE_COOKIE_NAME, default=None, salt=_DEVICE_SALT)


def new_device_id() -> str:
    return secrets.token_urlsafe(24)


def device_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def set_device_cookie(response: HttpResponseBase, value: str) -> None:
    response.set_signed_cookie(
        settings.DEVICE_COOKIE_NAME,
        value,
        salt=_DEVICE_SALT,
        max_age=settings.DEVICE_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
