"""A command's words read as kubectl's flag library (spf13/pflag, under cobra) reads them:
flags anywhere among the arguments up to a `--`, a value after `=` or in the next word (one
that may start with `-`), short flags run together, a Go bool's `=false`; a refusal in pflag's
words. The words are then handed to argparse in a form it cannot misread. Checked against
kubectl 1.32's pflag v1.0.5 and cobra v1.8.1.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence

from minikubelet.api.gofmt import go_quote, go_quote_rune
from minikubelet.errors import ManifestError

__all__ = ["FlagError", "flag_value_error", "go_flags"]


class FlagError(Exception):
    """A word pflag refuses, in its words."""


def go_flags(
    argv: Sequence[str], root: argparse.ArgumentParser, sub: argparse.ArgumentParser
) -> list[str]:
    """`argv` read as pflag reads a command's flags (root's and the command's, anywhere among
    the arguments, up to a `--`), a refusal raised in pflag's words; then rewritten for
    argparse: the root's flags, the command word (the first argument), the command's flags,
    each as one `--long=value` word (a value may start with `-`; a Go bool's read as Go does),
    then the other arguments (so `attach a -i b` gives argparse two)."""
    lookup = {**root._option_string_actions, **sub._option_string_actions}
    head: list[str] = []
    flags: list[str] = []
    words: list[str] = []
    for action, value in _pflag_words(list(argv), lookup):
        if action is None:
            words.append(value or "")
        else:
            (flags if action in sub._actions else head).extend(_flag_words(action, value))
    return head + words[:1] + flags + words[1:]


def _pflag_words(
    argv: list[str], lookup: dict[str, argparse.Action]
) -> Iterator[tuple[argparse.Action | None, str | None]]:
    """pflag's `parseArgs`: (flag, its value or None) and (None, argument) in order."""
    while argv:
        word = argv.pop(0)
        if word == "--":
            yield from ((None, rest) for rest in ["--", *argv])
            return
        if len(word) < 2 or word[0] != "-":
            yield None, word
        elif word[1] == "-":  # parseLongArg
            name, eq, value = word[2:].partition("=")
            if not name or name[0] in "-=":
                raise FlagError(f"bad flag syntax: {word}")
            action = lookup.get(f"--{name}")
            if action is None:
                raise FlagError(f"unknown flag: --{name}")
            if eq:
                yield action, value
            elif _no_value(action):
                yield action, None
            elif not argv:
                raise FlagError(f"flag needs an argument: {word}")
            else:
                yield action, argv.pop(0)
        else:  # parseSingleShortArg, for each letter
            shorts = word[1:]
            while shorts:
                letter = go_quote_rune(shorts[0])
                action = lookup.get(f"-{shorts[0]}")
                if action is None:
                    raise FlagError(f"unknown shorthand flag: {letter} in -{shorts}")
                if shorts[1:2] == "=" and len(shorts) > 2:
                    yield action, shorts[2:]
                    shorts = ""
                elif _no_value(action):
                    yield action, None
                    shorts = shorts[1:]
                elif len(shorts) > 1:
                    yield action, shorts[1:]
                    shorts = ""
                elif not argv:
                    raise FlagError(f"flag needs an argument: {letter} in -{shorts}")
                else:
                    yield action, argv.pop(0)
                    shorts = ""


def _no_value(action: argparse.Action) -> bool:
    """A flag that takes its value only after an `=` (pflag's NoOptDefVal): a bool, or an
    optional value."""
    return action.nargs in (0, "?") or _go_bool(action)


def _go_bool(action: argparse.Action) -> bool:
    """A flag kept as a "true"/"false" value (its being given matters, or its default is
    true): pflag's bool, whose value comes only after an `=`."""
    return tuple(action.choices or ()) == ("true", "false")


def _flag_words(action: argparse.Action, value: str | None) -> list[str]:
    """The flag for argparse: `--long=value`, a bool flag bare or not at all."""
    option = action.option_strings[-1]
    if action.nargs == 0 or _go_bool(action):
        on = True if value is None else _parse_bool(action, value)
        if _go_bool(action):
            return [f"{option}={'true' if on else 'false'}"]
        return [option] if on else []
    if value is None:  # nargs "?": the flag alone
        return [option]
    if action.type is int:
        value = str(_parse_int(action, value))
    return [f"{option}={value}"]


def _invalid_text(name: str, value: str, why: str) -> str:
    """pflag's `FlagSet.Set` error."""
    return f"invalid argument {go_quote(value)} for {go_quote(name)} flag: {why}"


def _invalid(action: argparse.Action, value: str, why: str) -> FlagError:
    names = action.option_strings
    name = f"{names[0]}, {names[-1]}" if len(names) > 1 else names[-1]
    return FlagError(_invalid_text(name, value, why))


def _parse_bool(action: argparse.Action, value: str) -> bool:
    """strconv.ParseBool."""
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise _invalid(action, value, f"strconv.ParseBool: parsing {go_quote(value)}: invalid syntax")


def _parse_int(action: argparse.Action, value: str) -> int:
    """strconv.ParseInt(value, 0, 64): a sign, then decimal, 0x, 0o, 0b or a leading-0 octal,
    `_` between digits; no spaces (which Python's int() would strip)."""
    sign = value[0] if value.startswith(("+", "-")) else ""
    body = value.removeprefix(sign)
    if len(body) > 1 and body[0] == "0" and body[1] in "0123456789_":
        body = "0o" + body[1:]
    why = "invalid syntax"
    if body.isascii() and not body.startswith(("+", "-")) and not any(c.isspace() for c in body):
        try:
            number = int(sign + body, 0)
        except ValueError:
            pass
        else:
            if -(2**63) <= number < 2**63:
                return number
            why = "value out of range"
    raise _invalid(action, value, f"strconv.ParseInt: parsing {go_quote(value)}: {why}")


def flag_value_error(flag: str, value: str, why: str, command: str) -> ManifestError:
    """A flag's value refused after parsing (a duration, read by the command), in the words
    and form of pflag's refusal at parse time: its error, then where to look."""
    return ManifestError(
        f"error: {_invalid_text(flag, value, why)}\nSee 'minikubelet {command} --help' for usage."
    )
