"""The public site pages: the interest-rate sheet and the FAQ, edited by staff in admin, read by anyone
without signing in, and served whole from a cache (portal/public/page_cache.py)."""
