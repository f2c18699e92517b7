// The table half of an apply or cleanup: how a commit step reports what it changed.
#include "apply/tables.h"

#include <catch2/catch.hpp>

#include "apply/apply.h"
#include "fakes/fake_tables.h"

using namespace snare;
using snare::testing::FakeTables;

TEST_CASE("a commit step that writes nothing keeps an earlier step's change in the report") {
  FakeTables tables;
  ApplyReport rep;
  rep.changed = true;  // an earlier step (the nftables transaction, routes) changed something
  std::vector<TableWork*> done;
  REQUIRE(commit_or_roll_back({}, tables, rep, done).ok());
  CHECK(rep.changed);
  CHECK(rep.committed.empty());
  CHECK(done.empty());
}
