"""Vietnamese number formats beside Django's own (which it falls back to for the rest).

Django's Vietnamese locale names "." as the thousands separator but sets no grouping, so
``intcomma`` wrote 100000 where a Vietnamese reader expects 100.000.
"""

NUMBER_GROUPING = 3
