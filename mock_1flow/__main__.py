"""``python -m mock_1flow`` is ``mock-1flow``."""

from .cli import main

main()
