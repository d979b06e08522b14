"""The QR code printed beside the online lookup's address, on the reporter's copy of the
registration form and on the progress-code slip: the address is long to type on a phone
(an elderly resident's first obstacle), a camera opens it with the case number already
filled in. The number only, never the progress code: an address lands in browser
histories and server logs, and the code is what keeps the case private."""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from django.http import HttpRequest
from django.urls import reverse

QR_ALT = "手机扫码打开网上查询页面（已填好编号，再输入查询码）"


def lookup_address(request: HttpRequest, number: str) -> str:
    """The lookup page's absolute address with the case number filled in."""
    path = reverse("online:lookup") + "?" + urlencode({"number": number})
    return request.build_absolute_uri(path)


def qr_data_uri(address: str) -> str:
    """A PNG (a raster image, so that a PDF carries it as drawn and a check can count
    it), medium error correction so a creased or smudged slip still scans."""
    return segno.make(address, error="m").png_data_uri(scale=4, border=2)
