"""Fetching ICE's lists from a fake ICE served on 127.0.0.1 (the network guard allows loopback)."""

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.ice_import.fetch import (
    ICE_287G_PAGE_URL_DEFAULT,
    Downloaded,
    FetchError,
    FetchOptions,
    download,
    fetch_new_lists,
    find_list_links,
    plan_fetch,
)
from assistant.ice_import.services import fetch_options

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ice-287g"
PARTICIPATING = (FIXTURES / "participatingAgencies05162025am.xlsx").read_bytes()
PENDING = (FIXTURES / "pendingAgencies05152025am.xlsx").read_bytes()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ICE_PAGE = """<!DOCTYPE html><html><head><title>287(g)</title></head><body>
<h2>Participating agencies</h2>
<p><a href="/doclib/about/287g/participatingAgencies05162025am.xlsx">Participating (XLSX)</a></p>
<h2>Pending agencies</h2>
<p><a href="{pending}">Pending (XLSX)</a></p>
<p><a href="/about">About</a> <a href="mailto:x@example.org">mail</a></p>
</body></html>"""


class FakeIce:
    """ICE's site as routes: path -> (status, content type, body, seconds to wait first)."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append((self.path, self.headers.get("User-Agent")))
                status, content_type, body, delay = fake.routes.get(
                    self.path, (404, "text/html", b"<html>Not found</html>", 0)
                )
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def page(self, html: str, path: str = "/identify-and-arrest/287g"):
        self.routes[path] = (200, "text/html; charset=utf-8", html.encode(), 0)
        return self.base + path

    def file(self, path: str, body: bytes, *, content_type=XLSX, status=200, delay=0):
        self.routes[path] = (status, content_type, body, delay)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ice():
    fake = FakeIce()
    yield fake
    fake.close()


def standard_ice(ice, *, pending_href="pendingAgencies05152025am.xlsx"):
    url = ice.page(ICE_PAGE.format(pending=pending_href))
    ice.file("/doclib/about/287g/participatingAgencies05162025am.xlsx", PARTICIPATING)
    ice.file("/identify-and-arrest/pendingAgencies05152025am.xlsx", PENDING)
    return FetchOptions(page_url=url, timeout=2)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_default_page_is_ices():
    assert ICE_287G_PAGE_URL_DEFAULT == "https://www.ice.gov/identify-and-arrest/287g"


def test_find_list_links_resolves_relative_links_and_keeps_only_lists():
    html = ICE_PAGE.format(pending="../files/pendingAgencies05152025am.xlsx?v=2") + (
        '<a href="/doclib/about/287g/participatingAgencies05162025am.xlsx">again</a>'
        '<a href="ftp://example.org/participatingAgencies01012025am.xlsx">ftp</a>'
        '<a href="javascript:participatingAgencies.xlsx">js</a>'
        '<a href="https://www.ice.gov/doclib/other/participatingAgencies.pdf">pdf</a>'
    )
    links = find_list_links(html, "https://www.ice.gov/identify-and-arrest/287g")
    assert links.participating == [
        "https://www.ice.gov/doclib/about/287g/participatingAgencies05162025am.xlsx"
    ]
    assert links.pending == ["https://www.ice.gov/files/pendingAgencies05152025am.xlsx?v=2"]


def test_a_new_list_is_found_downloaded_and_planned(ice):
    options = standard_ice(ice)
    result = fetch_new_lists(options, seen_sha256=set(), seen_names={})
    assert [item.name for item in result.planned] == [
        "pendingAgencies05152025am.xlsx",
        "participatingAgencies05162025am.xlsx",
    ]
    participating = result.planned[1]
    assert participating.kind == "participating"
    assert participating.downloaded.data == PARTICIPATING
    assert participating.downloaded.sha256 == sha(PARTICIPATING)
    assert participating.downloaded.content_type == XLSX
    assert not participating.newer_of_day
    assert all(agent and agent.startswith("know-your-police") for _path, agent in ice.requests)


def test_the_same_lists_again_are_nothing_new_even_renamed(ice):
    options = standard_ice(ice)
    seen_names = {
        "participatingAgencies05162025am.xlsx": sha(PARTICIPATING),
        # The pending list was imported before under another name: same content, not new.
        "pendingAgencies05142025pm.xlsx": sha(PENDING),
    }
    result = fetch_new_lists(options, seen_sha256=set(seen_names.values()), seen_names=seen_names)
    assert len(result.downloaded) == 2
    assert result.planned == []


def test_two_different_lists_under_one_name(ice):
    options = standard_ice(ice)
    earlier = b"PK\x03\x04 the list ICE published first under this name"
    seen_names = {"participatingAgencies05162025am.xlsx": sha(earlier)}
    result = fetch_new_lists(options, seen_sha256={sha(earlier)}, seen_names=seen_names)
    renamed = [item for item in result.planned if item.kind == "participating"]
    assert len(renamed) == 1
    assert renamed[0].name == "participatingAgencies05162025am_b.xlsx"
    assert renamed[0].newer_of_day
    assert renamed[0].same_name_as == "participatingAgencies05162025am.xlsx"
    assert renamed[0].downloaded.name == "participatingAgencies05162025am.xlsx"


def test_plan_takes_the_next_free_suffix_and_orders_by_ice_date():
    def item(name, body):
        return Downloaded(name=name, data=body, sha256=sha(body), content_type=XLSX)

    seen_names = {
        "pendingAgencies07112025am.xlsx": sha(b"first"),
        "pendingAgencies07112025am_b.xlsx": sha(b"second"),
    }
    planned = plan_fetch(
        [
            item("pendingAgencies07112025am.xlsx", b"third"),
            item("participatingAgencies07102025pm.xlsx", b"other"),
            item("pendingAgencies07112025am.xlsx", b"second"),  # already imported as _b
        ],
        set(seen_names.values()),
        seen_names,
    )
    assert [(p.name, p.newer_of_day) for p in planned] == [
        ("participatingAgencies07102025pm.xlsx", False),
        ("pendingAgencies07112025am_c.xlsx", True),
    ]


def test_a_timeout_is_an_error_and_nothing_is_planned(ice):
    options = standard_ice(ice)
    ice.file("/doclib/about/287g/participatingAgencies05162025am.xlsx", PARTICIPATING, delay=1.5)
    options = FetchOptions(page_url=options.page_url, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(FetchError, match="did not answer .* within 0.3 seconds"):
        fetch_new_lists(options, seen_sha256=set(), seen_names={})
    assert time.monotonic() - started < 1.2


def test_a_list_trickling_in_past_the_timeout_is_an_error(ice):
    original = ice.server.RequestHandlerClass.do_GET

    def do_get(handler):
        if handler.path != "/participatingAgencies05162025am.xlsx":
            return original(handler)
        handler.send_response(200)
        handler.send_header("Content-Type", XLSX)
        handler.send_header("Content-Length", "2000")
        handler.end_headers()
        try:
            for _part in range(20):
                handler.wfile.write(b"PK\x03\x04" + b"x" * 96)
                handler.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass

    ice.server.RequestHandlerClass.do_GET = do_get
    started = time.monotonic()
    with pytest.raises(FetchError, match="within 0.5 seconds"):
        download(
            ice.base + "/participatingAgencies05162025am.xlsx",
            timeout=0.5,
            max_bytes=10_000,
            user_agent="test",
        )
    assert time.monotonic() - started < 1


def test_an_html_error_page_at_the_list_url_is_refused(ice):
    options = standard_ice(ice)
    ice.file(
        "/identify-and-arrest/pendingAgencies05152025am.xlsx",
        b"<!DOCTYPE html><html><body>Access Denied</body></html>",
        content_type="text/html",
    )
    with pytest.raises(FetchError, match="web page, not a spreadsheet"):
        fetch_new_lists(options, seen_sha256=set(), seen_names={})


def test_an_http_error_is_refused(ice):
    options = standard_ice(ice)
    ice.file("/identify-and-arrest/pendingAgencies05152025am.xlsx", b"busy", status=503)
    with pytest.raises(FetchError, match="ICE answered 503"):
        fetch_new_lists(options, seen_sha256=set(), seen_names={})


def test_a_page_without_links_is_a_clear_error(ice):
    url = ice.page("<html><body><p>We are updating this page.</p></body></html>")
    with pytest.raises(FetchError, match="has no links to participatingAgencies"):
        fetch_new_lists(FetchOptions(page_url=url, timeout=2), seen_sha256=set(), seen_names={})


def test_a_list_larger_than_allowed_is_not_downloaded(ice):
    standard_ice(ice)
    url = ice.base + "/doclib/about/287g/participatingAgencies05162025am.xlsx"
    with pytest.raises(FetchError, match="larger than 1,000 bytes"):
        download(url, timeout=2, max_bytes=1000, user_agent="test")


@pytest.mark.parametrize("declared", [None, "900"], ids=["no length", "a lying length"])
def test_a_list_that_does_not_say_its_size_stops_being_read_past_the_limit(ice, declared):
    original = ice.server.RequestHandlerClass.do_GET
    sent = []

    def do_get(handler):
        if handler.path != "/participatingAgencies05162025am.xlsx":
            return original(handler)
        handler.protocol_version = "HTTP/1.0"  # no length: the body ends when the server closes
        handler.send_response(200)
        handler.send_header("Content-Type", XLSX)
        if declared:
            handler.send_header("Content-Length", declared)
        handler.end_headers()
        try:
            for _part in range(2_000):  # 200 MB if it were all read
                handler.wfile.write(b"PK\x03\x04" + b"x" * (100_000 - 4))
                sent.append(1)
        except (BrokenPipeError, ConnectionResetError):
            pass

    ice.server.RequestHandlerClass.do_GET = do_get
    url = ice.base + "/participatingAgencies05162025am.xlsx"
    if declared:  # what the server declared is all that is read
        assert len(download(url, timeout=5, max_bytes=1000, user_agent="test").data) == 900
        return
    with pytest.raises(FetchError, match="larger than 1,000,000 bytes"):
        download(url, timeout=5, max_bytes=1_000_000, user_agent="test")
    assert len(sent) < 2_000  # the download stopped; the server could not send it all


def test_the_fetch_reads_no_more_of_a_list_than_the_import_takes(settings):
    settings.ICE_SHEET_MAX_BYTES = 123_456
    options = fetch_options()
    assert options.max_list_bytes == 123_456 == options.limits.max_file_bytes


def test_a_redirect_to_another_scheme_is_not_followed(ice):
    # urllib alone refuses file: but follows ftp:; this fetch follows only http(s).
    original = ice.server.RequestHandlerClass.do_GET

    def do_get(handler):
        if handler.path == "/participatingAgencies05162025am.xlsx":
            handler.send_response(302)
            handler.send_header("Location", "ftp://127.0.0.1/participatingAgencies.xlsx")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        original(handler)

    ice.server.RequestHandlerClass.do_GET = do_get
    with pytest.raises(FetchError, match="redirected to ftp:.*not a web address"):
        download(
            ice.base + "/participatingAgencies05162025am.xlsx",
            timeout=2,
            max_bytes=10_000,
            user_agent="test",
        )


def test_a_non_http_url_is_refused():
    with pytest.raises(FetchError, match="not a web address"):
        download("file:///etc/passwd", timeout=1, max_bytes=1000, user_agent="test")
