"""Files in and out of a running session through the platform's own endpoints: the agent writes
uploads into ~/Uploads and streams downloads back, as the container's user; limits, paths, group
policy and everyone but the owner refused."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts.models import GroupPolicy
from apps.agents.runtime.docker import container_exec
from apps.common.models import RuntimeSetting
from apps.sessions.choices import SessionStatus
from apps.sessions.services import session_request
from apps.sessions.sharing import session_sharing_enable, share_join
from apps.sessions.transfers import TransferRefused, home_path_checked, upload_name_checked
from tests.sessions.test_session_lifecycle import wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)
BYTES = bytes(range(256)) * 5000  # 1.28 MB: more than one piece each way


@pytest.mark.parametrize(
    ("name", "checked"), [("report.pdf", "report.pdf"), ("C:\\Users\\me\\a.txt", "a.txt"), ("../../x\n", "x")]
)
def test_upload_names_keep_only_their_last_part(name, checked):
    assert upload_name_checked(name) == checked


@pytest.mark.parametrize("name", ["", "..", "dir/", "\x00"])
def test_upload_names_that_say_nothing_are_refused(name):
    with pytest.raises(TransferRefused):
        upload_name_checked(name)


@pytest.mark.parametrize(("path", "checked"), [("", ""), ("/Downloads/", "Downloads"), ("a/./b/../c", "a/c")])
def test_paths_stay_in_the_home(path, checked):
    assert home_path_checked(path) == checked


@pytest.mark.parametrize("path", ["..", "../etc/passwd", "Downloads/../../x"])
def test_paths_out_of_the_home_are_refused(path):
    with pytest.raises(TransferRefused, match="outside your home"):
        home_path_checked(path)


def test_files_go_in_and_come_out_for_the_owner_only(platform, alice, carol, busybox_image, docker_url):
    session = wait_for_status(session_request(user=alice, image=busybox_image).session, SessionStatus.RUNNING)
    owner = Client()
    owner.force_login(alice)
    base = f"/session/{session.hex_id}/files"

    files = [SimpleUploadedFile("data.bin", BYTES), SimpleUploadedFile("data.bin", b"second")]
    answer = owner.post(f"{base}/upload/", {"files": files})
    assert answer.json() == {"uploaded": ["data.bin", "data (1).bin"]}  # a name in use is not overwritten
    listing = container_exec(docker_url, session.container_id, cmd=["sh", "-c", "ls -n $HOME/Uploads"])[1]
    assert "data.bin" in listing and "data (1).bin" in listing and " 1000 " in listing  # the container's user owns them

    assert owner.get(f"{base}/?path=Uploads").json()["entries"] == [
        {"name": "data (1).bin", "is_directory": False, "size": 6},
        {"name": "data.bin", "is_directory": False, "size": len(BYTES)},
    ]
    container_exec(
        docker_url,
        session.container_id,
        cmd=["sh", "-c", "mkdir -p $HOME/Downloads && echo hi > $HOME/Downloads/r.txt"],
    )
    home = owner.get(f"{base}/").json()["entries"]
    assert [(e["name"], e["is_directory"]) for e in home if not e["name"].startswith(".")] == [
        ("Downloads", True),
        ("Uploads", True),
    ]

    download = owner.get(f"{base}/download/?path=Uploads/data.bin")
    assert download.status_code == 200 and b"".join(download.streaming_content) == BYTES
    assert download["Content-Disposition"] == 'attachment; filename="data.bin"'
    assert (
        owner.get(f"{base}/download/?path=Downloads/missing.txt").json()["error"]
        == "No file 'Downloads/missing.txt' in your home."
    )
    assert owner.get(f"{base}/download/?path=../../etc/passwd").status_code == 400
    assert "No folder" in owner.get(f"{base}/?path=nowhere").json()["error"]

    RuntimeSetting.objects.create(name="SESSION_FILE_TRANSFER_MAX_MB", value=1)
    assert (
        "more than the 1 MB"
        in owner.post(f"{base}/upload/", {"files": [SimpleUploadedFile("big", BYTES)]}).json()["error"]
    )
    assert "larger than the 1 MB" in owner.get(f"{base}/download/?path=Uploads/data.bin").json()["error"]
    RuntimeSetting.objects.all().delete()

    # A viewer of the shared session, another user and a browser with no login get nothing.
    session_sharing_enable(session=session)
    share_join(share_id=session.share_id, user=carol)
    viewer = Client()
    viewer.force_login(carol)
    assert viewer.post(f"{base}/upload/", {"files": [SimpleUploadedFile("x", b"x")]}).status_code == 404
    assert viewer.get(f"{base}/download/?path=Uploads/data.bin").status_code == 404
    assert viewer.get(f"{base}/").status_code == 404
    assert Client().get(f"{base}/").status_code == 302

    # Group policy switches each direction off.
    GroupPolicy.objects.filter(group=Group.objects.get(name="All Users")).update(
        settings={"allow_uploads": False, "allow_downloads": False}
    )
    assert owner.post(f"{base}/upload/", {"files": [SimpleUploadedFile("x", b"x")]}).status_code == 403
    assert owner.get(f"{base}/download/?path=Uploads/data.bin").status_code == 403
    assert owner.get(f"{base}/").json()["error"] == "Your groups do not allow downloads; ask an admin."
