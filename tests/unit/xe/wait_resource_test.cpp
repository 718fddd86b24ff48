#include "agent/xe/wait_resource.h"

#include <gtest/gtest.h>

namespace dmvlog::xe {
namespace {

TEST(WaitResource, Key) {
    auto w = decode_wait_resource("KEY: 7:72057594045595648 (8194443284a0)");
    EXPECT_EQ(w.kind, WaitResourceKind::key);
    EXPECT_EQ(w.database_id, 7);
    EXPECT_EQ(w.hobt_id, 72057594045595648);
    EXPECT_EQ(w.key_hash, "8194443284a0");
    EXPECT_EQ(w.raw, "KEY: 7:72057594045595648 (8194443284a0)");
}

TEST(WaitResource, PageRidExtentFile) {
    auto p = decode_wait_resource("PAGE: 9:1:48213 ");
    EXPECT_EQ(p.kind, WaitResourceKind::page);
    EXPECT_EQ(p.database_id, 9);
    EXPECT_EQ(p.file_id, 1);
    EXPECT_EQ(p.page_id, 48213);
    EXPECT_EQ(p.raw, "PAGE: 9:1:48213 ");
    auto r = decode_wait_resource("RID: 5:1:104:3");
    EXPECT_EQ(r.kind, WaitResourceKind::rid);
    EXPECT_EQ(r.slot, 3);
    EXPECT_EQ(r.page_id, 104);
    auto e = decode_wait_resource("EXTENT: 5:1:7352");
    EXPECT_EQ(e.kind, WaitResourceKind::extent);
    EXPECT_EQ(e.page_id, 7352);
    auto f = decode_wait_resource("FILE: 5:2");
    EXPECT_EQ(f.kind, WaitResourceKind::file);
    EXPECT_EQ(f.file_id, 2);
    auto bare = decode_wait_resource("2:1:128");
    EXPECT_EQ(bare.kind, WaitResourceKind::page);
    EXPECT_EQ(bare.database_id, 2);
    EXPECT_EQ(bare.page_id, 128);
}

TEST(WaitResource, ObjectAndTab) {
    auto o = decode_wait_resource("OBJECT: 9:1740585300:0 ");
    EXPECT_EQ(o.kind, WaitResourceKind::object);
    EXPECT_EQ(o.object_id, 1740585300);
    EXPECT_EQ(o.lock_partition, 0);
    EXPECT_EQ(o.subresource, "");
    auto c = decode_wait_resource("OBJECT: 5:565577053:3 [COMPILE]");
    EXPECT_EQ(c.lock_partition, 3);
    EXPECT_EQ(c.subresource, "[COMPILE]");
    auto t = decode_wait_resource("TAB: 5:261575970:1");
    EXPECT_EQ(t.kind, WaitResourceKind::object);
    EXPECT_EQ(t.index_id, 1);
    EXPECT_FALSE(t.lock_partition);
}

TEST(WaitResource, ApplicationMetadataDatabaseHobtAllocationUnit) {
    auto a = decode_wait_resource("APPLICATION: 5:0:[NightlyLoad]:(e8c3a7a7)");
    EXPECT_EQ(a.kind, WaitResourceKind::application);
    EXPECT_EQ(a.database_id, 5);
    EXPECT_EQ(a.principal_id, 0);
    EXPECT_EQ(a.name, "NightlyLoad");
    EXPECT_EQ(a.key_hash, "e8c3a7a7");
    auto m = decode_wait_resource("METADATA: database_id = 5 STATS(object_id = 565577053, stats_id = 2), lockPartitionId = 0");
    EXPECT_EQ(m.kind, WaitResourceKind::metadata);
    EXPECT_EQ(m.database_id, 5);
    EXPECT_EQ(m.subresource, "STATS(object_id = 565577053, stats_id = 2)");
    EXPECT_EQ(m.lock_partition, 0);
    auto d = decode_wait_resource("DATABASE: 5:0 ");
    EXPECT_EQ(d.kind, WaitResourceKind::database);
    EXPECT_EQ(d.database_id, 5);
    auto h = decode_wait_resource("HOBT: 5:72057594047889408");
    EXPECT_EQ(h.kind, WaitResourceKind::hobt);
    EXPECT_EQ(h.hobt_id, 72057594047889408);
    auto u = decode_wait_resource("ALLOCATION_UNIT: 5:72057594055294976");
    EXPECT_EQ(u.kind, WaitResourceKind::allocation_unit);
    EXPECT_EQ(u.allocation_unit_id, 72057594055294976);
}

TEST(WaitResource, LockDescriptionStyle) {
    auto o = decode_wait_resource(
        "objectlock lockPartition=3 objid=565577053 subresource=FULL dbid=5 id=lock2b8f1c0d80 mode=X associatedObjectId=565577053");
    EXPECT_EQ(o.kind, WaitResourceKind::object);
    EXPECT_EQ(o.database_id, 5);
    EXPECT_EQ(o.object_id, 565577053);
    EXPECT_EQ(o.lock_partition, 3);
    EXPECT_EQ(o.subresource, "FULL");
    auto k = decode_wait_resource("keylock hobtid=72057594039369728 dbid=5 id=lock1 mode=X associatedObjectId=72057594039369728");
    EXPECT_EQ(k.kind, WaitResourceKind::key);
    EXPECT_EQ(k.hobt_id, 72057594039369728);
    auto x = decode_wait_resource("exchangeEvent id=Pipe1d7e9c2a80 WaitType=e_waitPipeGetRow nodeId=2");
    EXPECT_EQ(x.kind, WaitResourceKind::exchange);
    EXPECT_EQ(x.name, "Pipe1d7e9c2a80");
}

TEST(WaitResource, EmptyAndUnknown) {
    EXPECT_EQ(decode_wait_resource("").kind, WaitResourceKind::none);
    EXPECT_EQ(decode_wait_resource("   ").kind, WaitResourceKind::none);
    auto u = decode_wait_resource("SOMETHING NEW: 1:2");
    EXPECT_EQ(u.kind, WaitResourceKind::unknown);
    EXPECT_EQ(u.raw, "SOMETHING NEW: 1:2");
    EXPECT_EQ(decode_wait_resource("KEY: x:y").kind, WaitResourceKind::key);  // what is there, nothing more
    EXPECT_FALSE(decode_wait_resource("KEY: x:y").database_id);
    EXPECT_FALSE(decode_wait_resource("KEY: 99999999999999999999999:1").database_id);
}

}  // namespace
}  // namespace dmvlog::xe
