"""Set-Cookie headers the Azure Functions platform delivers as written, and why others would not be.

The worker re-parses each Set-Cookie with `SimpleCookie` into a structured cookie, and the host writes it back with
ASP.NET Core's cookie API: attributes it does not know are dropped, values are percent-encoded. A script must never
see its cookie silently changed, so `adapter.http.responses` sends only the cookies this module passes, and logs the
reason for the others (docs/platform.md).
"""

from __future__ import annotations

import re
import sys
import time
from email.utils import parsedate_to_datetime
from http.cookies import CookieError, SimpleCookie

# What survives the platform's cookie path unchanged (docs/platform.md): the worker re-parses each Set-Cookie with
# `SimpleCookie` into a structured cookie, and the host writes that back with ASP.NET Core's `Cookies.Append`,
# which percent-encodes the value (`Uri.EscapeDataString`) and knows only these attributes.
_COOKIE_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9\-._~]*")  # what Uri.EscapeDataString leaves as it is
_COOKIE_DOMAIN = re.compile(r"\.?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_COOKIE_PATH = re.compile(r"/[A-Za-z0-9/\-._~!$&'()*+=:@%]*")
# The only Expires form SimpleCookie parses: RFC 1123 (or with dashes), in GMT.
_COOKIE_EXPIRES = re.compile(r"[A-Za-z]{3}, \d{2}[ -][A-Za-z]{3}[ -]\d{4} \d{2}:\d{2}:\d{2} GMT")
_COOKIE_FLAGS = frozenset({"secure", "httponly"})
# Names SimpleCookie reads as attributes, never as a cookie's name.
_ATTRIBUTE_NAMES = frozenset({"expires", "path", "comment", "domain", "max-age", "secure", "httponly", "version"})
_ATTRIBUTE_NAMES |= {"samesite", "partitioned"}
_SAME_SITE = frozenset({"lax", "strict", "none"})
#: The 3.13+ proxy worker (4.40.2 with azure-functions-runtime 1.3.0) dies on a response cookie carrying Expires: a
#: segmentation fault converting the timestamp, which takes every invocation in flight with it (upstream
#: Azure/azure-functions-python-worker#1908). Python 3.13 and later run only on that worker.
EXPIRES_CRASHES_WORKER = sys.version_info >= (3, 13)


def platform_alteration(header: str) -> str | None:
    """Why the platform would not deliver this Set-Cookie as written, or None when it would."""
    pair, *attributes = header.split(";")
    name, equals, value = (part.strip() for part in pair.partition("="))
    if not equals or not _COOKIE_NAME.fullmatch(name) or name.lower() in _ATTRIBUTE_NAMES:
        return "it does not start with a valid name=value"
    if not _COOKIE_VALUE.fullmatch(value):
        return "its value holds characters the Functions host percent-encodes (only letters, digits and -._~ pass)"
    for attribute in attributes:
        key, has_value, argument = (part.strip() for part in attribute.partition("="))
        key = key.lower()
        if not key and not has_value:
            continue
        if key in _COOKIE_FLAGS and not has_value:
            continue
        if key == "samesite" and argument.lower() in _SAME_SITE:
            continue
        if key == "max-age" and argument.isdigit():
            continue
        if key == "domain" and _COOKIE_DOMAIN.fullmatch(argument):
            continue
        if key == "path" and _COOKIE_PATH.fullmatch(argument):
            continue
        if key == "expires" and _COOKIE_EXPIRES.fullmatch(argument):
            try:
                parsedate_to_datetime(argument)
                continue
            except (TypeError, ValueError):
                pass
        shown = attribute.strip()[:40]
        return (
            f"the Functions worker cannot carry its attribute {shown!r} (it passes only Domain, Path, Expires in "
            "GMT, integer Max-Age, Secure, HttpOnly and SameSite=Lax/Strict/None)"
        )
    # The worker's own parse must give back this one cookie with this value, nothing more.
    parsed = SimpleCookie()
    try:
        parsed.load(header)
    except CookieError:
        return "the Functions worker cannot parse it"
    if list(parsed) != [name] or parsed[name].value != value:
        return "the Functions worker would parse it into something else"
    return None


def expires_as_max_age(header: str, now: float | None = None) -> str:
    """The cookie with `Expires` given as `Max-Age`, for the worker that crashes on Expires: the seconds left until
    then (0 once past, which deletes the cookie as a past Expires does). A cookie that also has Max-Age just loses
    Expires, which browsers ignore beside Max-Age anyway (RFC 6265, 5.3 step 3). Expects a cookie
    `platform_alteration` passed."""
    pair, *attributes = header.split(";")
    names = [attribute.partition("=")[0].strip().lower() for attribute in attributes]
    if "expires" not in names:
        return header
    kept = [pair]
    for name, attribute in zip(names, attributes, strict=True):
        if name != "expires":
            kept.append(attribute)
        elif "max-age" not in names:
            when = parsedate_to_datetime(attribute.partition("=")[2].strip()).timestamp()
            seconds = max(0, int(when - (time.time() if now is None else now)))
            kept.append(f" Max-Age={seconds}")
    return ";".join(kept)
