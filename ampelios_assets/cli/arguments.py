"""Argument types shared by the subcommands."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive; give an integer of at least 1")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer of at least 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give 0 or more")
    return value


def cluster_count(text: str) -> int | str:
    """argparse type: "auto" or an integer of at least 1."""
    if text == "auto":
        return text
    return positive_int(text)


def source_id(text: str) -> int:
    """argparse type: a source id, a positive 32-bit integer."""
    from ampelios_assets.runs import SOURCE_ID_RANGE

    value = positive_int(text)
    if value > SOURCE_ID_RANGE[1]:
        raise argparse.ArgumentTypeError(f"{value} is above the largest source id {SOURCE_ID_RANGE[1]}")
    return value
