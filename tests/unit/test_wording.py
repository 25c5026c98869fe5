"""French agreement of counts (issue 20 §6): 0 and 1 take the singular."""
import pytest

from backoffice.rules.wording import agreed, number, plural


@pytest.mark.parametrize(("count", "expected"), [
    (0, "0 échéance en retard"),
    (1, "1 échéance en retard"),
    (2, "2 échéances en retard"),
    (161, "161 échéances en retard"),
    (12345, "12\u202f345 échéances en retard"),
])
def test_plural_agrees_every_word(count, expected):
    assert plural(count, "échéance en retard", "échéances en retard") == expected


@pytest.mark.parametrize(("count", "expected"), [(1, "jour"), (2, "jours"), (0, "jour")])
def test_agreed_adds_an_s_by_default(count, expected):
    assert agreed(count, "jour") == expected


def test_agreed_takes_the_given_plural():
    assert agreed(3, "bon de commande", "bons de commande") == "bons de commande"


@pytest.mark.parametrize(("count", "expected"), [
    (0, "0"),
    (999, "999"),
    (1000, "1\u202f000"),
    (193571, "193\u202f571"),
    (1000000, "1\u202f000\u202f000"),
    (-1200, "-1\u202f200"),
])
def test_a_whole_number_is_written_in_groups_of_three_with_a_narrow_space(count, expected):
    assert number(count) == expected
