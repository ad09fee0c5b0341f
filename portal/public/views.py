"""The public pages. Rendered without the request's context processors: nothing of the visitor (session,
user, messages, CSRF token) can reach a page that is then served to everyone (portal/public/page_cache.py)."""

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe

from portal.context_processors import shell_urls
from portal.public.faq import faq_categories, faq_read_search
from portal.public.pages import wants_partial


def render_public(request: HttpRequest, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    """The page, or its `#<partial>` for HTMX, the same for everyone: browsers and shared caches may keep it
    but must ask again each time (ETag and Last-Modified make that a 304)."""
    name = f"{template}#{context['partial']}" if wants_partial(request) and "partial" in context else template
    body = loader.render_to_string(name, {**shell_urls(request), "public_page": True, **context})
    response = HttpResponse(body, status=status)
    patch_cache_control(response, public=True, no_cache=True)
    patch_vary_headers(response, ("HX-Request",))
    return response


ROBOTS_TXT = """User-agent: *
Disallow: /admin/
Allow: /
"""


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Search engines may read the public pages; everything else asks for a sign-in anyway."""
    response = HttpResponse(ROBOTS_TXT, content_type="text/plain; charset=utf-8")
    patch_cache_control(response, public=True, max_age=24 * 60 * 60)
    return response


@require_safe
def faq(request: HttpRequest) -> HttpResponse:
    """The FAQ by topic, or with `?q=` the answers that match (HTMX: the results and their status line)."""
    search = faq_read_search(raw=request.GET.get("q", ""))
    context = {"page_name": "faq", "partial": "faq-swap", "search": search}
    if not search.query:
        context["topics"] = faq_categories()
    return render_public(request, "public/faq.html", context)
