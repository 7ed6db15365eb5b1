"""Errors of the launcher, shown to users as one red line (plus context) by the CLI."""


class LauncherError(Exception):
    """A service could not be started, stopped or reached; the message says what to do next."""


class SettingRefused(LauncherError):
    """A launcher setting names something its service would ignore (a runtime it does not run)."""
