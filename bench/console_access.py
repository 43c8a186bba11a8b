"""Server time of the console's access management pages at organisation scale.

Seeds 10,000 users (each in All Users and 1-3 of 500 groups, with policies), 2,000 live sessions
and 20,000 audit rows, then times the users list (first and last page), a search, a user's edit
page, the groups list, the All Users group page (10,000 members, paginated) and the audit trail,
each requested R times through Django's test client in this process (the server's own time: URL
routing, middleware, queries, template). Target: every page under 300 ms.

usage: DATABASE_URL=postgres://... python bench/console_access.py [--users N] [--groups G] [--rounds R]
"""

import argparse
import random
import statistics
import time

from _django import percentile, test_database
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from apps.accounts.models import AuditEvent, GroupPolicy, Profile
from apps.accounts.services import group_all_users, user_make_console_admin
from apps.agents.models import Agent
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session

BATCH = 2000


def seed(users: int, groups: int) -> tuple:
    User = get_user_model()
    password = make_password("bench-password-1")
    User.objects.bulk_create(
        [User(username=f"user{n:05}@example.com", first_name=f"First{n}", password=password) for n in range(users)],
        batch_size=BATCH,
    )
    people = list(User.objects.order_by("pk"))
    Profile.objects.bulk_create([Profile(user=user, organization=f"Org {user.pk % 40}") for user in people], BATCH)
    group_rows = Group.objects.bulk_create([Group(name=f"Team {n:03}") for n in range(groups)])
    GroupPolicy.objects.bulk_create(
        [
            GroupPolicy(group=group, priority=10 + n, settings={"max_sessions_per_user": 3})
            for n, group in enumerate(group_rows)
        ]
    )
    membership = User.groups.through
    all_users = group_all_users()
    rows = [membership(user_id=user.pk, group_id=all_users.pk) for user in people]
    chooser = random.Random(7)  # noqa: S311  (a reproducible spread, not a secret)
    for user in people:
        rows += [
            membership(user_id=user.pk, group_id=group.pk)
            for group in chooser.sample(group_rows, chooser.randint(1, 3))
        ]
    membership.objects.bulk_create(rows, batch_size=BATCH)
    image = Image.objects.create(docker_image="bench/desktop:1", friendly_name="Desktop")
    agent = Agent.objects.create(hostname="bench-agent", address="10.0.0.1", status="online")
    Session.objects.bulk_create(
        [
            Session(owner=people[n * 5], image=image, agent=agent, status=SessionStatus.RUNNING)
            for n in range(users // 5)
        ],
        batch_size=BATCH,
    )
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(actor_name="bob", action="console.user.update", target=f"user{n % users:05}")
            for n in range(20_000)
        ],
        batch_size=BATCH,
    )
    admin = User.objects.create_user(username="bench-admin")
    user_make_console_admin(user=admin)
    return admin, people[users // 2], all_users


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with test_database(), override_settings(ALLOWED_HOSTS=["*"]):
        started = time.perf_counter()
        admin, someone, all_users = seed(args.users, args.groups)
        seeded = time.perf_counter() - started
        print(f"{connection.vendor}: seeded {args.users} users, {args.groups} groups in {seeded:.1f} s")
        client = Client()
        client.force_login(admin)
        last_page = (args.users + 1) // 50 + 1
        pages = {
            "users, page 1": "/console/users/",
            f"users, page {last_page}": f"/console/users/?page={last_page}",
            "users, search": "/console/users/?q=user0421",
            "user edit": f"/console/users/{someone.pk}/",
            "groups": "/console/groups/",
            "group All Users": f"/console/groups/{all_users.pk}/",
            "audit, page 1": "/console/audit/",
            "audit, filtered": "/console/audit/?target=user00042",
        }
        print(f"{'page':<22}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}")
        worst = 0.0
        for name, path in pages.items():
            times = []
            for _ in range(args.rounds):
                began = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            worst = max(worst, percentile(times, 0.95))
            print(f"{name:<22}{statistics.median(times):>8.1f}{percentile(times, 0.95):>8.1f}{max(times):>8.1f}")
        print(f"worst p95 {worst:.1f} ms; target under 300 ms: {'met' if worst < 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
