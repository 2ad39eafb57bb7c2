"""A helper module beside the scoring script, imported as AML imports it (the code folder is on sys.path)."""

import re


def words(text):
    return re.findall(r"[a-z]+", text.lower())
