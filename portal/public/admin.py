from portal.public import faq_admin, rates_admin  # noqa: F401 - they register the admin classes
