"""The mixed workload of ``bench/load.py``: the demo's roles doing their daily work at once.

Every user logs in with its password (the second factor off in the server's environment), keeps
its session and fills the portal's real forms: the page is fetched, its CSRF token, fields and
choices are read from the HTML, and the form is posted back as a browser would.  A status other
than 2xx/3xx, a form that comes back with its errors, or a decision that is sent back to the
case with a refusal is a failure.

Who does what (the demo seed's accounts, see README "Demo logins"):
- ``grassroots`` officers browse, search, open cases (with an evidence file) for the people of
  their union, asking the ward union's fund or the province's social fund, and submit them;
- ``commune`` staff endorse the province-fund cases and approve the ward-fund ones;
- ``province`` staff approve what reached the province;
- ``treasurer-ward`` and ``treasurer`` pay what their union approved;
- ``leader`` reads the dashboard and asks for annual reports (queued to Celery).

Each user starts with its role's own work (so that even a 20-second run makes every kind of
write), then picks weighted tasks with 0.5-2 s between them.  Reviewers and treasurers logged
in under one account share the waiting cases by case id (``id % count == index``), so two of
them never race for the same decision: a lost race would be refused, rightly, and counted as
a failure.

The plan (accounts, password, the funds the cases ask) comes as JSON in ``LOAD_PLAN``.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import uuid
from html.parser import HTMLParser
from typing import ClassVar

from locust import HttpUser, between, task

PLAN = json.loads(os.environ.get("LOAD_PLAN") or "{}")
USERS = int(os.environ.get("LOAD_USERS") or 50)
PASSWORD = PLAN.get("password", "tuongthan-demo")
FUNDS = {int(pk) for pk in PLAN.get("funds", [])}
SEARCHES = ["nguyen", "tran thi", "hoang", "le van", "pham", "vu"]
# A file the evidence check takes for a PDF (it reads the first bytes).
EVIDENCE = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CASE_LINK = re.compile(r'href="/cases/(\d+)/"')
MEMBER_LINK = re.compile(r'href="/members/(\d+)/"')
# The case form's refusal for a person who restricted the processing of their data.
RESTRICTED = "đã yêu cầu hạn chế xử lý dữ liệu cá nhân"


class FormReader(HTMLParser):
    """The fields of every form on a page, as a browser would post them untouched: inputs with
    their values (checked boxes and radios only), selects with their selected option and the
    list of their choices, textareas with their text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select: str | None = None
        self._option: str | None = None
        self._textarea: str | None = None

    @property
    def _form(self) -> dict:
        if not self.forms:
            self.forms.append({"action": "", "fields": {}, "choices": {}, "files": []})
        return self.forms[-1]

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {"action": a.get("action", ""), "fields": {}, "choices": {}, "files": []}
            )
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "file":
                self._form["files"].append(a["name"])
            elif kind in ("checkbox", "radio"):
                self._form["choices"].setdefault(a["name"], []).append(a.get("value", "on"))
                if "checked" in a:
                    self._form["fields"][a["name"]] = a.get("value", "on")
            elif kind not in ("submit", "button", "reset"):
                self._form["fields"][a["name"]] = a.get("value", "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form["choices"][self._select] = []
            self._form["fields"].setdefault(self._select, "")
        elif tag == "option" and self._select:
            self._option = a.get("value", "")
            if self._option:
                self._form["choices"][self._select].append(self._option)
            if "selected" in a:
                self._form["fields"][self._select] = self._option
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self._form["fields"][self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._form["fields"][self._textarea] += data


def forms_of(html: str) -> list[dict]:
    reader = FormReader()
    reader.feed(html)
    return reader.forms


def form_posting_to(html: str, action: str) -> dict | None:
    return next((f for f in forms_of(html) if f["action"].endswith(action)), None)


def refusal_shown(html: str) -> bool:
    """A message the portal shows when it refused or did nothing (see templates/base.html)."""
    return 'class="alert alert-danger' in html or 'class="alert alert-info' in html


class PortalUser(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    username = ""
    _counter: ClassVar[itertools.count]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._counter = itertools.count()

    def on_start(self) -> None:
        self.index = next(type(self)._counter)
        page = self.client.get("/accounts/login/", name="login (form)")
        form = next((f for f in forms_of(page.text) if "username" in f["fields"]), None)
        data = dict(form["fields"] if form else {}, username=self.username, password=PASSWORD)
        with self.client.post(
            "/accounts/login/", data=data, name="login", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"login of {self.username} refused ({response.status_code})")
                return
        self.start_the_day()

    def start_the_day(self) -> None:
        """Each role's own work first, then the weighted mix: a short run still makes every
        kind of write."""

    # --- reading -------------------------------------------------------------------------

    @task(2)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(2)
    def case_list(self) -> None:
        page = self.client.get("/cases/", name="case list")
        ids = CASE_LINK.findall(page.text)
        if ids:
            self.client.get(f"/cases/{random.choice(ids)}/", name="case page")

    # --- deciding ------------------------------------------------------------------------

    def mine_waiting(self) -> list[int]:
        """The waiting cases this user's share holds (see the module's docstring)."""
        page = self.client.get("/cases/?waiting=1", name="case list, waiting for me")
        share = type(self).fixed_count or 1
        ids = sorted({int(pk) for pk in CASE_LINK.findall(page.text)})
        return [pk for pk in ids if pk % share == self.index % share]

    def decide(self, pk: int, actions: dict[str, dict]) -> bool:
        """Post the first of ``actions`` (name -> fields to set) the case page offers; whether
        one was offered."""
        page = self.client.get(f"/cases/{pk}/", name="case page")
        for action, values in actions.items():
            form = form_posting_to(page.text, f"/cases/{pk}/{action}/")
            if form is None:
                continue
            data = dict(form["fields"])
            data.update({k: v(data) if callable(v) else v for k, v in values.items()})
            self.post_decision(f"/cases/{pk}/{action}/", data, name=action, pk=pk)
            return True
        return False

    def post_decision(self, url: str, data: dict, *, name: str, pk: int, files=None) -> None:
        with self.client.post(
            url, data=data, files=files, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                status = response.status_code
                response.failure(f"{name} of case {pk}: the form came back ({status})")
                return
        # The page the decision sent us to shows a refusal or "nothing was recorded", if any.
        with self.client.get(f"/cases/{pk}/", name="case page", catch_response=True) as after:
            if refusal_shown(after.text):
                after.failure(f"{name} of case {pk} was refused")


class Officer(PortalUser):
    """Grassroots officer: most of the users, and every case starts with one."""

    username = "grassroots"
    weight = 6

    def on_start(self) -> None:
        self.drafts: list[int] = []
        self.members: list[str] = []
        super().on_start()

    def start_the_day(self) -> None:
        page = self.client.get("/members/", name="member list")
        self.members = MEMBER_LINK.findall(page.text)
        self.open_case()
        self.submit_case()

    @task(2)
    def member_list(self) -> None:
        self.client.get("/members/", name="member list")

    @task(2)
    def member_search(self) -> None:
        self.client.get("/members/", params={"q": random.choice(SEARCHES)}, name="member search")

    @task(3)
    def open_case(self) -> None:
        if not self.members:
            return
        member = random.choice(self.members)
        url = f"/cases/new/?member={member}"
        with self.client.get(url, name="case form", catch_response=True) as page:
            form = next((f for f in forms_of(page.text) if "fund" in f["fields"]), None)
            funds = [pk for pk in form["choices"]["fund"] if int(pk) in FUNDS] if form else []
            if not funds:
                page.failure("the case form offers none of the planned funds")
                return
        data = dict(form["fields"])
        data.update(
            category=random.choice(form["choices"]["category"]),
            support_type=random.choice(["grant", "visit"]),
            requested_amount=str(random.randrange(100_000, 500_001, 50_000)),
            fund=random.choice(funds),
            circumstances="Gia đình khó khăn, cần hỗ trợ (kiểm thử tải).",
        )
        files = {"evidence": ("giay-xac-nhan.pdf", EVIDENCE, "application/pdf")}
        with self.client.post(
            f"/cases/new/?member={member}",
            data=data,
            files=files,
            name="open case",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            found = re.search(r"/cases/(\d+)/$", response.headers.get("Location", ""))
            if response.status_code == 200 and RESTRICTED in response.text:
                # The person asked to restrict the processing of their data (the demo has one):
                # the refusal is the right answer; nobody opens a case for them again.
                response.success()
                self.members.remove(member)
                return
            if response.status_code != 302 or not found:
                response.failure(f"the case form came back ({response.status_code})")
                return
        self.drafts.append(int(found.group(1)))

    @task(3)
    def submit_case(self) -> None:
        if not self.drafts:
            return
        pk = self.drafts.pop(0)
        with self.client.get(f"/cases/{pk}/", name="case page", catch_response=True) as page:
            form = form_posting_to(page.text, f"/cases/{pk}/submit/")
            if form is None:
                page.failure(f"case {pk} offers no submit form to who opened it")
                return
        data = dict(form["fields"], comment="Đề nghị xem xét.")
        self.post_decision(f"/cases/{pk}/submit/", data, name="submit", pk=pk)


class WardReviewer(PortalUser):
    username = "commune"
    fixed_count = max(1, USERS // 12)

    def start_the_day(self) -> None:
        self.review()

    @task(5)
    def review(self) -> None:
        for pk in self.mine_waiting()[:3]:
            self.decide(
                pk,
                {
                    "approve": {"comment": "Đồng ý hỗ trợ."},
                    "endorse": {"comment": "Đề nghị cấp trên xem xét."},
                },
            )


class ProvinceApprover(PortalUser):
    username = "province"
    fixed_count = max(1, USERS // 12)

    def start_the_day(self) -> None:
        self.approve()

    @task(5)
    def approve(self) -> None:
        for pk in self.mine_waiting()[:3]:
            self.decide(pk, {"approve": {"comment": "Phê duyệt."}})


def _receipt(data: dict) -> str:
    return f"PT-{uuid.uuid4().hex[:10]}"


class WardTreasurer(PortalUser):
    username = "treasurer-ward"
    fixed_count = max(1, USERS // 25)

    def start_the_day(self) -> None:
        self.pay()

    @task(5)
    def pay(self) -> None:
        for pk in self.mine_waiting()[:3]:
            self.decide(pk, {"pay": {"receipt_reference": _receipt}})


class ProvinceTreasurer(WardTreasurer):
    username = "treasurer"


class Leader(PortalUser):
    username = "leader"
    fixed_count = max(1, USERS // 25)

    def start_the_day(self) -> None:
        self.request_report()

    @task(2)
    def dashboard(self) -> None:
        self.client.get("/dashboard/", name="dashboard figures")

    @task(2)
    def request_report(self) -> None:
        with self.client.get("/reports/", name="report list", catch_response=True) as page:
            form = next((f for f in forms_of(page.text) if "year" in f["fields"]), None)
            if form is None:
                page.failure("the report list has no request form")
                return
        data = dict(form["fields"], year=random.choice(form["choices"]["year"]))
        if form["choices"].get("union"):  # a choice of unions, or the only one, hidden
            data["union"] = random.choice(form["choices"]["union"])
        with self.client.post(
            "/reports/", data=data, name="request report", allow_redirects=False,
            catch_response=True,
        ) as response:  # fmt: skip
            found = re.search(r"/reports/(\d+)/$", response.headers.get("Location", ""))
            if response.status_code != 302 or not found:
                response.failure(f"the report form came back ({response.status_code})")
                return
        self.client.get(f"/reports/{found.group(1)}/status/", name="report status")
