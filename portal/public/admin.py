from portal.public import faq_admin  # noqa: F401
