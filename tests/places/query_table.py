"""Print the query table (query -> where it lands on the site and by SMS) as Markdown.

Run: .venv/bin/python -m tests.places.query_table
"""

from assistant.places.search import resolve_many
from tests.places.queries import QUERIES


def main() -> None:
    print("| query | site | SMS |")
    print("| --- | --- | --- |")
    for query, web, sms in resolve_many(q for q, _w, _s in QUERIES):
        print(f"| `{query}` | {web} | {sms} |")


if __name__ == "__main__":
    main()
