"""French agreements in the messages a user reads (issue 20 §6): « 1 échéance en
retard », « 3 échéances en retard », never « échéance(s) »."""


def agreed(count: int, one: str, many: str | None = None) -> str:
    """The words that follow a count, agreed with it: in French 0 and 1 take the singular
    (« 0 échéance », « 1 échéance », « 2 échéances »). `many` defaults to `one` + « s »;
    give it whenever that is not right (« bons de commande », « ateliers tenus »)."""
    if abs(count) < 2:
        return one
    return many if many is not None else one + "s"


def plural(count: int, one: str, many: str | None = None) -> str:
    """The count followed by its words agreed: « 3 échéances en retard »."""
    return f"{count} {agreed(count, one, many)}"
