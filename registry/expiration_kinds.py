"""What the expiration list holds: its item types, and the kinds that narrow it."""

from registry.people.models import PERSON_KINDS

ITEM_TYPES = ("credential", "appointment", "agreement")
# ``kind`` narrows the list by what lapses or by whose it is: both value sets are disjoint.
KINDS = ITEM_TYPES + PERSON_KINDS
