"""CompiledValues: a queryset compiled once gives the rows `.values()` gives, for any values."""

import pytest
from django.db.models import Exists, OuterRef, Q

from kernel.queries import CompiledValues, fetch_prepared
from kernel.timestamps import IsoZ
from users.models import Block, User

pytestmark = pytest.mark.django_db


def _users(*, prefix_owner: str, blocker: str):
    return (
        User.objects.filter(Q(clerk_id__gt=prefix_owner) | Q(username=prefix_owner))
        .order_by("clerk_id")
        .values(
            "clerk_id",
            "username",
            "is_paralyzed",
            seen=IsoZ("last_seen_at"),
            blocked=Exists(Block.objects.filter(blocker_id=blocker, blocked_id=OuterRef("clerk_id"))),
        )
    )


@pytest.fixture
def people(make_user):
    users = [make_user(f"q_{i}", is_paralyzed=bool(i % 2)) for i in range(5)]
    Block.objects.create(blocker=users[0], blocked=users[3])
    return users


def test_rows_match_the_orm_for_every_value_and_page(people):
    building = []

    def build(**values):
        building.append(values)
        return _users(**values)

    compiled = CompiledValues(build, prefix_owner="\x00p", blocker="\x00b")
    first, blocker = people[0].clerk_id, people[0].clerk_id
    for owner, by in ((people[2].clerk_id, blocker), (people[3].username, people[3].clerk_id), ("zz", blocker)):
        expected = list(_users(prefix_owner=owner, blocker=by))
        assert compiled.rows(prefix_owner=owner, blocker=by) == expected
        assert compiled.rows(prefix_owner=owner, blocker=by, limit=2, offset=1) == expected[1:3]
    everyone = compiled.rows(prefix_owner=first, blocker=blocker)
    assert [type(v) for v in everyone[0].values()] == [str, str, bool, type(None), bool]
    assert [row["blocked"] for row in everyone if row["clerk_id"].startswith("user_q_")] == [False, False, True, False]
    assert len(building) == 1  # built and compiled once, whatever the values


def test_a_placeholder_the_orm_rewrites_is_refused(people):
    compiled = CompiledValues(
        lambda *, part: User.objects.filter(username__icontains=part).values("clerk_id"), part="x"
    )
    with pytest.raises(ValueError, match="part"):
        compiled.rows(part="q_")


def _prepared_here(sql: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [sql[:40] + "%"])
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_on_postgresql_a_hot_read_is_a_prepared_statement_with_the_same_rows(people, settings):
    sql = "SELECT clerk_id, is_paralyzed FROM users WHERE clerk_id > %s ORDER BY clerk_id"
    bound = [people[1].clerk_id]
    plain = list(
        User.objects.filter(clerk_id__gt=bound[0]).order_by("clerk_id").values_list("clerk_id", "is_paralyzed")
    )
    settings.DB_PREPARED_STATEMENTS = False
    assert fetch_prepared(sql, bound) == plain
    assert _prepared_here(sql) == 0
    settings.DB_PREPARED_STATEMENTS = True
    assert fetch_prepared(sql, bound) == plain
    assert fetch_prepared(sql, [people[3].clerk_id]) == plain[2:]
    assert _prepared_here(sql) == 1  # one statement on this connection, whatever the values


def test_a_prepared_read_is_logged_and_its_errors_are_djangos(people):
    from django.db import DatabaseError, connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fetch_prepared("SELECT clerk_id FROM users WHERE clerk_id = %s", [people[0].clerk_id])
    assert len(captured) == 1
    with pytest.raises(DatabaseError):
        fetch_prepared("SELECT no_such_column FROM users WHERE clerk_id = %s", ["x"])
