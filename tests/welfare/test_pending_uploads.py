"""Evidence files that outlive a case form's errors: kept for their owner as pending uploads,
listed on the form shown again, attached on the next valid save, cleaned after a day.  And the
case page's smaller things: the return reason beside the resubmit button, the evidence upload
that is optional and no longer marked required."""

from __future__ import annotations

import datetime
import os
import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from common.templatetags.people import person_name
from welfare.cases import approvals
from welfare.cases.evidence import MAX_FILES, KeptFileLost, add_evidence, keep_uploads
from welfare.models import Case, CaseStatus, Evidence, PendingUpload

from ..access import told
from .conftest import JPEG, PDF, PNG

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"cases:{name}", args=args)


def create_url(world) -> str:
    return url("create") + f"?member={world.member_a1.pk}"


def case_data(fund, **overrides) -> dict:
    data = {
        "category": "disaster",
        "circumstances": "Nhà bị sập do lũ quét, cả gia đình phải ở nhờ.",
        "support_type": "grant",
        "requested_amount": "2.500.000",
        "fund": fund.pk,
    }
    data.update(overrides)
    return data


def chosen() -> list[SimpleUploadedFile]:
    """What an officer picks on a phone: two good files and a text file named .pdf."""
    return [
        SimpleUploadedFile("giay-ra-vien.pdf", PDF, content_type="application/pdf"),
        SimpleUploadedFile("anh-nha-sap.jpg", JPEG, content_type="image/jpeg"),
        SimpleUploadedFile("ghi-chu.pdf", b"chi la van ban", content_type="application/pdf"),
    ]


def tokens(response) -> list[str]:
    return re.findall(r'name="kept" value="([^"]+)"', response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def lost_message(count: int) -> str:
    with translation.override("vi"):
        return ngettext(
            "%(count)d file kept from your earlier try is no longer kept (kept files are "
            "removed after a day) and was not attached. Choose it again.",
            "%(count)d files kept from your earlier try are no longer kept (kept files are "
            "removed after a day) and were not attached. Choose them again.",
            count,
        ) % {"count": count}


def stored(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


# --- kept across an error -------------------------------------------------------------------


def test_new_case_form_keeps_the_good_files_across_an_invalid_amount(client_for, world, funds):
    officer = client_for("grassroots")
    response = officer.post(
        create_url(world),
        {**case_data(funds.social, requested_amount="hai triệu"), "evidence": chosen()},
    )
    assert response.status_code == 200
    assert not Case.objects.exists()
    form = response.context["form"]
    assert [upload.original_name for upload in form.kept] == ["giay-ra-vien.pdf", "anh-nha-sap.jpg"]
    # The refused file is named, the kept ones listed with a box to leave each out.
    assert form.errors["evidence"] == [
        told("%(name)s is not a PDF, JPEG or PNG file.", name="ghi-chu.pdf")
    ]
    page = response.content.decode()
    assert "Đã giữ lại 2 tệp: giay-ra-vien.pdf, anh-nha-sap.jpg" in page
    assert page.count('name="kept_drop"') == 2
    assert len(tokens(response)) == 2

    kept = list(PendingUpload.objects.order_by("id"))
    assert [(p.owner, p.case, p.content_type, p.size) for p in kept] == [
        (world.users["grassroots"], None, "application/pdf", len(PDF)),
        (world.users["grassroots"], None, "image/jpeg", len(JPEG)),
    ]
    assert all(p.file.name.startswith("pending/") for p in kept)
    assert stored(kept[1].file.name).read_bytes() == JPEG


def test_the_next_valid_post_attaches_the_kept_files_with_their_names_and_bytes(
    client_for, world, funds, django_capture_on_commit_callbacks
):
    officer = client_for("grassroots")
    first = officer.post(
        create_url(world), {**case_data(funds.social, requested_amount="0"), "evidence": chosen()}
    )
    kept_files = [stored(p.file.name) for p in PendingUpload.objects.all()]
    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(
            create_url(world), {**case_data(funds.social), "kept": tokens(first)}
        )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.requested_amount == 2_500_000
    evidence = list(case.evidence.order_by("id"))
    assert [(e.original_name, e.content_type) for e in evidence] == [
        ("giay-ra-vien.pdf", "application/pdf"),
        ("anh-nha-sap.jpg", "image/jpeg"),
    ]
    assert [Path(e.file.path).read_bytes() for e in evidence] == [PDF, JPEG]
    assert all(e.file.name.startswith(f"evidence/{case.pk}/") for e in evidence)
    # The pending rows and their files are gone.
    assert not PendingUpload.objects.exists()
    assert not any(path.exists() for path in kept_files)


def test_kept_and_newly_chosen_files_are_attached_together(client_for, world, funds):
    officer = client_for("grassroots")
    first = officer.post(
        create_url(world),
        {**case_data(funds.social, circumstances=""), "evidence": chosen()[:1]},
    )
    png = SimpleUploadedFile("so-ho-ngheo.png", PNG, content_type="image/png")
    officer.post(
        create_url(world), {**case_data(funds.social), "kept": tokens(first), "evidence": png}
    )
    names = Case.objects.get().evidence.values_list("original_name", flat=True)
    assert sorted(names) == ["giay-ra-vien.pdf", "so-ho-ngheo.png"]


def test_edit_form_keeps_the_files_across_an_error_and_attaches_them(
    client_for, world, make_case, django_capture_on_commit_callbacks
):
    case = make_case("draft")
    officer = client_for("grassroots")
    response = officer.post(
        url("edit", case.pk),
        {**case_data(case.fund, requested_amount="-5"), "evidence": chosen()},
    )
    assert response.status_code == 200
    assert Case.objects.get(pk=case.pk).requested_amount == 3_000_000
    assert [p.original_name for p in response.context["form"].kept] == [
        "giay-ra-vien.pdf",
        "anh-nha-sap.jpg",
    ]
    assert set(PendingUpload.objects.values_list("case", flat=True)) == {case.pk}
    assert "Đã giữ lại 2 tệp" in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(
            url("edit", case.pk), {**case_data(case.fund), "kept": tokens(response)}
        )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.requested_amount == 2_500_000
    assert list(case.evidence.values_list("original_name", flat=True)) == [
        "giay-xac-nhan.pdf",  # attached when the case was made
        "giay-ra-vien.pdf",
        "anh-nha-sap.jpg",
    ]
    assert not PendingUpload.objects.exists()


def test_evidence_form_on_the_case_page_keeps_the_good_files(client_for, world, make_case):
    case = make_case("draft")
    officer = client_for("grassroots")
    response = officer.post(url("evidence_add", case.pk), {"files": chosen()})
    assert response.status_code == 200
    form = response.context["forms"]["evidence"]
    assert form.errors["files"] == [
        told("%(name)s is not a PDF, JPEG or PNG file.", name="ghi-chu.pdf")
    ]
    assert [p.original_name for p in form.kept] == ["giay-ra-vien.pdf", "anh-nha-sap.jpg"]
    assert case.evidence.count() == 1

    response = officer.post(url("evidence_add", case.pk), {"kept": tokens(response)})
    assert response.status_code == 302
    assert case.evidence.count() == 3
    assert not PendingUpload.objects.exists()


# --- whose token, which token ----------------------------------------------------------------


def test_another_users_token_is_never_attached(client_for, world, funds):
    first = client_for("grassroots").post(
        create_url(world), {**case_data(funds.social, requested_amount=""), "evidence": chosen()}
    )
    theirs = tokens(first)
    # Another officer of the same union posts the first one's tokens with a valid case.
    chair = client_for("a1_chair")
    response = chair.post(create_url(world), {**case_data(funds.social), "kept": theirs})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.created_by == world.users["a1_chair"]
    assert not case.evidence.exists()
    assert any("không còn nữa" in message for message in messages_of(response))
    # The owner's kept files are untouched and still theirs.
    assert PendingUpload.objects.filter(owner=world.users["grassroots"]).count() == 2


def test_a_token_is_not_used_by_the_service_for_someone_else(world, make_case):
    case = make_case("draft")
    [theirs] = keep_uploads(files=chosen()[:1], by=world.users["a1_chair"], case=None)
    with pytest.raises(KeptFileLost):
        add_evidence(case=case, files=[], kept=[theirs], by=world.users["grassroots"])
    assert case.evidence.count() == 1
    assert PendingUpload.objects.filter(pk=theirs.pk).exists()


def test_a_ticked_file_is_left_out_and_deleted(
    client_for, world, funds, django_capture_on_commit_callbacks
):
    officer = client_for("grassroots")
    first = officer.post(
        create_url(world), {**case_data(funds.social, requested_amount="x"), "evidence": chosen()}
    )
    keep, drop = tokens(first)
    dropped = PendingUpload.objects.get(token=drop)
    dropped_file = stored(dropped.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        response = officer.post(
            create_url(world),
            {**case_data(funds.social), "kept": [keep, drop], "kept_drop": [drop]},
        )
    assert response.status_code == 302
    assert list(Case.objects.get().evidence.values_list("original_name", flat=True)) == [
        "giay-ra-vien.pdf"
    ]
    assert not PendingUpload.objects.exists()
    assert not dropped_file.exists()


def test_a_ticked_file_stays_out_when_the_form_errs_again(client_for, world, funds):
    officer = client_for("grassroots")
    first = officer.post(
        create_url(world), {**case_data(funds.social, requested_amount="x"), "evidence": chosen()}
    )
    keep, drop = tokens(first)
    again = officer.post(
        create_url(world),
        {**case_data(funds.social, requested_amount="y"), "kept": [keep, drop], "kept_drop": drop},
    )
    assert tokens(again) == [keep]
    assert "Đã giữ lại 1 tệp: giay-ra-vien.pdf" in again.content.decode()


def test_a_cleaned_token_is_said_plainly_not_a_500(client_for, world, funds):
    officer = client_for("grassroots")
    first = officer.post(
        create_url(world), {**case_data(funds.social, requested_amount="x"), "evidence": chosen()}
    )
    PendingUpload.objects.all().delete()  # cleaned overnight
    again = officer.post(
        create_url(world), {**case_data(funds.social, requested_amount="x"), "kept": tokens(first)}
    )
    assert again.status_code == 200
    lost = lost_message(2)
    assert again.context["form"].errors["evidence"] == [lost]

    saved = officer.post(
        create_url(world), {**case_data(funds.social), "kept": [*tokens(first), "rác"]}
    )
    assert saved.status_code == 302
    assert not Case.objects.get().evidence.exists()
    assert lost_message(3) in messages_of(saved)


def test_a_case_holds_at_most_twenty_files(client_for, world, make_case):
    case = make_case("draft")  # one file already
    many = [
        SimpleUploadedFile(f"anh-{n}.png", PNG, content_type="image/png") for n in range(MAX_FILES)
    ]
    response = client_for("grassroots").post(url("evidence_add", case.pk), {"files": many})
    assert response.status_code == 200
    assert case.evidence.count() == 1
    assert (
        told(
            "A case holds at most %(max)d evidence files; this would make %(count)d.",
            max=MAX_FILES,
            count=MAX_FILES + 1,
        )
        in response.context["forms"]["evidence"].errors["files"]
    )


# --- cleaning ------------------------------------------------------------------------------


def test_clean_command_deletes_only_the_old_ones_rows_and_files(
    world, media_root, django_capture_on_commit_callbacks
):
    by = world.users["grassroots"]
    old, fresh = keep_uploads(files=chosen()[:2], by=by)
    PendingUpload.objects.filter(pk=old.pk).update(
        created_at=timezone.now()
        - datetime.timedelta(hours=settings.PENDING_UPLOAD_HOURS, minutes=5)
    )
    # A file left in pending/ without its row (a crash between the two), a day old.
    orphan = default_storage.save("pending/mo-coi.pdf", ContentFile(PDF))
    day_ago = (timezone.now() - datetime.timedelta(days=2)).timestamp()
    os.utime(stored(orphan), (day_ago, day_ago))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("clean_pending_uploads", stdout=StringIO())

    assert list(PendingUpload.objects.all()) == [fresh]
    assert not stored(old.file.name).exists()
    assert stored(fresh.file.name).read_bytes() == JPEG
    assert not stored(orphan).exists()


def test_cleaning_runs_daily_by_celery_beat():
    scheduled = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "welfare.tasks.clean_pending_uploads" in scheduled


# --- the case page -------------------------------------------------------------------------


def test_returned_case_shows_who_when_and_why_above_the_resubmit_button(
    client_for, world, make_case, django_assert_max_num_queries
):
    case = make_case("submitted")
    approvals.return_case(case=case, by=world.users["commune"], comment="Thiếu giấy ra viện.")
    officer = client_for("grassroots")
    with django_assert_max_num_queries(12):
        response = officer.get(url("detail", case.pk))
    page = response.content.decode()
    decision = page[page.index('id="decision"') :]
    reason = decision[decision.index('id="returned-reason"') : decision.index("/submit/")]
    returned = case.events.get(action="returned")
    assert "Thiếu giấy ra viện." in reason
    assert person_name(world.users["commune"]) in reason
    assert world.commune_a.name in reason
    assert timezone.localtime(returned.at).strftime("%d/%m/%Y %H:%M") in reason
    assert "Gửi lại để phê duyệt" in decision  # the resubmit button follows the reason


def test_only_the_last_return_is_shown_and_not_once_resubmitted(client_for, world, make_case):
    case = make_case("submitted")
    commune, officer = world.users["commune"], world.users["grassroots"]
    approvals.return_case(case=case, by=commune, comment="Lần một: thiếu ảnh.")
    approvals.submit_case(case=Case.objects.get(pk=case.pk), by=officer)
    approvals.return_case(
        case=Case.objects.get(pk=case.pk), by=commune, comment="Lần hai: sai số tiền."
    )
    page = client_for("grassroots").get(url("detail", case.pk)).content.decode()
    box = page[page.index('id="returned-reason"') :]
    box = box[: box.index("</div>\n                </div>")]
    assert "Lần hai: sai số tiền." in box and "Lần một" not in box

    approvals.submit_case(case=Case.objects.get(pk=case.pk), by=officer)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    assert (
        'id="returned-reason"'
        not in client_for("grassroots").get(url("detail", case.pk)).content.decode()
    )


def test_the_optional_evidence_upload_is_not_marked_required(client_for, world, make_case):
    case = make_case("draft")
    officer = client_for("grassroots")
    page = officer.get(url("detail", case.pk)).content.decode()
    upload = page[page.index('/evidence/"') :]
    upload = upload[: upload.index("</form>")]
    assert "asteriskField" not in upload
    assert not re.search(r'<input[^>]*name="files"[^>]*required', upload)
    # Sending it empty says what to do, and adds nothing.
    response = officer.post(url("evidence_add", case.pk), {})
    assert response.status_code == 200
    assert response.context["forms"]["evidence"].errors["files"] == [
        told("Choose at least one file to upload.")
    ]
    assert Evidence.objects.filter(case=case).count() == 1
