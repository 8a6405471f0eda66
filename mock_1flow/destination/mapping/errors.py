"""A mapping that cannot be used: refused when it is loaded, never at send time."""


class MappingError(ValueError):
    """The message names the mapping and what is wrong."""
