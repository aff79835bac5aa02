"""The README's examples are a doctest: every example in it must run and print what it says.

README.md is the landing page; the tour and every other page are docs/*.md, whose examples
tests/test_docs.py runs the same way.
"""

import doctest
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_examples() -> None:
    result = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
