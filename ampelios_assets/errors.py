"""Errors a user can act on: each message names the bad value and the fix."""


class AmpeliosError(Exception):
    """Base class for errors caused by input or settings, not by a bug."""


class EventFileError(AmpeliosError):
    """The events file is missing, empty or lacks required columns."""


class SettingError(AmpeliosError):
    """A setting or parameter has an invalid value."""
