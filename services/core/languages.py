"""The languages Vmeste speaks (the gettext catalogues in ``locales/``)."""

SUPPORTED_LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "en"
