"""PII masking: e-mail addresses and public IP addresses, as datatrove 0.10.1's ``PIIFormatter`` (used by FineWeb)."""

from __future__ import annotations

import ipaddress
import re

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.registry import register
from curate.stage import Params, Stage, StepOutput

EMAIL = re.compile(
    r"\b[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[A-Za-z0-9](?:["
    r"A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|["
    r"01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[A-Za-z0-9-]*[A-Za-z0-9]:)])"
)
IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)")
#: cheap prefilters (Arrow, whole column at once): only documents that match them go through the Python regexes
_HAS_EMAIL = "@"
_HAS_IP = r"\d\.\d+\.\d+\.\d"


def is_public_ip(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_global
    except ValueError:
        return False


@register
class PiiMasker(Stage):
    """Replaces e-mail addresses and public IPv4 addresses in the text with harmless stand-ins; private, loopback
    and reserved addresses (192.168.x.x, 127.0.0.1, 10.x …) are left alone.

    Patterns, the public-only rule and the replacement values (example.com/.org addresses and IPs that did not
    answer pings) are datatrove's PIIFormatter, which FineWeb applies before release. Replacements cycle through
    the given values, restarting for every document (so a rerun gives the same text). Counters: emails_masked,
    ips_masked, documents_masked.
    """

    name = "pii"
    kind = "map"
    requires = ("text",)
    version = 1

    class Params(Params):
        remove_emails: bool = Field(True, description="mask e-mail addresses")
        remove_ips: bool = Field(True, description="mask IPv4 addresses")
        only_remove_public_ips: bool = Field(True, description="leave private/reserved addresses alone")
        email_replacement: list[str] = Field(
            ["email@example.com", "firstname.lastname@example.org"], description="replacements, used in turn"
        )
        ip_replacement: list[str] = Field(
            ["22.214.171.124", "126.96.36.199", "188.8.131.52", "184.108.40.206", "220.127.116.11", "18.104.22.168"],
            description="replacements, in turn",
        )

    def mask(self, text: str) -> tuple[str, int, int]:
        """(masked text, e-mails masked, IPs masked) for one document."""
        p = self.params
        emails = ips = 0
        if p.remove_emails and "@" in text:
            i = 0

            def email(_: re.Match) -> str:
                nonlocal i
                i += 1
                return p.email_replacement[(i - 1) % len(p.email_replacement)]

            text = EMAIL.sub(email, text)
            emails = i
        if p.remove_ips:
            j = 0

            def ip(m: re.Match) -> str:
                nonlocal j
                if p.only_remove_public_ips and not is_public_ip(m.group(0)):
                    return m.group(0)
                if not p.only_remove_public_ips:
                    try:
                        ipaddress.ip_address(m.group(0))
                    except ValueError:
                        return m.group(0)
                j += 1
                return p.ip_replacement[(j - 1) % len(p.ip_replacement)]

            text = IPV4.sub(ip, text)
            ips = j
        return text, emails, ips

    def process(self, table: pa.Table) -> StepOutput:
        if table.num_rows == 0:
            return StepOutput(table)
        text = table.column("text")
        candidates = pc.fill_null(
            pc.or_(pc.match_substring(text, _HAS_EMAIL), pc.match_substring_regex(text, _HAS_IP)), False
        )
        rows = pc.indices_nonzero(candidates).to_pylist()
        counters = {"emails_masked": 0, "ips_masked": 0, "documents_masked": 0}
        if not rows:
            return StepOutput(table, None, counters)
        texts = text.to_pylist()
        for r in rows:
            masked, emails, ips = self.mask(texts[r])
            if emails or ips:
                texts[r] = masked
                counters["emails_masked"] += emails
                counters["ips_masked"] += ips
                counters["documents_masked"] += 1
        col = table.schema.get_field_index("text")
        field = table.schema.field(col)
        return StepOutput(table.set_column(col, field, pa.array(texts, field.type)), None, counters)
