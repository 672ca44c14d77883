"""Plain helpers shared by test modules; fixtures that use them live in tests/conftest.py.

No test module imports another test module (or conftest): what two of them share is here.
"""
