"""French agreements in the messages a user reads (issue 20 §6): « 1 échéance en
retard », « 3 échéances en retard », never « échéance(s) »; and whole numbers written the
French way, in groups of three: « 193 571 parcours en cours »."""

#: The French thousands separator: a narrow no-break space (the number never wraps).
THOUSANDS = "\u202f"


def number(count: int) -> str:
    """A whole number as a French reader writes it: « 193 571 », « -1 200 », « 999 »."""
    return f"{count:,}".replace(",", THOUSANDS)


def agreed(count: int, one: str, many: str | None = None) -> str:
    """The words that follow a count, agreed with it: in French 0 and 1 take the singular
    (« 0 échéance », « 1 échéance », « 2 échéances »). `many` defaults to `one` + « s »;
    give it whenever that is not right (« bons de commande », « ateliers tenus »)."""
    if abs(count) < 2:
        return one
    return many if many is not None else one + "s"


def plural(count: int, one: str, many: str | None = None) -> str:
    """The count followed by its words agreed: « 3 échéances en retard »."""
    return f"{number(count)} {agreed(count, one, many)}"
