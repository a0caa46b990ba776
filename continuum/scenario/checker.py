"""Problems of a scenario collected, not raised one by one: :class:`ScenarioError` and
the checker every table parser writes into."""

from __future__ import annotations

import difflib

from continuum.validation import check_positive, check_real


class ScenarioError(ValueError):
    """Everything wrong with a scenario, one problem per line."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        super().__init__(f"{source}: {count}\n{lines}")


class Checker:
    """Collects problems instead of stopping at the first."""

    def __init__(self):
        self.problems: list[str] = []

    def add(self, message: str) -> None:
        self.problems.append(message)

    def keys(self, table: dict, allowed, where: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, list(allowed), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                known = ", ".join(sorted(allowed))
                self.add(f"{where}: unknown key {key!r}{hint} (known: {known})")

    def table(self, value, where: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(f"{where}: got {type(value).__name__} {value!r}; a table is required")
            return {}
        return value

    def number(self, table: dict, key: str, where: str, required=False, positive=False):
        if key not in table:
            if required:
                self.add(f"{where}: missing required entry {key!r}")
            return None
        return self.value(check_positive if positive else check_real, f"{where}.{key}", table[key])

    def value(self, check, name: str, value, *args):
        """``check(name, value, *args)`` (a :mod:`continuum.validation` check); its
        ValueError becomes one problem and ``None``."""
        try:
            return check(name, value, *args)
        except ValueError as error:
            self.add(str(error))
            return None

    def attempt(self, where: str, build, *args, **kwargs):
        """Call a constructor; its ValueError becomes one problem."""
        try:
            return build(*args, **kwargs)
        except (ValueError, KeyError, TypeError) as error:
            message = error.args[0] if error.args else str(error)
            self.add(f"{where}: {message}")
            return None
