"""The lake on an S3 bucket: paths, atomic writes, listings, reads and errors, over a real S3
API (moto's server on loopback); and the config's ``[lake]`` table."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from metering.config import load_config
from metering.errors import ConfigError, LakeError
from metering.lake import store
from metering.lake.storage import ObjectPath, duckdb_scan, s3_root
from metering.window import Window
from tests.lake.conftest import ACCESS_KEY, SECRET_KEY, S3Server, lake_section
from tests.lake.test_store import vm_row

T0 = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)


def _root(s3_server: S3Server, bucket: str, *, secret: str = SECRET_KEY) -> ObjectPath:
    return s3_root(
        f"s3://{bucket}/lake",
        access_key=ACCESS_KEY,
        secret_key=secret,
        endpoint_url=s3_server.endpoint,
        timeout_seconds=10,
    )


def _keys(s3_server: S3Server, bucket: str) -> list[str]:
    listed = s3_server.boto().list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(obj["Key"] for obj in listed)


def test_partitions_are_written_listed_and_read_back_by_window(s3_server, bucket) -> None:
    lake = _root(s3_server, bucket)
    assert store.dataset_files(lake, "vcd_vm") == []
    for h in range(3):
        t = T0 + timedelta(hours=23 + h)  # crosses a day boundary
        store.write_partition(lake, "vcd_vm", "az1", t, [vm_row(t)])
    store.write_partition(lake, "vcd_vm", "az2", T0, [vm_row(T0, site="az2")])
    assert _keys(s3_server, bucket) == [
        "lake/vcd_vm/site=az1/date=2026-10-01/20261001T2300Z.parquet",
        "lake/vcd_vm/site=az1/date=2026-10-02/20261002T0000Z.parquet",
        "lake/vcd_vm/site=az1/date=2026-10-02/20261002T0100Z.parquet",
        "lake/vcd_vm/site=az2/date=2026-10-01/20261001T0000Z.parquet",
    ]
    day2 = Window(datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC))
    table = store.read_dataset(lake, "vcd_vm", site="az1", window=day2)
    assert table.num_rows == 2 and table.schema == store.schema("vcd_vm")
    assert store.sample_keys(lake, "vcd_vm", "az1", day2) == {"20261002T0000Z", "20261002T0100Z"}
    assert len(store.dataset_files(lake, "vcd_vm")) == 4


def test_writing_the_same_key_again_replaces_the_object(s3_server, bucket) -> None:
    lake = _root(s3_server, bucket)
    store.write_partition(lake, "vcd_vm", "az1", T0, [vm_row(T0, vcpu=2)])
    store.write_partition(lake, "vcd_vm", "az1", T0, [vm_row(T0, vcpu=8)])
    table = store.read_dataset(lake, "vcd_vm")
    assert table.column("vcpu").to_pylist() == [8]
    assert len(_keys(s3_server, bucket)) == 1


def test_object_paths_behave_like_the_paths_the_stages_use(s3_server, bucket) -> None:
    lake = _root(s3_server, bucket)
    path = lake / "close" / "documents" / "month=2026-10" / "part.parquet"
    assert (str(path), path.name, path.stem, path.suffix) == (
        f"s3://{bucket}/lake/close/documents/month=2026-10/part.parquet",
        "part.parquet",
        "part",
        ".parquet",
    )
    assert path.parent == lake / "close/documents/month=2026-10"
    assert not path.exists() and not path.is_file()
    path.write_bytes(b"x")
    assert path.is_file() and path.parent.is_dir() and path.read_bytes() == b"x"
    assert list(lake.glob("close/*/month=*/*.parquet")) == [path]
    assert list(lake.glob("close/documents/*/*.parquet")) == [path]
    assert list(lake.glob("close/documents/*/*.csv")) == []
    assert list(lake.glob("*/documents/month=2026-10/*")) == [path]
    assert list(lake.glob("close/documents/month=2026-10/part.parquet")) == [path]
    assert list(lake.glob("close/documents/month=2026-11/part.parquet")) == []
    path.unlink()
    path.unlink(missing_ok=True)
    with pytest.raises(LakeError, match="cannot delete"):
        path.unlink()
    assert [k for k in _keys(s3_server, bucket) if not k.endswith("/")] == []


def test_duckdb_reads_objects_through_arrow_with_the_lake_schema(s3_server, bucket) -> None:
    lake = _root(s3_server, bucket)
    for h in range(4):
        t = T0 + timedelta(hours=h)
        store.write_partition(lake, "vcd_vm", "az1", t, [vm_row(t, vcpu=h + 1)])
    files = store.dataset_files(lake, "vcd_vm")
    con = duckdb.connect()
    source = duckdb_scan(con, "vcd_vm", files, store.schema("vcd_vm"))
    row = con.execute(
        "select sum(vcpu), cast(min(sample_time) as varchar), typeof(min(sample_time)) "
        f"from {source} where powered_on"
    ).fetchone()
    assert row == (10, "2026-10-01 00:00:00+00", "TIMESTAMP WITH TIME ZONE")


def test_a_wrong_secret_is_one_line_naming_the_lake_and_never_the_secret(
    s3_server, bucket, auth_enforced
) -> None:
    key, secret = auth_enforced
    good = s3_root(
        f"s3://{bucket}/lake", access_key=key, secret_key=secret, endpoint_url=s3_server.endpoint
    )
    store.write_partition(good, "vcd_vm", "az1", T0, [vm_row(T0)])
    assert store.read_dataset(good, "vcd_vm").num_rows == 1
    bad = s3_root(
        f"s3://{bucket}/lake",
        access_key=key,
        secret_key="wrong-" + secret,
        endpoint_url=s3_server.endpoint,
    )
    for action in (
        lambda: store.read_dataset(bad, "vcd_vm"),
        lambda: store.write_partition(bad, "vcd_vm", "az1", T0, [vm_row(T0)]),
    ):
        with pytest.raises(LakeError) as err:
            action()
        message = str(err.value)
        assert message.startswith(f"lake s3://{bucket}/lake: cannot ")
        assert "\n" not in message and secret not in message and key not in message


def test_a_missing_bucket_is_one_line_naming_the_lake(s3_server) -> None:
    lake = _root(s3_server, "no-such-bucket")
    for action in (
        lambda: store.read_dataset(lake, "vcd_vm"),
        lambda: store.write_partition(lake, "vcd_vm", "az1", T0, [vm_row(T0)]),
    ):
        with pytest.raises(LakeError, match=r"^lake s3://no-such-bucket/lake: bucket no-such-"):
            action()


@pytest.fixture
def auth_enforced(s3_server):
    """Switch on moto's request signing checks for one test: an IAM user with an S3 policy
    and its access key are created first, then every request must be signed by a known key."""
    import httpx

    iam = s3_server.boto("iam")
    httpx.post(f"{s3_server.endpoint}/moto-api/reset-auth", content=b"3").raise_for_status()
    try:
        iam.create_user(UserName="lake")
        iam.put_user_policy(
            UserName="lake",
            PolicyName="s3",
            PolicyDocument='{"Version": "2012-10-17", "Statement": '
            '[{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
        )
        made = iam.create_access_key(UserName="lake")["AccessKey"]
        yield made["AccessKeyId"], made["SecretAccessKey"]
    finally:
        httpx.post(f"{s3_server.endpoint}/moto-api/reset-auth", content=b"inf").raise_for_status()


# --- config ---------------------------------------------------------------------------------


def _config(tmp_path: Path, lake: str) -> Path:
    os.environ.setdefault("METERING_TEST_VCD_PASSWORD", "x")
    path = tmp_path / "provider.toml"
    path.write_text(
        '[provider]\nname = "t"\ntenant_catalog = "t.toml"\npricing_dir = "p"\n'
        '[[sites]]\nname = "az1"\nvcd_url = "http://127.0.0.1:1/vcd"\nvcd_user = "a"\n'
        'vcd_password_env = "METERING_TEST_VCD_PASSWORD"\n' + lake,
        encoding="utf-8",
    )
    return path


def test_config_s3_root_reads_the_keys_from_files_and_never_shows_them(tmp_path, s3_server):
    config = load_config(_config(tmp_path, lake_section(tmp_path, s3_server.endpoint, "s3://b/p")))
    assert isinstance(config.lake, ObjectPath) and str(config.lake) == "s3://b/p"
    assert SECRET_KEY not in repr(config) and ACCESS_KEY not in repr(config)
    with pytest.raises(LakeError, match="s3://b/p: this step needs a local lake directory"):
        _ = config.lake_dir


def test_config_local_root_and_default(tmp_path):
    assert load_config(_config(tmp_path, "")).lake_dir == tmp_path / "data" / "lake"
    config = load_config(_config(tmp_path, '[lake]\nroot = "elsewhere/lake"\n'))
    assert config.lake == config.lake_dir == tmp_path / "elsewhere" / "lake"


@pytest.mark.parametrize(
    ("lake", "problem"),
    [
        (
            '[lake]\nroot = "s3://b/p"\nsecret_access_key = "x"\n'
            'access_key_id_env = "METERING_TEST_VCD_PASSWORD"\n',
            "[lake] secret_access_key: secrets are not written in the config",
        ),
        ('[lake]\nroot = "s3://b/p"\n', "[lake] access_key_id: is required"),
        ('[lake]\nroot = "gs://b/p"\n', "[lake] root: must be a local path or s3://bucket/prefix"),
        ('[lake]\nroot = "s3:///p"\n', "[lake] root: must be s3://bucket/prefix"),
        ('[lake]\nroot = "here"\nendpoint_url = "http://x"\n', "[lake] endpoint_url: applies only"),
        ('[lake]\nregion = "x"\n', "[lake] root: is required"),
    ],
)
def test_config_errors_name_the_key(tmp_path, lake, problem):
    with pytest.raises(ConfigError, match=re.escape(problem)):
        load_config(_config(tmp_path, lake))


def test_lake_dir_and_lake_root_together_are_refused(tmp_path):
    path = _config(tmp_path, '[lake]\nroot = "x"\n')
    text = path.read_text().replace("[provider]\n", '[provider]\nlake_dir = "y"\n')
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"\[provider\] lake_dir: give the lake either here"):
        load_config(path)


def test_arrow_tables_round_trip_exact_decimals(s3_server, bucket) -> None:
    from decimal import Decimal

    from metering.lake.storage import arrow_dataset, write_parquet

    path = _root(s3_server, bucket) / "rating" / "t" / "month=2026-10" / "part.parquet"
    table = pa.table(
        {"amount": pa.array([Decimal("1.005"), Decimal("-0.001")], pa.decimal128(18, 3))}
    )
    write_parquet(path, table)
    assert arrow_dataset([path]).to_table().equals(table)


def test_a_corrupt_object_is_one_line_naming_the_lake_and_dataset(s3_server, bucket) -> None:
    lake = _root(s3_server, bucket)
    store.partition_path(lake, "vcd_vm", "az1", T0).write_bytes(b"not parquet")
    rel = r"vcd_vm/site=az1/date=[-0-9]+/[0-9TZ]+\.parquet"
    with pytest.raises(
        LakeError,
        match=rf"^lake s3://{bucket}/lake: file {rel} is not a readable Parquet file .*; "
        rf"set it aside with `metering lake set-aside {rel}`",
    ):
        store.read_dataset(lake, "vcd_vm")
