"""Fetch ICE's 287(g) lists from ICE's page: find the links, download, keep only what is new.

ICE replaces its spreadsheets every few days with no change log, and once published two
different lists under one file name on the same day. A list is new when its content is new:
a list already imported under another name is not, and a name seen before with other content is
a newer list of that day. Nothing here touches the database; a failure raises ``FetchError`` with
a message for the log, and nothing is returned to apply.
"""

import hashlib
import http.client
import posixpath
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

from django.utils.translation import gettext as _

from .bounds import SheetLimits, SheetTooLarge, check_spreadsheet_bounds
from .history import PARTICIPATING, PENDING, parse_list_name

ICE_287G_PAGE_URL_DEFAULT = "https://www.ice.gov/identify-and-arrest/287g"
USER_AGENT_DEFAULT = "know-your-police/0.1 (reads ICE's public 287(g) lists)"
ALLOWED_SCHEMES = ("http", "https")
ZIP_SIGNATURE = b"PK\x03\x04"
READ_CHUNK = 64 * 1024
LIST_NAME_RE = re.compile(r"^(participating|pending)Agencies[^/]*\.xlsx$", re.IGNORECASE)
SUFFIXES = [f"_{letter}" for letter in "bcdefghijklmnopqrstuvwxyz"]


class FetchError(Exception):
    """ICE's page or a list could not be fetched; the message says what happened, for the log."""


@dataclass(frozen=True)
class ListLinks:
    """The links to ICE's lists found on its page, in page order, without repeats."""

    participating: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[str]:
        return [*self.participating, *self.pending]


@dataclass(frozen=True)
class Downloaded:
    """A list as ICE served it: the file name from its link, the bytes and their SHA-256."""

    name: str
    data: bytes
    sha256: str
    content_type: str
    url: str = ""


@dataclass(frozen=True)
class PlannedList:
    """A downloaded list to import: new content, under the name to import it by.

    ``name`` is ICE's name, or ICE's name with a ``_b`` (``_c``…) suffix when ICE published
    different content under a name already imported: then ``newer_of_day`` is True and
    ``same_name_as`` is the name it shares.
    """

    downloaded: Downloaded
    name: str
    kind: str  # PARTICIPATING or PENDING
    newer_of_day: bool = False
    same_name_as: str = ""


@dataclass(frozen=True)
class FetchOptions:
    """Where ICE's page is and how long and how much to wait for (settings, given by the caller)."""

    page_url: str = ICE_287G_PAGE_URL_DEFAULT
    timeout: float = 30.0  # seconds, for the whole of each request
    max_page_bytes: int = 5 * 1024 * 1024
    max_list_bytes: int = 20 * 1024 * 1024
    user_agent: str = USER_AGENT_DEFAULT
    limits: SheetLimits | None = None  # when set, a list beyond them is refused as a FetchError


@dataclass(frozen=True)
class FetchResult:
    links: ListLinks
    downloaded: list[Downloaded]
    planned: list[PlannedList]  # empty when nothing is new


class _LinkParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs = []
        self.base = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "base" and values.get("href") and self.base is None:
            self.base = values["href"]
        elif tag == "a" and values.get("href"):
            self.hrefs.append(values["href"].strip())


def file_name(url: str) -> str:
    """Return the file name at the end of a URL's path (``participatingAgencies….xlsx``)."""
    return unquote(posixpath.basename(urlsplit(url).path))


def list_kind(name: str) -> str | None:
    """Return PARTICIPATING or PENDING for one of ICE's list names, else None."""
    match = LIST_NAME_RE.match(name)
    return match.group(1).lower() if match else None


def find_list_links(html: str, base_url: str) -> ListLinks:
    """Return the links to ``participatingAgencies*.xlsx`` and ``pendingAgencies*.xlsx``.

    Relative links are resolved against the page (or its ``<base href>``); only http(s) links
    are kept. The result may be empty: ``fetch_new_lists`` says so as an error.
    """
    parser = _LinkParser()
    parser.feed(html)
    parser.close()
    base = urljoin(base_url, parser.base) if parser.base else base_url
    participating, pending, seen = [], [], set()
    for href in parser.hrefs:
        url = urljoin(base, href)
        if urlsplit(url).scheme.lower() not in ALLOWED_SCHEMES or url in seen:
            continue
        kind = list_kind(file_name(url))
        if kind is None:
            continue
        seen.add(url)
        (participating if kind == PARTICIPATING else pending).append(url)
    return ListLinks(participating=participating, pending=pending)


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only (urllib alone would also follow one to ftp)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme.lower() not in ALLOWED_SCHEMES:
            raise FetchError(
                _("%(url)s redirected to %(target)s, which is not a web address.")
                % {"url": req.full_url, "target": newurl}
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def _get(url: str, *, timeout: float, max_bytes: int, user_agent: str, accept: str):
    """Return (content type, bytes) for a URL, within ``timeout`` seconds and ``max_bytes``."""
    if urlsplit(url).scheme.lower() not in ALLOWED_SCHEMES:
        raise FetchError(_("%(url)s is not a web address (http or https).") % {"url": url})
    headers = {"User-Agent": user_agent, "Accept": accept}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked above)
    deadline = time.monotonic() + timeout
    timed_out = FetchError(
        _("ICE did not answer %(url)s within %(seconds)s seconds.")
        % {"url": url, "seconds": f"{timeout:g}"}
    )
    too_big = FetchError(
        _("%(url)s is larger than %(limit)s bytes; it was not downloaded.")
        % {"url": url, "limit": f"{max_bytes:,}"}
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            declared = response.headers.get("Content-Length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
                raise too_big
            parts, total = [], 0
            while True:
                if time.monotonic() > deadline:
                    raise timed_out
                part = response.read1(READ_CHUNK)  # what has come, not a full chunk
                if not part:
                    break
                total += len(part)
                if total > max_bytes:
                    raise too_big
                parts.append(part)
            return content_type, b"".join(parts)
    except urllib.error.HTTPError as error:
        raise FetchError(
            _("ICE answered %(status)s %(reason)s for %(url)s.")
            % {"status": error.code, "reason": error.reason, "url": url}
        ) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise timed_out from None
        raise FetchError(
            _("Could not reach %(url)s: %(reason)s.") % {"url": url, "reason": error.reason}
        ) from None
    except TimeoutError:
        raise timed_out from None
    except (http.client.HTTPException, OSError, ValueError) as error:
        raise FetchError(
            _("Could not read %(url)s: %(reason)s.") % {"url": url, "reason": error}
        ) from None


def fetch_page(url: str, *, timeout: float, max_bytes: int, user_agent: str) -> str:
    """Return ICE's 287(g) page as text."""
    content_type, data = _get(
        url, timeout=timeout, max_bytes=max_bytes, user_agent=user_agent, accept="text/html"
    )
    match = re.search(r"charset=([\w-]+)", content_type or "", re.IGNORECASE)
    try:
        return data.decode(match.group(1) if match else "utf-8", errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def download(url: str, *, timeout: float, max_bytes: int, user_agent: str) -> Downloaded:
    """Download one of ICE's lists; raise ``FetchError`` unless the answer is an xlsx file."""
    content_type, data = _get(
        url,
        timeout=timeout,
        max_bytes=max_bytes,
        user_agent=user_agent,
        accept="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, */*;q=0.5",
    )
    name = file_name(url)
    if data[:4] != ZIP_SIGNATURE:
        if "html" in content_type.lower() or data.lstrip()[:1] == b"<":
            raise FetchError(
                _("ICE answered a web page, not a spreadsheet, for %(url)s.") % {"url": url}
            )
        raise FetchError(
            _("What ICE answered for %(url)s is not an xlsx spreadsheet (%(type)s).")
            % {"url": url, "type": content_type or _("no content type")}
        )
    return Downloaded(
        name=name,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        url=url,
    )


def _with_suffix(name: str, suffix: str) -> str:
    stem, dot, extension = name.rpartition(".")
    return f"{stem}{suffix}{dot}{extension}"


def _order_key(planned: PlannedList, position: int) -> tuple:
    parsed = parse_list_name(planned.name)
    if parsed is None:
        return (1, position)
    return (0, parsed.order_key, parsed.kind != PENDING, position)


def plan_fetch(
    downloads: list[Downloaded], seen_sha256: set[str], seen_names: dict[str, str]
) -> list[PlannedList]:
    """Return the downloaded lists whose content has not been imported, in ICE's order.

    ``seen_sha256``: the SHA-256 of every list already imported, under whatever name.
    ``seen_names``: each imported file name with its SHA-256. A download whose name is
    imported with other content is planned under that name with a free ``_b``/``_c``… suffix,
    marked as a newer list of that day.
    """
    planned, taken_sha, taken_names = [], set(seen_sha256), dict(seen_names)
    for item in downloads:
        if item.sha256 in taken_sha:
            continue
        kind = list_kind(item.name) or (
            PENDING if "pending" in item.name.lower() else PARTICIPATING
        )
        name, same_name_as = item.name, ""
        if name in taken_names:
            same_name_as = name
            free = (_with_suffix(name, suffix) for suffix in SUFFIXES)
            name = next((candidate for candidate in free if candidate not in taken_names), "")
            if not name:
                continue  # 25 lists under one name in a day: not ICE's
        taken_sha.add(item.sha256)
        taken_names[name] = item.sha256
        planned.append(
            PlannedList(
                downloaded=item,
                name=name,
                kind=kind,
                newer_of_day=bool(same_name_as),
                same_name_as=same_name_as,
            )
        )
    positions = {id(item): position for position, item in enumerate(planned)}
    return sorted(planned, key=lambda item: _order_key(item, positions[id(item)]))


def fetch_new_lists(
    options: FetchOptions, *, seen_sha256: set[str], seen_names: dict[str, str]
) -> FetchResult:
    """Read ICE's page, download every list it links to, and return what is new.

    Every list is downloaded before anything is returned: a timeout, an error page or a
    page without links raises ``FetchError`` and the caller has nothing to apply.
    """
    html = fetch_page(
        options.page_url,
        timeout=options.timeout,
        max_bytes=options.max_page_bytes,
        user_agent=options.user_agent,
    )
    links = find_list_links(html, options.page_url)
    if not links.participating and not links.pending:
        raise FetchError(
            _(
                "ICE's page %(url)s has no links to participatingAgencies or pendingAgencies "
                "spreadsheets: ICE may have changed the page. Nothing was imported."
            )
            % {"url": options.page_url}
        )
    downloads = []
    for url in links.all:
        item = download(
            url,
            timeout=options.timeout,
            max_bytes=options.max_list_bytes,
            user_agent=options.user_agent,
        )
        if options.limits is not None:
            try:
                check_spreadsheet_bounds(item.data, item.name, options.limits)
            except SheetTooLarge as error:
                raise FetchError(str(error)) from None
        downloads.append(item)
    planned = plan_fetch(downloads, seen_sha256, seen_names)
    return FetchResult(links=links, downloaded=downloads, planned=planned)
