from __future__ import annotations

from harness.loadgen.customers import LOCALES, CustomerBook


def test_same_seed_same_customers_other_seed_others() -> None:
    first, again, other = CustomerBook(300, seed=4), CustomerBook(300, seed=4), CustomerBook(300, seed=5)
    assert [first.customer(i) for i in range(300)] == [again.customer(i) for i in range(300)]
    assert [first.customer(i) for i in range(300)] != [other.customer(i) for i in range(300)]


def test_customers_are_unique_multi_locale_and_digit_only() -> None:
    book = CustomerBook(600, seed=1)
    people = [book.customer(i) for i in range(600)]
    assert len({p.wa_id for p in people}) == 600
    assert {p.locale for p in people} == set(LOCALES)
    for person in people:
        code, digits = LOCALES[person.locale]
        assert person.wa_id.isdigit() and person.wa_id.startswith(code)
        assert len(person.wa_id) == len(code) + digits
    assert book.customer(600) == book.customer(0)
